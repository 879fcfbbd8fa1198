"""One ReplyService per tenant in a reply execution environment.

Each queue item names its tenant. The tenant's row is read for every item (one primary-key lookup, so a
changed setting applies to the next message); its secret comes from the tenant secret store (cached
there). The service, with its LLM clients and HTTP pools, is rebuilt only when either changed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from mostrador.conversations.reply import ReplyService, reply_service_from_settings
from mostrador.llm.base import ChatModel
from mostrador.observability import logger, metrics
from mostrador.tenancy.budget import TokenBudgetSpent, budget_status
from mostrador.tenancy.profile import TenantProfile, tenant_settings
from mostrador.tenancy.runtime import fingerprint, load_profile
from mostrador.tenancy.secrets import TenantSecretStore

if TYPE_CHECKING:
    from mostrador.config import Settings
    from mostrador.db.connection import Connection


@dataclass
class _Built:
    digest: str
    service: ReplyService


class TenantReplyServices:
    def __init__(
        self,
        base: Settings,
        conn: Connection,
        secrets: TenantSecretStore,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.base = base
        self.conn = conn
        self._secrets = secrets
        self._clock = clock
        self._built: dict[str, _Built] = {}

    def for_tenant(self, tenant_id: str) -> ReplyService:
        profile = load_profile(self.conn, tenant_id)
        secrets = self._secrets.read(tenant_id)
        digest = fingerprint(profile, secrets)
        built = self._built.get(tenant_id)
        if built is None or built.digest != digest:
            built = _Built(digest, self._build(profile, secrets))
            self._built[tenant_id] = built
        return built.service

    def _build(self, profile: TenantProfile, secrets: dict[str, str]) -> ReplyService:
        from mostrador.llm.providers import chat_models_for

        settings = tenant_settings(self.base, profile, secrets)
        cheaper = tenant_settings(self.base, profile, secrets, over_budget=True)
        conn, clock = self.conn, self._clock

        def chat_models() -> Sequence[ChatModel]:
            # Checked when a reply is about to be generated: a message that gets none costs no query.
            if profile.monthly_token_budget is not None:
                status = budget_status(conn, profile, clock())
                if status.exceeded:
                    metrics.add_metric(name="TokenBudgetExceeded", unit="Count", value=1)
                    logger.warning(
                        "tenant past its monthly token budget",
                        extra={"tenant": profile.tenant_id, "used": status.used_tokens, "then": profile.over_budget},
                    )
                    if profile.over_budget == "escalate":
                        raise TokenBudgetSpent(profile.tenant_id)
                    return chat_models_for(cheaper)
            return chat_models_for(settings)

        return reply_service_from_settings(
            settings, self.conn, tenant=profile, chat_models=chat_models, search_settings=self.base
        )
