"""Driving the real ingest and enrich handlers over real SQS (moto server) in tests."""

from __future__ import annotations

import json
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
        from functions.enrich.handler import handler

        messages = self.receive(max_messages)
        if not messages:
            return None
        result = handler(sqs_event(messages, self.queue_arn), LambdaContextStub())
        failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
        for m in messages:
            if m["MessageId"] not in failed:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])
        return result

    def drain(self, max_batches: int = 100) -> list[dict[str, Any]]:
        results = []
        for _ in range(max_batches):
            result = self.enrich_once()
            if result is None:
                break
            results.append(result)
        return results


@pytest.fixture
def pipeline(sqs, db, monkeypatch: pytest.MonkeyPatch) -> CatalogPipeline:
    from tests.integration.sqs_support import queue_with_dead_letters

    queue = queue_with_dead_letters(sqs, "enrich", max_receives=3, visibility_timeout=1)
    monkeypatch.setenv("ENRICH_QUEUE_URL", queue.url)
    monkeypatch.setenv("ENRICH_MAX_RECEIVES", "3")
    monkeypatch.setenv("INGEST_API_KEY", INGEST_KEY)
    monkeypatch.setenv("LLM_PROVIDER", "offline")
    from mostrador.config import reset_settings

    reset_settings()
    return CatalogPipeline(sqs, queue.url, queue.arn, queue.dlq_url)


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
