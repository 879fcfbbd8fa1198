"""Ingest POST: what recording the sync's receipt at 202 costs (issue 14), warm and cold.

Warm: handler time per `POST /ingest/products` (10 items) in one process, with the receipt
written to the embedded PostgreSQL and without it (the handler's writer switched off), alternating; and
the time the request spends on the receipt itself (the direct measure: the handler times are dominated
by the SQS send, which goes to moto's server on 127.0.0.1 over real boto3 and varies a lot).

Cold: fresh interpreters, as a new Lambda environment: the handler module's import time (psycopg is not
imported there), then the first POST, with the receipt (it imports psycopg and connects) and without a
database configured; and `import psycopg` alone. Medians of several runs. Ends with one line of JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
KEY = "bench-ingest-key"


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def _items(count: int, tag: str) -> list[dict[str, Any]]:
    return [
        {
            "itemCode": f"{tag}-{i:05d}",
            "itemName": f"Nevera Samsung modelo {i}",
            "description": f"<p>Refrigerador de dos puertas, modelo {i}, 380 litros.</p>",
            "category": "Línea Blanca",
            "brand": "Samsung",
            "whsName": "CCS-01",
            "branchName": "Caracas",
            "stock": i % 7,
            "price": 899.0 + i,
        }
        for i in range(count)
    ]


def _event(body: str) -> dict[str, Any]:
    headers = {"Content-Type": "application/json", "X-API-KEY": KEY}
    return {
        "resource": "/ingest/products",
        "path": "/ingest/products",
        "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {"resourcePath": "/ingest/products", "httpMethod": "POST", "stage": "prod"},
        "body": body,
        "isBase64Encoded": False,
    }


# Run in a fresh interpreter: import time, first POST, second POST (seconds, one JSON line).
_COLD = """
import json, sys, time
t = time.perf_counter()
import functions.ingest.handler as h
imported = time.perf_counter() - t
from local.lambda_context import LambdaContext
writer, receipt = h.receipts, []
def timed(r):
    t = time.perf_counter(); stored = writer(r); receipt.append(time.perf_counter() - t); return stored
h.receipts = timed
events = json.loads(sys.stdin.read())
times = []
for event in events:
    t = time.perf_counter()
    response = h.handler(event, LambdaContext("ingest"))
    times.append(time.perf_counter() - t)
    assert response["statusCode"] == 202, response
print(json.dumps({"import": imported, "first": times[0], "second": times[1], "first_receipt": receipt[0],
                  "second_receipt": receipt[1], "psycopg": "psycopg" in sys.modules}))
"""


def _cold(env: dict[str, str], runs: int, *, database_url: str | None) -> dict[str, float]:
    samples: dict[str, list[float]] = {
        "import": [], "first": [], "second": [], "first_receipt": [], "second_receipt": []
    }  # fmt: skip
    loaded = set()
    for run in range(runs):
        run_env = {**env, "DATABASE_URL": database_url or ""}
        events = [_event(json.dumps({"products": _items(10, f"cold{run}-{i}"), "syncId": f"cold-{run}-{i}"}))
                  for i in range(2)]  # fmt: skip
        out = subprocess.run(
            [sys.executable, "-c", _COLD], input=json.dumps(events), capture_output=True, text=True, check=True,
            env=run_env, cwd=ROOT,
        )  # fmt: skip
        result = json.loads(out.stdout.strip().splitlines()[-1])
        for name in samples:
            samples[name].append(result[name])
        loaded.add(result["psycopg"])
    return {f"{name}_ms": round(statistics.median(values) * 1000, 1) for name, values in samples.items()} | {
        "psycopg_loaded": loaded == {True}
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_port(host: str, port: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
            return
        time.sleep(0.2)
    raise RuntimeError("moto's server did not start")


def _import_psycopg_ms(runs: int) -> float:
    code = "import time; t = time.perf_counter(); import psycopg; print(time.perf_counter() - t)"
    samples = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(runs)
    ]
    return round(statistics.median(samples) * 1000, 1)


class _TimedWriter:
    """The handler's receipt writer, timed (the time the request spends on the receipt)."""

    def __init__(self, writer: Any) -> None:
        self.writer = writer
        self.samples: list[float] = []

    def __call__(self, receipt: Any) -> bool:
        began = time.perf_counter()
        stored = bool(self.writer(receipt))
        self.samples.append((time.perf_counter() - began) * 1000)
        assert stored, "the receipt was not stored"
        return stored


def _warm(count: int, posts: int) -> dict[str, Any]:
    """POSTs with and without the receipt, alternating (moto's queue slows down as it fills, so a new
    queue every 20 requests and both modes side by side)."""
    import boto3

    import functions.ingest.handler as ingest
    from local.lambda_context import LambdaContext
    from mostrador import queues
    from mostrador.config import reset_settings

    writer = ingest.receipts
    timed = _TimedWriter(writer)
    sqs = boto3.client("sqs")
    samples: dict[bool, list[float]] = {True: [], False: []}
    context = LambdaContext("ingest")
    try:
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            for i in range(posts + 5):
                if i % 20 == 0:
                    os.environ["ENRICH_QUEUE_URL"] = sqs.create_queue(QueueName=f"bench-{uuid.uuid4().hex[:12]}")[
                        "QueueUrl"
                    ]
                    reset_settings()
                    queues.reset_clients()
                for with_receipt in (i % 2 == 0, i % 2 == 1):
                    ingest.receipts = timed if with_receipt else None  # type: ignore[assignment]
                    tag = f"w{count}-{with_receipt}-{i}"
                    event = _event(json.dumps({"products": _items(count, tag), "syncId": f"sync-{tag}"}))
                    began = time.perf_counter()
                    response = ingest.handler(event, context)
                    elapsed = (time.perf_counter() - began) * 1000
                    assert response["statusCode"] == 202, response
                    if i >= 5:  # warm-up
                        samples[with_receipt].append(elapsed)
    finally:
        ingest.receipts = writer
    receipt = timed.samples[5:]
    return {
        "handler_p50_ms_without_receipt": round(statistics.median(samples[False]), 2),
        "handler_p50_ms_with_receipt": round(statistics.median(samples[True]), 2),
        "receipt_p50_ms": round(statistics.median(receipt), 2),
        "receipt_p95_ms": round(_percentile(receipt, 0.95), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=100)
    parser.add_argument("--cold-runs", type=int, default=7)
    args = parser.parse_args()

    import boto3

    from local.embedded_postgres import start_embedded_postgres
    from mostrador.db.connection import connect
    from mostrador.db.migrate import apply_migrations

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # moto in its own process: in this one it would share the GIL with the handler being timed.
    host, port = "127.0.0.1", _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for_port(host, port)
    with tempfile.TemporaryDirectory(prefix="mostrador-bench-") as data_dir:
        pg = start_embedded_postgres(data_dir)
        try:
            database_url = pg.get_uri()
            apply_migrations(database_url)
            endpoint = f"http://{host}:{port}"
            env = {
                "AWS_ENDPOINT_URL_SQS": endpoint,
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "bench",
                "AWS_SECRET_ACCESS_KEY": "bench",
                "INGEST_API_KEY": KEY,
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_NAMESPACE": "MostradorBench",
                "POWERTOOLS_LOG_LEVEL": "WARNING",
            }
            os.environ.update(env | {"DATABASE_URL": database_url})
            sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1")
            env["ENRICH_QUEUE_URL"] = sqs.create_queue(QueueName=f"bench-enrich-{uuid.uuid4().hex[:8]}")["QueueUrl"]
            env_cold = {
                **os.environ,
                **env,
                "PYTHONPATH": os.pathsep.join([str(ROOT / "layers/shared/python"), str(ROOT)]),
            }

            # The receipt is one statement whatever the item count; 10 items keep moto's share small.
            warm = _warm(10, args.posts)
            print("warm POST of 10 items:", warm, flush=True)
            recorded = connect(database_url).execute("SELECT count(*) AS n FROM sync_batches").fetchone()
            assert recorded is not None and recorded["n"] == args.posts + 5, recorded

            cold_with = _cold(env_cold, args.cold_runs, database_url=database_url)
            cold_without = _cold(env_cold, args.cold_runs, database_url=None)
            cold = {
                "import_handler_ms": round(statistics.median([cold_with["import_ms"], cold_without["import_ms"]]), 1),
                # The first receipt imports psycopg and the repository, connects, writes: the cold extra.
                "first_receipt_ms": cold_with["first_receipt_ms"],
                "second_receipt_ms": cold_with["second_receipt_ms"],
                "first_post_ms_with_receipt": cold_with["first_ms"],
                "first_post_ms_without_database": cold_without["first_ms"],
                "psycopg_loaded_after_first_post": cold_with["psycopg_loaded"],
                "psycopg_loaded_without_database": cold_without["psycopg_loaded"],
                "import_psycopg_ms": _import_psycopg_ms(args.cold_runs),
            }
            print("cold:", cold, flush=True)
        finally:
            pg.cleanup()
            server.terminate()
            server.wait()

    print(json.dumps({"bench": "ingest", "posts": args.posts, "warm": warm, "cold": cold}))


if __name__ == "__main__":
    main()
