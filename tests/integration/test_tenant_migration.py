"""The upgrade from one tenant per deployment (migration 014, then 015, and the first start after them) on a database
that has data: the migrations of the previous release applied, a single-tenant deployment's rows
written, then the new migration, the deploy's default-tenant step and the routing document."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mostrador.config import load_settings
from mostrador.db import migrate
from mostrador.db.connection import connect
from mostrador.operations.tenants import ensure_default_tenant, publish_routing
from mostrador.tenancy.routing import FilePublisher, FileRouting, channel_tenant, key_tenant

TENANTS_MIGRATION = "014_tenants.sql"
ACCESS_MIGRATION = "015_access.sql"  # tokens and the audit log: applied after 014 on the same data
ACTOR_MIGRATION = "016_agent_actor.sql"  # main's rename of the inbound human actor, after both
SEARCH_MIGRATION = "017_search_kinds.sql"  # the products' search vectors, rebuilt (no row added or removed)
PIECES_MIGRATION = "018_reply_pieces_and_reactions.sql"  # two nullable columns on messages
TOOL_CALLS_MIGRATION = "019_tool_calls_by_message.sql"  # an index (no row added or removed)
NAME_KINDS_MIGRATION = "020_search_name_kinds.sql"  # rebuilt again with the name's kind words (likewise)
UPGRADE = [
    TENANTS_MIGRATION,
    ACCESS_MIGRATION,
    ACTOR_MIGRATION,
    SEARCH_MIGRATION,
    PIECES_MIGRATION,
    TOOL_CALLS_MIGRATION,
    NAME_KINDS_MIGRATION,
]
COUNTED = ("products", "product_stock", "conversations", "messages", "llm_usage", "syncs", "escalations")


@pytest.fixture
def previous_release(pg_server, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Any]]:
    """A database on the migrations before 014, as the release before tenants left it."""
    name = f"mostrador_upgrade_{uuid.uuid4().hex[:8]}"
    pg_server.psql(f"CREATE DATABASE {name};")
    url = pg_server.get_uri(name)
    every = migrate.migration_files()
    monkeypatch.setattr(migrate, "migration_files", lambda: [f for f in every if f[0] < TENANTS_MIGRATION])
    applied = migrate.apply_migrations(url)
    monkeypatch.setattr(migrate, "migration_files", lambda: every)
    assert TENANTS_MIGRATION not in applied and applied
    conn = connect(url)
    yield url, conn
    conn.close()


def single_tenant_data(conn: Any, tenant: str) -> None:
    """What a single-tenant deployment wrote: a catalog, a prompt, conversations on every channel."""
    conn.execute(
        "INSERT INTO products (tenant_id, item_code, item_name, attributes_hash, searchable_text, search_vector, price)"
        " VALUES (%s, 'XY-0412', 'Nevera Samsung RT38', 'h', 'nevera samsung',"
        " mostrador_search_vector('Nevera Samsung RT38', 'nevera'), 499)",
        (tenant,),
    )
    conn.execute(
        "INSERT INTO product_stock (tenant_id, item_code, warehouse, stock, source_data, source_hash)"
        " VALUES (%s, 'XY-0412', 'CCS-01', 3, '{}', 'h')",
        (tenant,),
    )
    conn.execute("INSERT INTO syncs (tenant_id, sync_id) VALUES (%s, 'nightly')", (tenant,))
    conn.execute(
        "INSERT INTO tenant_settings (tenant_id, system_prompt) VALUES (%s, 'Eres el asistente de NamDamasco.')",
        (tenant,),
    )
    for conversation, channel in (
        ("wa:106540352242922:584125550101", "whatsapp"),
        ("wa:106540352242922:584145550199", "whatsapp"),
        ("fb:1122334455:6543210987654321", "messenger"),
        ("ig:17841400000000000:99887766", "instagram"),
        ("sb:321", "support_board"),
        ("webchat:abcdefghijklmnop", "webchat"),
    ):
        conn.execute(
            "INSERT INTO conversations (tenant_id, conversation_id, channel) VALUES (%s, %s, %s)",
            (tenant, conversation, channel),
        )
        conn.execute(
            "INSERT INTO messages (tenant_id, conversation_id, channel, direction, actor, text, platform_message_id,"
            " state) VALUES (%s, %s, %s, 'inbound', 'customer', 'hola', %s, 'replied')",
            (tenant, conversation, channel, f"mid-{conversation}"),
        )
    conn.execute(  # a person in Support Board, recorded as the release before 016 named it
        "INSERT INTO messages (tenant_id, conversation_id, channel, direction, actor, text, platform_message_id,"
        " state) VALUES (%s, 'sb:321', 'support_board', 'inbound', 'human_agent', 'le atiendo yo', 'mid-agent',"
        " 'skipped')",
        (tenant,),
    )
    conn.execute(
        "INSERT INTO escalations (tenant_id, conversation_id, reason, source)"
        " VALUES (%s, 'sb:321', 'asked for a person', 'customer_request')",
        (tenant,),
    )
    conn.execute(
        "INSERT INTO llm_usage (tenant_id, provider, model, purpose, tokens_in, tokens_out)"
        " VALUES (%s, 'openai', 'gpt-4o-mini', 'chat', 120, 30)",
        (tenant,),
    )


def counts(conn: Any) -> dict[str, int]:
    return {table: conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"] for table in COUNTED}


def test_a_single_tenant_deployment_upgrades_without_losing_anything(previous_release, tmp_path: Path) -> None:
    url, conn = previous_release
    single_tenant_data(conn, "namdamasco")
    before = counts(conn)

    assert migrate.apply_migrations(url) == UPGRADE
    assert counts(conn) == before  # no row of the old data touched
    agent = conn.execute("SELECT tenant_id, actor FROM messages WHERE platform_message_id = 'mid-agent'").fetchone()
    assert (agent["tenant_id"], agent["actor"]) == ("namdamasco", "agent")  # 016 on the upgraded rows
    tenant = conn.execute("SELECT * FROM tenants").fetchone()
    assert (tenant["tenant_id"], tenant["display_name"], tenant["active"]) == ("namdamasco", "namdamasco", True)
    assert tenant["system_prompt"] == "Eres el asistente de NamDamasco."  # moved from tenant_settings
    assert tenant["claims_unrouted"] is True  # it answered every id before: it keeps doing so
    assert conn.execute("SELECT to_regclass('tenant_settings') AS t").fetchone()["t"] is None
    channels = {(r["channel"], r["channel_key"], r["tenant_id"]) for r in conn.execute("SELECT * FROM tenant_channels")}
    assert channels == {
        ("whatsapp", "106540352242922", "namdamasco"),
        ("messenger", "1122334455", "namdamasco"),
        ("instagram", "17841400000000000", "namdamasco"),
    }

    # The first start (the deploy's migrate function, or `mostrador local`) with the old settings.
    settings = load_settings(
        {
            "TENANT_ID": "namdamasco",
            "INGEST_API_KEY": "the-old-ingest-key",
            "SUPPORT_BOARD_WEBHOOK_SECRET": "the-old-sb-secret",
            "WHATSAPP_PHONE_NUMBER_ID": "106540352242999",
        }
    )
    done = ensure_default_tenant(conn, settings)
    assert done == [
        "registered INGEST_API_KEY (deployment)",
        "registered SUPPORT_BOARD_WEBHOOK_SECRET (deployment)",
    ]
    assert ensure_default_tenant(conn, settings) == []  # every deploy runs it: nothing twice

    routing_file = tmp_path / "routing.json"
    published = publish_routing(conn, FilePublisher(routing_file))
    assert published["tenants"] == ["namdamasco"] and published["unroutedTenant"] == "namdamasco"
    source = FileRouting(routing_file)
    # The fetcher's key, Support Board's secret, the configured number, the ids of old conversations,
    # and ids nobody registered (a Page that never wrote before the upgrade) all still reach it.
    assert key_tenant(source, "ingest", "the-old-ingest-key") == "namdamasco"
    assert key_tenant(source, "support_board", "the-old-sb-secret") == "namdamasco"
    for channel, channel_id in (
        ("whatsapp", "106540352242999"),
        ("whatsapp", "106540352242922"),
        ("instagram", "17841400000000000"),
        ("messenger", "5555555555"),
    ):
        assert channel_tenant(source, channel, channel_id) == "namdamasco"
    assert source.table().unrouted_tenant == "namdamasco"  # web chat pages without a key too

    from mostrador.db.conversation_repository import tenant_system_prompt

    assert tenant_system_prompt(conn, "namdamasco") == "Eres el asistente de NamDamasco."


def test_an_operator_revoking_the_old_key_is_not_undone_by_the_next_deploy(previous_release) -> None:
    url, conn = previous_release
    single_tenant_data(conn, "namdamasco")
    migrate.apply_migrations(url)
    settings = load_settings({"TENANT_ID": "namdamasco", "INGEST_API_KEY": "the-old-ingest-key"})
    ensure_default_tenant(conn, settings)
    conn.execute("UPDATE tenant_keys SET revoked_at = now()")
    conn.execute("UPDATE tenants SET display_name = 'NamDamasco C.A.', takeover_pause_minutes = 30")
    assert ensure_default_tenant(conn, settings) == []
    key = conn.execute("SELECT revoked_at FROM tenant_keys").fetchone()
    assert key["revoked_at"] is not None
    tenant = conn.execute("SELECT display_name, takeover_pause_minutes FROM tenants").fetchone()
    assert (tenant["display_name"], tenant["takeover_pause_minutes"]) == ("NamDamasco C.A.", 30)


def test_data_of_several_tenant_ids_makes_several_tenants_and_none_answers_unclaimed_ids(previous_release) -> None:
    url, conn = previous_release
    single_tenant_data(conn, "acme")
    conn.execute(
        "INSERT INTO conversations (tenant_id, conversation_id, channel) VALUES ('beta', 'wa:2002:5841', 'whatsapp')"
    )
    migrate.apply_migrations(url)
    tenants = {r["tenant_id"]: r["claims_unrouted"] for r in conn.execute("SELECT * FROM tenants")}
    assert tenants == {"acme": False, "beta": False}
    owners = {r["channel_key"]: r["tenant_id"] for r in conn.execute("SELECT * FROM tenant_channels")}
    assert owners["2002"] == "beta" and owners["106540352242922"] == "acme"


def test_a_new_deployment_starts_with_its_default_tenant_and_nothing_unclaimed(pg_server, tmp_path: Path) -> None:
    name = f"mostrador_fresh_{uuid.uuid4().hex[:8]}"
    pg_server.psql(f"CREATE DATABASE {name};")
    url = pg_server.get_uri(name)
    migrate.apply_migrations(url)
    with connect(url) as conn:
        assert conn.execute("SELECT count(*) AS n FROM tenants").fetchone()["n"] == 0
        settings = load_settings({"INGEST_API_KEY": "k-0123456789abcdef", "WHATSAPP_PHONE_NUMBER_ID": "1001"})
        assert ensure_default_tenant(conn, settings)[0] == "created tenant default"
        document = publish_routing(conn, FilePublisher(tmp_path / "routing.json"))
        assert document["unroutedTenant"] is None
        stored = json.loads((tmp_path / "routing.json").read_text())
        assert stored["tenants"]["default"]["whatsapp"] == ["1001"]
        assert datetime.fromisoformat(stored["generatedAt"]) <= datetime.now(UTC)


def test_after_both_upgrades_the_old_admin_token_and_new_tokens_work_on_the_old_data(
    previous_release, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Migrations 014 (tenants) then 015 (tokens, audit log) on the single-tenant data: ADMIN_TOKEN still acts
    on the deployment's tenant as before, and an owner token made for it reads and steers the old rows."""
    from mostrador.config import get_settings, reset_settings
    from mostrador.db.connection import close_connection
    from mostrador.operations.auth import TOKEN_CACHE
    from tests.integration.test_admin_support import ADMIN_TOKEN, ADMIN_TOKEN_HASH_KEY, AdminClient

    url, conn = previous_release
    single_tenant_data(conn, "namdamasco")
    assert migrate.apply_migrations(url) == UPGRADE
    close_connection()
    env = {"DATABASE_URL": url, "TENANT_ID": "namdamasco", "ADMIN_TOKEN": ADMIN_TOKEN}
    for name, value in {**env, "ADMIN_TOKEN_HASH_KEY": ADMIN_TOKEN_HASH_KEY}.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    TOKEN_CACHE.clear()
    try:
        ensure_default_tenant(conn, get_settings())  # the deploy's first start
        admin = AdminClient()
        me = admin.ok("GET", "/admin/me")
        assert (me["role"], me["tenant"], me["tenantFixed"]) == ("operator", "namdamasco", False)
        assert len(admin.ok("GET", "/admin/conversations")["conversations"]) == 6

        made = admin.ok("POST", "/admin/tokens", body={"name": "dueño", "role": "owner"})
        assert made["tenant"] == "namdamasco"
        owner = AdminClient(made["secret"])
        assert len(owner.ok("GET", "/admin/conversations")["conversations"]) == 6
        assert owner.ok("GET", "/admin/tenants/namdamasco")["systemPrompt"] == "Eres el asistente de NamDamasco."
        owner.ok("POST", "/admin/conversations/sb:321/takeover", body={"minutes": 5})
        entries = [(e["action"], e["tenant"], e["actor"]) for e in owner.ok("GET", "/admin/audit")["entries"]]
        assert entries == [("take_over", "namdamasco", "dueño"), ("create_token", "namdamasco", "admin")]
    finally:
        close_connection()
