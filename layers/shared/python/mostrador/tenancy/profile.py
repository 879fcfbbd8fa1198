"""A tenant's settings as the reply side uses them, and the Settings one tenant runs with.

The deployment's Settings (environment, app secret) are the base. A tenant overrides what is its own:
its Support Board installation, its takeover pause, its LLM provider and model, and, from its secret,
its channel tokens and its own LLM keys. Channel tokens never fall back to the deployment's for
another tenant than the deployment's default one (TENANT_ID): a tenant without its own WhatsApp token
cannot send with somebody else's. LLM keys do fall back: a tenant that brings none uses the
deployment's account. Embeddings are always the deployment's (one vector space per deployment).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, time
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator

from mostrador.config import ProviderName, Settings

OverBudget = Literal["cheaper_model", "escalate"]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_INTERVAL = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]|24):([0-5]\d)$")
TENANT_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"


def parse_interval(text: str) -> tuple[time, time | None]:
    """ "09:00-18:00" → (09:00, 18:00); an end of "24:00" is None (until midnight). ValueError if malformed."""
    found = _INTERVAL.match(text.strip())
    if not found:
        raise ValueError(f"{text!r} is not an interval like 09:00-18:00")
    start = time(int(found[1]), int(found[2]))
    end = None if found[3] == "24" else time(int(found[3]), int(found[4]))
    if found[3] == "24" and found[4] != "00":
        raise ValueError(f"{text!r}: the latest end is 24:00")
    if end is not None and end <= start:
        raise ValueError(f"{text!r} ends before it starts (split a night shift into two days)")
    return start, end


def check_business_hours(value: Mapping[str, Any]) -> dict[str, list[str]]:
    """{"mon": ["09:00-13:00", "15:00-19:00"], ...}; days left out are closed, {} means always open."""
    hours: dict[str, list[str]] = {}
    for day, intervals in value.items():
        if day not in WEEKDAYS:
            raise ValueError(f"business hours: {day!r} is not one of {', '.join(WEEKDAYS)}")
        if not isinstance(intervals, list) or not all(isinstance(i, str) for i in intervals):
            raise ValueError(f'business hours: {day} must be a list of intervals like "09:00-18:00"')
        for interval in intervals:
            parse_interval(interval)
        hours[day] = [i.strip() for i in intervals]
    return hours


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The time zone; ValueError naming it when the tz database does not know it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as America/Caracas)") from exc


class TenantProfile(BaseModel):
    """One row of `tenants` (db/tenant_repository.py), or the deployment's defaults for a tenant without one."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    display_name: str
    active: bool = True
    time_zone: str = "UTC"
    default_language: str = "es"
    currency: str = "USD"
    system_prompt: str | None = None
    business_hours: dict[str, list[str]] = {}
    after_hours_message: str | None = None
    escalation_agent_ids: tuple[str, ...] = ()
    escalation_email: str | None = None
    escalation_webhook_url: str | None = None
    takeover_pause_minutes: int | None = None
    llm_provider: ProviderName | None = None
    chat_model: str | None = None
    monthly_token_budget: int | None = None
    over_budget: OverBudget = "cheaper_model"
    budget_model: str | None = None
    support_board_api_url: str | None = None
    support_board_dm_bot_user_id: str | None = None
    support_board_agent_ids: tuple[str, ...] = ()
    comment_bot_proxy_user_id: str | None = None
    comment_bot_initiation_tag: str | None = None
    claims_unrouted: bool = False
    updated_at: datetime | None = None
    # The WhatsApp phone_number_ids the tenant claims (tenant_channels), when read for replies.
    whatsapp_numbers: tuple[str, ...] = ()

    @field_validator("escalation_agent_ids", "support_board_agent_ids", "whatsapp_numbers", mode="before")
    @classmethod
    def _tuple(cls, value: object) -> object:
        return tuple(value) if isinstance(value, list) else value

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> TenantProfile:
        return cls.model_validate({key: value for key, value in row.items() if key in cls.model_fields})

    @classmethod
    def deployment_default(cls, tenant_id: str) -> TenantProfile:
        """A tenant with no row yet (a database from before tenants, a test): the deployment's defaults."""
        return cls(tenant_id=tenant_id, display_name=tenant_id)

    def is_open(self, now: datetime) -> bool:
        """Within business hours at `now` (an aware time); always, when no hours are set."""
        if not self.business_hours:
            return True
        local = now.astimezone(zone(self.time_zone))
        today = self.business_hours.get(WEEKDAYS[local.weekday()], [])
        clock = local.time().replace(tzinfo=None)
        for interval in today:
            start, end = parse_interval(interval)
            if start <= clock and (end is None or clock < end):
                return True
        return False

    def local_time(self, now: datetime) -> datetime:
        return now.astimezone(zone(self.time_zone))


# Secret names a tenant's own secret may hold (tenancy/secrets.py); the rest of the app secret is the
# deployment's alone (Meta's app secret and verify token, the admin token, the database).
CHANNEL_SECRETS = ("WHATSAPP_TOKEN", "MESSENGER_PAGE_TOKEN", "SUPPORT_BOARD_API_TOKEN")
LLM_SECRETS = ("OPENAI_API_KEY", "GEMINI_API_KEY")
TENANT_SECRET_NAMES = CHANNEL_SECRETS + LLM_SECRETS


def tenant_settings(
    base: Settings, profile: TenantProfile, secrets: Mapping[str, str], *, over_budget: bool = False
) -> Settings:
    """The Settings `profile`'s tenant runs with (see the module docstring for what falls back)."""
    is_default = profile.tenant_id == base.tenant_id
    provider = profile.llm_provider or base.llm_provider
    update: dict[str, Any] = {"tenant_id": profile.tenant_id, "llm_provider": provider}

    model = profile.chat_model
    if over_budget:
        # Past the budget: the tenant's cheaper model, else the deployment's own choice for the provider.
        model = profile.budget_model or getattr(base, f"{provider}_chat_model", None)
    if model and provider in ("openai", "gemini"):
        update[f"{provider}_chat_model"] = model

    for name in TENANT_SECRET_NAMES:
        field = name.lower()
        if secrets.get(name):
            update[field] = SecretStr(secrets[name])
        elif name in CHANNEL_SECRETS and not is_default:
            update[field] = None

    def own(field: str, empty: Any = None) -> Any:
        # The tenant's value; else the deployment's for its default tenant, nothing for the others.
        value = getattr(profile, field)
        if value not in (None, ()):
            return value
        return getattr(base, field) if is_default else empty

    for field in (
        "support_board_api_url",
        "support_board_dm_bot_user_id",
        "comment_bot_proxy_user_id",
        "comment_bot_initiation_tag",
    ):
        update[field] = own(field)
    update["support_board_agent_ids"] = frozenset(own("support_board_agent_ids", frozenset()))
    numbers = profile.whatsapp_numbers
    # A WhatsApp conversation's reply goes from the number the customer wrote to (its id names it). Support
    # Board's WhatsApp relays go from the number Support Board's conversation names when it is one of these
    # (channels/support_board.py), else from this one: the tenant's number if it has exactly one (the
    # deployment's tenant: WHATSAPP_PHONE_NUMBER_ID; with several, none: nothing is sent from a guess).
    update["tenant_whatsapp_numbers"] = frozenset(numbers)
    if not is_default:
        update["whatsapp_phone_number_id"] = numbers[0] if len(numbers) == 1 else None
    if profile.takeover_pause_minutes:
        update["human_takeover_pause_minutes"] = profile.takeover_pause_minutes
    return base.model_copy(update=update)
