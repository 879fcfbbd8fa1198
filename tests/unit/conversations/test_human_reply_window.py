"""When a person may write to a customer from the console (conversations/window.py human_reply_window)."""

from datetime import UTC, datetime, timedelta

import pytest

from mostrador.conversations.window import HUMAN_AGENT_TAG, human_reply_window

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)


def test_inside_24_hours_every_meta_channel_is_open_without_a_tag():
    last = NOW - timedelta(hours=23)
    for channel, metadata in (
        ("whatsapp", {}),
        ("messenger", {}),
        ("instagram", {}),
        ("support_board", {"conversation_source": "wa"}),
    ):
        window = human_reply_window(channel, metadata, last, NOW)
        assert window.applies and window.open and window.tag is None and window.reason is None
        assert window.closes_at == last + timedelta(hours=24)


@pytest.mark.parametrize("channel", ["messenger", "instagram"])
def test_messenger_and_instagram_take_a_persons_reply_with_the_human_agent_tag_for_7_days(channel):
    tagged = human_reply_window(channel, {}, NOW - timedelta(days=6, hours=23), NOW)
    assert tagged.open and tagged.tag == HUMAN_AGENT_TAG and tagged.reason == "human_agent_tag"
    assert tagged.closes_at == NOW - timedelta(days=6, hours=23) + timedelta(days=7)
    closed = human_reply_window(channel, {}, NOW - timedelta(days=7), NOW)
    assert not closed.open and closed.tag is None and closed.reason == "closed_human_agent"


@pytest.mark.parametrize(
    ("channel", "metadata"),
    [
        ("whatsapp", {}),
        ("support_board", {"conversation_source": "wa"}),
        ("support_board", {"conversation_source": "fb"}),
    ],
)
def test_whatsapp_and_support_board_relays_close_after_24_hours_with_no_tag(channel, metadata):
    window = human_reply_window(channel, metadata, NOW - timedelta(hours=24), NOW)
    assert window.applies and not window.open and window.reason == "closed" and window.tag is None


def test_no_window_where_meta_has_none_and_no_reply_before_the_customer_writes():
    assert human_reply_window("webchat", {}, NOW - timedelta(days=30), NOW).open
    assert human_reply_window("support_board", {"conversation_source": "email"}, None, NOW).open
    never = human_reply_window("whatsapp", {}, None, NOW)
    assert not never.open and never.reason == "no_customer_message"
