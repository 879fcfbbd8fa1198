"""WhatsApp's read receipt with the typing indicator (issue 13): shown as soon as the reply function
starts working on a message for a real model (before a voice note is even downloaded), and never a
reason for the reply to wait when the Graph API hangs on it. The real reply handler, the real OpenAI
SDK on the fake LLM server, the fake Graph server."""

from __future__ import annotations

import threading
import time

import pytest

from tests.fakes.media_files import ogg_opus_voice_note
from tests.fakes.platforms import platforms_fixture  # noqa: F401
from tests.integration import rich_support
from tests.integration import test_reply_support as support
from tests.integration.rich_support import use_openai_media, wa_in, wa_text
from tests.integration.test_reply_burst import wait_for
from tests.integration.test_reply_support import deliver

reply_env, no_burst = support.reply_env, rich_support.no_burst
pytestmark = pytest.mark.usefixtures("no_burst")


def _real_chat_model(monkeypatch: pytest.MonkeyPatch, llm_server, answers: list[str]) -> None:
    from mostrador.config import reset_settings

    use_openai_media(monkeypatch, llm_server)
    monkeypatch.setenv("LLM_PROVIDER", "openai")
    reset_settings()
    llm_server.script_chat(answers)


def test_the_typing_indicator_shows_before_a_voice_note_is_downloaded(reply_env, db, llm_server, monkeypatch):
    _real_chat_model(monkeypatch, llm_server, ["Sí, tenemos neveras."])
    data = ogg_opus_voice_note(4, "typing")
    llm_server.add_transcript(data, "¿tienen neveras?")
    media_id = reply_env.meta.add_media(data, "audio/ogg; codecs=opus")
    message = wa_in("audio", {"id": media_id, "mime_type": "audio/ogg; codecs=opus", "voice": True})

    reply_env.meta.hold(at_most_seconds=20)  # the voice note's download hangs...
    try:
        handling = threading.Thread(target=lambda: deliver(message))
        handling.start()
        # ...and the typing indicator is already on its way: it did not wait for the voice note.
        wait_for(lambda: reply_env.meta.read_receipts() and _lookups(reply_env, media_id))
        assert reply_env.meta.sent() == []
    finally:
        reply_env.meta.release()
    handling.join(20)
    [receipt] = reply_env.meta.read_receipts()
    assert receipt.json["message_id"] == message.platform_message_id and receipt.json["typing_indicator"]
    assert reply_env.meta.sent_texts() == ["Sí, tenemos neveras."]


def _lookups(reply_env, media_id: str) -> list:
    return [r for r in reply_env.meta.requests if r.method == "GET" and r.path.endswith(media_id)]


def test_a_graph_api_hanging_on_the_typing_indicator_does_not_hold_the_reply_back(
    reply_env, db, llm_server, monkeypatch
):
    _real_chat_model(monkeypatch, llm_server, ["Hola, ¿en qué te ayudo?", "Sí, tenemos neveras."])
    assert deliver(wa_text("hola")) == []  # the SDK and the connections warmed up

    reply_env.meta.hold_read_receipts(at_most_seconds=20)
    try:
        started = time.monotonic()
        assert deliver(wa_text("¿tienen neveras?")) == []
        took = time.monotonic() - started
        assert reply_env.meta.sent_texts()[-1] == "Sí, tenemos neveras."
        assert reply_env.meta.held == 1  # its read receipt was still hanging when the reply went out
        assert took < 1.5, f"the reply waited {took:.1f} s for a hanging typing indicator"
    finally:
        reply_env.meta.release()
