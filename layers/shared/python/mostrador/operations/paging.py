"""Opaque cursors: URL-safe base64 of the last row's sort key, as JSON. A list answers with
`nextCursor` (null on the last page); the caller passes it back as `cursor` for the next page."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from mostrador.operations.errors import BadRequest


def encode_cursor(*key: str | int | datetime) -> str:
    values = [value.isoformat() if isinstance(value, datetime) else value for value in key]
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *kinds: type) -> tuple[Any, ...]:
    """The key, each part converted to its kind (str, int or datetime); a clear 400 when it is not ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(kinds):
            raise ValueError("wrong shape")
        return tuple(_convert(value, kind) for value, kind in zip(values, kinds, strict=True))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise BadRequest("cursor is not valid: pass back the nextCursor of the previous page unchanged") from None


def _convert(value: Any, kind: type) -> Any:
    if kind is datetime:
        if not isinstance(value, str):
            raise ValueError("not a timestamp")
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("timestamp without zone")
        return parsed
    if kind is int:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError("not an id")
        return value
    if not isinstance(value, str):
        raise ValueError("not a string")
    return value
