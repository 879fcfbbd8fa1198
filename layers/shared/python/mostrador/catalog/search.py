"""Product search for the reply tools: hybrid (vector + full text), filtered, exact codes first."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from mostrador.db.catalog_repository import product_cards, search_product_codes
from mostrador.llm.base import Embedder

if TYPE_CHECKING:
    from mostrador.db.connection import Connection

# Cosine distance above which a "nearest" product is not similar at all (it would otherwise always
# return something, even for nonsense, and hide that nothing matched).
MAX_VECTOR_DISTANCE = 0.8


@dataclass(frozen=True)
class SearchFilters:
    brand: str | None = None
    category: str | None = None
    min_price: float | None = None
    max_price: float | None = None
    in_stock: bool = False
    branch: str | None = None


def search_products(
    conn: Connection,
    tenant_id: str,
    query: str,
    filters: SearchFilters = SearchFilters(),  # noqa: B008  (frozen, so a shared default is safe)
    *,
    embedder: Embedder | None = None,
    limit: int = 5,
) -> list[dict[str, Any]]:
    """ProductCards (llm/tools.py) best first. Without an embedder, full text alone serves."""
    query = (query or "").strip()[:500]
    limit = max(1, min(limit, 25))
    vector = None
    if embedder is not None and query:
        vector = embedder.embed([query]).vectors[0]
    codes = search_product_codes(
        conn,
        tenant_id=tenant_id,
        query=query,
        query_vector=vector,
        filters=asdict(filters),
        limit=limit,
        max_distance=MAX_VECTOR_DISTANCE,
    )
    return product_cards(conn, tenant_id, codes)


def get_product_details(conn: Connection, tenant_id: str, item_code: str) -> dict[str, Any] | None:
    """One product's current price and per-branch stock, straight from the database."""
    cards = product_cards(conn, tenant_id, [item_code.strip()])
    return cards[0] if cards else None
