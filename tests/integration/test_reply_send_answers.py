"""What the platforms answer a send, end to end: a Support Board `message-sent` webhook (or a WhatsApp
message) through the real webhook handler, moto's FIFO reply queue with its dead-letter queue after
five receives, the real reply handler, the real database, and the fake Support Board / Meta servers
answering in each documented shape (tests/fixtures/channels/support_board_answers.json).
Issue 14 items 11 (every answer shape of messenger-send-message) and 12 (permanent failures are
recorded once; retries that run out end `failed`, never `pending`)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes.platforms import platforms_fixture  # noqa: F401
from tests.integration import test_reply_support as support
from tests.integration.channel_pipeline import MAX_RECEIVES, ChannelPipeline, channel_pipeline_fixture, fixture  # noqa: F401

reply_env = support.reply_env

SB_CONVERSATION = "sb:900"
SB_MESSAGE = "sb:9001"
ANSWERS = fixture("support_board_answers")


def _instagram_relay(reply_env) -> None:
    """A Support Board conversation relaying Instagram: customer 77 with their IGSID, the account id."""
    board = reply_env.support_board
    board.add_user("77", **{"facebook-id": "IGSID77"})
    board.add_conversation("900", user_id="77", source="ig", extra="17841400000000000")


def _reply(db: Any) -> dict[str, Any]:
    [reply] = support.replies(db, SB_CONVERSATION)
    return reply


# -- item 11: every documented answer of messenger-send-message -----------------------------------


@pytest.mark.parametrize(
    ("shape", "ids"),
    [
        ("messenger_list", ["m_SB_LIST_1"]),  # the documented shape: one Meta answer per message sent
        ("messenger_list_as_string", ["m_SB_STRING_1"]),  # the same, JSON-encoded inside the JSON
        ("messenger_object", ["m_SB_OBJECT_1"]),  # Meta's answer unwrapped
        ("messenger_true", []),  # sent, no id given
    ],
)
def test_each_success_shape_is_recorded_sent_and_copied_to_the_dashboard(
    channel_pipeline: ChannelPipeline, reply_env, db, shape: str, ids: list[str]
) -> None:
    _instagram_relay(reply_env)
    board = reply_env.support_board
    board.answer_next("messenger-send-message", ANSWERS[shape])
    assert channel_pipeline.post_support_board(fixture("support_board_message_sent")) == 200
    run = channel_pipeline.run_replies()
    assert run.failed == 0
    reply = _reply(db)
    assert (reply["status"], reply["error_code"], reply["platform_message_ids"]) == ("sent", None, ids)
    inbound = support.inbound_row(db, SB_MESSAGE)
    assert (inbound["state"], inbound["state_reason"]) == ("replied", None)
    [send] = board.calls("messenger-send-message")
    assert (send["psid"], send["facebook_page_id"]) == ("IGSID77", "17841400000000000")
    [copy] = board.calls("send-message")  # agents see the reply in Support Board
    assert (copy["user_id"], copy["conversation_id"], copy["message"]) == (support.DM_BOT, "900", reply["text"])


def test_the_fakes_default_answer_is_the_documented_list(channel_pipeline: ChannelPipeline, reply_env, db) -> None:
    _instagram_relay(reply_env)
    channel_pipeline.post_support_board(fixture("support_board_message_sent"))
    channel_pipeline.run_replies()
    reply = _reply(db)
    assert reply["status"] == "sent" and reply["platform_message_ids"][0].startswith("m_SB")
    assert len(reply_env.support_board.calls("send-message")) == 1


@pytest.mark.parametrize(
    ("shape", "code"),
    [
        ("messenger_list_meta_error_10", "10"),  # outside the messaging window
        ("messenger_list_meta_error_551", "551"),  # this person isn't available
        ("messenger_object_meta_error_551", "551"),
    ],
)
def test_meta_refusals_inside_either_shape_are_permanent_with_metas_code(
    channel_pipeline: ChannelPipeline, reply_env, db, capsys, shape: str, code: str
) -> None:
    _instagram_relay(reply_env)
    board = reply_env.support_board
    board.answer_next("messenger-send-message", ANSWERS[shape])
    channel_pipeline.post_support_board(fixture("support_board_message_sent"))
    run = channel_pipeline.run_replies()
    assert (run.records, run.failed) == (1, 0)  # handled once, not retried
    reply = _reply(db)
    assert (reply["status"], reply["error_code"]) == ("failed", code)
    assert f"Meta error {code}" in reply["error_title"]
    inbound = support.inbound_row(db, SB_MESSAGE)
    assert (inbound["state"], inbound["state_reason"]) == ("failed", f"send_failed:{code}")
    assert board.calls("send-message") == []  # nothing copied: the customer never got it
    assert "PermanentSendFailures" in capsys.readouterr().out
    assert channel_pipeline.dead_lettered() == 0


def test_a_rate_limit_inside_the_list_is_retried_and_then_sent_once(
    channel_pipeline: ChannelPipeline, reply_env, db
) -> None:
    _instagram_relay(reply_env)
    board = reply_env.support_board
    board.answer_next("messenger-send-message", ANSWERS["messenger_list_meta_error_613"])
    channel_pipeline.post_support_board(fixture("support_board_message_sent"))
    run = channel_pipeline.run_replies()
    assert (run.records, run.failed) == (2, 1)
    assert _reply(db)["status"] == "sent"
    assert len(board.calls("messenger-send-message")) == 2
    assert len(board.calls("send-message")) == 1


# -- item 12: permanent answers are recorded once; exhausted retries end failed ------------------


def test_user_not_found_is_permanent_recorded_once_with_the_reason(
    channel_pipeline: ChannelPipeline, reply_env, db, capsys
) -> None:
    board = reply_env.support_board
    board.add_conversation("900", user_id="77", source="wa")  # the customer's user is gone
    payload = fixture("support_board_message_sent", {"ig": "wa"})
    assert channel_pipeline.post_support_board(payload) == 200
    run = channel_pipeline.run_replies()
    assert (run.records, run.failed) == (1, 0)
    assert channel_pipeline.dead_lettered() == 0 and channel_pipeline.queued() == 0
    reply = _reply(db)
    assert (reply["status"], reply["error_code"]) == ("failed", "support_board:user-not-found")
    assert "user-not-found" in reply["error_title"]
    inbound = support.inbound_row(db, SB_MESSAGE)
    assert (inbound["state"], inbound["state_reason"]) == ("failed", "send_failed:support_board:user-not-found")
    assert len(board.calls("get-user")) == 1
    assert reply_env.meta.sent() == []
    assert "PermanentSendFailures" in capsys.readouterr().out


def test_messenger_send_success_false_is_permanent(channel_pipeline: ChannelPipeline, reply_env, db) -> None:
    _instagram_relay(reply_env)
    reply_env.support_board.answer_next("messenger-send-message", ANSWERS["user_not_found"])
    channel_pipeline.post_support_board(fixture("support_board_message_sent"))
    run = channel_pipeline.run_replies()
    assert (run.records, run.failed) == (1, 0)
    assert (_reply(db)["status"], _reply(db)["error_code"]) == ("failed", "support_board:user-not-found")


def test_conversation_not_found_is_permanent_recorded_once_with_the_reason(
    channel_pipeline: ChannelPipeline, reply_env, db
) -> None:
    # No such conversation in Support Board: its history (the takeover check) cannot be read.
    assert channel_pipeline.post_support_board(fixture("support_board_message_sent")) == 200
    run = channel_pipeline.run_replies()
    assert (run.records, run.failed) == (1, 0)
    assert channel_pipeline.dead_lettered() == 0
    inbound = support.inbound_row(db, SB_MESSAGE)
    assert inbound["state"] == "failed"
    assert inbound["state_reason"] == "history_failed:support_board:conversation-not-found"
    assert len(reply_env.support_board.calls("get-conversation")) == 1
    assert support.replies(db, SB_CONVERSATION) == []  # nothing was generated for a conversation we cannot reach


def test_a_graph_5xx_that_outlasts_every_retry_ends_failed_not_pending(
    channel_pipeline: ChannelPipeline, reply_env, db, capsys
) -> None:
    reply_env.meta.fail_next(http_status=503, times=MAX_RECEIVES)
    payload = fixture("whatsapp_customer_text")
    assert channel_pipeline.post_whatsapp(payload) == 200
    run = channel_pipeline.run_replies()
    assert run.receive_counts == list(range(1, MAX_RECEIVES + 1))
    assert run.failed == MAX_RECEIVES - 1  # the last attempt records the failure instead of failing again
    assert channel_pipeline.dead_lettered() == 0 and channel_pipeline.queued() == 0
    wamid = payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    inbound = support.inbound_row(db, wamid)
    assert (inbound["state"], inbound["state_reason"]) == ("failed", "send_failed:http_503")
    [reply] = support.replies(db, inbound["conversation_id"])
    assert (reply["status"], reply["error_code"]) == ("failed", "http_503")
    assert "retries exhausted" in reply["error_title"]
    assert len(reply_env.meta.sent()) == MAX_RECEIVES  # the same stored text each time, never regenerated
    assert len(set(reply_env.meta.sent_texts())) == 1
    assert "PermanentSendFailures" in capsys.readouterr().out


def test_a_graph_5xx_that_clears_before_the_last_retry_is_sent(
    channel_pipeline: ChannelPipeline, reply_env, db
) -> None:
    reply_env.meta.fail_next(http_status=503, times=MAX_RECEIVES - 1)
    payload = fixture("whatsapp_customer_text")
    channel_pipeline.post_whatsapp(payload)
    run = channel_pipeline.run_replies()
    assert run.failed == MAX_RECEIVES - 1
    wamid = payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    inbound = support.inbound_row(db, wamid)
    assert inbound["state"] == "replied"
    assert support.replies(db, inbound["conversation_id"])[0]["status"] == "sent"
