"""`mostrador knowledge`: upload documents and FAQ entries to any Mostrador's admin API, follow their
processing, list and delete them. The upload is one JSON request (the file base64-encoded, as the
admin API takes it), streamed with a progress bar for large files."""

from __future__ import annotations

import base64
import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

import httpx

from local.admin_client import admin_headers
from mostrador.knowledge.formats import MAX_DOCUMENT_BYTES, UploadRejected, format_of

PIECE_BYTES = 64 * 1024
# Files above this get a progress bar (smaller ones go up before a bar would be seen).
PROGRESS_FROM_BYTES = 256 * 1024


class KnowledgeFailed(Exception):
    pass


def _headers(token: str, tenant: str | None) -> dict[str, str]:
    return {**admin_headers(token, tenant), "Content-Type": "application/json"}


def upload_progress(stream: TextIO = sys.stderr, width: int = 30) -> Callable[[int, int], None]:
    def show(done: int, total: int) -> None:
        filled = int(width * done / total) if total else width
        stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done / 1048576:.1f}/{total / 1048576:.1f} MB sent")
        if done >= total:
            stream.write("\n")
        stream.flush()

    return show


def _pieces(body: bytes, on_progress: Callable[[int, int], None] | None) -> Iterator[bytes]:
    for start in range(0, len(body), PIECE_BYTES):
        piece = body[start : start + PIECE_BYTES]
        yield piece
        if on_progress:
            on_progress(start + len(piece), len(body))


def upload_document(
    path: Path,
    url: str,
    token: str,
    *,
    title: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    client: httpx.Client | None = None,
    tenant: str | None = None,
) -> dict[str, Any]:
    """POST /admin/knowledge/documents; the answer's JSON (status 202 queued or 200 unchanged)."""
    try:
        format_of(path.name)
    except UploadRejected as rejected:
        raise KnowledgeFailed(rejected.message) from None
    size = path.stat().st_size
    if size > MAX_DOCUMENT_BYTES:
        raise KnowledgeFailed(
            f"{path.name} is {size / 1048576:.1f} MB; the largest document accepted is "
            f"{MAX_DOCUMENT_BYTES // 1048576} MB: split it into smaller files"
        )
    fields = {"filename": path.name, **({"title": title} if title else {})}
    head = json.dumps(fields, ensure_ascii=False)[:-1].encode() + b', "contentBase64": "'
    body = head + base64.b64encode(path.read_bytes()) + b'"}'
    progress = on_progress if size >= PROGRESS_FROM_BYTES else None
    http = client or httpx.Client(timeout=120.0)
    try:
        response = http.post(
            f"{url.rstrip('/')}/admin/knowledge/documents",
            content=_pieces(body, progress),
            headers={**_headers(token, tenant), "Content-Length": str(len(body))},
        )
    finally:
        if client is None:
            http.close()
    return _json(response, "upload")


def add_faq(
    url: str, token: str, question: str, answer: str, tags: list[str] | None = None, *, tenant: str | None = None
) -> dict[str, Any]:
    with httpx.Client(timeout=60.0) as http:
        response = http.post(
            f"{url.rstrip('/')}/admin/knowledge/faq",
            json={"question": question, "answer": answer, "tags": tags or []},
            headers=_headers(token, tenant),
        )
    return _json(response, "FAQ entry")


def get_document(url: str, token: str, document_id: int, *, tenant: str | None = None) -> dict[str, Any]:
    with httpx.Client(timeout=30.0) as http:
        response = http.get(
            f"{url.rstrip('/')}/admin/knowledge/documents/{document_id}", headers=_headers(token, tenant)
        )
    return _json(response, "document status")


def wait_for_document(
    url: str,
    token: str,
    document_id: int,
    *,
    timeout_seconds: float = 600.0,
    interval_seconds: float = 1.0,
    tenant: str | None = None,
) -> dict[str, Any]:
    """Poll until the document is ready or failed."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        document = get_document(url, token, document_id, tenant=tenant)
        if document.get("status") in ("ready", "failed"):
            return document
        if time.monotonic() > deadline:
            state = document.get("status")
            raise KnowledgeFailed(f"document {document_id} still {state} after {timeout_seconds:.0f} s")
        time.sleep(interval_seconds)


def list_knowledge(url: str, token: str, kind: str, *, tenant: str | None = None) -> list[dict[str, Any]]:
    path = "faq" if kind == "faq" else "documents"
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    with httpx.Client(timeout=30.0) as http:
        while True:
            params = {"limit": "200", **({"cursor": cursor} if cursor else {})}
            response = http.get(
                f"{url.rstrip('/')}/admin/knowledge/{path}", params=params, headers=_headers(token, tenant)
            )
            page = _json(response, "list")
            items.extend(page["documents"])
            cursor = page.get("nextCursor")
            if not cursor:
                return items


def delete_document(
    url: str, token: str, document_id: int, *, faq: bool = False, tenant: str | None = None
) -> dict[str, Any]:
    path = "faq" if faq else "documents"
    with httpx.Client(timeout=30.0) as http:
        response = http.delete(
            f"{url.rstrip('/')}/admin/knowledge/{path}/{document_id}", headers=_headers(token, tenant)
        )
    return _json(response, "delete")


def _json(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code >= 400 or not isinstance(body, dict):
        message = body.get("error") or body.get("message") if isinstance(body, dict) else response.text[:300]
        raise KnowledgeFailed(f"{what}: HTTP {response.status_code}: {message}")
    return body


def document_line(document: dict[str, Any]) -> str:
    name = document.get("name") or document.get("title")
    state = document.get("status")
    detail = f": {document['error']}" if document.get("error") else f", {document.get('chunks', 0)} chunks"
    return f"#{document.get('id')} {name} [{document.get('kind')}] {state}{detail}"
