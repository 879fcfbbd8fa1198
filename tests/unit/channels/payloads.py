"""Webhook bodies shaped like the ones Meta and Support Board send (field names from their docs)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

PHONE_NUMBER_ID = "106540352242922"
WABA_ID = "102290129340398"
CUSTOMER_PHONE = "584125550101"
PAGE_ID = "1122334455"
IG_ACCOUNT_ID = "17841400000000000"
PSID = "6543210987654321"
APP_ID = "424242424242"
INBOX_APP_ID = "263902037430900"  # Meta's Page inbox app


def whatsapp_delivery(*values: dict[str, Any], entries: int = 1) -> dict[str, Any]:
    """A delivery with the given change values, split over `entries` entries."""
    changes = [{"field": "messages", "value": value} for value in values]
    per_entry = max(1, -(-len(changes) // entries))
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {"id": WABA_ID, "changes": changes[start : start + per_entry]}
            for start in range(0, len(changes), per_entry)
        ],
    }


def whatsapp_value(
    messages: list[dict[str, Any]] | None = None,
    statuses: list[dict[str, Any]] | None = None,
    *,
    contacts: list[dict[str, Any]] | None = None,
    phone_number_id: str = PHONE_NUMBER_ID,
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": phone_number_id},
    }
    if messages is not None:
        value["contacts"] = (
            contacts
            if contacts is not None
            else [{"profile": {"name": "Ana"}, "wa_id": CUSTOMER_PHONE, "user_id": "VE.1502576394655843"}]
        )
        value["messages"] = messages
    if statuses is not None:
        value["statuses"] = statuses
    return value


def wa_message(
    kind: str,
    content: dict[str, Any] | None = None,
    *,
    wamid: str = "wamid.HBgLNTg0MTI1NTUwMTAxFQIAEhgg",
    sender: str | None = CUSTOMER_PHONE,
    timestamp: str = "1763892000",
    **extra: Any,
) -> dict[str, Any]:
    message: dict[str, Any] = {"id": wamid, "timestamp": timestamp, "type": kind, **extra}
    if sender is not None:
        message["from"] = sender
    if content is not None:
        message[kind] = content
    return message


def wa_status(
    status: str, *, wamid: str = "wamid.OUT1", recipient: str = CUSTOMER_PHONE, **extra: Any
) -> dict[str, Any]:
    return {"id": wamid, "status": status, "timestamp": "1763892100", "recipient_id": recipient, **extra}


def messenger_delivery(*events: dict[str, Any], obj: str = "page", account_id: str = PAGE_ID) -> dict[str, Any]:
    return {"object": obj, "entry": [{"id": account_id, "time": 1763892000123, "messaging": list(events)}]}


def fb_event(
    sender: str = PSID, recipient: str = PAGE_ID, timestamp: int = 1763892000123, **content: Any
) -> dict[str, Any]:
    return {"sender": {"id": sender}, "recipient": {"id": recipient}, "timestamp": timestamp, **content}


def support_board_event(function: str = "message-sent", key: str = "sb-secret", **data: Any) -> dict[str, Any]:
    base = {
        "user_id": "45",
        "message_id": "9001",
        "message": "Hola, ¿tienen neveras?",
        "attachments": "",
        "conversation_id": "321",
        "conversation_user_id": "45",
        "conversation_status_code": "2",
        "conversation_source": "ig",
    }
    base.update(data)
    return {"function": function, "key": key, "data": base, "sender-url": "https://example.com/supportboard"}


def meta_bytes(payload: dict[str, Any]) -> bytes:
    """Serialized the way Meta does: non-ASCII as \\u00e9 and "/" as "\\/"."""
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode("ascii")


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
