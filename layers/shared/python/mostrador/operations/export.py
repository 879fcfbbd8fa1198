"""Conversation export: one row per message (conversation, customer, channel, language, timestamp,
direction, actor, text, latency, and for a bot reply the knowledge passages it cited) as CSV, XLSX or
JSON. Citations are a list in JSON and that list as JSON text in a CSV or XLSX cell (empty when none).

Rows are read through a server-side cursor and written straight into the file, and a page stops at
a row limit or a byte budget, whichever comes first: a Lambda answer through API Gateway is buffered
and at most ~6 MB (binary bodies travel base64-encoded, a third bigger). The answer then carries a
cursor for the next page (docs/admin.md shows the loop). Nothing ever holds the whole export.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Generator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from mostrador.db import operations_repository as ops_repo
from mostrador.db.operations_repository import EXPORT_COLUMNS
from mostrador.operations.paging import decode_cursor, encode_cursor

if TYPE_CHECKING:
    from mostrador.db.connection import Connection
    from mostrador.operations.ranges import DayRange

ExportFormat = Literal["csv", "xlsx", "json"]

CONTENT_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
# Text bodies go out as they are; XLSX goes base64-encoded (4/3) plus the zip container.
BYTE_BUDGETS: dict[str, int] = {"csv": 4_500_000, "json": 4_500_000, "xlsx": 3_000_000}
DEFAULT_ROWS = 10_000
MAX_ROWS = 50_000
# Spreadsheet programs run cells starting with these as formulas (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ExportPage:
    body: bytes
    content_type: str
    filename: str
    rows: int
    next_cursor: str | None


class _PageWriter(Protocol):
    @property
    def size(self) -> int: ...

    def write(self, row: dict[str, Any]) -> None: ...

    def finish(self, next_cursor: str | None) -> bytes: ...


def _export_values(row: dict[str, Any]) -> dict[str, Any]:
    timestamp: datetime = row["timestamp"]
    return {**row, "timestamp": timestamp.astimezone(UTC), "cited_knowledge": row.get("cited_knowledge") or []}


def _cell(value: Any) -> Any:
    """A spreadsheet cell's value: citations (a list) as compact JSON text, empty when there are none."""
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")) if value else None
    return value


class _CsvWriter:
    def __init__(self) -> None:
        self.buffer = io.BytesIO()
        self._text = io.TextIOWrapper(self.buffer, encoding="utf-8", newline="", write_through=True)
        self._text.write("\ufeff")  # Excel needs the BOM to read UTF-8 (accents) correctly
        self._csv = csv.writer(self._text)
        self._csv.writerow(EXPORT_COLUMNS)

    def write(self, row: dict[str, Any]) -> None:
        values = []
        for column in EXPORT_COLUMNS:
            value = _cell(row[column])
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, str) and value.startswith(_FORMULA_START):
                value = "'" + value
            values.append("" if value is None else value)
        self._csv.writerow(values)

    @property
    def size(self) -> int:
        return self.buffer.tell()

    def finish(self, next_cursor: str | None) -> bytes:
        self._text.flush()
        return self.buffer.getvalue()


class _JsonWriter:
    def __init__(self) -> None:
        self.buffer = io.BytesIO()
        self.buffer.write(b'{"columns":' + json.dumps(EXPORT_COLUMNS).encode() + b',"rows":[')
        self._first = True

    def write(self, row: dict[str, Any]) -> None:
        values = {column: row[column] for column in EXPORT_COLUMNS}
        values["timestamp"] = row["timestamp"].isoformat()
        self.buffer.write((b"" if self._first else b",") + json.dumps(values, ensure_ascii=False).encode())
        self._first = False

    @property
    def size(self) -> int:
        return self.buffer.tell()

    def finish(self, next_cursor: str | None) -> bytes:
        self.buffer.write(b'],"nextCursor":' + json.dumps(next_cursor).encode() + b"}")
        return self.buffer.getvalue()


class _XlsxWriter:
    """openpyxl in write-only mode: rows go to a temporary file, not into an in-memory sheet."""

    def __init__(self) -> None:
        from openpyxl import Workbook

        self._workbook = Workbook(write_only=True)
        self._sheet = self._workbook.create_sheet("messages")
        self._sheet.append(list(EXPORT_COLUMNS))
        self._estimate = 0

    def write(self, row: dict[str, Any]) -> None:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        cells: list[Any] = []
        for column in EXPORT_COLUMNS:
            value = _cell(row[column])
            if isinstance(value, datetime):
                cells.append(value.replace(tzinfo=None))  # Excel has no zones: the column is UTC
            elif isinstance(value, str):
                # Forced to a string cell: customer text starting with "=" must never become a formula.
                cell = WriteOnlyCell(self._sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
                cell.data_type = "s"
                cells.append(cell)
            else:
                cells.append(value)
            self._estimate += len(str(value).encode()) + 24 if value is not None else 8
        self._sheet.append(cells)

    @property
    def size(self) -> int:
        return self._estimate

    def finish(self, next_cursor: str | None) -> bytes:
        buffer = io.BytesIO()
        self._workbook.save(buffer)
        return buffer.getvalue()


def export_page(
    conn: Connection,
    tenant_id: str,
    days: DayRange,
    *,
    file_format: ExportFormat,
    customer_id: str | None,
    cursor: str | None,
    max_rows: int = DEFAULT_ROWS,
    max_bytes: int | None = None,
) -> ExportPage:
    (after_id,) = decode_cursor(cursor, int) if cursor else (0,)
    budget = max_bytes if max_bytes is not None else BYTE_BUDGETS[file_format]
    writers: dict[str, type[_PageWriter]] = {"csv": _CsvWriter, "json": _JsonWriter, "xlsx": _XlsxWriter}
    writer = writers[file_format]()
    rows = 0
    last_id: int | None = None
    more = False
    stream: Generator[dict[str, Any], None, None] = ops_repo.stream_export_rows(
        conn, tenant_id, days.start, days.end, customer_id=customer_id, after_id=after_id
    )
    with closing(stream):  # (closing ends the server-side cursor and its transaction early)
        for row in stream:
            if rows >= max_rows or (rows > 0 and writer.size >= budget):
                more = True  # at least one row is left for the next page
                break
            writer.write(_export_values(row))
            rows += 1
            last_id = row["message_id"]
    next_cursor = encode_cursor(last_id) if more and last_id is not None else None
    body = writer.finish(next_cursor)
    who = f"-{customer_id}" if customer_id else ""
    part = f"-after-{after_id}" if after_id else ""
    filename = f"conversations-{days.first_day}-{days.last_day}{who}{part}.{file_format}"
    return ExportPage(body, CONTENT_TYPES[file_format], _safe_filename(filename), rows, next_cursor)


def _safe_filename(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
