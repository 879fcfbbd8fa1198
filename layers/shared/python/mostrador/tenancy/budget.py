"""A tenant's monthly token budget: a soft limit, checked before each reply is generated.

Every LLM token the tenant caused this calendar month (in its time zone) counts: replies, product
summaries and embeddings. Past the budget the reply in progress finishes, and the next ones either use
a cheaper model (`over_budget = "cheaper_model"`: the tenant's `budget_model`, else the deployment's
chat model for its provider) or are not generated at all: the customer is handed to a person
(`"escalate"`). Catalog enrichment never stops for the budget: an unsearchable catalog would cost the
tenant more than its summaries. Analytics show the month's use against the budget (docs/tenants.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mostrador.tenancy.profile import TenantProfile, zone

if TYPE_CHECKING:
    from mostrador.db.connection import Connection


class TokenBudgetSpent(Exception):
    """The tenant is past its budget and chose to escalate instead of answering with a cheaper model."""


@dataclass(frozen=True)
class BudgetStatus:
    monthly_tokens: int | None
    used_tokens: int
    month_start: datetime
    over_budget: str

    @property
    def exceeded(self) -> bool:
        return self.monthly_tokens is not None and self.used_tokens >= self.monthly_tokens

    def as_json(self) -> dict[str, Any]:
        return {
            "monthlyTokenBudget": self.monthly_tokens,
            "usedTokens": self.used_tokens,
            "monthStart": self.month_start.isoformat(),
            "exceeded": self.exceeded,
            "overBudget": self.over_budget,
            "remainingTokens": None if self.monthly_tokens is None else max(0, self.monthly_tokens - self.used_tokens),
        }


def month_start(now: datetime, time_zone: str) -> datetime:
    """The first instant of `now`'s calendar month in the tenant's time zone (as UTC)."""
    local = now.astimezone(zone(time_zone))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def budget_status(conn: Connection, profile: TenantProfile, now: datetime) -> BudgetStatus:
    from mostrador.db.tenant_repository import tokens_used_since

    start = month_start(now, profile.time_zone)
    used = tokens_used_since(conn, profile.tenant_id, start)
    return BudgetStatus(profile.monthly_token_budget, used, start, profile.over_budget)
