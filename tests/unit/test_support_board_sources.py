"""The Support Board source lookup the console's reply window uses (operations/agent_reply.py)."""

from __future__ import annotations

from typing import Any

from mostrador.channels.base import TransientSendError
from mostrador.operations.agent_reply import SupportBoardSourceCache


class Conversations:
    """Stands in for Support Board's get-conversation (another system)."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.fail = False

    def conversation(self, conversation_id: str) -> dict[str, Any]:
        self.asked.append(conversation_id)
        if self.fail:
            raise TransientSendError("Support Board get-conversation: HTTP 503", code="http_503")
        return {"details": {"source": " WA " if conversation_id == "1" else ""}, "messages": []}


def test_the_source_is_asked_once_per_conversation_for_a_while_and_failures_are_not_remembered():
    board, now = Conversations(), [0.0]
    sources = SupportBoardSourceCache(board, ttl_seconds=60, clock=lambda: now[0])
    assert sources.conversation_source("1") == "wa"
    assert sources.conversation_source("1") == "wa"
    assert sources.conversation_source("2") is None  # no source: nothing Meta relays
    assert board.asked == ["1", "2"]
    now[0] = 61
    board.fail = True
    assert sources.conversation_source("1") is None
    board.fail = False
    assert sources.conversation_source("1") == "wa"
    assert board.asked == ["1", "2", "1", "1"]
