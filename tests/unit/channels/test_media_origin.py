"""Support Board attachments are fetched only from the tenant's own Support Board origin (SSRF guard).
httpx's MockTransport stands in for the servers on the other end and records what was asked of it;
the end-to-end cases (fake Support Board server, the reply handler) are in
tests/integration/test_reply_media.py."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from mostrador.channels.media import ChannelMedia, MediaUnavailable
from mostrador.config import load_settings
from mostrador.messaging.model import InboundMessage
from mostrador.tenancy.profile import TenantProfile, tenant_settings

BASE = load_settings(
    {"TENANT_ID": "main", "SUPPORT_BOARD_API_URL": "https://main.example/include/api.php", "WHATSAPP_TOKEN": "t"}
)


def _message(url: str, channel: str = "support_board") -> InboundMessage:
    return InboundMessage(
        tenant_id="acme",
        channel=channel,  # type: ignore[arg-type]
        conversation_id="sb:1",
        sender_id="45",
        sender_role="customer",
        media_kind="image",
        platform_message_id="sb:9",
        timestamp=datetime.now(UTC),
        metadata={"attachment_url": url},
    )


class Recorder:
    """Answers every GET with a photo, or with a redirect for paths under /moved/."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(str(request.url))
        if request.url.path.startswith("/moved/"):
            return httpx.Response(302, headers={"Location": request.url.path.replace("/moved/", "/uploads/", 1)})
        return httpx.Response(200, content=b"\x89PNG", headers={"Content-Type": "image/png"})


def _media(settings, recorder: Recorder) -> ChannelMedia:
    return ChannelMedia.from_settings(settings, http=httpx.Client(transport=httpx.MockTransport(recorder)))


def test_a_tenant_with_its_own_support_board_fetches_only_from_it() -> None:
    acme = tenant_settings(
        BASE,
        TenantProfile(tenant_id="acme", display_name="Acme", support_board_api_url="https://sb.acme.example/x/api.php"),
        {},
    )
    recorder = Recorder()
    media = _media(acme, recorder)
    assert media.fetch(_message("https://sb.acme.example/uploads/f.png")).data == b"\x89PNG"
    assert media.fetch(_message("https://sb.acme.example:443/moved/g.png")).mime_type == "image/png"
    for foreign in (
        "https://main.example/uploads/f.png",  # the deployment's own Support Board is another tenant's
        "http://sb.acme.example/uploads/f.png",  # another scheme
        "https://sb.acme.example:8443/uploads/f.png",  # another port
        "https://sb.acme.example.evil.example/uploads/f.png",
        "https://sb.acme.example@169.254.169.254/latest/meta-data/",
        "http://169.254.169.254/latest/meta-data/",
        "file:///etc/passwd",
    ):
        with pytest.raises(MediaUnavailable):
            media.fetch(_message(foreign))
    assert recorder.asked == [
        "https://sb.acme.example/uploads/f.png",
        "https://sb.acme.example/moved/g.png",  # httpx drops the default port
        "https://sb.acme.example/uploads/g.png",
    ]


def test_without_a_support_board_url_nothing_is_fetched_and_meta_attachments_are_unaffected() -> None:
    bare = load_settings({"TENANT_ID": "main"})
    recorder = Recorder()
    media = _media(bare, recorder)
    with pytest.raises(MediaUnavailable, match="SUPPORT_BOARD_API_URL"):
        media.fetch(_message("https://sb.example/uploads/f.png"))
    assert recorder.asked == []
    # Messenger/Instagram attachment URLs come in Meta-signed webhooks, from Meta's CDN hosts.
    assert media.fetch(_message("https://scontent.xx.fbcdn.net/v/a.png", channel="messenger")).data == b"\x89PNG"
