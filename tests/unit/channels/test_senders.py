"""Outbound senders against the fake Meta Graph API and Support Board servers (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import json

import pytest

from mostrador.channels.base import OutboundMessage, PermanentSendError, TransientSendError
from mostrador.channels.messenger import MessengerSender
from mostrador.channels.registry import sender_for
from mostrador.channels.support_board import SupportBoardClient, SupportBoardSender
from mostrador.channels.webchat import WebChatSender
from mostrador.channels.whatsapp import WhatsAppSender
from mostrador.config import get_settings
from tests.fakes.platforms import Platforms, platforms_fixture  # noqa: F401

CUSTOMER = "584125550101"


def _wa(text: str = "La nevera cuesta 500$.", **overrides: object) -> OutboundMessage:
    values: dict = {
        "tenant_id": "t1",
        "channel": "whatsapp",
        "conversation_id": f"wa:106540352242922:{CUSTOMER}",
        "recipient_id": CUSTOMER,
        "text": text,
        "reply_to_message_id": "wamid.IN1",
    }
    values.update(overrides)
    return OutboundMessage(**values)


def test_registry_picks_the_sender(platforms: Platforms) -> None:
    settings = get_settings()
    assert isinstance(sender_for("whatsapp", settings), WhatsAppSender)
    assert isinstance(sender_for("messenger", settings), MessengerSender)
    assert isinstance(sender_for("instagram", settings), MessengerSender)
    assert isinstance(sender_for("support_board", settings), SupportBoardSender)
    assert isinstance(sender_for("webchat", settings), WebChatSender)
    with pytest.raises(ValueError):
        sender_for("telegram", settings)


def test_whatsapp_text_in_the_context_of_the_customer_message(platforms: Platforms) -> None:
    result = sender_for("whatsapp", get_settings()).send(_wa())
    [request] = platforms.meta.sent()
    assert request.path == f"/v21.0/{platforms.phone_number_id}/messages"
    assert request.headers["authorization"] == f"Bearer {platforms.meta.token}"
    assert request.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CUSTOMER,
        "type": "text",
        "text": {"preview_url": False, "body": "La nevera cuesta 500$."},
        "context": {"message_id": "wamid.IN1"},
    }
    assert result.platform_message_ids == ["wamid.FAKE1"]


def test_whatsapp_uses_the_conversation_business_number_and_bsuid(platforms: Platforms) -> None:
    message = _wa(conversation_id="wa:777:US.1349", recipient_id="US.1349", reply_to_message_id=None)
    sender_for("whatsapp", get_settings()).send(message)
    [request] = platforms.meta.sent()
    assert request.path == "/v21.0/777/messages"
    assert request.json["recipient"] == "US.1349" and "to" not in request.json
    assert "context" not in request.json


def test_whatsapp_long_text_is_split_and_only_the_first_piece_quotes(platforms: Platforms) -> None:
    text = " ".join(["Tenemos neveras de varias marcas y tamaños."] * 150)  # ~6600 chars
    result = sender_for("whatsapp", get_settings()).send(_wa(text))
    sent = platforms.meta.sent()
    assert len(sent) == 2 == len(result.platform_message_ids)
    assert all(len(r.json["text"]["body"]) <= 4096 for r in sent)
    assert " ".join(platforms.meta.sent_texts()) == text
    assert "context" in sent[0].json and "context" not in sent[1].json


@pytest.mark.parametrize(
    ("code", "error_type"),
    [
        (130429, TransientSendError),
        (131056, TransientSendError),
        (131047, PermanentSendError),
        (190, PermanentSendError),
    ],
)
def test_whatsapp_errors_are_classified(platforms: Platforms, code: int, error_type: type) -> None:
    platforms.meta.fail_next(code=code)
    with pytest.raises(error_type) as caught:
        sender_for("whatsapp", get_settings()).send(_wa())
    assert caught.value.code == str(code)


def test_a_5xx_is_transient(platforms: Platforms) -> None:
    platforms.meta.fail_next(http_status=503)
    with pytest.raises(TransientSendError) as caught:
        sender_for("whatsapp", get_settings()).send(_wa())
    assert caught.value.code == "http_503"
    # The next attempt (the queue's retry) goes through.
    assert sender_for("whatsapp", get_settings()).send(_wa()).platform_message_ids


def test_wrong_token_is_permanent(platforms: Platforms, monkeypatch: pytest.MonkeyPatch) -> None:
    sender = WhatsAppSender(graph_url=platforms.meta.url, phone_number_id="1", token="stale")
    with pytest.raises(PermanentSendError) as caught:
        sender.send(_wa())
    assert caught.value.code == "190"


def test_unreachable_server_is_transient() -> None:
    sender = WhatsAppSender(graph_url="http://127.0.0.1:9", phone_number_id="1", token="t")
    with pytest.raises(TransientSendError):
        sender.send(_wa())


def test_messenger_send_api(platforms: Platforms) -> None:
    message = OutboundMessage(
        tenant_id="t1", channel="messenger", conversation_id="fb:P:PSID1", recipient_id="PSID1", text="Hola"
    )
    result = sender_for("messenger", get_settings()).send(message)
    [request] = platforms.meta.sent()
    assert request.path == "/v21.0/me/messages"
    assert request.headers["authorization"] == f"Bearer {platforms.meta.token}"
    assert request.json == {"recipient": {"id": "PSID1"}, "messaging_type": "RESPONSE", "message": {"text": "Hola"}}
    assert result.platform_message_ids == ["m_FAKE1"]


def test_instagram_is_split_at_1000_bytes(platforms: Platforms) -> None:
    text = " ".join(["La cafetera eléctrica está disponible en Mérida."] * 40)  # > 1000 bytes, < 2000 chars
    message = OutboundMessage(
        tenant_id="t1", channel="instagram", conversation_id="ig:A:IG1", recipient_id="IG1", text=text
    )
    result = sender_for("instagram", get_settings()).send(message)
    texts = platforms.meta.sent_texts()
    assert len(texts) == len(result.platform_message_ids) >= 2
    assert all(len(t.encode("utf-8")) <= 1000 for t in texts)
    assert " ".join(texts) == text


def test_messenger_window_closed_is_permanent(platforms: Platforms) -> None:
    platforms.meta.fail_next(code=10, subcode=2018278)
    message = OutboundMessage(
        tenant_id="t1", channel="messenger", conversation_id="fb:P:PSID1", recipient_id="PSID1", text="Hola"
    )
    with pytest.raises(PermanentSendError) as caught:
        sender_for("messenger", get_settings()).send(message)
    assert caught.value.code == "10"


# -- Support Board -----------------------------------------------------------------------------


def _sb(source: str, text: str = "Sí, la tenemos.") -> OutboundMessage:
    return OutboundMessage(
        tenant_id="t1",
        channel="support_board",
        conversation_id="sb:321",
        recipient_id="45",
        text=text,
        reply_to_message_id="sb:9001",
        metadata={"conversation_source": source, "sb_conversation_id": "321"},
    )


def test_support_board_instagram_goes_through_messenger_send_message_and_is_copied(platforms: Platforms) -> None:
    board = platforms.support_board
    board.add_user("45", **{"facebook-id": "IGSID45"})
    board.add_conversation("321", user_id="45", source="ig", extra="17841400000000000")
    result = sender_for("support_board", get_settings()).send(_sb("ig"))
    [send] = board.calls("messenger-send-message")
    assert send["psid"] == "IGSID45"
    assert send["facebook_page_id"] == "17841400000000000"
    assert send["message"] == "Sí, la tenemos."
    assert send["metadata"] == "9001"
    assert send["token"] == board.token
    [copy] = board.calls("send-message")
    assert (copy["user_id"], copy["conversation_id"], copy["message"]) == (
        platforms.dm_bot_user_id,
        "321",
        "Sí, la tenemos.",
    )
    assert result.platform_message_ids and result.platform_message_ids[0].startswith("m_SB")
    assert platforms.meta.sent() == []  # nothing went to the Graph API directly


def test_support_board_whatsapp_goes_to_the_cloud_api_directly_and_is_copied(platforms: Platforms) -> None:
    board = platforms.support_board
    board.add_user("45", phone="+58 412-555-0101")
    board.add_conversation("321", user_id="45", source="wa")
    result = sender_for("support_board", get_settings()).send(_sb("wa"))
    [request] = platforms.meta.sent()
    assert request.json["to"] == CUSTOMER
    assert "context" not in request.json  # Support Board's message ids are not wamids
    assert board.calls("messenger-send-message") == []
    assert len(board.calls("send-message")) == 1
    assert result.platform_message_ids == ["wamid.FAKE1"]


def test_support_board_success_true_wrapping_a_meta_error(platforms: Platforms) -> None:
    board = platforms.support_board
    board.add_user("45", **{"facebook-id": "PSID45"})
    board.add_conversation("321", user_id="45", source="fb", extra="1122334455")
    board.fail_messenger_with_meta_error(10)
    with pytest.raises(PermanentSendError) as caught:
        sender_for("support_board", get_settings()).send(_sb("fb"))
    assert caught.value.code == "10"
    assert board.calls("send-message") == []  # nothing copied for a reply that never left
    board.fail_messenger_with_meta_error(4)
    with pytest.raises(TransientSendError):
        sender_for("support_board", get_settings()).send(_sb("fb"))


def test_support_board_5xx_is_transient(platforms: Platforms) -> None:
    board = platforms.support_board
    board.add_conversation("321", user_id="45", source="fb", extra="1122334455")
    board.fail_next("get-user", http_status=502)
    with pytest.raises(TransientSendError):
        sender_for("support_board", get_settings()).send(_sb("fb"))


def test_support_board_unknown_source_is_permanent(platforms: Platforms) -> None:
    with pytest.raises(PermanentSendError):
        sender_for("support_board", get_settings()).send(_sb("tg"))


@pytest.mark.parametrize("as_string", [False, True])
def test_recent_messages_most_recent_last(platforms: Platforms, as_string: bool) -> None:
    board = platforms.support_board
    board.encode_response_as_string = as_string
    board.add_conversation("321", user_id="45", source="ig")
    board.add_message("321", "45", "hola", "2026-11-23 09:00:00")
    board.add_message("321", "2", "¡Hola! ¿En qué te ayudo?", "2026-11-23 09:00:05")
    board.add_message("321", "7", "Te atiende Carla", "2026-11-23 09:05:00")
    board.conversations["321"]["messages"].reverse()  # whatever order the API answers in
    messages = SupportBoardClient(get_settings()).recent_messages("sb:321")
    assert [(m.user_id, m.text) for m in messages] == [
        ("45", "hola"),
        ("2", "¡Hola! ¿En qué te ayudo?"),
        ("7", "Te atiende Carla"),
    ]
    assert messages[-1].created_at is not None and messages[-1].created_at.minute == 5
    [call] = board.calls("get-conversation")
    assert call["conversation_id"] == "321"


@pytest.mark.parametrize("as_string", [False, True])
def test_recent_messages_keep_what_people_typed_even_when_it_looks_like_json(
    platforms: Platforms, as_string: bool
) -> None:
    # Only the columns Support Board stores as JSON (attachments, payload) are decoded; a message's text never.
    board = platforms.support_board
    board.encode_response_as_string = as_string
    board.add_conversation("321", user_id="45", source="ig")
    typed = ["[" * 3_000, "[" + "9" * 5_000 + "]", '{"precio": 1}', "[1, 2]", "{no es json"]
    for second, text in enumerate(typed):
        board.add_message("321", "45", text, f"2026-11-23 09:00:0{second}")
    board.conversations["321"]["messages"][0]["attachments"] = json.dumps([["f.png", "https://e/f.png"]])
    client = SupportBoardClient(get_settings())
    assert [m.text for m in client.recent_messages("sb:321")] == typed
    [first, *_] = client.conversation("321")["messages"]
    assert first["attachments"] == [["f.png", "https://e/f.png"]] and first["payload"] == {}


def test_support_board_wrong_token_fails_clearly(platforms: Platforms) -> None:
    from mostrador.channels.support_board import SupportBoardError

    client = SupportBoardClient(api_url=platforms.support_board.url, token="wrong")
    with pytest.raises(SupportBoardError, match="invalid-token"):
        client.recent_messages("321")


# -- messenger-send-message answers (issue 14 item 11) -------------------------------------------


@pytest.mark.parametrize(
    ("answer", "ids"),
    [
        ([{"recipient_id": "P", "message_id": "m_1"}], ["m_1"]),  # documented: one Meta answer per message
        ([{"recipient_id": "P", "message_id": "m_1"}, {"recipient_id": "P", "message_id": "m_2"}], ["m_1", "m_2"]),
        ({"recipient_id": "P", "message_id": "m_1"}, ["m_1"]),
        (True, []),
        ([True], []),
        # Part went out: the customer has it, so it is not retried (the failed part is logged).
        ([{"recipient_id": "P", "message_id": "m_1"}, {"error": {"code": 100, "message": "bad"}}], ["m_1"]),
    ],
)
def test_messenger_send_message_answers_that_mean_sent(answer: object, ids: list[str]) -> None:
    from mostrador.channels.support_board import meta_message_ids

    assert meta_message_ids(answer) == ids


@pytest.mark.parametrize(
    ("answer", "kind", "code"),
    [
        ([{"error": {"code": 10, "message": "outside window"}}], PermanentSendError, "10"),
        ([{"error": {"code": 551, "message": "unavailable"}}], PermanentSendError, "551"),
        ({"error": {"code": 551, "message": "unavailable"}}, PermanentSendError, "551"),
        ([{"error": {"code": 613, "message": "rate limit"}}], TransientSendError, "613"),
        ([], PermanentSendError, "support_board"),  # nothing said about the send: never sent twice
        (False, PermanentSendError, "support_board"),
        ("ok", PermanentSendError, "support_board"),
    ],
)
def test_messenger_send_message_answers_that_mean_failed(answer: object, kind: type, code: str) -> None:
    from mostrador.channels.support_board import meta_message_ids

    with pytest.raises(kind) as caught:
        meta_message_ids(answer)
    assert type(caught.value) is kind and caught.value.code == code


def test_support_board_success_false_is_permanent_with_its_reason(platforms: Platforms) -> None:
    board = platforms.support_board
    board.add_conversation("321", user_id="45", source="wa")  # user 45 does not exist
    with pytest.raises(PermanentSendError) as caught:
        sender_for("support_board", get_settings()).send(_sb("wa"))
    assert caught.value.code == "support_board:user-not-found"
    assert "user-not-found" in str(caught.value)
