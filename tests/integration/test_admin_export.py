"""Export through the admin API: files that open (csv, openpyxl, json), one row per message of the
conversations the real reply handler produced, paged with a cursor by rows and by bytes."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

from openpyxl import load_workbook

from tests.fakes.platforms import platforms_fixture  # noqa: F401
from tests.integration import test_admin_support as support
from tests.integration.test_reply_support import deliver, messenger, whatsapp

admin, reply_env = support.admin, support.reply_env

COLUMNS = [
    "message_id",
    "conversation_id",
    "customer_id",
    "channel",
    "language",
    "timestamp",
    "direction",
    "actor",
    "text",
    "latency_ms",
    "cited_knowledge",
]
FORMULA = '=HYPERLINK("http://evil.example","clic")'


def _days() -> dict[str, str]:
    today = datetime.now(UTC).date()
    return {"since": str(today - timedelta(days=1)), "until": str(today + timedelta(days=1))}


def _conversations() -> None:
    deliver(whatsapp("¿Tienen café de Mérida? Ñandú", sender="111"))
    deliver(whatsapp(FORMULA, sender="111"))
    deliver(whatsapp("hello, do you have fridges?", sender="222"))
    deliver(messenger("hola por messenger"))


def _expected(db) -> list[dict]:
    """Every logged message, from the database the reply handler wrote."""
    return db.execute(
        "SELECT m.id, m.conversation_id, c.customer_id, m.channel, m.direction, m.actor, m.text, m.latency_ms"
        " FROM messages m JOIN conversations c USING (tenant_id, conversation_id) ORDER BY m.id"
    ).fetchall()


def _csv_rows(raw: bytes) -> list[dict[str, str]]:
    assert raw.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def test_csv_xlsx_and_json_open_and_hold_one_row_per_message(admin, db):
    _conversations()
    expected = _expected(db)
    assert len(expected) == 8  # four questions, four answers

    answer = admin.call("GET", "/admin/export", query={**_days(), "format": "csv"})
    assert answer.status == 200 and answer.headers["Content-Type"].startswith("text/csv")
    assert answer.headers["Content-Disposition"].startswith('attachment; filename="conversations-')
    assert "X-Next-Cursor" not in answer.headers and answer.headers["X-Export-Rows"] == "8"
    assert not answer.base64_encoded  # text reaches the caller as text through API Gateway
    rows = _csv_rows(answer.raw)
    assert list(rows[0]) == COLUMNS
    assert [int(r["message_id"]) for r in rows] == [e["id"] for e in expected]
    for row, message in zip(rows, expected, strict=True):
        assert (row["conversation_id"], row["customer_id"], row["channel"]) == (
            message["conversation_id"],
            message["customer_id"],
            message["channel"],
        )
        assert (row["direction"], row["actor"]) == (message["direction"], message["actor"])
        assert row["latency_ms"] == ("" if message["latency_ms"] is None else str(message["latency_ms"]))
        assert datetime.fromisoformat(row["timestamp"]).tzinfo is not None
    assert rows[0]["text"] == "¿Tienen café de Mérida? Ñandú" and rows[0]["language"] == "es"
    assert rows[2]["text"] == "'" + FORMULA  # neutralised for spreadsheet programs
    assert rows[4]["language"] == "en" and rows[5]["actor"] == "bot" and rows[5]["latency_ms"].isdigit()

    answer = admin.call("GET", "/admin/export", query={**_days(), "format": "xlsx"})
    assert answer.status == 200 and answer.headers["Content-Type"].endswith("spreadsheetml.sheet")
    assert answer.base64_encoded  # bytes: the API lists this media type as binary
    sheet = load_workbook(io.BytesIO(answer.raw))["messages"]  # (read_only mode would trim empty trailing cells)
    cells = list(sheet.values)
    assert list(cells[0]) == COLUMNS and len(cells) == 9
    assert [row[0] for row in cells[1:]] == [e["id"] for e in expected]
    assert cells[3][8] == FORMULA  # kept as text: the workbook holds no formula
    assert isinstance(cells[1][5], datetime) and cells[1][8] == "¿Tienen café de Mérida? Ñandú"
    assert [row[9] for row in cells[1:]] == [e["latency_ms"] for e in expected]

    answer = admin.call("GET", "/admin/export", query={**_days(), "format": "json"})
    document = json.loads(answer.raw)
    assert document["columns"] == COLUMNS and document["nextCursor"] is None
    assert [r["message_id"] for r in document["rows"]] == [e["id"] for e in expected]
    assert [r["text"] for r in document["rows"]] == [e["text"] for e in expected]


def test_one_customer_and_an_empty_range(admin, db):
    _conversations()
    answer = admin.call("GET", "/admin/export", query={**_days(), "format": "json", "customer": "222"})
    rows = json.loads(answer.raw)["rows"]
    assert [(r["customer_id"], r["direction"]) for r in rows] == [("222", "inbound"), ("222", "outbound")]
    past = str(datetime.now(UTC).date() - timedelta(days=3))
    empty = admin.call("GET", "/admin/export", query={"since": past, "until": past, "format": "csv"})
    assert empty.status == 200 and _csv_rows(empty.raw) == [] and empty.raw.decode("utf-8-sig").startswith("message_id")
    workbook = admin.call("GET", "/admin/export", query={"since": past, "until": past, "format": "xlsx"})
    assert list(load_workbook(io.BytesIO(workbook.raw))["messages"].values) == [tuple(COLUMNS)]


def test_a_large_export_is_fetched_page_by_page(admin, db):
    _conversations()
    expected = [e["id"] for e in _expected(db)]
    for file_format in ("csv", "xlsx", "json"):
        ids, cursor, pages = [], None, 0
        while True:
            query = {**_days(), "format": file_format, "limit": "3", **({"cursor": cursor} if cursor else {})}
            answer = admin.call("GET", "/admin/export", query=query)
            assert answer.status == 200
            if file_format == "csv":
                ids += [int(r["message_id"]) for r in _csv_rows(answer.raw)]
            elif file_format == "xlsx":
                ids += [row[0] for row in list(load_workbook(io.BytesIO(answer.raw)).active.values)[1:]]
            else:
                ids += [r["message_id"] for r in json.loads(answer.raw)["rows"]]
            pages += 1
            cursor = answer.headers.get("X-Next-Cursor")
            if file_format == "json":
                assert json.loads(answer.raw)["nextCursor"] == cursor
            if cursor is None:
                break
        assert ids == expected and pages == 3, file_format


def test_the_byte_budget_ends_a_page_before_the_row_limit(admin, db):
    from mostrador.db.connection import get_connection
    from mostrador.operations.export import export_page
    from mostrador.operations.ranges import DayRange

    _conversations()
    today = datetime.now(UTC).date()
    days = DayRange.of(today - timedelta(days=1), today + timedelta(days=1))
    conn = get_connection()
    seen, cursor = [], None
    while True:
        # Budget of 1 byte: every page still carries one row, so the export always moves forward.
        page = export_page(conn, "default", days, file_format="json", customer_id=None, cursor=cursor, max_bytes=1)
        rows = json.loads(page.body)["rows"]
        assert len(rows) == 1 and page.rows == 1
        seen.append(rows[0]["message_id"])
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [e["id"] for e in _expected(db)]
    # The server-side cursor's transaction is over: the shared connection is idle again.
    assert conn.info.transaction_status.name == "IDLE"


def test_export_inputs_are_validated(admin, db):
    days = _days()
    for query, hint in (
        ({**days, "format": "pdf"}, "format"),
        ({"until": days["until"]}, "since"),
        ({"since": days["until"], "until": days["since"]}, "since must not be after until"),
        ({**days, "limit": "0"}, "limit"),
        ({**days, "cursor": "bm9wZQ"}, "cursor"),
        ({**days, "customer": ""}, "customer"),
    ):
        answer = admin.call("GET", "/admin/export", query=query)
        assert answer.status in (400, 422) and hint in answer.json["error"], (query, answer.json)
