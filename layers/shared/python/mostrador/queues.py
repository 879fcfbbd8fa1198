"""Putting messages on SQS. boto3 only: the webhook and ingest paths load nothing heavier."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

_clients: dict[str, Any] = {}

MAX_BATCH = 10  # SQS SendMessageBatch limit
# SQS's default (and our queues') maximum message size, which also caps the sum of one batch call.
MAX_MESSAGE_BYTES = 262_144


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


def is_dead_letter_batch(records: Sequence[dict[str, Any]]) -> bool:
    """Records from a dead-letter queue (its name carries `-dlq`: `<prefix>-enrich-dlq`,
    `<prefix>-reply-dlq.fifo`), which the queue's own function also consumes: an event source mapping
    delivers records of one queue per invocation."""
    return bool(records) and "-dlq" in str(records[0].get("eventSourceARN", "")).rsplit(":", 1)[-1]


def reset_clients() -> None:
    _clients.clear()


def serialized_body(body: dict[str, Any]) -> str:
    """The MessageBody SQS receives for `body`; its length is the message's size in bytes.

    ASCII escapes: SQS refuses some characters customers can type (U+FFFE, U+FFFF) but not their escapes."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=True)


def send_messages(queue_url: str, messages: Sequence[OutgoingMessage]) -> list[SendFailure]:
    """SendMessageBatch, at most ten and MAX_MESSAGE_BYTES per call. Returns the messages SQS refused
    (after one retry of those); a message larger than MAX_MESSAGE_BYTES is refused without a call."""
    failures: list[SendFailure] = []
    for chunk, too_large in _chunks(messages):
        failures.extend(
            SendFailure(message.id, "MessageTooLong", f"message is larger than {MAX_MESSAGE_BYTES} bytes", True)
            for message in too_large
        )
        if not chunk:
            continue
        refused = _send_chunk(queue_url, chunk)
        # A SenderFault means the message itself is wrong; only the others are worth one retry.
        retry = [entry for entry, sender_fault, _, _ in refused if not sender_fault]
        if retry:
            refused = [r for r in refused if r[1]] + _send_chunk(queue_url, retry)
        failures.extend(SendFailure(entry[0].id, code, text, fault) for entry, fault, code, text in refused)
    return failures


_Entry = tuple[OutgoingMessage, str]  # a message and its serialized body


def _chunks(messages: Sequence[OutgoingMessage]) -> list[tuple[list[_Entry], list[OutgoingMessage]]]:
    """Batches within SQS's count and size limits, each with the messages too large to send at all."""
    batches: list[tuple[list[_Entry], list[OutgoingMessage]]] = []
    chunk: list[_Entry] = []
    too_large: list[OutgoingMessage] = []
    size = 0
    for message in messages:
        body = serialized_body(message.body)
        if len(body) > MAX_MESSAGE_BYTES:
            too_large.append(message)
            continue
        if chunk and (len(chunk) == MAX_BATCH or size + len(body) > MAX_MESSAGE_BYTES):
            batches.append((chunk, too_large))
            chunk, too_large, size = [], [], 0
        chunk.append((message, body))
        size += len(body)
    if chunk or too_large:
        batches.append((chunk, too_large))
    return batches


def _send_chunk(queue_url: str, chunk: list[_Entry]) -> list[tuple[_Entry, bool, str, str]]:
    entries = []
    for message, body in chunk:
        entry: dict[str, Any] = {"Id": message.id, "MessageBody": body}
        if message.group_id is not None:
            entry["MessageGroupId"] = message.group_id
        if message.deduplication_id is not None:
            entry["MessageDeduplicationId"] = message.deduplication_id
        entries.append(entry)
    response = sqs_client().send_message_batch(QueueUrl=queue_url, Entries=entries)
    by_id = {entry[0].id: entry for entry in chunk}
    return [
        (by_id[f["Id"]], bool(f.get("SenderFault")), f.get("Code", ""), f.get("Message", ""))
        for f in response.get("Failed", [])
    ]
