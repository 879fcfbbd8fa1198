"""Outside input every entry point reads the same way: JSON bodies within limits, and text cleaned of
characters PostgreSQL and the encoders downstream refuse.

Python's json parser recurses once per nesting level, so a body of 1,000+ nested brackets raised
RecursionError where handlers expected only JSONDecodeError (a 502). Here the depth is measured
first (strings blanked out, then bracket pairs removed level by level with C-speed string
operations, never a Python loop per character), then the body is parsed. An integer of more than
4,300 digits makes the parser raise a plain ValueError (Python's int conversion limit). Every
failure is a BadRequestBody whose message says what to fix: a 400 on every route.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from typing import Any

# Real bodies nest a few levels (a WhatsApp delivery about 8, a catalog push 3); 64 leaves room for
# anything legitimate and stays far below where parsing or pydantic would recurse too deep.
MAX_JSON_DEPTH = 64

# A JSON string: quote, then runs of ordinary characters and escapes, up to the closing quote or, for
# a string never closed, the end of the text (the parser then refuses the body). A match that could
# fail after its opening quote would be retried from every later quote: quadratic in a body of
# escaped quotes that never ends.
_STRING = re.compile(r'"[^"\\]*(?:\\(?:.|\Z)[^"\\]*)*(?:"|\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_BRACES_AS_BRACKETS = str.maketrans("{}", "[]")
_SPACE = re.compile(r"[ \t\n\r]*")
_SCALAR = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null")

# NUL and the other C0 controls but tab, newline and carriage return; PostgreSQL text refuses NUL,
# XLSX refuses the rest. Lone surrogates (JSON "\ud800" alone) cannot be encoded as UTF-8 at all.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_UNSAFE_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
_UNSAFE_IN_ID = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


class BadRequestBody(ValueError):
    """A body that cannot be read within the limits. The message tells the sender what to fix."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _text_of(raw: bytes | str) -> str:
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequestBody(f"Body is not UTF-8 text (invalid byte at position {exc.start}).") from exc


def _too_deep(max_depth: int) -> BadRequestBody:
    return BadRequestBody(f"Body nests arrays/objects more than {max_depth} levels deep; flatten it.")


def check_json_depth(text: str, max_depth: int = MAX_JSON_DEPTH) -> None:
    """BadRequestBody when the JSON in `text` nests deeper than max_depth (strings do not count).

    Only the brackets outside strings are kept (braces as brackets: the kind does not change the
    depth); each pass then removes the innermost pairs, exactly one level. Input whose brackets never
    pair up is not JSON: the parser reports it."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text)).translate(_BRACES_AS_BRACKETS)
    if "[" * (max_depth + 1) in brackets:
        raise _too_deep(max_depth)
    for _ in range(max_depth):
        if not brackets:
            return
        reduced = brackets.replace("[]", "")
        if len(reduced) == len(brackets):
            return
        brackets = reduced
    if "[]" in brackets:
        raise _too_deep(max_depth)


def parse_json_body(raw: bytes | str | None, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The JSON value of a request body, or BadRequestBody (empty, not UTF-8, not JSON, too deep, a number
    of more digits than Python converts)."""
    if raw is None:
        raise BadRequestBody("Body is empty; send JSON.")
    text = _text_of(raw)
    if not text.strip():
        raise BadRequestBody("Body is empty; send JSON.")
    check_json_depth(text, max_depth)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadRequestBody(f"Body is not valid JSON ({exc}).") from exc
    except RecursionError as exc:  # unbalanced brackets the depth check leaves to the parser
        raise _too_deep(max_depth) from exc
    except ValueError as exc:  # the only other one: an integer past Python's digit limit
        raise too_many_digits() from exc


def too_many_digits() -> BadRequestBody:
    # Python refuses to convert integers of more digits (a guard against quadratic conversion).
    limit = sys.get_int_max_str_digits()
    return BadRequestBody(f"Body is not accepted: a number has more than {limit} digits; send it as a string.")


def top_level_string(raw: bytes | str, member: str) -> str | None:
    """The string value of `member` in the JSON object `raw`, read without parsing anything else.

    For a shared secret inside an unauthenticated body: top-level members are read in order, their
    names decoded and scalar values skipped, and the scan stops at `member`; nothing after it is read
    and no nested value is ever looked into. So the member must come before any object or array
    member (Support Board writes `function`, `key`, then `data`). None when it does not, when the
    member is absent or not a string, or when the body breaks off first; BadRequestBody when the
    body does not even start as a JSON object.
    """
    text = _text_of(raw)
    pos = _skip_space(text, 0)
    if text[pos : pos + 1] != "{":
        raise BadRequestBody("Body must be a JSON object.")
    pos = _skip_space(text, pos + 1)
    while text[pos : pos + 1] == '"':
        name = _STRING.match(text, pos)
        if name is None:
            return None
        pos = _skip_space(text, name.end())
        if text[pos : pos + 1] != ":":
            return None
        pos = _skip_space(text, pos + 1)
        value = _STRING.match(text, pos) or _SCALAR.match(text, pos)
        if value is None:
            return None  # a nested value (or garbage) before the member: never looked into
        if _decoded_string(name.group()) == member:
            return _decoded_string(value.group()) if value.group().startswith('"') else None
        pos = _skip_space(text, value.end())
        if text[pos : pos + 1] != ",":
            return None
        pos = _skip_space(text, pos + 1)
    return None


def _skip_space(text: str, pos: int) -> int:
    found = _SPACE.match(text, pos)
    return found.end() if found else pos


def _decoded_string(literal: str) -> str | None:
    try:
        value = json.loads(literal)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, str) else None


# -- text -----------------------------------------------------------------------------------------


def clean_text(value: str) -> str:
    """`value` without NUL and other control characters (tab and line breaks stay), and with lone
    surrogates replaced by U+FFFD: what a customer meant, in a form every store and encoder takes."""
    if not _UNSAFE_IN_TEXT.search(value):
        return value
    return _SURROGATE.sub("\ufffd", _CONTROL.sub("", value))


def describe_character(char: str) -> str:
    names = {"\x00": "NUL", "\t": "tab", "\n": "line break", "\r": "carriage return", "\x7f": "DEL"}
    if "\ud800" <= char <= "\udfff":
        return f"a lone surrogate (U+{ord(char):04X})"
    return f"{names.get(char, 'a control character')} (U+{ord(char):04X})"


def unsafe_in_id(value: str) -> str | None:
    """What is wrong with an identifier or filter value (any control character, lone surrogate), or None."""
    found = _UNSAFE_IN_ID.search(value)
    return describe_character(found.group()) if found else None


def unsafe_in_text(value: str) -> str | None:
    """What is wrong with free text (NUL, control characters but tab/line breaks, lone surrogates), or None."""
    found = _UNSAFE_IN_TEXT.search(value)
    return describe_character(found.group()) if found else None


def first_unsafe_string(value: Any, where: str = "body") -> str | None:
    """'<where>.<field>: contains …' for the first string (or key) in a parsed JSON value holding
    characters no text field may hold, or None. The value comes from parse_json_body (bounded depth)."""
    if isinstance(value, str):
        problem = unsafe_in_text(value)
        return f"{where} contains {problem}" if problem else None
    if isinstance(value, Mapping):
        for key, item in value.items():
            key_problem = unsafe_in_text(str(key))
            if key_problem:
                return f"a field name in {where} contains {key_problem}"
            found = first_unsafe_string(item, f"{where}.{key}")
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = first_unsafe_string(item, f"{where}[{index}]")
            if found:
                return found
    return None
