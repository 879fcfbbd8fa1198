"""SQS on 127.0.0.1: moto's SQS server, spoken to by the real boto3, with its gaps filled.

What moto 5 does as SQS does (read in moto/sqs/models.py and checked by tests/integration/test_local_queues.py):
visibility timeouts (whole seconds), ApproximateReceiveCount, redrive to the dead-letter queue once a message
has been received maxReceiveCount times, FIFO order within a message group and no delivery from a group while
one of its messages is in flight. Filled for the queues created here (`_patch_queue`):

* moto deduplicates a FIFO message only against messages still in the queue, while SQS remembers a
  deduplication id for five minutes after the first send, even once the message is deleted
  (`DeduplicationWindow`). moto also ignores `DeduplicationScope`; here a queue created with
  `per_group_deduplication` (the reply queue, as infra/queues.py makes it on AWS) remembers the id per
  message group: the same id in two groups is two messages.
* moto decides group by group as it scans, and a message whose visibility timeout has passed still counts
  as in flight until the scan reaches it, so when a failed group comes back it can deliver the group's last
  message first. Here a group offers only the messages before its first one in flight, and a message stops
  blocking its group as soon as its visibility timeout passes (`Deliverable`), so a group resumes in order.
* moto costs a pass over the whole queue several times per message sent, received or deleted (it builds
  every queue attribute, counts included, to read one; it lists every visible message to take ten), so a
  webhook POST of n events took time in n². Here each costs about the same whatever the queue holds
  (`QueueAttributes`, `Deliverable`, `_delete_message`).
* moto's server answers requests on several threads and does not lock a queue; with several pollers on one
  queue (the local stack runs a pool per function), two could receive the same message, or a FIFO group's
  messages out of order. Here receives, sends and deletes of a queue take turns (`_serialize_receives`).
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlparse

DEDUPLICATION_WINDOW_MS = 5 * 60 * 1000


@dataclass(frozen=True)
class QueueSpec:
    name: str  # without ".fifo"
    fifo: bool
    visibility_timeout: int  # seconds
    max_receives: int  # receives before the message moves to the dead-letter queue
    # FIFO only: DeduplicationScope messageGroup (and FifoThroughputLimit perMessageGroupId), else per queue.
    per_group_deduplication: bool = False


@dataclass(frozen=True)
class Queue:
    spec: QueueSpec
    url: str
    arn: str
    dlq_url: str
    dlq_arn: str


class SqsEmulator:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, region: str = "us-east-1") -> None:
        self.host = host
        self.port = port
        self.region = region
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._client: Any = None

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        class QuietHandler(MotoRequestHandler):  # type: ignore[misc]
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                pass

        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(self.host, self.port, app, threaded=True, request_handler=QuietHandler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="sqs-emulator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client(
                "sqs",
                endpoint_url=self.endpoint,
                region_name=self.region,
                aws_access_key_id="local",
                aws_secret_access_key="local",  # noqa: S106 - the emulator accepts anything
            )
        return self._client

    def create_queue(self, spec: QueueSpec) -> Queue:
        suffix = ".fifo" if spec.fifo else ""
        fifo_attributes = {"FifoQueue": "true"} if spec.fifo else {}
        dlq_url = self.client.create_queue(QueueName=f"{spec.name}-dlq{suffix}", Attributes=fifo_attributes)["QueueUrl"]
        dlq_arn = self._arn(dlq_url)
        redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(spec.max_receives)})
        if spec.fifo and spec.per_group_deduplication:
            fifo_attributes.update(DeduplicationScope="messageGroup", FifoThroughputLimit="perMessageGroupId")
        url = self.client.create_queue(
            QueueName=f"{spec.name}{suffix}",
            Attributes={**fifo_attributes, "VisibilityTimeout": str(spec.visibility_timeout), "RedrivePolicy": redrive},
        )["QueueUrl"]
        _patch_queue(url, self.region)
        return Queue(spec=spec, url=url, arn=self._arn(url), dlq_url=dlq_url, dlq_arn=dlq_arn)

    def _arn(self, url: str) -> str:
        attributes = self.client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
        return str(attributes["QueueArn"])


class _InFlight(set[Any]):
    """moto's set of in-flight messages, seen without those whose visibility timeout has passed."""

    def __iter__(self) -> Iterator[Any]:
        return iter([message for message in list(super().__iter__()) if not message.visible])


class Deliverable:
    """moto's `Queue.messages` (visible and not delayed; in a FIFO queue, in each group none after the group's
    first message in flight or delayed), produced as it is read: ReceiveMessage stops after one batch and a
    long poll's wake-up check after the first message, where moto built the list of the whole queue."""

    def __init__(self, queue: Any) -> None:
        self._queue = queue

    def __iter__(self) -> Iterator[Any]:
        from moto.core.utils import unix_time_millis

        now = unix_time_millis()
        fifo = self._queue.fifo_queue
        stopped: set[str] = set()
        # Receives and sends hold the queue's lock (`_serialize_receives`): the list does not change under us.
        for message in self._queue._messages:
            if fifo and message.group_id in stopped:
                continue
            if now <= message.visible_at or now < message.delayed_until:  # not Message.visible, or .delayed
                if fifo:
                    stopped.add(message.group_id)
                continue
            yield message

    def __bool__(self) -> bool:
        return next(iter(self), None) is not None

    def __len__(self) -> int:
        return sum(1 for _ in self)


class QueueAttributes(Mapping[str, Any]):
    """moto's `Queue.attributes`, each value computed when read. moto reads one or two of them
    (ContentBasedDeduplication, MessageRetentionPeriod) for every message sent or received, and building
    them all counts the queue's messages three times."""

    def __init__(self, queue: Any) -> None:
        self._queue = queue
        names = list(queue.BASE_ATTRIBUTES)
        if queue.fifo_queue:
            names += queue.FIFO_ATTRIBUTES
        if queue.kms_master_key_id:
            names += queue.KMS_ATTRIBUTES
        self._names = dict.fromkeys(names)

    def __getitem__(self, name: str) -> Any:
        if name not in self._names:
            raise KeyError(name)
        queue = self._queue
        if name == "RedrivePolicy" and queue.redrive_policy:
            return json.dumps(queue.redrive_policy)
        value = getattr(queue, _field_name(name))
        return str(value).lower() if isinstance(value, bool) else value

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


@lru_cache(maxsize=64)
def _field_name(attribute: str) -> str:
    from moto.core.utils import camelcase_to_underscores

    return str(camelcase_to_underscores(attribute))


class DeduplicationWindow:
    """The deduplication ids a FIFO queue was sent in the last five minutes, deleted or not, as SQS keeps them."""

    def __init__(self) -> None:
        self._first_sent: dict[str, int] = {}
        self._order: deque[tuple[int, str]] = deque()

    def first_time(self, deduplication_id: str, sent_ms: int) -> bool:
        while self._order and sent_ms - self._order[0][0] >= DEDUPLICATION_WINDOW_MS:
            sent, key = self._order.popleft()
            if self._first_sent.get(key) == sent:
                del self._first_sent[key]
        if deduplication_id in self._first_sent:
            return False
        self._first_sent[deduplication_id] = sent_ms
        self._order.append((sent_ms, deduplication_id))
        return True


def _add_fifo_message(queue: Any, message: Any) -> None:
    """Replaces moto's add_message, which scans the whole queue for the deduplication id."""
    with queue._messages_lock:
        dedup_id = message.deduplication_id
        if dedup_id and queue.deduplication_scope == "messageGroup":
            dedup_id = f"{message.group_id}\x00{dedup_id}"  # the id is remembered per message group
        if dedup_id and not queue._mostrador_sent.first_time(dedup_id, int(message.sent_timestamp)):
            return
        queue._messages.append(message)
        queue._messages_lock.notify_all()


def _delete_message(queue: Any, receipt_handle: str) -> None:
    """moto's delete_message, looking among the messages in flight before the whole queue."""
    from moto.sqs.exceptions import ReceiptHandleIsInvalid

    with queue._messages_lock:
        if receipt_handle in queue.deleted_messages:
            return  # deleted already: SQS accepts it again
        in_flight = set.__iter__(queue._pending_messages)
        found = next((m for m in in_flight if m.had_receipt_handle(receipt_handle)), None)
        if found is None:
            found = next((m for m in queue._messages if m.had_receipt_handle(receipt_handle)), None)
        if found is None:
            raise ReceiptHandleIsInvalid()
        queue._pending_messages.discard(found)
        queue.deleted_messages.update(found.all_receipt_handles)
        queue._messages.remove(found)  # by identity; messages in flight are the oldest, near the front


def _patch_queue(queue_url: str, region: str) -> None:
    from moto.sqs.models import sqs_backends

    account_id, name = urlparse(queue_url).path.strip("/").split("/")[-2:]
    backend = sqs_backends[account_id][region]
    queue = backend.queues[name]
    if getattr(queue, "_mostrador_patched", False):
        return
    members: dict[str, Any] = {
        "attributes": property(QueueAttributes),
        "messages": property(Deliverable),
        "delete_message": _delete_message,
    }
    if queue.fifo_queue:
        members["add_message"] = _add_fifo_message
        queue._pending_messages = _InFlight(queue._pending_messages)
        queue._mostrador_sent = DeduplicationWindow()
    queue.__class__ = type("LocalQueue", (type(queue),), members)
    queue._mostrador_patched = True
    _serialize_receives(backend)


def _serialize_receives(backend: Any) -> None:
    """One ReceiveMessage at a time per queue created here, under the lock moto's sends already take. A long
    poll waits on that lock's condition, which releases it, so sends and deletes go on meanwhile."""
    if getattr(backend, "_mostrador_receives_serialized", False):
        return
    receive = backend.receive_message

    def receive_message(queue_name: str, *args: Any, **kwargs: Any) -> Any:
        queue = backend.get_queue(queue_name)
        if not getattr(queue, "_mostrador_patched", False):
            return receive(queue_name, *args, **kwargs)
        with queue._messages_lock:
            return receive(queue_name, *args, **kwargs)

    backend.receive_message = receive_message
    backend._mostrador_receives_serialized = True
