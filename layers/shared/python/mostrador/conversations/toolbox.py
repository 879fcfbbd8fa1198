"""Runs the reply model's tool calls (llm/tools.py) against the catalog and the conversation.

Arguments come from a model and are validated like any outside input: a bad call gets an error
result the model can read and correct, never an exception that loses the customer's message.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from mostrador.llm.base import Embedder, ToolCall
from mostrador.llm.tools import (
    CATALOG_DATA_NOTE,
    ESCALATE_TO_HUMAN,
    GET_LIVE_PRODUCT_DETAILS,
    KNOWLEDGE_DATA_NOTE,
    SEARCH_KNOWLEDGE,
    SEARCH_LOCAL_PRODUCTS,
)

if TYPE_CHECKING:
    from mostrador.db.connection import Connection

MAX_RESULTS = 10
DEFAULT_RESULTS = 5


class Catalog(Protocol):
    """Product lookups the tools need (mostrador.catalog.search behind it in production)."""

    def search(
        self,
        tenant_id: str,
        query: str,
        *,
        brand: str | None,
        category: str | None,
        min_price: float | None,
        max_price: float | None,
        in_stock: bool,
        branch: str | None,
        limit: int,
    ) -> list[dict[str, Any]]: ...

    def details(self, tenant_id: str, item_code: str) -> dict[str, Any] | None: ...

    def brands(self, tenant_id: str) -> list[str]:
        """The catalog's brand names (language detection takes them out of a message)."""
        ...


class KnowledgeBase(Protocol):
    """The business's FAQ and documents (mostrador.knowledge.search behind it in production)."""

    def search(self, tenant_id: str, question: str, *, limit: int) -> list[Any]: ...


@runtime_checkable
class ProductPhotos(Protocol):
    """Catalogs that know their products' photos (sent when a customer picks a product)."""

    def image_urls(self, tenant_id: str, item_code: str) -> list[str]: ...


@dataclass(frozen=True)
class ToolOutcome:
    """What one call returned to the model, and what the message log keeps of it."""

    call: ToolCall
    result: dict[str, Any]
    product_ids: list[str] = field(default_factory=list)
    result_count: int = 0
    error: str | None = None
    # search_knowledge: the chunks it returned (document, chunk, score), kept in the conversation log.
    citations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def content(self) -> str:
        return json.dumps(self.result, ensure_ascii=False, default=str)


class BadToolArguments(ValueError):
    pass


def _text(arguments: dict[str, Any], name: str, *, required: bool = False, max_length: int = 200) -> str | None:
    value = arguments.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise BadToolArguments(f"'{name}' is required")
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise BadToolArguments(f"'{name}' must be a string")
    return str(value).strip()[:max_length]


def _number(arguments: dict[str, Any], name: str) -> float | None:
    value = arguments.get(name)
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadToolArguments(f"'{name}' must be a number") from None
    if number < 0:
        raise BadToolArguments(f"'{name}' must not be negative")
    return number


def _flag(arguments: dict[str, Any], name: str) -> bool:
    value = arguments.get(name, False)
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value)


def _limit(arguments: dict[str, Any]) -> int:
    value = arguments.get("limit")
    try:
        return max(1, min(int(value), MAX_RESULTS)) if value is not None else DEFAULT_RESULTS
    except (TypeError, ValueError):
        return DEFAULT_RESULTS


class ReplyToolbox:
    """The reply tools. `escalate(reason)` performs the escalation and returns its id. `currency` is the
    store's (its tenant's `currency`): every product card the model, the choices and the offline
    answer read carries it, since the catalog's prices are in the store's currency."""

    def __init__(
        self,
        catalog: Catalog,
        tenant_id: str,
        escalate: Callable[[str], int],
        knowledge: KnowledgeBase | None = None,
        *,
        currency: str = "USD",
    ) -> None:
        self._catalog = catalog
        self._knowledge = knowledge
        self._tenant_id = tenant_id
        self._escalate = escalate
        self._currency = currency
        self.escalation_id: int | None = None

    def _priced(self, card: dict[str, Any]) -> dict[str, Any]:
        return {**card, "currency": self._currency}

    def run(self, call: ToolCall) -> ToolOutcome:
        try:
            if call.name == SEARCH_LOCAL_PRODUCTS.name:
                return self._search(call)
            if call.name == GET_LIVE_PRODUCT_DETAILS.name:
                return self._details(call)
            if call.name == SEARCH_KNOWLEDGE.name:
                return self._knowledge_search(call)
            if call.name == ESCALATE_TO_HUMAN.name:
                reason = _text(call.arguments, "reason", max_length=500) or "the assistant asked for a person"
                self.escalation_id = self._escalate(reason)
                return ToolOutcome(call, {"escalated": True, "escalation_id": self.escalation_id})
            raise BadToolArguments(f"unknown tool {call.name!r}")
        except BadToolArguments as error:
            return ToolOutcome(call, {"error": str(error)}, error=str(error))

    def _search(self, call: ToolCall) -> ToolOutcome:
        args = call.arguments
        min_price, max_price = _number(args, "min_price"), _number(args, "max_price")
        if min_price is not None and max_price is not None and min_price > max_price:
            min_price, max_price = max_price, min_price
        cards = self._catalog.search(
            self._tenant_id,
            _text(args, "query", required=True, max_length=500) or "",
            brand=_text(args, "brand"),
            category=_text(args, "category"),
            min_price=min_price,
            max_price=max_price,
            in_stock=_flag(args, "in_stock"),
            branch=_text(args, "branch"),
            limit=_limit(args),
        )
        # Words the catalog has nothing for ("bicicleta"; catalog.search.ProductSearch): the model can say so.
        unmatched = [str(word) for word in getattr(cards, "unmatched", [])]
        cards = [self._priced(card) for card in cards]
        return ToolOutcome(
            call,
            {"products": cards, "total": len(cards), "unmatched": unmatched, "note": CATALOG_DATA_NOTE},
            product_ids=[str(card.get("item_code")) for card in cards],
            result_count=len(cards),
        )

    def _details(self, call: ToolCall) -> ToolOutcome:
        item_code = _text(call.arguments, "item_code", required=True, max_length=64) or ""
        card = self._catalog.details(self._tenant_id, item_code)
        card = self._priced(card) if card is not None else None
        return ToolOutcome(
            call,
            {"product": card, "note": CATALOG_DATA_NOTE},
            product_ids=[str(card.get("item_code"))] if card else [],
            result_count=1 if card else 0,
        )

    def _knowledge_search(self, call: ToolCall) -> ToolOutcome:
        args = call.arguments
        question = _text(args, "question", max_length=500) or _text(args, "query", max_length=500)
        if not question:
            raise BadToolArguments("'question' is required")
        limit = max(1, min(_limit(args), 5)) if args.get("limit") is not None else 3
        passages = self._knowledge.search(self._tenant_id, question, limit=limit) if self._knowledge else []
        return ToolOutcome(
            call,
            {"passages": [p.as_tool_result() for p in passages], "total": len(passages), "note": KNOWLEDGE_DATA_NOTE},
            result_count=len(passages),
            citations=[p.as_citation() for p in passages],
        )


class DatabaseKnowledge:
    """KnowledgeBase backed by mostrador.knowledge.search; the query embedder is built on first use."""

    def __init__(self, conn: Connection, embedder: Callable[[], Embedder | None]) -> None:
        self._conn = conn
        self._embedder_factory = embedder
        self._embedder: Embedder | None = None
        self._embedder_built = False

    def search(self, tenant_id: str, question: str, *, limit: int) -> list[Any]:
        from mostrador.knowledge.search import search_knowledge

        if not self._embedder_built:
            self._embedder = self._embedder_factory()
            self._embedder_built = True
        return list(search_knowledge(self._conn, tenant_id, question, embedder=self._embedder, limit=limit))


class DatabaseCatalog:
    """Catalog backed by mostrador.catalog.search on the shared connection. The query embedder is
    built on the first search, so a message that never searches never loads an embedding SDK."""

    def __init__(self, conn: Connection, embedder: Callable[[], Embedder | None]) -> None:
        self._conn = conn
        self._embedder_factory = embedder
        self._embedder: Embedder | None = None
        self._embedder_built = False

    def _query_embedder(self) -> Embedder | None:
        if not self._embedder_built:
            self._embedder = self._embedder_factory()
            self._embedder_built = True
        return self._embedder

    def search(
        self,
        tenant_id: str,
        query: str,
        *,
        brand: str | None,
        category: str | None,
        min_price: float | None,
        max_price: float | None,
        in_stock: bool,
        branch: str | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        from mostrador.catalog.search import SearchFilters, search_products

        filters = SearchFilters(
            brand=brand, category=category, min_price=min_price, max_price=max_price, in_stock=in_stock, branch=branch
        )
        return search_products(self._conn, tenant_id, query, filters, embedder=self._query_embedder(), limit=limit)

    def details(self, tenant_id: str, item_code: str) -> dict[str, Any] | None:
        from mostrador.catalog.search import get_product_details

        return get_product_details(self._conn, tenant_id, item_code)

    def image_urls(self, tenant_id: str, item_code: str) -> list[str]:
        from mostrador.db.catalog_repository import product_image_urls

        return product_image_urls(self._conn, tenant_id, item_code)

    def brands(self, tenant_id: str) -> list[str]:
        from mostrador.db.search_repository import catalog_brands

        return catalog_brands(self._conn, tenant_id)
