"""What WhatsApp, Messenger and Instagram share: Meta's webhook signature and handshake, its
timestamps, and how its Graph API errors are told apart (retry later, or give up and alarm).

Nothing here imports an HTTP client: the webhook function loads this module on its cold start.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mostrador.channels.base import PermanentSendError, SendError, TransientSendError

if TYPE_CHECKING:
    import httpx

SIGNATURE_HEADER = "x-hub-signature-256"
_SIGNATURE_PREFIX = "sha256="

# Meta error codes (Graph API and WhatsApp Cloud API) that a later retry can cure.
TRANSIENT_CODES = frozenset(
    {
        1,  # API unknown
        2,  # API service temporarily unavailable
        4,  # application request limit reached
        17,  # user request limit reached
        32,  # page request limit reached
        613,  # calls to this API have exceeded the rate limit
        80007,  # WhatsApp Business Account rate limit (Messenger/IG: page rate limit)
        130429,  # WhatsApp throughput rate limit
        131000,  # WhatsApp "something went wrong"
        131016,  # WhatsApp service unavailable
        131056,  # WhatsApp pair rate limit (same business → same user too fast)
        133004,  # WhatsApp server temporarily unavailable
    }
)
# Codes where retrying cannot help: record, alarm, move on.
PERMANENT_CODES = frozenset(
    {
        10,  # permission denied (Messenger: outside the messaging window)
        100,  # invalid parameter
        190,  # access token invalid or expired
        551,  # this person isn't available right now
        131026,  # WhatsApp message undeliverable
        131030,  # WhatsApp recipient not in allowed list
        131047,  # WhatsApp 24-hour customer-service window closed: a template is needed
        131051,  # WhatsApp unsupported message type
    }
)


def dicts_in(value: object) -> list[Mapping[str, Any]]:
    """The objects of a JSON list (Meta payloads are read defensively: anything else is skipped)."""
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def value_at(value: Mapping[str, Any], *path: str) -> object:
    """value[path[0]][path[1]]…, or None where the payload has no such object."""
    current: object = value
    for key in path:
        if not isinstance(current, Mapping):
            return None
        current = current.get(key)
    return current


def verify_signature(raw_body: bytes, signature_header: str | None, app_secret: str) -> bool:
    """HMAC-SHA256 of the exact bytes Meta sent, compared in constant time.

    Meta escapes non-ASCII as \\u00e9 and "/" as "\\/" in those bytes: a re-serialized body would
    not match, so callers must pass the body exactly as received.
    """
    if not signature_header or not app_secret:
        return False
    header = signature_header.strip()
    if not header.lower().startswith(_SIGNATURE_PREFIX):
        return False
    given = header[len(_SIGNATURE_PREFIX) :].strip().lower()
    expected = hmac.new(app_secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode("ascii"), given.encode("ascii", "replace"))


def handshake_challenge(params: Mapping[str, str] | None, verify_token: str | None) -> str | None:
    """The challenge to echo back when Meta's subscription handshake is genuine, else None."""
    if not params or not verify_token:
        return None
    if params.get("hub.mode") != "subscribe":
        return None
    token = params.get("hub.verify_token") or ""
    if not hmac.compare_digest(token.encode("utf-8"), verify_token.encode("utf-8")):
        return None
    return params.get("hub.challenge")


def from_unix_seconds(value: object) -> datetime:
    """WhatsApp timestamps: strings holding seconds since the epoch."""
    try:
        return datetime.fromtimestamp(int(str(value)), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return datetime.now(tz=UTC)


def from_unix_millis(value: object) -> datetime:
    """Messenger and Instagram timestamps: integers holding milliseconds since the epoch."""
    try:
        return datetime.fromtimestamp(int(str(value)) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return datetime.now(tz=UTC)


def meta_error_details(payload: object) -> tuple[str | None, str]:
    """(code, message) of a Graph API error body {"error": {"code": ..., "message": ...}}."""
    if not isinstance(payload, Mapping):
        return None, ""
    error = payload.get("error")
    if not isinstance(error, Mapping):
        return None, ""
    code = error.get("code")
    message = str(error.get("message") or error.get("error_user_msg") or "")
    subcode = error.get("error_subcode")
    if subcode is not None:
        message = f"{message} (subcode {subcode})"
    return (str(code) if code is not None else None), message[:300]


def classify_meta_error(http_status: int | None, payload: object, *, platform: str) -> SendError:
    """Turn a failed Graph API answer into a TransientSendError or a PermanentSendError (with code)."""
    code, message = meta_error_details(payload)
    label = f"{platform} send failed"
    if code is not None:
        text = f"{label}: Meta error {code}: {message}".rstrip(": ")
        number = int(code) if code.lstrip("-").isdigit() else None
        if number in TRANSIENT_CODES:
            return TransientSendError(text, code=code)
        if number in PERMANENT_CODES or (number is not None and 200 <= number <= 299):
            return PermanentSendError(text, code=code)
    else:
        text = f"{label}: HTTP {http_status}"
    if http_status is not None and (http_status >= 500 or http_status == 429):
        return TransientSendError(text, code=code or f"http_{http_status}")
    return PermanentSendError(text, code=code or (f"http_{http_status}" if http_status else None))


DEFAULT_TIMEOUT_SECONDS = 10.0


def new_http_client(timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS) -> httpx.Client:
    # Imported here so that the webhook's cold start never pays for an HTTP client.
    import httpx

    return httpx.Client(timeout=httpx.Timeout(timeout_seconds, connect=min(3.0, timeout_seconds)))


def post_graph(client: httpx.Client, url: str, *, token: str, payload: dict[str, Any], platform: str) -> dict[str, Any]:
    """POST JSON to the Graph API; the decoded answer, or a classified SendError."""
    import httpx

    try:
        response = client.post(url, json=payload, headers={"Authorization": f"Bearer {token}"})
    except httpx.TimeoutException as exc:
        raise TransientSendError(f"{platform} send timed out", code="timeout") from exc
    except httpx.TransportError as exc:
        raise TransientSendError(f"{platform} send failed: {type(exc).__name__}", code="network") from exc
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if response.status_code >= 400 or (isinstance(body, Mapping) and "error" in body):
        raise classify_meta_error(response.status_code, body, platform=platform)
    if not isinstance(body, dict):
        raise TransientSendError(f"{platform} send: unreadable answer (HTTP {response.status_code})", code="bad_answer")
    return body


def split_by_account(payload: Mapping[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """One Meta delivery cut per business account, so each part can go to the tenant owning that account:
    [(channel, account id, a delivery holding only that account's events)]. WhatsApp names the account
    per change (value.metadata.phone_number_id), Messenger and Instagram per entry (the Page or
    Instagram account id). An account id may be "" when the payload lacks it; an unknown object gives []."""
    kind = payload.get("object")
    parts: list[tuple[str, str, dict[str, Any]]] = []
    if kind == "whatsapp_business_account":
        for entry in dicts_in(payload.get("entry")):
            for change in dicts_in(entry.get("changes")):
                account = str(value_at(change, "value", "metadata", "phone_number_id") or "")
                parts.append(("whatsapp", account, {**payload, "entry": [{**entry, "changes": [change]}]}))
    elif kind in ("page", "instagram"):
        channel = "messenger" if kind == "page" else "instagram"
        for entry in dicts_in(payload.get("entry")):
            parts.append((channel, str(entry.get("id") or ""), {**payload, "entry": [entry]}))
    return parts
