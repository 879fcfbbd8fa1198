"""The burst quiet window (issue 13) on real queue semantics: the reply FIFO queue on the local SQS
emulator (moto's server, real boto3), the real reply handler consuming it through the local event
source mapping, the fake Graph server, and for the stale-reply case the real OpenAI SDK on the fake LLM
server holding a generation while a newer customer message arrives."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from local.event_source import SqsEventSource
from local.sqs_emulator import Queue, QueueSpec, SqsEmulator
from mostrador.config import REPLY_FUNCTION_TIMEOUT_SECONDS
from mostrador.conversations.notices import notice
from mostrador.conversations.reply_queue import envelopes_for, parse_reply_queue_envelope
from mostrador.queues import send_messages
from tests.fakes.media_files import ogg_opus_voice_note
from tests.fakes.platforms import platforms_fixture  # noqa: F401
from tests.integration import sqs_support
from tests.integration import test_admin_support as admin_support
from tests.integration import test_reply_support as support
from tests.integration.rich_support import fb_in, ig_unsend, message_row, wa_in, wa_text
from tests.integration.tenant_support import add_tenant, tenancy_fixture  # noqa: F401
from tests.integration.test_reply_support import add_products, deliver, product, replies
from tests.lambda_events import LambdaContextStub, sqs_event

reply_env, emulator, admin = support.reply_env, sqs_support.emulator, admin_support.admin  # fixtures
WINDOW = 2


@pytest.fixture
def reply_queue(emulator: SqsEmulator, reply_env, monkeypatch: pytest.MonkeyPatch) -> Queue:
    """A fresh reply FIFO queue; the reply handler schedules its burst timers there."""
    from mostrador import queues
    from mostrador.config import reset_settings

    queue = emulator.create_queue(
        QueueSpec(f"burst-{uuid.uuid4().hex[:8]}", True, visibility_timeout=30, max_receives=5)
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", emulator.endpoint)
    monkeypatch.setenv("REPLY_QUEUE_URL", queue.url)
    monkeypatch.setenv("REPLY_BURST_WINDOW_SECONDS", str(WINDOW))
    queues.reset_clients()
    reset_settings()
    yield queue
    queues.reset_clients()


def enqueue(queue: Queue, *messages: Any) -> None:
    """What the webhook does: each customer message on the reply FIFO queue."""
    assert send_messages(queue.url, envelopes_for(list(messages))) == []


def wait_for(condition: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.fixture
def reply_function(emulator: SqsEmulator, reply_queue: Queue) -> Iterator[SqsEventSource]:
    """The reply handler consuming the queue, as Lambda's event source mapping would run it."""
    from functions.reply.handler import handler

    source = SqsEventSource(
        emulator.client, reply_queue, lambda event: handler(event, LambdaContextStub()), batch_size=10, wait_seconds=1
    )
    source.start()
    yield source
    source.stop()


def test_three_messages_in_two_seconds_get_one_reply_that_reads_them_all(reply_env, db, reply_queue, reply_function):
    add_products(
        db,
        product("NEV-1", "Nevera Samsung RT38", 499.0, 4),
        product("LAV-1", "Lavadora Whirlpool 8 kg", 350.0, 2),
        product("LIC-1", "Licuadora Oster clásica", 60.0, 9),
    )
    first, second, third = wa_text("hola, ¿tienen neveras?"), wa_text("y lavadoras"), wa_text("también licuadoras")
    started = time.monotonic()
    enqueue(reply_queue, first)
    time.sleep(0.8)
    enqueue(reply_queue, second)
    time.sleep(0.8)
    enqueue(reply_queue, third)

    wait_for(reply_env.meta.sent)
    answered_after = time.monotonic() - started
    time.sleep(WINDOW + 1.5)  # nothing else may follow
    [text] = reply_env.meta.sent_texts()
    assert "Nevera Samsung RT38" in text and "Lavadora Whirlpool" in text and "Licuadora Oster" in text
    assert answered_after >= WINDOW  # the window is waited, once
    [reply] = replies(db, first.conversation_id)
    assert reply["in_reply_to"] == message_row(db, third.platform_message_id)["id"]
    assert [message_row(db, m.platform_message_id)["state"] for m in (first, second, third)] == ["replied"] * 3
    # Quoted: the newest of the three.
    assert reply_env.meta.sent()[0].json["context"] == {"message_id": third.platform_message_id}


def test_a_redelivered_message_of_a_burst_is_answered_once(reply_env, db, reply_queue, reply_function):
    message = wa_text("¿tienen neveras?")
    enqueue(reply_queue, message)
    time.sleep(0.3)
    deliver(message)  # Meta's redelivery after the deduplication window, straight to the handler
    wait_for(reply_env.meta.sent)
    time.sleep(WINDOW + 1.5)
    assert len(reply_env.meta.sent()) == 1
    assert message_row(db, message.platform_message_id)["state"] == "replied"


def _chat_on_the_fake_openai(monkeypatch: pytest.MonkeyPatch, llm_server: Any, answers: list[str]) -> None:
    """Replies written by the real OpenAI SDK on the fake LLM server, which answers `answers` in turn."""
    from mostrador.config import reset_settings

    monkeypatch.setenv("LLM_PROVIDER", "openai")
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("OPENAI_BASE_URL", llm_server.openai_base_url)
    monkeypatch.setenv("EMBEDDING_PROVIDER", "offline")
    reset_settings()
    llm_server.script_chat(answers)


def _written_elsewhere(db_url: str, llm_server: Any, due: Any) -> tuple[threading.Thread, list[Any]]:
    """Another reply function environment (Lambda runs conversations' groups concurrently) handling the
    due burst on its own thread, held while its chat request is at the model: the thread, and the list
    its outcome goes to once released."""
    from mostrador.config import get_settings
    from mostrador.conversations.reply import reply_service_from_settings
    from mostrador.db.connection import connect

    llm_server.hold_chat()
    other_environment = reply_service_from_settings(get_settings(), connect(db_url))
    outcome: list[Any] = []
    writer = threading.Thread(target=lambda: outcome.append(other_environment.handle(due)))
    writer.start()
    assert llm_server.chat_arrived.wait(10)
    return writer, outcome


def test_a_message_arriving_during_generation_makes_the_reply_superseded_not_stale(
    reply_env, db, db_url, reply_queue, emulator, llm_server, monkeypatch
):
    """Two reply function environments at once (Lambda runs conversations' groups concurrently): one
    writes the burst's reply while the other records the customer's newer message."""
    _chat_on_the_fake_openai(monkeypatch, llm_server, ["Sí, tenemos neveras.", "Tenemos neveras y también lavadoras."])

    older = wa_text("¿tienen neveras?")
    assert deliver(older) == []  # recorded, waiting; its timer is on the queue
    assert message_row(db, older.platform_message_id)["state_reason"] == "awaiting_reply"
    [timer] = receive(emulator, reply_queue)
    due = parse_reply_queue_envelope(timer["Body"]).item
    time.sleep(WINDOW)

    writer, outcome = _written_elsewhere(db_url, llm_server, due)  # the reply to "¿tienen neveras?" is being generated

    newer = wa_text("¿y lavadoras?")
    assert deliver(newer) == []  # this environment records the newer message meanwhile
    llm_server.release_chat()
    writer.join(10)
    assert outcome[0].action == "superseded"
    assert reply_env.meta.sent() == []  # the stale reply was never sent
    [stale] = replies(db, older.conversation_id)
    assert (stale["status"], stale["in_reply_to"], stale["text"]) == ("superseded", None, "Sí, tenemos neveras.")

    # The newer message opened its own burst: its timer answers both messages, once.
    emulator.client.delete_message(QueueUrl=reply_queue.url, ReceiptHandle=timer["ReceiptHandle"])
    [second_timer] = receive(emulator, reply_queue)
    time.sleep(WINDOW)
    from functions.reply.handler import handler

    result = handler(sqs_event([second_timer], reply_queue.arn), LambdaContextStub())
    assert result["batchItemFailures"] == []
    assert reply_env.meta.sent_texts() == ["Tenemos neveras y también lavadoras."]
    asked = [r for r in llm_server.requests if r.kind == "chat"][-1].body["messages"]
    assert [m["content"] for m in asked if m["role"] == "user"][-2:] == ["¿tienen neveras?", "¿y lavadoras?"]
    assert {message_row(db, m.platform_message_id)["state"] for m in (older, newer)} == {"replied"}
    assert len([r for r in replies(db, older.conversation_id) if r["status"] == "sent"]) == 1


def _being_read(reply_env: Any, message: Any) -> threading.Thread:
    """This environment handles `message` on its own thread while the Graph API (media included)
    hangs: the message is recorded and its media download waits until `reply_env.meta.release()`."""
    reply_env.meta.hold()
    downloads = len(reply_env.meta.requests)
    reader = threading.Thread(target=lambda: deliver(message))
    reader.start()
    wait_for(lambda: any(r.method == "GET" for r in reply_env.meta.requests[downloads:]))
    return reader


def test_a_voice_note_still_being_read_makes_the_bursts_reply_superseded_and_its_burst_answers_both(
    reply_env, db, db_url, reply_queue, emulator, llm_server, monkeypatch
):
    """Instagram: the customer's newer voice note is recorded but still being downloaded (then
    transcribed) when the older message's reply is about to go out: the reply is not sent stale."""
    from mostrador.config import reset_settings

    _chat_on_the_fake_openai(monkeypatch, llm_server, ["Sí, tenemos neveras.", "Neveras y lavadoras, sí."])
    monkeypatch.setenv("TRANSCRIPTION_PROVIDER", "openai")
    reset_settings()
    voice = ogg_opus_voice_note(3, "lavadoras")
    llm_server.add_transcript(voice, "¿y lavadoras?")
    older = fb_in(instagram=True, message={"text": "¿tienen neveras?"})
    assert deliver(older) == []
    [timer] = receive(emulator, reply_queue)
    due = parse_reply_queue_envelope(timer["Body"]).item
    time.sleep(WINDOW)

    writer, outcome = _written_elsewhere(db_url, llm_server, due)  # the reply to "¿tienen neveras?"...
    url = reply_env.meta.cdn_url(voice, "audio/ogg")
    newer = fb_in(instagram=True, message={"attachments": [{"type": "audio", "payload": {"url": url}}]})
    reader = _being_read(reply_env, newer)  # ...while the newer voice note is being downloaded
    assert message_row(db, newer.platform_message_id)["state"] == "received"
    llm_server.release_chat()
    writer.join(10)
    assert outcome[0].action == "superseded" and outcome[0].reason == "newer_message"
    reply_env.meta.release()
    reader.join(10)
    assert reply_env.meta.sent() == []  # the stale reply was never sent
    assert message_row(db, newer.platform_message_id)["state_reason"] == "awaiting_reply"

    # The voice note, once read, opened the next burst: its timer answers both messages, once.
    emulator.client.delete_message(QueueUrl=reply_queue.url, ReceiptHandle=timer["ReceiptHandle"])
    [second_timer], [backstop] = _bursts_and_backstops(receive(emulator, reply_queue))
    time.sleep(WINDOW)
    assert _run_timer(second_timer, reply_queue) == []
    assert reply_env.meta.sent_texts() == ["Neveras y lavadoras, sí."]
    asked = [r for r in llm_server.requests if r.kind == "chat"][-1].body["messages"]
    assert [m["content"] for m in asked if m["role"] == "user"][-2:] == [
        "¿tienen neveras?",
        "[voice note] ¿y lavadoras?",
    ]
    stale, sent = replies(db, older.conversation_id)
    assert (stale["status"], sent["status"]) == ("superseded", "sent")
    assert sent["in_reply_to"] == message_row(db, newer.platform_message_id)["id"]
    assert {message_row(db, m.platform_message_id)["state"] for m in (older, newer)} == {"replied"}
    # The backstop the superseded reply left finds the voice note handled: nothing more.
    assert _run_timer(backstop, reply_queue, delete=True) == []
    assert len(reply_env.meta.sent()) == 1 and receive(emulator, reply_queue, wait=0) == []


def test_a_newer_voice_note_that_ends_as_a_notice_still_leaves_the_superseded_message_answered(
    reply_env, db, db_url, reply_queue, emulator, llm_server, monkeypatch
):
    """The newer message counted while it was read, then joined no burst (too long: a notice): the
    message whose reply it made stale gets a burst of its own, due at once, and one reply."""
    from mostrador.config import reset_settings

    _chat_on_the_fake_openai(monkeypatch, llm_server, ["Sí, tenemos neveras.", "Sí, tenemos la nevera Samsung."])
    monkeypatch.setenv("TRANSCRIPTION_PROVIDER", "openai")
    monkeypatch.setenv("VOICE_NOTE_MAX_SECONDS", "120")
    reset_settings()
    older = wa_text("¿tienen neveras?")
    assert deliver(older) == []
    [timer] = receive(emulator, reply_queue)
    due = parse_reply_queue_envelope(timer["Body"]).item
    time.sleep(WINDOW)

    writer, outcome = _written_elsewhere(db_url, llm_server, due)
    media_id = reply_env.meta.add_media(ogg_opus_voice_note(185, "long"), "audio/ogg")
    newer = wa_in("audio", {"id": media_id, "mime_type": "audio/ogg; codecs=opus", "voice": True})
    reader = _being_read(reply_env, newer)
    llm_server.release_chat()
    writer.join(10)
    assert outcome[0].action == "superseded"
    reply_env.meta.release()
    reader.join(10)
    assert reply_env.meta.sent_texts() == [notice("voice_too_long", "es", minutes="2")]
    assert message_row(db, newer.platform_message_id)["state"] == "replied"  # by its notice
    assert message_row(db, older.platform_message_id)["state_reason"] == "awaiting_reply"

    emulator.client.delete_message(QueueUrl=reply_queue.url, ReceiptHandle=timer["ReceiptHandle"])
    # Due at once: no second window to wait.
    [held_timer], [backstop] = _bursts_and_backstops(receive(emulator, reply_queue))
    assert _run_timer(held_timer, reply_queue, delete=True) == []
    assert _run_timer(backstop, reply_queue, delete=True) == []  # nothing left to back up
    assert reply_env.meta.sent_texts()[1:] == ["Sí, tenemos la nevera Samsung."]
    answers = [r for r in replies(db, older.conversation_id) if r["status"] == "sent"]
    assert [a["in_reply_to"] for a in answers] == [
        message_row(db, newer.platform_message_id)["id"],  # the notice
        message_row(db, older.platform_message_id)["id"],  # the answer, once
    ]
    assert {message_row(db, m.platform_message_id)["state"] for m in (older, newer)} == {"replied"}
    assert receive(emulator, reply_queue, wait=0) == []  # nothing else scheduled


def test_a_timer_that_is_not_due_goes_back_to_the_queue_until_it_is(reply_env, db, reply_queue, emulator):
    from functions.reply.handler import handler

    message = wa_text("¿tienen neveras?")
    assert deliver(message) == []
    [timer] = receive(emulator, reply_queue)
    result = handler(sqs_event([timer], reply_queue.arn), LambdaContextStub())
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == [timer["MessageId"]]
    assert receive(emulator, reply_queue, wait=0) == []  # invisible now...
    again = wait_for(lambda: receive(emulator, reply_queue, wait=1), timeout=WINDOW + 3)  # ...visible when due
    assert again[0]["MessageId"] == timer["MessageId"]
    assert handler(sqs_event(again, reply_queue.arn), LambdaContextStub())["batchItemFailures"] == []
    assert len(reply_env.meta.sent()) == 1


def test_a_person_taking_over_during_the_window_silences_the_burst(reply_env, db, reply_queue, emulator):
    from functions.reply.handler import handler
    from mostrador.db.conversation_repository import pause_conversation

    message = wa_text("¿tienen neveras?")
    deliver(message)
    [timer] = receive(emulator, reply_queue)
    from datetime import UTC, datetime

    pause_conversation(
        db, "default", message.conversation_id, minutes=30, reason="human_agent", set_by="9", now=datetime.now(UTC)
    )
    time.sleep(WINDOW)
    handler(sqs_event([timer], reply_queue.arn), LambdaContextStub())
    assert reply_env.meta.sent() == []
    row = message_row(db, message.platform_message_id)
    assert (row["state"], row["state_reason"]) == ("skipped", "paused")


def _bursts_and_backstops(timers: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Burst timers apart from backstops (each in its own message group)."""
    kinds = [json.loads(t["Body"])["due"].get("kind", "burst") for t in timers]
    bursts = [t for t, kind in zip(timers, kinds, strict=True) if kind == "burst"]
    return bursts, [t for t, kind in zip(timers, kinds, strict=True) if kind == "backstop"]


def receive(emulator: SqsEmulator, queue: Queue, wait: int = 2) -> list[dict[str, Any]]:
    answer = emulator.client.receive_message(
        QueueUrl=queue.url, MaxNumberOfMessages=10, WaitTimeSeconds=wait, MessageSystemAttributeNames=["All"]
    )
    messages = answer.get("Messages", [])
    assert all(json.loads(m["Body"])["kind"] == "reply_due" for m in messages)
    return messages


def test_a_burst_whose_timer_was_lost_is_taken_over_by_the_next_message(reply_env, db, reply_queue, emulator):
    from functions.reply.handler import handler

    lost = wa_text("¿tienen neveras?")
    deliver(lost)
    [timer] = receive(emulator, reply_queue)
    emulator.client.delete_message(QueueUrl=reply_queue.url, ReceiptHandle=timer["ReceiptHandle"])  # gone for good
    db.execute("UPDATE conversations SET burst_due_at = now() - interval '20 minutes'")
    later = wa_text("¿hola?")
    deliver(later)
    [new_timer] = receive(emulator, reply_queue)
    time.sleep(WINDOW)
    assert handler(sqs_event([new_timer], reply_queue.arn), LambdaContextStub())["batchItemFailures"] == []
    assert len(reply_env.meta.sent()) == 1
    assert {message_row(db, m.platform_message_id)["state"] for m in (lost, later)} == {"replied"}


@pytest.mark.parametrize(
    ("recorded_seconds_ago", "outcome"),
    [(REPLY_FUNCTION_TIMEOUT_SECONDS + 30, "sent"), (5, "superseded")],
    ids=["stuck-longer-than-the-reply-timeout", "still-within-it"],
)
def test_a_newer_message_whose_handling_raised_supersedes_the_burst_only_within_the_reply_timeout(
    reply_env, db, reply_queue, emulator, recorded_seconds_ago, outcome
):
    """A newer customer message recorded, then its invocation raised (a database error, a bug, a
    timeout): it stays `received` while it waits its retry (visibility 6x the timeout) or sits in the
    dead-letter queue. Past the reply function's timeout nobody is handling it, so the burst's reply to
    the older message goes out; within it, it may still be handled and the reply is superseded, and a
    backstop timer answers the older message once the newer one's time is over. Its retries failing
    too, the dead-letter queue's consumer records it failed; the older message is answered once."""
    older = wa_text("¿tienen neveras?")
    assert deliver(older) == []
    [timer] = receive(emulator, reply_queue)
    stuck = wa_text("¿y lavadoras?")
    recorded = _recorded_then_raised(db, stuck, recorded_seconds_ago)
    time.sleep(WINDOW)
    assert _run_timer(timer, reply_queue, delete=True) == []
    [reply] = replies(db, older.conversation_id)
    if outcome == "sent":
        assert reply["status"] == "sent" and len(reply_env.meta.sent()) == 1
        assert message_row(db, older.platform_message_id)["state"] == "replied"
        assert receive(emulator, reply_queue, wait=1) == []  # nothing to back up
    else:
        assert reply["status"] == "superseded" and reply_env.meta.sent() == []
        assert message_row(db, older.platform_message_id)["state"] == "received"
        # The backstop waits (in a group of its own) until the newer message stops counting as handled.
        [backstop] = receive(emulator, reply_queue)
        assert parse_reply_queue_envelope(backstop["Body"]).item.kind == "backstop"
        assert _run_timer(backstop, reply_queue) == [backstop["MessageId"]]  # deferred: handed back
        assert receive(emulator, reply_queue, wait=1) == []  # invisible meanwhile
        # The reply function's timeout passes; the newer message is still only recorded: it failed.
        _age(db, recorded.id, REPLY_FUNCTION_TIMEOUT_SECONDS + 1)
        _visible_now(emulator, reply_queue, backstop)
        [backstop] = receive(emulator, reply_queue)
        assert _run_timer(backstop, reply_queue, delete=True) == []
        [held] = receive(emulator, reply_queue)  # a burst held for the older message, due at once
        assert _run_timer(held, reply_queue, delete=True) == []
        [text] = reply_env.meta.sent_texts()
        assert message_row(db, older.platform_message_id)["state"] == "replied"
        assert "lavadora" not in text.lower()  # the stuck message is its retry's to answer, not this reply's
    assert message_row(db, stuck.platform_message_id)["state"] == "received"  # its retry handles it

    # Its retries fail too: SQS moves it to the dead-letter queue, whose consumer records it as failed.
    _fail_until_dead_lettered(emulator, reply_queue, stuck)
    assert _consume_dead_letters(emulator, reply_queue) == 1
    row = message_row(db, stuck.platform_message_id)
    assert (row["state"], row["state_reason"]) == ("failed", "dead_lettered")
    for leftover in receive(emulator, reply_queue, wait=1):  # a burst it holds finds nothing waiting
        assert _run_timer(leftover, reply_queue, delete=True) == []
    assert len(reply_env.meta.sent()) == 1
    assert message_row(db, older.platform_message_id)["state"] == "replied"


def test_a_newer_message_dead_lettered_before_its_backstop_leaves_the_older_one_answered_once(
    reply_env, db, reply_queue, emulator
):
    """With a short visibility timeout the newer message can reach the dead-letter queue before its
    backstop is due: the dead-letter consumer holds the burst then, and the backstop finds nothing to do."""
    older = wa_text("¿tienen neveras?")
    assert deliver(older) == []
    [timer] = receive(emulator, reply_queue)
    stuck = wa_text("¿y lavadoras?")
    recorded = _recorded_then_raised(db, stuck, 5)
    time.sleep(WINDOW)
    assert _run_timer(timer, reply_queue, delete=True) == []
    [backstop] = receive(emulator, reply_queue)
    assert _run_timer(backstop, reply_queue) == [backstop["MessageId"]]  # deferred

    _fail_until_dead_lettered(emulator, reply_queue, stuck)
    assert _consume_dead_letters(emulator, reply_queue) == 1
    row = message_row(db, stuck.platform_message_id)
    assert (row["state"], row["state_reason"]) == ("failed", "dead_lettered")
    [held] = receive(emulator, reply_queue)  # the dead letter held a burst for the older message
    assert _run_timer(held, reply_queue, delete=True) == []
    assert len(reply_env.meta.sent()) == 1
    assert message_row(db, older.platform_message_id)["state"] == "replied"

    _age(db, recorded.id, REPLY_FUNCTION_TIMEOUT_SECONDS + 1)
    _visible_now(emulator, reply_queue, backstop)
    [backstop] = receive(emulator, reply_queue)
    assert _run_timer(backstop, reply_queue, delete=True) == []
    assert receive(emulator, reply_queue, wait=1) == []  # no second burst
    assert len(reply_env.meta.sent()) == 1


def test_a_dead_lettered_burst_timer_fails_its_messages_and_a_message_never_recorded_is_recorded_failed(
    reply_env, db, reply_queue, emulator
):
    """A burst's timer that failed on every receive (every model down, say) leaves its messages `failed`,
    not waiting for ever; a message whose every receive failed before it was recorded (the database down)
    is recorded from the dead-letter queue, `failed`; a body that is no reply queue item is dropped."""
    waiting = wa_text("¿tienen neveras?")
    assert deliver(waiting) == []
    [timer] = receive(emulator, reply_queue)
    _visible_now(emulator, reply_queue, timer)
    unseen = wa_text("¿y lavadoras?")
    enqueue(reply_queue, unseen)
    emulator.client.send_message(
        QueueUrl=reply_queue.url, MessageBody="not json", MessageGroupId="junk", MessageDeduplicationId="junk"
    )
    for _ in range(5):  # every receive of all three fails (simulated: nothing runs them)
        for message in _receive_any(emulator, reply_queue.url):
            _visible_now(emulator, reply_queue, message)
    assert _receive_any(emulator, reply_queue.url) == []  # moved to the dead-letter queue

    assert _consume_dead_letters(emulator, reply_queue) == 3
    row = message_row(db, waiting.platform_message_id)
    assert (row["state"], row["state_reason"]) == ("failed", "dead_lettered")
    row = message_row(db, unseen.platform_message_id)
    assert (row["state"], row["state_reason"], row["text"]) == ("failed", "dead_lettered", "¿y lavadoras?")
    assert reply_env.meta.sent() == [] and replies(db, waiting.conversation_id) == []


def _recorded_then_raised(db: Any, message: Any, seconds_ago: float) -> Any:
    """What a handler did before it raised: the message recorded (`seconds_ago`), nothing more."""
    from mostrador.db import conversation_repository as repo

    with db.transaction():
        recorded = repo.record_inbound(db, message, "customer")
    _age(db, recorded.id, seconds_ago)
    return recorded


def _age(db: Any, message_id: int, seconds_ago: float) -> None:
    db.execute(
        "UPDATE messages SET created_at = now() - make_interval(secs => %s) WHERE id = %s", (seconds_ago, message_id)
    )


def _visible_now(emulator: SqsEmulator, queue: Queue, message: dict[str, Any]) -> None:
    """The message's visibility timeout is over (as if its time had passed)."""
    emulator.client.change_message_visibility(
        QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
    )


def _receive_any(emulator: SqsEmulator, url: str) -> list[dict[str, Any]]:
    answer = emulator.client.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageSystemAttributeNames=["All"]
    )
    return list(answer.get("Messages", []))


def _fail_until_dead_lettered(emulator: SqsEmulator, queue: Queue, message: Any) -> None:
    """`message` on the reply queue, each of its receives failing (its handling raises, simulated as above),
    until SQS's redrive moves it to the dead-letter queue after the queue's maxReceiveCount (5)."""
    enqueue(queue, message)
    received = 0
    while batch := _receive_any(emulator, queue.url):
        for item in batch:
            assert json.loads(item["Body"])["kind"] == "message"
            _visible_now(emulator, queue, item)
            received += 1
    assert received == 5


def _consume_dead_letters(emulator: SqsEmulator, queue: Queue) -> int:
    """What the reply function's event source on the dead-letter queue does: receive, invoke, delete what
    succeeded. Returns how many dead letters were settled."""
    from functions.reply.handler import handler

    settled = 0
    while batch := _receive_any(emulator, queue.dlq_url):
        result = handler(sqs_event(batch, queue.dlq_arn), LambdaContextStub())
        failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
        assert failed == set(), failed
        for message in batch:
            emulator.client.delete_message(QueueUrl=queue.dlq_url, ReceiptHandle=message["ReceiptHandle"])
            settled += 1
    return settled


# -- unsent messages and the burst (Instagram unsend, issue 14 item 13, meets the window) ----------


def _tool_call_arguments(db: Any, conversation_id: str) -> str:
    rows = db.execute("SELECT arguments::text AS a FROM tool_calls WHERE conversation_id = %s", (conversation_id,))
    return " ".join(r["a"] for r in rows)


def _run_timer(
    timer: dict[str, Any], queue: Queue, *, receive_count: int | None = None, delete: bool = False
) -> list[str]:
    """The reply handler on one timer record; the ids it reported failed. `delete`: then delete it from
    the queue when it succeeded, as Lambda's event source does (in flight, it would hold its group back)."""
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    from functions.reply.handler import handler

    original = timer
    if receive_count is not None:
        timer = {**timer, "Attributes": {**timer["Attributes"], "ApproximateReceiveCount": str(receive_count)}}
    try:
        result = handler(sqs_event([timer], queue.arn), LambdaContextStub())
    except BatchProcessingError:  # Powertools raises when every record failed
        return [timer["MessageId"]]
    failed = [f["itemIdentifier"] for f in result["batchItemFailures"]]
    if delete and not failed:
        from mostrador.queues import sqs_client

        sqs_client().delete_message(QueueUrl=queue.url, ReceiptHandle=original["ReceiptHandle"])
    return failed


def test_a_message_unsent_during_the_window_is_never_part_of_the_bursts_reply(reply_env, db, reply_queue, emulator):
    add_products(
        db,
        product("NEV-1", "Nevera Samsung RT38", 499.0, 4),
        product("LAV-1", "Lavadora Whirlpool 8 kg", 350.0, 2),
    )
    first = fb_in(instagram=True, message={"text": "¿tienen neveras?"})
    second = fb_in(instagram=True, message={"text": "y lavadoras, envíen a Av. Libertador 123"})
    assert deliver(first, second) == []
    assert deliver(ig_unsend(second)) == []
    [timer] = receive(emulator, reply_queue)
    time.sleep(WINDOW)
    assert _run_timer(timer, reply_queue) == []

    [text] = reply_env.meta.sent_texts()
    assert "Nevera Samsung RT38" in text and "Lavadora" not in text
    [reply] = replies(db, first.conversation_id)
    assert reply["in_reply_to"] == message_row(db, first.platform_message_id)["id"]  # never the unsent one
    assert message_row(db, first.platform_message_id)["state"] == "replied"
    gone = message_row(db, second.platform_message_id)
    assert (gone["state"], gone["state_reason"], gone["text"]) == ("skipped", "deleted", "")
    assert "Libertador" not in _tool_call_arguments(db, first.conversation_id)


def test_a_burst_whose_every_message_was_unsent_gets_no_reply(reply_env, db, reply_queue, emulator):
    only = fb_in(instagram=True, message={"text": "¿tienen neveras?"})
    assert deliver(only) == []
    assert deliver(ig_unsend(only)) == []
    [timer] = receive(emulator, reply_queue)
    time.sleep(WINDOW)
    assert _run_timer(timer, reply_queue) == []
    assert reply_env.meta.sent() == []
    assert replies(db, only.conversation_id) == []
    row = message_row(db, only.platform_message_id)
    assert (row["state"], row["state_reason"]) == ("skipped", "deleted")


def test_a_message_unsent_while_the_reply_is_written_gets_the_reply_written_again_without_it(
    reply_env, db, db_url, reply_queue, emulator, llm_server, monkeypatch
):
    _chat_on_the_fake_openai(
        monkeypatch, llm_server, ["Tenemos neveras; te la enviamos a Av. Libertador 123.", "Sí, tenemos neveras."]
    )

    first = fb_in(instagram=True, message={"text": "¿tienen neveras?"})
    second = fb_in(instagram=True, message={"text": "envíenla a Av. Libertador 123"})
    assert deliver(first, second) == []
    [timer] = receive(emulator, reply_queue)
    due = parse_reply_queue_envelope(timer["Body"]).item
    time.sleep(WINDOW)

    writer, outcome = _written_elsewhere(db_url, llm_server, due)  # the burst's reply is being written...
    assert deliver(ig_unsend(second)) == []  # ...when the customer takes the address back
    llm_server.release_chat()
    writer.join(10)

    assert outcome[0].action == "replied"
    assert reply_env.meta.sent_texts() == ["Sí, tenemos neveras."]
    asked = [r for r in llm_server.requests if r.kind == "chat"][-1].body["messages"]
    assert "Libertador" not in json.dumps(asked, ensure_ascii=False)
    stale, sent = replies(db, first.conversation_id)
    assert (stale["status"], stale["in_reply_to"]) == ("superseded", None)
    assert (sent["status"], sent["in_reply_to"]) == ("sent", message_row(db, first.platform_message_id)["id"])
    assert message_row(db, second.platform_message_id)["state_reason"] == "deleted"


def test_unsending_a_message_answered_in_a_burst_clears_the_searches_that_read_it(reply_env, db, reply_queue, emulator):
    add_products(db, product("NEV-1", "Nevera Samsung RT38", 499.0, 4), product("LAV-1", "Lavadora LG", 350.0, 2))
    first = fb_in(instagram=True, message={"text": "¿tienen neveras? vivo en Av. Libertador 123"})
    second = fb_in(instagram=True, message={"text": "y lavadoras"})
    assert deliver(first, second) == []
    [timer] = receive(emulator, reply_queue)
    time.sleep(WINDOW)
    assert _run_timer(timer, reply_queue) == []
    assert len(reply_env.meta.sent()) == 1
    # The burst's searches are recorded under its latest message; one searched with the first's words.
    assert "Libertador" in _tool_call_arguments(db, first.conversation_id)

    assert deliver(ig_unsend(first)) == []
    assert "Libertador" not in _tool_call_arguments(db, first.conversation_id)
    assert len(reply_env.meta.sent()) == 1


# -- failures and the burst ----------------------------------------------------------------------


def test_a_superseded_reply_stays_superseded_when_the_burst_reply_after_it_fails_for_good(
    reply_env, db, db_url, reply_queue, emulator, llm_server, monkeypatch
):
    _chat_on_the_fake_openai(monkeypatch, llm_server, ["Sí, tenemos neveras.", "Tenemos neveras y también lavadoras."])
    older = wa_text("¿tienen neveras?")
    assert deliver(older) == []
    [timer] = receive(emulator, reply_queue)
    due = parse_reply_queue_envelope(timer["Body"]).item
    time.sleep(WINDOW)
    writer, _ = _written_elsewhere(db_url, llm_server, due)
    newer = wa_text("¿y lavadoras?")
    assert deliver(newer) == []
    llm_server.release_chat()
    writer.join(10)
    emulator.client.delete_message(QueueUrl=reply_queue.url, ReceiptHandle=timer["ReceiptHandle"])

    # The newer burst's reply meets a closed 24-hour window: a permanent failure, recorded, not retried.
    reply_env.meta.fail_next(code=131047)
    [second_timer] = receive(emulator, reply_queue)
    time.sleep(WINDOW)
    assert _run_timer(second_timer, reply_queue) == []
    stale, failed = replies(db, older.conversation_id)
    assert (stale["status"], stale["in_reply_to"]) == ("superseded", None)
    assert (failed["status"], failed["error_code"]) == ("failed", "131047")
    for message in (older, newer):
        row = message_row(db, message.platform_message_id)
        assert (row["state"], row["state_reason"]) == ("failed", "send_failed:131047")


def test_a_burst_timer_whose_send_still_fails_on_its_last_receive_is_recorded_failed(
    reply_env, db, reply_queue, emulator
):
    message = wa_text("¿tienen neveras?")
    assert deliver(message) == []
    [timer] = receive(emulator, reply_queue)
    time.sleep(WINDOW)
    reply_env.meta.fail_next(http_status=503, times=5)
    assert _run_timer(timer, reply_queue, receive_count=4) == [timer["MessageId"]]  # retried while it can be
    assert _run_timer(timer, reply_queue, receive_count=5) == []  # the last: recorded, not dead-lettered
    [reply] = replies(db, message.conversation_id)
    assert (reply["status"], reply["error_code"]) == ("failed", "http_503")
    row = message_row(db, message.platform_message_id)
    assert (row["state"], row["state_reason"]) == ("failed", "send_failed:http_503")


def test_a_burst_timer_on_its_last_receive_runs_even_when_not_due(reply_env, db, reply_queue, emulator):
    message = wa_text("¿tienen neveras?")
    assert deliver(message) == []
    [timer] = receive(emulator, reply_queue)
    # Handed back once more it would reach the dead-letter queue: it answers now instead.
    assert _run_timer(timer, reply_queue, receive_count=5) == []
    assert len(reply_env.meta.sent()) == 1
    assert message_row(db, message.platform_message_id)["state"] == "replied"


def test_a_reply_whose_send_failed_before_a_newer_message_arrived_is_not_left_pending(
    reply_env, db, reply_queue, emulator
):
    add_products(
        db, product("NEV-1", "Nevera Samsung RT38", 499.0, 4), product("LAV-1", "Lavadora Whirlpool 8 kg", 350.0, 2)
    )
    first = wa_text("¿tienen neveras?")
    assert deliver(first) == []
    [timer] = receive(emulator, reply_queue)
    time.sleep(WINDOW)
    reply_env.meta.fail_next(http_status=503)
    assert _run_timer(timer, reply_queue) == [timer["MessageId"]]
    [draft] = replies(db, first.conversation_id)
    assert draft["status"] == "pending"

    second = wa_text("¿y lavadoras?")
    assert deliver(second) == []  # a new burst: its own timer waits behind the first in their group
    assert _run_timer(timer, reply_queue, receive_count=2) == []  # the first timer's retry
    text = reply_env.meta.sent_texts()[-1]
    assert "Nevera Samsung RT38" in text and "Lavadora Whirlpool" in text  # one reply reads both
    assert [r["status"] for r in replies(db, first.conversation_id)] == ["superseded", "sent"]
    assert {message_row(db, m.platform_message_id)["state"] for m in (first, second)} == {"replied"}

    emulator.client.delete_message(QueueUrl=reply_queue.url, ReceiptHandle=timer["ReceiptHandle"])
    [second_timer] = receive(emulator, reply_queue)
    time.sleep(WINDOW)
    assert _run_timer(second_timer, reply_queue) == []
    assert len([r for r in replies(db, first.conversation_id) if r["status"] == "sent"]) == 1


def test_a_tenants_burst_is_answered_by_its_own_service_with_its_own_token(
    reply_env, db, reply_queue, reply_function, admin, tenancy, monkeypatch
):
    """The burst timer names its tenant: the reply that answers a second tenant's burst goes out from that
    tenant's number with that tenant's token."""
    from mostrador.channels import whatsapp
    from mostrador.config import reset_settings
    from tests.unit.channels.payloads import wa_message, whatsapp_delivery, whatsapp_value

    reset_settings()  # the tenancy files beside the burst window's settings
    reply_env.meta.other_tokens = {"acme-wa-token"}
    add_tenant(admin, "acme", channels={"whatsapp": "1001"}, secrets={"WHATSAPP_TOKEN": "acme-wa-token"})

    def acme_text(text: str) -> Any:
        body = wa_message("text", {"body": text}, wamid=f"wamid.acme.{time.time_ns()}", timestamp=str(int(time.time())))
        [item] = whatsapp.parse_delivery(
            whatsapp_delivery(whatsapp_value([body], phone_number_id="1001")), "acme"
        ).items
        return item

    first, second = acme_text("hola"), acme_text("¿tienen neveras?")
    enqueue(reply_queue, first)
    time.sleep(0.5)
    enqueue(reply_queue, second)
    wait_for(reply_env.meta.sent)
    time.sleep(WINDOW + 1.5)  # nothing else may follow
    [sent] = reply_env.meta.sent()
    assert sent.path.endswith("/1001/messages") and sent.headers["authorization"] == "Bearer acme-wa-token"
    [reply] = replies(db, first.conversation_id)
    assert reply["tenant_id"] == "acme" and reply["in_reply_to"] == message_row(db, second.platform_message_id)["id"]
