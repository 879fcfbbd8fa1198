"""Knowledge queue consumer: each record is one document (or FAQ entry) to extract, chunk, embed in
one call and swap in atomically (mostrador.knowledge.processing). Records are reported one by one,
so only a failed one is retried; after KNOWLEDGE_MAX_RECEIVES it is dead-lettered (and alarms)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from mostrador.config import get_settings
from mostrador.knowledge.processing import DocumentMessage, process_document
from mostrador.observability import logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def process_record(record: SQSRecord) -> str:
    from mostrador.db.connection import get_connection
    from mostrador.knowledge.files import FileStore, file_store_from_settings
    from mostrador.llm.providers import embedder_for

    settings = get_settings()
    message = DocumentMessage.model_validate_json(record.body)
    files: FileStore | None = None
    if settings.knowledge_bucket or settings.knowledge_files_dir:
        files = file_store_from_settings(settings)
    outcome = process_document(
        get_connection(),
        files,
        embedder_for(settings),
        message,
        attempt=int(record.attributes.approximate_receive_count or 1),
        max_receives=settings.knowledge_max_receives,
    )
    metrics.add_metric(name=f"Documents{outcome.outcome.capitalize()}", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="KnowledgeChunksEmbedded", unit=MetricUnit.Count, value=outcome.embedded)
    metrics.add_metric(name="KnowledgeEmbeddingCalls", unit=MetricUnit.Count, value=outcome.embedding_calls)
    logger.info("knowledge message handled", extra={"document_id": message.documentId, "outcome": outcome.outcome})
    return outcome.outcome


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=process_record, processor=processor, context=context)
