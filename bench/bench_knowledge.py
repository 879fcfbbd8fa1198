"""Knowledge ingest of a generated 200-page PDF: time and embedding calls.

The PDF (local/pdf_writer.py, ~2,400 characters of Spanish policy text per page, a heading every few
pages) goes through the real upload and worker path: `POST /admin/knowledge/documents` (base64 in JSON)
into the real admin handler (auth, checks, hash, file into a folder store as locally, row, message on
the knowledge queue: moto's SQS server on 127.0.0.1 through real boto3), then what Lambda's event source
does for the real knowledge handler: receive, invoke, delete (pypdf extraction, structural chunking,
ONE embed call, atomic chunk swap into the real embedded Postgres + pgvector). Embeddings go through the
real OpenAI SDK to the fake server on 127.0.0.1 (tests/fakes/llm_server.py), so the count is HTTP
requests made; the worker's embedder is wrapped only to time its calls.

Phases: first ingest; the same file again (must be 0 embedding calls, no processing); one page
changed (only the changed chunks are embedded, still one call); then search latency over the
document (search_knowledge, as the reply function's tool calls it). Ends with one line of JSON.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.handler_environment import quiet_powertools
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


TOKEN = "bench-admin-token"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--searches", type=int, default=50)
    args = parser.parse_args()
    quiet_powertools()

    import boto3
    from moto.server import ThreadedMotoServer

    from local.embedded_postgres import start_embedded_postgres
    from mostrador import queues
    from mostrador.config import get_settings, reset_settings
    from mostrador.db.connection import close_connection, connect
    from mostrador.db.migrate import apply_migrations
    from mostrador.knowledge.search import search_knowledge
    from mostrador.llm import providers
    from tests.fakes.llm_server import running_llm_server

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="mostrador-bench-knowledge-") as data_dir, running_llm_server() as llm:
        host, port = moto.get_host_and_port()
        os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"})
        sqs = boto3.client("sqs", endpoint_url=f"http://{host}:{port}", region_name="us-east-1")
        queue_url = sqs.create_queue(QueueName="bench-knowledge", Attributes={"VisibilityTimeout": "1800"})["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        server = start_embedded_postgres(Path(data_dir) / "pg")
        try:
            url = server.get_uri()
            apply_migrations(url)
            os.environ.update(
                {
                    "DATABASE_URL": url,
                    "ADMIN_TOKEN": TOKEN,
                    "AWS_ENDPOINT_URL_SQS": f"http://{host}:{port}",
                    "KNOWLEDGE_QUEUE_URL": queue_url,
                    "KNOWLEDGE_FILES_DIR": str(Path(data_dir) / "files"),
                    "LLM_PROVIDER": "openai",
                    "OPENAI_API_KEY": "sk-bench",
                    "OPENAI_BASE_URL": llm.openai_base_url,
                    "LLM_MAX_RETRIES": "0",
                }
            )
            os.environ.pop("KNOWLEDGE_BUCKET", None)
            reset_settings()
            queues.reset_clients()
            embedder = TimedEmbedder(providers.embedder_for(get_settings()))
            # The knowledge handler builds its embedder per record: hand it the timed one (same SDK, same server).
            providers.embedder_for = lambda settings: embedder
            conn = connect(url)

            def ingest(data: bytes) -> dict[str, float | int | str]:
                calls_before, texts_before = llm.embedding_calls, len(llm.embedded_texts)
                embedder.seconds = 0.0
                started = time.perf_counter()
                status, document = _admin("POST", "/admin/knowledge/documents", _upload_body("manual.pdf", data))
                accepted = time.perf_counter()
                handled = _drain(sqs, queue_url, queue_arn)
                done = time.perf_counter()
                if handled:
                    _, document = _admin("GET", f"/admin/knowledge/documents/{document['id']}")
                return {
                    "http_status": status,
                    "outcome": str(document["status"]) if handled else "unchanged (not queued)",
                    "upload_ms": round((accepted - started) * 1000, 1),
                    "processing_ms": round((done - accepted) * 1000, 1),
                    # of which the embedding call (the fake server computes 1536-d vectors in Python)
                    "embedding_ms": round(embedder.seconds * 1000, 1),
                    "embedding_calls": llm.embedding_calls - calls_before,
                    "chunks_embedded": len(llm.embedded_texts) - texts_before,
                    "chunks": int(document["chunks"]),
                }

            first_pdf = make_manual(args.pages)
            started = time.perf_counter()
            from mostrador.knowledge.extract import extract_blocks

            blocks = extract_blocks("pdf", first_pdf)
            extract_ms = round((time.perf_counter() - started) * 1000, 1)
            # The handlers print their EMF metrics line per invocation (as on Lambda): keep it out of the report.
            with open(os.devnull, "w") as sink:
                with contextlib.redirect_stdout(sink):  # warm: the phases time warm handlers, not imports
                    _admin("GET", "/admin/knowledge/documents")
                    import functions.knowledge.handler  # noqa: F401
                phases: dict[str, dict[str, float | int | str]] = {}
                for phase, pdf in (
                    ("first_ingest", first_pdf),
                    ("same_file_again", first_pdf),
                    ("one_page_changed", make_manual(args.pages, edited_page=args.pages // 2)),
                ):
                    with contextlib.redirect_stdout(sink):
                        phases[phase] = ingest(pdf)
                    print(phase.replace("_", " "), phases[phase], flush=True)

            questions = ["¿cuál es la política de garantía?", "¿hacen envíos a Maracaibo?", "¿qué repuestos tienen?"]
            latencies = []
            for i in range(args.searches):
                began = time.perf_counter()
                search_knowledge(conn, "default", questions[i % len(questions)], embedder=embedder)
                latencies.append((time.perf_counter() - began) * 1000)
            conn.close()
        finally:
            close_connection()
            server.cleanup()
            moto.stop()
    result = {
        "benchmark": "knowledge_ingest",
        "pages": args.pages,
        "pdf_bytes": len(first_pdf),
        "blocks": len(blocks),
        "pypdf_extract_ms": extract_ms,
        **{f"{phase}_{key}": value for phase, values in phases.items() for key, value in values.items()},
        "search_p50_ms": round(statistics.median(latencies), 1),
        "search_p95_ms": round(sorted(latencies)[int(len(latencies) * 0.95) - 1], 1),
        "path": "admin handler POST, knowledge queue on moto SQS, knowledge handler",
        "embedding_server": "fake OpenAI on 127.0.0.1 via the real SDK",
    }
    print(json.dumps(result))


def _upload_body(filename: str, data: bytes) -> str:
    return json.dumps({"filename": filename, "contentBase64": base64.b64encode(data).decode()})


def _admin(method: str, path: str, body: str | None = None) -> tuple[int, dict[str, Any]]:
    """The admin handler, called as API Gateway calls it."""
    from functions.admin.handler import handler
    from tests.lambda_events import LambdaContextStub, api_event

    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    event = api_event(
        method,
        path,
        body=body,
        headers=headers,
        resource="/admin/{proxy+}",
        path_parameters={"proxy": path.removeprefix("/admin/")},
    )
    response = handler(event, LambdaContextStub())
    answer = json.loads(response["body"])
    assert response["statusCode"] in (200, 202), (response["statusCode"], answer)
    return int(response["statusCode"]), answer


def _drain(sqs: Any, queue_url: str, queue_arn: str) -> int:
    """What Lambda's event source does for the knowledge function (batch size 1): receive, invoke, and
    delete what succeeded. Returns the messages handled."""
    from functions.knowledge.handler import handler
    from tests.lambda_events import LambdaContextStub, sqs_event

    handled = 0
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1, AttributeNames=["All"]).get(
            "Messages", []
        )
        if not messages:
            return handled
        result = handler(sqs_event(messages, queue_arn), LambdaContextStub())
        assert not result["batchItemFailures"], result
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=messages[0]["ReceiptHandle"])
        handled += 1


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


if __name__ == "__main__":
    main()
