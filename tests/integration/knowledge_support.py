"""Fixtures for the knowledge tests: the real admin handler (test_admin_support), a knowledge queue
on moto's SQS server with a dead-letter queue, files in a temporary folder (KNOWLEDGE_FILES_DIR, as
locally), and `drain()`, which does what Lambda's event source does for the real knowledge handler:
receive, invoke, delete only what succeeded. No tests here."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.integration.sqs_support import queue_with_dead_letters
from tests.integration.test_admin_support import AdminAnswer, AdminClient
from tests.lambda_events import LambdaContextStub, sqs_event


@dataclass
class Knowledge:
    admin: AdminClient
    sqs: Any
    queue_url: str
    queue_arn: str
    dlq_url: str
    files_dir: Path

    def upload(self, filename: str, data: bytes, **fields: Any) -> AdminAnswer:
        body = {"filename": filename, "contentBase64": base64.b64encode(data).decode(), **fields}
        return self.admin.call("POST", "/admin/knowledge/documents", body=body)

    def faq(self, question: str, answer: str, tags: list[str] | None = None) -> AdminAnswer:
        body = {"question": question, "answer": answer, "tags": tags or []}
        return self.admin.call("POST", "/admin/knowledge/faq", body=body)

    def document(self, document_id: int, chunks: int = 0) -> dict[str, Any]:
        query = {"chunks": chunks} if chunks else None
        answer = self.admin.call("GET", f"/admin/knowledge/documents/{document_id}", query=query)
        assert answer.status == 200, answer.raw
        return dict(answer.json)

    def search(self, question: str, limit: int = 3) -> list[dict[str, Any]]:
        answer = self.admin.call("GET", "/admin/knowledge/search", query={"q": question, "limit": limit})
        assert answer.status == 200, answer.raw
        return list(answer.json["passages"])

    def receive(self, max_messages: int = 10) -> list[dict[str, Any]]:
        return self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=max_messages, AttributeNames=["All"]
        ).get("Messages", [])

    def queued(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def process_once(self) -> dict[str, Any] | None:
        from functions.knowledge.handler import handler

        messages = self.receive(1)  # batch size 1, as deployed
        if not messages:
            return None
        result: dict[str, Any] = handler(sqs_event(messages, self.queue_arn), LambdaContextStub())
        failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
        for message in messages:
            if message["MessageId"] not in failed:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return result

    def drain(self, max_messages: int = 50) -> int:
        handled = 0
        while handled < max_messages and self.process_once() is not None:
            handled += 1
        return handled

    def files(self) -> list[Path]:
        return sorted(p for p in self.files_dir.rglob("*") if p.is_file())


@pytest.fixture
def knowledge(admin: AdminClient, sqs: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Knowledge:
    from mostrador.config import reset_settings

    queue = queue_with_dead_letters(sqs, "knowledge", max_receives=3, visibility_timeout=1)
    url = queue.url
    files = tmp_path / "knowledge-files"
    monkeypatch.setenv("KNOWLEDGE_QUEUE_URL", url)
    monkeypatch.setenv("KNOWLEDGE_FILES_DIR", str(files))
    monkeypatch.setenv("KNOWLEDGE_MAX_RECEIVES", "3")
    monkeypatch.delenv("KNOWLEDGE_BUCKET", raising=False)
    monkeypatch.delenv("SEARCH_MIN_SIMILARITY", raising=False)
    reset_settings()
    return Knowledge(admin, sqs, url, queue.arn, queue.dlq_url, files)


@pytest.fixture
def openai_embeddings(llm_server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Chat and embeddings through the real OpenAI SDK against the fake server on 127.0.0.1."""
    from mostrador.config import reset_settings

    monkeypatch.setenv("LLM_PROVIDER", "openai")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", llm_server.openai_base_url)
    monkeypatch.setenv("LLM_MAX_RETRIES", "1")
    monkeypatch.setenv("LLM_TIMEOUT_SECONDS", "10")
    reset_settings()
    return llm_server
