"""The routing document: built from tenant rows, read back into lookups, re-read when it changes."""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mostrador.channels.meta import split_by_account
from mostrador.config import load_settings
from mostrador.tenancy.routing import (
    HASH_BYTES,
    FilePublisher,
    FileRouting,
    RoutingTable,
    StaticRouting,
    build_document,
    channel_tenant,
    key_hash,
    key_tenant,
    serialize,
)

TENANTS = [
    {"tenant_id": "acme", "active": True, "claims_unrouted": False},
    {"tenant_id": "beta", "active": True, "claims_unrouted": False},
    {"tenant_id": "gone", "active": False, "claims_unrouted": False},
]
CHANNELS = [
    {"channel": "whatsapp", "channel_key": "1001", "tenant_id": "acme"},
    {"channel": "whatsapp", "channel_key": "2002", "tenant_id": "beta"},
    {"channel": "messenger", "channel_key": "PAGE-A", "tenant_id": "acme"},
    {"channel": "instagram", "channel_key": "IG-B", "tenant_id": "beta"},
    {"channel": "webchat", "channel_key": "wk_acme_key_0123456789", "tenant_id": "acme"},
    {"channel": "whatsapp", "channel_key": "3003", "tenant_id": "gone"},
]
KEYS = [
    {"kind": "ingest", "key_hash": key_hash("acme-ingest-key"), "tenant_id": "acme", "revoked_at": None},
    {"kind": "ingest", "key_hash": key_hash("beta-ingest-key"), "tenant_id": "beta", "revoked_at": None},
    {"kind": "ingest", "key_hash": key_hash("old-beta-key"), "tenant_id": "beta", "revoked_at": datetime.now(UTC)},
    {"kind": "support_board", "key_hash": key_hash("sb-secret-beta"), "tenant_id": "beta", "revoked_at": None},
    {"kind": "ingest", "key_hash": key_hash("gone-key"), "tenant_id": "gone", "revoked_at": None},
]


def table() -> RoutingTable:
    return RoutingTable.from_document(json.loads(serialize(build_document(TENANTS, CHANNELS, KEYS))))


def test_every_channel_id_and_key_routes_to_its_own_tenant() -> None:
    routes = table()
    assert routes.claimed("whatsapp", "1001") == "acme"
    assert routes.claimed("whatsapp", "2002") == "beta"
    assert routes.claimed("messenger", "PAGE-A") == "acme"
    assert routes.claimed("instagram", "IG-B") == "beta"
    assert routes.claimed("webchat", "wk_acme_key_0123456789") == "acme"
    assert routes.key_tenant("ingest", "acme-ingest-key") == "acme"
    assert routes.key_tenant("ingest", "beta-ingest-key") == "beta"
    assert routes.key_tenant("support_board", "sb-secret-beta") == "beta"
    # The same id under another channel, or a key of another kind, is not a match.
    assert routes.claimed("messenger", "1001") is None
    assert routes.key_tenant("support_board", "beta-ingest-key") is None
    assert routes.unrouted_tenant is None


def test_inactive_tenants_and_revoked_keys_route_nothing() -> None:
    routes = table()
    assert routes.claimed("whatsapp", "3003") is None
    assert routes.key_tenant("ingest", "gone-key") is None
    assert routes.key_tenant("ingest", "old-beta-key") is None


def test_the_document_holds_no_key_and_only_part_of_each_hash() -> None:
    text = serialize(build_document(TENANTS, CHANNELS, KEYS))
    full = key_hash("acme-ingest-key")
    assert "acme-ingest-key" not in text and full not in text and full[:16] not in text
    [short] = json.loads(text)["tenants"]["acme"]["ingest"]
    assert len(short) == 16 and base64.urlsafe_b64decode(short) == bytes.fromhex(full)[:HASH_BYTES]


def test_a_tenant_answers_unclaimed_ids_only_while_it_is_the_only_active_one() -> None:
    alone = [{"tenant_id": "acme", "active": True, "claims_unrouted": True}]
    assert build_document(alone, [], [])["unroutedTenant"] == "acme"
    with_another = [*alone, {"tenant_id": "beta", "active": True, "claims_unrouted": False}]
    assert build_document(with_another, [], [])["unroutedTenant"] is None
    other_inactive = [*alone, {"tenant_id": "beta", "active": False, "claims_unrouted": False}]
    assert build_document(other_inactive, [], [])["unroutedTenant"] == "acme"


def test_unclaimed_ids_fall_to_the_unrouted_tenant_but_claimed_ones_never_do() -> None:
    document = build_document(
        [{"tenant_id": "acme", "active": True, "claims_unrouted": True}],
        [{"channel": "whatsapp", "channel_key": "1001", "tenant_id": "acme"}],
        [],
    )
    source = StaticRouting(RoutingTable.from_document(document))
    assert channel_tenant(source, "whatsapp", "9999") == "acme"
    assert channel_tenant(source, "whatsapp", "1001") == "acme"
    assert key_tenant(source, "ingest", "anything") is None  # keys are never guessed


def test_without_a_document_the_deployment_tenant_owns_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings({"TENANT_ID": "solo", "INGEST_API_KEY": "k-ingest", "SUPPORT_BOARD_WEBHOOK_SECRET": "s"})
    source = StaticRouting(RoutingTable.single_tenant(settings))
    assert channel_tenant(source, "messenger", "ANY-PAGE") == "solo"
    assert key_tenant(source, "ingest", "k-ingest") == "solo"
    assert key_tenant(source, "support_board", "s") == "solo"
    assert key_tenant(source, "ingest", "wrong") is None
    assert key_tenant(source, "ingest", "") is None


def test_the_file_is_read_again_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "routing.json"
    errors: list[str] = []
    source = FileRouting(path, on_error=errors.append)
    assert channel_tenant(source, "whatsapp", "1001") is None  # not published yet: nothing routes
    assert not source.table().published and len(errors) == 1

    publisher = FilePublisher(path)
    publisher.publish(serialize(build_document(TENANTS[:1], CHANNELS[:1], [])))
    assert channel_tenant(source, "whatsapp", "1001") == "acme"
    assert channel_tenant(source, "whatsapp", "2002") is None

    publisher.publish(serialize(build_document(TENANTS[:2], CHANNELS[:2], [])))
    os.utime(path, ns=(1, 1))  # a different mtime even on a coarse-clock file system
    assert channel_tenant(source, "whatsapp", "2002") == "beta"
    assert [p.name for p in tmp_path.iterdir()] == ["routing.json"]  # no partial file left behind

    path.write_text("{not json")
    assert channel_tenant(source, "whatsapp", "1001") is None
    assert "unreadable" in errors[-1]


def test_a_document_of_another_format_is_refused() -> None:
    with pytest.raises(ValueError, match="format"):
        RoutingTable.from_document({"format": 99, "tenants": {}})


def test_a_document_too_large_for_a_secret_is_refused_with_what_to_do() -> None:
    many = [{"tenant_id": f"t{i}", "active": True, "claims_unrouted": False} for i in range(2000)]
    keys = [
        {"kind": "ingest", "key_hash": key_hash(f"k{i}"), "tenant_id": f"t{i}", "revoked_at": None} for i in range(2000)
    ]
    with pytest.raises(ValueError, match="over the 65536 a secret holds"):
        serialize(build_document(many, [], keys))


def test_a_meta_delivery_is_cut_per_business_account() -> None:
    whatsapp = {
        "object": "whatsapp_business_account",
        "entry": [
            {"id": "WABA1", "changes": [
                {"field": "messages", "value": {"metadata": {"phone_number_id": "1001"}, "messages": [{"id": "a"}]}},
                {"field": "messages", "value": {"metadata": {"phone_number_id": "2002"}, "messages": [{"id": "b"}]}},
            ]},
        ],
    }  # fmt: skip
    parts = split_by_account(whatsapp)
    assert [(channel, account) for channel, account, _ in parts] == [("whatsapp", "1001"), ("whatsapp", "2002")]
    assert parts[1][2]["entry"][0]["changes"][0]["value"]["messages"] == [{"id": "b"}]
    page = {"object": "page", "entry": [{"id": "P1", "messaging": []}, {"id": "P2", "messaging": []}]}
    assert [(c, a) for c, a, _ in split_by_account(page)] == [("messenger", "P1"), ("messenger", "P2")]
    instagram = {"object": "instagram", "entry": [{"id": "IG1", "messaging": []}]}
    assert [(c, a) for c, a, _ in split_by_account(instagram)] == [("instagram", "IG1")]
    assert split_by_account({"object": "user", "entry": [{"id": "x"}]}) == []
