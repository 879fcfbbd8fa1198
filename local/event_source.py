"""Lambda's SQS event source mapping, locally: poll a queue, invoke the consumer with a Lambda-shaped
event, delete only what succeeded (ReportBatchItemFailures), leave failures to come back after the
visibility timeout, and let the queue's redrive policy dead-letter them after maxReceiveCount receives.
Several pollers (`pollers`) invoke the consumer at once, as Lambda scales an event source up to the
function's concurrency; for a FIFO queue the queue keeps each message group to one poller at a time."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from local.sqs_emulator import Queue

MAX_RECEIVE = 10  # ReceiveMessage limit


@dataclass(frozen=True)
class BatchOutcome:
    received: int
    succeeded: int
    failed: int
    error: str | None = None  # the handler raised or answered something Lambda would reject


class SqsEventSource:
    def __init__(
        self,
        client: Any,
        queue: Queue,
        invoke: Callable[[dict[str, Any]], Any],
        *,
        batch_size: int = 10,
        batching_window_seconds: float = 0.0,
        region: str = "us-east-1",
        wait_seconds: int = 1,
        on_batch: Callable[[str, BatchOutcome], None] | None = None,
        pollers: int = 1,
    ) -> None:
        if queue.spec.fifo and (batch_size > 10 or batching_window_seconds):
            raise ValueError("a FIFO event source takes batches of at most 10 and no batching window")
        self.client = client
        self.queue = queue
        self.invoke = invoke
        self.batch_size = batch_size
        self.batching_window_seconds = batching_window_seconds
        self.region = region
        self.wait_seconds = wait_seconds
        self.on_batch = on_batch
        self.pollers = pollers
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for number in range(self.pollers):
            name = f"poller-{self.queue.spec.name}-{number}"
            thread = threading.Thread(target=self._run, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def request_stop(self) -> None:
        """No new batches; a batch being handled finishes (or fails when its worker is stopped)."""
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.wait_seconds + 5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception as error:  # the emulator going away at shutdown, mostly
                if self._stop.is_set():
                    return
                if self.on_batch:
                    self.on_batch(self.queue.spec.name, BatchOutcome(0, 0, 0, error=repr(error)))
                time.sleep(0.5)

    def receive_batch(self) -> list[dict[str, Any]]:
        messages = self._receive(min(MAX_RECEIVE, self.batch_size), self.wait_seconds)
        if not messages or self.queue.spec.fifo:
            return messages
        deadline = time.monotonic() + self.batching_window_seconds
        while len(messages) < self.batch_size and time.monotonic() < deadline and not self._stop.is_set():
            more = self._receive(min(MAX_RECEIVE, self.batch_size - len(messages)), 0)
            if more:
                messages.extend(more)
            else:
                time.sleep(0.05)
        return messages

    def _receive(self, count: int, wait: int) -> list[dict[str, Any]]:
        response = self.client.receive_message(
            QueueUrl=self.queue.url,
            MaxNumberOfMessages=count,
            WaitTimeSeconds=wait,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(response.get("Messages", []))

    def poll_once(self) -> BatchOutcome | None:
        """Receive one batch and run it through the consumer; None when the queue had nothing."""
        messages = self.receive_batch()
        if not messages:
            return None
        event = {"Records": [self.record(message) for message in messages]}
        by_id = {message["MessageId"]: message for message in messages}
        error: str | None = None
        try:
            result = self.invoke(event)
        except Exception as raised:
            # A function error fails the whole batch: nothing is deleted.
            failed_ids, error = set(by_id), _describe_error(raised)
        else:
            failed_ids, error = _failed_ids(result, set(by_id))
        succeeded = [by_id[message_id] for message_id in by_id if message_id not in failed_ids]
        for start in range(0, len(succeeded), MAX_RECEIVE):
            chunk = succeeded[start : start + MAX_RECEIVE]
            self.client.delete_message_batch(
                QueueUrl=self.queue.url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
        outcome = BatchOutcome(len(messages), len(succeeded), len(failed_ids), error)
        if self.on_batch:
            self.on_batch(self.queue.spec.name, outcome)
        return outcome

    def record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": {key: str(value) for key, value in message.get("Attributes", {}).items()},
            "messageAttributes": {
                name: _lambda_message_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue.arn,
            "awsRegion": self.region,
        }


def _describe_error(raised: Exception) -> str:
    from local.functions import FunctionError, describe_error

    # A handler run in a worker process raised there: the worker described it.
    return raised.description if isinstance(raised, FunctionError) else describe_error(raised)


def _lambda_message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    binary = value.get("BinaryValue")
    return {
        "stringValue": value.get("StringValue"),
        "binaryValue": base64.b64encode(binary).decode() if binary is not None else None,
        "stringListValues": list(value.get("StringListValues", [])),
        "binaryListValues": [base64.b64encode(b).decode() for b in value.get("BinaryListValues", [])],
        "dataType": value.get("DataType", "String"),
    }


def _failed_ids(result: Any, batch_ids: set[str]) -> tuple[set[str], str | None]:
    """What Lambda makes of a ReportBatchItemFailures response."""
    if result is None or (isinstance(result, dict) and not result.get("batchItemFailures")):
        return set(), None
    if not isinstance(result, dict) or not isinstance(result.get("batchItemFailures"), list):
        return batch_ids, f"unexpected response {result!r}: the whole batch fails"
    failed: set[str] = set()
    for failure in result["batchItemFailures"]:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in batch_ids:
            # Lambda treats an empty or unknown itemIdentifier as a failure of the whole batch.
            return batch_ids, f"invalid itemIdentifier {identifier!r}: the whole batch fails"
        failed.add(identifier)
    return failed, None
