"""Enrich queue consumer: the whole batch is enriched together (one embedding call), then each
record is reported on its own so only the failed ones are retried.

It also consumes the enrich dead-letter queue: each item there is counted as failed in its sync (whatever
failed on its last receive, the handler included), so the sync completes (docs/catalog.md)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from mostrador.catalog.enrich_queue import enrich_records, record_dead_lettered_records
from mostrador.config import get_settings
from mostrador.observability import logger, metrics, tracer
from mostrador.queues import is_dead_letter_batch

# A batch whose every item failed is reported item by item too: the retries and the DLQ work the
# same, and one poisoned product alone in its batch does not count as a function error.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


class EnrichmentFailed(Exception):
    pass


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = event.get("Records", [])
    if is_dead_letter_batch(records):
        # All or nothing: a failure here (the database down) leaves the whole batch in the dead-letter queue
        # for the next receive; recording is idempotent.
        counted = record_dead_lettered_records(records, get_settings())
        metrics.add_metric(name="ItemsDeadLettered", unit=MetricUnit.Count, value=len(records))
        logger.warning("dead-lettered enrich items recorded", extra={"records": len(records), "newly_failed": counted})
        return {"batchItemFailures": []}
    report, failed = enrich_records(event.get("Records", []), get_settings())
    for outcome in ("processed", "unchanged", "failed"):
        count = sum(1 for o in report.outcomes if o.outcome == outcome)
        metrics.add_metric(name=f"Items{outcome.capitalize()}", unit=MetricUnit.Count, value=count)
    metrics.add_metric(name="SummariesGenerated", unit=MetricUnit.Count, value=report.summaries)
    metrics.add_metric(name="EmbeddingCalls", unit=MetricUnit.Count, value=report.embedding_calls)

    def report_record(record: SQSRecord) -> None:
        if record.message_id in failed:
            raise EnrichmentFailed(failed[record.message_id])

    return process_partial_response(event=event, record_handler=report_record, processor=processor, context=context)
