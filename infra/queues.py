"""The enrich and knowledge queues (standard) and the reply queue (FIFO, one group per conversation), each
with a DLQ."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.settings import DeploySettings

MAX_RECEIVE_COUNT = 5  # also ENRICH_MAX_RECEIVES: the sync tracker knows when a failure is final
VISIBILITY_FACTOR = 6  # AWS guidance for Lambda consumers: 6x the function timeout (+ the batching window)
DLQ_RETENTION = Duration.days(14)  # the longest SQS allows: time to look at what failed


def visibility_timeout(consumer_timeout: Duration, batching_window: Duration) -> Duration:
    return Duration.seconds(consumer_timeout.to_seconds() * VISIBILITY_FACTOR + batching_window.to_seconds())


class Queues(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: DeploySettings,
        enrich_visibility: Duration,
        reply_visibility: Duration,
        knowledge_visibility: Duration,
    ) -> None:
        super().__init__(scope, construct_id)
        prefix = settings.prefix
        self.max_receive_count = MAX_RECEIVE_COUNT

        # The enrich function also consumes the enrich dead-letter queue (it counts each item there as failed
        # in its sync): a queue an event source reads needs a visibility timeout of at least the function's.
        self.enrich, self.enrich_dlq = self._standard_queue(
            "Enrich", f"{prefix}-enrich", enrich_visibility, dead_letter_visibility=enrich_visibility
        )
        # Uploaded documents and FAQ entries to extract, chunk and embed (docs/knowledge.md).
        self.knowledge, self.knowledge_dlq = self._standard_queue(
            "Knowledge", f"{prefix}-knowledge", knowledge_visibility
        )

        # FIFO: messages of one conversation (the message group) are answered in order. Deduplication is by
        # the MessageDeduplicationId the webhook sets (the platform message id), not by content: two
        # customers (or one customer twice) may well send the same text. The reply function also consumes
        # the reply dead-letter queue (it settles each item there), so its visibility is the reply queue's.
        self.reply_dlq = sqs.Queue(
            self,
            "ReplyDeadLetters",
            queue_name=f"{prefix}-reply-dlq.fifo",
            fifo=True,
            content_based_deduplication=False,
            visibility_timeout=reply_visibility,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DLQ_RETENTION,
        )
        self.reply = sqs.Queue(
            self,
            "Reply",
            queue_name=f"{prefix}-reply.fifo",
            fifo=True,
            content_based_deduplication=False,
            # Throughput limits apply per message group (conversation), not per queue.
            deduplication_scope=sqs.DeduplicationScope.MESSAGE_GROUP,
            fifo_throughput_limit=sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=reply_visibility,
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.reply_dlq, max_receive_count=MAX_RECEIVE_COUNT),
        )

    def _standard_queue(
        self, construct_id: str, name: str, visibility: Duration, *, dead_letter_visibility: Duration | None = None
    ) -> tuple[sqs.Queue, sqs.Queue]:
        """A standard queue and its dead-letter queue (after MAX_RECEIVE_COUNT receives)."""
        dead_letters = sqs.Queue(
            self,
            f"{construct_id}DeadLetters",
            queue_name=f"{name}-dlq",
            visibility_timeout=dead_letter_visibility,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DLQ_RETENTION,
        )
        queue = sqs.Queue(
            self,
            construct_id,
            queue_name=name,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=visibility,
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=MAX_RECEIVE_COUNT),
        )
        return queue, dead_letters

    def by_name(self, name: str) -> sqs.Queue:
        queues = {"enrich": self.enrich, "reply": self.reply, "knowledge": self.knowledge}
        if name not in queues:
            raise KeyError(f"unknown queue {name!r}; expected one of {sorted(queues)}")
        return queues[name]

    @property
    def dead_letter_queues(self) -> dict[str, sqs.Queue]:
        return {"enrich": self.enrich_dlq, "reply": self.reply_dlq, "knowledge": self.knowledge_dlq}
