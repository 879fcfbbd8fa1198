"""Meta's 24-hour customer-service window: free-form replies only within 24 hours of the customer's
last message (after that WhatsApp needs a template and Messenger a human-agent tag)."""

from __future__ import annotations

from dataclasses import dataclass
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


# A person (never the bot) may answer on Messenger and Instagram for 7 days after the customer's last
# message with Meta's HUMAN_AGENT tag; WhatsApp and anything relayed through Support Board get no tag.
HUMAN_AGENT_WINDOW = timedelta(days=7)
HUMAN_AGENT_TAG = "HUMAN_AGENT"
_TAGGABLE_CHANNELS = frozenset({"messenger", "instagram"})


@dataclass(frozen=True)
class HumanReplyWindow:
    """Whether a person may write to the customer now, and how (the admin console's reply).

    `reason` says why not (or why a tag is needed): no_customer_message, closed (24 hours passed; a
    WhatsApp template would be needed), closed_human_agent (Messenger/Instagram: 7 days passed),
    human_agent_tag (between 24 hours and 7 days: sent with the HUMAN_AGENT tag)."""

    applies: bool
    open: bool
    closes_at: datetime | None
    tag: str | None = None
    reason: str | None = None


def human_reply_window(
    channel: str, metadata: dict[str, str], last_customer_message_at: datetime | None, now: datetime
) -> HumanReplyWindow:
    if not window_applies(channel, metadata):
        return HumanReplyWindow(applies=False, open=True, closes_at=None)
    if last_customer_message_at is None:
        return HumanReplyWindow(applies=True, open=False, closes_at=None, reason="no_customer_message")
    closes_at = last_customer_message_at + WINDOW
    if now < closes_at:
        return HumanReplyWindow(applies=True, open=True, closes_at=closes_at)
    if channel in _TAGGABLE_CHANNELS:
        tagged_until = last_customer_message_at + HUMAN_AGENT_WINDOW
        if now < tagged_until:
            return HumanReplyWindow(
                applies=True, open=True, closes_at=tagged_until, tag=HUMAN_AGENT_TAG, reason="human_agent_tag"
            )
        return HumanReplyWindow(applies=True, open=False, closes_at=tagged_until, reason="closed_human_agent")
    return HumanReplyWindow(applies=True, open=False, closes_at=closes_at, reason="closed")
