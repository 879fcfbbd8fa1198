"""The knowledge queue's use case: one document message in, the document's chunks swapped in (or
its `failed` status with the reason) out.

Per message: skip when the document is gone, when its content changed again since (a newer message
will come), or when its chunks are already built from this content (a redelivery). Otherwise read
the content (the FAQ row, or the file from the store), extract blocks, chunk, embed every chunk
whose text is new in ONE embed call (an unchanged chunk of a changed document keeps its vector),
and swap the chunks in one transaction (db/knowledge_repository.replace_chunks). A file is read by the
SHA-256 its message names (files.py); once a version is ready or failed, the document's other versions'
files are removed.

Permanent problems (no text, encrypted, too long, data the database refuses: psycopg's DataError)
mark the document failed and consume the message. Transient ones (embedding provider down, database
unreachable) raise, so the queue retries; on the last receive the document is marked failed with the
reason before the message goes to the dead-letter queue.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from mostrador.db import knowledge_repository as repo
from mostrador.knowledge.chunking import Chunk, chunk_blocks, faq_chunk
from mostrador.knowledge.extract import ExtractionFailed, extract_blocks
from mostrador.knowledge.files import FileMissing, FileStore, read_version, remove_other_versions
from mostrador.llm.base import Embedder
from mostrador.observability import logger

if TYPE_CHECKING:
    from mostrador.config import Settings
    from mostrador.db.connection import Connection

# One embedding request must hold the whole document: OpenAI takes 2048 inputs and 300k tokens per
# request. 800k characters is about 230k tokens of Spanish or English.
MAX_CHUNKS = 2000
MAX_TEXT_CHARS = 800_000


class DocumentMessage(BaseModel):
    kind: Literal["document"] = "document"
    tenantId: str = Field(min_length=1)  # noqa: N815 (JSON name)
    documentId: int = Field(ge=1)  # noqa: N815
    sha256: str = Field(min_length=64, max_length=64)


@dataclass(frozen=True)
class ProcessOutcome:
    # ready, unchanged, superseded, deleted, failed
    outcome: str
    chunks: int = 0
    embedded: int = 0
    embedding_calls: int = 0
    error: str | None = None


class DocumentFailed(Exception):
    """Permanent: the same content will always fail this way."""


def configured_embedding_model(settings: Settings) -> str | None:
    """The embedding model in use, from the settings alone (no SDK is built): vectors of another model
    are not comparable, so a document embedded with one must be processed again."""
    models = {"openai": settings.openai_embedding_model, "gemini": settings.gemini_embedding_model}
    return models.get(settings.effective_embedding_provider)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def embedding_text(title: str, chunk: Chunk) -> str:
    return "\n".join(part for part in (title, chunk.section, chunk.content) if part)


def process_document(
    conn: Connection,
    files: FileStore | None,
    embedder: Embedder | None,
    message: DocumentMessage,
    *,
    attempt: int = 1,
    max_receives: int = 5,
) -> ProcessOutcome:
    tenant, document_id, sha = message.tenantId, message.documentId, message.sha256
    document = repo.get_document(conn, tenant, document_id)
    if document is None:
        return ProcessOutcome("deleted")
    if document["sha256"] != sha:
        return ProcessOutcome("superseded")
    model = embedder.model if embedder is not None else None
    if document["status"] == "ready" and document["ready_sha256"] == sha and document["embedding_model"] == model:
        return ProcessOutcome("unchanged", chunks=document["chunk_count"])
    log = {"document_id": document_id, "format": document["format"]}
    try:
        chunks = _chunks_of(document, files)
        outcome = _store(conn, embedder, document, chunks)
    except FileMissing:
        current = repo.get_document(conn, tenant, document_id)
        if current is None:
            return ProcessOutcome("deleted")
        if current["sha256"] != sha:  # a newer version was swapped in and this one's file removed
            return ProcessOutcome("superseded")
        outcome = _failed(conn, document, "the uploaded file is missing from storage: upload it again")
    except DocumentFailed as failure:
        outcome = _failed(conn, document, str(failure))
    except Exception as error:
        if not _refused_data(error):
            if attempt >= max_receives:
                reason = (
                    f"processing kept failing ({type(error).__name__}: {str(error)[:300]}); upload it again to retry"
                )
                repo.mark_failed(conn, tenant, document_id, sha, reason)
            logger.warning("knowledge document will be retried", extra={**log, "attempt": attempt, "error": str(error)})
            raise
        # The database refuses this data (a value it cannot store): every retry would embed the whole
        # document again and be refused again. Permanent, with the database's reason.
        reason = (
            f"the document's text could not be stored ({_first_line(error)}): check the file, or upload "
            "its text as a UTF-8 .txt file"
        )
        logger.warning("knowledge document refused by the database", extra={**log, "error": reason})
        outcome = _failed(conn, document, reason)
    if outcome.outcome in ("ready", "failed") and files is not None and document["kind"] == "file":
        _remove_other_versions(conn, files, document)
    return outcome


def _failed(conn: Connection, document: dict[str, object], reason: str) -> ProcessOutcome:
    """Permanent: failed with the reason, for this content only (a newer upload since is not touched)."""
    tenant, document_id = str(document["tenant_id"]), int(str(document["id"]))
    repo.mark_failed(conn, tenant, document_id, str(document["sha256"]), reason)
    logger.info("knowledge document failed", extra={"document_id": document_id, "error": reason})
    return ProcessOutcome("failed", error=reason)


def _remove_other_versions(conn: Connection, files: FileStore, document: dict[str, object]) -> None:
    """Once a version is done with (ready or failed), the files of the document's other versions serve
    nothing: remove them, holding the row so that an upload cannot be between storing a newer file and
    naming it (that upload's own message will tidy up after it). Best effort: they are only storage."""
    tenant, document_id, sha = str(document["tenant_id"]), int(str(document["id"])), str(document["sha256"])
    extension = PurePosixPath(str(document["name"])).suffix
    try:
        with conn.transaction():
            current = repo.lock_document(conn, tenant, document_id)
            if current is not None and current["sha256"] == sha:
                removed = remove_other_versions(files, tenant, document_id, sha, extension)
                logger.info("old knowledge files removed", extra={"document_id": document_id, "files": len(removed)})
    except Exception as error:
        logger.warning("could not remove old knowledge files", extra={"document_id": document_id, "error": str(error)})


def _refused_data(error: Exception) -> bool:
    import psycopg

    return isinstance(error, psycopg.DataError)


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:300]


def _chunks_of(document: dict[str, object], files: FileStore | None) -> list[Chunk]:
    if document["kind"] == "faq":
        return [faq_chunk(str(document["question"]), str(document["answer"]))]
    if files is None:
        raise RuntimeError("no file store configured")
    extension = PurePosixPath(str(document["name"])).suffix
    sha = str(document["sha256"])
    data = read_version(files, str(document["tenant_id"]), int(str(document["id"])), sha, extension)
    if sha256_of(data) != sha:
        # Not the content its name says (a damaged copy): the next upload stores it again.
        raise DocumentFailed("the stored file does not match the upload (damaged in storage): upload it again")
    try:
        blocks = extract_blocks(str(document["format"]), data)
    except ExtractionFailed as failure:
        raise DocumentFailed(str(failure)) from None
    chunks = chunk_blocks(blocks)
    if not chunks:
        raise DocumentFailed("no text found in the document")
    text_size = sum(len(c.content) for c in chunks)
    if len(chunks) > MAX_CHUNKS or text_size > MAX_TEXT_CHARS:
        raise DocumentFailed(
            f"the document is too long ({text_size:,} characters in {len(chunks)} chunks; at most "
            f"{MAX_TEXT_CHARS:,} characters and {MAX_CHUNKS} chunks): split it into several files"
        )
    return chunks


def _store(
    conn: Connection, embedder: Embedder | None, document: dict[str, object], chunks: list[Chunk]
) -> ProcessOutcome:
    tenant, document_id = str(document["tenant_id"]), int(str(document["id"]))
    title = str(document["title"])
    texts = [embedding_text(title, chunk) for chunk in chunks]
    hashes = [sha256_of(text.encode()) for text in texts]
    vectors: list[object] = [None] * len(chunks)
    embedded = calls = 0
    model = embedder.model if embedder is not None else None
    if embedder is not None and model is not None:
        known = repo.reusable_embeddings(conn, tenant, document_id, model)
        missing = [i for i, digest in enumerate(hashes) if digest not in known]
        for i, digest in enumerate(hashes):
            if digest in known:
                vectors[i] = known[digest]
        if missing:
            result = embedder.embed([texts[i] for i in missing])  # one call for the whole document
            calls, embedded = 1, len(missing)
            for i, vector in zip(missing, result.vectors, strict=True):
                vectors[i] = vector
            usage = result.usage
            repo.record_embedding_usage(conn, tenant, usage.provider, usage.model, 1, usage.tokens_in)
    search_title = title if document["kind"] == "file" else str(document["question"])
    rows = [
        repo.ChunkRow(
            index=chunk.index,
            content=chunk.content,
            content_sha=hashes[i],
            search_title=" ".join(part for part in (search_title, chunk.section) if part),
            section=chunk.section,
            page=chunk.page,
            embedding=vectors[i],
        )
        for i, chunk in enumerate(chunks)
    ]
    if not repo.replace_chunks(conn, tenant, document_id, str(document["sha256"]), rows, model):
        return ProcessOutcome("superseded", embedding_calls=calls)
    logger.info(
        "knowledge document ready",
        extra={"document_id": document_id, "chunks": len(rows), "embedded": embedded, "embedding_calls": calls},
    )
    return ProcessOutcome("ready", chunks=len(rows), embedded=embedded, embedding_calls=calls)
