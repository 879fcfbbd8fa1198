"""The shared reading of outside input: bounded JSON parsing, the shallow key scan, text cleaning."""

from __future__ import annotations

import json
import time

import pytest

from mostrador.request_input import (
    MAX_JSON_DEPTH,
    BadRequestBody,
    clean_text,
    first_unsafe_string,
    parse_json_body,
    top_level_string,
    unsafe_in_id,
    unsafe_in_text,
)


def nested(depth: int, open_: str = "[", close: str = "]") -> str:
    return open_ * depth + close * depth


@pytest.mark.parametrize("depth", [1, 2, MAX_JSON_DEPTH])
def test_nesting_up_to_the_limit_parses(depth: int) -> None:
    assert parse_json_body(nested(depth)) == json.loads(nested(depth))


@pytest.mark.parametrize(
    "text",
    [
        nested(MAX_JSON_DEPTH + 1),
        nested(1_000),
        nested(200_000),
        '{"a":' * 65 + "1" + "}" * 65,  # objects count like arrays
        "[" * 1_000_000,  # never closed
        "[" + "[[]," * 70 + "[]" + "]" * 70 + "]",  # deep without a long run of openers
        '{"a": [{"b": [' + nested(70) + "]}]}",
    ],
)
def test_deeper_nesting_is_refused_with_what_to_fix(text: str) -> None:
    with pytest.raises(BadRequestBody) as refused:
        parse_json_body(text.encode())
    assert refused.value.status == 400 and f"more than {MAX_JSON_DEPTH} levels deep" in refused.value.message


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"a": "[" * 5_000, "b": "}" * 10, "c": 'say "[[[" \\ ok'})
    assert parse_json_body(text)["a"] == "[" * 5_000


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"", "empty"),
        (b"  \n", "empty"),
        (None, "empty"),
        (b"{not json", "not valid JSON"),
        (b'{"a": [1, 2}', "not valid JSON"),
        (b"[}", "not valid JSON"),
        (b'{"a": "\xe9"}', "not UTF-8"),
    ],
)
def test_unreadable_bodies_are_refused_with_a_reason(raw: bytes | None, fragment: str) -> None:
    with pytest.raises(BadRequestBody) as refused:
        parse_json_body(raw)
    assert fragment in refused.value.message


def test_the_shallow_scan_reads_only_up_to_the_member() -> None:
    assert top_level_string(b'{"function":"message-sent","key":"s\\u00e9cr\\"et"}', "key") == 's\u00e9cr"et'
    assert top_level_string(' \n{ "n" : -1.5e3 , "t":true,"z":null, "key" : "k" }', "key") == "k"
    # Nothing after the member is read: what follows may be anything.
    assert top_level_string(b'{"key":"k","data":' + b"[" * 100_000, "key") == "k"
    assert top_level_string(b'{"key":"k",,,garbage', "key") == "k"
    # Nested values are never looked into, nor past.
    assert top_level_string(b'{"data":{"key":"inner"}}', "key") is None
    assert top_level_string(b'{"data":[],"key":"outer"}', "key") is None
    assert top_level_string(b'{"key":{"k":1}}', "key") is None
    assert top_level_string(b'{"key":7}', "key") is None
    assert top_level_string(b"{}", "key") is None
    assert top_level_string(b'{"function":"x"', "key") is None
    assert top_level_string(b'{"function" "x", "key": "k"}', "key") is None
    for raw in (b"function=message-sent&key=k", b'["key", "k"]', b"", b'"key"'):
        with pytest.raises(BadRequestBody):
            top_level_string(raw, "key")


def test_text_is_cleaned_of_what_no_store_or_encoder_takes() -> None:
    assert clean_text("hola\x00 mundo") == "hola mundo"
    assert clean_text("a\x01b\x08c\x0bd\x0ce\x1ff\x7fg") == "abcdef\x7fg"
    assert clean_text("línea 1\nlínea 2\r\n\tfin") == "línea 1\nlínea 2\r\n\tfin"
    assert clean_text("emoji a medias \ud83d y \ude00") == "emoji a medias \ufffd y \ufffd"
    assert clean_text("😀 \uffff ok") == "😀 \uffff ok"  # real astral characters and noncharacters stay
    assert clean_text("x" * 10) == "x" * 10
    assert clean_text("\x00\ud800").encode("utf-8") == "\ufffd".encode()


def test_ids_and_texts_are_described_without_their_value() -> None:
    assert unsafe_in_id("wa:1\x00") == "NUL (U+0000)"
    assert unsafe_in_id("a\tb") == "tab (U+0009)"
    assert unsafe_in_id("\ud800") == "a lone surrogate (U+D800)"
    assert unsafe_in_id("wa:1065:584125550101") is None
    assert unsafe_in_text("línea\n\tok") is None
    assert unsafe_in_text("x\x1b[31m") == "a control character (U+001B)"
    body = {"note": "ok", "items": [{"text": "fine"}, {"text": "bad\x00"}]}
    assert first_unsafe_string(body) == "body.items[1].text contains NUL (U+0000)"
    assert first_unsafe_string({"n\x00": 1}) == "a field name in body contains NUL (U+0000)"
    assert first_unsafe_string({"note": "línea\nnueva", "n": 3, "ok": True}) is None


@pytest.mark.parametrize(
    "text",
    [
        '["' + '\\"' * 40_000,  # a string of escaped quotes that never ends
        '{"a": "' + '\\"' * 40_000 + "\\",  # ... ending in a lone backslash
        '"' + 'x\\"' * 40_000,
    ],
)
def test_an_unterminated_string_full_of_escaped_quotes_is_refused_at_once(text: str) -> None:
    # Each escaped quote used to restart the string scan: 80 KB took about 45 s, a public web chat
    # POST of 1 MB hours of CPU. A generous bound, not a speed target: the scan is linear now.
    started = time.monotonic()
    with pytest.raises(BadRequestBody) as refused:
        parse_json_body(text.encode())
    assert "not valid JSON" in refused.value.message
    assert time.monotonic() - started < 5


def test_an_unterminated_string_hides_no_depth_from_the_check() -> None:
    # Brackets after an unterminated quote are inside that string for the parser as well.
    with pytest.raises(BadRequestBody) as refused:
        parse_json_body(nested(100)[:100] + '"' + "[" * 10)
    assert "levels deep" in refused.value.message
    with pytest.raises(BadRequestBody) as unterminated:
        parse_json_body('["abc' + "[" * 1_000)
    assert "not valid JSON" in unterminated.value.message
