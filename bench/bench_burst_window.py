"""What the burst quiet window adds to a reply: the time from a customer message entering the reply
FIFO queue to its reply reaching the WhatsApp API, with the window off and on.

Real parts throughout: the local SQS emulator (moto's server, real boto3) with the local event source
mapping feeding the real reply handler, an embedded PostgreSQL, the offline LLM (zero model latency)
and a capture server on 127.0.0.1 standing in for the Graph API. Each message is the only one of its
conversation, so with the window on it waits the whole window for company that never comes: its
added latency should be the window itself (the timer's own trip through the queue on top). Ends with
one line of JSON.
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

os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "MostradorBench")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")

warnings.filterwarnings("ignore", message="No application metrics to publish")

PHONE_ID = "106540352242922"


class _Capture(BaseHTTPRequestHandler):
    """The Graph API stand-in: notes when each customer's reply arrives (read receipts aside)."""

    arrived: dict[str, float] = {}
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.loads(raw or b"{}")
        if body.get("status") != "read" and body.get("to"):
            with _Capture.lock:
                _Capture.arrived.setdefault(str(body["to"]), time.monotonic())
        data = json.dumps({"messaging_product": "whatsapp", "messages": [{"id": f"wamid.{uuid.uuid4().hex}"}]})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data.encode())

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _latencies(queue_url: str, count: int, prefix: str) -> list[float]:
    from mostrador.conversations.reply_queue import envelopes_for
    from mostrador.messaging.model import InboundMessage
    from mostrador.queues import send_messages

    results = []
    for index in range(count):
        sender = f"58{prefix}{index:07d}"
        message = InboundMessage(
            tenant_id="default",
            channel="whatsapp",
            conversation_id=f"wa:{PHONE_ID}:{sender}",
            sender_id=sender,
            sender_role="customer",
            text="¿Tienen nevera Samsung?",
            platform_message_id=f"wamid.burst.{uuid.uuid4().hex}",
            timestamp=datetime.now(UTC),
        )
        started = time.monotonic()
        failures = send_messages(queue_url, envelopes_for([message]))
        assert failures == [], failures
        deadline = started + 60
        while sender not in _Capture.arrived and time.monotonic() < deadline:
            time.sleep(0.005)
        if sender not in _Capture.arrived:
            raise RuntimeError(f"no reply for message {index} within 60 s")
        results.append((_Capture.arrived[sender] - started) * 1000)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10, help="messages per mode (window off, window on)")
    parser.add_argument("--window", type=int, default=2, help="REPLY_BURST_WINDOW_SECONDS when on")
    args = parser.parse_args()

    from local.embedded_postgres import start_embedded_postgres
    from local.event_source import SqsEventSource
    from local.lambda_context import LambdaContext
    from local.sqs_emulator import QueueSpec, SqsEmulator

    capture = ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    threading.Thread(target=capture.serve_forever, daemon=True).start()
    emulator = SqsEmulator()
    emulator.start()
    queue = emulator.create_queue(QueueSpec(f"bench-reply-{uuid.uuid4().hex[:6]}", True, 30, 5))
    with tempfile.TemporaryDirectory(prefix="mostrador-bench-burst-") as data_dir:
        server = start_embedded_postgres(data_dir)
        source = None
        try:
            from mostrador import queues
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
                    "REPLY_QUEUE_URL": queue.url,
                    "AWS_ENDPOINT_URL_SQS": emulator.endpoint,
                }
            )
            queues.reset_clients()
            with connect(url) as conn:
                from bench.bench_reply import _load_catalog

                _load_catalog(conn, 50)

            from functions.reply.handler import handler

            source = SqsEventSource(
                emulator.client,
                queue,
                lambda event: handler(event, LambdaContext("bench-burst-reply")),
                batch_size=10,
                wait_seconds=1,
            )
            source.start()
            measured = {}
            for window, prefix in ((0, "1"), (args.window, "2")):
                os.environ["REPLY_BURST_WINDOW_SECONDS"] = str(window)
                reset_settings()
                _latencies(queue.url, 2, prefix + "9")  # warm-up: cold imports, connection, first queue trips
                measured[window] = _latencies(queue.url, args.messages, prefix)
        finally:
            if source is not None:
                source.stop()
            from mostrador.db.connection import close_connection

            close_connection()
            server.cleanup()
            emulator.stop()
            capture.shutdown()

    off, on = statistics.median(measured[0]), statistics.median(measured[args.window])
    added = on - off
    print(
        json.dumps(
            {
                "bench": "burst_window",
                "messages_per_mode": args.messages,
                "window_seconds": args.window,
                "p50_ms_window_off": round(off, 1),
                "p50_ms_window_on": round(on, 1),
                "added_p50_ms": round(added, 1),
                "added_minus_window_ms": round(added - args.window * 1000, 1),
                "min_added_ms": round(min(measured[args.window]) - off, 1),
                "max_added_ms": round(max(measured[args.window]) - off, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
