"""A queue with a dead-letter queue on moto's SQS server, as the stack declares them (infra/queues.py):
the consumer fixtures (catalog, channels, knowledge) each make one. No tests here."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DeadLetteredQueue:
    url: str
    arn: str
    dlq_url: str


def queue_with_dead_letters(
    sqs: Any, name: str, *, max_receives: int, visibility_timeout: int | None = None, fifo: bool = False
) -> DeadLetteredQueue:
    """`name`-<random> (+ `.fifo`), sending a message to `name`-dlq-<random> after `max_receives` receives."""
    suffix = uuid.uuid4().hex[:10] + (".fifo" if fifo else "")
    fifo_attributes = {"FifoQueue": "true"} if fifo else {}
    dlq = sqs.create_queue(QueueName=f"{name}-dlq-{suffix}", Attributes=fifo_attributes)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    attributes = {
        **fifo_attributes,
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receives)}),
    }
    if visibility_timeout is not None:
        attributes["VisibilityTimeout"] = str(visibility_timeout)
    url = sqs.create_queue(QueueName=f"{name}-{suffix}", Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return DeadLetteredQueue(url, arn, dlq)
