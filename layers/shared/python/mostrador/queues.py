"""Putting messages on SQS. boto3 only: the webhook and ingest paths load nothing heavier."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

_clients: dict[str, Any] = {}

MAX_BATCH = 10  # SQS SendMessageBatch limit


@dataclass(frozen=True)
class OutgoingMessage:
    id: str  # unique within one batch call
    body: dict[str, Any]
    group_id: str | None = None  # FIFO only
    deduplication_id: str | None = None  # FIFO only


@dataclass(frozen=True)
class SendFailure:
    id: str
    code: str
    message: str
    sender_fault: bool  # the message itself is invalid: sending it again cannot help


def sqs_client() -> Any:
    client = _clients.get("sqs")
    if client is None:
        import boto3

        client = boto3.client("sqs")
        _clients["sqs"] = client
    return client


def reset_clients() -> None:
    _clients.clear()


def send_messages(queue_url: str, messages: Sequence[OutgoingMessage]) -> list[SendFailure]:
    """SendMessageBatch, ten at a time. Returns the messages SQS refused (after one retry of those)."""
    failures: list[SendFailure] = []
    for start in range(0, len(messages), MAX_BATCH):
        chunk = list(messages[start : start + MAX_BATCH])
        refused = _send_chunk(queue_url, chunk)
        # A SenderFault means the message itself is wrong; only the others are worth one retry.
        retry = [message for message, sender_fault, _, _ in refused if not sender_fault]
        if retry:
            refused = [r for r in refused if r[1]] + _send_chunk(queue_url, retry)
        failures.extend(SendFailure(message.id, code, text, fault) for message, fault, code, text in refused)
    return failures


def _send_chunk(queue_url: str, chunk: list[OutgoingMessage]) -> list[tuple[OutgoingMessage, bool, str, str]]:
    entries = []
    for message in chunk:
        entry: dict[str, Any] = {
            "Id": message.id,
            # ASCII escapes: SQS refuses some characters customers can type (U+FFFE, U+FFFF) but not their escapes.
            "MessageBody": json.dumps(message.body, separators=(",", ":"), ensure_ascii=True),
        }
        if message.group_id is not None:
            entry["MessageGroupId"] = message.group_id
        if message.deduplication_id is not None:
            entry["MessageDeduplicationId"] = message.deduplication_id
        entries.append(entry)
    response = sqs_client().send_message_batch(QueueUrl=queue_url, Entries=entries)
    by_id = {m.id: m for m in chunk}
    return [
        (by_id[f["Id"]], bool(f.get("SenderFault")), f.get("Code", ""), f.get("Message", ""))
        for f in response.get("Failed", [])
    ]
