"""Putting document messages on the knowledge queue (boto3 only, like mostrador.queues)."""

from __future__ import annotations

from mostrador.knowledge.library import Enqueue, QueueUnavailable
from mostrador.knowledge.processing import DocumentMessage
from mostrador.queues import OutgoingMessage, send_messages


def queue_sender(queue_url: str | None) -> Enqueue:
    def send(message: DocumentMessage) -> None:
        if not queue_url:
            raise QueueUnavailable("KNOWLEDGE_QUEUE_URL is not configured: documents cannot be processed")
        try:
            failures = send_messages(queue_url, [OutgoingMessage("0", message.model_dump())])
        except Exception as error:  # botocore's connection and client errors alike
            raise QueueUnavailable(
                f"the knowledge queue refused the document ({type(error).__name__}); send the same request again"
            ) from None
        if failures:
            raise QueueUnavailable(
                f"the knowledge queue refused the document ({failures[0].code}); send the same request again"
            )

    return send
