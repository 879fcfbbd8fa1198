"""What the admin API accepts: query and body models, validated by the admin function's resolver
(a clear 422 naming the field otherwise) and published in its OpenAPI document; and, before any
route runs, what no admin request may carry (unusable_request_input)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Literal
from urllib.parse import unquote

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mostrador.request_input import BadRequestBody, first_unsafe_string, parse_json_body, unsafe_in_id

Channel = Literal["whatsapp", "messenger", "instagram", "support_board", "webchat"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Paging(_Strict):
    cursor: str | None = Field(None, max_length=500, description="nextCursor of the previous page")
    limit: int = Field(50, ge=1, le=200, description="items per page")


class ConversationQuery(Paging):
    channel: Channel | None = None
    paused: bool | None = Field(None, description="only conversations the bot is (true) or is not (false) paused in")
    escalated: bool | None = Field(
        None, description="only conversations with (true) or without (false) an open escalation"
    )
    since: date | None = Field(None, description="with a message on or after this UTC day (YYYY-MM-DD)")
    until: date | None = Field(None, description="with a message on or before this UTC day (YYYY-MM-DD)")
    customer: str | None = Field(None, min_length=1, max_length=200, description="customer (sender) id")

    @model_validator(mode="after")
    def _ordered(self) -> ConversationQuery:
        if self.since and self.until and self.since > self.until:
            raise ValueError("since must not be after until")
        return self


class MessagePaging(_Strict):
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(100, ge=1, le=500, description="messages per page, oldest first")


class TakeoverBody(_Strict):
    minutes: int | None = Field(
        None, ge=1, le=525_600, description="pause the bot this many minutes (default HUMAN_TAKEOVER_PAUSE_MINUTES)"
    )
    untilResumed: bool = Field(False, description="pause until POST .../resume")  # noqa: N815 (JSON name)
    note: str | None = Field(None, max_length=1000)

    @model_validator(mode="after")
    def _one_duration(self) -> TakeoverBody:
        if self.untilResumed and self.minutes is not None:
            raise ValueError("give either minutes or untilResumed, not both")
        return self


class EscalationQuery(Paging):
    status: Literal["open", "resolved", "all"] = "open"
    transcriptMessages: int = Field(20, ge=0, le=100, description="latest messages of each conversation")  # noqa: N815


class ResolveBody(_Strict):
    note: str = Field(min_length=1, max_length=2000, description="what was done for the customer")
    resumeBot: bool = Field(False, description="also end the bot's pause in that conversation")  # noqa: N815


class DayRangeQuery(_Strict):
    since: date = Field(description="first UTC day, YYYY-MM-DD")
    until: date = Field(description="last UTC day, included")

    @model_validator(mode="after")
    def _ordered(self) -> DayRangeQuery:
        if self.since > self.until:
            raise ValueError("since must not be after until")
        return self


class SyncQuery(DayRangeQuery):
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=200)


class ExportQuery(DayRangeQuery):
    format: Literal["csv", "xlsx", "json"] = "csv"
    customer: str | None = Field(None, min_length=1, max_length=200)
    cursor: str | None = Field(None, max_length=500, description="X-Next-Cursor of the previous page")
    limit: int = Field(10_000, ge=1, le=50_000, description="rows per page at most (a byte budget applies too)")


class PriceBody(_Strict):
    inputPerMillion: float = Field(ge=0, le=10_000, description="USD per 1M input tokens")  # noqa: N815
    outputPerMillion: float = Field(ge=0, le=10_000, description="USD per 1M output tokens")  # noqa: N815


def unusable_request_input(
    path: str, query: Mapping[str, Sequence[str]] | None, body: bytes | str | None
) -> str | None:
    """What to fix, for a request no admin route can use: a path segment or query value with a control
    character or lone surrogate (ids and filters never hold one; PostgreSQL refuses NUL), a body that
    is not UTF-8 JSON within limits, or a body string with NUL/control characters. None when it is usable.
    Never quotes the offending value: it may be a customer's data."""
    for position, segment in enumerate(path.split("/")[1:], start=1):
        problem = unsafe_in_id(unquote(segment))
        if problem:
            return f"path segment {position} contains {problem}; ids never contain control characters."
    for name, values in (query or {}).items():
        if unsafe_in_id(name):
            return f"a query parameter name contains {unsafe_in_id(name)}."
        for value in values:
            problem = unsafe_in_id(value)
            if problem:
                return f"query parameter {name} contains {problem}; remove it."
    if body is None or not body.strip():
        return None
    try:
        value = parse_json_body(body)
    except BadRequestBody as exc:
        return exc.message
    problem = first_unsafe_string(value)
    return f"{problem}; remove it." if problem else None


class SynonymBody(_Strict):
    alternatives: list[str] = Field(
        max_length=20,
        description="how the catalog may write the term (each up to four words); [] switches a shipped entry off",
    )

    @model_validator(mode="after")
    def _lengths(self) -> SynonymBody:
        if any(not 1 <= len(a.strip()) <= 80 for a in self.alternatives):
            raise ValueError("each alternative must have 1 to 80 characters")
        return self
