from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from mostrador.conversations.reply_queue import (
    envelope_for,
    envelopes_for,
    fifo_id,
    parse_reply_queue_body,
    parse_reply_queue_envelope,
)
from mostrador.messaging.model import InboundMessage, MessageDeletion, RoutedStatus, StatusUpdate

FIFO_CHARS = re.compile(r"^[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}$")


def _message(**overrides: object) -> InboundMessage:
    values: dict[str, object] = {
        "tenant_id": "acme",
        "channel": "whatsapp",
        "conversation_id": "wa:1065:584125550101",
        "sender_id": "584125550101",
        "sender_role": "customer",
        "text": "¿Tienen neveras?",
        "platform_message_id": "wamid.HBgLNTg0==",
        "timestamp": datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
        "metadata": {"phone_number_id": "1065"},
    }
    values.update(overrides)
    return InboundMessage.model_validate(values)


def test_message_envelope_round_trip() -> None:
    message = _message()
    envelope = envelope_for(message)
    assert envelope.body["kind"] == "message"
    assert envelope.group_id == "acme|wa:1065:584125550101"
    assert envelope.deduplication_id == "wamid.HBgLNTg0=="
    body = json.dumps(envelope.body, ensure_ascii=False)
    assert parse_reply_queue_body(body) == message


def test_status_envelope_dedupes_on_id_and_status() -> None:
    status = StatusUpdate(
        tenant_id="acme",
        channel="whatsapp",
        platform_message_id="wamid.OUT1",
        status="failed",
        timestamp=datetime(2026, 11, 23, tzinfo=UTC),
        error_code="131047",
    )
    envelope = envelope_for(RoutedStatus(status, "wa:1065:584125550101"))
    assert envelope.body["kind"] == "status"
    assert envelope.deduplication_id == "wamid.OUT1:failed"
    assert envelope.group_id == "acme|wa:1065:584125550101"
    parsed = parse_reply_queue_envelope(json.dumps(envelope.body))
    assert parsed.item == status
    assert parsed.conversation_id == "wa:1065:584125550101"
    assert isinstance(parse_reply_queue_body(json.dumps(envelope.body)), StatusUpdate)


def test_long_ids_are_hashed_and_keep_the_tenant() -> None:
    long_mid = "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwMDAwMDAwMDAwOjM0MDI4MjM2Njg0MTcxMDMw" * 2
    message = _message(platform_message_id=long_mid, conversation_id="ig:17841400000000000:" + "9" * 120)
    envelope = envelope_for(message)
    assert envelope.group_id is not None and envelope.deduplication_id is not None
    assert FIFO_CHARS.match(envelope.group_id) and FIFO_CHARS.match(envelope.deduplication_id)
    assert envelope.group_id.startswith("acme:h:")
    # Deterministic: Meta's redelivery of the same message gets the same ids.
    assert envelope_for(message).deduplication_id == envelope.deduplication_id
    assert envelope_for(_message(platform_message_id=long_mid + "x")).deduplication_id != envelope.deduplication_id


def test_invalid_characters_are_hashed() -> None:
    assert FIFO_CHARS.match(fifo_id("conversación con espacios", keep="tenant é"))
    assert fifo_id("ok:id") == "ok:id"


def test_batch_entry_ids_are_unique() -> None:
    envelopes = envelopes_for([_message(platform_message_id=f"wamid.{i}") for i in range(12)])
    assert len({e.id for e in envelopes}) == 12


@pytest.mark.parametrize("body", ["not json", "[]", '{"kind": "other"}', '{"kind": "message", "message": {}}'])
def test_malformed_bodies_raise_value_error(body: str) -> None:
    with pytest.raises(ValueError):
        parse_reply_queue_body(body)


def test_a_burst_timer_travels_in_its_own_group_and_runs_after_the_batchs_messages() -> None:
    from mostrador.conversations.reply_queue import ReplyDue, due_envelope_for, group_id, timers_last

    due = ReplyDue(
        tenant_id="t1",
        conversation_id="wa:1:2",
        anchor_id=7,
        anchor_platform_message_id="wamid.A",
        due_at=datetime(2026, 12, 1, tzinfo=UTC),
    )
    envelope = due_envelope_for(due)
    assert envelope.group_id == group_id("t1", "wa:1:2#reply") != group_id("t1", "wa:1:2")
    # The burst (anchor and due time) deduplicates: scheduled again on a retry it is dropped; a later burst
    # held by the same message is another one.
    assert envelope.deduplication_id == f"due:wamid.A@{int(due.due_at.timestamp()) * 1_000_000}"
    later = due.model_copy(update={"due_at": datetime(2026, 12, 1, 0, 9, tzinfo=UTC)})
    assert due_envelope_for(later).deduplication_id != envelope.deduplication_id
    parsed = parse_reply_queue_envelope(json.dumps(envelope.body))
    assert parsed.item == due and parsed.conversation_id == "wa:1:2"
    records = [{"body": json.dumps(envelope.body)}, {"body": '{"v": 1, "kind": "message"}'}, {"body": "{}"}]
    assert [r["body"] for r in timers_last(records)] == [records[1]["body"], records[2]["body"], records[0]["body"]]


def test_a_backstop_waits_in_a_group_of_its_own_deduplicated_per_watched_message() -> None:
    """Deferred until the watched message's time is over, a backstop must not hold back the burst timers."""
    from mostrador.conversations.reply_queue import ReplyDue, due_envelope_for, group_id

    backstop = ReplyDue(
        tenant_id="t1",
        conversation_id="wa:1:2",
        anchor_id=8,
        anchor_platform_message_id="wamid.B",
        due_at=datetime(2026, 12, 1, tzinfo=UTC),
        kind="backstop",
    )
    envelope = due_envelope_for(backstop)
    assert envelope.group_id == group_id("t1", "wa:1:2#backstop")
    assert envelope.group_id not in (group_id("t1", "wa:1:2#reply"), group_id("t1", "wa:1:2"))
    assert envelope.deduplication_id == "backstop:wamid.B"
    assert parse_reply_queue_envelope(json.dumps(envelope.body)).item == backstop
    # A timer queued before backstops existed (no kind) is a burst's.
    body = {**envelope.body, "due": {k: v for k, v in envelope.body["due"].items() if k != "kind"}}
    assert parse_reply_queue_envelope(json.dumps(body)).item.kind == "burst"


def test_a_deletion_travels_in_the_conversations_group_with_its_own_dedup_id() -> None:
    """An unsend names the message it takes back: deduplicating on that id alone would make SQS drop
    the unsend as a redelivery of the original within its five-minute window."""
    original = _message(channel="instagram", conversation_id="ig:1784:IGSID1", platform_message_id="aWdfZAG1")
    deletion = MessageDeletion(
        tenant_id="acme",
        channel="instagram",
        conversation_id="ig:1784:IGSID1",
        platform_message_id="aWdfZAG1",
        sender_id="IGSID1",
        timestamp=datetime(2026, 11, 23, 10, 1, tzinfo=UTC),
    )
    envelope = envelope_for(deletion)
    assert envelope.body["kind"] == "deletion"
    assert envelope.group_id == envelope_for(original).group_id
    assert envelope.deduplication_id == "aWdfZAG1:deleted" != envelope_for(original).deduplication_id
    parsed = parse_reply_queue_envelope(json.dumps(envelope.body))
    assert parsed.item == deletion and parsed.conversation_id == "ig:1784:IGSID1"


def test_an_echo_to_another_form_of_a_customers_number_shares_their_group() -> None:
    """Brazil's 9th digit: the customer writes as 55 21 8765-4321 (their WhatsApp id), the business app
    echo goes to +55 21 98765-4321. One group, so the echo's pause comes before the customer's next message."""
    customer = _message(conversation_id="wa:1065:552187654321", sender_id="552187654321")
    echo = _message(
        conversation_id="wa:1065:5521987654321",
        sender_id="15550783881",
        sender_role="agent",
        platform_message_id="wamid.ECHO",
        metadata={"phone_number_id": "1065", "is_echo": "true", "echo_source": "business_app"},
    )
    assert envelope_for(echo).group_id == envelope_for(customer).group_id == "acme|wa:1065:552187654321"
    other = _message(conversation_id="wa:1065:552133334444", sender_id="552133334444")  # a landline
    assert envelope_for(other).group_id != envelope_for(customer).group_id
