"""Figures for a range of whole UTC days (definitions in docs/admin.md).

* automation rate: of the conversations where a customer wrote in the range, the share the bot
  answered with no human involved in the range (no agent/Page message, no escalation, no takeover);
* time to reply: median and p90 of the bot's reply latency (the reply function's measurement, from
  picking the customer's message up to the platform accepting the answer);
* escalations by reason (their source), messages per channel and direction;
* LLM calls, tokens and estimated cost per day and model (prices: operations.pricing);
* catalog syncs started in the range with their item counts (the list itself: `syncs`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mostrador.db import operations_repository as ops_repo
from mostrador.db.catalog_repository import CatalogRepository
from mostrador.operations.conversations import iso
from mostrador.operations.paging import decode_cursor, encode_cursor
from mostrador.operations.pricing import PriceBook

if TYPE_CHECKING:
    from mostrador.db.connection import Connection
    from mostrador.operations.ranges import DayRange


def _money(value: Decimal) -> float:
    return float(round(value, 6))


def _number(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


def usage_per_day(rows: list[dict[str, Any]], prices: PriceBook) -> tuple[list[dict[str, Any]], list[str]]:
    days: dict[str, dict[str, Any]] = {}
    unpriced: set[str] = set()
    for row in rows:
        day = days.setdefault(
            row["day"].isoformat(),
            {"day": row["day"].isoformat(), "calls": 0, "tokensIn": 0, "tokensOut": 0, "_cost": Decimal(0)},
        )
        price = prices.price_for(row["model"])
        cost = price.cost(row["tokens_in"], row["tokens_out"]) if price is not None else None
        if price is None:
            unpriced.add(row["model"])
        else:
            day["_cost"] += cost
        day["calls"] += row["calls"]
        day["tokensIn"] += row["tokens_in"]
        day["tokensOut"] += row["tokens_out"]
        day.setdefault("byModel", []).append(
            {
                "provider": row["provider"],
                "model": row["model"],
                "purpose": row["purpose"],
                "calls": row["calls"],
                "tokensIn": row["tokens_in"],
                "tokensOut": row["tokens_out"],
                "estimatedCostUsd": _money(cost) if cost is not None else None,
                "pricedAs": price.model if price is not None else None,
            }
        )
    result = []
    for day in days.values():
        day["estimatedCostUsd"] = _money(day.pop("_cost"))
        result.append(day)
    return result, sorted(unpriced)


def analytics(conn: Connection, tenant_id: str, days: DayRange, prices: PriceBook) -> dict[str, Any]:
    since, until = days.start, days.end
    automation = ops_repo.automation_counts(conn, tenant_id, since, until)
    latency = ops_repo.reply_latency(conn, tenant_id, since, until)
    channels: dict[str, dict[str, int]] = {}
    for row in ops_repo.messages_by_channel(conn, tenant_id, since, until):
        counts = channels.setdefault(row["channel"], {"inbound": 0, "outbound": 0, "total": 0})
        counts[row["direction"]] = row["messages"]
        counts["total"] += row["messages"]
    usage, unpriced = usage_per_day(ops_repo.usage_by_day(conn, tenant_id, since, until), prices)
    syncs = ops_repo.sync_totals(conn, tenant_id, since, until)
    conversations = automation["conversations"]
    return {
        "range": {"since": days.first_day.isoformat(), "until": days.last_day.isoformat(), "timezone": "UTC"},
        "conversations": {
            "withCustomerMessages": conversations,
            "automated": automation["automated"],
            "withHuman": automation["with_human"],
            "unansweredByBot": automation["unanswered_by_bot"],
            "automationRate": round(automation["automated"] / conversations, 4) if conversations else None,
        },
        "timeToReplyMs": {
            "replies": latency["replies"],
            "median": _number(latency["median_ms"]),
            "p90": _number(latency["p90_ms"]),
        },
        "escalationsByReason": {
            row["source"]: {"escalations": row["escalations"], "stillOpen": row["still_open"]}
            for row in ops_repo.escalations_by_source(conn, tenant_id, since, until)
        },
        "messagesByChannel": channels,
        "llmUsageByDay": usage,
        "llmUsageTotal": {
            "calls": sum(d["calls"] for d in usage),
            "tokensIn": sum(d["tokensIn"] for d in usage),
            "tokensOut": sum(d["tokensOut"] for d in usage),
            "estimatedCostUsd": round(sum(d["estimatedCostUsd"] for d in usage), 6),
            "unpricedModels": unpriced,
        },
        "catalogSyncs": {
            "syncs": syncs["syncs"],
            "fullSyncs": syncs["full_syncs"],
            "finalized": syncs["finalized"],
            "received": syncs["received"],
            "processed": syncs["processed"],
            "unchanged": syncs["unchanged"],
            "failed": syncs["failed"],
            "deactivated": syncs["deactivated"],
        },
    }


def syncs(conn: Connection, tenant_id: str, days: DayRange, *, cursor: str | None, limit: int) -> dict[str, Any]:
    """Syncs started in the range, newest first, each with the catalog's own progress counts."""
    after = decode_cursor(cursor, datetime, str) if cursor else None
    rows = ops_repo.list_syncs(conn, tenant_id, days.start, days.end, after=after, limit=limit + 1)
    page, more = rows[:limit], len(rows) > limit
    catalog = CatalogRepository(conn)
    listed = []
    for row in page:
        status = catalog.sync_status(tenant_id, row["sync_id"]) or {"syncId": row["sync_id"]}
        listed.append({**status, "startedAt": iso(row["created_at"]), "finalizedAt": iso(row["finalized_at"])})
    return {
        "syncs": listed,
        "nextCursor": encode_cursor(page[-1]["created_at"], page[-1]["sync_id"]) if more else None,
    }
