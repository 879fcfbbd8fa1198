"""Helpers for the issue-13 reply tests: customer messages built from real webhook bodies through the
real channel parsers (so metadata is exactly what production carries), and settings for the media
models on the fake LLM server. No tests here."""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest

from mostrador.channels import messenger, support_board, whatsapp
from mostrador.messaging.model import InboundMessage, MessageDeletion
from tests.unit.channels.payloads import (
    PAGE_ID,
    PSID,
    fb_event,
    messenger_delivery,
    support_board_event,
    wa_message,
    whatsapp_delivery,
    whatsapp_value,
)

_ids = itertools.count(1)


def now_seconds() -> str:
    return str(int(time.time()))


def wa_in(kind: str, content: dict[str, Any] | None = None, **extra: Any) -> InboundMessage:
    """A WhatsApp customer message of `kind` as the webhook parser makes it."""
    wamid = f"wamid.rich.{next(_ids)}.{time.time_ns()}"
    body = wa_message(kind, content, wamid=wamid, timestamp=now_seconds(), **extra)
    [item] = whatsapp.parse_delivery(whatsapp_delivery(whatsapp_value([body])), "default").items
    assert isinstance(item, InboundMessage)
    return item


def wa_text(text: str) -> InboundMessage:
    return wa_in("text", {"body": text})


def fb_in(*, instagram: bool = False, **content: Any) -> InboundMessage:
    """A Messenger (or Instagram) event as the webhook parser makes it; `content`: message=..., postback=..."""
    for key in ("message", "postback"):
        if key in content:
            content[key] = {"mid": f"m_rich.{next(_ids)}.{time.time_ns()}", **content[key]}
    event = fb_event(timestamp=int(time.time() * 1000), **content)
    delivery = messenger_delivery(event, obj="instagram" if instagram else "page", account_id=PAGE_ID)
    [item] = messenger.parse_delivery(delivery, "default").items
    assert isinstance(item, InboundMessage)
    return item


def ig_unsend(message: InboundMessage) -> MessageDeletion:
    """The Instagram customer takes `message` back (an unsend, `is_deleted`) as the parser makes it."""
    event = fb_event(
        timestamp=int(time.time() * 1000), message={"mid": message.platform_message_id, "is_deleted": True}
    )
    [item] = messenger.parse_delivery(messenger_delivery(event, obj="instagram", account_id=PAGE_ID), "default").items
    assert isinstance(item, MessageDeletion)
    return item


def sb_in(**data: Any) -> InboundMessage:
    """A Support Board message-sent event (conversation 321, customer 45) as the parser makes it."""
    data.setdefault("message_id", str(5000 + next(_ids)))
    data.setdefault("creation_time", time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()))
    [item] = support_board.parse_webhook(support_board_event(**data), "default").items
    assert isinstance(item, InboundMessage)
    return item


CUSTOMER_PSID = PSID


@pytest.fixture
def no_burst(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every message answered at once (the burst window has its own tests)."""
    from mostrador.config import reset_settings

    monkeypatch.setenv("REPLY_BURST_WINDOW_SECONDS", "0")
    reset_settings()


def use_openai_media(monkeypatch: pytest.MonkeyPatch, llm_server: Any, *, provider: str = "openai") -> None:
    """Voice notes and photos through `provider` on the fake server; chat stays offline (deterministic)."""
    from mostrador.config import reset_settings

    monkeypatch.setenv("TRANSCRIPTION_PROVIDER", provider)
    monkeypatch.setenv("VISION_PROVIDER", provider)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("OPENAI_BASE_URL", llm_server.openai_base_url)
    monkeypatch.setenv("GEMINI_API_KEY", "test-key")
    monkeypatch.setenv("GEMINI_BASE_URL", llm_server.gemini_base_url)
    monkeypatch.setenv("LLM_MAX_RETRIES", "0")
    monkeypatch.setenv("EMBEDDING_PROVIDER", "offline")
    reset_settings()


def message_row(conn: Any, platform_message_id: str) -> dict[str, Any]:
    row = conn.execute("SELECT * FROM messages WHERE platform_message_id = %s", (platform_message_id,)).fetchone()
    assert row is not None
    return dict(row)
