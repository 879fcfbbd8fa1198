from __future__ import annotations

import json

import pytest

from mostrador.channels import support_board
from mostrador.messaging.model import InboundMessage
from mostrador.request_input import BadRequestBody
from tests.unit.channels.payloads import support_board_event


def _one(payload: dict) -> InboundMessage:
    parsed = support_board.parse_webhook(payload, "t1")
    [item] = parsed.items
    assert isinstance(item, InboundMessage)
    return item


def test_customer_message() -> None:
    item = _one(support_board_event())
    assert item.channel == "support_board"
    assert item.conversation_id == "sb:321"
    assert (item.sender_id, item.sender_role) == ("45", "customer")
    assert item.platform_message_id == "sb:9001"
    assert item.text == "Hola, ¿tienen neveras?"
    assert item.metadata["conversation_source"] == "ig"
    assert item.metadata["sb_user_id"] == "45"
    assert item.metadata["sb_conversation_user_id"] == "45"
    assert item.metadata["sb_conversation_id"] == "321"


def test_other_senders_are_unknown_for_the_actor_rules() -> None:
    item = _one(support_board_event(user_id="7", message="Hola, te atiende Carla", conversation_source="wa"))
    assert (item.sender_role, item.sender_id, item.metadata["sb_user_id"]) == ("unknown", "7", "7")
    assert item.metadata["conversation_source"] == "wa"


def test_attachments_are_json_strings() -> None:
    attachments = json.dumps([["foto.jpg", "https://example.com/uploads/foto.jpg"]])
    item = _one(support_board_event(message="", attachments=attachments))
    assert (item.media_kind, item.metadata["attachment_url"]) == ("image", "https://example.com/uploads/foto.jpg")
    with_text = _one(support_board_event(message="mira", attachments=json.dumps([["a.pdf", "https://e/a.pdf"]])))
    assert (with_text.media_kind, with_text.metadata["attachment_kind"]) == ("text", "document")


@pytest.mark.parametrize(
    "attachments",
    ["[" * 3_000, "[" + "9" * 5_000 + "]", '[["a.png", "https://e/a.png"]', "not json"],
    ids=["3000-open-brackets", "5000-digit-number", "cut-short", "text"],
)
def test_attachments_that_cannot_be_read_within_limits_are_none_and_the_words_stay(attachments: str) -> None:
    item = _one(support_board_event(message="hola", attachments=attachments))
    assert (item.media_kind, item.text) == ("text", "hola") and "attachment_url" not in item.metadata
    assert support_board.decode_attachments(attachments) == []


def test_a_photo_or_voice_note_with_words_keeps_its_kind_the_words_are_its_caption() -> None:
    photo = _one(support_board_event(message="¿tienen este?", attachments=json.dumps([["f.png", "https://e/f.png"]])))
    assert (photo.media_kind, photo.text) == ("image", "¿tienen este?") and "attachment_kind" not in photo.metadata
    voice = _one(support_board_event(message="escucha", attachments=json.dumps([["v.ogg", "https://e/v.ogg"]])))
    assert (voice.media_kind, voice.text) == ("audio", "escucha")
    video = _one(support_board_event(message="mira", attachments=json.dumps([["v.mp4", "https://e/v.mp4"]])))
    assert (video.media_kind, video.metadata["attachment_kind"]) == ("text", "video")


def test_other_events_are_ignored() -> None:
    for function in ("conversation-status-updated", "user-created", "message-deleted"):
        parsed = support_board.parse_webhook(support_board_event(function=function), "t1")
        assert parsed.items == [] and parsed.skipped


def test_incomplete_message_sent_is_skipped() -> None:
    payload = support_board_event()
    del payload["data"]["message_id"]
    parsed = support_board.parse_webhook(payload, "t1")
    assert parsed.items == [] and parsed.skipped


def test_key_is_compared_exactly() -> None:
    assert support_board.key_matches("sb-secret", "sb-secret")
    assert not support_board.key_matches("sb-secre", "sb-secret")
    assert not support_board.key_matches(None, "sb-secret")
    assert not support_board.key_matches("", "sb-secret")
    assert not support_board.key_matches("x", None)


def test_the_key_is_read_from_the_raw_body_without_parsing_the_rest() -> None:
    raw = json.dumps(support_board_event(key="sb-secret"), ensure_ascii=False).encode()
    assert support_board.webhook_key(raw) == "sb-secret"
    # Support Board's order is function, key, data: nothing after the key is read, garbage included.
    assert support_board.webhook_key(b'{"function":"message-sent","key":"k","data":{{{ not json') == "k"
    assert support_board.webhook_key(b'{"function":"message-sent","data":{"key":"sb-secret"}}') is None
    assert support_board.webhook_key(b'{"data":{"x":1},"key":"sb-secret"}') is None  # never looked past data
    assert support_board.webhook_key(b'{"key":123}') is None
    with pytest.raises(BadRequestBody):
        support_board.webhook_key(b"function=message-sent&key=sb-secret")
