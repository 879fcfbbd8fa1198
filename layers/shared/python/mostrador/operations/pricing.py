"""LLM prices (USD per one million tokens) for cost estimates.

Three layers, the later winning: SHIPPED_PRICES below, the tenant's own rows in model_prices
(PUT /admin/model-prices/{model}), and the MOSTRADOR_MODEL_PRICES environment variable, a JSON
object such as {"gpt-4o-mini": {"input": 0.15, "output": 0.60}}.
A used model matches the longest priced name it starts with, so a dated snapshot
("gpt-4o-mini-2024-07-18") takes its family's price; a model with no price has no estimate.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from mostrador.db import operations_repository as ops_repo

if TYPE_CHECKING:
    from mostrador.db.connection import Connection
    from mostrador.operations.auth import Principal

PRICES_ENV = "MOSTRADOR_MODEL_PRICES"
MILLION = Decimal(1_000_000)

# List prices (input, output) checked 2026-11; "offline" covers the offline provider's models.
SHIPPED_PRICES: dict[str, tuple[str, str]] = {
    "gpt-4o-mini": ("0.15", "0.60"),
    "gpt-4o": ("2.50", "10.00"),
    "gpt-4.1-mini": ("0.40", "1.60"),
    "gpt-4.1": ("2.00", "8.00"),
    "text-embedding-3-small": ("0.02", "0"),
    "text-embedding-3-large": ("0.13", "0"),
    "gemini-2.5-flash": ("0.30", "2.50"),
    "gemini-2.5-pro": ("1.25", "10.00"),
    "gemini-embedding-001": ("0.15", "0"),
    "offline": ("0", "0"),
}


@dataclass(frozen=True)
class ModelPrice:
    model: str
    input_per_million: Decimal
    output_per_million: Decimal
    # shipped, tenant or environment
    source: str

    def cost(self, tokens_in: int, tokens_out: int) -> Decimal:
        return (tokens_in * self.input_per_million + tokens_out * self.output_per_million) / MILLION


class PriceBook:
    def __init__(self, prices: Mapping[str, ModelPrice]) -> None:
        self.prices = dict(prices)
        # Longest names first: the most specific family wins the prefix match.
        self._by_length = sorted(self.prices, key=len, reverse=True)

    def price_for(self, model: str) -> ModelPrice | None:
        exact = self.prices.get(model)
        if exact is not None:
            return exact
        return next((self.prices[name] for name in self._by_length if model.startswith(name)), None)


def parse_price_override(raw: str | None) -> dict[str, ModelPrice]:
    """MOSTRADOR_MODEL_PRICES; a malformed value is an error at use, never a silent zero cost."""
    if not raw or not raw.strip():
        return {}
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("not an object")
        return {
            str(model): ModelPrice(str(model), _amount(entry, "input"), _amount(entry, "output"), "environment")
            for model, entry in data.items()
        }
    except (ValueError, TypeError, InvalidOperation) as error:
        raise ValueError(
            f'{PRICES_ENV} must be a JSON object like {{"gpt-4o-mini": {{"input": 0.15, "output": 0.6}}}}: {error}'
        ) from None


def _amount(entry: Any, key: str) -> Decimal:
    if not isinstance(entry, dict):
        raise ValueError("each model needs an object with input and output prices")
    value = entry.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{key} must be a number")
    amount = Decimal(str(value))
    if amount < 0 or not amount.is_finite():
        raise ValueError(f"{key} must be a non-negative number")
    return amount


def load_price_book(conn: Connection, tenant_id: str, environ: Mapping[str, str] | None = None) -> PriceBook:
    prices = {
        model: ModelPrice(model, Decimal(price_in), Decimal(price_out), "shipped")
        for model, (price_in, price_out) in SHIPPED_PRICES.items()
    }
    for row in ops_repo.model_prices(conn, tenant_id):
        prices[row["model"]] = ModelPrice(
            row["model"], Decimal(row["input_per_million"]), Decimal(row["output_per_million"]), "tenant"
        )
    prices.update(parse_price_override((os.environ if environ is None else environ).get(PRICES_ENV)))
    return PriceBook(prices)


def price_json(price: ModelPrice) -> dict[str, Any]:
    return {
        "model": price.model,
        "inputPerMillion": float(price.input_per_million),
        "outputPerMillion": float(price.output_per_million),
        "currency": "USD",
        "source": price.source,
    }


def set_price(
    conn: Connection,
    tenant_id: str,
    model: str,
    input_per_million: float,
    output_per_million: float,
    principal: Principal,
) -> dict[str, Any]:
    """Store the tenant's own price for `model`; answers the price now in effect for it."""
    with conn.transaction():
        ops_repo.set_model_price(
            conn, tenant_id, model, Decimal(str(input_per_million)), Decimal(str(output_per_million))
        )
        ops_repo.record_operator_action(
            conn,
            tenant_id,
            action="set_price",
            actor=principal.subject,
            role=principal.role,
            detail={"model": model, "input": input_per_million, "output": output_per_million},
        )
    effective = load_price_book(conn, tenant_id).prices[model]
    return price_json(effective)
