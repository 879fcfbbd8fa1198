"""Meta's 24-hour customer-service window: free-form replies only within 24 hours of the customer's
last message (after that WhatsApp needs a template and Messenger a human-agent tag)."""

from __future__ import annotations

from datetime import datetime, timedelta

WINDOW = timedelta(hours=24)
_META_CHANNELS = frozenset({"whatsapp", "messenger", "instagram"})
# Support Board's `conversation_source` codes of the Meta channels it relays.
_SUPPORT_BOARD_META_SOURCES = frozenset({"wa", "fb", "ig", "whatsapp", "messenger", "instagram", "facebook"})


def window_applies(channel: str, metadata: dict[str, str]) -> bool:
    if channel in _META_CHANNELS:
        return True
    if channel == "support_board":
        return metadata.get("conversation_source", "").lower() in _SUPPORT_BOARD_META_SOURCES
    return False


def window_open(last_customer_message_at: datetime | None, now: datetime) -> bool:
    return last_customer_message_at is not None and now - last_customer_message_at < WINDOW
