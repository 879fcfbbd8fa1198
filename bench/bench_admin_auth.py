"""What admin access costs per request, warm, through the real admin handler on the embedded PostgreSQL.

GET /admin/me (no other database work) with: ADMIN_TOKEN (no lookup); a token made through the API and
cached (TOKEN_CACHE_SECONDS); the same token with the cache emptied before every call (what each call
would pay without the cache: one UPDATE ... RETURNING on admin_tokens); ADMIN_TOKEN naming a tenant in
X-Tenant (one lookup that the tenant exists); and PUT /admin/model-prices/{m} with a cached token, a
mutation with its audit entry in the same transaction. Ends with one line of JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from typing import Any

from tests.lambda_events import LambdaContextStub, api_event

os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "MostradorBench")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

warnings.filterwarnings("ignore", message="No application metrics to publish")

ADMIN_TOKEN = "bench-admin-token-0123456789"


def _call(method: str, path: str, token: str, body: Any = None, tenant: str | None = None) -> dict[str, Any]:
    from functions.admin.handler import handler

    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if tenant is not None:
        headers["X-Tenant"] = tenant
    event = api_event(
        method,
        path,
        body=None if body is None else json.dumps(body),
        headers=headers,
        resource="/admin/{proxy+}",
        path_parameters={"proxy": path.removeprefix("/admin/")},
    )
    answer: dict[str, Any] = handler(event, LambdaContextStub(function_name="bench-admin"))
    assert answer["statusCode"] == 200, answer
    return answer


def _timed(calls: int, warmup: int, call: Callable[[], Any], before: Callable[[], None] = lambda: None) -> list[float]:
    timings = []
    for index in range(warmup + calls):
        before()
        started = time.perf_counter()
        call()
        elapsed = (time.perf_counter() - started) * 1000
        if index >= warmup:
            timings.append(elapsed)
    return timings


def _summary(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)
    return {
        "p50_ms": round(statistics.median(ordered), 3),
        "p99_ms": round(ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()

    from local.embedded_postgres import start_embedded_postgres

    with tempfile.TemporaryDirectory(prefix="mostrador-bench-admin-") as data_dir:
        server = start_embedded_postgres(data_dir)
        try:
            from mostrador.config import reset_settings
            from mostrador.db.migrate import apply_migrations
            from mostrador.operations.auth import TOKEN_CACHE

            url = server.get_uri()
            apply_migrations(url)
            from mostrador.db.connection import connect
            from mostrador.db.tenant_repository import create_tenant

            with connect(url) as conn:
                create_tenant(conn, "bench-shop", {"display_name": "Bench shop"})
            os.environ.update(
                {"DATABASE_URL": url, "ADMIN_TOKEN": ADMIN_TOKEN, "ADMIN_TOKEN_HASH_KEY": "bench-key-" + "0" * 54}
            )
            reset_settings()
            created = json.loads(
                _call("POST", "/admin/tokens", ADMIN_TOKEN, {"name": "bench", "role": "owner"})["body"]
            )
            token = created["secret"]
            results = {
                "admin_token": _summary(
                    _timed(args.calls, args.warmup, lambda: _call("GET", "/admin/me", ADMIN_TOKEN))
                ),
                "operator_naming_tenant": _summary(
                    _timed(args.calls, args.warmup, lambda: _call("GET", "/admin/me", ADMIN_TOKEN, tenant="bench-shop"))
                ),
                "api_token_cached": _summary(_timed(args.calls, args.warmup, lambda: _call("GET", "/admin/me", token))),
                "api_token_uncached": _summary(
                    _timed(args.calls, args.warmup, lambda: _call("GET", "/admin/me", token), TOKEN_CACHE.clear)
                ),
                "mutation_with_audit": _summary(
                    _timed(
                        args.calls,
                        args.warmup,
                        lambda: _call(
                            "PUT",
                            "/admin/model-prices/bench-model",
                            token,
                            {"inputPerMillion": 1, "outputPerMillion": 2},
                        ),
                    )
                ),
            }
        finally:
            from mostrador.db.connection import close_connection

            close_connection()
            server.cleanup()

    print(json.dumps({"bench": "admin_auth", "calls": args.calls, **results}))


if __name__ == "__main__":
    main()
