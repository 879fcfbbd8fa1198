"""What /admin/tenants accepts (docs/tenants.md): validated by the admin function's resolver (a 422
naming the field otherwise) and published in its OpenAPI document."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mostrador.conversations.language import SUPPORTED
from mostrador.tenancy.profile import TENANT_ID_PATTERN, check_business_hours, zone

# camelCase JSON name → tenants column (db/tenant_repository.SETTABLE).
COLUMNS = {
    "displayName": "display_name",
    "active": "active",
    "timeZone": "time_zone",
    "defaultLanguage": "default_language",
    "currency": "currency",
    "systemPrompt": "system_prompt",
    "businessHours": "business_hours",
    "afterHoursMessage": "after_hours_message",
    "escalationAgentIds": "escalation_agent_ids",
    "escalationEmail": "escalation_email",
    "escalationWebhookUrl": "escalation_webhook_url",
    "takeoverPauseMinutes": "takeover_pause_minutes",
    "llmProvider": "llm_provider",
    "chatModel": "chat_model",
    "monthlyTokenBudget": "monthly_token_budget",
    "overBudget": "over_budget",
    "budgetModel": "budget_model",
    "supportBoardApiUrl": "support_board_api_url",
    "supportBoardDmBotUserId": "support_board_dm_bot_user_id",
    "supportBoardAgentIds": "support_board_agent_ids",
    "commentBotProxyUserId": "comment_bot_proxy_user_id",
    "commentBotInitiationTag": "comment_bot_initiation_tag",
    "claimsUnrouted": "claims_unrouted",
}
# Columns that are never NULL: a request may change them but not clear them.
NOT_NULL = {"displayName", "active", "timeZone", "defaultLanguage", "currency", "businessHours", "overBudget",
            "escalationAgentIds", "supportBoardAgentIds", "claimsUnrouted"}  # fmt: skip
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LOCAL_URL = re.compile(r"^http://(127\.0\.0\.1|localhost)(:\d+)?(/|$)")
_USER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MetaId = Field(pattern=r"^\d{1,32}$")


def _url(value: str | None, what: str) -> str | None:
    if value is None:
        return None
    if not (value.startswith("https://") or _LOCAL_URL.match(value)) or len(value) > 500:
        raise ValueError(f"{what} must be an https:// URL (http:// only on 127.0.0.1/localhost)")
    return value


class TenantSettingsBody(BaseModel):
    """Every field is optional; a field sent as null is cleared (where it can be)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    displayName: str | None = Field(None, min_length=1, max_length=120)  # noqa: N815 (JSON names)
    active: bool | None = Field(None, description="false: the tenant's ids and keys stop routing (events dropped)")
    timeZone: str | None = Field(None, description="IANA name, e.g. America/Caracas")  # noqa: N815
    defaultLanguage: str | None = Field(None, description=f"one of {', '.join(SUPPORTED)}")  # noqa: N815
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$", description="ISO 4217 code prices are shown in")
    systemPrompt: str | None = Field(None, max_length=8000, description="the store's voice and facts")  # noqa: N815
    businessHours: dict[str, list[str]] | None = Field(  # noqa: N815
        None, description='{"mon": ["09:00-18:00"], ...} in timeZone; days left out are closed; {} = always open'
    )
    afterHoursMessage: str | None = Field(  # noqa: N815
        None, max_length=1000, description="told instead of the handoff notice when a person is asked for when closed"
    )
    escalationAgentIds: list[str] | None = Field(  # noqa: N815
        None, max_length=50, description="Support Board agents an escalated Support Board conversation is assigned to"
    )
    escalationEmail: str | None = Field(None, max_length=254, description="mailed each escalation")  # noqa: N815
    escalationWebhookUrl: str | None = Field(None, description="POSTed a JSON notice of each escalation")  # noqa: N815
    takeoverPauseMinutes: int | None = Field(None, ge=1, le=525_600)  # noqa: N815
    llmProvider: Literal["openai", "gemini", "offline"] | None = None  # noqa: N815
    chatModel: str | None = Field(None, min_length=1, max_length=100)  # noqa: N815
    monthlyTokenBudget: int | None = Field(None, ge=1, le=10**13)  # noqa: N815
    overBudget: Literal["cheaper_model", "escalate"] | None = Field(  # noqa: N815
        None, description="past the budget: answer with budgetModel (or the deployment's model), or hand to people"
    )
    budgetModel: str | None = Field(None, min_length=1, max_length=100)  # noqa: N815
    supportBoardApiUrl: str | None = None  # noqa: N815
    supportBoardDmBotUserId: str | None = Field(None, pattern=_USER_ID.pattern)  # noqa: N815
    supportBoardAgentIds: list[str] | None = Field(None, max_length=200)  # noqa: N815
    commentBotProxyUserId: str | None = Field(None, pattern=_USER_ID.pattern)  # noqa: N815
    commentBotInitiationTag: str | None = Field(None, min_length=1, max_length=100)  # noqa: N815
    claimsUnrouted: bool | None = Field(  # noqa: N815
        None, description="answer channel ids nobody claims (an upgraded single-tenant deployment only)"
    )

    @field_validator("timeZone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            zone(value)
        return value

    @field_validator("defaultLanguage")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        if value is not None and value.lower() not in SUPPORTED:
            raise ValueError(f"defaultLanguage must be one of {', '.join(SUPPORTED)}")
        return value.lower() if value else value

    @field_validator("businessHours")
    @classmethod
    def _hours(cls, value: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
        return check_business_hours(value) if value is not None else None

    @field_validator("escalationEmail")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.match(value):
            raise ValueError("escalationEmail is not an e-mail address")
        return value

    @field_validator("escalationWebhookUrl")
    @classmethod
    def _webhook(cls, value: str | None) -> str | None:
        return _url(value, "escalationWebhookUrl")

    @field_validator("supportBoardApiUrl")
    @classmethod
    def _support_board(cls, value: str | None) -> str | None:
        return _url(value, "supportBoardApiUrl")

    @field_validator("escalationAgentIds", "supportBoardAgentIds")
    @classmethod
    def _user_ids(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not all(_USER_ID.match(item) for item in value):
            raise ValueError("agent ids are Support Board user ids (letters, digits, '-', '_')")
        return value

    @model_validator(mode="after")
    def _no_clearing_required(self) -> TenantSettingsBody:
        cleared = sorted(name for name in self.model_fields_set & NOT_NULL if getattr(self, name) is None)
        if cleared:
            raise ValueError(f"{', '.join(cleared)} cannot be null (send a value)")
        return self

    def columns(self) -> dict[str, Any]:
        """The fields the request sent, as tenants columns."""
        return {COLUMNS[name]: getattr(self, name) for name in self.model_fields_set if name in COLUMNS}


class NewTenantBody(TenantSettingsBody):
    tenantId: str = Field(pattern=TENANT_ID_PATTERN, description="lowercase letters, digits, '-', '_'")  # noqa: N815
    displayName: str = Field(min_length=1, max_length=120)  # noqa: N815


class ChannelBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    channel: Literal["whatsapp", "messenger", "instagram", "webchat"]
    id: str | None = Field(
        None,
        min_length=1,
        max_length=80,
        description="WhatsApp phone_number_id, Page id or Instagram account id; for webchat leave it out "
        "(a widget key is generated)",
    )

    @model_validator(mode="after")
    def _shape(self) -> ChannelBody:
        if self.channel == "webchat":
            if self.id is not None and not re.fullmatch(r"wk_[A-Za-z0-9_-]{16,64}", self.id):
                raise ValueError("a webchat id is a widget key like wk_ followed by 16-64 letters, digits, '-', '_'")
        elif self.id is None or not re.fullmatch(r"\d{1,32}", self.id):
            raise ValueError(f"{self.channel} ids are Meta's numeric ids (digits only)")
        return self


class KeyBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: Literal["ingest", "support_board"] = Field(
        description="ingest: the fetcher's X-API-KEY; support_board: the secret Support Board sends in `key`"
    )
    label: str | None = Field(None, max_length=100, description='what it is for ("nightly fetcher")')
    key: str | None = Field(
        None,
        min_length=16,
        max_length=200,
        description="register this existing key instead of generating one (e.g. a Support Board secret already set)",
    )


class SecretsBody(BaseModel):
    """Set a value (a string) or remove it (null); names left out are unchanged. Never answered back."""

    model_config = ConfigDict(extra="forbid")

    WHATSAPP_TOKEN: str | None = Field(None, min_length=1, max_length=2000)
    MESSENGER_PAGE_TOKEN: str | None = Field(None, min_length=1, max_length=2000)
    SUPPORT_BOARD_API_TOKEN: str | None = Field(None, min_length=1, max_length=2000)
    OPENAI_API_KEY: str | None = Field(None, min_length=1, max_length=2000)
    GEMINI_API_KEY: str | None = Field(None, min_length=1, max_length=2000)

    def changes(self) -> dict[str, str | None]:
        return {name: getattr(self, name) for name in self.model_fields_set}
