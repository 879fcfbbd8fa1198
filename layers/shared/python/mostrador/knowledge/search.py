"""search_knowledge: the business's FAQ entries and document chunks that answer a question.

Hybrid like the catalog: candidates by words (Postgres full text over Spanish and English stems and
exact words, accent-insensitive) and by meaning (pgvector cosine over an HNSW index), in one SQL
statement; then the relevance floor (relevance.py) keeps only chunks that answer, best first. With
no embedding provider (offline), words alone serve. Nothing relevant -> no passages, so the model
says it does not know instead of stretching an unrelated policy.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from mostrador.db import knowledge_repository as repo
from mostrador.knowledge.relevance import Floor, WordMatch, floor_for, question_words, relevance
from mostrador.llm.base import Embedder

if TYPE_CHECKING:
    from mostrador.db.connection import Connection

MAX_PASSAGES = 5
DEFAULT_PASSAGES = 3


@dataclass(frozen=True)
class Passage:
    document_id: int
    document: str  # the document's title (an FAQ entry's question)
    kind: str  # faq or file
    chunk: int  # the chunk's index in its document
    section: str | None
    page: int | None
    text: str
    score: float
    match: str = "heading"  # how it matched: heading, meaning, text, product_mention (relevance.Judgement)

    def as_tool_result(self) -> dict[str, Any]:
        return asdict(self)

    def as_citation(self) -> dict[str, Any]:
        """What the conversation log keeps of it (the text stays in the knowledge base)."""
        return {
            "documentId": self.document_id,
            "document": self.document,
            "chunk": self.chunk,
            "section": self.section,
            "page": self.page,
            "score": self.score,
        }


def search_knowledge(
    conn: Connection,
    tenant_id: str,
    question: str,
    *,
    embedder: Embedder | None = None,
    limit: int = DEFAULT_PASSAGES,
    floor: Floor | None = None,
) -> list[Passage]:
    question = (question or "").strip()[:500]
    limit = max(1, min(limit, MAX_PASSAGES))
    words = question_words(question)
    if not question or (not words and embedder is None):
        return []
    vector = embedder.embed([question]).vectors[0] if embedder is not None else None
    floor = floor or floor_for(embedder.model if embedder is not None else None)
    ranked: list[tuple[Passage, float]] = []
    model = embedder.model if embedder is not None else None
    for row in repo.search_chunks(conn, tenant_id, words, vector, model=model):
        similarity = float(row["similarity"]) if row["similarity"] is not None else None
        words_matched = WordMatch(
            meaningful=int(row["meaningful_words"] or 0),
            matched=int(row["matched"]),
            in_heading=int(row["matched_in_heading"]),
            outside_catalog=int(row["matched_outside_catalog"]),
            question_outside_catalog=int(row["question_outside_catalog"]),
        )
        judgement = relevance(words_matched, similarity, floor)
        if judgement is None:
            continue
        ranked.append(
            (
                Passage(
                    document_id=row["document_id"],
                    document=row["document_title"],
                    kind=row["kind"],
                    chunk=row["chunk_index"],
                    section=row["section"],
                    page=row["page"],
                    text=row["content"],
                    score=judgement.score,
                    match=judgement.match,
                ),
                float(row["rank"]),
            )
        )
    # Equal scores: the better full-text rank first (words in the title or heading weigh more).
    ranked.sort(key=lambda pair: (-pair[0].score, -pair[1], pair[0].document_id, pair[0].chunk))
    return [passage for passage, _ in ranked[:limit]]
