"""Messenger and Instagram reactions (webhook field `message_reactions`) end to end: Meta's JSON
(tests/fixtures/channels) signed into the real webhook handler, over moto's FIFO reply queue, into
the real reply handler and database, with the fake Meta Graph server. Issue 13: a reaction is
recorded with the message it refers to and never answered; a removal (`unreact`) is never answered and
clears the reaction in the transcript."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from mostrador.operations.conversations import conversation_view
from tests.fakes.platforms import platforms_fixture  # noqa: F401
from tests.integration import test_reply_support as support
from tests.integration.channel_pipeline import ChannelPipeline, channel_pipeline_fixture, fixture  # noqa: F401

reply_env = support.reply_env

CHANNELS = {
    # channel: (customer's text, reaction, removal (None: the reaction with action "unreact"), conversation)
    "messenger": ("messenger_customer_text", "messenger_reaction", None, "fb:1122334455:6543210987654321"),
    "instagram": (
        "instagram_customer_text",
        "instagram_reaction",
        "instagram_unreact",
        "ig:17841400000000000:1234567890123456",
    ),
}


def _inbound(db: Any, conversation_id: str) -> list[dict[str, Any]]:
    return db.execute(
        "SELECT * FROM messages WHERE conversation_id = %s AND direction = 'inbound' ORDER BY id", (conversation_id,)
    ).fetchall()


@pytest.mark.parametrize("channel", sorted(CHANNELS))
def test_a_reaction_to_our_reply_is_recorded_never_answered_and_its_removal_is_ignored(
    channel_pipeline: ChannelPipeline, reply_env, db, channel: str
) -> None:
    text, reaction, removal, conversation = CHANNELS[channel]
    pipeline = channel_pipeline
    assert pipeline.post_meta(fixture(text)) == 200
    pipeline.run_replies()
    [answer] = reply_env.meta.sent()
    [reply] = db.execute(
        "SELECT id, platform_message_ids FROM messages WHERE conversation_id = %s AND direction = 'outbound'",
        (conversation,),
    ).fetchall()
    our_mid = reply["platform_message_ids"][0]

    assert pipeline.post_meta(fixture(reaction, {"REACTED_MID": our_mid})) == 200
    removed = fixture(removal or reaction, {"REACTED_MID": our_mid, "react": "unreact"})
    assert pipeline.post_meta(removed) == 200
    run = pipeline.run_replies()

    assert run.failed == 0 and pipeline.dead_lettered() == 0
    assert reply_env.meta.sent() == [answer]  # nothing sent for either
    _, liked, unliked = _inbound(db, conversation)
    assert (liked["media_kind"], liked["actor"], liked["state"], liked["state_reason"]) == (
        "reaction",
        "customer",
        "skipped",
        "reaction",
    )
    assert liked["text"] in ("\u2764\ufe0f", "\U0001f44d")
    assert (unliked["media_kind"], unliked["text"], unliked["state_reason"]) == ("reaction", "", "reaction_removed")
    # The transcript (admin API) shows what each refers to: our reply (`reaction.mid`); the removal clears it.
    view = conversation_view(db, "default", conversation, cursor=None, limit=50, now=datetime.now(UTC))
    shown = {m["id"]: m.get("reaction") for m in view["messages"]}
    assert shown[liked["id"]]["status"] == "removed" and shown[unliked["id"]]["status"] == "removal"
    assert shown[liked["id"]]["platformMessageId"] == shown[unliked["id"]]["platformMessageId"] == our_mid
    assert shown[liked["id"]]["to"]["id"] == shown[unliked["id"]]["to"]["id"] == reply["id"]
    assert shown[liked["id"]]["to"]["actor"] == "bot" and shown[liked["id"]]["emoji"] == liked["text"]


def test_a_reaction_redelivered_by_meta_is_recorded_once(channel_pipeline: ChannelPipeline, reply_env, db) -> None:
    pipeline = channel_pipeline
    same = fixture("instagram_reaction", {"REACTED_MID": "aWdfZAG1_OUR_REPLY", "NOW_MILLIS": 1796185407791})
    assert pipeline.post_meta(same) == 200
    pipeline.run_replies()
    assert pipeline.post_meta(same) == 200
    pipeline.run_replies()
    [row] = _inbound(db, CHANNELS["instagram"][3])
    assert row["state_reason"] == "reaction" and reply_env.meta.sent() == []
