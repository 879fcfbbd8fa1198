"""Enrichment of one queue batch: delta detection, conditional summaries, batched embeddings, upserts.

Pay only for change: an unchanged item costs no LLM call, no embedding call and no row write; a
price or stock change costs one small update; a new or re-described product gets a summary and an
embedding. Failures are per product: one bad item never blocks the rest of its batch.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, Protocol

from mostrador.catalog.models import EnrichMessage, ProductItem, source_hash
from mostrador.catalog.summary_guard import guarded_summary
from mostrador.catalog.text import searchable_text, strip_html
from mostrador.llm.base import Embedder, Summarizer, Usage

Outcome = Literal["processed", "unchanged", "failed"]


@dataclass(frozen=True)
class QueuedItem:
    message_id: str
    message: EnrichMessage
    product: ProductItem  # message.item, validated
    attempt: int  # SQS ApproximateReceiveCount


@dataclass(frozen=True)
class UnreadableItem:
    """A queued item that cannot be stored as it is (it fails validation): it fails on every attempt,
    and is counted as failed in its sync (final on the last attempt, before the dead-letter queue)."""

    message_id: str
    message: EnrichMessage
    attempt: int
    error: str


@dataclass(frozen=True)
class ProductState:
    item_name: str
    description_hash: str | None
    summary: str | None
    attributes_hash: str
    searchable_text: str
    embedding_model: str | None
    has_embedding: bool
    price: Decimal | None
    price_bolivar: Decimal | None
    active: bool


@dataclass(frozen=True)
class StockState:
    branch: str | None
    stock: Decimal
    source_hash: str


@dataclass
class ProductWrite:
    """Everything to store for one product. `full` rewrites the product row; otherwise only prices."""

    tenant_id: str
    item_code: str
    full: bool
    item: ProductItem
    description_text: str | None = None
    description_hash: str | None = None
    summary: str | None = None
    summary_model: str | None = None
    summary_regenerated: bool = False
    attributes_hash: str = ""
    searchable_text: str = ""
    embedding: list[float] | None = None
    embedding_model: str | None = None
    keep_embedding: bool = True
    update_prices: bool = False
    stock_rows: list[tuple[ProductItem, dict[str, Any], str]] = field(default_factory=list)


@dataclass(frozen=True)
class ItemOutcome:
    tenant_id: str
    sync_id: str
    batch_id: str
    index: int
    item_code: str
    warehouse: str
    outcome: Outcome
    attempt: int
    final: bool
    error: str | None = None


class CatalogStore(Protocol):
    def load_products(self, tenant_id: str, item_codes: list[str]) -> dict[str, ProductState]: ...

    def load_stock(self, tenant_id: str, item_codes: list[str]) -> dict[tuple[str, str], StockState]: ...

    def batch_transaction(self, tenant_ids: Iterable[str], *, writes: bool) -> AbstractContextManager[None]: ...

    def write_product(self, write: ProductWrite) -> None: ...  # fails alone inside batch_transaction

    def restore_named(self, items: list[QueuedItem]) -> None: ...

    def register_batches(self, messages: Iterable[EnrichMessage]) -> None: ...

    def record_outcomes(self, outcomes: list[ItemOutcome]) -> None: ...

    def record_usage(self, tenant_id: str, purpose: str, usages: list[Usage]) -> None: ...

    def finalize_syncs(self, tenant_id: str, sync_ids: set[str]) -> None: ...


@dataclass
class BatchReport:
    outcomes: list[ItemOutcome]
    failures: dict[str, str]  # message id -> why it must be retried
    summaries: int = 0
    embedding_calls: int = 0


def _digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, default=str, ensure_ascii=False).encode()).hexdigest()


def attributes_hash(item: ProductItem) -> str:
    """Changes when anything that feeds the summary or the searchable text changes (not price/stock)."""
    return _digest(
        item.item_name, item.description, item.category, item.sub_category, item.brand, item.line, item.item_group_name
    )


def description_hash(item: ProductItem) -> str | None:
    return _digest(item.description) if item.description else None


@dataclass
class _ProductPlan:
    tenant_id: str
    item_code: str
    rows: list[tuple[QueuedItem, ProductItem]]
    item: ProductItem  # the last row of this product in the batch carries its product-level fields
    state: ProductState | None
    stock_changes: list[tuple[ProductItem, dict[str, Any], str]]
    content_changed: bool = False
    needs_summary: bool = False
    needs_embedding: bool = False
    prices_changed: bool = False
    description_text: str = ""
    summary: str | None = None
    summary_model: str | None = None
    text: str = ""
    embedding: list[float] | None = None
    error: str | None = None

    @property
    def changed(self) -> bool:
        return (
            self.content_changed
            or self.needs_summary
            or self.prices_changed
            or bool(self.stock_changes)
            or self.needs_embedding
        )


def enrich_batch(
    items: list[QueuedItem],
    *,
    store: CatalogStore,
    summarizer: Summarizer,
    embedder: Embedder | None,
    max_receives: int,
    parallelism: int = 8,
    unreadable: Sequence[UnreadableItem] = (),
) -> BatchReport:
    if not items and not unreadable:
        return BatchReport([], {})
    messages = [q.message for q in items] + [u.message for u in unreadable]
    tenant_ids = {m.tenant_id for m in messages}
    store.register_batches(messages)

    plans: list[_ProductPlan] = []
    for tenant_id in sorted(tenant_ids):
        plans.extend(_plan(tenant_id, [q for q in items if q.message.tenant_id == tenant_id], store, embedder))

    report = BatchReport([], {})
    _summarize(plans, summarizer, store, parallelism, report)
    if embedder is not None:
        for plan in plans:  # decided after summarizing: a new summary changes the text
            plan.needs_embedding = _needs_embedding(plan, embedder)
    _embed(plans, embedder, store, report)
    # Writes, outcomes and the restore are one unit for a full sync's finalization: it sees all of them or
    # none, and what it deactivated after this batch was planned, the restore puts back.
    writes_catalog = any(plan.error is None and plan.changed for plan in plans)
    with store.batch_transaction(tenant_ids, writes=writes_catalog):
        for plan in plans:
            if plan.error is None and plan.changed:
                try:
                    store.write_product(_to_write(plan, embedder))
                except Exception as exc:  # one product's bad data must not fail the others
                    plan.error = f"{type(exc).__name__}: {exc}"
            for queued, product in plan.rows:
                report.outcomes.append(_outcome(plan, queued, product, max_receives))
                if plan.error is not None:
                    report.failures[queued.message_id] = plan.error
        for broken in unreadable:
            report.outcomes.append(_unreadable_outcome(broken, max_receives))
            report.failures[broken.message_id] = broken.error
        store.record_outcomes(report.outcomes)
        store.restore_named([q for q in items if q.message_id not in report.failures])
    for tenant_id in tenant_ids:
        store.finalize_syncs(tenant_id, {m.sync_id for m in messages if m.tenant_id == tenant_id})
    return report


def _plan(
    tenant_id: str, items: list[QueuedItem], store: CatalogStore, embedder: Embedder | None
) -> list[_ProductPlan]:
    parsed: dict[str, list[tuple[QueuedItem, ProductItem]]] = {}
    for queued in items:
        parsed.setdefault(queued.product.item_code, []).append((queued, queued.product))
    codes = sorted(parsed)
    states = store.load_products(tenant_id, codes)
    stocks = store.load_stock(tenant_id, codes)

    plans = []
    for code in codes:
        rows = parsed[code]
        item = rows[-1][1]
        state = states.get(code)
        stock_changes = []
        for queued, product in rows:
            raw_hash = source_hash(queued.message.item)
            current = stocks.get((code, product.whs_name))
            if current is None or current.source_hash != raw_hash:
                stock_changes.append((product, queued.message.item, raw_hash))
        plan = _ProductPlan(tenant_id, code, rows, item, state, stock_changes)
        new_attributes = attributes_hash(item)
        if state is None:
            plan.content_changed = True
            plan.needs_summary = bool(item.description)
        else:
            plan.content_changed = state.attributes_hash != new_attributes or not state.active
            plan.needs_summary = bool(item.description) and (
                state.description_hash != description_hash(item) or not state.summary
            )
            plan.prices_changed = (state.price, state.price_bolivar) != (item.price, item.price_bolivar)
            plan.summary = state.summary if item.description else None
        if plan.needs_summary or (plan.content_changed and item.description):
            plan.description_text = strip_html(item.description)
            if not plan.description_text:
                plan.needs_summary = False  # markup with no words: nothing to summarize
        if plan.content_changed or plan.needs_summary:
            plan.text = _text(plan)
        else:
            plan.text = state.searchable_text if state else ""
        plans.append(plan)
    return plans


def _needs_embedding(plan: _ProductPlan, embedder: Embedder) -> bool:
    state = plan.state
    return (
        state is None
        or not state.has_embedding
        or state.embedding_model != embedder.model
        or plan.text != state.searchable_text
    )


def _text(plan: _ProductPlan) -> str:
    item = plan.item
    return searchable_text(
        item_code=item.item_code,
        name=item.item_name,
        description=plan.summary or plan.description_text,
        brand=item.brand,
        category=item.category,
        sub_category=item.sub_category,
        line=item.line,
        item_group=item.item_group_name,
    )


def _summarize(
    plans: list[_ProductPlan], summarizer: Summarizer, store: CatalogStore, parallelism: int, report: BatchReport
) -> None:
    todo = [p for p in plans if p.needs_summary]
    if not todo:
        return

    def run(plan: _ProductPlan) -> Usage | None:
        try:
            completion = summarizer.summarize(plan.description_text, product_name=plan.item.item_name)
        except Exception as exc:
            plan.error = f"summary failed: {type(exc).__name__}: {exc}"
            return None
        plan.summary, plan.summary_model = guarded_summary(
            completion, plan.description_text, product_code=plan.item_code
        )
        plan.text = _text(plan)
        return completion.usage

    with ThreadPoolExecutor(max_workers=max(1, min(parallelism, len(todo)))) as pool:
        usages = [u for u in pool.map(run, todo) if u is not None]
    report.summaries += len(usages)
    _record_usage(store, todo, "summary", usages)


def _embed(plans: list[_ProductPlan], embedder: Embedder | None, store: CatalogStore, report: BatchReport) -> None:
    todo = [p for p in plans if p.needs_embedding and p.error is None]
    if embedder is None or not todo:
        return
    try:
        result = embedder.embed([p.text for p in todo])
        report.embedding_calls += 1
        usages = [result.usage]
        for plan, vector in zip(todo, result.vectors, strict=True):
            plan.embedding = vector
    except Exception:
        # One poisoned text can fail a whole request: retry one by one so it fails alone.
        usages = []
        for plan in todo:
            try:
                single = embedder.embed([plan.text])
                report.embedding_calls += 1
                plan.embedding = single.vectors[0]
                usages.append(single.usage)
            except Exception as exc:
                plan.error = f"embedding failed: {type(exc).__name__}: {exc}"
    _record_usage(store, todo, "embedding", usages)


def _record_usage(store: CatalogStore, plans: list[_ProductPlan], purpose: str, usages: list[Usage]) -> None:
    if usages:
        store.record_usage(plans[0].tenant_id, purpose, usages)


def _to_write(plan: _ProductPlan, embedder: Embedder | None) -> ProductWrite:
    item = plan.item
    full = plan.content_changed or plan.needs_summary or plan.embedding is not None
    return ProductWrite(
        tenant_id=plan.tenant_id,
        item_code=plan.item_code,
        full=full,
        item=item,
        description_text=plan.description_text or None,
        description_hash=description_hash(item),
        summary=plan.summary,
        summary_model=plan.summary_model,
        summary_regenerated=plan.summary_model is not None,
        attributes_hash=attributes_hash(item),
        searchable_text=plan.text,
        embedding=plan.embedding,
        embedding_model=embedder.model if plan.embedding is not None and embedder else None,
        # A stale vector is worse than none (full-text still finds the product): keep it only if the text is the same.
        keep_embedding=plan.embedding is None and plan.state is not None and plan.text == plan.state.searchable_text,
        update_prices=plan.prices_changed,
        stock_rows=plan.stock_changes,
    )


def _outcome(plan: _ProductPlan, queued: QueuedItem, item: ProductItem, max_receives: int) -> ItemOutcome:
    message = queued.message
    failed = plan.error is not None
    stock_changed = any(row[0].whs_name == item.whs_name for row in plan.stock_changes)
    product_changed = plan.content_changed or plan.prices_changed or plan.needs_summary or plan.needs_embedding
    outcome: Outcome = "failed" if failed else ("processed" if product_changed or stock_changed else "unchanged")
    return ItemOutcome(
        tenant_id=message.tenant_id,
        sync_id=message.sync_id,
        batch_id=message.batch_id,
        index=message.index,
        item_code=plan.item_code,
        warehouse=item.whs_name,
        outcome=outcome,
        attempt=queued.attempt,
        final=not failed or queued.attempt >= max_receives,
        error=plan.error,
    )


def _unreadable_outcome(broken: UnreadableItem, max_receives: int) -> ItemOutcome:
    message = broken.message
    code = message.item.get("itemCode")
    warehouse = message.item.get("whsName")
    return ItemOutcome(
        tenant_id=message.tenant_id,
        sync_id=message.sync_id,
        batch_id=message.batch_id,
        index=message.index,
        item_code=str(code) if isinstance(code, str | int) and not isinstance(code, bool) else "",
        warehouse=warehouse if isinstance(warehouse, str) else "",
        outcome="failed",
        attempt=broken.attempt,
        final=broken.attempt >= max_receives,
        error=broken.error,
    )


class DeadLetterStore(Protocol):
    def register_batches(self, messages: Iterable[EnrichMessage]) -> None: ...

    def record_dead_letters(self, outcomes: list[ItemOutcome]) -> int: ...

    def finalize_syncs(self, tenant_id: str, sync_ids: set[str]) -> None: ...


def record_dead_letters(
    items: Sequence[QueuedItem], unreadable: Sequence[UnreadableItem], *, store: DeadLetterStore, max_receives: int
) -> int:
    """Items the enrich queue gave up on (dead-lettered after `max_receives` receives) are failed for good,
    whatever made their last receive fail: an item-level error (already counted, left as it is) or a
    handler-level one (the database unreachable, a timeout, out of memory: never counted until now).
    Their syncs then finalize, complete with failures. Returns how many items were newly counted."""
    messages = [q.message for q in items] + [u.message for u in unreadable]
    if not messages:
        return 0
    store.register_batches(messages)
    reason = f"dead-lettered after {max_receives} receives"
    outcomes = [
        ItemOutcome(
            tenant_id=m.tenant_id,
            sync_id=m.sync_id,
            batch_id=m.batch_id,
            index=m.index,
            item_code=_item_text(m.item.get("itemCode")),
            warehouse=_item_text(m.item.get("whsName")),
            outcome="failed",
            attempt=max(attempt, max_receives),
            final=True,
            error=reason,
        )
        for m, attempt in [(q.message, q.attempt) for q in items] + [(u.message, u.attempt) for u in unreadable]
    ]
    counted = store.record_dead_letters(outcomes)
    for tenant_id in sorted({m.tenant_id for m in messages}):
        store.finalize_syncs(tenant_id, {m.sync_id for m in messages if m.tenant_id == tenant_id})
    return counted


def _item_text(value: object) -> str:
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
