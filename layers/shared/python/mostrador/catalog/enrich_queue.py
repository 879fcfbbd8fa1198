"""Turning an enrich-queue batch of SQS records into enrichment work with the real collaborators."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from mostrador.catalog.enrichment import BatchReport, QueuedItem, enrich_batch
from mostrador.catalog.models import EnrichMessage, ProductItem
from mostrador.config import Settings
from mostrador.observability import logger


def parse_records(records: list[dict[str, Any]]) -> tuple[list[QueuedItem], dict[str, str]]:
    """Queued items, plus the records that are not valid enrich messages at all (they fail alone)."""
    items: list[QueuedItem] = []
    broken: dict[str, str] = {}
    for record in records:
        try:
            message = EnrichMessage.model_validate_json(record["body"])
            product = ProductItem.model_validate(message.item)
        except (ValidationError, ValueError) as exc:
            logger.error("unreadable enrich message", extra={"message_id": record["messageId"], "error": str(exc)})
            broken[record["messageId"]] = f"unreadable enrich message: {exc}"
            continue
        attempt = int(record.get("attributes", {}).get("ApproximateReceiveCount", "1"))
        items.append(QueuedItem(record["messageId"], message, product, attempt))
    return items, broken


def enrich_records(records: list[dict[str, Any]], settings: Settings) -> tuple[BatchReport, dict[str, str]]:
    """Runs one batch; returns the report and every message id that must be retried, with why."""
    from mostrador.db.catalog_repository import CatalogRepository
    from mostrador.db.connection import get_connection
    from mostrador.llm.providers import embedder_for, summarizer_for

    items, broken = parse_records(records)
    report = enrich_batch(
        items,
        store=CatalogRepository(get_connection()),
        summarizer=summarizer_for(settings),
        embedder=embedder_for(settings),
        max_receives=settings.enrich_max_receives,
    )
    return report, report.failures | broken
