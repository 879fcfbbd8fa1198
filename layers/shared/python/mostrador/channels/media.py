"""The media a customer sent (voice notes, photos), downloaded for the models that read them.

* WhatsApp: the webhook carries a media id. GET {graph}/{media id} with the token answers the file's
  temporary URL (valid five minutes), mime type and size; GET that URL with the same token answers
  the bytes. Both steps happen at once, in the reply function.
* Messenger / Instagram: the webhook carries the attachment's URL on Meta's CDN (no token needed).
* Support Board: the attachment's URL on the Support Board server. The URL comes from an unsigned
  webhook and the reply function runs inside the VPC, so it is fetched only from the origin of the
  tenant's SUPPORT_BOARD_API_URL, or over https from a host the deployment lists in
  SUPPORT_BOARD_MEDIA_HOSTS (where Support Board stores uploads: Amazon S3, CloudFront), redirects
  included (anything else could point the function at an internal address: SSRF).

MEDIA_MAX_BYTES is checked against the announced size before downloading and again while reading,
so an oversized file is never held in memory whole. One module for every platform's download,
rather than one piece in each channel module: the rules (limits, errors) are the same for all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mostrador.channels.meta import new_http_client
from mostrador.messaging.model import InboundMessage

if TYPE_CHECKING:
    import httpx

    from mostrador.config import Settings

_EXTENSION_TYPES = {
    "ogg": "audio/ogg",
    "oga": "audio/ogg",
    "opus": "audio/ogg",
    "mp3": "audio/mpeg",
    "m4a": "audio/mp4",
    "aac": "audio/aac",
    "wav": "audio/wav",
    "amr": "audio/amr",
    "webm": "audio/webm",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "heic": "image/heic",
}


@dataclass(frozen=True)
class MediaFile:
    data: bytes
    mime_type: str


class MediaError(Exception):
    pass


class MediaTooLarge(MediaError):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"media of {size} bytes is over the limit of {limit}")
        self.size = size
        self.limit = limit


class MediaUnavailable(MediaError):
    """The platform did not give the file (expired id, HTTP error, network trouble, not configured)."""


class ChannelMedia:
    """Downloads a customer's media from whichever platform it came through."""

    def __init__(
        self,
        *,
        graph_url: str,
        whatsapp_token: str | None,
        max_bytes: int,
        support_board_url: str | None = None,
        support_board_media_hosts: Iterable[str] = (),
        http: httpx.Client | None = None,
    ) -> None:
        self._graph_url = graph_url.rstrip("/")
        self._token = whatsapp_token
        self.max_bytes = max_bytes
        # Where a Support Board attachment may come from: its own origin, and the listed hosts over https.
        origins = {f"https://{host}" for host in support_board_media_hosts}
        if support_board_url:
            origins.add(_origin(support_board_url))
        self._support_board_origins = frozenset(origins)
        self._http = http

    @classmethod
    def from_settings(cls, settings: Settings, http: httpx.Client | None = None) -> ChannelMedia:
        return cls(
            graph_url=settings.meta_graph_url,
            whatsapp_token=settings.secret("whatsapp_token"),
            max_bytes=settings.media_max_bytes,
            support_board_url=settings.support_board_api_url,
            support_board_media_hosts=settings.support_board_media_hosts,
            http=http,
        )

    def fetch(self, message: InboundMessage) -> MediaFile:
        """The file of `message`; MediaTooLarge or MediaUnavailable when it cannot be had."""
        meta = message.metadata
        if message.channel == "whatsapp" and meta.get("media_id"):
            return self._whatsapp(meta["media_id"], meta.get("media_mime_type"))
        url = meta.get("attachment_url")
        if url and message.channel == "support_board":
            if not self._support_board_origins:
                raise MediaUnavailable("SUPPORT_BOARD_API_URL is not set: Support Board media cannot be downloaded")
            return self._download(url, headers={}, mime_hint=None, only_origins=self._support_board_origins)
        if url:
            return self._download(url, headers={}, mime_hint=None)
        raise MediaUnavailable("the message names no media to download")

    def _client(self) -> httpx.Client:
        if self._http is None:
            self._http = new_http_client()
        return self._http

    def _whatsapp(self, media_id: str, mime_hint: str | None) -> MediaFile:
        import httpx

        if not self._token:
            raise MediaUnavailable("WHATSAPP_TOKEN is not set: WhatsApp media cannot be downloaded")
        auth = {"Authorization": f"Bearer {self._token}"}
        try:
            response = self._client().get(f"{self._graph_url}/{media_id}", headers=auth)
        except httpx.HTTPError as exc:
            raise MediaUnavailable(f"WhatsApp media lookup failed: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise MediaUnavailable(f"WhatsApp media lookup answered HTTP {response.status_code}")
        try:
            info: Any = response.json()
        except ValueError as exc:
            raise MediaUnavailable("WhatsApp media lookup answered no JSON") from exc
        if not isinstance(info, dict) or not info.get("url"):
            raise MediaUnavailable("WhatsApp media lookup answered no URL")
        announced = _int(info.get("file_size"))
        if announced is not None and announced > self.max_bytes:
            raise MediaTooLarge(announced, self.max_bytes)
        return self._download(str(info["url"]), headers=auth, mime_hint=str(info.get("mime_type") or mime_hint or ""))

    def _download(
        self, url: str, *, headers: dict[str, str], mime_hint: str | None, only_origins: frozenset[str] | None = None
    ) -> MediaFile:
        """GET `url`; with `only_origins`, every hop (the URL and each redirect) must be on one of them."""
        import httpx

        if not url.lower().startswith(("https://", "http://")):
            raise MediaUnavailable("media URL is not http(s)")
        try:
            target = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise MediaUnavailable("media URL is not a valid URL") from exc
        try:
            for _ in range(_MAX_REDIRECTS + 1):
                if only_origins is not None and _origin(target) not in only_origins:
                    raise MediaUnavailable("media URL is not on the channel's own server or its media hosts")
                response = self._client().send(
                    self._client().build_request("GET", target, headers=headers),
                    stream=True,
                    follow_redirects=only_origins is None,
                )
                if only_origins is None or not response.is_redirect or "location" not in response.headers:
                    break
                response.close()
                target = target.join(response.headers["location"])
            else:
                raise MediaUnavailable("media download redirected too many times")
            try:
                if response.status_code != 200:
                    raise MediaUnavailable(f"media download answered HTTP {response.status_code}")
                announced = _int(response.headers.get("content-length"))
                if announced is not None and announced > self.max_bytes:
                    raise MediaTooLarge(announced, self.max_bytes)
                data = bytearray()
                for chunk in response.iter_bytes():
                    data.extend(chunk)
                    if len(data) > self.max_bytes:
                        raise MediaTooLarge(len(data), self.max_bytes)
                content_type = response.headers.get("content-type", "")
            finally:
                response.close()
        except httpx.HTTPError as exc:
            raise MediaUnavailable(f"media download failed: {type(exc).__name__}") from exc
        mime = mime_hint or _meaningful(content_type) or _by_extension(url)
        return MediaFile(bytes(data), mime or "application/octet-stream")


_MAX_REDIRECTS = 5


def _origin(url: str | httpx.URL) -> str:
    """scheme://host:port, the port spelled out, as httpx will connect to it."""
    import httpx

    parsed = httpx.URL(url) if isinstance(url, str) else url
    port = parsed.port or {"http": 80, "https": 443}.get(parsed.scheme, 0)
    return f"{parsed.scheme}://{parsed.host.lower()}:{port}"


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _meaningful(content_type: str) -> str:
    bare = content_type.split(";", 1)[0].strip().lower()
    return "" if bare in ("", "application/octet-stream", "binary/octet-stream") else content_type.strip()


def _by_extension(url: str) -> str:
    path = url.split("?", 1)[0].rsplit("/", 1)[-1]
    extension = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    return _EXTENSION_TYPES.get(extension, "")
