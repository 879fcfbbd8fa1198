"""The local stack wires the enrich and reply dead-letter queues to their own functions, as the deployed
stack does (issue 14, item 3; issue 13): an item a queue gives up on is handed to its function to be
recorded (enrich: counted as failed in its sync; reply: settled, docs/conversations.md)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from local.sqs_emulator import QueueSpec, SqsEmulator
from local.stack import LocalStack, StackOptions
from tests.integration import sqs_support

emulator = sqs_support.emulator  # a fixture


class OnlyFunction:
    """Stands in for LocalFunctions (the worker processes are tested in test_local_functions): only `name`
    is built; every invocation is recorded and succeeds."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.concurrency = {name: 1}
        self.events: list[tuple[str, dict[str, Any]]] = []

    def available(self, name: str) -> bool:
        return name == self.name

    def invoke(self, name: str, event: dict[str, Any]) -> dict[str, Any]:
        self.events.append((name, event))
        return {"batchItemFailures": []}


@pytest.mark.parametrize(
    ("name", "fifo", "alarm"),
    [
        ("enrich", False, "[alarm] 1 enrich item(s) dead-lettered: counted as failed in their syncs"),
        ("reply", True, "[alarm] 1 reply item(s) dead-lettered: settled"),
    ],
)
def test_a_dead_letter_queue_is_consumed_by_its_own_function(
    emulator: SqsEmulator, tmp_path: Path, name: str, fifo: bool, alarm: str
) -> None:
    lines: list[str] = []
    stack = LocalStack(StackOptions(data_dir=tmp_path, visibility_timeout=1), printer=lines.append)
    functions = OnlyFunction(name)
    stack.sqs, stack.functions = emulator, functions  # type: ignore[assignment]
    stack.queues[name] = emulator.create_queue(QueueSpec(f"dl-{time.time_ns()}-{name}", fifo, 1, 1))
    work = stack.queues[name]
    stack._start_consumers()
    fifo_ids = {"MessageGroupId": "g", "MessageDeduplicationId": "d"} if fifo else {}
    try:
        emulator.client.send_message(QueueUrl=work.dlq_url, MessageBody='{"dead": "letter"}', **fifo_ids)
        deadline = time.monotonic() + 15
        while not [event for _, event in functions.events if event["Records"][0]["body"] == '{"dead": "letter"}']:
            assert time.monotonic() < deadline, f"the dead letter was not consumed: {functions.events}"
            time.sleep(0.1)
    finally:
        for source in stack.sources:
            source.stop()

    [(invoked, event)] = [(n, e) for n, e in functions.events if e["Records"][0]["body"] == '{"dead": "letter"}']
    assert invoked == name
    assert event["Records"][0]["eventSourceARN"] == work.dlq_arn
    attributes = emulator.client.get_queue_attributes(QueueUrl=work.dlq_url, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "1"  # the work queue's
    assert any(alarm in line for line in lines), lines
