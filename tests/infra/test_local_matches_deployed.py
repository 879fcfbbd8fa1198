"""The local stack runs the functions as deployed (issue 14, item 6): each function's timeout is the one in
infra/functions.py, and each queue's visibility timeout is at least the deployed 6x its consumer's timeout,
so a message is never handed out again while an invocation may still be working on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.functions import FUNCTIONS, consumer_timeout
from infra.queues import VISIBILITY_FACTOR
from local import functions as local_functions
from local.sqs_emulator import SqsEmulator
from local.stack import CONSUMERS, LocalStack, StackOptions
from mostrador.config import REPLY_FUNCTION_TIMEOUT_SECONDS
from tests.integration import sqs_support

emulator = sqs_support.emulator  # a fixture

DOCS_LOCAL = Path(__file__).resolve().parents[2] / "docs" / "local.md"


def test_local_function_timeouts_are_the_deployed_ones() -> None:
    assert {spec.name: float(spec.timeout_seconds) for spec in FUNCTIONS} == local_functions.TIMEOUTS
    # The stale-reply check counts a newer message as being handled for this long (docs/conversations.md).
    assert local_functions.TIMEOUTS["reply"] == REPLY_FUNCTION_TIMEOUT_SECONDS


def test_local_visibility_timeouts_follow_the_deployed_rule() -> None:
    assert local_functions.VISIBILITY_FACTOR == VISIBILITY_FACTOR
    for queue, settings in CONSUMERS.items():
        deployed = consumer_timeout(queue).to_seconds()
        assert local_functions.visibility_timeout(queue, settings.get("batching_window_seconds", 0.0)) >= (
            VISIBILITY_FACTOR * deployed
        )


def test_the_local_queues_get_those_visibility_timeouts(
    emulator: SqsEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = LocalStack(StackOptions(data_dir=tmp_path, port=40000 + (id(tmp_path) % 1000)))
    stack.sqs = emulator
    for name in ("ENRICH_QUEUE_URL", "REPLY_QUEUE_URL", "KNOWLEDGE_QUEUE_URL", "KNOWLEDGE_FILES_DIR"):
        monkeypatch.setenv(name, "")
    stack._create_queues()
    for name, queue in stack.queues.items():
        attributes = emulator.client.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["VisibilityTimeout"])
        assert int(attributes["Attributes"]["VisibilityTimeout"]) >= VISIBILITY_FACTOR * local_functions.TIMEOUTS[name]


def test_docs_local_lists_the_deployed_timeouts() -> None:
    text = DOCS_LOCAL.read_text(encoding="utf-8")
    timeouts = local_functions.TIMEOUTS
    assert f"| {int(timeouts['ingest'])}, {int(timeouts['webhook'])}, {int(timeouts['webchat'])} |" in text
    for name in ("admin", "enrich", "reply", "knowledge"):
        row = next(line for line in text.splitlines() if line.startswith(f"| {name}"))
        assert row.rstrip().endswith(f"| {int(timeouts[name])} |"), row
