"""Who wrote a message, and what the bot does about it (seeds/000 section 5, plus Meta echoes).

Support Board relays every party of a conversation through the same webhook, so the sender's user
id decides: our own DM bot (ignore its echo), the comment bot writing as the Page (log, no reply,
no pause), a human agent (pause), the customer (reply unless paused or taken over), anyone else
(pause, to be safe). Messenger and Instagram echo every Page message: our app's echoes are ignored,
anyone else's (a person typing in the Page inbox) pause the bot. WhatsApp echoes only what a person
types in the WhatsApp Business app on a coexistence number: that pauses the bot the same way.
Events in Messenger's standby channel (another app owns the thread) are logged, never answered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from mostrador.config import Settings
from mostrador.messaging.model import InboundMessage

Actor = Literal["customer", "bot", "comment_bot", "agent", "page", "unknown"]
Action = Literal["reply", "ignore", "log", "pause"]


@dataclass(frozen=True)
class Classification:
    actor: Actor
    action: Action
    reason: str


class HistoryEntry(Protocol):
    """One message of a Support Board conversation, as its API reports it."""

    @property
    def user_id(self) -> str: ...

    @property
    def text(self) -> str: ...

    @property
    def created_at(self) -> datetime | None: ...


class ConversationHistory(Protocol):
    """Recent Support Board messages of a conversation, most recent last."""

    def recent_messages(self, conversation_id: str) -> Sequence[HistoryEntry]: ...


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes"}


@dataclass(frozen=True)
class TakeoverPolicy:
    dm_bot_user_id: str | None
    comment_bot_proxy_user_id: str | None
    agent_ids: frozenset[str]
    comment_bot_tag: str | None
    meta_app_id: str | None
    pause_minutes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> TakeoverPolicy:
        return cls(
            dm_bot_user_id=settings.support_board_dm_bot_user_id,
            comment_bot_proxy_user_id=settings.comment_bot_proxy_user_id,
            agent_ids=settings.support_board_agent_ids,
            comment_bot_tag=settings.comment_bot_initiation_tag,
            meta_app_id=settings.meta_app_id,
            pause_minutes=settings.human_takeover_pause_minutes,
        )

    # -- Support Board senders -------------------------------------------------------------------

    def is_comment_bot(self, user_id: str, text: str) -> bool:
        if not self.comment_bot_proxy_user_id or user_id != self.comment_bot_proxy_user_id:
            return False
        # Without a tag every proxy message is assumed to be the comment bot; with one, only tagged ones.
        return self.comment_bot_tag is None or self.comment_bot_tag in text

    def classify_support_board(self, user_id: str, text: str, *, is_customer: bool) -> Classification:
        if self.dm_bot_user_id and user_id == self.dm_bot_user_id:
            return Classification("bot", "ignore", "dm_bot_echo")
        if self.comment_bot_proxy_user_id and user_id == self.comment_bot_proxy_user_id:
            if self.is_comment_bot(user_id, text):
                return Classification("comment_bot", "log", "comment_bot")
            return Classification("agent", "pause", "proxy_account_without_tag")
        if user_id in self.agent_ids:
            return Classification("agent", "pause", "human_agent")
        if is_customer:
            return Classification("customer", "reply", "customer")
        return Classification("unknown", "pause", "unclassified_sender")

    def human_took_over(
        self, history: Sequence[HistoryEntry], customer_id: str, *, since: datetime | None = None
    ) -> HistoryEntry | None:
        """The implicit takeover: the latest message not from the customer, our bot or the comment
        bot. Any such message is a person answering, and the bot must stay out of it — unless it is
        older than `since` (the pause length ago, or the last resume): then the takeover is over.
        A message without a time counts (the safe side)."""
        for entry in reversed(history):
            if since is not None and entry.created_at is not None and entry.created_at < since:
                return None  # history is oldest first: everything before this is older still
            if entry.user_id == customer_id:
                continue
            if self.dm_bot_user_id and entry.user_id == self.dm_bot_user_id:
                continue
            if self.is_comment_bot(entry.user_id, entry.text):
                continue
            return entry
        return None

    # -- every channel ---------------------------------------------------------------------------

    def classify(self, message: InboundMessage, *, sent_by_us: bool = False) -> Classification:
        """`sent_by_us`: the message id is one we sent (an echo we can recognise without app ids)."""
        if _truthy(message.metadata.get("standby")):
            # Another app owns the thread: keep the transcript whole, answer nothing, pause nothing
            # (the owner's people answering is not a takeover of a conversation we are not in).
            return Classification(self._classify(message, sent_by_us=sent_by_us).actor, "log", "standby")
        return self._classify(message, sent_by_us=sent_by_us)

    def _classify(self, message: InboundMessage, *, sent_by_us: bool) -> Classification:
        if message.channel == "support_board":
            customer_id = message.metadata.get("sb_conversation_user_id")
            is_customer = message.sender_role == "customer" or (
                customer_id is not None and customer_id == message.sender_id
            )
            return self.classify_support_board(message.sender_id, message.text, is_customer=is_customer)
        if message.channel in ("messenger", "instagram") and self.is_echo(message):
            app_id = message.metadata.get("app_id")
            if sent_by_us or (self.meta_app_id is not None and app_id == self.meta_app_id):
                return Classification("bot", "ignore", "own_echo")
            return Classification("agent", "pause", "page_inbox_echo")
        if message.channel == "whatsapp" and self.is_echo(message):
            if sent_by_us:
                return Classification("bot", "ignore", "own_echo")
            return Classification("agent", "pause", "business_app_echo")
        if message.sender_role == "customer":
            return Classification("customer", "reply", "customer")
        if message.sender_role == "bot":
            return Classification("bot", "ignore", "own_message")
        # A page or agent message on a channel without echoes: a person is answering.
        return Classification("agent" if message.sender_role != "unknown" else "unknown", "pause", "not_customer")

    @staticmethod
    def is_echo(message: InboundMessage) -> bool:
        return _truthy(message.metadata.get("is_echo")) or message.sender_role in ("page", "bot", "agent")
