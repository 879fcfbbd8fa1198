"""Escalations for support staff: the open ones with their reason and transcript, and resolving one
with a note (the reply side's own resolve; optionally ending the bot's pause at the same time)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mostrador.db import conversation_repository as conversations_repo
from mostrador.db import operations_repository as ops_repo
from mostrador.knowledge.library import suggest_from_resolution
from mostrador.observability import logger
from mostrador.operations.conversations import iso
from mostrador.operations.errors import Conflict, NotFound
from mostrador.operations.paging import decode_cursor, encode_cursor

if TYPE_CHECKING:
    from mostrador.db.connection import Connection
    from mostrador.operations.auth import Principal


def escalation_json(row: dict[str, Any], transcript: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    escalation = {
        "id": row["id"],
        "conversationId": row["conversation_id"],
        "channel": row["channel"],
        "customerId": row["customer_id"],
        "language": row["language"],
        "reason": row["reason"],
        "source": row["source"],
        "status": row["status"],
        "messageId": row["message_id"],
        "openedAt": iso(row["opened_at"]),
        "resolvedAt": iso(row["resolved_at"]),
        "note": row["note"],
    }
    if transcript is not None:
        escalation["transcript"] = [
            {
                "id": m["id"],
                "at": iso(m["created_at"]),
                "direction": m["direction"],
                "actor": m["actor"],
                "text": m["text"] or (f"[{m['media_kind']}]" if m["media_kind"] != "text" else ""),
            }
            for m in transcript
        ]
    return escalation


def list_escalations(
    conn: Connection, tenant_id: str, *, status: str | None, cursor: str | None, limit: int, transcript_messages: int
) -> dict[str, Any]:
    (after_id,) = decode_cursor(cursor, int) if cursor else (0,)
    rows = ops_repo.list_escalations(conn, tenant_id, status=status, after_id=after_id, limit=limit + 1)
    page, more = rows[:limit], len(rows) > limit
    transcripts: dict[str, list[dict[str, Any]]] = {}
    conversation_ids = sorted({row["conversation_id"] for row in page})
    for message in ops_repo.latest_messages(conn, tenant_id, conversation_ids, transcript_messages):
        transcripts.setdefault(message["conversation_id"], []).append(message)
    return {
        "escalations": [escalation_json(row, transcripts.get(row["conversation_id"], [])) for row in page],
        "nextCursor": encode_cursor(page[-1]["id"]) if more else None,
    }


def resolve(
    conn: Connection, tenant_id: str, escalation_id: int, *, note: str, resume_bot: bool, principal: Principal
) -> dict[str, Any]:
    row = ops_repo.get_escalation(conn, tenant_id, escalation_id)
    if row is None:
        raise NotFound(f"no escalation {escalation_id}")
    with conn.transaction():
        if not conversations_repo.resolve_escalation(conn, tenant_id, escalation_id, note):
            raise Conflict(f"escalation {escalation_id} is already resolved")
        resumed = resume_bot and conversations_repo.resume_conversation(conn, tenant_id, row["conversation_id"])
        # The note may answer what the customer asked: offer it as an FAQ entry for a person to approve.
        suggestion = suggest_from_resolution(conn, tenant_id, escalation_id, note)
        ops_repo.record_operator_action(
            conn,
            tenant_id,
            action="resolve_escalation",
            actor=principal.subject,
            role=principal.role,
            conversation_id=row["conversation_id"],
            detail={"escalationId": escalation_id, "resumedBot": resumed},
        )
    logger.info("escalation resolved", extra={"escalation_id": escalation_id, "by": principal.subject})
    resolved = ops_repo.get_escalation(conn, tenant_id, escalation_id)
    assert resolved is not None
    suggestion_id = suggestion["id"] if suggestion else None
    return {**escalation_json(resolved), "botResumed": resumed, "suggestionId": suggestion_id}
