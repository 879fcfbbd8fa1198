"""Telling a tenant's people that a conversation was escalated: a JSON POST to the tenant's escalation
webhook (escalationWebhookUrl), naming its Support Board agents and e-mail for whatever the receiver does
with them (assign the conversation, send a mail). Best effort: one try with a short timeout, a failure is
logged and counted (EscalationNoticesFailed), never retried and never in the way of the customer's reply;
the escalation itself is always in the admin API and the console."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

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


class WebhookEscalationNotifier:
    """POSTs each new escalation to one URL (the tenant's)."""

    def __init__(self, url: str, http: httpx.Client | None = None) -> None:
        self._url = url
        self._http = http

    def __call__(self, notice: EscalationNotice) -> bool:
        import httpx

        from mostrador.observability import logger, metrics

        if self._http is None:
            self._http = httpx.Client(timeout=httpx.Timeout(TIMEOUT_SECONDS, connect=TIMEOUT_SECONDS))
        try:
            response = self._http.post(self._url, json=notice.as_json())
            delivered = response.status_code < 300
        except httpx.HTTPError:
            delivered = False
        if not delivered:
            logger.warning("escalation notice not delivered", extra={"tenant": notice.tenant_id})
            metrics.add_metric(name="EscalationNoticesFailed", unit="Count", value=1)
        return delivered
