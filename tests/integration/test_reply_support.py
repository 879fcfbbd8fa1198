"""Driving the real reply handler in tests: the fake Meta Graph + Support Board servers on 127.0.0.1
(tests/fakes/platforms.py, spoken to by the real channel senders over httpx), reply-queue events
built with the real envelope, and catalog products written through the catalog's real enrichment
path. No tests here: fixtures and helpers for the test_reply_* modules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from mostrador.messaging.model import InboundMessage, RoutedStatus, StatusUpdate
from tests.fakes.platforms import Platforms, platforms_fixture  # noqa: F401
from tests.lambda_events import LambdaContextStub, reply_queue_record

PHONE_ID = "106540352242922"
META_APP_ID = "our-app-id"
DM_BOT, PROXY, AGENT = "2", "1", "3"


# The channels room's fake Graph API + Support Board servers: fixture `platforms` (import
# platforms_fixture into a test module to use it there).


@pytest.fixture
def reply_env(db, platforms: Platforms, monkeypatch: pytest.MonkeyPatch) -> Platforms:
    """Settings for the reply handler: every platform on the fake servers, offline LLM by default."""
    from mostrador.config import reset_settings

    assert platforms.dm_bot_user_id == DM_BOT and platforms.phone_number_id == PHONE_ID
    values = {
        "LLM_PROVIDER": "offline",
        "META_APP_ID": META_APP_ID,
        "COMMENT_BOT_PROXY_USER_ID": PROXY,
        "SUPPORT_BOARD_AGENT_IDS": f"{AGENT},15",
        "HUMAN_TAKEOVER_PAUSE_MINUTES": "60",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("COMMENT_BOT_INITIATION_TAG", raising=False)
    reset_settings()
    return platforms


_sequence = iter(range(10**9))


def whatsapp(text: str, *, sender: str = "584125550101", mid: str | None = None, **kw: Any) -> InboundMessage:
    return InboundMessage(
        tenant_id="default",
        channel="whatsapp",
        conversation_id=f"wa:{PHONE_ID}:{sender}",
        sender_id=sender,
        sender_role="customer",
        text=text,
        platform_message_id=mid or f"wamid.in.{next(_sequence)}",
        timestamp=kw.pop("timestamp", datetime.now(UTC)),
        **kw,
    )


def support_board(text: str, sender: str, *, conversation: str = "900", customer: str = "77", source: str = "wa"):
    message_id = str(next(_sequence))
    return InboundMessage(
        tenant_id="default",
        channel="support_board",
        conversation_id=f"sb:{conversation}",
        sender_id=sender,
        sender_role="customer" if sender == customer else "unknown",
        text=text,
        platform_message_id=f"sb:{message_id}",
        timestamp=datetime.now(UTC),
        metadata={
            "sb_user_id": sender,
            "sb_conversation_id": conversation,
            "sb_message_id": message_id,
            "sb_conversation_user_id": customer,
            "conversation_source": source,
        },
    )


def messenger(text: str, *, echo_app: str | None = None, mid: str | None = None, customer: str = "psid-9"):
    metadata = {"page_id": "PAGE"}
    if echo_app is not None:
        metadata.update(is_echo="true", app_id=echo_app)
    return InboundMessage(
        tenant_id="default",
        channel="messenger",
        conversation_id=f"fb:PAGE:{customer}",
        sender_id="PAGE" if echo_app is not None else customer,
        sender_role="page" if echo_app is not None else "customer",
        text=text,
        platform_message_id=mid or f"m_in.{next(_sequence)}",
        timestamp=datetime.now(UTC),
        metadata=metadata,
    )


def record_for(item: InboundMessage | RoutedStatus) -> dict[str, Any]:
    return reply_queue_record(item)


def deliver(*items: InboundMessage | RoutedStatus) -> list[str]:
    """Run the reply handler on one batch; the indexes of the items it reported failed."""
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    from functions.reply.handler import handler

    records = [record_for(item) for item in items]
    try:
        result = handler({"Records": records}, LambdaContextStub())
    except BatchProcessingError:  # Powertools raises when every record failed: all go back to the queue
        return [str(i) for i in range(len(records))]
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    return [str(i) for i, r in enumerate(records) if r["messageId"] in failed]


def status(mid: str, state: str, conversation: str, **kw: Any) -> RoutedStatus:
    update = StatusUpdate(
        tenant_id="default",
        channel="whatsapp",
        platform_message_id=mid,
        status=state,  # type: ignore[arg-type]
        timestamp=datetime.now(UTC),
        **kw,
    )
    return RoutedStatus(update, conversation)


def add_products(conn, *items: dict[str, Any]) -> None:
    """Catalog rows through the catalog's own write path (enrichment with the offline summarizer)."""
    from mostrador.catalog.enrichment import QueuedItem, enrich_batch
    from mostrador.catalog.models import EnrichMessage, ProductItem
    from mostrador.db.catalog_repository import CatalogRepository
    from mostrador.llm.offline_provider import OfflineProvider

    queued = []
    for index, raw in enumerate(items):
        message = EnrichMessage(
            tenant_id="default", sync_id="s", batch_id="b", batch_size=len(items), index=index, item=raw
        )
        queued.append(QueuedItem(f"m{index}", message, ProductItem.model_validate(raw), 1))
    report = enrich_batch(
        queued, store=CatalogRepository(conn), summarizer=OfflineProvider(), embedder=None, max_receives=5
    )
    assert report.failures == {}


def product(code: str, name: str, price: float, stock: float, branch: str = "Caracas", **extra: Any) -> dict:
    return {
        "itemCode": code,
        "itemName": name,
        "description": f"<p>{name}. Garantía de un año.</p>",
        "category": "Línea blanca",
        "brand": name.split()[1] if len(name.split()) > 1 else "Marca",
        "whsName": f"ALMACEN {branch.upper()}",
        "branchName": branch,
        "stock": stock,
        "price": price,
        **extra,
    }


def inbound_row(conn, platform_message_id: str) -> dict[str, Any]:
    row = conn.execute("SELECT * FROM messages WHERE platform_message_id = %s", (platform_message_id,)).fetchone()
    assert row is not None
    return row


def replies(conn, conversation_id: str) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT * FROM messages WHERE conversation_id = %s AND direction = 'outbound' ORDER BY id", (conversation_id,)
    ).fetchall()


def paused(conn, conversation_id: str) -> dict[str, Any] | None:
    return conn.execute(
        "SELECT * FROM conversation_pauses WHERE conversation_id = %s AND paused_until > now()", (conversation_id,)
    ).fetchone()
