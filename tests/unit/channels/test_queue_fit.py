"""An event too large for one SQS message travels cut to fit; batches respect SQS's size limit."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from mostrador.conversations.reply_queue import TRUNCATED_METADATA, envelope_for, fit_for_queue
from mostrador.messaging.model import InboundMessage, RoutedStatus, StatusUpdate
from mostrador.queues import MAX_BATCH, MAX_MESSAGE_BYTES, OutgoingMessage, _chunks, serialized_body

MARKER = re.compile(r"\n\n\[… message truncated by Mostrador: (\d+) characters received, the first (\d+) kept\]$")


def _message(text: str, **metadata: str) -> InboundMessage:
    return InboundMessage(
        tenant_id="acme",
        channel="whatsapp",
        conversation_id="wa:1065:584125550101",
        sender_id="584125550101",
        sender_role="customer",
        text=text,
        platform_message_id="wamid.BIG",
        timestamp=datetime(2026, 11, 23, tzinfo=UTC),
        metadata={"phone_number_id": "1065", **metadata},
    )


def _size(item: InboundMessage) -> int:
    return len(serialized_body(envelope_for(item).body))


def test_a_message_that_fits_is_left_alone() -> None:
    message = _message("hola " * 1000)
    assert fit_for_queue(message) is message
    status = RoutedStatus(
        StatusUpdate(
            tenant_id="acme", channel="whatsapp", platform_message_id="w", status="read", timestamp=datetime.now(UTC)
        ),
        "wa:1",
    )
    assert fit_for_queue(status) is status


@pytest.mark.parametrize(("letter", "escaped"), [("a", 1), ("ñ", 6), ("😀", 12), ("\n", 2)])
def test_a_long_text_is_cut_to_the_most_that_fits_after_escaping(letter: str, escaped: int) -> None:
    text = letter * (MAX_MESSAGE_BYTES // escaped + 50_000)
    fitted = fit_for_queue(_message(text))
    assert isinstance(fitted, InboundMessage)
    size = _size(fitted)
    assert size <= MAX_MESSAGE_BYTES and size > MAX_MESSAGE_BYTES - escaped - 2  # not one more would fit
    marker = MARKER.search(fitted.text)
    assert marker is not None and int(marker.group(1)) == len(text)
    kept = int(marker.group(2))
    assert fitted.text[:kept] == text[:kept] and marker.start() == kept
    assert fitted.metadata[TRUNCATED_METADATA] == str(len(text)) and fitted.metadata["phone_number_id"] == "1065"
    # The envelope reads back as the cut message.
    assert InboundMessage.model_validate(json.loads(serialized_body(envelope_for(fitted).body))["message"]) == fitted


def test_hostile_metadata_is_cut_too_and_ids_too_long_are_left_for_sqs_to_refuse() -> None:
    fitted = fit_for_queue(_message("hola", attachment_url="https://x/" + "a" * 400_000))
    assert isinstance(fitted, InboundMessage) and _size(fitted) <= MAX_MESSAGE_BYTES
    assert fitted.metadata["attachment_url"].endswith("…") and len(fitted.metadata["attachment_url"]) == 1001
    assert fitted.text.startswith("hola") and MARKER.search(fitted.text)

    hopeless = _message("hola").model_copy(update={"sender_id": "x" * 300_000})
    assert fit_for_queue(hopeless) is hopeless


def _outgoing(index: int, size: int) -> OutgoingMessage:
    return OutgoingMessage(id=str(index), body={"t": "x" * size})


def test_batches_stay_within_ten_messages_and_the_size_limit() -> None:
    many_small = _chunks([_outgoing(i, 10) for i in range(25)])
    assert [len(chunk) for chunk, _ in many_small] == [MAX_BATCH, MAX_BATCH, 5]

    big = [_outgoing(i, 100_000) for i in range(5)] + [_outgoing(9, MAX_MESSAGE_BYTES)] + [_outgoing(6, 10)]
    batches = _chunks(big)
    for chunk, _ in batches:
        assert sum(len(body) for _, body in chunk) <= MAX_MESSAGE_BYTES
    sent = [message.id for chunk, _ in batches for message, _ in chunk]
    refused = [message.id for _, too_large in batches for message in too_large]
    assert sent == ["0", "1", "2", "3", "4", "6"] and refused == ["9"]
