"""The reply use case: one queue item in, at most one reply out.

For an inbound message: record it once (a redelivery stops here), apply the actor rules (ignore,
log, pause or reply), leave reactions and stickers unanswered, check the explicit pause, the
implicit takeover and the 24-hour window, read voice notes and photos (or send the notice that says
why not), then either escalate (the customer asked for a person) or run the model with the catalog
tools, and send. The generated reply is stored before it is sent, so a transient send failure is
retried by the queue with the same text and a second reply is never generated for the same message.
On the queue's last attempt a transient failure is recorded as final (`failed`) instead of leaving
the reply `pending` in the dead-letter queue. An unsend (MessageDeletion) removes the message's text,
or leaves a tombstone for a message not received yet; it is never answered.

With the burst quiet window on, a customer message is recorded and waits; the first of a burst
puts a timer on the reply queue, and when it is due one reply answers every waiting message. A
reply that a newer waiting message made stale, or one of whose messages was taken back while it was
written, is superseded, never sent; superseded by a message still being handled, it leaves a backstop
timer that answers the older messages should that handling fail. Items the queue gave up on are
settled from its dead-letter queue (handle_dead_letter; docs/conversations.md).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Protocol

from mostrador.channels.base import (
    ChannelSender,
    ChoiceSet,
    OutboundMessage,
    PermanentSendError,
    ReadMarker,
    TransientSendError,
)
from mostrador.channels.interactive import shorten
from mostrador.channels.media import MediaFile, MediaUnavailable
from mostrador.channels.messenger import watermark_time
from mostrador.config import REPLY_FUNCTION_TIMEOUT_SECONDS
from mostrador.conversations.actors import Classification, ConversationHistory, TakeoverPolicy
from mostrador.conversations.choices import (
    ChannelAbilities,
    abilities_for,
    choices_from_json,
    choices_json,
    numbered_text,
    offered_choices,
    picked_item_code,
    typed_number,
)
from mostrador.conversations.customer_numbers import in_customers_conversation
from mostrador.conversations.escalation import (
    EMPTY_SEARCH_LIMIT,
    asks_for_human,
    handoff_message,
    promises_handoff,
    with_handoff,
)
from mostrador.conversations.escalation_notice import EscalationNotice
from mostrador.conversations.language import DEFAULT_LANGUAGE, conversation_language, language_name, localized
from mostrador.conversations.media import MediaReader, Understood
from mostrador.conversations.notices import notice, unsupported_key
from mostrador.conversations.reply_queue import ReplyDue
from mostrador.conversations.toolbox import Catalog, KnowledgeBase, ProductPhotos, ReplyToolbox, ToolOutcome
from mostrador.conversations.window import window_applies, window_open
from mostrador.db import conversation_repository as repo
from mostrador.db.conversation_repository import RecordedInbound
from mostrador.llm import CUSTOMER_TEXT_CHARS, for_prompt
from mostrador.llm.base import ChatMessage, ChatModel, ProviderError, ToolCall, ToolSpec, Usage
from mostrador.llm.tools import GET_LIVE_PRODUCT_DETAILS, REPLY_TOOLS, SEARCH_KNOWLEDGE, SEARCH_LOCAL_PRODUCTS
from mostrador.messaging.model import Channel, InboundMessage, MessageDeletion, StatusUpdate
from mostrador.observability import logger, metrics, redact
from mostrador.tenancy.budget import TokenBudgetSpent
from mostrador.tenancy.profile import TenantProfile

if TYPE_CHECKING:
    from mostrador.channels.support_board import SupportBoardClient
    from mostrador.config import Settings
    from mostrador.db.connection import Connection
    from mostrador.mail import Mail

MAX_TOOL_ROUNDS = 4
HISTORY_MESSAGES = 20
# The most of one message of the business side (our replies, agents) the model is shown; a customer's
# message is cut much shorter (llm.CUSTOMER_TEXT_CHARS). An oversized event keeps up to one queue message
# (~256 KB) in the record, which on every reply while it stays in the history would cost tens of thousands
# of tokens, and two of them overflow a 128K-token context.
MODEL_MESSAGE_CHARS = 8_000

_EMPTY_ANSWER = {
    "es": "Disculpa, no pude entender bien tu mensaje. ¿Me lo puedes decir con otras palabras?",
    "en": "Sorry, I couldn't quite understand your message. Could you say it in other words?",
    "pt": "Desculpe, não entendi bem a sua mensagem. Pode me dizer com outras palavras?",
    "fr": "Désolé, je n'ai pas bien compris votre message. Pouvez-vous le dire autrement ?",
}


class AllProvidersFailed(ProviderError):
    """No configured chat model could answer; the queue item must fail and be retried."""


@dataclass(frozen=True)
class ReplyOutcome:
    # replied, skipped, duplicate, failed, status; waiting (for its burst's reply), deferred (a burst
    # timer not due yet: hand it back to the queue for `retry_after` seconds), superseded (stale reply),
    # backstop (what a backstop timer did)
    action: str
    reason: str
    message_id: int | None = None
    reply_id: int | None = None
    retry_after: float | None = None


@dataclass
class LoopResult:
    text: str
    provider: str | None = None
    model: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    rounds: int = 0
    tool_outcomes: list[ToolOutcome] = field(default_factory=list)


def run_tool_loop(
    models: Sequence[ChatModel],
    messages: list[ChatMessage],
    tools: Sequence[ToolSpec],
    run_tool: Callable[[int, ToolCall], ToolOutcome],
    *,
    language: str,
    max_rounds: int = MAX_TOOL_ROUNDS,
    on_usage: Callable[[Usage], None] | None = None,
) -> LoopResult:
    """Let the model call tools for at most `max_rounds` turns; the last turn gets no tools, so it
    must answer in text. A model raising ProviderError hands over to the next one, which continues
    from the same messages (tool results already obtained are kept)."""
    if not models:
        raise AllProvidersFailed("no chat model is configured")
    result = LoopResult(text="")
    current = 0
    for round_number in range(1, max_rounds + 1):
        offered = list(tools) if round_number < max_rounds else []
        while True:
            model = models[current]
            try:
                answer = model.chat(messages, offered, language=language)
                break
            except ProviderError as error:
                logger.warning("chat model failed", extra={"provider": model.name, "error": str(error)[:300]})
                current += 1
                if current >= len(models):
                    raise AllProvidersFailed(f"every chat model failed; last: {error}") from error
        result.rounds = round_number
        result.provider, result.model = answer.usage.provider, answer.usage.model
        result.tokens_in += answer.usage.tokens_in
        result.tokens_out += answer.usage.tokens_out
        if on_usage is not None:
            on_usage(answer.usage)
        if not (answer.tool_calls and offered):
            result.text = answer.text
            return result
        messages.append(ChatMessage("assistant", answer.text, tool_calls=tuple(answer.tool_calls)))
        for call in answer.tool_calls:
            outcome = run_tool(round_number, call)
            result.tool_outcomes.append(outcome)
            messages.append(ChatMessage("tool", outcome.content, tool_call_id=call.id, name=call.name))
    return result  # unreachable: the last round offers no tools


@lru_cache(maxsize=2)
def _prompt_file(name: str) -> str:
    return (resources.files("mostrador.conversations") / "prompts" / name).read_text(encoding="utf-8").strip()


def default_system_prompt() -> str:
    return _prompt_file("default_system_prompt.txt")


def system_prompt(base: str | None, language: str, facts: Sequence[str] = ()) -> str:
    """The tenant's prompt (voice, store facts) or the default, then the ground rules no tenant prompt
    can drop: prices and stock only from tools, real escalations, catalog/customer text is data; then
    the facts of the moment (the store's name, currency, local time and whether it is open)."""
    name = language_name(language)
    context = "".join(f"{fact}\n" for fact in facts)
    return (
        f"{(base or default_system_prompt()).strip()}\n\n"
        f"{_prompt_file('ground_rules.txt')}\n\n"
        f"{context}Conversation language: {name} ({language}). Answer in {name}."
    )


def store_facts(tenant: TenantProfile, now: datetime) -> list[str]:
    """What the model should know of the tenant at this moment."""
    local = tenant.local_time(now)
    facts = [
        f"You answer for {tenant.display_name}. Show prices in {tenant.currency}.",
        f"The store's local time is {local:%A %Y-%m-%d %H:%M} ({tenant.time_zone}).",
    ]
    if tenant.business_hours:
        hours = "; ".join(f"{day} {', '.join(spans)}" for day, spans in tenant.business_hours.items())
        state = "open" if tenant.is_open(now) else "closed"
        facts.append(f"Business hours: {hours}. The store is {state} now.")
    return facts


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _support_board_conversation_id(message: InboundMessage) -> str:
    meta = message.metadata
    return meta.get("sb_conversation_id") or message.conversation_id.removeprefix("sb:")


class ReplyScheduler(Protocol):
    """Puts a burst's timer on the reply queue (reply_queue.QueueReplyScheduler in production)."""

    def schedule(self, due: ReplyDue) -> None: ...


class _NoMedia:
    def fetch(self, message: InboundMessage) -> MediaFile:
        raise MediaUnavailable("no media source is configured")


def _blind_reader() -> MediaReader:
    return MediaReader(_NoMedia(), transcribers=list, describers=list, max_voice_seconds=180, max_bytes=10_000_000)


# Kinds never answered on their own: a reaction (or its removal) is a gesture, not a question, and a
# sticker mostly closes a conversation ("gracias" + 👍 sticker); answering it would invite another.
_NEVER_ANSWERED = {"sticker": "sticker"}
# Kinds that never get a reply: a newer one of them never makes a burst's reply stale.
_NEVER_ANSWERED_KINDS = ["reaction", *_NEVER_ANSWERED]
# Kinds the bot cannot read; without a caption they get the one-time "I can read..." notice.
_UNREADABLE = frozenset({"video", "document", "location", "unsupported"})
# What a message or a burst's reply the reply queue gave up on is marked with (handle_dead_letter).
DEAD_LETTERED = "dead_lettered"
# A burst timer arriving this early runs anyway (SQS counts visibility in whole seconds).
DUE_EARLY_TOLERANCE_SECONDS = 0.25
# The most a reply waits for its read receipt / typing indicator call before it is sent: long enough
# for Meta's usual answer (so the receipt lands first), short enough that a hanging Graph API never
# holds the reply back. The call itself runs beside the work, on its own thread.
TYPING_WAIT_SECONDS = 0.25


def never_answered(message: InboundMessage) -> str | None:
    """Why this customer message gets no reply at all, or None when it may get one."""
    if message.media_kind == "reaction":
        return "reaction" if message.text.strip() else "reaction_removed"
    return _NEVER_ANSWERED.get(message.media_kind)


@dataclass
class ReplyService:
    conn: Connection
    policy: TakeoverPolicy
    # Built on first use: a message that gets no reply never loads an LLM SDK.
    chat_models: Callable[[], Sequence[ChatModel]]
    catalog: Catalog
    sender_for: Callable[[Channel], ChannelSender]
    history: ConversationHistory | None = None
    clock: Callable[[], datetime] = _utcnow
    max_tool_rounds: int = MAX_TOOL_ROUNDS
    history_limit: int = HISTORY_MESSAGES
    empty_search_limit: int = EMPTY_SEARCH_LIMIT
    knowledge: KnowledgeBase | None = None
    # The tenant's settings (language, hours, after-hours message, store facts); None: the deployment's.
    tenant: TenantProfile | None = None
    # Told of each escalation this service opens (the tenant's escalation webhook), best effort.
    notify_escalation: Callable[[EscalationNotice], object] | None = None
    # Voice notes and photos (none: voice notes get the "needs a model" notice, photos their caption).
    media: MediaReader = field(default_factory=_blind_reader)
    # The burst quiet window: 0 (or no scheduler) answers every message at once.
    burst_window_seconds: int = 0
    scheduler: ReplyScheduler | None = None
    # The chat provider is the offline model (from settings: asking chat_models() would check the budget).
    offline_chat: bool = False

    def handle(
        self,
        item: InboundMessage | StatusUpdate | MessageDeletion | ReplyDue,
        conversation_id: str | None = None,
        *,
        final_attempt: bool = False,
    ) -> ReplyOutcome:
        """`final_attempt`: the queue dead-letters this item if it fails now (its last receive)."""
        if isinstance(item, MessageDeletion):
            return self._forget(item)
        if isinstance(item, ReplyDue):
            try:
                return self._handle_due(item, final_attempt=final_attempt)
            except TransientSendError as error:
                if not final_attempt:
                    raise
                return self._give_up_burst(item, error)
        if isinstance(item, StatusUpdate):
            watermark = watermark_time(item.platform_message_id)
            if watermark is not None and conversation_id:
                moved = repo.apply_watermark(self.conn, item.tenant_id, conversation_id, item.status, watermark)
                return ReplyOutcome("status", f"{item.status}:{moved}")
            if item.status == "failed" and repo.note_photo_piece_failed(self.conn, item):
                # WhatsApp fetched the product photo's link after accepting it and could not: the text
                # still reached the customer, so the reply is not failed (docs/conversations.md).
                metrics.add_metric(name="ProductPhotoFailures", unit="Count", value=1)
                logger.warning("product photo failed after it was sent", extra={"code": item.error_code})
                return ReplyOutcome("status", "photo_failed")
            known = repo.apply_status(self.conn, item)
            if not known:
                logger.info("status for an unknown message", extra={"channel": item.channel, "status": item.status})
            return ReplyOutcome("status", item.status if known else "unknown_message")
        try:
            return self._handle_inbound(item)
        except TransientSendError as error:
            if not final_attempt:
                raise
            outcome = self._give_up(item, error)
            if outcome.message_id is not None:  # a customer's message: only they get replies
                self._hold_burst_for_the_waiting(
                    item.tenant_id, item.conversation_id, outcome.message_id, item.platform_message_id, self.clock()
                )
            return outcome

    def handle_dead_letter(
        self, item: InboundMessage | StatusUpdate | MessageDeletion | ReplyDue, conversation_id: str | None = None
    ) -> ReplyOutcome:
        """An item the reply queue gave up on (it failed on every receive: the database unreachable, a bug,
        a timeout), from the dead-letter queue. Nothing is generated or sent for it; what it leaves behind
        is settled: a customer message is `failed` (`dead_lettered`) and the messages waiting behind it
        are answered; a burst timer's messages are `failed`; an unsend is still honoured."""
        if isinstance(item, InboundMessage):
            return self._dead_message(item)
        if isinstance(item, ReplyDue):
            if item.kind == "backstop":
                return self._handle_backstop(item, final_attempt=True)
            return self._dead_burst(item)
        if isinstance(item, MessageDeletion):
            return self._forget(item)
        # A delivery or read receipt: only the reply's status shown in the console stays behind.
        logger.warning("dead-lettered status dropped", extra={"channel": item.channel, "status": item.status})
        return ReplyOutcome("skipped", "status_dead_lettered")

    def _dead_message(self, message: InboundMessage) -> ReplyOutcome:
        now = self.clock()
        # Recorded now if no receive got that far (the database was down throughout): never lost.
        message, decision, recorded = self._record(message, now)
        log = _inbound_log(message, decision, recorded)
        if recorded.is_own_outbound or recorded.state != "received":
            return ReplyOutcome("duplicate", recorded.state or "own_message", recorded.id)
        if decision.action != "reply":
            # The actor rules alone (an agent's message still pauses the bot); nothing is generated there.
            return self._decide(message, decision, recorded.id, time.monotonic(), now, log)
        with self.conn.transaction():
            if self._settle_dead_draft(
                message.tenant_id, repo.pending_reply(self.conn, message.tenant_id, recorded.id), [recorded.id]
            ):
                return ReplyOutcome("duplicate", "reply_settled", recorded.id)
            failed = repo.fail_unfinished(self.conn, message.tenant_id, recorded.id, DEAD_LETTERED)
        logger.error("dead-lettered message recorded as failed", extra={**log, "failed": failed})
        # Waiting in a burst (failed = False), it is answered with the others by the burst held here.
        self._hold_burst_for_the_waiting(
            message.tenant_id, message.conversation_id, recorded.id, message.platform_message_id, now
        )
        return ReplyOutcome("failed" if failed else "waiting", DEAD_LETTERED, recorded.id)

    def _dead_burst(self, due: ReplyDue) -> ReplyOutcome:
        """A burst's timer failed on every receive (every model down, the database unreachable): its
        messages are `failed`. With a newer burst open, its timer answers them all instead. Messages that
        joined after the timer was due (while its first attempt was starting) get a burst held for them."""
        tenant, conversation_id = due.tenant_id, due.conversation_id
        log = {"conversation": redact(conversation_id), "message_id": due.anchor_id}
        # Its own burst, if no attempt got far enough to close it (the database down throughout).
        repo.close_burst(self.conn, tenant, conversation_id, due.anchor_id)
        if repo.burst_is_open(self.conn, tenant, conversation_id):
            logger.warning("dead-lettered burst timer: a newer burst answers its messages", extra=log)
            return ReplyOutcome("skipped", "burst_open", due.anchor_id)
        rows = [
            row for row in repo.awaiting_reply(self.conn, tenant, conversation_id) if row["created_at"] <= due.due_at
        ]
        ids = [row["id"] for row in rows]
        draft = repo.pending_reply_among(self.conn, tenant, ids) if ids else None
        with self.conn.transaction():
            if self._settle_dead_draft(tenant, draft, ids):
                assert draft is not None
                ids = [message_id for message_id in ids if message_id > draft["in_reply_to"]]
            repo.mark_inbound_many(self.conn, tenant, ids, "failed", DEAD_LETTERED)
        logger.error("dead-lettered burst timer: its messages recorded as failed", extra={**log, "burst": len(ids)})
        self._hold_burst_for_the_waiting(
            tenant, conversation_id, due.anchor_id, due.anchor_platform_message_id, self.clock()
        )
        return ReplyOutcome("failed", DEAD_LETTERED, ids[-1] if ids else None, draft["id"] if draft else None)

    def _settle_dead_draft(self, tenant: str, draft: dict[str, Any] | None, ids: list[int]) -> bool:
        """The reply a dead-lettered item had written: still pending, it is `failed` (never sent now) and
        False is returned; sent or failed already (only the marks were lost), the messages it answers
        (`ids` up to its own) get its outcome and True is returned."""
        if draft is None:
            return False
        if draft["status"] == "pending":
            title = f"dead-lettered after {draft.get('pieces_sent') or 0} piece(s) sent"
            repo.mark_reply_failed(self.conn, tenant, draft["id"], DEAD_LETTERED, title)
            return False
        answered = [message_id for message_id in ids if message_id <= draft["in_reply_to"]]
        if draft["status"] == "failed":
            repo.mark_inbound_many(self.conn, tenant, answered, "failed", f"send_failed:{draft['error_code']}")
        else:
            repo.mark_inbound_many(self.conn, tenant, answered, "replied")
        return True

    def _forget(self, deletion: MessageDeletion) -> ReplyOutcome:
        had_it = repo.forget_message(self.conn, deletion)
        if had_it is None:
            logger.warning(
                "unsend names a message of another conversation: left alone",
                extra={"conversation": redact(deletion.conversation_id), "channel": deletion.channel},
            )
            return ReplyOutcome("skipped", "deleted_elsewhere")
        logger.info(
            "message taken back by its sender",
            extra={
                "conversation": redact(deletion.conversation_id),
                "channel": deletion.channel,
                "recorded": had_it,  # False: a tombstone waits for the original, which will never be answered
            },
        )
        return ReplyOutcome("skipped", "deleted" if had_it else "deleted_before_received")

    def _record_failed_for_good(
        self,
        tenant: str,
        draft: dict[str, Any] | None,
        error: TransientSendError,
        mark_answered: Callable[[str], None],
    ) -> str:
        """One rule for a message and a burst whose last send attempt failed: the draft, if still pending,
        failed with the pieces already sent; what it answers marked failed (`mark_answered`) with the
        reason returned, in the same transaction; counted."""
        reason = f"send_failed:{error.code}" if draft is not None else f"retries_exhausted:{error.code}"
        with self.conn.transaction():
            if draft is not None and draft["status"] == "pending":
                title = f"retries exhausted after {draft.get('pieces_sent') or 0} piece(s) sent: {error}"
                repo.mark_reply_failed(self.conn, tenant, draft["id"], error.code, title)
            mark_answered(reason)
        metrics.add_metric(name="PermanentSendFailures", unit="Count", value=1)
        return reason

    def _give_up(self, message: InboundMessage, error: TransientSendError) -> ReplyOutcome:
        """The last attempt failed transiently too: record the failure as final (no retry will come)."""
        inbound_id = repo.inbound_id(self.conn, message.tenant_id, message.platform_message_id)
        if inbound_id is None:
            raise error  # nothing recorded to mark: the dead-letter queue keeps the message
        tenant = message.tenant_id
        draft = repo.pending_reply(self.conn, tenant, inbound_id)
        reason = self._record_failed_for_good(
            tenant, draft, error, lambda reason: repo.mark_inbound(self.conn, tenant, inbound_id, "failed", reason)
        )
        logger.error(
            "retries exhausted: reply recorded as failed",
            extra={"conversation": redact(message.conversation_id), "channel": message.channel, "code": error.code},
        )
        return ReplyOutcome("failed", reason, inbound_id, draft["id"] if draft is not None else None)

    # -- inbound ---------------------------------------------------------------------------------

    def _record(self, message: InboundMessage, now: datetime) -> tuple[InboundMessage, Classification, RecordedInbound]:
        """The message in its customer's conversation, what the actor rules make of it, and its row
        (recorded once: a redelivery finds the first one)."""
        message = in_customers_conversation(self.conn, message, now)  # one customer, several number forms
        sent_by_us = False
        if message.channel in ("messenger", "instagram", "whatsapp") and TakeoverPolicy.is_echo(message):
            sent_by_us = repo.is_own_outbound(self.conn, message.tenant_id, message.platform_message_id)
        decision = self.policy.classify(message, sent_by_us=sent_by_us)
        return message, decision, repo.record_inbound(self.conn, message, decision.actor)

    def _handle_inbound(self, message: InboundMessage) -> ReplyOutcome:
        started = time.monotonic()
        now = self.clock()
        message, decision, recorded = self._record(message, now)
        log = _inbound_log(message, decision, recorded)
        if not recorded.created and (recorded.is_own_outbound or recorded.state != "received"):
            logger.info("duplicate delivery ignored", extra=log)
            return ReplyOutcome("duplicate", recorded.state or "own_message", recorded.id)
        outcome = self._decide(message, decision, recorded.id, started, now, log)
        if decision.actor == "customer" and outcome.action not in ("waiting", "duplicate"):
            self._hold_burst_for_the_waiting(
                message.tenant_id, message.conversation_id, recorded.id, message.platform_message_id, now
            )
        return outcome

    def _decide(
        self,
        message: InboundMessage,
        decision: Classification,
        inbound_id: int,
        started: float,
        now: datetime,
        log: dict[str, Any],
    ) -> ReplyOutcome:
        if decision.action != "reply":
            if decision.action == "pause":
                until = repo.pause_conversation(
                    self.conn,
                    message.tenant_id,
                    message.conversation_id,
                    minutes=self.policy.pause_minutes,
                    reason=decision.reason,
                    set_by=message.sender_id,
                    now=now,
                )
                log["paused_until"] = until.isoformat()
            repo.mark_inbound(self.conn, message.tenant_id, inbound_id, "skipped", decision.reason)
            logger.info("inbound logged without reply", extra={**log, "reason": decision.reason})
            return ReplyOutcome("skipped", decision.reason, inbound_id)
        quiet = never_answered(message)
        if quiet is not None:
            return self._skip(message.tenant_id, inbound_id, quiet, log)
        return self._reply_to_customer(message, inbound_id, started, now, log)

    def _fail(self, tenant: str, message_id: int, reason: str, log: dict[str, Any]) -> ReplyOutcome:
        # The reason carries the error's code only: platform answers may echo customer details.
        repo.mark_inbound(self.conn, tenant, message_id, "failed", reason)
        metrics.add_metric(name="PermanentSendFailures", unit="Count", value=1)
        logger.error("no reply possible", extra={**log, "reason": reason})
        return ReplyOutcome("failed", reason, message_id)

    def _skip(self, tenant: str, message_id: int, reason: str, log: dict[str, Any]) -> ReplyOutcome:
        repo.mark_inbound(self.conn, tenant, message_id, "skipped", reason)
        logger.info("no reply", extra={**log, "reason": reason})
        return ReplyOutcome("skipped", reason, message_id)

    def _silenced(self, message: InboundMessage, conversation: dict[str, Any], now: datetime) -> str | None:
        """Why the bot must stay quiet in this conversation now: a pause, or a person answering on
        Support Board (its history shows them even when their webhook never reached us). Raises
        PermanentSendError when that history cannot be read (the conversation is gone there)."""
        if repo.active_pause(self.conn, message.tenant_id, message.conversation_id, now):
            return "paused"
        if message.channel == "support_board" and self.history is not None:
            customer_id = message.metadata.get("sb_conversation_user_id") or message.sender_id
            entries = self.history.recent_messages(_support_board_conversation_id(message))
            since = now - timedelta(minutes=self.policy.pause_minutes)
            if conversation.get("bot_resumed_at") is not None:
                since = max(since, conversation["bot_resumed_at"])
            if self.policy.human_took_over(entries, customer_id, since=since) is not None:
                return "human_takeover"
        return None

    def _reply_to_customer(
        self, message: InboundMessage, inbound_id: int, started: float, now: datetime, log: dict[str, Any]
    ) -> ReplyOutcome:
        tenant, conversation_id = message.tenant_id, message.conversation_id
        # The language is pinned on the conversation: its first message sets it when it names one, later
        # only a clear message switches it ("ok", a code, an emoji or a brand and model never does;
        # language.py). The catalog's brands are read only when the message would change the language.
        # A tapped button's title is our own words (a product name), never a sign of the customer's language.
        known = repo.get_conversation(self.conn, tenant, conversation_id)
        pinned = bool(known and known["last_customer_message_at"])
        # Until a message names one, a conversation speaks the tenant's default language.
        current = known["language"] if known and pinned else self._default_language(known)
        if message.media_kind in ("interactive", "postback"):
            language = current or DEFAULT_LANGUAGE
        else:
            language = conversation_language(
                message.text, current, pinned=pinned, catalog_brands=lambda: self.catalog.brands(tenant)
            )
        conversation = repo.note_customer_message(
            self.conn, tenant, conversation_id, message.sender_id, message.timestamp, language
        )
        repo.set_message_language(self.conn, tenant, inbound_id, language)

        draft = repo.pending_reply(self.conn, tenant, inbound_id)
        if draft is not None:  # a retry: the reply exists already, only its delivery is left
            return self._deliver(message, inbound_id, draft, started, log)

        try:
            silenced = self._silenced(message, conversation, now)
        except PermanentSendError as error:  # e.g. Support Board: conversation-not-found
            return self._fail(tenant, inbound_id, f"history_failed:{error.code}", log)
        if silenced is not None:
            return self._skip(tenant, inbound_id, silenced, log)
        if window_applies(message.channel, message.metadata) and not window_open(
            conversation["last_customer_message_at"], now
        ):
            return self._skip(tenant, inbound_id, "outside_window", log)

        if message.media_kind in _UNREADABLE and not message.text.strip():
            return self._unreadable(message, inbound_id, language, started, log)
        # Shown from here: reading a voice note or photo takes seconds too.
        typing = self._show_typing(message)
        understood, language = self._understand(message, inbound_id, language, pinned=pinned)
        if understood.notice is not None:
            fixed_reply = repo.ReplyDraft(understood.notice, language)
            fixed = repo.store_reply_draft(self.conn, tenant, conversation_id, message.channel, inbound_id, fixed_reply)
            _finish(typing)
            return self._deliver(message, inbound_id, fixed, started, {**log, "notice": True})
        if self._bursts_on:
            outcome = self._await_burst(message, inbound_id, now, log)
            _finish(typing)  # the burst's reply comes later; the call gets its moment in this invocation
            return outcome
        row = {
            "id": inbound_id,
            "text": message.text,
            "media_kind": message.media_kind,
            "transcript": understood.transcript,
            "media_description": understood.description,
        }
        return self._answer(message, [row], language, started, now, log, stale_check=False, typing=typing)

    def _unreadable(
        self, message: InboundMessage, inbound_id: int, language: str, started: float, log: dict[str, Any]
    ) -> ReplyOutcome:
        """A video, document or unknown message: the "I can read..." notice, once per conversation. It names
        what can be read here: voice notes and photos only where a model hears and sees them."""
        tenant, conversation_id = message.tenant_id, message.conversation_id
        key = unsupported_key(hears=self.media.can_hear(), sees=self.media.can_see())
        with self.conn.transaction():
            claimed = repo.claim_unsupported_notice(self.conn, tenant, conversation_id)
            draft = (
                repo.store_reply_draft(
                    self.conn,
                    tenant,
                    conversation_id,
                    message.channel,
                    inbound_id,
                    repo.ReplyDraft(notice(key, language), language),
                )
                if claimed
                else None
            )
        if draft is None:
            return self._skip(message.tenant_id, inbound_id, "unsupported_again", log)
        return self._deliver(message, inbound_id, draft, started, {**log, "notice": True})

    def _understand(
        self, message: InboundMessage, inbound_id: int, language: str, *, pinned: bool
    ) -> tuple[Understood, str]:
        """The transcript or photo description (kept on the message: a retry does not pay twice), and
        the conversation's language, which a transcript may tell for the first time (or switch, when
        it is clear: the same rule as a typed message)."""
        if message.media_kind not in ("audio", "image"):
            return Understood(), language
        known = repo.media_understanding(self.conn, message.tenant_id, inbound_id)
        if known["transcript"] or known["media_description"]:
            understood = Understood(transcript=known["transcript"], description=known["media_description"])
        else:
            understood = self.media.understand(message, language, on_usage=self._usage_recorder(message.tenant_id))
            if understood.transcript or understood.description:
                repo.save_media_understanding(
                    self.conn, message.tenant_id, inbound_id, understood.transcript, understood.description
                )
        spoken = understood.transcript and conversation_language(
            understood.transcript,
            language,
            pinned=pinned,
            catalog_brands=lambda: self.catalog.brands(message.tenant_id),
        )
        if spoken and spoken != language:
            repo.set_conversation_language(self.conn, message.tenant_id, message.conversation_id, spoken)
            repo.set_message_language(self.conn, message.tenant_id, inbound_id, spoken)
            language = spoken
        return understood, language

    def _usage_recorder(self, tenant: str) -> Callable[[Usage, str], None]:
        def record(usage: Usage, purpose: str) -> None:
            repo.record_usage(
                self.conn, tenant, usage.provider, usage.model, usage.tokens_in, usage.tokens_out, purpose=purpose
            )

        return record

    # -- the burst quiet window ------------------------------------------------------------------

    def _await_burst(
        self, message: InboundMessage, inbound_id: int, now: datetime, log: dict[str, Any]
    ) -> ReplyOutcome:
        """Wait for the burst's one reply. The first message of a burst schedules it; later ones join."""
        assert self.scheduler is not None
        tenant, conversation_id = message.tenant_id, message.conversation_id
        repo.mark_awaiting(self.conn, tenant, inbound_id, dict(message.metadata))
        due_at = repo.open_burst(
            self.conn, tenant, conversation_id, inbound_id, now + timedelta(seconds=self.burst_window_seconds)
        )
        if due_at is not None:
            self.scheduler.schedule(
                ReplyDue(
                    tenant_id=tenant,
                    conversation_id=conversation_id,
                    anchor_id=inbound_id,
                    anchor_platform_message_id=message.platform_message_id,
                    due_at=due_at,
                )
            )
        logger.info("waiting for the burst's reply", extra={**log, "opened_burst": due_at is not None})
        return ReplyOutcome("waiting", "burst", inbound_id)

    @property
    def _bursts_on(self) -> bool:
        return self.burst_window_seconds > 0 and self.scheduler is not None

    def _hold_burst_for_the_waiting(
        self, tenant: str, conversation_id: str, anchor_id: int, anchor_platform_message_id: str, now: datetime
    ) -> bool:
        """A customer message that ended without joining a burst (a notice, a skip, a failure, a dead letter)
        counted as newer while it was handled, so a burst's reply written meanwhile was superseded for it.
        The messages still waiting get a burst of their own, held by this message and due at once. With a
        burst open, or nothing waiting, nothing is done (a timer that finds nothing waiting sends nothing).
        Returns whether it held one."""
        if not self._bursts_on:
            return False
        assert self.scheduler is not None
        due_at = repo.open_burst(self.conn, tenant, conversation_id, anchor_id, now, if_waiting=True)
        if due_at is None:
            return False
        self.scheduler.schedule(
            ReplyDue(
                tenant_id=tenant,
                conversation_id=conversation_id,
                anchor_id=anchor_id,
                anchor_platform_message_id=anchor_platform_message_id,
                due_at=due_at,
            )
        )
        logger.info(
            "burst held for the messages still waiting",
            extra={"conversation": redact(conversation_id), "message_id": anchor_id},
        )
        return True

    def _schedule_backstop(self, tenant: str, conversation_id: str, newer: dict[str, Any]) -> None:
        """A burst's reply was superseded for `newer`, a customer message still being handled. Should its
        handling fail (it raises, the Lambda times out), it would hold no burst and the older messages would
        wait for its retry (the queue's visibility timeout, 9 minutes) or, dead-lettered, for ever. So a
        backstop timer watches it: due when it stops counting as being handled (the reply function's timeout
        after it was recorded), it holds a burst for the waiting if `newer` is still only recorded then."""
        assert self.scheduler is not None
        due_at = self.clock() + timedelta(seconds=max(0.0, float(newer["seconds_left"])))
        self.scheduler.schedule(
            ReplyDue(
                tenant_id=tenant,
                conversation_id=conversation_id,
                anchor_id=newer["id"],
                anchor_platform_message_id=newer["platform_message_id"],
                due_at=due_at,
                kind="backstop",
            )
        )

    def _handle_backstop(self, due: ReplyDue, *, final_attempt: bool = False) -> ReplyOutcome:
        """The watched message's time to be handled is over (_schedule_backstop). Read from the database
        (its clock decided that the message was being handled)."""
        left = repo.seconds_left_to_handle(self.conn, due.tenant_id, due.anchor_id, REPLY_FUNCTION_TIMEOUT_SECONDS)
        if left is None:
            # It finished: it joined a burst (whose reply answers the older messages too) or held one.
            return ReplyOutcome("backstop", "not_needed", due.anchor_id)
        if left > 0 and not final_attempt:
            return ReplyOutcome("deferred", "backstop", due.anchor_id, retry_after=left)
        # Still only recorded past the reply function's timeout: its handling failed (its retry, or the
        # dead-letter queue's consumer, deals with it); the messages waiting behind it are answered now.
        held = self._hold_burst_for_the_waiting(
            due.tenant_id, due.conversation_id, due.anchor_id, due.anchor_platform_message_id, self.clock()
        )
        logger.warning(
            "a newer message's handling failed: the messages waiting behind it are answered",
            extra={"conversation": redact(due.conversation_id), "message_id": due.anchor_id, "held": held},
        )
        return ReplyOutcome("backstop", "held_burst" if held else "nothing_waiting", due.anchor_id)

    def _handle_due(self, due: ReplyDue, *, final_attempt: bool = False) -> ReplyOutcome:
        """A burst's reply is due: one reply to every customer message waiting in the conversation."""
        if due.kind == "backstop":
            return self._handle_backstop(due, final_attempt=final_attempt)
        started = time.monotonic()
        now = self.clock()
        wait = (due.due_at - now).total_seconds()
        # On its last receive a timer handed back would go to the dead-letter queue: it runs now instead.
        if wait > DUE_EARLY_TOLERANCE_SECONDS and not final_attempt:
            return ReplyOutcome("deferred", "burst_window", retry_after=wait)
        tenant, conversation_id = due.tenant_id, due.conversation_id
        repo.close_burst(self.conn, tenant, conversation_id, due.anchor_id)
        outcome = ReplyOutcome("skipped", "nothing_waiting")
        # A reply one of whose messages was taken back while it was written is written once more without it.
        for _ in range(2):
            outcome = self._answer_waiting(tenant, conversation_id, started, now)
            if outcome.reason != "taken_back":
                break
        return outcome

    def _answer_waiting(self, tenant: str, conversation_id: str, started: float, now: datetime) -> ReplyOutcome:
        rows = repo.awaiting_reply(self.conn, tenant, conversation_id)
        if not rows:
            return ReplyOutcome("skipped", "nothing_waiting")
        ids = [row["id"] for row in rows]
        draft = repo.pending_reply_among(self.conn, tenant, ids)
        if draft is not None and draft["in_reply_to"] != ids[-1]:
            if draft["status"] == "pending" and not draft.get("pieces_sent"):
                # Written (and its send failed) before newer messages arrived: none of it went out, so
                # it is superseded and this reply answers them all.
                repo.supersede_draft(self.conn, tenant, draft["id"])
                draft = None
            else:
                # Partly sent (or its outcome recorded) already: it is finished for the messages it
                # answers; the newer ones have their own burst's timer.
                rows = [row for row in rows if row["id"] <= draft["in_reply_to"]]
                ids = [row["id"] for row in rows]
        latest = rows[-1]
        message = _waiting_message(tenant, conversation_id, latest)
        log: dict[str, Any] = {
            "conversation": redact(conversation_id),
            "channel": message.channel,
            "message_id": latest["id"],
            "burst": len(rows),
        }
        if draft is not None:
            return self._deliver(message, latest["id"], draft, started, log, together=ids)
        conversation = repo.get_conversation(self.conn, tenant, conversation_id) or {}
        language: str = conversation.get("language") or DEFAULT_LANGUAGE
        try:
            silenced = self._silenced(message, conversation, now)
        except PermanentSendError as error:  # e.g. Support Board: conversation-not-found
            reason = f"history_failed:{error.code}"
            repo.mark_inbound_many(self.conn, tenant, ids, "failed", reason)
            metrics.add_metric(name="PermanentSendFailures", unit="Count", value=1)
            logger.error("no reply possible", extra={**log, "reason": reason})
            return ReplyOutcome("failed", reason, latest["id"])
        if silenced is not None:
            repo.mark_inbound_many(self.conn, tenant, ids, "skipped", silenced)
            logger.info("no reply", extra={**log, "reason": silenced})
            return ReplyOutcome("skipped", silenced, latest["id"])
        return self._answer(message, rows, language, started, now, log, stale_check=True)

    def _give_up_burst(self, due: ReplyDue, error: TransientSendError) -> ReplyOutcome:
        """A burst timer's last attempt failed transiently too: its reply and the messages it answers
        are recorded failed (the dead-letter queue would keep them waiting for ever)."""
        tenant, conversation_id = due.tenant_id, due.conversation_id
        ids = [row["id"] for row in repo.awaiting_reply(self.conn, tenant, conversation_id)]
        draft = repo.pending_reply_among(self.conn, tenant, ids) if ids else None
        if draft is not None:
            # Newer messages than the reply's belong to the next burst, whose own timer answers them.
            ids = [message_id for message_id in ids if message_id <= draft["in_reply_to"]]
        reason = self._record_failed_for_good(
            tenant, draft, error, lambda reason: repo.mark_inbound_many(self.conn, tenant, ids, "failed", reason)
        )
        logger.error(
            "retries exhausted: burst reply recorded as failed",
            extra={"conversation": redact(conversation_id), "code": error.code, "burst": len(ids)},
        )
        return ReplyOutcome("failed", reason, ids[-1] if ids else None, draft["id"] if draft is not None else None)

    # -- answering -------------------------------------------------------------------------------

    def _answer(
        self,
        message: InboundMessage,
        rows: list[dict[str, Any]],
        language: str,
        started: float,
        now: datetime,
        log: dict[str, Any],
        *,
        stale_check: bool,
        typing: threading.Thread | None = None,
    ) -> ReplyOutcome:
        """One reply to `rows` (the customer messages answered, oldest first; `message` is the latest).
        With `stale_check`, a reply that a newer customer message made stale is superseded, not sent.
        `typing`: the typing indicator already started for `message` (else it is started here)."""
        tenant, conversation_id = message.tenant_id, message.conversation_id
        inbound_id = rows[-1]["id"]
        together = [row["id"] for row in rows]
        abilities = abilities_for(message.channel)
        if typing is None:
            typing = self._show_typing(message)
        escalated = False
        handoff: tuple[str, str] | None = None  # (reason, source) of an escalation instead of a model answer
        if any(asks_for_human(_customer_words(row)) for row in rows):
            handoff = ("the customer asked for a person", "customer_request")
        else:
            toolbox = ReplyToolbox(
                self.catalog,
                tenant,
                lambda reason: self._open_escalation(message, inbound_id, reason, "tool"),
                self.knowledge,
                currency=self.tenant.currency if self.tenant is not None else "USD",
            )
            picked = self._picked(message)
            try:
                result = self._generate(message, inbound_id, language, toolbox, picked=picked)
            except TokenBudgetSpent:
                # The tenant chose people over a cheaper model once its monthly budget is spent.
                handoff = ("the monthly token budget is spent", "token_budget")
        if handoff is not None:
            self._open_escalation(message, inbound_id, *handoff)
            reply = repo.ReplyDraft(self._after_hours_message(now) or handoff_message(language), language)
            escalated = True
        else:
            text = result.text.strip() or localized(_EMPTY_ANSWER, language)
            escalated = toolbox.escalation_id is not None
            searched_in_vain = any(
                o.call.name == SEARCH_LOCAL_PRODUCTS.name and o.error is None and o.result_count == 0
                for o in result.tool_outcomes
            ) and not any(o.call.name == SEARCH_KNOWLEDGE.name and o.result_count > 0 for o in result.tool_outcomes)
            if (
                not escalated
                and searched_in_vain
                and repo.consecutive_empty_searches(self.conn, tenant, conversation_id) >= self.empty_search_limit
            ):
                self._open_escalation(message, inbound_id, "repeated searches found nothing", "no_results")
                escalated = True
            if not escalated and promises_handoff(text):
                # The model said a person will take over without calling the tool: make it true.
                self._open_escalation(message, inbound_id, "the reply promised a person", "promised_in_reply")
                escalated = True
            text = self._with_photo_notes(text, rows, language)
            choices: ChoiceSet | None = None
            image_url = image_caption = None
            if escalated:
                text = with_handoff(text, language, self._after_hours_message(now))
            elif picked is not None:
                image_url, image_caption = self._product_photo(tenant, result.tool_outcomes, abilities)
            else:
                choices = offered_choices(result.tool_outcomes, text, language, abilities)
                if choices is not None and abilities.style == "numbered":
                    text = f"{text}\n\n{numbered_text(choices, language)}"
            reply = repo.ReplyDraft(
                text,
                language,
                result.provider,
                result.model,
                result.tokens_in,
                result.tokens_out,
                choices=choices_json(choices) if choices is not None else None,
                image_url=image_url,
                image_caption=image_caption,
            )

        # The reply and the pause of an escalation are stored together: a retry after a crash finds
        # the reply and sends it, instead of finding the pause and leaving the customer untold.
        with self.conn.transaction():
            draft = repo.store_reply_draft(self.conn, tenant, conversation_id, message.channel, inbound_id, reply)
            if escalated:
                repo.pause_conversation(
                    self.conn,
                    tenant,
                    conversation_id,
                    minutes=self.policy.pause_minutes,
                    reason="escalation",
                    set_by="bot",
                    now=now,
                )
        stale = None
        newer: list[dict[str, Any]] = []
        if stale_check and not escalated:
            newer = repo.newer_customer_messages(
                self.conn,
                tenant,
                conversation_id,
                inbound_id,
                never_answered_kinds=_NEVER_ANSWERED_KINDS,
                handled_within_seconds=REPLY_FUNCTION_TIMEOUT_SECONDS,
            )
            if newer:
                # Written before the customer's newest message (waiting, or still being read): that
                # message's own burst answers them all (_hold_burst_for_the_waiting when it joins none).
                stale = "newer_message"
            elif repo.any_taken_back(self.conn, tenant, together):
                # The customer unsent one of the messages it answers (it may quote it): written again
                # without it by the caller, never sent.
                stale = "taken_back"
        if stale is not None:
            repo.supersede_draft(self.conn, tenant, draft["id"])
            if newer and not any(row["awaiting"] for row in newer):
                # None of them waits in a burst yet: should the newest fail, a backstop answers these.
                self._schedule_backstop(tenant, conversation_id, newer[0])
            _finish(typing)
            logger.info("reply superseded", extra={**log, "reason": stale})
            return ReplyOutcome("superseded", stale, inbound_id, draft["id"])
        _finish(typing)
        return self._deliver(message, inbound_id, draft, started, {**log, "escalated": escalated}, together=together)

    def _picked(self, message: InboundMessage) -> str | None:
        """The product a tap (or a typed number after a numbered list) picked."""
        offered = None
        if typed_number(message.text) is not None:
            offered = repo.last_offered_choices(self.conn, message.tenant_id, message.conversation_id)
        return picked_item_code(message, offered)

    def _product_photo(
        self, tenant: str, outcomes: Sequence[ToolOutcome], abilities: ChannelAbilities
    ) -> tuple[str | None, str | None]:
        """The picked product's first photo and its caption, where the channel can show one."""
        if not abilities.images or not isinstance(self.catalog, ProductPhotos):
            return None, None
        card = next(
            (
                o.result.get("product")
                for o in outcomes
                if o.call.name == GET_LIVE_PRODUCT_DETAILS.name and isinstance(o.result.get("product"), dict)
            ),
            None,
        )
        if not isinstance(card, dict):
            return None, None
        urls = self.catalog.image_urls(tenant, str(card.get("item_code")))
        if not urls:
            return None, None
        caption = shorten(str(card.get("name") or ""), abilities.caption_max) if abilities.caption_max else None
        return urls[0], caption

    def _with_photo_notes(self, text: str, rows: list[dict[str, Any]], language: str) -> str:
        """A photo answered by its caption alone says why the photo itself was not looked at; a voice
        note answered by the words typed with it, that the voice note was not heard."""
        unseen = [row for row in rows if row["media_kind"] == "image" and not row.get("media_description")]
        if unseen:
            key = "photo_unavailable" if self.media.can_see() else "photo_needs_model"
            text = f"{text}\n\n{notice(key, language)}"
        if any(row["media_kind"] == "audio" and not row.get("transcript") for row in rows):
            text = f"{text}\n\n{notice('voice_unheard', language)}"
        return text

    def _show_typing(self, message: InboundMessage) -> threading.Thread | None:
        """WhatsApp's read receipt with a typing indicator, started when work on a reply begins (before
        a voice note or photo is read) on its own thread, so it never adds to the reply's latency; the
        reply waits for it at most TYPING_WAIT_SECONDS (_finish), so it normally lands first and a
        hanging Graph API holds nothing back. Not with the offline model: its answer is instant, there
        is no work to hide the call behind. Decided from the settings, never from chat_models(): that runs
        the token-budget check, which belongs to the generation alone."""
        if message.channel != "whatsapp" or self.offline_chat:
            return None
        sender = self.sender_for(message.channel)
        if not isinstance(sender, ReadMarker):
            return None
        target = OutboundMessage(
            tenant_id=message.tenant_id,
            channel=message.channel,
            conversation_id=message.conversation_id,
            recipient_id=message.sender_id,
            text="",
            reply_to_message_id=message.platform_message_id,
            metadata=dict(message.metadata),
        )

        def mark() -> None:
            try:
                sender.mark_read(target)
            except Exception as error:  # a cosmetic call: it must never cost the reply
                logger.info("read receipt not sent", extra={"error": str(error)[:200]})

        thread = threading.Thread(target=mark, name="whatsapp-typing", daemon=True)
        thread.start()
        return thread

    def _default_language(self, known: dict[str, Any] | None) -> str | None:
        """A new conversation's language until its messages name one: the tenant's, else the deployment's."""
        if self.tenant is not None:
            return self.tenant.default_language
        return known["language"] if known else None

    def _after_hours_message(self, now: datetime) -> str | None:
        """The tenant's after-hours message when its store is closed now (told instead of "a person will
        answer shortly" when a person is brought in); None during business hours or without one."""
        tenant = self.tenant
        if tenant is not None and tenant.after_hours_message and not tenant.is_open(now):
            return tenant.after_hours_message
        return None

    def _open_escalation(self, message: InboundMessage, inbound_id: int, reason: str, source: str) -> int:
        already = repo.open_escalation_id(self.conn, message.tenant_id, message.conversation_id)
        escalation_id = repo.open_escalation(
            self.conn, message.tenant_id, message.conversation_id, reason=reason, source=source, message_id=inbound_id
        )
        logger.info(
            "escalated to a human",
            extra={"conversation": redact(message.conversation_id), "source": source, "escalation_id": escalation_id},
        )
        if already is None and self.notify_escalation is not None:
            tenant = self.tenant
            self.notify_escalation(
                EscalationNotice(
                    tenant_id=message.tenant_id,
                    escalation_id=escalation_id,
                    conversation_id=message.conversation_id,
                    channel=message.channel,
                    reason=reason,
                    source=source,
                    opened_at=self.clock(),
                    agent_ids=tenant.escalation_agent_ids if tenant else (),
                    email=tenant.escalation_email if tenant else None,
                    support_board_conversation_id=(
                        _support_board_conversation_id(message) if message.channel == "support_board" else None
                    ),
                )
            )
        return escalation_id

    def _generate(
        self,
        message: InboundMessage,
        inbound_id: int,
        language: str,
        toolbox: ReplyToolbox,
        *,
        picked: str | None = None,
    ) -> LoopResult:
        tenant, conversation_id = message.tenant_id, message.conversation_id
        # A retry after every model failed starts over: the earlier attempt's tool calls led to no reply
        # and must not count twice (they feed the "searches keep finding nothing" escalation).
        repo.forget_tool_calls(self.conn, tenant, inbound_id)
        facts = store_facts(self.tenant, self.clock()) if self.tenant is not None else []
        prompt = system_prompt(repo.tenant_system_prompt(self.conn, tenant), language, facts)
        rows = repo.recent_history(self.conn, tenant, conversation_id, self.history_limit)
        messages = [ChatMessage("system", prompt)] + [m for m in map(_as_chat_message, rows) if m is not None]

        def run_tool(round_number: int, call: ToolCall) -> ToolOutcome:
            began = time.monotonic()
            outcome = toolbox.run(call)
            repo.record_tool_call(
                self.conn,
                tenant,
                conversation_id,
                inbound_id,
                round_number=round_number,
                tool_name=call.name,
                arguments=call.arguments,
                product_ids=outcome.product_ids,
                result_count=outcome.result_count,
                error=outcome.error,
                latency_ms=int((time.monotonic() - began) * 1000),
                knowledge_chunks=outcome.citations,
            )
            return outcome

        def on_usage(usage: Usage) -> None:
            repo.record_usage(self.conn, tenant, usage.provider, usage.model, usage.tokens_in, usage.tokens_out)

        looked_up: list[ToolOutcome] = []
        if picked is not None:
            # The tap asks for this product: its live details are looked up now (round 0, the customer's
            # own call) and the model answers from them, in the conversation's voice and language.
            call = ToolCall(f"pick-{inbound_id}", GET_LIVE_PRODUCT_DETAILS.name, {"item_code": picked})
            looked_up.append(run_tool(0, call))
            messages.append(ChatMessage("assistant", "", tool_calls=(call,)))
            messages.append(ChatMessage("tool", looked_up[0].content, tool_call_id=call.id, name=call.name))
        result = run_tool_loop(
            self.chat_models(),
            messages,
            REPLY_TOOLS,
            run_tool,
            language=language,
            max_rounds=self.max_tool_rounds,
            on_usage=on_usage,
        )
        result.tool_outcomes[:0] = looked_up
        return result

    # -- sending ---------------------------------------------------------------------------------

    def _deliver(
        self,
        message: InboundMessage,
        inbound_id: int,
        draft: dict[str, Any],
        started: float,
        log: dict[str, Any],
        *,
        together: Sequence[int] = (),
    ) -> ReplyOutcome:
        """Send the stored reply. `together`: every customer message it answers (a burst), marked with it."""
        tenant = message.tenant_id
        answered = sorted({*together, inbound_id})
        if draft["status"] in ("sent", "delivered", "read"):  # sent before a crash; only the mark was lost
            repo.mark_inbound_many(self.conn, tenant, answered, "replied")
            return ReplyOutcome("replied", "already_sent", inbound_id, draft["id"])
        if draft["status"] == "failed":
            repo.mark_inbound_many(self.conn, tenant, answered, "failed", f"send_failed:{draft['error_code']}")
            return ReplyOutcome("failed", "send_failed", inbound_id, draft["id"])
        abilities = abilities_for(message.channel)
        outbound = OutboundMessage(
            tenant_id=message.tenant_id,
            channel=message.channel,
            conversation_id=message.conversation_id,
            recipient_id=message.sender_id,
            text=draft["text"],
            reply_to_message_id=message.platform_message_id,
            metadata=dict(message.metadata),
            choices=choices_from_json(draft.get("choices")) if abilities.style != "numbered" else None,
        )
        sender = self.sender_for(message.channel)
        units = _units(outbound, sender.pieces(outbound), draft.get("image_url"), draft.get("image_caption"))
        sent_ids: list[str] = list(draft.get("platform_message_ids") or [])
        # One unit at a time, progress kept: a retry resumes at the unit that failed.
        for index in range(draft.get("pieces_sent") or 0, len(units)):
            # The first unit that goes out quotes the customer's message (the text, when the photo failed).
            piece = units[index] if not sent_ids else replace(units[index], reply_to_message_id=None)
            try:
                piece_ids = sender.send(piece).platform_message_ids
                sent_ids.extend(piece_ids)
            except TransientSendError as error:
                # Left pending: the queue redelivers this item and the rest of the reply is sent then.
                logger.warning("send failed, will retry", extra={**log, "code": error.code, "piece": index})
                raise
            except PermanentSendError as error:
                if index == 0 and units[0].image_url and len(units) > 1:
                    # The catalog's photo link is dead or refused (Messenger fetches it during the send,
                    # error #100): the photo is left out, noted on the reply, and the details still go.
                    repo.note_photo_failed(self.conn, tenant, draft["id"], error.code, str(error))
                    repo.record_pieces_sent(self.conn, tenant, draft["id"], 1, sent_ids)
                    metrics.add_metric(name="ProductPhotoFailures", unit="Count", value=1)
                    logger.warning("product photo refused, details sent without it", extra={**log, "code": error.code})
                    continue
                latency_ms = int((time.monotonic() - started) * 1000)
                with self.conn.transaction():
                    repo.mark_reply_failed(self.conn, tenant, draft["id"], error.code, str(error), latency_ms)
                    repo.mark_inbound_many(self.conn, tenant, answered, "failed", f"send_failed:{error.code}")
                metrics.add_metric(name="PermanentSendFailures", unit="Count", value=1)
                logger.error("send failed permanently", extra={**log, "code": error.code})
                return ReplyOutcome("failed", f"send_failed:{error.code}", inbound_id, draft["id"])
            if index < len(units) - 1:
                # The photo's own id: WhatsApp reports a dead photo link later, as a status naming it.
                photo_id = piece_ids[0] if piece.image_url and piece_ids else None
                repo.record_pieces_sent(self.conn, tenant, draft["id"], index + 1, sent_ids, image_message_id=photo_id)
        latency_ms = int((time.monotonic() - started) * 1000)
        with self.conn.transaction():
            repo.mark_reply_sent(self.conn, tenant, draft["id"], sent_ids, latency_ms)
            repo.mark_inbound_many(self.conn, tenant, answered, "replied")
        logger.info(
            "replied",
            extra={
                **log,
                "latency_ms": latency_ms,
                "provider": draft["provider"],
                "model": draft["model"],
                "tokens_in": draft["tokens_in"],
                "tokens_out": draft["tokens_out"],
                "pieces": len(sent_ids),
            },
        )
        return ReplyOutcome("replied", "sent", inbound_id, draft["id"])


def _units(
    outbound: OutboundMessage, pieces: list[str], image_url: str | None, image_caption: str | None
) -> list[OutboundMessage]:
    """What goes out, in order: the product photo (if any), then the text pieces, the last carrying
    the choices."""
    units = [replace(outbound, text=image_caption or "", image_url=image_url, choices=None)] if image_url else []
    for index, piece in enumerate(pieces):
        last = index == len(pieces) - 1
        units.append(replace(outbound, text=piece, image_url=None, choices=outbound.choices if last else None))
    return units


def _finish(typing: threading.Thread | None) -> None:
    """Give the typing indicator call a short moment to land before the reply, never more."""
    if typing is not None:
        typing.join(timeout=TYPING_WAIT_SECONDS)


def _customer_words(row: dict[str, Any]) -> str:
    return " ".join(part for part in (row.get("transcript"), row.get("text")) if part)


def _waiting_message(tenant: str, conversation_id: str, row: dict[str, Any]) -> InboundMessage:
    """A waiting message as the webhook normalized it (its channel details were kept while it waited)."""
    metadata = row.get("metadata") if isinstance(row.get("metadata"), dict) else {}
    return InboundMessage(
        tenant_id=tenant,
        channel=row["channel"],
        conversation_id=conversation_id,
        sender_id=row["sender_id"] or "",
        sender_role="customer",
        text=row["text"] or "",
        media_kind=row["media_kind"],
        platform_message_id=row["platform_message_id"],
        timestamp=row["platform_timestamp"] or _utcnow(),
        metadata={str(key): str(value) for key, value in (metadata or {}).items()},
    )


def _as_chat_message(row: dict[str, Any]) -> ChatMessage | None:
    text = _history_text(row)
    if not text:
        return None
    if row["direction"] == "inbound" and row["actor"] == "customer":
        return ChatMessage("user", for_prompt(text, CUSTOMER_TEXT_CHARS))
    if row["direction"] == "inbound" and row["actor"] == "bot":
        return None  # an echo of our own reply, already present as the outbound row
    # Our replies and what the business side wrote (agents, the comment bot, the Page).
    return ChatMessage("assistant", for_prompt(text, MODEL_MESSAGE_CHARS))


def _history_text(row: dict[str, Any]) -> str:
    """What the model reads of a message: a voice note's transcript, a photo's description before
    its caption, a bracketed kind for anything else without text."""
    text = row["text"] or ""
    if row.get("transcript"):
        return f"[voice note] {row['transcript']}" + (f"\n{text}" if text else "")
    if row.get("media_description"):
        return f"[photo] {row['media_description']}" + (f"\n{text}" if text else "")
    if row["media_kind"] != "text":
        kind = {"audio": "voice note", "image": "photo"}.get(row["media_kind"], row["media_kind"])
        return f"[{kind}] {text}".strip()
    return text


def reply_service_from_settings(
    settings: Settings,
    conn: Connection,
    *,
    tenant: TenantProfile | None = None,
    chat_models: Callable[[], Sequence[ChatModel]] | None = None,
    search_settings: Settings | None = None,
) -> ReplyService:
    """Production wiring: the catalog search on `conn`, the configured LLMs and channel senders,
    the channels' media downloads, and the burst timer on the reply queue.

    `settings` are the ones the tenant runs with (tenancy.profile.tenant_settings: its channel tokens,
    which also download its customers' media, and its LLM keys, which also transcribe and describe
    them); `search_settings` the deployment's, whose embedding model the catalog was embedded with
    (default: `settings`)."""
    from mostrador.channels.media import ChannelMedia
    from mostrador.channels.registry import sender_for
    from mostrador.conversations.reply_queue import QueueReplyScheduler
    from mostrador.conversations.toolbox import DatabaseCatalog, DatabaseKnowledge
    from mostrador.llm.providers import chat_models_for, embedder_for, image_describers_for, transcribers_for

    support_board: SupportBoardClient | None = None
    if settings.support_board_api_url:
        from mostrador.channels.support_board import SupportBoardClient

        support_board = SupportBoardClient.from_settings(settings)
    history: ConversationHistory | None = support_board
    senders: dict[Channel, ChannelSender] = {}

    def cached_sender(channel: Channel) -> ChannelSender:
        # One sender (and its HTTP connection pool) per channel for the life of the environment.
        if channel not in senders:
            senders[channel] = sender_for(channel, settings)
        return senders[channel]

    embedding_settings = search_settings or settings
    scheduler = QueueReplyScheduler(settings.reply_queue_url) if settings.reply_queue_url else None
    if settings.reply_burst_window_seconds and scheduler is None:
        logger.warning("REPLY_QUEUE_URL is not set: the burst window is off and every message is answered at once")
    return ReplyService(
        conn=conn,
        policy=TakeoverPolicy.from_settings(settings),
        chat_models=chat_models or (lambda: chat_models_for(settings)),
        catalog=DatabaseCatalog(conn, lambda: embedder_for(embedding_settings)),
        knowledge=DatabaseKnowledge(conn, lambda: embedder_for(embedding_settings)),
        sender_for=cached_sender,
        history=history,
        tenant=tenant,
        notify_escalation=_escalation_notifier(tenant, settings, support_board),
        media=MediaReader(
            ChannelMedia.from_settings(settings),
            transcribers=lambda: transcribers_for(settings),
            describers=lambda: image_describers_for(settings),
            max_voice_seconds=settings.voice_note_max_seconds,
            max_bytes=settings.media_max_bytes,
        ),
        burst_window_seconds=settings.reply_burst_window_seconds,
        scheduler=scheduler,
        offline_chat=settings.llm_provider == "offline",
    )


def _escalation_notifier(
    tenant: TenantProfile | None, settings: Settings, support_board: SupportBoardClient | None
) -> Callable[[EscalationNotice], object] | None:
    """The tenant's escalation recipients (docs/tenants.md): its webhook, its Support Board agents (through
    its own Support Board installation), its e-mail (when the deployment sends mail)."""
    if tenant is None:
        return None
    from mostrador.conversations import escalation_notice as notices

    recipients: list[notices.EscalationRecipient] = []
    if tenant.escalation_webhook_url:
        recipients.append(notices.WebhookEscalationNotifier(tenant.escalation_webhook_url))
    if tenant.escalation_agent_ids and support_board is not None:
        recipients.append(notices.SupportBoardAssignment(support_board, tenant.escalation_agent_ids))
    if tenant.escalation_email:
        from mostrador.mail import escalation_mail, mailer_from_settings

        mailer = mailer_from_settings(settings)
        if mailer is not None:

            def compose(notice: EscalationNotice, to: str) -> Mail:
                return escalation_mail(
                    notice,
                    to,
                    store=tenant.display_name,
                    time_zone=tenant.time_zone,
                    language=tenant.default_language,
                )

            recipients.append(notices.EmailEscalationNotifier(mailer, tenant.escalation_email, compose))
    return notices.EscalationRecipients(recipients) if recipients else None


def _inbound_log(message: InboundMessage, decision: Classification, recorded: RecordedInbound) -> dict[str, Any]:
    """The log fields of an inbound message: its conversation redacted, never the customer's number."""
    return {
        "conversation": redact(message.conversation_id),
        "channel": message.channel,
        "actor": decision.actor,
        "message_id": recorded.id,
    }
