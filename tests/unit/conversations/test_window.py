from datetime import UTC, datetime, timedelta

from mostrador.conversations.window import window_applies, window_open

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)


def test_window_is_24_hours_from_the_customers_last_message():
    assert window_open(NOW - timedelta(hours=23, minutes=59), NOW)
    assert not window_open(NOW - timedelta(hours=24), NOW)
    assert not window_open(None, NOW)


def test_window_applies_to_meta_channels_and_support_board_relays_of_them():
    assert window_applies("whatsapp", {})
    assert window_applies("instagram", {})
    assert window_applies("support_board", {"conversation_source": "wa"})
    assert not window_applies("support_board", {"conversation_source": "email"})
    assert not window_applies("webchat", {})
