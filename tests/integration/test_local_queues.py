"""The queue semantics the handlers rely on in AWS, as the local stack provides them: moto's SQS server
(real boto3 over HTTP on 127.0.0.1) plus the local event source mapping."""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from local.event_source import SqsEventSource
from local.sqs_emulator import Queue, QueueSpec, SqsEmulator
from tests.integration import sqs_support

emulator = sqs_support.emulator  # a fixture


def make_queue(emulator: SqsEmulator, *, fifo: bool, max_receives: int = 5) -> Queue:
    spec = QueueSpec(name=f"t-{uuid.uuid4().hex[:10]}", fifo=fifo, visibility_timeout=1, max_receives=max_receives)
    return emulator.create_queue(spec)


def send(emulator: SqsEmulator, queue: Queue, body: str, group: str | None = None, dedup: str | None = None) -> None:
    extra: dict[str, Any] = {}
    if group is not None:
        extra = {"MessageGroupId": group, "MessageDeduplicationId": dedup or body}
    emulator.client.send_message(
        QueueUrl=queue.url,
        MessageBody=body,
        MessageAttributes={"source": {"DataType": "String", "StringValue": "test"}},
        **extra,
    )


def counts(emulator: SqsEmulator, url: str) -> tuple[int, int]:
    attributes = emulator.client.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


class Consumer:
    """Stands in for a consumer function: records every event, fails the bodies it is told to."""

    def __init__(self, fail: Callable[[dict[str, Any]], bool] = lambda record: False) -> None:
        self.fail = fail
        self.events: list[list[dict[str, Any]]] = []
        self.done: list[str] = []

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        self.events.append(event["Records"])
        failures = []
        for record in event["Records"]:
            if self.fail(record):
                failures.append({"itemIdentifier": record["messageId"]})
            else:
                self.done.append(record["body"])
        return {"batchItemFailures": failures}

    def bodies_seen(self) -> list[str]:
        return [record["body"] for batch in self.events for record in batch]


def poll_until(source: SqsEventSource, condition: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        source.poll_once()


def test_standard_queue_batches_up_to_the_batch_size_in_lambda_shape(emulator: SqsEmulator) -> None:
    queue = make_queue(emulator, fifo=False)
    for n in range(30):
        send(emulator, queue, json.dumps({"n": n}))
    consumer = Consumer()
    source = SqsEventSource(emulator.client, queue, consumer, batch_size=25, batching_window_seconds=0.5)

    outcome = source.poll_once()

    assert outcome is not None and outcome.received == 25 and outcome.succeeded == 25
    record = consumer.events[0][0]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == queue.arn
    assert record["awsRegion"] == "us-east-1"
    assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()  # noqa: S324
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["attributes"]["SentTimestamp"].isdigit()
    assert record["messageAttributes"]["source"]["stringValue"] == "test"
    assert record["messageAttributes"]["source"]["dataType"] == "String"
    assert record["receiptHandle"] and record["messageId"]
    poll_until(source, lambda: len(consumer.done) == 30)
    assert sorted(json.loads(body)["n"] for body in consumer.done) == list(range(30))
    assert counts(emulator, queue.url) == (0, 0)


def test_only_successful_records_are_deleted_and_failures_return_after_the_visibility_timeout(
    emulator: SqsEmulator,
) -> None:
    queue = make_queue(emulator, fifo=False)
    for body in ("good-1", "poison", "good-2"):
        send(emulator, queue, body)
    attempts: list[str] = []

    def fail_poison_once(record: dict[str, Any]) -> bool:
        if record["body"] != "poison":
            return False
        attempts.append(record["attributes"]["ApproximateReceiveCount"])
        return len(attempts) == 1

    consumer = Consumer(fail_poison_once)
    source = SqsEventSource(emulator.client, queue, consumer, batch_size=10, batching_window_seconds=0.3)

    first = source.poll_once()
    assert first is not None and (first.succeeded, first.failed) == (2, 1)
    assert counts(emulator, queue.url) == (0, 1)  # the poison item is in flight, the others are gone
    assert source.poll_once() is None  # not redelivered before its visibility timeout
    poll_until(source, lambda: "poison" in consumer.done)

    assert attempts == ["1", "2"]
    assert sorted(consumer.done) == ["good-1", "good-2", "poison"]
    assert counts(emulator, queue.url) == (0, 0)


def test_a_handler_error_fails_the_whole_batch(emulator: SqsEmulator) -> None:
    queue = make_queue(emulator, fifo=False)
    send(emulator, queue, "a")
    send(emulator, queue, "b")
    calls: list[int] = []

    def crash_first_time(event: dict[str, Any]) -> None:
        calls.append(len(event["Records"]))
        if len(calls) == 1:
            raise RuntimeError("boom")

    source = SqsEventSource(emulator.client, queue, crash_first_time, batch_size=10, batching_window_seconds=0.3)
    outcome = source.poll_once()
    assert outcome is not None and outcome.failed == 2 and outcome.error and "boom" in outcome.error
    assert counts(emulator, queue.url) == (0, 2)
    poll_until(source, lambda: counts(emulator, queue.url) == (0, 0))
    assert sum(calls) == 4


def test_an_unknown_item_identifier_fails_the_whole_batch(emulator: SqsEmulator) -> None:
    queue = make_queue(emulator, fifo=False)
    send(emulator, queue, "a")
    source = SqsEventSource(
        emulator.client, queue, lambda event: {"batchItemFailures": [{"itemIdentifier": "nope"}]}, batch_size=10
    )
    outcome = source.poll_once()
    assert outcome is not None and outcome.failed == 1 and outcome.error
    assert counts(emulator, queue.url) == (0, 1)


def test_a_message_that_keeps_failing_is_dead_lettered_after_max_receives(emulator: SqsEmulator) -> None:
    queue = make_queue(emulator, fifo=False, max_receives=3)
    send(emulator, queue, "poison")
    send(emulator, queue, "fine")
    consumer = Consumer(lambda record: record["body"] == "poison")
    source = SqsEventSource(emulator.client, queue, consumer, batch_size=10, batching_window_seconds=0.2)

    poll_until(source, lambda: counts(emulator, queue.dlq_url)[0] == 1)

    assert consumer.bodies_seen().count("poison") == 3
    assert consumer.done == ["fine"]
    dead = emulator.client.receive_message(QueueUrl=queue.dlq_url, MessageSystemAttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in dead] == ["poison"]
    assert counts(emulator, queue.url) == (0, 0)


def test_fifo_keeps_order_per_group_and_blocks_a_group_while_it_has_a_message_in_flight(
    emulator: SqsEmulator,
) -> None:
    from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response

    queue = make_queue(emulator, fifo=True)
    for body, group in [("A1", "A"), ("B1", "B"), ("A2", "A"), ("B2", "B"), ("A3", "A")]:
        send(emulator, queue, body, group=group)
    processed: list[str] = []
    failed_once: set[str] = set()

    def record_handler(record: Any) -> None:
        if record.body == "A1" and "A1" not in failed_once:
            failed_once.add("A1")
            raise RuntimeError("transient")
        processed.append(record.body)

    def consumer(event: dict[str, Any]) -> dict[str, Any]:
        # The real Powertools FIFO processor the reply function uses: a failure skips the rest of its group.
        processor = SqsFifoPartialProcessor(skip_group_on_error=True)
        return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=None)

    source = SqsEventSource(emulator.client, queue, consumer, batch_size=10)
    first = source.poll_once()
    assert first is not None and first.received == 5 and first.failed == 3
    assert processed == ["B1", "B2"]

    send(emulator, queue, "B3", group="B")
    send(emulator, queue, "A4", group="A")
    second = source.poll_once()
    assert second is not None and second.received == 1  # only B3: group A is still in flight
    assert processed == ["B1", "B2", "B3"]

    poll_until(source, lambda: len(processed) == 7)
    assert [b for b in processed if b.startswith("A")] == ["A1", "A2", "A3", "A4"]
    assert [b for b in processed if b.startswith("B")] == ["B1", "B2", "B3"]


def test_fifo_deduplicates_by_id_for_five_minutes_even_after_the_first_copy_was_consumed(
    emulator: SqsEmulator,
) -> None:
    queue = make_queue(emulator, fifo=True)
    send(emulator, queue, "hello", group="c1", dedup="wamid.1")
    send(emulator, queue, "hello again", group="c1", dedup="wamid.1")  # while the first is queued
    consumer = Consumer()
    source = SqsEventSource(emulator.client, queue, consumer, batch_size=10)
    poll_until(source, lambda: len(consumer.done) == 1)

    send(emulator, queue, "redelivered", group="c1", dedup="wamid.1")  # after it was processed and deleted
    send(emulator, queue, "next", group="c1", dedup="wamid.2")
    poll_until(source, lambda: len(consumer.done) == 2)
    assert source.poll_once() is None
    assert consumer.done == ["hello", "next"]


@pytest.mark.parametrize("per_group", [True, False])
def test_fifo_deduplication_is_per_message_group_when_the_queue_is_made_so(
    emulator: SqsEmulator, per_group: bool
) -> None:
    # The reply queue on AWS has DeduplicationScope messageGroup (infra/queues.py): the same id in two
    # conversations is two messages there, and must be here too; a queue-scoped queue keeps one.
    spec = QueueSpec(f"t-{uuid.uuid4().hex[:10]}", True, 1, 5, per_group_deduplication=per_group)
    queue = emulator.create_queue(spec)
    attributes = emulator.client.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["All"])["Attributes"]
    assert attributes["DeduplicationScope"] == ("messageGroup" if per_group else "queue")
    send(emulator, queue, "acme", group="tenant-a:c1", dedup="in.1")
    send(emulator, queue, "beta", group="tenant-b:c1", dedup="in.1")
    send(emulator, queue, "acme again", group="tenant-a:c1", dedup="in.1")  # a duplicate in either scope
    consumer = Consumer()
    source = SqsEventSource(emulator.client, queue, consumer, batch_size=10)
    expected = ["acme", "beta"] if per_group else ["acme"]
    poll_until(source, lambda: sorted(consumer.done) == expected)
    assert source.poll_once() is None
    assert sorted(consumer.done) == expected


def test_fifo_event_source_refuses_lambda_forbidden_settings(emulator: SqsEmulator) -> None:
    queue = make_queue(emulator, fifo=True)
    with pytest.raises(ValueError):
        SqsEventSource(emulator.client, queue, Consumer(), batch_size=25)


def test_a_webhook_post_of_a_thousand_statuses_is_queued_and_consumed_within_seconds(
    emulator: SqsEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14, item 15: the emulator was quadratic in the events of one POST (200 WhatsApp statuses took
    3.8 s, 1,000 more than 120 s). Through the real webhook handler and boto3; the bounds are generous."""
    from mostrador import queues
    from mostrador.config import reset_settings
    from tests.integration.test_webhook import APP_SECRET, post_meta
    from tests.unit.channels.payloads import wa_status, whatsapp_delivery, whatsapp_value

    queue = make_queue(emulator, fifo=True)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", emulator.endpoint)
    monkeypatch.setenv("REPLY_QUEUE_URL", queue.url)
    monkeypatch.setenv("META_APP_SECRET", APP_SECRET)
    queues.reset_clients()
    reset_settings()
    wamids = [f"wamid.OUT{n:04d}" for n in range(1000)]
    payload = whatsapp_delivery(whatsapp_value(statuses=[wa_status("delivered", wamid=w) for w in wamids]))

    began = time.monotonic()
    response = post_meta("/webhooks/whatsapp", payload)
    queued_in = time.monotonic() - began
    consumer = Consumer()
    source = SqsEventSource(emulator.client, queue, consumer, batch_size=10)
    poll_until(source, lambda: len(consumer.done) == 1000, seconds=90)
    consumed_in = time.monotonic() - began - queued_in
    queues.reset_clients()

    assert response["statusCode"] == 200 and "Queued 1000" in response["body"]
    assert queued_in < 30, f"one POST of 1,000 events took {queued_in:.1f} s to queue"
    assert consumed_in < 60, f"consuming 1,000 events took {consumed_in:.1f} s"
    # One customer, one message group: in order, each once.
    assert [json.loads(body)["status"]["platform_message_id"] for body in consumer.done] == wamids


@pytest.mark.parametrize("fifo", [True, False])
def test_queue_attributes_read_one_by_one_are_what_moto_computes(emulator: SqsEmulator, fifo: bool) -> None:
    queue = make_queue(emulator, fifo=fifo)
    for n in range(6):
        send(emulator, queue, f"m{n}", group="g" if fifo else None)
    emulator.client.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=2)
    from moto.sqs.models import Queue as MotoQueue
    from moto.sqs.models import sqs_backends

    moto_queue = sqs_backends["123456789012"]["us-east-1"].queues[queue.url.rsplit("/", 1)[1]]
    assert dict(moto_queue.attributes) == MotoQueue.attributes.fget(moto_queue)  # type: ignore[attr-defined]
    assert (moto_queue.attributes["ApproximateNumberOfMessages"], len(moto_queue.messages)) == (
        (0, 0) if fifo else (4, 4)  # a FIFO group with messages in flight offers nothing
    )


def test_several_pollers_on_one_fifo_queue_get_each_message_once_and_each_group_in_order(
    emulator: SqsEmulator,
) -> None:
    queue = make_queue(emulator, fifo=True)
    groups = [f"c{g}" for g in range(6)]
    for n in range(30):
        for group in groups:
            send(emulator, queue, f"{group}:{n:02d}", group=group, dedup=f"{group}-{n}")
    consumer = Consumer()
    lock = threading.Lock()

    def consume(event: dict[str, Any]) -> dict[str, Any]:
        time.sleep(0.01)  # long enough for the other pollers to ask meanwhile
        with lock:
            return consumer(event)

    sources = [SqsEventSource(emulator.client, queue, consume, batch_size=10) for _ in range(4)]
    for source in sources:
        source.start()
    try:
        deadline = time.monotonic() + 60
        while len(consumer.done) < 180 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        for source in sources:
            source.stop()

    assert sorted(consumer.done) == sorted(f"{g}:{n:02d}" for g in groups for n in range(30))
    for group in groups:
        mine = [body for body in consumer.done if body.startswith(f"{group}:")]
        assert mine == sorted(mine), f"group {group} out of order"
