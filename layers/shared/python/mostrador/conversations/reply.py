"""The reply use case: one queue item in, at most one reply out.

For an inbound message: record it once (a redelivery stops here), apply the actor rules (ignore,
log, pause or reply), check the explicit pause, the implicit takeover and the 24-hour window, then
either escalate (the customer asked for a person) or run the model with the catalog tools, and
send. The generated reply is stored before it is sent, so a transient send failure is retried by
the queue with the same text and a second reply is never generated for the same message. On the
queue's last attempt a transient failure is recorded as final (`failed`) instead of leaving the
reply `pending` in the dead-letter queue. An unsend (MessageDeletion) removes the message's text,
or leaves a tombstone for a message not received yet; it is never answered.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from mostrador.channels.base import ChannelSender, OutboundMessage, PermanentSendError, TransientSendError
from mostrador.channels.messenger import watermark_time
from mostrador.conversations.actors import ConversationHistory, TakeoverPolicy
from mostrador.conversations.customer_numbers import in_customers_conversation
from mostrador.conversations.escalation import (
    EMPTY_SEARCH_LIMIT,
    asks_for_human,
    handoff_message,
    promises_handoff,
    with_handoff,
)
from mostrador.conversations.escalation_notice import EscalationNotice
from mostrador.conversations.language import conversation_language, language_name, localized
from mostrador.conversations.toolbox import Catalog, KnowledgeBase, ReplyToolbox, ToolOutcome
from mostrador.conversations.window import window_applies, window_open
from mostrador.db import conversation_repository as repo
from mostrador.llm.base import ChatMessage, ChatModel, ProviderError, ToolCall, ToolSpec, Usage
from mostrador.llm.tools import REPLY_TOOLS, SEARCH_KNOWLEDGE, SEARCH_LOCAL_PRODUCTS
from mostrador.messaging.model import Channel, InboundMessage, MessageDeletion, StatusUpdate
from mostrador.observability import logger, metrics, redact
from mostrador.tenancy.budget import TokenBudgetSpent
from mostrador.tenancy.profile import TenantProfile

if TYPE_CHECKING:
    from mostrador.config import Settings
    from mostrador.db.connection import Connection

MAX_TOOL_ROUNDS = 4
HISTORY_MESSAGES = 20
# The most of one message the model is shown. Chat turns are far shorter; an oversized event keeps
# up to one queue message (~256 KB) in the record, which on every reply while it stays in the history
# would cost tens of thousands of tokens, and two of them overflow a 128K-token context.
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
    # replied, skipped, duplicate, failed, status
    action: str
    reason: str
    message_id: int | None = None
    reply_id: int | None = None


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

    def handle(
        self,
        item: InboundMessage | StatusUpdate | MessageDeletion,
        conversation_id: str | None = None,
        *,
        final_attempt: bool = False,
    ) -> ReplyOutcome:
        """`final_attempt`: the queue dead-letters this item if it fails now (its last receive)."""
        if isinstance(item, MessageDeletion):
            return self._forget(item)
        if isinstance(item, StatusUpdate):
            watermark = watermark_time(item.platform_message_id)
            if watermark is not None and conversation_id:
                moved = repo.apply_watermark(self.conn, item.tenant_id, conversation_id, item.status, watermark)
                return ReplyOutcome("status", f"{item.status}:{moved}")
            known = repo.apply_status(self.conn, item)
            if not known:
                logger.info("status for an unknown message", extra={"channel": item.channel, "status": item.status})
            return ReplyOutcome("status", item.status if known else "unknown_message")
        try:
            return self._handle_inbound(item)
        except TransientSendError as error:
            if not final_attempt:
                raise
            return self._give_up(item, error)

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

    def _give_up(self, message: InboundMessage, error: TransientSendError) -> ReplyOutcome:
        """The last attempt failed transiently too: record the failure as final (no retry will come)."""
        inbound_id = repo.inbound_id(self.conn, message.tenant_id, message.platform_message_id)
        if inbound_id is None:
            raise error  # nothing recorded to mark: the dead-letter queue keeps the message
        draft = repo.pending_reply(self.conn, inbound_id)
        reason = f"send_failed:{error.code}" if draft is not None else f"retries_exhausted:{error.code}"
        with self.conn.transaction():
            if draft is not None and draft["status"] == "pending":
                title = f"retries exhausted after {draft.get('pieces_sent') or 0} piece(s) sent: {error}"
                repo.mark_reply_failed(self.conn, draft["id"], error.code, title)
            repo.mark_inbound(self.conn, inbound_id, "failed", reason)
        metrics.add_metric(name="PermanentSendFailures", unit="Count", value=1)
        logger.error(
            "retries exhausted: reply recorded as failed",
            extra={"conversation": redact(message.conversation_id), "channel": message.channel, "code": error.code},
        )
        return ReplyOutcome("failed", reason, inbound_id, draft["id"] if draft is not None else None)

    # -- inbound ---------------------------------------------------------------------------------

    def _handle_inbound(self, message: InboundMessage) -> ReplyOutcome:
        started = time.monotonic()
        now = self.clock()
        message = in_customers_conversation(self.conn, message, now)  # one customer, several number forms
        sent_by_us = False
        if message.channel in ("messenger", "instagram", "whatsapp") and TakeoverPolicy.is_echo(message):
            sent_by_us = repo.is_own_outbound(self.conn, message.tenant_id, message.platform_message_id)
        decision = self.policy.classify(message, sent_by_us=sent_by_us)
        recorded = repo.record_inbound(self.conn, message, decision.actor)
        log = {
            "conversation": redact(message.conversation_id),
            "channel": message.channel,
            "actor": decision.actor,
            "message_id": recorded.id,
        }
        if not recorded.created and (recorded.is_own_outbound or recorded.state != "received"):
            logger.info("duplicate delivery ignored", extra=log)
            return ReplyOutcome("duplicate", recorded.state or "own_message", recorded.id)
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
            repo.mark_inbound(self.conn, recorded.id, "skipped", decision.reason)
            logger.info("inbound logged without reply", extra={**log, "reason": decision.reason})
            return ReplyOutcome("skipped", decision.reason, recorded.id)
        return self._reply_to_customer(message, recorded.id, started, now, log)

    def _fail(self, message_id: int, reason: str, log: dict[str, Any]) -> ReplyOutcome:
        # The reason carries the error's code only: platform answers may echo customer details.
        repo.mark_inbound(self.conn, message_id, "failed", reason)
        metrics.add_metric(name="PermanentSendFailures", unit="Count", value=1)
        logger.error("no reply possible", extra={**log, "reason": reason})
        return ReplyOutcome("failed", reason, message_id)

    def _skip(self, message_id: int, reason: str, log: dict[str, Any]) -> ReplyOutcome:
        repo.mark_inbound(self.conn, message_id, "skipped", reason)
        logger.info("no reply", extra={**log, "reason": reason})
        return ReplyOutcome("skipped", reason, message_id)

    def _reply_to_customer(
        self, message: InboundMessage, inbound_id: int, started: float, now: datetime, log: dict[str, Any]
    ) -> ReplyOutcome:
        tenant, conversation_id = message.tenant_id, message.conversation_id
        # The language is pinned on the conversation: its first message sets it when it names one, later
        # only a clear message switches it ("ok", a code, an emoji or a brand and model never does;
        # language.py). The catalog's brands are read only when the message would change the language.
        known = repo.get_conversation(self.conn, tenant, conversation_id)
        pinned = bool(known and known["last_customer_message_at"])
        language = conversation_language(
            message.text,
            known["language"] if known and pinned else self._default_language(known),
            pinned=pinned,
            catalog_brands=lambda: self.catalog.brands(tenant),
        )
        conversation = repo.note_customer_message(
            self.conn, tenant, conversation_id, message.sender_id, message.timestamp, language
        )
        repo.set_message_language(self.conn, inbound_id, language)

        draft = repo.pending_reply(self.conn, inbound_id)
        if draft is not None:  # a retry: the reply exists already, only its delivery is left
            return self._deliver(message, inbound_id, draft, started, log)

        if repo.active_pause(self.conn, tenant, conversation_id, now):
            return self._skip(inbound_id, "paused", log)
        if message.channel == "support_board" and self.history is not None:
            customer_id = message.metadata.get("sb_conversation_user_id") or message.sender_id
            try:
                entries = self.history.recent_messages(_support_board_conversation_id(message))
            except PermanentSendError as error:  # e.g. Support Board: conversation-not-found
                return self._fail(inbound_id, f"history_failed:{error.code}", log)
            since = now - timedelta(minutes=self.policy.pause_minutes)
            if conversation.get("bot_resumed_at") is not None:
                since = max(since, conversation["bot_resumed_at"])
            if self.policy.human_took_over(entries, customer_id, since=since) is not None:
                return self._skip(inbound_id, "human_takeover", log)
        if window_applies(message.channel, message.metadata) and not window_open(
            conversation["last_customer_message_at"], now
        ):
            return self._skip(inbound_id, "outside_window", log)

        escalated = False
        handoff: tuple[str, str] | None = None  # (reason, source) of an escalation instead of a model answer
        if asks_for_human(message.text):
            handoff = ("the customer asked for a person", "customer_request")
        else:
            toolbox = ReplyToolbox(
                self.catalog,
                tenant,
                lambda reason: self._open_escalation(message, inbound_id, reason, "tool"),
                self.knowledge,
            )
            try:
                result = self._generate(message, inbound_id, language, toolbox)
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
            if escalated:
                text = with_handoff(text, language, self._after_hours_message(now))
            reply = repo.ReplyDraft(text, language, result.provider, result.model, result.tokens_in, result.tokens_out)

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
        return self._deliver(message, inbound_id, draft, started, {**log, "escalated": escalated})

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
                )
            )
        return escalation_id

    def _generate(self, message: InboundMessage, inbound_id: int, language: str, toolbox: ReplyToolbox) -> LoopResult:
        tenant, conversation_id = message.tenant_id, message.conversation_id
        # A retry after every model failed starts over: the earlier attempt's tool calls led to no reply
        # and must not count twice (they feed the "searches keep finding nothing" escalation).
        repo.forget_tool_calls(self.conn, inbound_id)
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

        return run_tool_loop(
            self.chat_models(),
            messages,
            REPLY_TOOLS,
            run_tool,
            language=language,
            max_rounds=self.max_tool_rounds,
            on_usage=on_usage,
        )

    # -- sending ---------------------------------------------------------------------------------

    def _deliver(
        self, message: InboundMessage, inbound_id: int, draft: dict[str, Any], started: float, log: dict[str, Any]
    ) -> ReplyOutcome:
        if draft["status"] in ("sent", "delivered", "read"):  # sent before a crash; only the mark was lost
            repo.mark_inbound(self.conn, inbound_id, "replied")
            return ReplyOutcome("replied", "already_sent", inbound_id, draft["id"])
        if draft["status"] == "failed":
            repo.mark_inbound(self.conn, inbound_id, "failed", f"send_failed:{draft['error_code']}")
            return ReplyOutcome("failed", "send_failed", inbound_id, draft["id"])
        outbound = OutboundMessage(
            tenant_id=message.tenant_id,
            channel=message.channel,
            conversation_id=message.conversation_id,
            recipient_id=message.sender_id,
            text=draft["text"],
            reply_to_message_id=message.platform_message_id,
            metadata=dict(message.metadata),
        )
        sender = self.sender_for(message.channel)
        pieces = sender.pieces(outbound)
        sent_ids: list[str] = list(draft.get("platform_message_ids") or [])
        # One piece at a time, progress kept: a retry resumes at the piece that failed.
        for index in range(draft.get("pieces_sent") or 0, len(pieces)):
            piece = replace(
                outbound, text=pieces[index], reply_to_message_id=outbound.reply_to_message_id if index == 0 else None
            )
            try:
                sent_ids.extend(sender.send(piece).platform_message_ids)
            except TransientSendError as error:
                # Left pending: the queue redelivers this item and the rest of the reply is sent then.
                logger.warning("send failed, will retry", extra={**log, "code": error.code, "piece": index})
                raise
            except PermanentSendError as error:
                latency_ms = int((time.monotonic() - started) * 1000)
                with self.conn.transaction():
                    repo.mark_reply_failed(self.conn, draft["id"], error.code, str(error), latency_ms)
                    repo.mark_inbound(self.conn, inbound_id, "failed", f"send_failed:{error.code}")
                metrics.add_metric(name="PermanentSendFailures", unit="Count", value=1)
                logger.error("send failed permanently", extra={**log, "code": error.code})
                return ReplyOutcome("failed", f"send_failed:{error.code}", inbound_id, draft["id"])
            if index < len(pieces) - 1:
                repo.record_pieces_sent(self.conn, draft["id"], index + 1, sent_ids)
        latency_ms = int((time.monotonic() - started) * 1000)
        with self.conn.transaction():
            repo.mark_reply_sent(self.conn, draft["id"], sent_ids, latency_ms)
            repo.mark_inbound(self.conn, inbound_id, "replied")
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


def _as_chat_message(row: dict[str, Any]) -> ChatMessage | None:
    text = row["text"] or (f"[{row['media_kind']}]" if row["media_kind"] != "text" else "")
    if not text:
        return None
    if len(text) > MODEL_MESSAGE_CHARS:
        text = f"{text[:MODEL_MESSAGE_CHARS]}\n\n[… {len(text) - MODEL_MESSAGE_CHARS} more characters not shown]"
    if row["direction"] == "inbound" and row["actor"] == "customer":
        return ChatMessage("user", text)
    if row["direction"] == "inbound" and row["actor"] == "bot":
        return None  # an echo of our own reply, already present as the outbound row
    # Our replies and what the business side wrote (agents, the comment bot, the Page).
    return ChatMessage("assistant", text)


def reply_service_from_settings(
    settings: Settings,
    conn: Connection,
    *,
    tenant: TenantProfile | None = None,
    chat_models: Callable[[], Sequence[ChatModel]] | None = None,
    search_settings: Settings | None = None,
) -> ReplyService:
    """Production wiring: the catalog search on `conn`, the configured LLMs and channel senders.

    `settings` are the ones the tenant runs with (tenancy.profile.tenant_settings); `search_settings`
    the deployment's, whose embedding model the catalog was embedded with (default: `settings`)."""
    from mostrador.channels.registry import sender_for
    from mostrador.conversations.toolbox import DatabaseCatalog, DatabaseKnowledge
    from mostrador.llm.providers import chat_models_for, embedder_for

    history: ConversationHistory | None = None
    if settings.support_board_api_url:
        from mostrador.channels.support_board import SupportBoardClient

        history = SupportBoardClient.from_settings(settings)
    senders: dict[Channel, ChannelSender] = {}

    def cached_sender(channel: Channel) -> ChannelSender:
        # One sender (and its HTTP connection pool) per channel for the life of the environment.
        if channel not in senders:
            senders[channel] = sender_for(channel, settings)
        return senders[channel]

    embedding_settings = search_settings or settings
    return ReplyService(
        conn=conn,
        policy=TakeoverPolicy.from_settings(settings),
        chat_models=chat_models or (lambda: chat_models_for(settings)),
        catalog=DatabaseCatalog(conn, lambda: embedder_for(embedding_settings)),
        knowledge=DatabaseKnowledge(conn, lambda: embedder_for(embedding_settings)),
        sender_for=cached_sender,
        history=history,
        tenant=tenant,
        notify_escalation=_escalation_notifier(tenant),
    )


def _escalation_notifier(tenant: TenantProfile | None) -> Callable[[EscalationNotice], object] | None:
    if tenant is None or not tenant.escalation_webhook_url:
        return None
    from mostrador.conversations.escalation_notice import WebhookEscalationNotifier

    return WebhookEscalationNotifier(tenant.escalation_webhook_url)
