from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mostrador.channels import messenger
from mostrador.messaging.model import InboundMessage, RoutedStatus
from tests.unit.channels.payloads import (
    APP_ID,
    IG_ACCOUNT_ID,
    INBOX_APP_ID,
    PAGE_ID,
    PSID,
    fb_event,
    messenger_delivery,
)


def _one(payload: dict) -> InboundMessage:
    parsed = messenger.parse_delivery(payload, "t1")
    assert parsed.skipped == []
    [item] = parsed.items
    assert isinstance(item, InboundMessage)
    return item


def test_customer_message() -> None:
    item = _one(messenger_delivery(fb_event(message={"mid": "m_1", "text": "Hola"}, timestamp=1763892000123)))
    assert item.channel == "messenger"
    assert item.conversation_id == f"fb:{PAGE_ID}:{PSID}"
    assert (item.sender_id, item.sender_role, item.text, item.media_kind) == (PSID, "customer", "Hola", "text")
    assert item.platform_message_id == "m_1"
    assert item.timestamp == datetime.fromtimestamp(1763892000.123, tz=UTC)  # milliseconds
    assert item.metadata["page_id"] == PAGE_ID


def test_instagram_message() -> None:
    payload = messenger_delivery(
        fb_event(sender="IGSID1", recipient=IG_ACCOUNT_ID, message={"mid": "aWdfZAG1", "text": "precio?"}),
        obj="instagram",
        account_id=IG_ACCOUNT_ID,
    )
    item = _one(payload)
    assert item.channel == "instagram"
    assert item.conversation_id == f"ig:{IG_ACCOUNT_ID}:IGSID1"


def test_echo_from_our_app_and_from_the_inbox() -> None:
    ours = _one(
        messenger_delivery(
            fb_event(
                sender=PAGE_ID,
                recipient=PSID,
                message={"mid": "m_2", "text": "Hola!", "is_echo": True, "app_id": int(APP_ID)},
            )
        )
    )
    assert ours.sender_role == "page"
    assert ours.metadata["app_id"] == APP_ID
    assert ours.metadata["is_echo"] == "true"
    # For an echo the customer is the recipient: same conversation as the customer's messages.
    assert ours.conversation_id == f"fb:{PAGE_ID}:{PSID}"
    assert ours.sender_id == PAGE_ID
    person = _one(
        messenger_delivery(
            fb_event(
                sender=PAGE_ID,
                recipient=PSID,
                message={"mid": "m_3", "text": "Te atiendo yo", "is_echo": True, "app_id": int(INBOX_APP_ID)},
            )
        )
    )
    assert (person.sender_role, person.metadata["app_id"]) == ("page", INBOX_APP_ID)


def test_instagram_echo() -> None:
    payload = messenger_delivery(
        fb_event(
            sender=IG_ACCOUNT_ID,
            recipient="IGSID1",
            message={"mid": "aWdfZAG2", "text": "hola", "is_echo": True, "app_id": 1},
        ),
        obj="instagram",
        account_id=IG_ACCOUNT_ID,
    )
    item = _one(payload)
    assert (item.sender_role, item.conversation_id) == ("page", f"ig:{IG_ACCOUNT_ID}:IGSID1")


def test_postback() -> None:
    item = _one(messenger_delivery(fb_event(postback={"title": "Ver catálogo", "payload": "CATALOG", "mid": "m_pb"})))
    assert (item.media_kind, item.text, item.platform_message_id) == ("postback", "Ver catálogo", "m_pb")
    assert item.metadata["postback_payload"] == "CATALOG"


def test_postback_without_mid_gets_a_stable_id() -> None:
    event = fb_event(postback={"title": "Empezar", "payload": "GET_STARTED"}, timestamp=1763892000999)
    first = _one(messenger_delivery(event))
    second = _one(messenger_delivery(event))
    assert first.platform_message_id == second.platform_message_id == f"postback:{PSID}:1763892000999"


def test_quick_reply() -> None:
    item = _one(
        messenger_delivery(fb_event(message={"mid": "m_q", "text": "Caracas", "quick_reply": {"payload": "CITY_CCS"}}))
    )
    assert (item.media_kind, item.text, item.metadata["quick_reply_payload"]) == ("interactive", "Caracas", "CITY_CCS")


def test_attachments() -> None:
    image = _one(
        messenger_delivery(
            fb_event(
                message={
                    "mid": "m_i",
                    "attachments": [{"type": "image", "payload": {"url": "https://cdn.example/1.jpg"}}],
                }
            )
        )
    )
    assert (image.media_kind, image.metadata["attachment_url"]) == ("image", "https://cdn.example/1.jpg")
    sticker = _one(
        messenger_delivery(
            fb_event(
                message={
                    "mid": "m_s",
                    "sticker_id": 369239263222822,
                    "attachments": [{"type": "image", "payload": {"url": "u", "sticker_id": 369239263222822}}],
                }
            )
        )
    )
    assert sticker.media_kind == "sticker"
    file = _one(
        messenger_delivery(
            fb_event(
                message={
                    "mid": "m_f",
                    "attachments": [
                        {"type": "file", "payload": {"url": "u"}},
                        {"type": "file", "payload": {"url": "v"}},
                    ],
                }
            )
        )
    )
    assert (file.media_kind, file.metadata["attachment_count"]) == ("document", "2")
    reel = _one(
        messenger_delivery(
            fb_event(message={"mid": "m_r", "attachments": [{"type": "ig_reel", "payload": {"url": "u"}}]})
        )
    )
    assert reel.media_kind == "unsupported"


def test_reply_to() -> None:
    item = _one(messenger_delivery(fb_event(message={"mid": "m_5", "text": "esa", "reply_to": {"mid": "m_4"}})))
    assert item.reply_to_message_id == "m_4"


def test_delivery_and_read_are_statuses() -> None:
    payload = messenger_delivery(
        fb_event(delivery={"mids": ["m_out1", "m_out2"], "watermark": 1763892000000}),
        fb_event(read={"watermark": 1763892001000}),
    )
    parsed = messenger.parse_delivery(payload, "t1")
    assert all(isinstance(item, RoutedStatus) for item in parsed.items)
    states = [(i.status.platform_message_id, i.status.status) for i in parsed.items if isinstance(i, RoutedStatus)]
    assert states == [("m_out1", "delivered"), ("m_out2", "delivered"), ("watermark:1763892001000", "read")]
    assert {i.conversation_id for i in parsed.items if isinstance(i, RoutedStatus)} == {f"fb:{PAGE_ID}:{PSID}"}


def test_instagram_read_names_the_message() -> None:
    payload = messenger_delivery(
        fb_event(sender="IGSID1", recipient=IG_ACCOUNT_ID, read={"mid": "aWdfOUT"}),
        obj="instagram",
        account_id=IG_ACCOUNT_ID,
    )
    [item] = messenger.parse_delivery(payload, "t1").items
    assert isinstance(item, RoutedStatus)
    assert (item.status.platform_message_id, item.status.status, item.status.channel) == (
        "aWdfOUT",
        "read",
        "instagram",
    )


def test_unknown_events_and_objects_are_skipped() -> None:
    parsed = messenger.parse_delivery(messenger_delivery(fb_event(optin={"ref": "landing"})), "t1")
    assert parsed.items == [] and parsed.skipped == ["messenger event optin"]
    parsed = messenger.parse_delivery({"object": "user", "entry": []}, "t1")
    assert parsed.items == [] and parsed.skipped


# -- unsend (is_deleted) and standby ----------------------------------------------------------------


def test_an_instagram_unsend_is_a_deletion_of_that_message_not_a_message() -> None:
    from mostrador.messaging.model import MessageDeletion

    payload = messenger_delivery(
        fb_event(sender="IGSID1", recipient=IG_ACCOUNT_ID, message={"mid": "aWdfZAG1", "is_deleted": True}),
        obj="instagram",
        account_id=IG_ACCOUNT_ID,
    )
    parsed = messenger.parse_delivery(payload, "t1")
    [item] = parsed.items
    assert isinstance(item, MessageDeletion)
    assert (item.platform_message_id, item.conversation_id, item.sender_role) == (
        "aWdfZAG1",
        f"ig:{IG_ACCOUNT_ID}:IGSID1",
        "customer",
    )


def test_an_unsent_echo_belongs_to_the_customer_it_was_sent_to() -> None:
    from mostrador.messaging.model import MessageDeletion

    payload = messenger_delivery(
        fb_event(
            sender=IG_ACCOUNT_ID,
            recipient="IGSID1",
            message={"mid": "aWdfECHO", "is_echo": True, "is_deleted": True},
        ),
        obj="instagram",
        account_id=IG_ACCOUNT_ID,
    )
    [item] = messenger.parse_delivery(payload, "t1").items
    assert isinstance(item, MessageDeletion)
    assert (item.conversation_id, item.sender_role) == (f"ig:{IG_ACCOUNT_ID}:IGSID1", "page")


def test_standby_events_are_parsed_and_marked() -> None:
    payload = {
        "object": "page",
        "entry": [
            {
                "id": PAGE_ID,
                "time": 1763892000123,
                "standby": [
                    fb_event(message={"mid": "m_sb1", "text": "hola"}),
                    fb_event(
                        sender=PAGE_ID,
                        recipient=PSID,
                        message={"mid": "m_sb2", "text": "te atiendo", "is_echo": True, "app_id": INBOX_APP_ID},
                    ),
                    fb_event(postback={"title": "Empezar"}),  # standby postbacks carry no payload
                    fb_event(delivery={"mids": ["m_out"], "watermark": 1}),
                ],
            }
        ],
    }
    parsed = messenger.parse_delivery(payload, "t1")
    assert parsed.skipped == []
    messages = [i for i in parsed.items if isinstance(i, InboundMessage)]
    assert [(m.platform_message_id, m.sender_role, m.metadata.get("standby")) for m in messages] == [
        ("m_sb1", "customer", "true"),
        ("m_sb2", "page", "true"),
        (f"postback:{PSID}:1763892000123", "customer", "true"),
    ]
    assert {m.conversation_id for m in messages} == {f"fb:{PAGE_ID}:{PSID}"}
    [status] = [i for i in parsed.items if isinstance(i, RoutedStatus)]
    assert status.status.platform_message_id == "m_out"


# -- reactions (message_reactions) ------------------------------------------------------------------


@pytest.mark.parametrize("obj", ["page", "instagram"])
def test_a_reaction_is_a_reaction_message_pointing_at_the_reacted_message(obj: str) -> None:
    reaction = {"mid": "m_OUR_REPLY", "action": "react", "emoji": "\u2764\ufe0f", "reaction": "love"}
    payload = messenger_delivery(fb_event(timestamp=1763892000123, reaction=reaction), obj=obj)
    [item] = messenger.parse_delivery(payload, "t1").items
    assert isinstance(item, InboundMessage)
    assert (item.media_kind, item.text, item.reply_to_message_id) == ("reaction", "\u2764\ufe0f", "m_OUR_REPLY")
    assert item.channel == ("instagram" if obj == "instagram" else "messenger")
    assert item.conversation_id == messenger.conversation_id_for(item.channel, PAGE_ID, PSID)
    assert item.sender_role == "customer"
    assert item.metadata["reacted_message_id"] == "m_OUR_REPLY" and item.metadata["reaction"] == "love"
    assert item.platform_message_id == f"reaction:m_OUR_REPLY:{PSID}:react:1763892000123"


def test_an_unreact_is_a_removal_and_each_reaction_event_has_its_own_id() -> None:
    def parse(action: str, timestamp: int, **extra: str) -> InboundMessage:
        event = fb_event(timestamp=timestamp, reaction={"mid": "m_1", "action": action, **extra})
        [item] = messenger.parse_delivery(messenger_delivery(event), "t1").items
        assert isinstance(item, InboundMessage)
        return item

    react = parse("react", 1, emoji="\U0001f44d", reaction="like")
    removal = parse("unreact", 2)  # Meta may leave out the emoji on an unreact
    again = parse("react", 3, emoji="\U0001f44d", reaction="like")
    assert (removal.media_kind, removal.text, removal.metadata["reaction_action"]) == ("reaction", "", "unreact")
    assert len({react.platform_message_id, removal.platform_message_id, again.platform_message_id}) == 3
    assert parse("react", 4, reaction="other").text == "other"  # no emoji: never mistaken for a removal


def test_a_reaction_in_standby_is_marked_so() -> None:
    payload = messenger_delivery(fb_event(reaction={"mid": "m_1", "action": "react", "emoji": "x"}))
    payload["entry"][0]["standby"] = payload["entry"][0].pop("messaging")
    [item] = messenger.parse_delivery(payload, "t1").items
    assert isinstance(item, InboundMessage) and item.metadata["standby"] == "true"
