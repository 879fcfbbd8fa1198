"""What the access routes accept (tokens, audit log); validated by the admin function's resolver and
published in its OpenAPI document, like mostrador.operations.requests."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, model_validator

from mostrador.operations.requests import Paging, _Strict

RoleName = Literal["operator", "owner", "agent", "viewer"]


class TokenBody(_Strict):
    name: str = Field(
        min_length=1, max_length=100, description="who holds the token (a person or a system): the audit log's actor"
    )
    role: RoleName = Field(description="owner, agent or viewer of the caller's tenant; operator: the deployment's")
    expiresInDays: int | None = Field(  # noqa: N815 (JSON name)
        None, ge=1, le=3650, description="refused after this many days; never expires when absent"
    )


class TokenQuery(Paging):
    status: Literal["active", "all"] = Field("all", description="active: neither revoked nor expired")
    role: RoleName | None = None


class AuditQuery(Paging):
    actor: str | None = Field(None, min_length=1, max_length=100, description="the token's name (subject)")
    action: str | None = Field(None, min_length=1, max_length=100, description="e.g. take_over, create_token")
    since: date | None = Field(None, description="on or after this UTC day (YYYY-MM-DD)")
    until: date | None = Field(None, description="on or before this UTC day (YYYY-MM-DD)")

    @model_validator(mode="after")
    def _ordered(self) -> AuditQuery:
        if self.since and self.until and self.since > self.until:
            raise ValueError("since must not be after until")
        return self
