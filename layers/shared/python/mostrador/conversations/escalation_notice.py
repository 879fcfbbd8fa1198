"""Telling a tenant's people that a conversation was escalated, through the recipients it set
(docs/tenants.md, "Hours, language, prompt, escalations"):

- `escalationWebhookUrl`: the notice POSTed as JSON (WebhookEscalationNotifier);
- `escalationAgentIds`: a Support Board conversation assigned to one of those agents through Support
  Board's own Web API (`update-conversation-agent`), which also notifies the agent (SupportBoardAssignment);
- `escalationEmail`: an e-mail (EmailEscalationNotifier: SES on AWS, a folder of .eml files locally).

Best effort, all of them: one try with a short timeout; a failure is logged (tenant, recipient, escalation
id, error type: never the conversation id, which holds the customer's phone number or PSID) and counted
(EscalationNoticesFailed), never retried and never in the way of the customer's reply. The escalation
itself is always in the admin API and the console."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import httpx

    from mostrador.mail import Mail, Mailer

TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class EscalationNotice:
    tenant_id: str
    escalation_id: int
    conversation_id: str
    channel: str
    reason: str
    source: str
    opened_at: datetime
    agent_ids: tuple[str, ...] = ()
    email: str | None = None
    # Support Board's own id of the conversation (channel support_board only).
    support_board_conversation_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "event": "escalation.opened",
            "tenantId": self.tenant_id,
            "escalationId": self.escalation_id,
            "conversationId": self.conversation_id,
            "channel": self.channel,
            "reason": self.reason,
            "source": self.source,
            "openedAt": self.opened_at.isoformat(),
            "supportBoardAgentIds": list(self.agent_ids),
            "email": self.email,
        }


class EscalationRecipient(Protocol):
    """One way of telling people. Returns False (or raises) when the notice did not get through."""

    kind: str

    def __call__(self, notice: EscalationNotice) -> bool: ...


class EscalationRecipients:
    """Every recipient the tenant set, each tried once; one failing never stops the others or the reply."""

    def __init__(self, recipients: Sequence[EscalationRecipient]) -> None:
        self.recipients = tuple(recipients)

    def __call__(self, notice: EscalationNotice) -> dict[str, bool]:
        from mostrador.observability import logger, metrics

        delivered: dict[str, bool] = {}
        for recipient in self.recipients:
            error = ""
            try:
                delivered[recipient.kind] = bool(recipient(notice))
            except Exception as exc:  # noqa: BLE001 - a notice must never cost the customer the reply
                delivered[recipient.kind] = False
                error = getattr(exc, "code", None) or type(exc).__name__
            if not delivered[recipient.kind]:
                logger.warning(
                    "escalation notice not delivered",
                    extra={
                        "tenant": notice.tenant_id,
                        "recipient": recipient.kind,
                        "escalation_id": notice.escalation_id,
                        **({"error": error} if error else {}),
                    },
                )
                metrics.add_metric(name="EscalationNoticesFailed", unit="Count", value=1)
        return delivered


class WebhookEscalationNotifier:
    """POSTs each new escalation to one URL (the tenant's)."""

    kind = "webhook"

    def __init__(self, url: str, http: httpx.Client | None = None) -> None:
        self._url = url
        self._http = http

    def __call__(self, notice: EscalationNotice) -> bool:
        import httpx

        if self._http is None:
            self._http = httpx.Client(timeout=httpx.Timeout(TIMEOUT_SECONDS, connect=TIMEOUT_SECONDS))
        try:
            response = self._http.post(self._url, json=notice.as_json())
        except httpx.HTTPError:
            return False
        return response.status_code < 300


class SupportBoardApi(Protocol):
    """Support Board's Web API (channels.support_board.SupportBoardClient)."""

    def call(self, function: str, **arguments: str) -> Any: ...


class SupportBoardAssignment:
    """Assigns an escalated Support Board conversation to one of the tenant's escalation agents with Support
    Board's documented `update-conversation-agent` (conversation_id, agent_id, and a `message` that makes
    Support Board notify that agent by e-mail, push and SMS as its settings say). One agent per conversation
    (Support Board assigns one): the escalation id picks it in turn, which spreads escalations over the list
    without keeping any state. Conversations of other channels are not in Support Board: nothing to do."""

    kind = "support_board"

    def __init__(self, api: SupportBoardApi, agent_ids: Sequence[str]) -> None:
        self._api = api
        self._agent_ids = tuple(agent_ids)

    def agent_for(self, escalation_id: int) -> str:
        return self._agent_ids[escalation_id % len(self._agent_ids)]

    def __call__(self, notice: EscalationNotice) -> bool:
        if notice.channel != "support_board" or not notice.support_board_conversation_id or not self._agent_ids:
            return True
        self._api.call(
            "update-conversation-agent",
            conversation_id=notice.support_board_conversation_id,
            agent_id=self.agent_for(notice.escalation_id),
            message=f"Mostrador escalation #{notice.escalation_id}: {notice.reason}"[:500],
        )
        return True


class EmailEscalationNotifier:
    """An e-mail to the tenant's escalationEmail (mail.escalation_mail is its text)."""

    kind = "email"

    def __init__(self, mailer: Mailer, to: str, compose: Callable[[EscalationNotice, str], Mail]) -> None:
        self._mailer = mailer
        self._to = to
        self._compose = compose

    def __call__(self, notice: EscalationNotice) -> bool:
        self._mailer.send(self._compose(notice, self._to))
        return True
