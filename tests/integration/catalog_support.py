"""Driving the real ingest and enrich handlers over real SQS (moto server) in tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.lambda_events import LambdaContextStub, api_event, response_json, sqs_event

INGEST_KEY = "test-ingest-key"


class CatalogPipeline:
    def __init__(self, sqs: Any, queue_url: str, queue_arn: str, dlq_url: str) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.dlq_url = dlq_url

    def push(self, payload: Any, *, key: str | None = INGEST_KEY, path: str = "/ingest/products") -> tuple[int, Any]:
        from functions.ingest.handler import handler

        body = payload if isinstance(payload, bytes) else json.dumps(payload)
        headers = {"Content-Type": "application/json"}
        if key is not None:
            headers["X-API-KEY"] = key
        response = handler(api_event("POST", path, body=body, headers=headers), LambdaContextStub())
        return response["statusCode"], response_json(response)

    def sync(self, sync_id: str, *, key: str = INGEST_KEY) -> tuple[int, Any]:
        from functions.ingest.handler import handler

        event = api_event(
            "GET",
            f"/ingest/syncs/{sync_id}",
            headers={"X-API-KEY": key},
            resource="/ingest/syncs/{syncId}",
            path_parameters={"syncId": sync_id},
        )
        response = handler(event, LambdaContextStub())
        return response["statusCode"], response_json(response)

    def receive(self, max_messages: int = 10, wait: int = 0) -> list[dict[str, Any]]:
        return self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=max_messages,
            AttributeNames=["All"],
            WaitTimeSeconds=wait,
        ).get("Messages", [])

    def queued_count(self) -> int:
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])

    def enrich_once(self, max_messages: int = 10) -> dict[str, Any] | None:
        """Receive one batch, run the enrich handler, delete what it did not report as failed."""
        messages = self.receive(max_messages)
        if not messages:
            return None
        return self.enrich(messages)

    def enrich(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """Run the enrich handler on received messages (as Lambda's poller would) and delete the ones it
        did not report as failed."""
        from functions.enrich.handler import handler

        result = handler(sqs_event(messages, self.queue_arn), LambdaContextStub())
        failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
        for m in messages:
            if m["MessageId"] not in failed:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])
        return result

    def receive_all(self, expected: int) -> list[dict[str, Any]]:
        """Every visible message (several receives: SQS returns at most 10 at a time)."""
        messages: list[dict[str, Any]] = []
        for _ in range(50):
            if len(messages) >= expected:
                break
            messages.extend(self.receive(10))
        assert len(messages) == expected, f"{len(messages)} messages on the queue, expected {expected}"
        return messages

    def retry_until_dead_lettered(self, rounds: int = 20) -> list[dict[str, Any]]:
        """Keep enriching as the visibility timeout brings failed items back, until the queue is empty;
        returns what landed in the dead-letter queue."""
        import time

        for _ in range(rounds):
            time.sleep(1.1)
            if self.enrich_once() is None and self.queued_count() == 0:
                break
        dead: list[dict[str, Any]] = []
        while batch := self.sqs.receive_message(QueueUrl=self.dlq_url, MaxNumberOfMessages=10).get("Messages", []):
            dead.extend(batch)
        return dead

    def drain(self, max_batches: int = 100) -> list[dict[str, Any]]:
        results = []
        for _ in range(max_batches):
            result = self.enrich_once()
            if result is None:
                break
            results.append(result)
        return results


@pytest.fixture
def pipeline(sqs, db, monkeypatch: pytest.MonkeyPatch) -> Iterator[CatalogPipeline]:
    from tests.integration.sqs_support import queue_with_dead_letters

    queue = queue_with_dead_letters(sqs, "enrich", max_receives=3, visibility_timeout=1)
    monkeypatch.setenv("ENRICH_QUEUE_URL", queue.url)
    monkeypatch.setenv("ENRICH_MAX_RECEIVES", "3")
    monkeypatch.setenv("INGEST_API_KEY", INGEST_KEY)
    monkeypatch.setenv("LLM_PROVIDER", "offline")
    from functions.ingest.handler import receipts
    from mostrador.config import reset_settings

    reset_settings()
    receipts.reset()
    yield CatalogPipeline(sqs, queue.url, queue.arn, queue.dlq_url)
    receipts.reset()


def product(code: str, **overrides: Any) -> dict[str, Any]:
    item = {
        "itemCode": code,
        "itemName": f"Producto {code}",
        "description": f"<p>Descripción del producto <b>{code}</b>. Muy útil para el hogar.</p>",
        "category": "Hogar",
        "subCategory": "Varios",
        "brand": "Marca",
        "line": "Línea",
        "itemGroupName": "Grupo",
        "whsName": "ALMACEN CARACAS",
        "branchName": "Caracas",
        "stock": 5,
        "price": 100.0,
        "priceBolivar": 3650.0,
    }
    item.update(overrides)
    return item


@pytest.fixture
def refused_item_code(db) -> Iterator[Any]:
    """Makes the real database refuse to store chosen item codes (a trigger raising a data exception):
    a per-item database error that validation did not foresee."""
    codes: list[str] = []

    def refuse(code: str) -> None:
        codes.append(code)
        refused = ", ".join("'" + c.replace("'", "''") + "'" for c in codes)
        db.execute(
            f"""CREATE OR REPLACE FUNCTION test_refuse_item() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF NEW.item_code IN ({refused}) AND NEW.active THEN  -- deactivating it is allowed
                    RAISE EXCEPTION 'refused % for this test', NEW.item_code USING ERRCODE = 'data_exception';
                  END IF;
                  RETURN NEW;
                END $$"""
        )
        db.execute(
            "CREATE OR REPLACE TRIGGER test_refuse_item BEFORE INSERT OR UPDATE ON products"
            " FOR EACH ROW EXECUTE FUNCTION test_refuse_item()"
        )

    yield refuse
    db.execute("DROP TRIGGER IF EXISTS test_refuse_item ON products")
    db.execute("DROP FUNCTION IF EXISTS test_refuse_item()")
