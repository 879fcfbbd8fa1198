"""Turning an enrich-queue batch of SQS records into enrichment work with the real collaborators."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from mostrador.catalog.enrichment import BatchReport, QueuedItem, UnreadableItem, enrich_batch, record_dead_letters
from mostrador.catalog.models import EnrichMessage, ProductItem
from mostrador.config import Settings
from mostrador.observability import logger


@dataclass
class ParsedRecords:
    items: list[QueuedItem] = field(default_factory=list)
    # A valid envelope around an item that cannot be stored (queued before ingest checked for it): it
    # fails alone and is counted as failed in its sync.
    unreadable: list[UnreadableItem] = field(default_factory=list)
    # Not an enrich message at all: no sync to count it in; it fails alone into the dead-letter queue.
    broken: dict[str, str] = field(default_factory=dict)


def parse_records(records: list[dict[str, Any]]) -> ParsedRecords:
    parsed = ParsedRecords()
    for record in records:
        message_id = record["messageId"]
        attempt = int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))
        try:
            message = EnrichMessage.model_validate_json(record["body"])
        except (ValidationError, ValueError) as exc:
            logger.error("unreadable enrich message", extra={"message_id": message_id, "error": str(exc)})
            parsed.broken[message_id] = f"unreadable enrich message: {exc}"
            continue
        try:
            product = ProductItem.model_validate(message.item)
        except ValidationError as exc:
            reasons = "; ".join(str(e.get("msg", "invalid")) for e in exc.errors())
            logger.error("unstorable catalog item", extra={"message_id": message_id, "sync_id": message.sync_id})
            parsed.unreadable.append(UnreadableItem(message_id, message, attempt, f"invalid item: {reasons}"))
            continue
        parsed.items.append(QueuedItem(message_id, message, product, attempt))
    return parsed


def enrich_records(records: list[dict[str, Any]], settings: Settings) -> tuple[BatchReport, dict[str, str]]:
    """Runs one batch; returns the report and every message id that must be retried, with why."""
    from mostrador.db.catalog_repository import CatalogRepository
    from mostrador.db.connection import get_connection
    from mostrador.llm.providers import embedder_for, summarizer_for

    parsed = parse_records(records)
    report = enrich_batch(
        parsed.items,
        store=CatalogRepository(get_connection()),
        summarizer=summarizer_for(settings),
        embedder=embedder_for(settings),
        max_receives=settings.enrich_max_receives,
        unreadable=parsed.unreadable,
    )
    return report, report.failures | parsed.broken


def record_dead_lettered_records(records: list[dict[str, Any]], settings: Settings) -> int:
    """Counts every dead-lettered item as failed in its sync and finalizes the sync; returns how many items
    were newly counted. A record that is no enrich message at all names no sync: logged and let go."""
    from mostrador.db.catalog_repository import CatalogRepository
    from mostrador.db.connection import get_connection

    parsed = parse_records(records)
    for message_id in parsed.broken:
        logger.error("dead-lettered enrich record names no sync", extra={"message_id": message_id})
    return record_dead_letters(
        parsed.items,
        parsed.unreadable,
        store=CatalogRepository(get_connection()),
        max_receives=settings.enrich_max_receives,
    )
