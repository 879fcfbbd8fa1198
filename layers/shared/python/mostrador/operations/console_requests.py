"""What the admin console's routes and the seed-003 export alias accept (validated by the admin function's
resolver like every admin route: a 422 naming the field otherwise)."""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from pydantic import Field, field_validator, model_validator

from mostrador.operations.requests import Channel, Paging, _Strict

# A phone number as people write it: digits with an optional leading +, spaces, hyphens, dots, parentheses.
_WRITTEN_PHONE = re.compile(r"\+?[\d\s().-]*\d[\d\s().-]*")


def customer_id_as_stored(value: str) -> str:
    """A phone-like customer id as the channels store it (WhatsApp ids are the digits alone): "+58 414-000-9001"
    → "584140009001". Anything else (a PSID is digits already, a web chat id has letters) stays as given."""
    if _WRITTEN_PHONE.fullmatch(value.strip()):
        return re.sub(r"\D", "", value)
    return value


State = Literal["bot", "paused", "escalated", "human"]
# WhatsApp's limit; longer texts are split by the channel's sender like the bot's replies.
MAX_REPLY_CHARACTERS = 4096


class InboxQuery(Paging):
    channel: Channel | None = None
    state: State | None = Field(
        None, description="bot (answering), paused (taken over), human (a person answered), escalated"
    )
    q: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="text in a message, the customer id or conversation id (without view_customer_contact: "
        "only the customer id's last 4 characters, as shown)",
    )


class AgentReplyBody(_Strict):
    text: str = Field(
        min_length=1, max_length=MAX_REPLY_CHARACTERS, description="what the person writes to the customer"
    )


class ProductLookupQuery(_Strict):
    q: str = Field(min_length=1, max_length=500, description="what a customer asked for, as the bot would search it")
    brand: str | None = Field(None, min_length=1, max_length=200)
    category: str | None = Field(None, min_length=1, max_length=200)
    branch: str | None = Field(None, min_length=1, max_length=200, description="only products with stock there")
    inStock: bool = False  # noqa: N815 (JSON name)
    limit: int = Field(10, ge=1, le=25)


class SyncFailuresQuery(_Strict):
    limit: int = Field(100, ge=1, le=500)


class SeedExportQuery(_Strict):
    """GET /api/v1/export/conversations, the route seed 003's (CCI) tooling calls."""

    start_date: date = Field(description="first UTC day, YYYY-MM-DD")
    end_date: date = Field(description="last UTC day, included")
    format: Literal["excel", "csv", "json"] = Field("excel", description="excel is XLSX")
    user_id: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="one customer (sender) id; a phone number may be written as people do (+58 414-000-9001)",
    )
    cursor: str | None = Field(None, max_length=500, description="X-Next-Cursor of the previous page")
    limit: int = Field(10_000, ge=1, le=50_000, description="rows per page at most (a byte budget applies too)")

    @field_validator("user_id")
    @classmethod
    def _as_stored(cls, value: str | None) -> str | None:
        return customer_id_as_stored(value) if value is not None else None

    @model_validator(mode="after")
    def _ordered(self) -> SeedExportQuery:
        if self.start_date > self.end_date:
            raise ValueError("start_date must not be after end_date")
        return self
