"""The knowledge base as staff manage it (admin API and CLI): upload documents, write FAQ entries,
list them with their status, delete them, and turn resolved escalations' notes into suggested FAQ
entries that a person approves or discards.

Nothing heavy happens here: an upload is checked (formats.py), its file stored, its row written and
a message queued; the knowledge worker does the rest (processing.py). Same content again costs
nothing: the same file under the same name, or the same FAQ entry, answers 200 `unchanged` without
a write or a message.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from mostrador.db import knowledge_repository as repo
from mostrador.db import operations_repository as ops_repo
from mostrador.knowledge.files import FileStore, stored_keys, version_key
from mostrador.knowledge.formats import CONTENT_TYPES, MAX_DOCUMENT_BYTES, UploadRejected, check_upload
from mostrador.knowledge.processing import DocumentMessage, sha256_of
from mostrador.observability import logger
from mostrador.operations.errors import Conflict, NotFound, OperationsError
from mostrador.operations.paging import decode_cursor, encode_cursor

if TYPE_CHECKING:
    from mostrador.db.connection import Connection
    from mostrador.operations.auth import Principal

# Sends one document message to the knowledge queue; raises QueueUnavailable when it cannot.
Enqueue = Callable[[DocumentMessage], None]
MAX_NAME_CHARS = 200


class QueueUnavailable(OperationsError):
    status = 503


class Rejected(OperationsError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def document_json(row: dict[str, Any]) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": row["id"],
        "kind": row["kind"],
        "title": row["title"],
        "format": row["format"],
        "status": row["status"],
        "error": row["error"],
        "sha256": row["sha256"],
        "chunks": row["chunk_count"],
        # The content the chunks in service were built from (a replacement in progress keeps serving it).
        "servingSha256": row["ready_sha256"],
        "embeddingModel": row["embedding_model"],
        "createdAt": iso(row["created_at"]),
        "updatedAt": iso(row["updated_at"]),
        "processedAt": iso(row["processed_at"]),
    }
    if row["kind"] == "file":
        document.update(name=row["name"], sizeBytes=row["size_bytes"])
    else:
        document.update(question=row["question"], answer=row["answer"], tags=list(row["tags"] or []))
    return document


def _audit(conn: Connection, tenant_id: str, principal: Principal, action: str, detail: dict[str, Any]) -> None:
    ops_repo.record_operator_action(
        conn, tenant_id, action=action, actor=principal.subject, role=principal.role, detail=detail
    )


def _message(row: dict[str, Any]) -> DocumentMessage:
    return DocumentMessage(tenantId=row["tenant_id"], documentId=row["id"], sha256=row["sha256"])


# --- documents ------------------------------------------------------------------------------------


def clean_name(filename: str) -> str:
    name = PurePosixPath(filename.replace("\\", "/").strip()).name.strip()
    if not name or name in (".", ".."):
        raise Rejected(422, "filename is empty: give the file's name with its extension, e.g. envios.pdf")
    if len(name) > MAX_NAME_CHARS:
        raise Rejected(422, f"filename is longer than {MAX_NAME_CHARS} characters")
    return name


def decode_upload(content_base64: str) -> bytes:
    # Checked before decoding, so a huge body is refused without a copy of it in memory.
    if len(content_base64) > (MAX_DOCUMENT_BYTES + 2) // 3 * 4 + 4:
        raise Rejected(
            413,
            f"the file is larger than the {MAX_DOCUMENT_BYTES // 1048576} MB a document may be: "
            "split it into smaller files (or upload its text)",
        )
    try:
        return base64.b64decode(content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise Rejected(422, "contentBase64 is not valid base64: send the file's bytes base64-encoded") from None


def add_document(
    conn: Connection,
    files: FileStore,
    enqueue: Enqueue,
    tenant_id: str,
    *,
    filename: str,
    data: bytes,
    title: str | None,
    principal: Principal,
    embedding_model: str | None,
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body): 202 queued (new or changed, or embedded with another model than
    `embedding_model`, the one in use), 200 unchanged; 4xx says what to fix."""
    name = clean_name(filename)
    try:
        fmt = check_upload(name, data)
    except UploadRejected as rejected:
        raise Rejected(rejected.status, rejected.message) from None
    sha = sha256_of(data)
    from psycopg.errors import LockNotAvailable, UniqueViolation

    stored: str | None = None
    again: dict[str, Any] | None = None  # the same content, to queue again
    row: dict[str, Any] | None = None
    try:
        # The document's row stays locked from before the file is stored until the row names it: another
        # upload of this name waits, and so does the worker's removal of old versions, which would
        # otherwise take a file stored a moment ago for an old one.
        with conn.transaction():
            existing = repo.file_by_name(conn, tenant_id, name, lock=True)
            if existing is not None and existing["sha256"] == sha and (title is None or title == existing["title"]):
                if existing["status"] == "ready" and existing["embedding_model"] == embedding_model:
                    return 200, {**document_json(existing), "unchanged": True}
                if existing["status"] in ("pending", "ready"):
                    again = existing  # a retried upload after a queue failure, or a new embedding model
            if again is None:
                _refuse_twins(conn, tenant_id, sha, existing)
                document_id = existing["id"] if existing is not None else repo.next_document_id(conn)
                # The file first, named by its content: a crash after it leaves only a file no row points
                # to, never a row without its file; and an upload of other content never writes it.
                stored = version_key(tenant_id, document_id, sha, PurePosixPath(name).suffix)
                files.put(stored, data, CONTENT_TYPES[fmt])
                row = _write_document(conn, tenant_id, document_id, existing, name, fmt, data, sha, title, principal)
    except UniqueViolation:  # the same new name uploaded twice at the same moment
        _forget(files, stored)
        raise Conflict(f"{name} was being uploaded by another request at the same time: send it again") from None
    except LockNotAvailable:  # another upload of this name held it past the lock timeout
        raise Conflict(f"{name} is being uploaded by another request at this moment: send it again") from None
    if again is not None:
        enqueue(_message(again))
        return 202, {**document_json(again), "unchanged": True}
    assert row is not None
    enqueue(_message(row))
    logger.info("knowledge document queued", extra={"document_id": row["id"], "format": fmt, "bytes": len(data)})
    return 202, {**document_json(row), "replaced": existing is not None}


def _refuse_twins(conn: Connection, tenant_id: str, sha: str, existing: dict[str, Any] | None) -> None:
    same_content = repo.documents_with_sha(conn, tenant_id, sha)
    twins = [row for row in same_content if existing is None or row["id"] != existing["id"]]
    if twins:
        twin = twins[0]
        raise Conflict(
            f"this file is already in the knowledge base as document {twin['id']} ({twin['name'] or twin['title']}); "
            "upload a new version under that name to replace it"
        )


def _write_document(
    conn: Connection,
    tenant_id: str,
    document_id: int,
    existing: dict[str, Any] | None,
    name: str,
    fmt: str,
    data: bytes,
    sha: str,
    title: str | None,
    principal: Principal,
) -> dict[str, Any]:
    fields = repo.DocumentFields(
        kind="file",
        name=name,
        title=(title or (existing["title"] if existing else PurePosixPath(name).stem))[:MAX_NAME_CHARS],
        format=fmt,
        sha256=sha,
        size_bytes=len(data),
    )
    if existing is None:
        row = repo.insert_document(conn, tenant_id, fields, created_by=principal.subject, document_id=document_id)
    else:
        row = repo.resubmit_document(conn, tenant_id, document_id, fields)
    _audit(conn, tenant_id, principal, "knowledge_upload", {"documentId": document_id, "name": name, "sha256": sha})
    return row


def _forget(files: FileStore, key: str | None) -> None:
    """Remove a file stored for a row that was never written (best effort: it is only storage)."""
    if key is None:
        return
    try:
        files.delete(key)
    except Exception as error:
        logger.warning("could not delete an unused knowledge file", extra={"error": str(error)})


def get_document(conn: Connection, tenant_id: str, document_id: int, *, chunks: int = 0) -> dict[str, Any]:
    row = repo.get_document(conn, tenant_id, document_id)
    if row is None:
        raise NotFound(f"no knowledge document {document_id}")
    body = document_json(row)
    if chunks:
        body["chunkPreview"] = [
            {
                "chunk": c["chunk_index"],
                "section": c["section"],
                "page": c["page"],
                "text": c["content"],
                "embedded": c["embedded"],
            }
            for c in repo.document_chunks(conn, tenant_id, document_id, chunks)
        ]
    return body


def list_documents(
    conn: Connection, tenant_id: str, *, kind: str | None, status: str | None, cursor: str | None, limit: int
) -> dict[str, Any]:
    (after_id,) = decode_cursor(cursor, int) if cursor else (0,)
    rows = repo.list_documents(conn, tenant_id, kind=kind, status=status, after_id=after_id, limit=limit + 1)
    page, more = rows[:limit], len(rows) > limit
    next_cursor = encode_cursor(page[-1]["id"]) if more else None
    return {"documents": [document_json(r) for r in page], "nextCursor": next_cursor}


def delete_document(
    conn: Connection, files: FileStore | None, tenant_id: str, document_id: int, principal: Principal, *, kind: str
) -> dict[str, Any]:
    """Deletes the row and its chunks in one statement (search stops finding it at once), then the file."""
    row = repo.get_document(conn, tenant_id, document_id)
    if row is None or row["kind"] != kind:
        raise NotFound(f"no knowledge {'document' if kind == 'file' else 'FAQ entry'} {document_id}")
    with conn.transaction():
        deleted = repo.delete_document(conn, tenant_id, document_id)
        _audit(conn, tenant_id, principal, "knowledge_delete", {"documentId": document_id, "kind": kind})
    if deleted is None:
        raise NotFound(f"no knowledge document {document_id}")
    if kind == "file" and files is not None:
        try:
            for key in stored_keys(files, tenant_id, document_id, PurePosixPath(str(deleted["name"])).suffix):
                files.delete(key)
        except Exception as error:  # the knowledge is gone already; a leftover file is only storage
            logger.warning("could not delete a knowledge file", extra={"document_id": document_id, "error": str(error)})
    return {"deleted": True, "id": document_id, "chunksRemoved": deleted["chunk_count"]}


# --- FAQ entries ----------------------------------------------------------------------------------


def _faq_fields(question: str, answer: str, tags: Sequence[str]) -> repo.DocumentFields:
    question, answer = " ".join(question.split()), answer.strip()
    tags = sorted({" ".join(t.split()).lower() for t in tags if t.strip()})
    digest = sha256_of("\n".join([question, answer, ",".join(tags)]).encode())
    return repo.DocumentFields(
        kind="faq",
        title=question[:MAX_NAME_CHARS],
        format="faq",
        sha256=digest,
        size_bytes=len(answer.encode()),
        question=question,
        answer=answer,
        tags=tags,
    )


def _submit_faq(
    conn: Connection, tenant_id: str, fields: repo.DocumentFields, principal: Principal
) -> tuple[dict[str, Any], bool]:
    """(row, created): an identical entry is returned as it is (no write, no message)."""
    for row in repo.documents_with_sha(conn, tenant_id, fields.sha256):
        if row["kind"] == "faq":
            return row, False
    row = repo.insert_document(conn, tenant_id, fields, created_by=principal.subject)
    _audit(conn, tenant_id, principal, "knowledge_faq_add", {"documentId": row["id"]})
    return row, True


def add_faq(
    conn: Connection,
    enqueue: Enqueue,
    tenant_id: str,
    *,
    question: str,
    answer: str,
    tags: Sequence[str],
    principal: Principal,
    embedding_model: str | None,
) -> tuple[int, dict[str, Any]]:
    with conn.transaction():
        row, created = _submit_faq(conn, tenant_id, _faq_fields(question, answer, tags), principal)
    if not created:
        if row["status"] == "pending" or row["embedding_model"] != embedding_model:
            enqueue(_message(row))
            return 202, {**document_json(row), "unchanged": True}
        return 200, {**document_json(row), "unchanged": True}
    enqueue(_message(row))
    return 202, document_json(row)


def update_faq(
    conn: Connection,
    enqueue: Enqueue,
    tenant_id: str,
    faq_id: int,
    *,
    question: str,
    answer: str,
    tags: Sequence[str],
    principal: Principal,
) -> tuple[int, dict[str, Any]]:
    existing = repo.get_document(conn, tenant_id, faq_id)
    if existing is None or existing["kind"] != "faq":
        raise NotFound(f"no FAQ entry {faq_id}")
    fields = _faq_fields(question, answer, tags)
    if fields.sha256 == existing["sha256"] and existing["status"] == "ready":
        return 200, {**document_json(existing), "unchanged": True}
    with conn.transaction():
        row = repo.resubmit_document(conn, tenant_id, faq_id, fields)
        _audit(conn, tenant_id, principal, "knowledge_faq_update", {"documentId": faq_id})
    enqueue(_message(row))
    return 202, document_json(row)


# --- suggestions from resolved escalations --------------------------------------------------------


def _escalation_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["escalation_id"],
        "reason": row["escalation_reason"],
        "source": row["escalation_source"],
        "openedAt": iso(row["escalation_opened_at"]),
        "resolvedAt": iso(row["escalation_resolved_at"]),
        "channel": row["escalation_channel"],
        "customerId": row["escalation_customer_id"],
    }


def suggestion_json(row: dict[str, Any]) -> dict[str, Any]:
    suggestion: dict[str, Any] = {
        "id": row["id"],
        "status": row["status"],
        "question": row["question"],
        "answer": row["answer"],
        "escalationId": row["escalation_id"],
        "conversationId": row["conversation_id"],
        "faqId": row["faq_document_id"],
        "createdAt": iso(row["created_at"]),
        "decidedAt": iso(row["decided_at"]),
        "decidedBy": row["decided_by"],
    }
    if "escalation_source" in row:  # read with the escalation it came from (null once that is gone)
        suggestion["escalation"] = _escalation_json(row) if row["escalation_source"] is not None else None
    return suggestion


def suggest_from_resolution(conn: Connection, tenant_id: str, escalation_id: int, note: str) -> dict[str, Any] | None:
    """Offer a resolved escalation's note as an FAQ entry: the customer's question (their own words,
    which the approver should tidy) and the note as the answer. Only suggested, never published."""
    escalation = repo.escalation_question(conn, tenant_id, escalation_id)
    if escalation is None or not note.strip():
        return None
    question = " ".join((escalation["customer_text"] or escalation["reason"] or "").split())[:1000]
    return repo.insert_suggestion(
        conn,
        tenant_id,
        escalation_id=escalation_id,
        conversation_id=escalation["conversation_id"],
        question=question or "(no question recorded)",
        answer=note.strip(),
    )


def list_suggestions(
    conn: Connection, tenant_id: str, *, status: str | None, cursor: str | None, limit: int
) -> dict[str, Any]:
    (after_id,) = decode_cursor(cursor, int) if cursor else (0,)
    rows = repo.list_suggestions(conn, tenant_id, status=status, after_id=after_id, limit=limit + 1)
    page, more = rows[:limit], len(rows) > limit
    return {
        "suggestions": [suggestion_json(r) for r in page],
        "nextCursor": encode_cursor(page[-1]["id"]) if more else None,
    }


def _undecided(conn: Connection, tenant_id: str, suggestion_id: int) -> dict[str, Any]:
    row = repo.get_suggestion(conn, tenant_id, suggestion_id)
    if row is None:
        raise NotFound(f"no knowledge suggestion {suggestion_id}")
    if row["status"] != "suggested":
        raise Conflict(f"suggestion {suggestion_id} is already {row['status']}")
    return row


def approve_suggestion(
    conn: Connection,
    enqueue: Enqueue,
    tenant_id: str,
    suggestion_id: int,
    *,
    question: str | None,
    answer: str | None,
    tags: Sequence[str],
    principal: Principal,
) -> dict[str, Any]:
    """Publish the suggestion (as it is, or as the approver edited it) as an FAQ entry."""
    suggestion = repo.get_suggestion(conn, tenant_id, suggestion_id)
    if suggestion is None:
        raise NotFound(f"no knowledge suggestion {suggestion_id}")
    fields = _faq_fields(question or suggestion["question"], answer or suggestion["answer"], tags)
    if suggestion["status"] == "approved":
        return _approve_again(conn, enqueue, tenant_id, suggestion, fields)
    if suggestion["status"] != "suggested":
        raise Conflict(f"suggestion {suggestion_id} is already {suggestion['status']}")
    with conn.transaction():
        faq, created = _submit_faq(conn, tenant_id, fields, principal)
        if not repo.decide_suggestion(
            conn, tenant_id, suggestion_id, status="approved", decided_by=principal.subject, faq_document_id=faq["id"]
        ):
            raise Conflict(f"suggestion {suggestion_id} was decided meanwhile")
        _audit(conn, tenant_id, principal, "knowledge_suggestion_approve", {"suggestionId": suggestion_id})
    if created or faq["status"] == "pending":
        enqueue(_message(faq))
    decided = repo.get_suggestion(conn, tenant_id, suggestion_id)
    assert decided is not None
    return {"suggestion": suggestion_json(decided), "faq": document_json(faq)}


def _approve_again(
    conn: Connection, enqueue: Enqueue, tenant_id: str, suggestion: dict[str, Any], fields: repo.DocumentFields
) -> dict[str, Any]:
    """The same approval sent again. The decision and the FAQ entry were committed before the entry was
    queued; when the queue refused it (503 "send the same request again") the entry is still pending
    and this request queues it. Anything else is deciding twice: 409."""
    faq_id = suggestion["faq_document_id"]
    faq = repo.get_document(conn, tenant_id, faq_id) if faq_id is not None else None
    if faq is None or faq["status"] != "pending" or faq["sha256"] != fields.sha256:
        became = f" as FAQ entry {faq_id} (change it with PUT /admin/knowledge/faq/{faq_id})" if faq else ""
        raise Conflict(f"suggestion {suggestion['id']} is already approved{became}")
    enqueue(_message(faq))  # a second message for an entry already queued is harmless (a redelivery)
    return {"suggestion": suggestion_json(suggestion), "faq": document_json(faq)}


def discard_suggestion(conn: Connection, tenant_id: str, suggestion_id: int, principal: Principal) -> dict[str, Any]:
    _undecided(conn, tenant_id, suggestion_id)
    with conn.transaction():
        if not repo.decide_suggestion(conn, tenant_id, suggestion_id, status="discarded", decided_by=principal.subject):
            raise Conflict(f"suggestion {suggestion_id} was decided meanwhile")
        _audit(conn, tenant_id, principal, "knowledge_suggestion_discard", {"suggestionId": suggestion_id})
    decided = repo.get_suggestion(conn, tenant_id, suggestion_id)
    assert decided is not None
    return {"suggestion": suggestion_json(decided)}
