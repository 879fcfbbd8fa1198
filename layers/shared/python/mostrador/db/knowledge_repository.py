"""SQL for the knowledge base: documents and FAQ entries, their chunks, search, suggestions, and the
knowledge chunks cited by replies (docs/knowledge.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mostrador.db.connection import Connection

_DOCUMENT_COLUMNS = """id, tenant_id, kind, name, title, format, size_bytes, sha256, status, error, question, answer,
    tags, ready_sha256, chunk_count, embedding_model, created_by, created_at, updated_at, processed_at"""


# --- documents and FAQ entries --------------------------------------------------------------------


def get_document(conn: Connection, tenant_id: str, document_id: int) -> dict[str, Any] | None:
    return conn.execute(
        f"SELECT {_DOCUMENT_COLUMNS} FROM knowledge_documents WHERE tenant_id = %s AND id = %s",
        (tenant_id, document_id),
    ).fetchone()


def file_by_name(conn: Connection, tenant_id: str, name: str, *, lock: bool = False) -> dict[str, Any] | None:
    """`lock`: held FOR UPDATE until the caller's transaction ends (an upload, from storing the file to
    naming it in the row)."""
    return conn.execute(
        f"SELECT {_DOCUMENT_COLUMNS} FROM knowledge_documents WHERE tenant_id = %s AND kind = 'file' AND name = %s"
        + (" FOR UPDATE" if lock else ""),
        (tenant_id, name),
    ).fetchone()


def lock_document(conn: Connection, tenant_id: str, document_id: int) -> dict[str, Any] | None:
    """The document's row, locked until the caller's transaction ends (None: deleted)."""
    return conn.execute(
        f"SELECT {_DOCUMENT_COLUMNS} FROM knowledge_documents WHERE tenant_id = %s AND id = %s FOR UPDATE",
        (tenant_id, document_id),
    ).fetchone()


def documents_with_sha(conn: Connection, tenant_id: str, sha256: str) -> list[dict[str, Any]]:
    return conn.execute(
        f"SELECT {_DOCUMENT_COLUMNS} FROM knowledge_documents WHERE tenant_id = %s AND sha256 = %s ORDER BY id",
        (tenant_id, sha256),
    ).fetchall()


def next_document_id(conn: Connection) -> int:
    """An id for a document about to be created (its file is stored under it before the row exists)."""
    row = conn.execute("SELECT nextval(pg_get_serial_sequence('knowledge_documents', 'id')) AS id").fetchone()
    assert row is not None
    return int(row["id"])


@dataclass(frozen=True)
class DocumentFields:
    kind: str
    title: str
    format: str
    sha256: str
    size_bytes: int = 0
    name: str | None = None
    question: str | None = None
    answer: str | None = None
    tags: Sequence[str] = ()


def insert_document(
    conn: Connection, tenant_id: str, fields: DocumentFields, *, created_by: str, document_id: int | None = None
) -> dict[str, Any]:
    row = conn.execute(
        f"""INSERT INTO knowledge_documents (id, tenant_id, kind, name, title, format, size_bytes, sha256, question,
                answer, tags, created_by)
            VALUES (coalesce(%s, nextval(pg_get_serial_sequence('knowledge_documents', 'id'))), %s, %s, %s, %s, %s,
                %s, %s, %s, %s, %s, %s)
            RETURNING {_DOCUMENT_COLUMNS}""",
        (
            document_id,
            tenant_id,
            fields.kind,
            fields.name,
            fields.title,
            fields.format,
            fields.size_bytes,
            fields.sha256,
            fields.question,
            fields.answer,
            list(fields.tags),
            created_by,
        ),
    ).fetchone()
    assert row is not None
    return row


def resubmit_document(conn: Connection, tenant_id: str, document_id: int, fields: DocumentFields) -> dict[str, Any]:
    """New content for an existing document: pending again; its current chunks keep serving."""
    row = conn.execute(
        f"""UPDATE knowledge_documents SET title = %s, format = %s, size_bytes = %s, sha256 = %s, question = %s,
                answer = %s, tags = %s, status = 'pending', error = NULL, updated_at = now()
            WHERE tenant_id = %s AND id = %s RETURNING {_DOCUMENT_COLUMNS}""",
        (
            fields.title,
            fields.format,
            fields.size_bytes,
            fields.sha256,
            fields.question,
            fields.answer,
            list(fields.tags),
            tenant_id,
            document_id,
        ),
    ).fetchone()
    assert row is not None
    return row


def list_documents(
    conn: Connection, tenant_id: str, *, kind: str | None, status: str | None, after_id: int, limit: int
) -> list[dict[str, Any]]:
    return conn.execute(
        f"""SELECT {_DOCUMENT_COLUMNS} FROM knowledge_documents
             WHERE tenant_id = %s AND id > %s AND (%s::text IS NULL OR kind = %s) AND (%s::text IS NULL OR status = %s)
             ORDER BY id LIMIT %s""",
        (tenant_id, after_id, kind, kind, status, status, limit),
    ).fetchall()


def delete_document(conn: Connection, tenant_id: str, document_id: int) -> dict[str, Any] | None:
    """Deletes the document and (cascade) its chunks in one statement; returns what was deleted."""
    return conn.execute(
        f"DELETE FROM knowledge_documents WHERE tenant_id = %s AND id = %s RETURNING {_DOCUMENT_COLUMNS}",
        (tenant_id, document_id),
    ).fetchone()


def mark_failed(conn: Connection, tenant_id: str, document_id: int, sha256: str, error: str) -> bool:
    """Failed, for the content `sha256` only: a newer upload since then is not touched."""
    cursor = conn.execute(
        """UPDATE knowledge_documents SET status = 'failed', error = %s, processed_at = now(), updated_at = now()
            WHERE tenant_id = %s AND id = %s AND sha256 = %s""",
        (error[:1000], tenant_id, document_id, sha256),
    )
    return cursor.rowcount > 0


def document_chunks(conn: Connection, tenant_id: str, document_id: int, limit: int) -> list[dict[str, Any]]:
    return conn.execute(
        """SELECT chunk_index, section, page, content, embedding_model, embedding IS NOT NULL AS embedded
             FROM knowledge_chunks WHERE tenant_id = %s AND document_id = %s ORDER BY chunk_index LIMIT %s""",
        (tenant_id, document_id, limit),
    ).fetchall()


def reusable_embeddings(conn: Connection, tenant_id: str, document_id: int, model: str) -> dict[str, Any]:
    """The document's current vectors by chunk text hash, for the model in use."""
    rows = conn.execute(
        """SELECT DISTINCT ON (content_sha) content_sha, embedding FROM knowledge_chunks
            WHERE tenant_id = %s AND document_id = %s AND embedding_model = %s AND embedding IS NOT NULL""",
        (tenant_id, document_id, model),
    ).fetchall()
    return {row["content_sha"]: row["embedding"] for row in rows}


@dataclass(frozen=True)
class ChunkRow:
    index: int
    content: str
    content_sha: str
    search_title: str  # searched with more weight: document title and section path
    section: str | None = None
    page: int | None = None
    embedding: Any = None


def replace_chunks(
    conn: Connection,
    tenant_id: str,
    document_id: int,
    sha256: str,
    chunks: Sequence[ChunkRow],
    embedding_model: str | None,
) -> bool:
    """Swap the document's chunks for these in ONE transaction, and mark it ready. Readers see the
    old chunks or the new ones, never both or neither. False (nothing written) when the document is
    gone or its content changed again meanwhile (a newer upload's message will do the work)."""
    with conn.transaction():
        row = conn.execute(
            "SELECT sha256 FROM knowledge_documents WHERE tenant_id = %s AND id = %s FOR UPDATE",
            (tenant_id, document_id),
        ).fetchone()
        if row is None or row["sha256"] != sha256:
            return False
        conn.execute("DELETE FROM knowledge_chunks WHERE tenant_id = %s AND document_id = %s", (tenant_id, document_id))
        with conn.cursor() as cursor:
            cursor.executemany(
                """INSERT INTO knowledge_chunks (tenant_id, document_id, chunk_index, section, page, content,
                       content_sha, search_vector, embedding, embedding_model)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, mostrador_search_vector(%s, %s), %s, %s)""",
                [
                    (
                        tenant_id,
                        document_id,
                        chunk.index,
                        chunk.section,
                        chunk.page,
                        chunk.content,
                        chunk.content_sha,
                        chunk.search_title,
                        chunk.content,
                        _vector(chunk.embedding),
                        embedding_model if chunk.embedding is not None else None,
                    )
                    for chunk in chunks
                ],
            )
        conn.execute(
            """UPDATE knowledge_documents SET status = 'ready', error = NULL, ready_sha256 = sha256,
                   chunk_count = %s, embedding_model = %s, processed_at = now(), updated_at = now()
                WHERE tenant_id = %s AND id = %s""",
            (len(chunks), embedding_model, tenant_id, document_id),
        )
    return True


def record_embedding_usage(
    conn: Connection, tenant_id: str, provider: str, model: str, calls: int, tokens_in: int
) -> None:
    conn.execute(
        "INSERT INTO llm_usage (tenant_id, provider, model, purpose, calls, tokens_in, tokens_out)"
        " VALUES (%s, %s, %s, 'knowledge_embedding', %s, %s, 0)",
        (tenant_id, provider, model, calls, tokens_in),
    )


def _vector(values: Any) -> Any:
    if values is None:
        return None
    import numpy as np

    return np.asarray(values, dtype=np.float32)


# --- search ---------------------------------------------------------------------------------------

# The question's words that Postgres finds meaningful in both Spanish and English; each is matched
# against the chunk through simple (exact), Spanish and English stems, accents folded.
_SEARCH = """
WITH typed AS (
    SELECT w, to_tsquery('simple', w) || to_tsquery('spanish', w) || to_tsquery('english', w) AS q,
           -- the same word in a title only (weights A and B: document title, section path, FAQ question)
           to_tsquery('simple', w || ':AB') || to_tsquery('spanish', w || ':AB')
           || to_tsquery('english', w || ':AB') AS in_title,
           -- the same word in a product's name, brand or code (weight A of products.search_vector since
           -- migration 017; B is its category, which names no product: "línea blanca")
           to_tsquery('simple', w || ':A') || to_tsquery('spanish', w || ':A')
           || to_tsquery('english', w || ':A') AS in_name
      FROM unnest(%(words)s::text[]) AS w
     WHERE numnode(plainto_tsquery('spanish', w)) > 0 AND numnode(plainto_tsquery('english', w)) > 0
),
words AS (
    -- in_catalog: the word names a product (its name, brand or code)
    SELECT t.w, t.q, t.in_title,
           EXISTS (SELECT 1 FROM products p
                    WHERE p.tenant_id = %(tenant)s AND p.active AND p.search_vector @@ t.in_name) AS in_catalog
      FROM typed t
),
any_word AS (
    SELECT CASE WHEN count(*) = 0 THEN NULL ELSE
           to_tsquery('simple', string_agg(w, ' | ')) || to_tsquery('spanish', string_agg(w, ' | '))
           || to_tsquery('english', string_agg(w, ' | ')) END AS q,
           count(*) AS n
      FROM words
),
lexical AS (
    SELECT c.id FROM knowledge_chunks c, any_word a
     WHERE a.q IS NOT NULL AND c.tenant_id = %(tenant)s AND c.search_vector @@ a.q
     ORDER BY ts_rank_cd(c.search_vector, a.q) DESC, c.id
     LIMIT %(lexical_limit)s
),
nearest AS (
    SELECT c.id FROM knowledge_chunks c
     WHERE %(qvec)s::vector IS NOT NULL AND c.tenant_id = %(tenant)s AND c.embedding IS NOT NULL
       AND c.embedding_model = %(model)s
     ORDER BY c.embedding <=> %(qvec)s::vector
     LIMIT %(vector_limit)s
)
SELECT c.id, c.document_id, c.chunk_index, c.section, c.page, c.content,
       d.title AS document_title, d.kind, d.format,
       (SELECT count(*) FROM words WHERE c.search_vector @@ words.q) AS matched,
       (SELECT count(*) FROM words WHERE c.search_vector @@ words.in_title) AS matched_in_heading,
       (SELECT count(*) FROM words WHERE NOT words.in_catalog AND c.search_vector @@ words.q)
           AS matched_outside_catalog,
       (SELECT n FROM any_word) AS meaningful_words,
       (SELECT count(*) FROM words WHERE NOT words.in_catalog) AS question_outside_catalog,
       coalesce((SELECT ts_rank_cd(c.search_vector, a.q) FROM any_word a WHERE a.q IS NOT NULL), 0) AS rank,
       CASE WHEN %(qvec)s::vector IS NULL OR c.embedding IS NULL OR c.embedding_model <> %(model)s THEN NULL
            ELSE 1 - (c.embedding <=> %(qvec)s::vector) END AS similarity
  FROM knowledge_chunks c
  JOIN knowledge_documents d ON d.tenant_id = c.tenant_id AND d.id = c.document_id
 WHERE c.id IN (SELECT id FROM lexical UNION SELECT id FROM nearest)
"""


def search_chunks(
    conn: Connection,
    tenant_id: str,
    words: list[str],
    query_vector: list[float] | None,
    *,
    model: str | None = None,
    lexical_limit: int = 100,
    vector_limit: int = 40,
) -> list[dict[str, Any]]:
    """Candidate chunks (by words or by meaning) with what the relevance floor needs: matched words
    (anywhere, in the heading, naming nothing in the catalog), meaningful words of the question,
    cosine similarity. One statement: one consistent snapshot, so
    a document being replaced shows its old chunks or its new ones."""
    params = {
        "tenant": tenant_id,
        "words": words,
        "qvec": _vector(query_vector),
        "model": model,  # vectors of another embedding model are not comparable: words only for those
        "lexical_limit": lexical_limit,
        "vector_limit": vector_limit,
    }
    with conn.transaction():
        # HNSW gives at most ef_search candidates before the tenant filter.
        conn.execute("SET LOCAL hnsw.ef_search = 100")
        return conn.execute(_SEARCH, params).fetchall()


# --- citations ------------------------------------------------------------------------------------


def cited_knowledge(conn: Connection, tenant_id: str, inbound_ids: list[int]) -> list[dict[str, Any]]:
    """The knowledge chunks the tool calls made for these inbound messages returned, in call order."""
    if not inbound_ids:
        return []
    return conn.execute(
        """SELECT t.message_id, e.value AS citation
             FROM tool_calls t
            CROSS JOIN LATERAL jsonb_array_elements(t.knowledge_chunks) WITH ORDINALITY AS e(value, n)
            WHERE t.tenant_id = %s AND t.message_id = ANY(%s) AND jsonb_array_length(t.knowledge_chunks) > 0
            ORDER BY t.message_id, t.id, e.n""",
        (tenant_id, inbound_ids),
    ).fetchall()


# --- suggestions ----------------------------------------------------------------------------------

_SUGGESTION_COLUMNS = """id, tenant_id, escalation_id, conversation_id, question, answer, status, faq_document_id,
    created_at, decided_at, decided_by"""


def escalation_question(conn: Connection, tenant_id: str, escalation_id: int) -> dict[str, Any] | None:
    """The escalation and the customer's message that led to it (its own, else the latest before)."""
    return conn.execute(
        """SELECT e.id, e.conversation_id, e.reason,
                  coalesce(
                    (SELECT m.text FROM messages m WHERE m.id = e.message_id AND m.actor = 'customer'),
                    (SELECT m.text FROM messages m WHERE m.tenant_id = e.tenant_id
                        AND m.conversation_id = e.conversation_id AND m.actor = 'customer' AND m.direction = 'inbound'
                        AND m.created_at <= e.opened_at ORDER BY m.id DESC LIMIT 1)) AS customer_text
             FROM escalations e WHERE e.tenant_id = %s AND e.id = %s""",
        (tenant_id, escalation_id),
    ).fetchone()


def insert_suggestion(
    conn: Connection, tenant_id: str, *, escalation_id: int, conversation_id: str, question: str, answer: str
) -> dict[str, Any] | None:
    return conn.execute(
        f"""INSERT INTO knowledge_suggestions (tenant_id, escalation_id, conversation_id, question, answer)
            VALUES (%s, %s, %s, %s, %s) ON CONFLICT (escalation_id) DO NOTHING RETURNING {_SUGGESTION_COLUMNS}""",
        (tenant_id, escalation_id, conversation_id, question, answer),
    ).fetchone()


# A suggestion with the escalation it came from (gone, all NULL, if the escalation was deleted) and
# that conversation's channel and customer, so a person deciding sees where it came from.
_SUGGESTION_WITH_ESCALATION = (
    "SELECT "
    + ", ".join(f"s.{column.strip()}" for column in _SUGGESTION_COLUMNS.split(","))
    + """, e.reason AS escalation_reason, e.source AS escalation_source, e.opened_at AS escalation_opened_at,
       e.resolved_at AS escalation_resolved_at, c.channel AS escalation_channel, c.customer_id AS escalation_customer_id
  FROM knowledge_suggestions s
  LEFT JOIN escalations e ON e.tenant_id = s.tenant_id AND e.id = s.escalation_id
  LEFT JOIN conversations c ON c.tenant_id = s.tenant_id AND c.conversation_id = s.conversation_id"""
)


def get_suggestion(conn: Connection, tenant_id: str, suggestion_id: int) -> dict[str, Any] | None:
    return conn.execute(
        f"{_SUGGESTION_WITH_ESCALATION} WHERE s.tenant_id = %s AND s.id = %s",
        (tenant_id, suggestion_id),
    ).fetchone()


def list_suggestions(
    conn: Connection, tenant_id: str, *, status: str | None, after_id: int, limit: int
) -> list[dict[str, Any]]:
    return conn.execute(
        f"""{_SUGGESTION_WITH_ESCALATION}
             WHERE s.tenant_id = %s AND s.id > %s AND (%s::text IS NULL OR s.status = %s) ORDER BY s.id LIMIT %s""",
        (tenant_id, after_id, status, status, limit),
    ).fetchall()


def decide_suggestion(
    conn: Connection,
    tenant_id: str,
    suggestion_id: int,
    *,
    status: str,
    decided_by: str,
    faq_document_id: int | None = None,
) -> bool:
    """Approve or discard a suggestion that is still only suggested (False: already decided)."""
    cursor = conn.execute(
        """UPDATE knowledge_suggestions SET status = %s, faq_document_id = %s, decided_at = now(), decided_by = %s
            WHERE tenant_id = %s AND id = %s AND status = 'suggested'""",
        (status, faq_document_id, decided_by, tenant_id, suggestion_id),
    )
    return cursor.rowcount > 0
