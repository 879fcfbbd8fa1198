"""Accepting a catalog push: validate every item, enqueue the valid ones, report the rest.

Runs behind API Gateway, so it validates, enqueues and answers: no LLM, nothing heavy. Once the items
are safely on the queue it records the sync's receipt (so `GET /ingest/syncs/{id}` knows it at once)
through a collaborator that must give up quickly: the receipt also travels on every queued item and
enrichment records it again, so a receipt that could not be written costs only visibility.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from mostrador.catalog.models import MAX_PART, SYNC_ID_PATTERN, EnrichMessage, ProductItem, SyncReceipt
from mostrador.queues import OutgoingMessage, send_messages
from mostrador.request_input import BadRequestBody, parse_json_body

MAX_ITEMS = 10_000
HOW_TO_SPLIT = (
    'that share one "syncId", each numbered with "part": 1, 2, … (the last one too), with "final": false on all '
    "but the last (the sync completes once every part up to the final one has been processed)."
)
MAX_ITEM_BYTES = 200_000  # an SQS message holds 256 KiB; leave room for the envelope


class CatalogRequestError(Exception):
    """The request as a whole cannot be accepted; the message tells the fetcher's author what to fix."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Rejection:
    index: int
    item_code: str | None
    errors: list[str]

    def as_json(self) -> dict[str, Any]:
        return {"index": self.index, "itemCode": self.item_code, "errors": self.errors}


@dataclass
class IngestResult:
    sync_id: str
    accepted: int
    rejected: list[Rejection] = field(default_factory=list)
    receipt_recorded: bool | None = None  # None: nothing to record, or no recorder

    def as_json(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "rejected": [r.as_json() for r in self.rejected],
            "syncId": self.sync_id,
        }


# Records a receipt; False when it could not (the database is slow or down). Must not raise.
ReceiptRecorder = Callable[[SyncReceipt], bool]


@dataclass(frozen=True)
class CatalogPush:
    items: list[Any]
    sync_id: str
    full_sync: bool
    part: int
    final: bool


def parse_push(body: bytes, *, max_bytes: int) -> CatalogPush:
    if len(body) > max_bytes:
        raise CatalogRequestError(
            413, f"Body is {len(body)} bytes; the limit is {max_bytes} bytes per request. Split the catalog into "
            f"requests of at most {max_bytes} bytes {HOW_TO_SPLIT}",
        )  # fmt: skip
    if not body.strip():
        raise CatalogRequestError(400, 'Body is empty; send a JSON list of products or {"products": [...]}.')
    try:
        payload = parse_json_body(body)
    except BadRequestBody as exc:
        raise CatalogRequestError(400, exc.message) from exc

    sync_id: str | None = None
    full_sync = False
    part = 1
    final = True
    if isinstance(payload, dict):
        unknown = set(payload) - {"products", "syncId", "fullSync", "part", "final"}
        if unknown:
            raise CatalogRequestError(
                400, f"Unknown top-level field(s) {sorted(unknown)}; allowed: products, syncId, fullSync, part, final."
            )
        if "products" not in payload:
            raise CatalogRequestError(400, 'Object body needs a "products" list.')
        items = payload["products"]
        sync_id = payload.get("syncId")
        full_sync = payload.get("fullSync", False)
        final = payload.get("final", True)
        part = payload.get("part", 1)
        if sync_id is not None and not (isinstance(sync_id, str) and _valid_sync_id(sync_id)):
            raise CatalogRequestError(
                400, '"syncId" must be 1-100 characters of letters, digits, ".", "_", ":" or "-".'
            )
        if not isinstance(full_sync, bool) or not isinstance(final, bool):
            raise CatalogRequestError(400, '"fullSync" and "final" must be true or false.')
        if isinstance(part, bool) or not isinstance(part, int) or not 1 <= part <= MAX_PART:
            raise CatalogRequestError(
                400, f'"part" must be a whole number from 1 to {MAX_PART} (the request\'s place in the sync).'
            )
        if (not final or part > 1) and sync_id is None:
            raise CatalogRequestError(400, 'A sync sent in several requests needs the same "syncId" on each of them.')
        if not final and "part" not in payload:
            # Completion counts the distinct part numbers up to the final one: parts that all default to 1
            # would let the final part complete the sync (and a full sync deactivate) while others are queued.
            raise CatalogRequestError(
                400, 'A request with "final": false is one part of a sync and needs its number: "part": 1, 2, … '
                'on every request of the sync, the last one (with "final": true) too.',
            )  # fmt: skip
    elif isinstance(payload, list):
        items = payload
    else:
        raise CatalogRequestError(
            400, f'Body must be a JSON list of products or an object with "products"; got {type(payload).__name__}.'
        )
    if not isinstance(items, list):
        raise CatalogRequestError(400, '"products" must be a list.')
    if not items:
        raise CatalogRequestError(400, "The product list is empty; nothing to ingest.")
    if len(items) > MAX_ITEMS:
        raise CatalogRequestError(
            413, f"{len(items)} products in one request; the limit is {MAX_ITEMS}. Split the catalog into requests of "
            f"at most {MAX_ITEMS} products {HOW_TO_SPLIT}",
        )  # fmt: skip
    return CatalogPush(items=items, sync_id=sync_id or uuid.uuid4().hex, full_sync=full_sync, part=part, final=final)


def _valid_sync_id(value: str) -> bool:
    return re.fullmatch(SYNC_ID_PATTERN, value) is not None


def validate_items(items: list[Any]) -> tuple[list[tuple[int, dict[str, Any]]], list[Rejection]]:
    valid: list[tuple[int, dict[str, Any]]] = []
    rejected: list[Rejection] = []
    seen: dict[tuple[str, str], int] = {}
    for index, raw in enumerate(items):
        if not isinstance(raw, dict):
            rejected.append(Rejection(index, None, [f"must be an object, got {type(raw).__name__}"]))
            continue
        code = raw.get("itemCode")
        code_text = str(code) if isinstance(code, str | int) and not isinstance(code, bool) else None
        try:
            item = ProductItem.model_validate(raw)
        except ValidationError as exc:
            rejected.append(Rejection(index, code_text, [_describe(e) for e in exc.errors()]))
            continue
        if len(json.dumps(raw, default=str)) > MAX_ITEM_BYTES:
            rejected.append(Rejection(index, item.item_code, [f"item is larger than {MAX_ITEM_BYTES} bytes"]))
            continue
        key = (item.item_code, item.whs_name)
        if key in seen:
            rejected.append(
                Rejection(index, item.item_code, [f"duplicate itemCode+whsName (first at index {seen[key]})"])
            )
            continue
        seen[key] = index
        valid.append((index, raw))
    return valid, rejected


def _describe(error: Any) -> str:
    where = ".".join(str(part) for part in error.get("loc", ())) or "item"
    return f"{where}: {error.get('msg', 'invalid')}"


def accept_catalog(
    body: bytes,
    *,
    tenant_id: str,
    queue_url: str,
    max_bytes: int,
    record_receipt: ReceiptRecorder | None = None,
) -> IngestResult:
    received_at = datetime.now(UTC)  # "received": when ingest accepted the request, carried on every item
    push = parse_push(body, max_bytes=max_bytes)
    valid, rejected = validate_items(push.items)
    if not valid:
        return IngestResult(sync_id=push.sync_id, accepted=0, rejected=rejected)
    # The same body sent twice (a fetcher retrying after a timeout) is the same batch: counted once.
    batch_id = hashlib.sha256(body).hexdigest()[:32]
    messages = [
        OutgoingMessage(
            id=str(position),
            body=EnrichMessage(
                tenant_id=tenant_id,
                sync_id=push.sync_id,
                batch_id=batch_id,
                batch_size=len(valid),
                full_sync=push.full_sync,
                part=push.part,
                final=push.final,
                index=index,
                item=raw,
                received_at=received_at,
            ).model_dump(by_alias=True, mode="json"),
        )
        for position, (index, raw) in enumerate(valid)
    ]
    failures = send_messages(queue_url, messages)
    if failures:
        # Items already on the queue are fine (enrichment is idempotent); the fetcher resends the whole
        # body, which has the same batch id, so nothing is counted twice.
        raise CatalogRequestError(503, f"The queue refused {len(failures)} item(s); retry the same request.")
    recorded = None
    if record_receipt is not None:
        # Only now: a receipt for items that never reached the queue would be a sync that cannot complete.
        recorded = record_receipt(
            SyncReceipt(
                tenant_id=tenant_id,
                sync_id=push.sync_id,
                batch_id=batch_id,
                item_count=len(valid),
                full_sync=push.full_sync,
                part=push.part,
                final=push.final,
                received_at=received_at,
            )
        )
    return IngestResult(sync_id=push.sync_id, accepted=len(valid), rejected=rejected, receipt_recorded=recorded)
