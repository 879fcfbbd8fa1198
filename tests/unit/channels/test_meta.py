from __future__ import annotations

import json

import pytest

from mostrador.channels.base import PermanentSendError, TransientSendError
from mostrador.channels.meta import classify_meta_error, handshake_challenge, verify_signature
from tests.unit.channels.payloads import meta_bytes, sign, wa_message, whatsapp_delivery, whatsapp_value

SECRET = "app-secret-123"


def test_signature_is_checked_on_the_raw_bytes_with_meta_escapes() -> None:
    payload = whatsapp_delivery(whatsapp_value([wa_message("text", {"body": "¿Precio de la nevera 1/2? café"})]))
    raw = meta_bytes(payload)
    assert b"\\u00e9" in raw and b"\\/" in raw  # the escapes Meta uses are really in the signed bytes
    assert verify_signature(raw, sign(raw, SECRET), SECRET)
    # The same JSON re-serialized (as a framework would) no longer matches the signature.
    reserialized = json.dumps(json.loads(raw), ensure_ascii=False).encode()
    assert json.loads(reserialized) == json.loads(raw)
    assert not verify_signature(reserialized, sign(raw, SECRET), SECRET)


@pytest.mark.parametrize(
    "header",
    [None, "", "sha256=", "sha1=abc", "sha256=" + "0" * 64, "sha256=zz", "sha256=é"],
)
def test_missing_or_wrong_signature_is_refused(header: str | None) -> None:
    assert not verify_signature(b'{"object":"page"}', header, SECRET)


def test_signature_with_another_secret_is_refused() -> None:
    raw = b'{"object":"page"}'
    assert not verify_signature(raw, sign(raw, "other"), SECRET)
    assert verify_signature(raw, sign(raw, SECRET).upper().replace("SHA256=", "sha256="), SECRET)


def test_handshake_answers_the_challenge_only_for_the_right_token() -> None:
    good = {"hub.mode": "subscribe", "hub.verify_token": "tok", "hub.challenge": "1158201444"}
    assert handshake_challenge(good, "tok") == "1158201444"
    assert handshake_challenge({**good, "hub.verify_token": "nope"}, "tok") is None
    assert handshake_challenge({**good, "hub.mode": "unsubscribe"}, "tok") is None
    assert handshake_challenge(good, None) is None
    assert handshake_challenge(None, "tok") is None


@pytest.mark.parametrize(
    ("status", "code", "transient"),
    [
        (429, 130429, True),
        (400, 131056, True),
        (400, 4, True),
        (400, 80007, True),
        (400, 131047, False),
        (401, 190, False),
        (403, 10, False),
        (403, 200, False),
        (400, 551, False),
    ],
)
def test_meta_errors_are_told_apart(status: int, code: int, transient: bool) -> None:
    error = classify_meta_error(status, {"error": {"message": "x", "code": code}}, platform="WhatsApp")
    assert isinstance(error, TransientSendError if transient else PermanentSendError)
    assert error.code == str(code)


def test_http_errors_without_meta_body() -> None:
    assert isinstance(classify_meta_error(502, None, platform="Messenger"), TransientSendError)
    assert isinstance(classify_meta_error(404, None, platform="Messenger"), PermanentSendError)
    # An unknown Meta code on a 5xx is still worth a retry.
    assert isinstance(classify_meta_error(500, {"error": {"code": 999999}}, platform="Messenger"), TransientSendError)
