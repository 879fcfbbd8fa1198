"""Reply function: the FIFO consumer of the reply queue (one message group per conversation).

A failing item (LLM providers all down, a transient send error) is reported as a batch item
failure; with skip_group_on_error the rest of its conversation waits for the retry, so messages of
one conversation are never answered out of order, while other conversations keep flowing. On the
item's last receive (REPLY_MAX_RECEIVES, the queue's maxReceiveCount) a send that still fails is
recorded `failed` rather than left `pending` in the dead-letter queue.

A burst timer that is not due yet is handed back to SQS, invisible until it is (reply_queue.defer_record);
timers run after the batch's customer messages, so a reply sees the newest of them.

It also consumes the reply dead-letter queue: what failed on every receive is settled there (a customer
message `failed` / `dead_lettered` and the messages waiting behind it answered; docs/conversations.md).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from mostrador.config import get_settings
from mostrador.conversations.reply import ReplyService
from mostrador.conversations.reply_queue import ItemDeferred, defer_record, parse_reply_queue_envelope, timers_last
from mostrador.conversations.tenant_services import TenantReplyServices
from mostrador.db.connection import get_connection
from mostrador.observability import logger, metrics, tracer
from mostrador.queues import is_dead_letter_batch
from mostrador.tenancy.secrets import tenant_secret_store


class ReplyQueueProcessor(SqsFifoPartialProcessor):
    """A burst timer handed back to SQS until it is due fails its record on purpose: a batch of nothing
    but such timers is not a function error (it would trip the Errors alarm on every burst)."""

    def _clean(self) -> None:
        deferred_only = bool(self.exceptions) and all(isinstance(info[1], ItemDeferred) for info in self.exceptions)
        self.raise_on_entire_batch_failure = not deferred_only
        super()._clean()


processor = ReplyQueueProcessor(skip_group_on_error=True)
# A dead letter that cannot be settled now (the database still down) stays in the dead-letter queue and
# comes back after its visibility timeout; the rest of its conversation's dead letters wait behind it.
dead_letter_processor = SqsFifoPartialProcessor(skip_group_on_error=True)
_services: TenantReplyServices | None = None


def reply_service(tenant_id: str) -> ReplyService:
    """The tenant's service (its settings, secrets, models and senders), kept per execution environment
    and rebuilt when the deployment's settings, the connection or the tenant's settings change."""
    global _services
    settings, conn = get_settings(), get_connection()
    if _services is None or _services.base is not settings or _services.conn is not conn:
        _services = TenantReplyServices(settings, conn, tenant_secret_store(settings))
    return _services.for_tenant(tenant_id)


def record_handler(record: SQSRecord) -> None:
    envelope = parse_reply_queue_envelope(record.body)
    # On its last receive a failing item would go to the dead-letter queue unrecorded: record it instead.
    final = int(record.attributes.approximate_receive_count or 1) >= get_settings().reply_max_receives
    service = reply_service(envelope.item.tenant_id)
    outcome = service.handle(envelope.item, envelope.conversation_id, final_attempt=final)
    logger.info("reply queue item done", extra={"action": outcome.action, "reason": outcome.reason})
    if outcome.action == "deferred":
        defer_record(
            record.receipt_handle, record.event_source_arn, outcome.retry_after or 0, get_settings().reply_queue_url
        )


def dead_letter_handler(record: SQSRecord) -> None:
    metrics.add_metric(name="ReplyItemsDeadLettered", unit=MetricUnit.Count, value=1)
    try:
        envelope = parse_reply_queue_envelope(record.body)
    except ValueError as error:  # never a reply queue item: nothing to settle
        logger.error("unreadable dead-lettered reply item dropped", extra={"error": str(error)[:300]})
        return
    outcome = reply_service(envelope.item.tenant_id).handle_dead_letter(envelope.item, envelope.conversation_id)
    logger.warning("dead-lettered reply item settled", extra={"action": outcome.action, "reason": outcome.reason})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if is_dead_letter_batch(event.get("Records") or []):
        return dict(
            process_partial_response(
                event=event, record_handler=dead_letter_handler, processor=dead_letter_processor, context=context
            )
        )
    event = {**event, "Records": timers_last(list(event.get("Records") or []))}
    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )
