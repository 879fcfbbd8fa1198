"""Items the enrich queue dead-lettered after a failure at handler level (the database unreachable on every
receive: no outcome could be recorded) are counted as failed by the enrich function consuming the
dead-letter queue, and their sync completes (issue 14, item 3)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from mostrador.config import reset_settings
from mostrador.db.connection import close_connection
from tests.integration.catalog_support import CatalogPipeline, pipeline, product  # noqa: F401
from tests.lambda_events import LambdaContextStub, sqs_event


def dead_letter_arn(pipeline: CatalogPipeline) -> str:  # noqa: F811
    attributes = pipeline.sqs.get_queue_attributes(QueueUrl=pipeline.dlq_url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


def consume_dead_letters(pipeline: CatalogPipeline) -> list[dict[str, Any]]:  # noqa: F811
    """What the enrich function's event source on the dead-letter queue does: receive, invoke, delete.
    Each batch is handled twice, as a redelivery would: recording is idempotent."""
    from functions.enrich.handler import handler

    results = []
    while batch := pipeline.sqs.receive_message(
        QueueUrl=pipeline.dlq_url, MaxNumberOfMessages=10, AttributeNames=["All"]
    ).get("Messages", []):
        result = handler(sqs_event(batch, dead_letter_arn(pipeline)), LambdaContextStub())
        assert handler(sqs_event(batch, dead_letter_arn(pipeline)), LambdaContextStub()) == result
        failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
        for message in batch:
            if message["MessageId"] not in failed:
                pipeline.sqs.delete_message(QueueUrl=pipeline.dlq_url, ReceiptHandle=message["ReceiptHandle"])
        results.append(result)
    return results


def test_items_dead_lettered_after_handler_level_failures_are_counted_and_the_sync_completes(
    pipeline: CatalogPipeline,  # noqa: F811
    db: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert pipeline.push({"products": [product("H1"), product("H2"), product("H3")], "syncId": "hung"})[0] == 202
    database_url = os.environ["DATABASE_URL"]

    # Every receive fails before any outcome is recorded: the database is unreachable (a closed port).
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none?connect_timeout=2")
    reset_settings()
    close_connection()
    handler_failures = 0
    for _ in range(20):
        messages = pipeline.receive(10, wait=2)
        if not messages and pipeline.queued_count() == 0:
            break
        if messages:
            with pytest.raises(Exception):  # noqa: B017, PT011 - whatever psycopg raises: a function error
                pipeline.enrich(messages)
            handler_failures += 1
    assert handler_failures == 3  # ENRICH_MAX_RECEIVES in the pipeline fixture
    monkeypatch.setenv("DATABASE_URL", database_url)
    reset_settings()
    close_connection()
    status = pipeline.sync("hung")[1]
    assert (status["received"], status["failed"], status["complete"]) == (3, 0, False)

    results = consume_dead_letters(pipeline)

    assert [r["batchItemFailures"] for r in results] == [[]]
    status = pipeline.sync("hung")[1]
    assert (status["received"], status["processed"], status["failed"], status["complete"]) == (3, 0, 3, True)
    errors = [r["error"] for r in db.execute("SELECT error FROM sync_items WHERE sync_id = 'hung'")]
    assert errors == ["dead-lettered after 3 receives"] * 3
