"""SQS on 127.0.0.1: moto's SQS server, spoken to by the real boto3, with its one gap filled.

What moto 5 does as SQS does (read in moto/sqs/models.py and checked by tests/integration/test_local_queues.py):
visibility timeouts (whole seconds), ApproximateReceiveCount, redrive to the dead-letter queue once a message
has been received maxReceiveCount times, FIFO order within a message group and no delivery from a group while
one of its messages is in flight. Two gaps, filled for the queues created here:

* moto deduplicates a FIFO message only against messages still in
the queue, while SQS remembers a deduplication id for five minutes after the first send, even once the
message is deleted (`_remember_deduplication_ids`).
* moto decides group by group as it scans, and a message whose visibility timeout has passed still counts
  as in flight until the scan reaches it, so when a failed group comes back it can deliver the group's last
  message first. Here a group offers only the messages before its first one in flight, and a message stops
  blocking its group as soon as its visibility timeout passes (`_patch_fifo_queue`), so a group resumes in
  order.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

DEDUPLICATION_WINDOW_MS = 5 * 60 * 1000


@dataclass(frozen=True)
class QueueSpec:
    name: str  # without ".fifo"
    fifo: bool
    visibility_timeout: int  # seconds
    max_receives: int  # receives before the message moves to the dead-letter queue


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
        url = self.client.create_queue(
            QueueName=f"{spec.name}{suffix}",
            Attributes={**fifo_attributes, "VisibilityTimeout": str(spec.visibility_timeout), "RedrivePolicy": redrive},
        )["QueueUrl"]
        if spec.fifo:
            _patch_fifo_queue(url, self.region)
        return Queue(spec=spec, url=url, arn=self._arn(url), dlq_url=dlq_url, dlq_arn=dlq_arn)

    def _arn(self, url: str) -> str:
        attributes = self.client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
        return str(attributes["QueueArn"])


class _InFlight(set[Any]):
    """moto's set of in-flight messages, seen without those whose visibility timeout has passed."""

    def __iter__(self) -> Iterator[Any]:
        return iter([message for message in list(super().__iter__()) if not message.visible])


def _deliverable_in_group_order(queue: Any) -> list[Any]:
    """Visible messages, but in each group none after the group's first message in flight or delayed."""
    stopped: set[str] = set()
    deliverable = []
    for message in list(queue._messages):
        if message.group_id in stopped:
            continue
        if not message.visible or message.delayed:
            stopped.add(message.group_id)
            continue
        deliverable.append(message)
    return deliverable


def _patch_fifo_queue(queue_url: str, region: str) -> None:
    from moto.sqs.models import sqs_backends

    account_id, name = urlparse(queue_url).path.strip("/").split("/")[-2:]
    queue = sqs_backends[account_id][region].queues[name]
    if getattr(queue, "_mostrador_patched", False):
        return
    base = type(queue)
    queue.__class__ = type("OrderedFifoQueue", (base,), {"messages": property(_deliverable_in_group_order)})
    queue._pending_messages = _InFlight(queue._pending_messages)
    _remember_deduplication_ids(queue)
    queue._mostrador_patched = True


def _remember_deduplication_ids(queue: Any) -> None:
    """Drop a FIFO message whose deduplication id was sent in the last five minutes, deleted or not."""
    first_sent: dict[str, int] = {}
    lock = threading.Lock()
    add_message = queue.add_message

    def add_message_once(message: Any) -> None:
        dedup_id = message.deduplication_id
        if dedup_id:
            with lock:
                now = int(message.sent_timestamp)
                for key in [k for k, sent in first_sent.items() if now - sent >= DEDUPLICATION_WINDOW_MS]:
                    del first_sent[key]
                if dedup_id in first_sent:
                    return
                first_sent[dedup_id] = now
        add_message(message)

    queue.add_message = add_message_once
