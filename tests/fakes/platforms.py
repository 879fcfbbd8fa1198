"""Real HTTP servers on 127.0.0.1 standing in for the Meta Graph API and the Support Board Web API.

Use the `platforms` fixture (import it into your test module or conftest:
`from tests.fakes.platforms import platforms_fixture  # noqa: F401`, then ask for `platforms`).
It starts both servers, points the settings at them (META_GRAPH_URL, SUPPORT_BOARD_API_URL,
WHATSAPP_TOKEN, WHATSAPP_PHONE_NUMBER_ID, MESSENGER_PAGE_TOKEN, SUPPORT_BOARD_API_TOKEN,
SUPPORT_BOARD_DM_BOT_USER_ID) and yields a
`Platforms` with `.meta` (FakeMetaGraph) and `.support_board` (FakeSupportBoard).

Both capture every request as `CapturedRequest` (method, path, query, headers, raw body, `.json`,
`.form`) in `.requests` and answer like the real APIs:

FakeMetaGraph (base URL `.url`, like https://graph.facebook.com/v21.0):
  POST /{phone_number_id}/messages → {"messaging_product": "whatsapp", "contacts": [...],
      "messages": [{"id": "wamid.FAKE<n>"}]}
  POST /me/messages → {"recipient_id": ..., "message_id": "m_FAKE<n>"}
  POST /{phone_number_id}/messages with "status": "read" (read receipt + typing indicator) →
      {"success": true}; listed by `.read_receipts()`, never by `.sent()`.
  Messages are checked against Meta's documented limits (`whatsapp_message_problem`,
  `messenger_message_problem`: interactive buttons/lists, image captions, quick replies) and refused
  with error 100 like the real API. `.sent_texts()` gives each message's text, interactive body or caption.
  WhatsApp media: `.add_media(bytes, mime) -> media id`; GET /{version}/{media id} answers its URL,
  mime type, sha256 and file_size (`.announced_sizes[id]` overrides the size); GET that URL answers the
  bytes. Both need the token. Messenger/Instagram attachments: `.cdn_url(bytes, mime)` (no token).
  A request without the expected bearer token (`.token`, or one in `.other_tokens`) gets Meta's error 190.
  `.fail_next(code=131047, times=1, http_status=400)` answers Meta error JSON
  ({"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}) for the next sends;
  `.fail_next(http_status=503)` with no code answers a bare 5xx. Read receipts never consume a failure.
  `.unreachable_links`: image URLs Meta cannot fetch; a Messenger attachment by one is refused with (#100).

FakeSupportBoard (URL `.url`, like https://example.com/supportboard/include/api.php): form POSTs
with `token` and `function`. Implements get-conversation, get-user, send-message and
messenger-send-message; state lives in `.conversations` (id → {"details": {...}, "messages": [...]})
and `.users` (id → {"first_name": ..., "details": [{"slug", "value"}]}). Helpers: `add_conversation`,
`add_user`, `add_message`, `add_file(name, bytes, content type) -> URL` (an uploaded attachment,
served by GET). Like the real one, message attachments/payloads are JSON-encoded strings
inside the JSON; `encode_response_as_string = True` also encodes the whole get-conversation
response as a string. messenger-send-message answers its documented shape, a list with Meta's
answer for each message it sent: {"success": true, "response": [{"recipient_id", "message_id"}]}.
`.fail_messenger_with_meta_error(code, times=1, as_list=False)` makes it answer success:true
wrapping Meta's error (as an object, or as the list's item); `.answer_next(function, body, times=1)`
answers any function with the given JSON body (another documented shape, a success:false);
`.fail_next(function, http_status=500, times=1)` fails any function with a bare HTTP error. A
wrong token, an unknown user or conversation answer success:false like the real API.

Both can hang: `.hold()` keeps every request waiting (counted in `.held`) until `.release()`;
FakeMetaGraph's `.hold_read_receipts()` holds only WhatsApp read receipts / typing indicators.

FakeUploadsHost (fixture `uploads_host`): the other host a Support Board may store uploads on (Amazon S3,
CloudFront), over https: `https://localhost:<port>` with a certificate from a certificate authority made
for the test session (`cryptography`, installed with moto), trusted through SSL_CERT_FILE (httpx reads it).
`.add_file(name, bytes, content type) -> URL`, `.add_redirect(name, location) -> URL`, `.http_url(name)`:
the same file's address over plain http on the same port (refused by the TLS server, never by us).
`.host` is what SUPPORT_BOARD_MEDIA_HOSTS names it by ("localhost:<port>").
"""

from __future__ import annotations

import hashlib
import itertools
import json
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

META_ERROR_MESSAGES = {
    4: "(#4) Application request limit reached",
    10: "(#10) This message is sent outside of allowed window.",
    190: "Invalid OAuth access token - Cannot parse access token",
    551: "This person isn't available right now.",
    130429: "Rate limit hit",
    131047: "Re-engagement message",
    131056: "(Business Account, Consumer Account) pair rate limit hit",
}


@dataclass(frozen=True)
class CapturedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def form(self) -> dict[str, str]:
        return {key: values[-1] for key, values in parse_qs(self.body.decode(), keep_blank_values=True).items()}


@dataclass
class _Failure:
    http_status: int
    code: int | None
    times: int
    function: str | None = None
    subcode: int | None = None
    after: int = 0  # requests answered normally before this failure starts
    body: Any = None  # a scripted answer (Support Board), instead of an error
    as_list: bool = False  # Meta's error as the item of messenger-send-message's list


class _RecordingServer:
    """A ThreadingHTTPServer in a thread that records requests and delegates answers to `answer`."""

    prefix = ""

    def __init__(self) -> None:
        self.requests: list[CapturedRequest] = []
        self.held = 0  # requests that arrived while held (see `hold`)
        self._lock = threading.Lock()
        self._answering = threading.Event()
        self._answering.set()
        self._hold_limit = 0.0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self._handle()

            def do_POST(self) -> None:  # noqa: N802
                self._handle()

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = CapturedRequest(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={key.lower(): value for key, value in self.headers.items()},
                    body=body,
                )
                with owner._lock:
                    owner.requests.append(request)
                    gate = owner._gate_for(request)
                    if gate is not None:
                        owner.held += 1
                if gate is not None:
                    gate.wait(owner._hold_limit)
                with owner._lock:
                    status, answer, *rest = owner.answer(request)
                raw = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", rest[0] if rest else "application/json")
                for name, value in (rest[1] if len(rest) > 1 else {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: Any) -> None:  # silence per-request logs
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, request: CapturedRequest) -> tuple[Any, ...]:
        """(status, JSON-able or bytes[, content type[, more headers]])."""
        raise NotImplementedError

    def _gate_for(self, request: CapturedRequest) -> threading.Event | None:
        """What `request` must wait for before it is answered (None: answered at once)."""
        return None if self._answering.is_set() else self._answering

    def hold(self, at_most_seconds: float = 30.0) -> None:
        """A platform that hangs: requests are recorded (and counted in `held`) but answered only after
        `release()`, or `at_most_seconds`."""
        self._hold_limit = at_most_seconds
        self._answering.clear()

    def release(self) -> None:
        self._answering.set()


def meta_error(code: int, message: str | None = None, subcode: int | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {
        "message": message or META_ERROR_MESSAGES.get(code, f"(#{code}) Fake error"),
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AFakeTraceId",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


class FakeMetaGraph(_RecordingServer):
    version = "v21.0"

    def __init__(self, token: str = "meta-test-token") -> None:
        super().__init__()
        self.token = token
        # Tokens of other businesses (tenants) this stand-in also accepts, each for its own numbers/Pages.
        self.other_tokens: set[str] = set()
        self._ids = itertools.count(1)
        self._failures: list[_Failure] = []
        # media id -> (bytes, mime type): WhatsApp media (Graph lookup, then a download with the token)
        self.media: dict[str, tuple[bytes, str]] = {}
        # file name -> (bytes, mime type): Messenger/Instagram attachment URLs on the "CDN" (no token)
        self.cdn: dict[str, tuple[bytes, str]] = {}
        # When set, a media lookup answers this file_size instead of the real one (Meta announcing a size).
        self.announced_sizes: dict[str, int] = {}
        # Image links Meta cannot fetch (dead, private): a Messenger attachment by one of these URLs is
        # refused during the send, as the Send API does ((#100), subcode 2018047).
        self.unreachable_links: set[str] = set()
        self._receipts = threading.Event()
        self._receipts.set()

    def hold_read_receipts(self, at_most_seconds: float = 30.0) -> None:
        """Only WhatsApp read receipts (with the typing indicator) hang, until `release()`."""
        self._hold_limit = at_most_seconds
        self._receipts.clear()

    def release(self) -> None:
        self._receipts.set()
        super().release()

    def _gate_for(self, request: CapturedRequest) -> threading.Event | None:
        if not self._receipts.is_set() and request.method == "POST" and _is_read_receipt(request):
            return self._receipts
        return super()._gate_for(request)

    @property
    def url(self) -> str:
        return f"{self.base}/{self.version}"

    def fail_next(
        self,
        *,
        code: int | None = None,
        http_status: int | None = None,
        times: int = 1,
        subcode: int | None = None,
        after: int = 0,
    ) -> None:
        """Fail `times` requests, starting after `after` more requests have been answered normally."""
        status = http_status or (500 if code is None else (429 if code in (4, 130429) else 400))
        self._failures.append(_Failure(status, code, times, subcode=subcode, after=after))

    # -- media ---------------------------------------------------------------------------------

    def add_media(self, data: bytes, mime_type: str, *, media_id: str | None = None) -> str:
        """A WhatsApp media file; returns its id (what a webhook's audio.id / image.id carries)."""
        media_id = media_id or f"{900000 + len(self.media) + 1}"
        self.media[media_id] = (data, mime_type)
        return media_id

    def cdn_url(self, data: bytes, mime_type: str, name: str | None = None) -> str:
        """A Messenger/Instagram attachment URL (what a webhook's attachment payload.url carries)."""
        name = name or f"attachment-{len(self.cdn) + 1}"
        self.cdn[name] = (data, mime_type)
        return f"{self.base}/cdn/{name}?oh=fake"

    def media_downloads(self) -> list[CapturedRequest]:
        return [r for r in self.requests if r.method == "GET" and r.path.startswith("/media-files/")]

    # -- what was sent --------------------------------------------------------------------------

    def sent(self) -> list[CapturedRequest]:
        """Messages sent (WhatsApp and Messenger), without WhatsApp read receipts."""
        return [
            r for r in self.requests if r.method == "POST" and r.path.endswith("/messages") and not _is_read_receipt(r)
        ]

    def read_receipts(self) -> list[CapturedRequest]:
        return [r for r in self.requests if r.method == "POST" and _is_read_receipt(r)]

    def sent_texts(self, to: str | None = None) -> list[str]:
        """The text of each message sent (only those to WhatsApp number `to` when given): a text body, an
        interactive body, an image caption ("" if none)."""
        texts = []
        for request in self.sent():
            body = request.json
            if to is not None and body.get("to") != to:
                continue
            if "message" in body:  # Messenger / Instagram
                texts.append(body["message"].get("text", ""))
            elif body.get("type") == "interactive":
                texts.append(body["interactive"]["body"]["text"])
            elif body.get("type") == "image":
                texts.append(body["image"].get("caption", ""))
            else:
                texts.append(body["text"]["body"])
        return texts

    def answer(self, request: CapturedRequest) -> tuple[Any, ...]:
        if request.method == "GET" and request.path.startswith("/cdn/"):
            found = self.cdn.get(request.path.removeprefix("/cdn/"))
            return (200, found[0], found[1]) if found else (404, b"not found", "text/plain")
        prefix = f"/{self.version}/"
        if request.method == "GET" and (request.path.startswith(prefix) or request.path.startswith("/media-files/")):
            return self._media_answer(request, prefix)
        if not request.path.startswith(prefix) or request.method != "POST":
            return 404, meta_error(100, "Unknown path components")
        auth = request.headers.get("authorization", "")
        token = (
            auth.removeprefix("Bearer ")
            if auth.startswith("Bearer ")
            else (request.query.get("access_token") or [""])[0]
        )
        if token != self.token and token not in self.other_tokens:
            return 401, meta_error(190)
        if _is_read_receipt(request):
            pass  # scripted failures are for sends; a read receipt never consumes one
        elif self._failures and self._failures[0].after > 0:
            self._failures[0].after -= 1
        elif self._failures:
            failure = self._failures[0]
            failure.times -= 1
            if failure.times <= 0:
                self._failures.pop(0)
            if failure.code is None:
                return failure.http_status, b"<html>Service Unavailable</html>"
            return failure.http_status, meta_error(failure.code, subcode=failure.subcode)
        tail = request.path[len(prefix) :]
        try:
            body = request.json
        except ValueError:
            return 400, meta_error(100, "Request body is not JSON")
        number = next(self._ids)
        if tail == "me/messages":
            recipient = (body.get("recipient") or {}).get("id")
            if not recipient:
                return 400, meta_error(100, "(#100) The parameter recipient is required")
            problem = messenger_message_problem(body.get("message"))
            if problem:
                return 400, meta_error(100, f"(#100) {problem}")
            attachment = (body.get("message") or {}).get("attachment") or {}
            if (attachment.get("payload") or {}).get("url") in self.unreachable_links:
                return 400, meta_error(100, "(#100) Failed to fetch the file from the url", subcode=2018047)
            return 200, {"recipient_id": recipient, "message_id": f"m_FAKE{number}"}
        if tail.endswith("/messages"):
            if body.get("status") == "read":
                if body.get("messaging_product") != "whatsapp" or not body.get("message_id"):
                    return 400, meta_error(100, "(#100) Invalid parameter")
                return 200, {"success": True}
            to = body.get("to") or body.get("recipient")
            if body.get("messaging_product") != "whatsapp" or not to:
                return 400, meta_error(100, "(#100) Invalid parameter")
            problem = whatsapp_message_problem(body)
            if problem:
                return 400, meta_error(100, f"(#100) {problem}")
            return 200, {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": f"wamid.FAKE{number}"}],
            }
        return 404, meta_error(100, "Unknown path components")

    def _media_answer(self, request: CapturedRequest, prefix: str) -> tuple[Any, ...]:
        """GET /{version}/{media id} → the file's URL and details; GET that URL → its bytes. Both need the token."""
        auth = request.headers.get("authorization", "").removeprefix("Bearer ")
        if auth != self.token and auth not in self.other_tokens:
            return 401, meta_error(190)
        if request.path.startswith("/media-files/"):
            found = self.media.get(request.path.removeprefix("/media-files/"))
            return (200, found[0], found[1]) if found else (404, meta_error(100, "Media not found"))
        media_id = request.path[len(prefix) :]
        found = self.media.get(media_id)
        if found is None:
            return 400, meta_error(100, f"Unsupported get request. Object with ID '{media_id}' does not exist")
        data, mime_type = found
        return 200, {
            "messaging_product": "whatsapp",
            "url": f"{self.base}/media-files/{media_id}",
            "mime_type": mime_type,
            "sha256": hashlib.sha256(data).hexdigest(),
            "file_size": str(self.announced_sizes.get(media_id, len(data))),
            "id": media_id,
        }


def _is_read_receipt(request: CapturedRequest) -> bool:
    try:
        return request.json.get("status") == "read"
    except ValueError:
        return False


def _too_long(value: Any, limit: int) -> bool:
    return not isinstance(value, str) or not value or len(value) > limit


def whatsapp_message_problem(body: dict[str, Any]) -> str | None:
    """What the Cloud API would refuse in a message (the limits in Meta's docs, see docs/channels.md)."""
    kind = body.get("type")
    if kind == "text":
        text = (body.get("text") or {}).get("body")
        return "text.body must be 1-4096 characters" if _too_long(text, 4096) else None
    if kind == "image":
        image = body.get("image") or {}
        if not image.get("link") and not image.get("id"):
            return "image needs a link or an id"
        caption = image.get("caption")
        return "image.caption is over 1024 characters" if caption is not None and len(caption) > 1024 else None
    if kind != "interactive":
        return f"unsupported message type {kind!r}"
    interactive = body.get("interactive") or {}
    if _too_long((interactive.get("body") or {}).get("text"), 1024):
        return "interactive.body.text must be 1-1024 characters"
    action = interactive.get("action") or {}
    if interactive.get("type") == "button":
        buttons = action.get("buttons") or []
        if not 1 <= len(buttons) <= 3:
            return "reply buttons: 1-3 buttons"
        titles = [(b.get("reply") or {}).get("title") for b in buttons]
        ids = [(b.get("reply") or {}).get("id") for b in buttons]
        if any(_too_long(t, 20) for t in titles) or any(_too_long(i, 256) for i in ids):
            return "reply button title must be 1-20 characters and its id 1-256"
        if len({str(t).casefold() for t in titles}) < len(titles) or len(set(ids)) < len(ids):
            return "reply button titles and ids must be unique"
        return None
    if interactive.get("type") == "list":
        if _too_long(action.get("button"), 20):
            return "list button label must be 1-20 characters"
        sections = action.get("sections") or []
        rows = [row for section in sections for row in section.get("rows") or []]
        if not sections or not 1 <= len(rows) <= 10:
            return "list: 1-10 rows in all"
        if any(_too_long(section.get("title"), 24) for section in sections if "title" in section):
            return "list section title is over 24 characters"
        for row in rows:
            if _too_long(row.get("title"), 24) or _too_long(row.get("id"), 200):
                return "list row title must be 1-24 characters and its id 1-200"
            if "description" in row and _too_long(row["description"], 72):
                return "list row description is over 72 characters"
        if len({row["id"] for row in rows}) < len(rows):
            return "list row ids must be unique"
        return None
    return f"unsupported interactive type {interactive.get('type')!r}"


def messenger_message_problem(message: Any) -> str | None:
    """What the Send API would refuse: text or an attachment; at most 13 quick replies of 20/1000."""
    if not isinstance(message, dict):
        return "message is required"
    attachment = message.get("attachment")
    if attachment is not None:
        payload = attachment.get("payload") or {}
        return None if attachment.get("type") and payload.get("url") else "attachment needs a type and a payload.url"
    text = message.get("text")
    if not isinstance(text, str) or not text:
        return "message.text or message.attachment is required"
    if len(text) > 2000:
        return "message.text is over 2000 characters"
    quick_replies = message.get("quick_replies")
    if quick_replies is not None:
        if not 1 <= len(quick_replies) <= 13:
            return "quick_replies: 1-13 items"
        for reply in quick_replies:
            if reply.get("content_type") != "text" or _too_long(reply.get("title"), 20):
                return "quick reply title must be 1-20 characters"
            if _too_long(reply.get("payload"), 1000):
                return "quick reply payload must be 1-1000 characters"
    return None


class FakeSupportBoard(_RecordingServer):
    def __init__(self, token: str = "sb-test-token") -> None:
        super().__init__()
        self.token = token
        self.conversations: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.encode_response_as_string = False
        self._ids = itertools.count(1000)
        self._failures: list[_Failure] = []
        self.files: dict[str, tuple[bytes, str]] = {}
        self.redirects: dict[str, str] = {}

    @property
    def url(self) -> str:
        return f"{self.base}/supportboard/include/api.php"

    # -- state -----------------------------------------------------------------------------------

    def add_user(self, user_id: str, *, first_name: str = "Cliente", **details: str) -> None:
        """details by slug, e.g. phone="+58 412 555 0101", **{"facebook-id": "PSID"}."""
        self.users[user_id] = {
            "id": user_id,
            "first_name": first_name,
            "details": [{"slug": slug, "name": slug, "value": value} for slug, value in details.items()],
        }

    def add_conversation(self, conversation_id: str, *, user_id: str, source: str, extra: str = "") -> None:
        self.conversations[conversation_id] = {
            "details": {
                "id": conversation_id,
                "user_id": user_id,
                "source": source,
                "extra": extra,
                "status_code": "0",
            },
            "messages": [],
        }

    def add_message(self, conversation_id: str, user_id: str, text: str, created_at: str) -> str:
        message_id = str(next(self._ids))
        self.conversations[conversation_id]["messages"].append(
            {
                "id": message_id,
                "user_id": user_id,
                "message": text,
                "creation_time": created_at,
                "attachments": "",
                "payload": json.dumps({}),
                "user_type": "user",
            }
        )
        return message_id

    def add_file(self, name: str, data: bytes, content_type: str) -> str:
        """An uploaded attachment (a customer's voice note or photo); returns its URL."""
        self.files[name] = (data, content_type)
        return f"{self.base}/supportboard/uploads/{name}"

    def add_redirect(self, name: str, location: str) -> str:
        """An upload URL that answers 302 to `location`; returns its URL."""
        self.redirects[name] = location
        return f"{self.base}/supportboard/uploads/{name}"

    # -- scripting failures ----------------------------------------------------------------------

    def fail_messenger_with_meta_error(self, code: int, *, times: int = 1, as_list: bool = False) -> None:
        self._failures.append(_Failure(200, code, times, "messenger-send-message", as_list=as_list))

    def answer_next(self, function: str, body: Any, *, times: int = 1) -> None:
        """Answer the next `times` calls of `function` with this JSON body (HTTP 200)."""
        self._failures.append(_Failure(200, None, times, function, body=body))

    def fail_next(self, function: str, *, http_status: int = 500, times: int = 1) -> None:
        self._failures.append(_Failure(http_status, None, times, function))

    def calls(self, function: str) -> list[dict[str, str]]:
        return [r.form for r in self.requests if r.form.get("function") == function]

    # -- answers ---------------------------------------------------------------------------------

    def answer(self, request: CapturedRequest) -> tuple[Any, ...]:
        if request.method == "GET" and request.path.startswith("/supportboard/uploads/"):
            name = request.path.removeprefix("/supportboard/uploads/")
            if name in self.redirects:
                return 302, b"", "text/plain", {"Location": self.redirects[name]}
            found = self.files.get(name)
            return (200, found[0], found[1]) if found else (404, b"Not Found", "text/plain")
        form = request.form
        function = form.get("function", "")
        if form.get("token") != self.token:
            return 200, {"success": False, "response": "invalid-token"}
        for failure in list(self._failures):
            if failure.function != function:
                continue
            failure.times -= 1
            if failure.times <= 0:
                self._failures.remove(failure)
            if failure.body is not None:
                return failure.http_status, failure.body
            if failure.code is None:
                return failure.http_status, b"Internal Server Error"
            error = meta_error(failure.code)
            return 200, {"success": True, "response": [error] if failure.as_list else error}
        if function == "get-conversation":
            conversation = self.conversations.get(form.get("conversation_id", ""))
            if conversation is None:
                return 200, {"success": False, "response": "conversation-not-found"}
            response: Any = conversation
            if self.encode_response_as_string:
                response = json.dumps(conversation)
            return 200, {"success": True, "response": response}
        if function == "get-user":
            user = self.users.get(form.get("user_id", ""))
            if user is None:
                return 200, {"success": False, "response": "user-not-found"}
            return 200, {"success": True, "response": user if form.get("extra") else {**user, "details": []}}
        if function == "send-message":
            conversation = self.conversations.get(form.get("conversation_id", ""))
            if conversation is None or not form.get("user_id"):
                return 200, {"success": False, "response": "missing-argument"}
            message_id = self.add_message(
                form["conversation_id"],
                form["user_id"],
                form.get("message", ""),
                datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            )
            return 200, {"success": True, "response": {"id": int(message_id), "queue": False}}
        if function == "update-conversation-agent":
            # Documented arguments: conversation_id and agent_id (false removes the agent), an optional
            # message that notifies the agent; answers {"success": true, "response": true}.
            conversation = self.conversations.get(form.get("conversation_id", ""))
            if conversation is None or not form.get("agent_id"):
                return 200, {"success": False, "response": "missing-argument"}
            agent = form["agent_id"]
            conversation["details"]["agent_id"] = None if agent == "false" else agent
            return 200, {"success": True, "response": True}
        if function == "messenger-send-message":
            if not (form.get("psid") and form.get("facebook_page_id") and form.get("message")):
                return 200, {"success": False, "response": "missing-argument"}
            return 200, {
                "success": True,
                "response": [{"recipient_id": form["psid"], "message_id": f"m_SB{next(self._ids)}"}],
            }
        return 200, {"success": False, "response": f"function-not-found: {function}"}


def _test_certificate_authority(folder: Path) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate, server key) PEM files for "localhost", made now."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Mostrador test uploads CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                key_encipherment=False, data_encipherment=False, key_agreement=False, encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    files = folder / "ca.pem", folder / "server.pem", folder / "server-key.pem"
    files[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    files[2].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return files


class FakeUploadsHost(_RecordingServer):
    """An https file host on 127.0.0.1, named "localhost" (its certificate's name)."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.ca_file, certificate, key = _test_certificate_authority(folder)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certificate, key)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.files: dict[str, tuple[bytes, str]] = {}
        self.redirects: dict[str, str] = {}

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        return f"localhost:{self.port}"

    @property
    def base(self) -> str:
        return f"https://{self.host}"

    def add_file(self, name: str, data: bytes, content_type: str) -> str:
        self.files[name] = (data, content_type)
        return f"{self.base}/uploads/{name}"

    def add_redirect(self, name: str, location: str) -> str:
        self.redirects[name] = location
        return f"{self.base}/uploads/{name}"

    def http_url(self, name: str) -> str:
        return f"http://{self.host}/uploads/{name}"

    def answer(self, request: CapturedRequest) -> tuple[Any, ...]:
        name = request.path.removeprefix("/uploads/")
        if name in self.redirects:
            return 302, b"", "text/plain", {"Location": self.redirects[name]}
        found = self.files.get(name)
        return (200, found[0], found[1]) if found else (404, b"Not Found", "text/plain")


@pytest.fixture(name="uploads_host")
def uploads_host_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeUploadsHost]:
    """The https uploads host running, its test CA trusted by httpx (SSL_CERT_FILE)."""
    host = FakeUploadsHost(tmp_path)
    host.start()
    monkeypatch.setenv("SSL_CERT_FILE", str(host.ca_file))
    yield host
    host.stop()


@dataclass
class Platforms:
    meta: FakeMetaGraph
    support_board: FakeSupportBoard
    phone_number_id: str = "106540352242922"
    dm_bot_user_id: str = "2"
    env: dict[str, str] = field(default_factory=dict)


@pytest.fixture(name="platforms")
def platforms_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[Platforms]:
    """Both fake platforms running, with the settings pointing at them."""
    from mostrador.config import reset_settings

    meta = FakeMetaGraph()
    board = FakeSupportBoard()
    meta.start()
    board.start()
    result = Platforms(meta=meta, support_board=board)
    result.env = {
        "META_GRAPH_URL": meta.url,
        "WHATSAPP_TOKEN": meta.token,
        "WHATSAPP_PHONE_NUMBER_ID": result.phone_number_id,
        "MESSENGER_PAGE_TOKEN": meta.token,
        "SUPPORT_BOARD_API_URL": board.url,
        "SUPPORT_BOARD_API_TOKEN": board.token,
        "SUPPORT_BOARD_DM_BOT_USER_ID": result.dm_bot_user_id,
    }
    for name, value in result.env.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    yield result
    meta.stop()
    board.stop()
    reset_settings()
