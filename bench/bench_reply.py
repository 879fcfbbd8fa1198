"""Reply overhead per message: everything the reply function does except the model's own latency.

The real handler (functions/reply/handler.py) runs one SQS record per invocation, warm: envelope
parsing, the exactly-once record, actor rules, pause/window checks, history, the knowledge search
(an empty knowledge base) and then the catalog search (real Postgres, full text), three model turns
with the LLM at zero latency (the offline provider),
tool-call and usage logging, the stored draft, and the WhatsApp send over HTTP to a capture server
on 127.0.0.1. Target (issue 3): p50 <= 50 ms. The burst quiet window is off here
(REPLY_BURST_WINDOW_SECONDS=0: each message answered at once); bench_burst_window.py measures what the
window adds. Ends with one line of JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
import uuid
import warnings
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.lambda_events import LambdaContextStub, reply_queue_record

os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "MostradorBench")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

warnings.filterwarnings("ignore", message="No application metrics to publish")

TARGET_P50_MS = 50.0
PHONE_ID = "106540352242922"
QUESTIONS = [
    "¿Tienen nevera Samsung?",
    "precio de la lavadora LG",
    "busco un televisor de 55 pulgadas",
    "Do you have a Sony TV?",
    "¿hay aire acondicionado en Valencia?",
]


class _Capture(BaseHTTPRequestHandler):
    count = 0
    read_receipts = 0

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if b'"status": "read"' in raw or b'"status":"read"' in raw:
            _Capture.read_receipts += 1  # WhatsApp's read receipt + typing indicator, sent beside generation
        else:
            _Capture.count += 1
        body = json.dumps({"messaging_product": "whatsapp", "messages": [{"id": f"wamid.B{_Capture.count}"}]})
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _catalog(count: int) -> list[dict[str, Any]]:
    kinds = ["Nevera", "Lavadora", "Televisor", "Aire acondicionado", "Cafetera"]
    brands = ["Samsung", "LG", "Sony", "Whirlpool", "Oster"]
    branches = ["Caracas", "Valencia", "Maracaibo"]
    return [
        {
            "itemCode": f"SKU-{i:04d}",
            "itemName": f"{kinds[i % 5]} {brands[(i // 5) % 5]} modelo {i}",
            "description": f"<p>{kinds[i % 5]} de excelente calidad, modelo {i}.</p>",
            "category": "Hogar",
            "brand": brands[(i // 5) % 5],
            "whsName": f"ALMACEN {branches[i % 3].upper()}",
            "branchName": branches[i % 3],
            "stock": i % 7,
            "price": 100 + i,
        }
        for i in range(count)
    ]


def _load_catalog(conn: Any, count: int) -> None:
    from mostrador.catalog.enrichment import QueuedItem, enrich_batch
    from mostrador.catalog.models import EnrichMessage, ProductItem
    from mostrador.db.catalog_repository import CatalogRepository
    from mostrador.llm.offline_provider import OfflineProvider

    items = _catalog(count)
    for start in range(0, len(items), 50):
        chunk = items[start : start + 50]
        queued = [
            QueuedItem(
                f"m{start + i}",
                EnrichMessage(
                    tenant_id="default", sync_id="bench", batch_id=str(start), batch_size=len(chunk), index=i, item=raw
                ),
                ProductItem.model_validate(raw),
                1,
            )
            for i, raw in enumerate(chunk)
        ]
        enrich_batch(queued, store=CatalogRepository(conn), summarizer=OfflineProvider(), embedder=None, max_receives=5)


def _event(index: int, customers: int) -> dict[str, Any]:
    from mostrador.messaging.model import InboundMessage

    sender = f"58412{index % customers:07d}"
    message = InboundMessage(
        tenant_id="default",
        channel="whatsapp",
        conversation_id=f"wa:{PHONE_ID}:{sender}",
        sender_id=sender,
        sender_role="customer",
        text=QUESTIONS[index % len(QUESTIONS)],
        platform_message_id=f"wamid.bench.{uuid.uuid4().hex}",
        timestamp=datetime.now(UTC),
    )
    return {"Records": [reply_queue_record(message)]}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--customers", type=int, default=60, help="conversations the messages are spread over")
    parser.add_argument("--products", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()

    from local.embedded_postgres import start_embedded_postgres

    capture = ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    threading.Thread(target=capture.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory(prefix="mostrador-bench-reply-") as data_dir:
        server = start_embedded_postgres(data_dir)
        try:
            from mostrador.config import reset_settings
            from mostrador.db.connection import connect
            from mostrador.db.migrate import apply_migrations

            url = server.get_uri()
            apply_migrations(url)
            os.environ.update(
                {
                    "DATABASE_URL": url,
                    "LLM_PROVIDER": "offline",
                    "META_GRAPH_URL": f"http://127.0.0.1:{capture.server_address[1]}/v21.0",
                    "WHATSAPP_TOKEN": "bench-token",
                    "WHATSAPP_PHONE_NUMBER_ID": PHONE_ID,
                    "REPLY_BURST_WINDOW_SECONDS": "0",
                }
            )
            reset_settings()
            with connect(url) as conn:
                _load_catalog(conn, args.products)

            from functions.reply.handler import handler

            timings: list[float] = []
            cpu: list[float] = []
            failures = 0
            for index in range(args.warmup + args.messages):
                event = _event(index, args.customers)
                started, started_cpu = time.perf_counter(), time.process_time()
                result = handler(event, LambdaContextStub(function_name="bench-reply"))
                elapsed = (time.perf_counter() - started) * 1000
                # This process's own CPU (PostgreSQL's is not in it): steadier than wall time on a busy machine.
                used = (time.process_time() - started_cpu) * 1000
                failures += len(result["batchItemFailures"])
                if index >= args.warmup:
                    timings.append(elapsed)
                    cpu.append(used)
            with connect(url) as conn:
                row = conn.execute(
                    "SELECT count(*) FILTER (WHERE state = 'replied') AS replied, count(*) AS total"
                    " FROM messages WHERE direction = 'inbound'"
                ).fetchone()
                assert row is not None
                # Why the rest were not answered (a question the catalog cannot answer escalates on its
                # third empty search, and the conversation is then left to people).
                not_replied = {
                    f"{r['state']}:{r['state_reason']}": r["n"]
                    for r in conn.execute(
                        "SELECT state, coalesce(state_reason, '') AS state_reason, count(*) AS n FROM messages"
                        " WHERE direction = 'inbound' AND state IS DISTINCT FROM 'replied' GROUP BY 1, 2"
                    )
                }
        finally:
            from mostrador.db.connection import close_connection

            close_connection()
            server.cleanup()
            capture.shutdown()

    p50 = statistics.median(timings)
    print(
        json.dumps(
            {
                "bench": "reply",
                "messages": args.messages,
                "products": args.products,
                "replied": row["replied"],
                "inbound": row["total"],
                "not_replied": not_replied,
                "item_failures": failures,
                "sends_captured": _Capture.count,
                "read_receipts": _Capture.read_receipts,
                "burst_window_seconds": 0,
                "p50_ms": round(p50, 2),
                "p99_ms": round(_percentile(timings, 0.99), 2),
                "mean_ms": round(statistics.fmean(timings), 2),
                "cpu_p50_ms": round(statistics.median(cpu), 2),
                "target_p50_ms": TARGET_P50_MS,
                "p50_ok": p50 <= TARGET_P50_MS,
            }
        )
    )


if __name__ == "__main__":
    main()
