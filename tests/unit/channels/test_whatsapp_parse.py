from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mostrador.channels import whatsapp
from mostrador.messaging.model import InboundMessage, RoutedStatus
from tests.unit.channels.payloads import (
    CUSTOMER_PHONE,
    PHONE_NUMBER_ID,
    wa_message,
    wa_status,
    whatsapp_delivery,
    whatsapp_value,
)

CONVERSATION = f"wa:{PHONE_NUMBER_ID}:{CUSTOMER_PHONE}"


def _only_message(message: dict) -> InboundMessage:
    parsed = whatsapp.parse_delivery(whatsapp_delivery(whatsapp_value([message])), "t1")
    assert parsed.skipped == []
    [item] = parsed.items
    assert isinstance(item, InboundMessage)
    return item


def test_text_message() -> None:
    item = _only_message(wa_message("text", {"body": "Hola, ¿tienen neveras?"}, timestamp="1763892000"))
    assert item.tenant_id == "t1"
    assert item.channel == "whatsapp"
    assert item.conversation_id == CONVERSATION
    assert item.sender_id == CUSTOMER_PHONE
    assert item.sender_role == "customer"
    assert item.text == "Hola, ¿tienen neveras?"
    assert item.media_kind == "text"
    assert item.platform_message_id == "wamid.HBgLNTg0MTI1NTUwMTAxFQIAEhgg"
    assert item.timestamp == datetime.fromtimestamp(1763892000, tz=UTC)  # seconds, as a string
    assert item.reply_to_message_id is None
    assert item.metadata["phone_number_id"] == PHONE_NUMBER_ID
    assert item.metadata["wa_user_id"] == "VE.1502576394655843"


@pytest.mark.parametrize(
    ("interactive", "text", "reply_id"),
    [
        ({"type": "button_reply", "button_reply": {"id": "btn-yes", "title": "Sí, quiero"}}, "Sí, quiero", "btn-yes"),
        (
            {"type": "list_reply", "list_reply": {"id": "row-2", "title": "Neveras", "description": "Línea blanca"}},
            "Neveras",
            "row-2",
        ),
    ],
)
def test_interactive_replies(interactive: dict, text: str, reply_id: str) -> None:
    item = _only_message(wa_message("interactive", interactive))
    assert (item.media_kind, item.text, item.metadata["reply_id"]) == ("interactive", text, reply_id)
    assert item.metadata["interactive_type"] == interactive["type"]


def test_template_quick_reply_button() -> None:
    item = _only_message(wa_message("button", {"payload": "STOP", "text": "Detener"}))
    assert (item.media_kind, item.text, item.metadata["reply_id"]) == ("interactive", "Detener", "STOP")


@pytest.mark.parametrize(
    ("kind", "content", "text"),
    [
        (
            "image",
            {"id": "media-1", "mime_type": "image/jpeg", "sha256": "abc", "caption": "¿Esta la tienen?"},
            "¿Esta la tienen?",
        ),
        ("audio", {"id": "media-2", "mime_type": "audio/ogg; codecs=opus", "voice": True}, ""),
        ("video", {"id": "media-3", "mime_type": "video/mp4"}, ""),
        (
            "document",
            {"id": "media-4", "mime_type": "application/pdf", "filename": "factura.pdf", "caption": "mi factura"},
            "mi factura",
        ),
        ("sticker", {"id": "media-5", "mime_type": "image/webp", "animated": False}, ""),
    ],
)
def test_media_messages(kind: str, content: dict, text: str) -> None:
    item = _only_message(wa_message(kind, content))
    assert item.media_kind == kind
    assert item.text == text
    assert item.metadata["media_id"] == content["id"]
    assert item.metadata["media_mime_type"] == content["mime_type"]
    if kind == "document":
        assert item.metadata["filename"] == "factura.pdf"
    if kind == "audio":
        assert item.metadata["voice"] == "true"


def test_location() -> None:
    item = _only_message(
        wa_message(
            "location",
            {
                "latitude": 10.4806,
                "longitude": -66.9036,
                "name": "Tienda Chacao",
                "address": "Av. Francisco de Miranda",
            },
        )
    )
    assert item.media_kind == "location"
    assert item.text == "Tienda Chacao, Av. Francisco de Miranda"
    assert (item.metadata["latitude"], item.metadata["longitude"]) == ("10.4806", "-66.9036")


def test_reaction_points_at_the_reacted_message() -> None:
    item = _only_message(wa_message("reaction", {"message_id": "wamid.OUT1", "emoji": "👍"}))
    assert (item.media_kind, item.text, item.reply_to_message_id) == ("reaction", "👍", "wamid.OUT1")


def test_unsupported_message_keeps_the_error_code() -> None:
    message = wa_message("unsupported", errors=[{"code": 131051, "title": "Message type unknown"}])
    item = _only_message(message)
    assert (item.media_kind, item.text, item.metadata["error_code"]) == ("unsupported", "", "131051")


def test_unknown_type_is_unsupported_not_dropped() -> None:
    item = _only_message(wa_message("order", {"catalog_id": "1", "product_items": []}))
    assert item.media_kind == "unsupported"
    assert item.metadata["wa_type"] == "order"


def test_reply_with_context() -> None:
    item = _only_message(
        wa_message("text", {"body": "¿y en azul?"}, context={"from": "15550783881", "id": "wamid.OUT7"})
    )
    assert item.reply_to_message_id == "wamid.OUT7"


def test_sender_with_only_a_business_scoped_user_id() -> None:
    message = wa_message("text", {"body": "hola"}, sender=None, from_user_id="US.13491208655302741918")
    contacts = [{"profile": {"name": "anon"}, "user_id": "US.13491208655302741918"}]
    parsed = whatsapp.parse_delivery(whatsapp_delivery(whatsapp_value([message], contacts=contacts)), "t1")
    [item] = parsed.items
    assert isinstance(item, InboundMessage)
    assert item.sender_id == "US.13491208655302741918"
    assert item.conversation_id == f"wa:{PHONE_NUMBER_ID}:US.13491208655302741918"


def test_sender_known_only_through_contacts_user_id() -> None:
    message = wa_message("text", {"body": "hola"}, sender=None)
    contacts = [{"profile": {"name": "anon"}, "user_id": "BR.1502576394655843"}]
    [item] = whatsapp.parse_delivery(whatsapp_delivery(whatsapp_value([message], contacts=contacts)), "t1").items
    assert isinstance(item, InboundMessage)
    assert item.sender_id == "BR.1502576394655843"


def test_several_messages_and_entries_in_one_delivery() -> None:
    first = whatsapp_value(
        [wa_message("text", {"body": "uno"}, wamid="wamid.A"), wa_message("text", {"body": "dos"}, wamid="wamid.B")]
    )
    second = whatsapp_value(
        [wa_message("text", {"body": "tres"}, wamid="wamid.C", sender="584245550202")], phone_number_id="999"
    )
    parsed = whatsapp.parse_delivery(whatsapp_delivery(first, second, entries=2), "t1")
    assert len(parsed.items) == 3
    assert [i.text for i in parsed.items if isinstance(i, InboundMessage)] == ["uno", "dos", "tres"]
    assert parsed.items[2].conversation_id == "wa:999:584245550202"


def test_statuses_are_statuses_never_messages() -> None:
    failed = wa_status("failed", wamid="wamid.OUT2", errors=[{"code": 131047, "title": "Re-engagement message"}])
    value = whatsapp_value(statuses=[wa_status("sent"), wa_status("delivered"), wa_status("read"), failed])
    parsed = whatsapp.parse_delivery(whatsapp_delivery(value), "t1")
    assert all(isinstance(item, RoutedStatus) for item in parsed.items)
    states = [(i.status.platform_message_id, i.status.status) for i in parsed.items if isinstance(i, RoutedStatus)]
    assert states == [
        ("wamid.OUT1", "sent"),
        ("wamid.OUT1", "delivered"),
        ("wamid.OUT1", "read"),
        ("wamid.OUT2", "failed"),
    ]
    last = parsed.items[-1]
    assert isinstance(last, RoutedStatus)
    assert (last.status.error_code, last.status.error_title) == ("131047", "Re-engagement message")
    assert last.conversation_id == CONVERSATION


def test_status_to_a_user_without_phone() -> None:
    status = {"id": "wamid.OUT3", "status": "delivered", "timestamp": "1763892100", "recipient_user_id": "US.1"}
    [item] = whatsapp.parse_delivery(whatsapp_delivery(whatsapp_value(statuses=[status])), "t1").items
    assert isinstance(item, RoutedStatus)
    assert item.conversation_id == f"wa:{PHONE_NUMBER_ID}:US.1"


def test_other_fields_and_garbage_are_skipped_with_a_reason() -> None:
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {"id": "1", "changes": [{"field": "message_template_status_update", "value": {"event": "APPROVED"}}]}
        ],
    }
    parsed = whatsapp.parse_delivery(payload, "t1")
    assert parsed.items == [] and parsed.skipped
    assert whatsapp.parse_delivery({"object": "whatsapp_business_account", "entry": "nope"}, "t1").items == []
    no_id = whatsapp_value([{"from": CUSTOMER_PHONE, "type": "text", "text": {"body": "x"}}])
    parsed = whatsapp.parse_delivery(whatsapp_delivery(no_id), "t1")
    assert parsed.items == [] and parsed.skipped


def test_a_coexistence_echo_is_a_person_answering_in_the_customers_conversation() -> None:
    """smb_message_echoes: what the business typed in the WhatsApp Business app (Meta's reference:
    value.message_echoes[] with from = the business number, to = the customer)."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
        "message_echoes": [
            {
                "from": "15550783881",
                "to": CUSTOMER_PHONE,
                "id": "wamid.ECHO1",
                "timestamp": "1763892060",
                "type": "text",
                "text": {"body": "Te atiendo yo"},
            },
            {"from": "15550783881", "id": "wamid.NO_RECIPIENT", "type": "text", "text": {"body": "?"}},
        ],
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "smb_message_echoes", "value": value}]}],
    }
    parsed = whatsapp.parse_delivery(payload, "t1")
    [item] = parsed.items
    assert isinstance(item, InboundMessage)
    assert item.conversation_id == CONVERSATION
    assert (item.sender_id, item.sender_role, item.text) == ("15550783881", "agent", "Te atiendo yo")
    assert (item.metadata["is_echo"], item.metadata["echo_source"]) == ("true", "business_app")
    assert item.platform_message_id == "wamid.ECHO1"
    assert parsed.skipped == ["whatsapp message echo of type 'text' without id or recipient"]


@pytest.mark.parametrize(
    ("to", "customer"),
    [
        ("+58 412-555-0101", CUSTOMER_PHONE),
        ("+584125550101", CUSTOMER_PHONE),
        ("VE.1502576394655843", "VE.1502576394655843"),
    ],
)
def test_a_coexistence_echo_finds_the_customer_however_the_number_was_typed(to: str, customer: str) -> None:
    value = {
        "metadata": {"phone_number_id": PHONE_NUMBER_ID},
        "message_echoes": [{"from": "15550783881", "to": to, "id": "wamid.E", "type": "text", "text": {"body": "ok"}}],
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "smb_message_echoes", "value": value}]}],
    }
    [item] = whatsapp.parse_delivery(payload, "t1").items
    assert isinstance(item, InboundMessage)
    assert item.conversation_id == f"wa:{PHONE_NUMBER_ID}:{customer}"


@pytest.mark.parametrize("field", ["history", "smb_app_state_sync"])
def test_other_coexistence_fields_are_skipped(field: str) -> None:
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": field, "value": {}}]}],
    }
    parsed = whatsapp.parse_delivery(payload, "t1")
    assert parsed.items == [] and parsed.skipped == [f"whatsapp change field {field!r}"]


# -- one customer, several forms of the number (Brazil, Mexico, Argentina) -------------------------

NUMBER_FORMS = json.loads((Path(__file__).parents[2] / "fixtures/channels/whatsapp_number_forms.json").read_text())[
    "cases"
]


def _echo_to(to: str) -> InboundMessage:
    value = {
        "metadata": {"phone_number_id": PHONE_NUMBER_ID},
        "message_echoes": [{"from": "15550783881", "to": to, "id": "wamid.E", "type": "text", "text": {"body": "ok"}}],
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "smb_message_echoes", "value": value}]}],
    }
    [item] = whatsapp.parse_delivery(payload, "t1").items
    assert isinstance(item, InboundMessage)
    return item


@pytest.mark.parametrize("case", NUMBER_FORMS, ids=[case["name"] for case in NUMBER_FORMS])
def test_an_echo_to_another_form_of_the_number_names_the_customers_conversation_among_its_forms(case) -> None:
    echo = _echo_to(case["typed"])
    customers = whatsapp.conversation_id_for(PHONE_NUMBER_ID, case["wa_id"])
    assert echo.conversation_id != customers  # digits as typed: the reply side has to match them
    assert customers in whatsapp.same_customer_conversation_ids(echo.conversation_id)
    assert whatsapp.customer_key(echo.conversation_id) == whatsapp.customer_key(customers)
    assert whatsapp.canonical_number(case["wa_id"]) == whatsapp.canonical_number(
        whatsapp.typed_number_digits(case["typed"])
    )


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("552133334444", "5521933334444"),  # a Brazilian landline is not the mobile with a 9 before it
        ("584125550101", "5841255501011"),
        ("16505551234", "116505551234"),
        ("5215512345678", "5215512345679"),
    ],
)
def test_different_numbers_stay_different(one: str, other: str) -> None:
    assert whatsapp.canonical_number(one) != whatsapp.canonical_number(other)
    assert whatsapp.conversation_id_for("1", other) not in whatsapp.same_customer_conversation_ids(
        whatsapp.conversation_id_for("1", one)
    )


@pytest.mark.parametrize("number", ["584125550101", "16505551234", "447700900123", "VE.1502576394655843"])
def test_numbers_with_one_form_have_no_other_conversation(number: str) -> None:
    conversation = whatsapp.conversation_id_for(PHONE_NUMBER_ID, number)
    assert whatsapp.same_customer_conversation_ids(conversation) == [conversation]
    assert whatsapp.customer_key(conversation) == conversation


def test_a_huge_echo_recipient_is_parsed_in_linear_time() -> None:
    """The old pattern (digits, digit, digits) backtracked quadratically: 20,000 digits and a letter
    took about 8 s, 100,000 would take minutes. A functional bound, in a fresh interpreter."""
    code = (
        "from mostrador.channels import whatsapp\n"
        "for tail in ('x', '', ' '):\n"
        "    assert whatsapp.typed_number_digits('1' * 100_000 + tail) is None\n"
        "    assert whatsapp.typed_number_digits('+' + '1 ' * 50_000 + tail) is None\n"
        "assert whatsapp.typed_number_digits('+55 (21) 98765-4321') == '5521987654321'\n"
    )
    root = Path(__file__).parents[3]
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(root / "layers/shared/python"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    huge = _echo_to("1" * 100_000 + "x")
    assert huge.conversation_id.startswith(f"wa:{PHONE_NUMBER_ID}:1111")  # kept as an opaque id
