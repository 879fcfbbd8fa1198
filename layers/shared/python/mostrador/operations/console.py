"""What the admin console reads beyond the plain admin API (who is signed in: GET /admin/me, access.me): the
inbox with each conversation's state, a conversation's latest messages with the tool calls behind each
bot reply and the reply window, the catalog searched as the bot searches it, a sync's failed items.

The page offers only what `permissions` allow, never what a role name suggests: roles change (tenants
bring owner/agent/viewer/operator), the permission names stay.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from mostrador.db import console_repository as console_repo
from mostrador.operations.console_privacy import MASK, SHOWN_CHARACTERS
from mostrador.operations.conversations import conversation_json, conversation_view, iso
from mostrador.operations.paging import decode_cursor, encode_cursor

if TYPE_CHECKING:
    from mostrador.conversations.toolbox import Catalog
    from mostrador.db.connection import Connection

# Messages a transcript shows (the latest ones); the admin API pages through the rest.
TRANSCRIPT_MESSAGES = 200
# Fields a product card may carry its search score in, best known first (catalog/search.py decides).
SCORE_FIELDS = ("relevance", "score", "similarity")
# How much of a cited knowledge passage the transcript shows (the whole passage stays in the knowledge base).
EXCERPT_CHARACTERS = 280


def inbox(
    conn: Connection,
    tenant_id: str,
    *,
    channel: str | None,
    state: str | None,
    text: str | None,
    cursor: str | None,
    limit: int,
    now: datetime,
    ids_shown: bool = True,
) -> dict[str, Any]:
    """Conversations, most recently active first, each with `state`: bot (answering), paused (taken over,
    nobody wrote yet), human (a person answered and the bot stays quiet), escalated (an open escalation).

    `text` matches message words and ids. For a caller who sees customer ids masked (`ids_shown` False) it
    matches of the ids only what that caller is shown, the customer id's last characters ("9002" or
    "••••9002"): typing a whole phone number or PSID must not tell which conversation is that person's."""
    after = decode_cursor(cursor, datetime, str) if cursor else None
    id_tail = None
    if text and not ids_shown:
        tail = text.replace(MASK[0], "").strip()
        id_tail = (tail if len(tail) <= SHOWN_CHARACTERS else "", SHOWN_CHARACTERS)
    rows = console_repo.inbox(
        conn, tenant_id, channel=channel, state=state, text=text, now=now, after=after, limit=limit + 1, id_tail=id_tail
    )
    page, more = rows[:limit], len(rows) > limit
    return {
        "conversations": [{**conversation_json(row, now), "state": row["state"]} for row in page],
        "nextCursor": encode_cursor(page[-1]["activity_at"], page[-1]["conversation_id"]) if more else None,
    }


def _tool_call_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "tool": row["tool_name"],
        "round": row["round"],
        "arguments": row["arguments"],
        "resultCount": row["result_count"],
        "error": row["error"],
        "latencyMs": row["latency_ms"],
    }


def conversation_detail(
    conn: Connection, tenant_id: str, conversation_id: str, *, window: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """The conversation, its state and reply window, and its latest messages oldest first; each bot
    reply carries the tool calls made to write it (and the products and knowledge they cited)."""
    after_id, earlier = console_repo.start_of_latest(conn, tenant_id, conversation_id, TRANSCRIPT_MESSAGES)
    view = conversation_view(
        conn,
        tenant_id,
        conversation_id,
        cursor=encode_cursor(after_id) if after_id else None,
        limit=TRANSCRIPT_MESSAGES,
        now=now,
    )
    answered = [m["inReplyTo"] for m in view["messages"] if m["direction"] == "outbound" and m.get("inReplyTo")]
    calls: dict[int, list[dict[str, Any]]] = {}
    for row in console_repo.tool_calls(conn, tenant_id, answered):
        calls.setdefault(row["message_id"], []).append(_tool_call_json(row))
    people = [m["id"] for m in view["messages"] if m["direction"] == "outbound" and m["actor"] == "agent"]
    senders = console_repo.senders(conn, tenant_id, people)
    for message in view["messages"]:
        if message["direction"] == "outbound":
            message["toolCalls"] = calls.get(message.get("inReplyTo") or -1, [])
            message["sentBy"] = senders.get(message["id"])
    _add_excerpts(conn, tenant_id, view["messages"])
    return {
        "conversation": {
            **view["conversation"],
            "state": console_repo.conversation_state(conn, tenant_id, conversation_id, now=now),
        },
        "window": window,
        "messages": view["messages"],
        "earlierMessages": earlier,
    }


def _add_excerpts(conn: Connection, tenant_id: str, messages: list[dict[str, Any]]) -> None:
    """Each knowledge citation gets `excerpt`: the start of the passage's text as the knowledge base holds it
    now (null once its document was deleted or re-split)."""
    cited = [
        entry
        for message in messages
        for entry in message.get("citedKnowledge") or []
        if isinstance(entry, dict) and isinstance(entry.get("documentId"), int) and isinstance(entry.get("chunk"), int)
    ]
    found = console_repo.knowledge_excerpts(
        conn, tenant_id, sorted({(e["documentId"], e["chunk"]) for e in cited}), EXCERPT_CHARACTERS
    )
    for entry in cited:
        text = found.get((entry["documentId"], entry["chunk"]))
        entry["excerpt"] = " ".join(text.split()) + ("…" if len(text) >= EXCERPT_CHARACTERS else "") if text else None


def lookup_products(
    catalog: Catalog,
    tenant_id: str,
    query: str,
    *,
    brand: str | None,
    category: str | None,
    in_stock: bool,
    branch: str | None,
    limit: int,
) -> dict[str, Any]:
    """The catalog searched exactly as the reply tools search it, best first, with whatever score the
    search gives each product (`scoreField` names it; null when the search gives none)."""
    cards = catalog.search(
        tenant_id,
        query,
        brand=brand,
        category=category,
        min_price=None,
        max_price=None,
        in_stock=in_stock,
        branch=branch,
        limit=limit,
    )
    score_field = next((name for name in SCORE_FIELDS if any(name in card for card in cards)), None)
    products = [
        {"rank": rank, **card, "score": card.get(score_field) if score_field else None}
        for rank, card in enumerate(cards, start=1)
    ]
    return {"query": query, "products": products, "scoreField": score_field}


def sync_failures(conn: Connection, tenant_id: str, sync_id: str, *, limit: int) -> dict[str, Any]:
    rows = console_repo.sync_failures(conn, tenant_id, sync_id, limit)
    return {
        "syncId": sync_id,
        "failures": [
            {
                "itemCode": row["item_code"],
                "warehouse": row["warehouse"],
                "error": row["error"],
                "attempts": row["attempts"],
                "final": row["final"],
                "at": iso(row["updated_at"]),
            }
            for row in rows
        ],
    }
