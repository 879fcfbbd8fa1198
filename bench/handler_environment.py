"""What the benchmarks that run our handlers in this process (bench_reply, bench_burst_window,
bench_console) share: the environment they give the handlers, and the WhatsApp customer messages they
feed them. Not a benchmark itself (`make bench` runs bench_*.py)."""

from __future__ import annotations

import os
import warnings
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mostrador.messaging.model import InboundMessage

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


def customer_message(sender: str, text: str, platform_message_id: str, at: datetime | None = None) -> InboundMessage:
    """A WhatsApp message from the customer `sender` to the bench's number, in the default tenant."""
    from mostrador.messaging.model import InboundMessage

    return InboundMessage(
        tenant_id="default",
        channel="whatsapp",
        conversation_id=f"wa:{PHONE_ID}:{sender}",
        sender_id=sender,
        sender_role="customer",
        text=text,
        platform_message_id=platform_message_id,
        timestamp=at or datetime.now(UTC),
    )
