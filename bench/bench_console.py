"""What one refresh of the admin console costs on the server: the real admin handler, warm, against a
real Postgres holding `--conversations` conversations of `--messages-each` messages (customer and bot,
written with the reply side's own repository). Measures the inbox (first page), the same inbox
answered 304 (the ETag of the previous answer), the inbox filtered by a word, and one conversation's
detail. These run every 3-4 s per open console (docs/console.md). Ends with one line of JSON."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.handler_environment import PHONE_ID, customer_message, quiet_powertools
from tests.lambda_events import LambdaContextStub, api_event

quiet_powertools()

TOKEN = "bench-admin-token"
WORDS = ["nevera", "lavadora", "televisor", "precio", "garantía", "envío", "Valencia", "Caracas"]


def _fill(conn: Any, conversations: int, each: int) -> None:
    from mostrador.db import conversation_repository as repo

    start = datetime.now(UTC) - timedelta(days=2)
    for c in range(conversations):
        sender = f"58412{c:07d}"
        for m in range(each // 2):
            at = start + timedelta(seconds=c * 7 + m)
            word = WORDS[(c + m) % len(WORDS)]
            message = customer_message(
                sender, f"Hola, ¿tienen {word}? pregunta {m} del cliente {c}", f"wamid.bench.{c}.{m}", at
            )
            inbound = repo.record_inbound(conn, message, "customer")
            repo.note_customer_message(conn, "default", message.conversation_id, sender, at, "es")
            draft = repo.store_reply_draft(
                conn,
                "default",
                message.conversation_id,
                "whatsapp",
                inbound.id,
                repo.ReplyDraft(f"Sí, tenemos {word}: modelo {m}.", "es", "offline", "offline-template", 120, 40),
            )
            repo.mark_reply_sent(conn, "default", draft["id"], [f"wamid.out.{c}.{m}"], 300 + m)
            repo.mark_inbound(conn, "default", inbound.id, "replied")


def _call(path: str, query: dict[str, str] | None = None, etag: str | None = None) -> dict[str, Any]:
    from functions.admin.handler import handler

    headers = {"Authorization": f"Bearer {TOKEN}"}
    if etag:
        headers["If-None-Match"] = etag
    response: dict[str, Any] = handler(api_event("GET", path, headers=headers, query=query), LambdaContextStub())
    assert response["statusCode"] in (200, 304), response
    return response


def _etag(response: dict[str, Any]) -> str:
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers.setdefault(name.lower(), values[-1])
    return str(headers["etag"])


def _time(task: Any, rounds: int) -> list[float]:
    task()  # warm
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        task()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=2000)
    parser.add_argument("--messages-each", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()

    from local.embedded_postgres import start_embedded_postgres

    with tempfile.TemporaryDirectory(prefix="mostrador-bench-console-") as data_dir:
        server = start_embedded_postgres(data_dir)
        try:
            from mostrador.config import reset_settings
            from mostrador.db.connection import connect
            from mostrador.db.migrate import apply_migrations

            url = server.get_uri()
            apply_migrations(url)
            os.environ.update({"DATABASE_URL": url, "ADMIN_TOKEN": TOKEN, "LLM_PROVIDER": "offline"})
            reset_settings()
            with connect(url) as conn:
                _fill(conn, args.conversations, args.messages_each)
                conn.execute("ANALYZE")
                messages = conn.execute("SELECT count(*) AS n FROM messages").fetchone()["n"]

            etag = _etag(_call("/admin/console/inbox"))
            one = f"wa:{PHONE_ID}:58412{args.conversations // 2:07d}"
            results = {
                "inbox": _time(lambda: _call("/admin/console/inbox"), args.rounds),
                "inbox_304": _time(lambda: _call("/admin/console/inbox", etag=etag), args.rounds),
                "inbox_text": _time(lambda: _call("/admin/console/inbox", {"q": "garantia"}), args.rounds),
                "conversation": _time(lambda: _call(f"/admin/console/conversations/{one}"), args.rounds),
            }
        finally:
            from mostrador.db.connection import close_connection

            close_connection()
            server.cleanup()

    line: dict[str, Any] = {
        "bench": "console",
        "conversations": args.conversations,
        "messages": messages,
        "rounds": args.rounds,
    }
    for name, timings in results.items():
        line[f"{name}_p50_ms"] = round(statistics.median(timings), 2)
        line[f"{name}_max_ms"] = round(max(timings), 2)
    print(json.dumps(line))


if __name__ == "__main__":
    main()
