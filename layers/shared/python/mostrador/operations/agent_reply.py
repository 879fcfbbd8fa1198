"""A person answers a customer from the admin console.

The text goes out through the conversation's own channel with the same senders the bot uses
(channels/registry.py), is stored with actor `agent` and the signed-in principal as sender, pauses the
bot as any human reply does (the reply side's own pause, reason `agent_reply`), and is audited in
operator_actions. Meta's window is respected before anything is stored: WhatsApp (and whatever Support
Board relays from Meta) only within 24 hours of the customer's last message; Messenger and Instagram
up to 7 days with the HUMAN_AGENT tag, which only people may use (conversations/window.py).

Sending happens inside the admin request: a failure is recorded on the message (status failed, the
platform's code and words) and answered at once, so the person decides whether to try again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from mostrador.channels.base import ChannelSender, OutboundMessage, SendError, SendResult
from mostrador.conversations.window import HumanReplyWindow, human_reply_window
from mostrador.db import console_repository as console_repo
from mostrador.db import conversation_repository as conversations_repo
from mostrador.db import operations_repository as ops_repo
from mostrador.observability import logger, redact
from mostrador.operations.conversations import conversation_json, iso, message_json
from mostrador.operations.errors import Conflict, NotFound, OperationsError

if TYPE_CHECKING:
    from mostrador.db.connection import Connection
    from mostrador.operations.auth import Principal

PAUSE_REASON = "agent_reply"


class SupportBoardSources(Protocol):
    """Which platform Support Board relays a conversation from (wa, fb, ig, ...), None when unknown."""

    def conversation_source(self, sb_conversation_id: str) -> str | None: ...


@runtime_checkable
class TaggedSender(Protocol):
    """A sender that can send with a Meta message tag (MessengerSender: HUMAN_AGENT)."""

    def send_with_tag(self, message: OutboundMessage, tag: str) -> SendResult: ...


class SupportBoardConversations(Protocol):
    def conversation(self, conversation_id: str) -> dict[str, Any]: ...


class SupportBoardSourceCache:
    """Support Board's `details.source` of a conversation, from its get-conversation, remembered a few
    minutes: the console asks on every refresh of an open conversation, and a source never changes."""

    def __init__(
        self,
        conversations: SupportBoardConversations,
        *,
        ttl_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._conversations = conversations
        self._ttl = ttl_seconds
        self._clock = clock
        self._known: dict[str, tuple[str | None, float]] = {}

    def conversation_source(self, sb_conversation_id: str) -> str | None:
        from mostrador.channels.support_board import SupportBoardError

        known = self._known.get(sb_conversation_id)
        if known is not None and self._clock() - known[1] < self._ttl:
            return known[0]
        try:
            details = self._conversations.conversation(sb_conversation_id).get("details") or {}
        except (SupportBoardError, SendError) as error:  # not remembered: the next refresh asks again
            logger.warning("Support Board conversation source unknown", extra={"error": str(error)[:200]})
            return None
        source = str(details.get("source") or "").strip().lower() if isinstance(details, dict) else ""
        self._known[sb_conversation_id] = (source or None, self._clock())
        return source or None


class ReplyWindowClosed(OperationsError):
    status = 409

    def __init__(self, message: str, window: dict[str, Any]) -> None:
        super().__init__(message)
        self.window = window


class ReplyNotSent(OperationsError):
    """The platform refused or could not be reached; the message is stored as failed."""

    def __init__(self, message: str, *, code: str | None, transient: bool, message_id: int) -> None:
        super().__init__(message)
        self.status = 503 if transient else 502
        self.code = code
        self.transient = transient
        self.message_id = message_id


_CLOSED_WORDS = {
    "no_customer_message": "the customer has not written yet; a person can answer once they write",
    "closed": "the customer last wrote more than 24 hours ago: WhatsApp (and Meta channels relayed by Support "
    "Board) accept only approved template messages now, which the console does not send; the customer has to "
    "write again first",
    "closed_human_agent": "the customer last wrote more than 7 days ago: Messenger and Instagram refuse even a "
    "person's message (HUMAN_AGENT tag) now; the customer has to write again first",
    "no_customer": "this conversation has no customer to write to (nobody but the business has written in it)",
}


def window_json(window: HumanReplyWindow, last_customer_message_at: datetime | None) -> dict[str, Any]:
    return {
        "applies": window.applies,
        "open": window.open,
        "closesAt": iso(window.closes_at),
        "tag": window.tag,
        "reason": window.reason,
        "lastCustomerMessageAt": iso(last_customer_message_at),
    }


@dataclass
class AgentReplies:
    conn: Connection
    tenant_id: str
    sender_for: Callable[[str], ChannelSender]
    sources: SupportBoardSources | None
    pause_minutes: int
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def _conversation(self, conversation_id: str) -> dict[str, Any]:
        conversation = conversations_repo.get_conversation(self.conn, self.tenant_id, conversation_id)
        if conversation is None:
            raise NotFound(f"no conversation {conversation_id!r}")
        return conversation

    def _metadata(self, conversation: dict[str, Any]) -> dict[str, str]:
        """What the channel's sender needs besides the recipient, from the conversation id and, for
        Support Board, the source it relays (which also decides whether Meta's window applies)."""
        channel, conversation_id = conversation["channel"], conversation["conversation_id"]
        parts = conversation_id.split(":", 2)
        if channel == "whatsapp" and len(parts) == 3:
            return {"phone_number_id": parts[1]}
        if channel in ("messenger", "instagram") and len(parts) == 3:
            return {"page_id": parts[1]}
        if channel == "support_board":
            sb_conversation = conversation_id.removeprefix("sb:")
            source = self.sources.conversation_source(sb_conversation) if self.sources else None
            return {"sb_conversation_id": sb_conversation, **({"conversation_source": source} if source else {})}
        return {}

    def _window(self, conversation: dict[str, Any], metadata: dict[str, str]) -> HumanReplyWindow:
        if not conversation["customer_id"]:
            return HumanReplyWindow(applies=False, open=False, closes_at=None, reason="no_customer")
        return human_reply_window(
            conversation["channel"], metadata, conversation["last_customer_message_at"], self.clock()
        )

    def window(self, conversation_id: str) -> dict[str, Any]:
        """Whether a person may write in this conversation now (the console shows why not)."""
        conversation = self._conversation(conversation_id)
        window = self._window(conversation, self._metadata(conversation))
        return window_json(window, conversation["last_customer_message_at"])

    def send(self, conversation_id: str, text: str, principal: Principal) -> dict[str, Any]:
        conversation = self._conversation(conversation_id)
        channel = conversation["channel"]
        metadata = self._metadata(conversation)
        window = self._window(conversation, metadata)
        if not window.open:
            words = _CLOSED_WORDS.get(window.reason or "", "the reply window is closed")
            raise ReplyWindowClosed(
                f"Cannot send: {words}.", window_json(window, conversation["last_customer_message_at"])
            )
        try:
            sender = self.sender_for(channel)
        except ValueError:
            raise Conflict(f"nothing can send on channel {channel!r}") from None
        if window.tag and not isinstance(sender, TaggedSender):
            raise Conflict(f"the {channel} sender cannot send with the {window.tag} tag")
        outbound = OutboundMessage(
            tenant_id=self.tenant_id,
            channel=channel,
            conversation_id=conversation_id,
            recipient_id=conversation["customer_id"],
            text=text,
            metadata=metadata,
        )
        pieces = sender.pieces(outbound)
        now = self.clock()
        # Stored and the bot paused before sending: the bot must not answer over the person meanwhile,
        # and a failed send still leaves a record of what was tried.
        with self.conn.transaction():
            row = console_repo.store_agent_message(
                self.conn,
                self.tenant_id,
                conversation_id,
                channel,
                text=text,
                sender=principal.subject,
                language=conversation["language"],
            )
            conversations_repo.pause_conversation(
                self.conn,
                self.tenant_id,
                conversation_id,
                minutes=self.pause_minutes,
                reason=PAUSE_REASON,
                set_by=principal.subject,
                now=now,
            )
            ops_repo.record_operator_action(
                self.conn,
                self.tenant_id,
                action="reply",
                actor=principal.subject,
                role=principal.role,
                conversation_id=conversation_id,
                detail={"messageId": row["id"], "pieces": len(pieces), "tag": window.tag},
            )
        log = {"conversation": redact(conversation_id), "channel": channel, "by": principal.subject, "id": row["id"]}
        started = time.monotonic()
        sent_ids: list[str] = []
        for index, piece in enumerate(pieces):
            try:
                piece_message = replace(outbound, text=piece)
                if window.tag:
                    assert isinstance(sender, TaggedSender)
                    result = sender.send_with_tag(piece_message, window.tag)
                else:
                    result = sender.send(piece_message)
                sent_ids.extend(result.platform_message_ids)
            except SendError as error:
                latency_ms = int((time.monotonic() - started) * 1000)
                with self.conn.transaction():
                    if sent_ids:
                        conversations_repo.record_pieces_sent(self.conn, self.tenant_id, row["id"], index, sent_ids)
                    conversations_repo.mark_reply_failed(
                        self.conn, self.tenant_id, row["id"], error.code, str(error), latency_ms
                    )
                logger.warning("agent reply not sent", extra={**log, "code": error.code, "piece": index})
                raise ReplyNotSent(
                    f"{channel} did not take the message: {error}",
                    code=error.code,
                    transient=error.transient,
                    message_id=row["id"],
                ) from error
        latency_ms = int((time.monotonic() - started) * 1000)
        conversations_repo.mark_reply_sent(self.conn, self.tenant_id, row["id"], sent_ids, latency_ms)
        logger.info("agent reply sent", extra={**log, "pieces": len(sent_ids), "latency_ms": latency_ms})
        return {
            "message": self.message(conversation_id, row["id"]),
            "conversation": conversation_json(self._view_row(conversation_id), self.clock()),
            "window": window_json(window, conversation["last_customer_message_at"]),
        }

    def message(self, conversation_id: str, message_id: int) -> dict[str, Any]:
        rows = ops_repo.conversation_messages(
            self.conn, self.tenant_id, conversation_id, after_id=message_id - 1, limit=1
        )
        message = message_json(rows[0], None)
        message["sentBy"] = rows[0]["sender_id"]
        return message

    def _view_row(self, conversation_id: str) -> dict[str, Any]:
        row = ops_repo.get_conversation(self.conn, self.tenant_id, conversation_id, now=self.clock())
        assert row is not None
        return row
