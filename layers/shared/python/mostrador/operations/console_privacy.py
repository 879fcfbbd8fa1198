"""Customer contacts only for those allowed to see them (docs/console.md, "Customer numbers").

A WhatsApp conversation id holds the customer's phone number (`wa:<business number id>:<customer phone>`),
and so does a customer id. A principal without `view_customer_contact` (viewer, agent) never receives either
from the admin API: every JSON answer it gets has its customer ids masked (the last 4 characters kept) and
its conversation ids replaced by handles, which every route taking a conversation id accepts in its place,
so the console works the same for everyone.

A handle is the conversation id under deterministic authenticated encryption (the SIV construction, with
HMAC-SHA256 as the PRF for both the synthetic IV and the CTR key stream, from the standard library; the
tenant is authenticated with it): the same conversation always gets the same handle, so a page can compare
and keep them; the admin function turns one back into the conversation id with no lookup table and no
database; a handle made up or altered, or one from another tenant, opens nothing. The key is derived from
ADMIN_TOKEN_HASH_KEY, the key every token a viewer or agent can hold already depends on.

The same principal sends and gets nothing else that holds or probes them: a list's cursor (a conversation
list's holds the last conversation id) is sealed the same way under keys of its own, and a plain one is
refused, so keyset paging cannot be turned into a search; a raw conversation id in a path, or a customer
id as a filter (CUSTOMER_FILTERS), is refused (403) rather than answered (docs/console.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from typing import Any

HANDLE_PREFIX = "h."  # no conversation id has a dot after one letter (wa:…, fb:…, sb:…, web chat ids: no dots)
CURSOR_PREFIX = "c."  # a sealed list cursor (plain cursors are base64url: never a dot)
_IV_BYTES = 12  # a forged handle is accepted with probability 2^-96
MASK = "••••"
SHOWN_CHARACTERS = 4
CONVERSATION_KEYS = frozenset({"conversationId", "conversation_id"})
CUSTOMER_KEYS = frozenset({"customerId", "customer_id"})
CURSOR_KEYS = frozenset({"nextCursor"})
# Query parameters that find rows by customer id: refused to whoever may not see customer ids.
CUSTOMER_FILTERS = ("customer", "user_id")


def is_handle(value: str) -> bool:
    return value.startswith(HANDLE_PREFIX)


def masked_customer(customer_id: str | None) -> str | None:
    """The last 4 characters of a customer id, enough to tell customers apart on a screen: 584140009002 → ••••9002."""
    if customer_id is None:
        return None
    text = str(customer_id)
    return MASK + (text[-SHOWN_CHARACTERS:] if len(text) > SHOWN_CHARACTERS else "")


class ConversationHandles:
    """Handles for one deployment's key: handle(tenant, id) and back with conversation(tenant, handle).

    `purpose` and `prefix` make another family of sealed values under keys of its own (the list cursors,
    CURSOR_PREFIX): a value sealed for one purpose never opens as another."""

    def __init__(self, key: str, *, purpose: str = "console handle", prefix: str = HANDLE_PREFIX) -> None:
        root = key.encode()
        self._prefix = prefix
        self._mac_key = hmac.new(root, f"mostrador {purpose}: iv".encode(), hashlib.sha256).digest()
        self._stream_key = hmac.new(root, f"mostrador {purpose}: stream".encode(), hashlib.sha256).digest()

    def _iv(self, tenant_id: str, plain: bytes) -> bytes:
        return hmac.new(self._mac_key, tenant_id.encode() + b"\0" + plain, hashlib.sha256).digest()[:_IV_BYTES]

    def _stream(self, iv: bytes, length: int) -> bytes:
        blocks = (length + 31) // 32
        return b"".join(
            hmac.new(self._stream_key, iv + counter.to_bytes(4, "big"), hashlib.sha256).digest()
            for counter in range(blocks)
        )[:length]

    def handle(self, tenant_id: str, conversation_id: str) -> str:
        plain = conversation_id.encode()
        iv = self._iv(tenant_id, plain)
        sealed = bytes(a ^ b for a, b in zip(plain, self._stream(iv, len(plain)), strict=True))
        return self._prefix + base64.urlsafe_b64encode(iv + sealed).decode().rstrip("=")

    def conversation(self, tenant_id: str, handle: str) -> str | None:
        """The conversation id a handle of this tenant stands for; None for anything else."""
        if not handle.startswith(self._prefix):
            return None
        body = handle[len(self._prefix) :]
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except ValueError:
            return None
        iv, sealed = raw[:_IV_BYTES], raw[_IV_BYTES:]
        if len(iv) < _IV_BYTES or not sealed:
            return None
        plain = bytes(a ^ b for a, b in zip(sealed, self._stream(iv, len(sealed)), strict=True))
        if not hmac.compare_digest(iv, self._iv(tenant_id, plain)):
            return None
        try:
            return plain.decode()
        except UnicodeDecodeError:
            return None


def redacted(body: Any, conversation_handle: Callable[[str], str], sealed_cursor: Callable[[str], str]) -> Any:
    """`body` (JSON: dicts, lists, scalars) with every conversation id a handle, every customer id masked and
    every list cursor sealed (a conversation list's cursor holds the last conversation id), at any depth (an
    escalation inside a suggestion, the conversations of a customer's status)."""
    if isinstance(body, list):
        return [redacted(item, conversation_handle, sealed_cursor) for item in body]
    if not isinstance(body, dict):
        return body
    shown: dict[str, Any] = {}
    for key, value in body.items():
        if key in CONVERSATION_KEYS and isinstance(value, str) and not is_handle(value):
            shown[key] = conversation_handle(value)
        elif key in CUSTOMER_KEYS and value is not None:
            shown[key] = masked_customer(str(value))
        elif key in CURSOR_KEYS and isinstance(value, str):
            shown[key] = sealed_cursor(value)
        else:
            shown[key] = redacted(value, conversation_handle, sealed_cursor)
    return shown
