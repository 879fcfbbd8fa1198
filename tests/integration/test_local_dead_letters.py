"""The local stack wires the enrich dead-letter queue to the enrich function, as the deployed stack does
(issue 14, item 3): an item the enrich queue gives up on is handed to the enrich function to be counted."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from local.sqs_emulator import QueueSpec, SqsEmulator
from local.stack import LocalStack, StackOptions
from tests.integration import sqs_support

emulator = sqs_support.emulator  # a fixture


class EnrichOnly:
    """Stands in for LocalFunctions (the worker processes are tested in test_local_functions): only the
    enrich function is built; every invocation is recorded and succeeds."""

    concurrency = {"enrich": 1}

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def available(self, name: str) -> bool:
        return name == "enrich"

    def invoke(self, name: str, event: dict[str, Any]) -> dict[str, Any]:
        self.events.append((name, event))
        return {"batchItemFailures": []}


def test_the_enrich_dead_letter_queue_is_consumed_by_the_enrich_function(emulator: SqsEmulator, tmp_path: Path) -> None:
    lines: list[str] = []
    stack = LocalStack(StackOptions(data_dir=tmp_path, visibility_timeout=1), printer=lines.append)
    functions = EnrichOnly()
    stack.sqs, stack.functions = emulator, functions  # type: ignore[assignment]
    stack.queues["enrich"] = emulator.create_queue(QueueSpec(f"dl-{time.time_ns()}-enrich", False, 1, 1))
    enrich = stack.queues["enrich"]
    stack._start_consumers()
    try:
        emulator.client.send_message(QueueUrl=enrich.dlq_url, MessageBody='{"dead": "letter"}')
        deadline = time.monotonic() + 15
        while not [event for _, event in functions.events if event["Records"][0]["body"] == '{"dead": "letter"}']:
            assert time.monotonic() < deadline, f"the dead letter was not consumed: {functions.events}"
            time.sleep(0.1)
    finally:
        for source in stack.sources:
            source.stop()

    [(name, event)] = [(n, e) for n, e in functions.events if e["Records"][0]["body"] == '{"dead": "letter"}']
    assert name == "enrich"
    assert event["Records"][0]["eventSourceARN"] == enrich.dlq_arn
    attributes = emulator.client.get_queue_attributes(QueueUrl=enrich.dlq_url, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "1"  # the enrich queue's
    assert any("[alarm] 1 enrich item(s) dead-lettered: counted as failed in their syncs" in line for line in lines)
