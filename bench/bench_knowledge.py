"""Knowledge ingest of a generated 200-page PDF: time and embedding calls.

The PDF (local/pdf_writer.py, ~2,400 characters of Spanish policy text per page, a heading every few
pages) goes through the real path: the admin use case (checks, hash, file into a folder store, row,
message) and the knowledge worker's use case (pypdf extraction, structural chunking, ONE embed call,
atomic chunk swap into the real embedded Postgres + pgvector). Embeddings go through the real OpenAI
SDK to the fake server on 127.0.0.1 (tests/fakes/llm_server.py), so the count is HTTP requests made.

Phases: first ingest; the same file again (must be 0 embedding calls, no processing); one page
changed (only the changed chunks are embedded, still one call); then search latency over the
document. Ends with one line of JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from local.pdf_writer import make_pdf

TOPICS = ["Envíos", "Garantía", "Devoluciones", "Pagos", "Instalación", "Mantenimiento", "Repuestos", "Sucursales"]


def page_text(page: int, edited: bool = False) -> list[tuple[str, str]]:
    topic = TOPICS[(page // 5) % len(TOPICS)]
    items: list[tuple[str, str]] = []
    if page % 5 == 0:
        items.append(("h", f"{topic}: sección {page // 5 + 1}"))
    for paragraph in range(4):
        version = " Actualizado este mes." if edited and paragraph == 0 else ""
        items.append(
            (
                "p",
                f"Página {page + 1}, párrafo {paragraph + 1}. La política de {topic.lower()} de la tienda establece "
                f"plazos, condiciones y excepciones que el personal aplica en cada caso número {page * 4 + paragraph}. "
                "Los clientes reciben la información por escrito y pueden consultar cualquier duda en las sucursales "
                "de Caracas, Valencia y Maracaibo, de lunes a sábado, con su factura y su documento de identidad. "
                f"El detalle {page}-{paragraph} aplica a productos nuevos y reacondicionados por igual.{version}",
            )
        )
    return items


def make_manual(pages: int, edited_page: int | None = None) -> bytes:
    return make_pdf([page_text(p, edited=p == edited_page) for p in range(pages)], title="Manual de políticas")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--searches", type=int, default=50)
    args = parser.parse_args()

    from local.embedded_postgres import start_embedded_postgres
    from mostrador.config import reset_settings
    from mostrador.db.connection import connect
    from mostrador.db.migrate import apply_migrations
    from mostrador.knowledge import library
    from mostrador.knowledge.files import LocalFileStore
    from mostrador.knowledge.processing import DocumentMessage, process_document
    from mostrador.knowledge.search import search_knowledge
    from mostrador.llm.providers import embedder_for
    from mostrador.operations.auth import Principal, Role
    from tests.fakes.llm_server import running_llm_server

    principal = Principal("bench", Role.OWNER, "bench")
    with tempfile.TemporaryDirectory(prefix="mostrador-bench-knowledge-") as data_dir, running_llm_server() as llm:
        os.environ.update(
            {
                "LLM_PROVIDER": "openai",
                "OPENAI_API_KEY": "sk-bench",
                "OPENAI_BASE_URL": llm.openai_base_url,
                "LLM_MAX_RETRIES": "0",
            }
        )
        reset_settings()
        from mostrador.config import get_settings

        embedder = TimedEmbedder(embedder_for(get_settings()))
        server = start_embedded_postgres(Path(data_dir) / "pg")
        try:
            url = server.get_uri()
            apply_migrations(url)
            conn = connect(url)
            files = LocalFileStore(Path(data_dir) / "files")
            queued: list[DocumentMessage] = []

            def ingest(data: bytes) -> dict[str, float | int | str]:
                calls_before, texts_before = llm.embedding_calls, len(llm.embedded_texts)
                embedder.seconds = 0.0
                started = time.perf_counter()
                status, document = library.add_document(
                    conn,
                    files,
                    queued.append,
                    "default",
                    filename="manual.pdf",
                    data=data,
                    title=None,
                    principal=principal,
                    embedding_model=embedder.model,
                )
                accepted = time.perf_counter()
                outcome = "unchanged (not queued)"
                while queued:
                    outcome = process_document(conn, files, embedder, queued.pop(0)).outcome
                done = time.perf_counter()
                return {
                    "http_status": status,
                    "outcome": outcome,
                    "upload_ms": round((accepted - started) * 1000, 1),
                    "processing_ms": round((done - accepted) * 1000, 1),
                    # of which the embedding call (the fake server computes 1536-d vectors in Python)
                    "embedding_ms": round(embedder.seconds * 1000, 1),
                    "embedding_calls": llm.embedding_calls - calls_before,
                    "chunks_embedded": len(llm.embedded_texts) - texts_before,
                    "chunks": int(document["chunks"]) if outcome != "ready" else _chunks(conn, document["id"]),
                }

            first_pdf = make_manual(args.pages)
            started = time.perf_counter()
            from mostrador.knowledge.extract import extract_blocks

            blocks = extract_blocks("pdf", first_pdf)
            extract_ms = round((time.perf_counter() - started) * 1000, 1)
            phases = {"first_ingest": ingest(first_pdf)}
            print("first ingest", phases["first_ingest"], flush=True)
            phases["same_file_again"] = ingest(first_pdf)
            print("same file again", phases["same_file_again"], flush=True)
            phases["one_page_changed"] = ingest(make_manual(args.pages, edited_page=args.pages // 2))
            print("one page changed", phases["one_page_changed"], flush=True)

            questions = ["¿cuál es la política de garantía?", "¿hacen envíos a Maracaibo?", "¿qué repuestos tienen?"]
            latencies = []
            for i in range(args.searches):
                began = time.perf_counter()
                search_knowledge(conn, "default", questions[i % len(questions)], embedder=embedder)
                latencies.append((time.perf_counter() - began) * 1000)
            conn.close()
        finally:
            server.cleanup()
    result = {
        "benchmark": "knowledge_ingest",
        "pages": args.pages,
        "pdf_bytes": len(first_pdf),
        "blocks": len(blocks),
        "pypdf_extract_ms": extract_ms,
        **{f"{phase}_{key}": value for phase, values in phases.items() for key, value in values.items()},
        "search_p50_ms": round(statistics.median(latencies), 1),
        "search_p95_ms": round(sorted(latencies)[int(len(latencies) * 0.95) - 1], 1),
        "embedding_server": "fake OpenAI on 127.0.0.1 via the real SDK",
    }
    print(json.dumps(result))


class TimedEmbedder:
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name, self.model = inner.name, inner.model
        self.seconds = 0.0

    def embed(self, texts: list[str]) -> Any:
        started = time.perf_counter()
        try:
            return self.inner.embed(texts)
        finally:
            self.seconds += time.perf_counter() - started


def _chunks(conn: object, document_id: int) -> int:
    row = conn.execute(  # type: ignore[attr-defined]
        "SELECT chunk_count FROM knowledge_documents WHERE id = %s", (document_id,)
    ).fetchone()
    return int(row["chunk_count"])


if __name__ == "__main__":
    main()
