"""Customer identifiers in logs."""

import hashlib

from mostrador.config import reset_settings
from mostrador.observability import redact


def test_customer_ids_are_tagged_with_a_keyed_hash(monkeypatch):
    monkeypatch.setenv("META_APP_SECRET", "app-secret-1")
    reset_settings()
    phone = "wa:1234:584125550101"
    tag = redact(phone)
    assert tag == redact(phone) and tag.startswith("id:") and "584125550101" not in tag
    # Not the plain hash anyone could compute by trying every phone number.
    assert tag != "id:" + hashlib.sha256(phone.encode()).hexdigest()[:12]
    monkeypatch.setenv("META_APP_SECRET", "app-secret-2")
    reset_settings()
    assert redact(phone) != tag
    assert redact(None) == "-"
