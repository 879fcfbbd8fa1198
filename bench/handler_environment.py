"""The environment the benchmarks that run our handlers in this process give them (bench_reply,
bench_burst_window, bench_console). Not a benchmark itself (`make bench` runs bench_*.py)."""

from __future__ import annotations

import os
import warnings

PHONE_ID = "106540352242922"


def quiet_powertools() -> None:
    """Powertools without tracing and logging errors only, and a region for boto3; call it before a
    handler is imported (they read these at import)."""
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "MostradorBench")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    warnings.filterwarnings("ignore", message="No application metrics to publish")


def reply_settings(database_url: str, graph_port: int, **settings: str) -> None:
    """The reply function's settings: the migrated database at `database_url`, the offline model (zero
    latency), WhatsApp sending to the Graph API stand-in on 127.0.0.1:`graph_port`; then `settings`."""
    from mostrador.db.migrate import apply_migrations

    apply_migrations(database_url)
    os.environ.update(
        {
            "DATABASE_URL": database_url,
            "LLM_PROVIDER": "offline",
            "META_GRAPH_URL": f"http://127.0.0.1:{graph_port}/v21.0",
            "WHATSAPP_TOKEN": "bench-token",
            "WHATSAPP_PHONE_NUMBER_ID": PHONE_ID,
            **settings,
        }
    )
