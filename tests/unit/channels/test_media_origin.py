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


def test_support_board_media_hosts_are_fetched_over_https_only_and_nothing_else_is() -> None:
    """SUPPORT_BOARD_MEDIA_HOSTS: a Support Board storing uploads on Amazon S3 / CloudFront. Those hosts
    are added to its own origin, https only, exactly as named (port 443 unless one is given), redirects
    included; every tenant's Support Board may use them (a deployment setting)."""
    settings = load_settings(
        {
            "TENANT_ID": "main",
            "SUPPORT_BOARD_API_URL": "https://main.example/include/api.php",
            "SUPPORT_BOARD_MEDIA_HOSTS": "Uploads-Bucket.s3.amazonaws.com, d111.cloudfront.net:8443",
        }
    )
    acme = tenant_settings(
        settings,
        TenantProfile(tenant_id="acme", display_name="Acme", support_board_api_url="https://sb.acme.example/x/api.php"),
        {},
    )
    for tenant in (settings, acme):
        recorder = Recorder()
        media = _media(tenant, recorder)
        assert media.fetch(_message("https://uploads-bucket.s3.amazonaws.com/2026/f.png")).data == b"\x89PNG"
        assert media.fetch(_message("https://UPLOADS-BUCKET.s3.amazonaws.com:443/moved/g.png")).data == b"\x89PNG"
        assert media.fetch(_message("https://d111.cloudfront.net:8443/uploads/h.png")).data == b"\x89PNG"
        for refused in (
            "http://uploads-bucket.s3.amazonaws.com/2026/f.png",  # https only
            "https://d111.cloudfront.net/uploads/h.png",  # listed with another port
            "https://other-bucket.s3.amazonaws.com/f.png",  # another bucket on the same service
            "https://uploads-bucket.s3.amazonaws.com.evil.example/f.png",
            "https://uploads-bucket.s3.amazonaws.com@169.254.169.254/latest/meta-data/",
            "https://s3.amazonaws.com/uploads-bucket/f.png",
        ):
            with pytest.raises(MediaUnavailable):
                media.fetch(_message(refused))
        assert recorder.asked == [
            "https://uploads-bucket.s3.amazonaws.com/2026/f.png",
            "https://uploads-bucket.s3.amazonaws.com/moved/g.png",
            "https://uploads-bucket.s3.amazonaws.com/uploads/g.png",
            "https://d111.cloudfront.net:8443/uploads/h.png",
        ]


def test_a_media_host_redirecting_off_the_list_is_not_followed() -> None:
    settings = load_settings({"TENANT_ID": "main", "SUPPORT_BOARD_MEDIA_HOSTS": "uploads.example.com"})
    asked: list[str] = []

    def away(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})

    media = ChannelMedia.from_settings(settings, http=httpx.Client(transport=httpx.MockTransport(away)))
    with pytest.raises(MediaUnavailable, match="media hosts"):
        media.fetch(_message("https://uploads.example.com/f.png"))
    assert asked == ["https://uploads.example.com/f.png"]  # listed hosts alone, even without SUPPORT_BOARD_API_URL


@pytest.mark.parametrize(
    "value",
    ["https://uploads.example.com", "uploads.example.com/media", "*.cloudfront.net", "10.0.0.5", "a.example.com:0"],
)
def test_a_media_hosts_entry_that_is_not_a_host_name_is_refused_naming_it(value: str) -> None:
    with pytest.raises(ValueError, match="is not a host name") as refused:
        load_settings({"SUPPORT_BOARD_MEDIA_HOSTS": f"uploads.example.com, {value}"})
    assert repr(value) in str(refused.value)
