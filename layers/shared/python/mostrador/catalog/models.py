"""The catalog as the fetcher sends it (NamDamasco camelCase) and as it travels on the enrich queue."""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

MAX_TEXT = 20_000  # longest description we keep; longer HTML is almost always pasted markup noise
MAX_IMAGES = 10  # product photos kept per product (only the first is ever sent to a customer)
MAX_IMAGE_URL = 2048
MAX_STOCK = Decimal("99999999999.999")  # product_stock.stock is numeric(14, 3)
MAX_PART = 100_000  # a sync's part number (stored as integer); 100,000 parts of 10,000 items is plenty
INT4_MAX = 2**31 - 1
SYNC_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,100}$"

# What no catalog text may hold: NUL (PostgreSQL text and jsonb refuse it), the other C0/C1 control
# characters (tab, newline and carriage return excepted) and unpaired surrogates (not encodable as UTF-8).
_FORBIDDEN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _describe_character(char: str) -> str:
    code = ord(char)
    if code == 0:
        return "a NUL character (U+0000)"
    if 0xD800 <= code <= 0xDFFF:
        return f"an unpaired surrogate (U+{code:04X})"
    return f"a control character (U+{code:04X})"


def _escaped(text: str) -> str:
    return _FORBIDDEN_TEXT.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


NOT_FINITE = " is not a finite number"


def content_problems(raw: dict[str, Any]) -> list[str]:
    """What in a raw item cannot be stored as sent: forbidden characters in any field name or string
    (known or unknown field, at any depth) and numbers that are not finite. Empty when storable."""
    problems: list[str] = []
    stack: list[tuple[str, Any]] = [("", raw)]
    while stack:  # iterative: unknown fields may nest deeply
        path, value = stack.pop()
        if isinstance(value, str):
            if found := _FORBIDDEN_TEXT.search(value):
                problems.append(f"{path} contains {_describe_character(found.group())} at position {found.start()}")
        elif isinstance(value, float) and not math.isfinite(value):
            problems.append(f"{path}{NOT_FINITE}")
        elif isinstance(value, dict):
            for key, inner in reversed(value.items()):
                name = _escaped(str(key))
                inner_path = f"{path}.{name}" if path else name
                if found := _FORBIDDEN_TEXT.search(str(key)):
                    problems.append(f'field name "{inner_path}" contains {_describe_character(found.group())}')
                stack.append((inner_path, inner))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", inner) for i, inner in reversed(list(enumerate(value))))
    return problems


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
    stock: Decimal = Field(default=Decimal(0), ge=-MAX_STOCK, le=MAX_STOCK)
    price: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=4)
    price_bolivar: Decimal | None = Field(default=None, ge=0, max_digits=20, decimal_places=4)
    # Product photos by URL (validated, stored, never downloaded at ingest): WhatsApp and Messenger
    # fetch them themselves when the bot sends one.
    image_url: str | None = None
    images: list[str] | None = Field(default=None, max_length=MAX_IMAGES)

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, value: object) -> object:
        if isinstance(value, dict) and (problems := content_problems(value)):
            # Each kind of problem gets its own advice: a NaN price has nothing to do with control characters.
            numbers = [p for p in problems if p.endswith(NOT_FINITE)]
            characters = [p for p in problems if not p.endswith(NOT_FINITE)]
            advice = []
            if characters:
                advice.append(
                    f"{'; '.join(characters)}: remove it at the source (only tab, newline and carriage return "
                    "are allowed among control characters)"
                )
            if numbers:
                advice.append(
                    f"{'; '.join(numbers)}: send a plain number (NaN and Infinity cannot be stored), or leave the "
                    "field out"
                )
            raise PydanticCustomError("unstorable_content", "{problems}", {"problems": "; ".join(advice)})
        return value

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

    tenant_id: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")
    sync_id: str = Field(pattern=SYNC_ID_PATTERN)
    batch_id: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")
    batch_size: int = Field(ge=1, le=INT4_MAX)
    full_sync: bool = False
    part: int = Field(default=1, ge=1, le=MAX_PART)
    final: bool = True
    index: int = Field(ge=0, le=INT4_MAX)
    # When ingest accepted the request that carried this item (the same for all its items). A full sync's
    # deactivation compares it with the full sync's start. Messages queued before this field existed
    # take the time they are read: later, so never a reason to deactivate a product.
    received_at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
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
    private = _private_host(host)
    if private:
        raise ValueError(
            f"{url[:80]!r} points to {private}: WhatsApp and Messenger fetch the photo from Meta's servers,"
            " so it must be a public address"
        )
    return url


# Names that never resolve on the public internet: RFC 6761 (localhost), RFC 6762 (.local, mDNS),
# RFC 8375 (.home.arpa) and ICANN's private-use .internal.
_PRIVATE_NAMES = ("localhost", "local", "internal", "home.arpa")


def _private_host(host: str) -> str | None:
    """What makes `host` unreachable from Meta's servers ("a private IP address", "a local name"), or None."""
    import ipaddress

    name = host.rstrip(".").lower()
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        address = None
    if address is not None:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return None if address.is_global else "a private or reserved IP address"
    if any(name == suffix or name.endswith(f".{suffix}") for suffix in _PRIVATE_NAMES):
        return "a local network name"
    if "." not in name:
        return "a host name without a domain"
    return None


@dataclass(frozen=True)
class SyncReceipt:
    """One accepted request of a sync, as `sync_batches` keeps it. Ingest records it when it answers 202;
    enrichment records it again from the queued items (idempotent), in case ingest could not."""

    tenant_id: str
    sync_id: str
    batch_id: str
    item_count: int
    full_sync: bool
    part: int
    final: bool
    received_at: datetime

    @classmethod
    def of(cls, message: EnrichMessage) -> SyncReceipt:
        return cls(
            tenant_id=message.tenant_id,
            sync_id=message.sync_id,
            batch_id=message.batch_id,
            item_count=message.batch_size,
            full_sync=message.full_sync,
            part=message.part,
            final=message.final,
            received_at=message.received_at,
        )


def source_hash(raw_item: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(raw_item, sort_keys=True, default=str).encode()).hexdigest()
