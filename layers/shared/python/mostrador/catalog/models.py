"""The catalog as the fetcher sends it (NamDamasco camelCase) and as it travels on the enrich queue."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

MAX_TEXT = 20_000  # longest description we keep; longer HTML is almost always pasted markup noise
MAX_IMAGES = 10  # product photos kept per product (only the first is ever sent to a customer)
MAX_IMAGE_URL = 2048


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class ProductItem(BaseModel):
    """One product at one warehouse/branch, as the fetcher sends it. Unknown fields are kept (audit)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow", frozen=True)

    item_code: str = Field(min_length=1, max_length=64)
    item_name: str = Field(min_length=1, max_length=500)
    description: str | None = Field(default=None, max_length=MAX_TEXT)
    category: str | None = Field(default=None, max_length=200)
    sub_category: str | None = Field(default=None, max_length=200)
    brand: str | None = Field(default=None, max_length=200)
    line: str | None = Field(default=None, max_length=200)
    item_group_name: str | None = Field(default=None, max_length=200)
    whs_name: str = Field(default="", max_length=200)
    branch_name: str | None = Field(default=None, max_length=200)
    # Negative stock happens in ERPs (backorders); it is stored as sent and counts as out of stock.
    stock: Decimal = Decimal(0)
    price: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=4)
    price_bolivar: Decimal | None = Field(default=None, ge=0, max_digits=20, decimal_places=4)
    # Product photos by URL (validated, stored, never downloaded at ingest): WhatsApp and Messenger
    # fetch them themselves when the bot sends one.
    image_url: str | None = None
    images: list[str] | None = Field(default=None, max_length=MAX_IMAGES)

    @field_validator(
        "item_code", "item_name", "category", "sub_category", "brand", "line", "item_group_name",
        "whs_name", "branch_name", mode="before",
    )  # fmt: skip
    @classmethod
    def _trim(cls, value: object) -> object:
        value = _strip(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)  # item codes are often numeric in ERPs
        return value

    @field_validator("category", "sub_category", "brand", "line", "item_group_name", "branch_name", "description")
    @classmethod
    def _blank_to_none(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("image_url", mode="before")
    @classmethod
    def _image_url(cls, value: object) -> object:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return checked_image_url(value)

    @field_validator("images", mode="before")
    @classmethod
    def _images(cls, value: object) -> object:
        if value is None:
            return None
        if not isinstance(value, list):
            raise ValueError("must be a list of image URLs")
        return [checked_image_url(item) for item in value]

    @property
    def image_urls(self) -> list[str]:
        """imageUrl first, then images, without repeats."""
        return list(dict.fromkeys([*([self.image_url] if self.image_url else []), *(self.images or [])]))

    @field_validator("stock", mode="before")
    @classmethod
    def _stock_null_is_zero(cls, value: object) -> object:
        return 0 if value is None or value == "" else value


class EnrichMessage(BaseModel):
    """Body of one enrich-queue message: one item plus the sync bookkeeping it belongs to."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    tenant_id: str
    sync_id: str
    batch_id: str
    batch_size: int = Field(ge=1)
    full_sync: bool = False
    part: int = Field(default=1, ge=1)
    final: bool = True
    index: int = Field(ge=0)
    # The item exactly as the fetcher sent it: validated again by the consumer, stored for audit.
    item: dict[str, Any]


def checked_image_url(value: object) -> str:
    """The URL, trimmed, or ValueError saying what is wrong with it (absolute http(s), a host, no
    spaces or credentials, at most MAX_IMAGE_URL characters). The image itself is not fetched."""
    from urllib.parse import urlsplit

    if not isinstance(value, str):
        raise ValueError("an image URL must be a string")
    url = value.strip()
    if len(url) > MAX_IMAGE_URL:
        raise ValueError(f"an image URL must be at most {MAX_IMAGE_URL} characters")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise ValueError("an image URL must not contain spaces or control characters (encode them as %20)")
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise ValueError(f"{url[:80]!r} is not a valid URL") from None
    if parts.scheme.lower() not in ("https", "http") or not host:
        raise ValueError(f"{url[:80]!r} must be an absolute https:// (or http://) URL")
    if parts.username or parts.password:
        raise ValueError("an image URL must not carry a user name or password")
    return url


def source_hash(raw_item: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(raw_item, sort_keys=True, default=str).encode()).hexdigest()
