"""/admin/tenants and /admin/routing through the real admin handler and Postgres: tenants, channel ids,
keys, secrets, the routing document they publish, and what is refused (with what to fix)."""

from __future__ import annotations

import json
import os
import stat
import uuid

import pytest

from mostrador.tenancy.routing import RoutingTable, key_hash
from tests.fakes.platforms import platforms_fixture  # noqa: F401
from tests.integration import test_admin_support as support
from tests.integration.tenant_support import add_tenant, created, tenancy_fixture  # noqa: F401
from tests.integration.test_reply_support import deliver, messenger, whatsapp

admin, reply_env = support.admin, support.reply_env


def routing(tenancy) -> RoutingTable:
    return RoutingTable.from_document(json.loads(tenancy.routing_file.read_text()))


def test_a_tenant_is_created_listed_shown_and_routed(admin, tenancy, db):
    tenant = created(
        admin,
        "/admin/tenants",
        {
            "tenantId": "acme",
            "displayName": "Acme Electrodomésticos",
            "timeZone": "America/Caracas",
            "defaultLanguage": "es",
            "currency": "VES",
            "businessHours": {"mon": ["09:00-18:00"], "sat": ["09:00-13:00"]},
            "monthlyTokenBudget": 500000,
        },
    )
    assert tenant["tenantId"] == "acme" and tenant["webchatKey"].startswith("wk_")
    assert tenant["routing"]["tenants"] == ["acme"] and tenant["routing"]["publishedTo"] == str(tenancy.routing_file)
    assert routing(tenancy).claimed("webchat", tenant["webchatKey"]) == "acme"

    created(admin, "/admin/tenants/acme/channels", {"channel": "whatsapp", "id": "1001"})
    created(admin, "/admin/tenants/acme/channels", {"channel": "messenger", "id": "2001"})
    created(admin, "/admin/tenants/acme/channels", {"channel": "instagram", "id": "3001"})
    table = routing(tenancy)
    assert [table.claimed(c, i) for c, i in (("whatsapp", "1001"), ("messenger", "2001"), ("instagram", "3001"))] == [
        "acme"
    ] * 3

    [listed] = admin.ok("GET", "/admin/tenants")["tenants"]
    assert (listed["tenantId"], listed["displayName"], listed["channelCount"], listed["keyCount"]) == (
        "acme",
        "Acme Electrodomésticos",
        4,
        0,
    )
    shown = admin.ok("GET", "/admin/tenants/acme")
    assert shown["timeZone"] == "America/Caracas" and shown["businessHours"]["sat"] == ["09:00-13:00"]
    assert {(c["channel"], c["id"]) for c in shown["channels"]} >= {("whatsapp", "1001"), ("instagram", "3001")}
    assert shown["secretsSet"] == [] and shown["keys"] == []
    assert shown["tokenBudget"]["monthlyTokenBudget"] == 500000 and shown["tokenBudget"]["exceeded"] is False

    changed = admin.ok(
        "PATCH", "/admin/tenants/acme", body={"currency": "USD", "afterHoursMessage": "Volvemos a las 9"}
    )
    assert (changed["currency"], changed["afterHoursMessage"], changed["timeZone"]) == (
        "USD",
        "Volvemos a las 9",
        "America/Caracas",
    )
    cleared = admin.ok("PATCH", "/admin/tenants/acme", body={"afterHoursMessage": None})
    assert cleared["afterHoursMessage"] is None

    actions = [
        r["action"] for r in db.execute("SELECT action FROM operator_actions WHERE tenant_id = 'acme' ORDER BY id")
    ]
    assert actions == ["tenant_created", "channel_added", "channel_added", "channel_added", "tenant_updated"] + [
        "tenant_updated"
    ]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"tenantId": "Acme Inc", "displayName": "x"}, "tenantId"),
        ({"tenantId": "acme"}, "displayName"),
        ({"tenantId": "acme", "displayName": "A", "timeZone": "Mars/Olympus"}, "unknown time zone"),
        ({"tenantId": "acme", "displayName": "A", "defaultLanguage": "xx"}, "defaultLanguage must be one of"),
        ({"tenantId": "acme", "displayName": "A", "businessHours": {"mon": ["18:00-09:00"]}}, "ends before"),
        ({"tenantId": "acme", "displayName": "A", "currency": "dollars"}, "currency"),
        ({"tenantId": "acme", "displayName": "A", "escalationWebhookUrl": "http://example.com/x"}, "https://"),
        ({"tenantId": "acme", "displayName": "A", "escalationEmail": "nobody"}, "not an e-mail"),
        ({"tenantId": "acme", "displayName": "A", "overBudget": "panic"}, "overBudget"),
        ({"tenantId": "acme", "displayName": "A", "monthlyTokenBudget": 0}, "monthlyTokenBudget"),
        ({"tenantId": "acme", "displayName": "A", "colour": "red"}, "colour"),
    ],
)
def test_bad_tenant_settings_are_refused_naming_the_field(admin, tenancy, db, body, problem):
    answer = admin.call("POST", "/admin/tenants", body=body)
    assert answer.status == 422 and problem in answer.json["error"], answer.json
    assert db.execute("SELECT count(*) AS n FROM tenants").fetchone()["n"] == 0
    assert not tenancy.routing_file.exists()


def test_a_setting_that_cannot_be_empty_is_not_cleared(admin, tenancy, db):
    add_tenant(admin, "acme")
    answer = admin.call("PATCH", "/admin/tenants/acme", body={"displayName": None, "timeZone": None})
    assert answer.status == 422 and "displayName, timeZone cannot be null" in answer.json["error"]
    assert admin.call("PATCH", "/admin/tenants/nobody", body={"currency": "EUR"}).status == 404


def test_a_tenant_id_and_a_channel_id_belong_to_one_tenant(admin, tenancy, db):
    add_tenant(admin, "acme", channels={"whatsapp": "1001"})
    assert admin.call("POST", "/admin/tenants", body={"tenantId": "acme", "displayName": "Again"}).status == 409
    add_tenant(admin, "beta")
    taken = admin.call("POST", "/admin/tenants/beta/channels", body={"channel": "whatsapp", "id": "1001"})
    assert taken.status == 409 and "belongs to tenant 'acme'" in taken.json["error"]
    assert routing(tenancy).claimed("whatsapp", "1001") == "acme"

    letters = admin.call("POST", "/admin/tenants/beta/channels", body={"channel": "whatsapp", "id": "phone-1"})
    assert letters.status == 422 and "numeric" in letters.json["error"]
    assert admin.call("POST", "/admin/tenants/beta/channels", body={"channel": "telegram", "id": "1"}).status == 422

    released = admin.ok("DELETE", "/admin/tenants/acme/channels/whatsapp/1001")
    assert released["removed"] == {"channel": "whatsapp", "id": "1001"}
    assert routing(tenancy).claimed("whatsapp", "1001") is None
    assert admin.call("DELETE", "/admin/tenants/acme/channels/whatsapp/1001").status == 404
    created(admin, "/admin/tenants/beta/channels", {"channel": "whatsapp", "id": "1001"})
    assert routing(tenancy).claimed("whatsapp", "1001") == "beta"
    webchat = created(admin, "/admin/tenants/beta/channels", {"channel": "webchat"})
    assert webchat["id"].startswith("wk_") and routing(tenancy).claimed("webchat", webchat["id"]) == "beta"


def test_keys_are_shown_once_stored_hashed_listed_and_revoked(admin, tenancy, db):
    add_tenant(admin, "acme")
    key = created(admin, "/admin/tenants/acme/keys", {"kind": "ingest", "label": "nightly fetcher"})
    assert key["key"].startswith("mik_") and len(key["key"]) > 30 and key["hint"] == "…" + key["key"][-4:]
    stored = db.execute("SELECT * FROM tenant_keys WHERE key_id = %s", (key["keyId"],)).fetchone()
    assert stored["key_hash"] == key_hash(key["key"]) and key["key"] not in json.dumps(stored, default=str)
    assert routing(tenancy).key_tenant("ingest", key["key"]) == "acme"

    listed = admin.ok("GET", "/admin/tenants/acme/keys")["keys"]
    assert key["key"] not in json.dumps(listed)
    assert {k["keyId"] for k in listed} >= {key["keyId"]}

    given = created(
        admin, "/admin/tenants/acme/keys", {"kind": "support_board", "key": "the-secret-set-in-support-board"}
    )
    assert given["key"] == "the-secret-set-in-support-board"
    again = admin.call("POST", "/admin/tenants/acme/keys", body={"kind": "ingest", "key": given["key"]})
    assert again.status == 409
    short = admin.call("POST", "/admin/tenants/acme/keys", body={"kind": "ingest", "key": "short"})
    assert short.status == 422

    revoked = admin.ok("DELETE", f"/admin/tenants/acme/keys/{key['keyId']}")
    assert revoked["revokedAt"] is not None
    assert routing(tenancy).key_tenant("ingest", key["key"]) is None
    assert routing(tenancy).key_tenant("support_board", given["key"]) == "acme"
    assert admin.call("DELETE", "/admin/tenants/acme/keys/key_nope").status == 404


def test_secrets_are_write_only_and_kept_per_tenant(admin, tenancy, db):
    add_tenant(admin, "acme")
    add_tenant(admin, "beta")
    answer = admin.call(
        "PUT", "/admin/tenants/acme/secrets", body={"WHATSAPP_TOKEN": "acme-wa-token", "OPENAI_API_KEY": "sk-acme"}
    )
    assert answer.status == 200 and answer.json == {"secretsSet": ["OPENAI_API_KEY", "WHATSAPP_TOKEN"]}
    assert "acme-wa-token" not in answer.raw.decode()
    assert admin.ok("GET", "/admin/tenants/acme")["secretsSet"] == ["OPENAI_API_KEY", "WHATSAPP_TOKEN"]
    assert admin.ok("GET", "/admin/tenants/beta")["secretsSet"] == []
    path = tenancy.secrets_dir / "acme.json"
    assert json.loads(path.read_text())["WHATSAPP_TOKEN"] == "acme-wa-token"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600

    removed = admin.ok("PUT", "/admin/tenants/acme/secrets", body={"OPENAI_API_KEY": None})
    assert removed == {"secretsSet": ["WHATSAPP_TOKEN"]}
    unknown = admin.call("PUT", "/admin/tenants/acme/secrets", body={"META_APP_SECRET": "x"})
    assert unknown.status == 422 and "META_APP_SECRET" in unknown.json["error"]
    assert admin.call("PUT", "/admin/tenants/acme/secrets", body={}).status == 400
    logged = db.execute("SELECT detail FROM operator_actions WHERE action = 'secrets_set'").fetchall()
    assert "acme-wa-token" not in json.dumps([r["detail"] for r in logged])


def test_secrets_live_in_one_secrets_manager_secret_per_tenant(admin, tenancy, db, secrets_manager, monkeypatch):
    from tests.integration.tenant_support import forget_tenancy_caches

    monkeypatch.delenv("MOSTRADOR_TENANT_SECRETS_DIR")
    prefix = f"mostrador-{uuid.uuid4().hex[:8]}/tenants/"  # moto's server lives for the whole session
    monkeypatch.setenv("MOSTRADOR_TENANT_SECRET_PREFIX", prefix)
    forget_tenancy_caches()
    add_tenant(admin, "acme")
    admin.ok("PUT", "/admin/tenants/acme/secrets", body={"WHATSAPP_TOKEN": "acme-wa"})
    admin.ok("PUT", "/admin/tenants/acme/secrets", body={"SUPPORT_BOARD_API_TOKEN": "acme-sb"})
    stored = json.loads(secrets_manager.get_secret_value(SecretId=f"{prefix}acme")["SecretString"])
    assert stored == {"WHATSAPP_TOKEN": "acme-wa", "SUPPORT_BOARD_API_TOKEN": "acme-sb"}
    assert admin.ok("GET", "/admin/tenants/acme")["secretsSet"] == ["SUPPORT_BOARD_API_TOKEN", "WHATSAPP_TOKEN"]
    with pytest.raises(secrets_manager.exceptions.ResourceNotFoundException):
        secrets_manager.get_secret_value(SecretId=f"{prefix}beta")


def test_an_upgraded_tenant_answering_unclaimed_ids_must_register_them_before_a_second_tenant(
    admin, tenancy, db, monkeypatch
):
    # The single-tenant deployment's conversations, from before tenants existed.
    deliver(whatsapp("hola"))
    deliver(messenger("hola"))
    db.execute("INSERT INTO tenants (tenant_id, display_name, claims_unrouted) VALUES ('default', 'default', true)")
    assert admin.ok("POST", "/admin/routing")["unroutedTenant"] == "default"
    assert routing(tenancy).unrouted_tenant == "default"

    refused = admin.call("POST", "/admin/tenants", body={"tenantId": "beta", "displayName": "Beta"})
    assert refused.status == 409 and "--no-claim-unrouted" in refused.json["error"]

    switched = admin.ok("PATCH", "/admin/tenants/default", body={"claimsUnrouted": False})
    assert switched["channelsClaimedFromConversations"] == 2  # its WhatsApp number and its Page
    table = routing(tenancy)
    assert table.unrouted_tenant is None
    assert table.claimed("whatsapp", "106540352242922") == "default" and table.claimed("messenger", "PAGE") == "default"

    add_tenant(admin, "beta")
    again = admin.call("PATCH", "/admin/tenants/default", body={"claimsUnrouted": True})
    assert again.status == 409 and "one tenant" in again.json["error"]


def test_routing_is_published_on_demand_and_a_single_tenant_deployment_says_it_has_none(
    admin, tenancy, db, monkeypatch
):
    add_tenant(admin, "acme")
    tenancy.routing_file.unlink()
    published = admin.ok("POST", "/admin/routing")
    assert published["tenants"] == ["acme"] and tenancy.routing_file.exists()

    from tests.integration.tenant_support import forget_tenancy_caches

    monkeypatch.delenv("MOSTRADOR_ROUTING_FILE")
    forget_tenancy_caches()
    answer = admin.call("POST", "/admin/routing")
    assert answer.status == 503 and "TENANT_ID" in answer.json["error"]


def test_a_routing_document_that_cannot_be_written_leaves_the_change_and_says_to_publish_again(admin, tenancy, db):
    add_tenant(admin, "acme")
    tenancy.routing_file.unlink()
    tenancy.routing_file.mkdir()  # a folder where the file should go: the rename fails
    answer = admin.call("POST", "/admin/tenants/acme/channels", body={"channel": "whatsapp", "id": "1001"})
    assert answer.status == 503 and "POST /admin/routing" in answer.json["error"]
    assert (
        db.execute("SELECT tenant_id FROM tenant_channels WHERE channel_key = '1001'").fetchone()["tenant_id"] == "acme"
    )
    tenancy.routing_file.rmdir()
    admin.ok("POST", "/admin/routing")
    assert routing(tenancy).claimed("whatsapp", "1001") == "acme"


def test_managing_tenants_needs_the_manage_tenants_permission(admin, tenancy, db, monkeypatch):
    from mostrador.operations.auth import Principal, Role, StaticTokenAuthenticator

    add_tenant(admin, "acme")
    agent = StaticTokenAuthenticator({"agent-token-0123456789": Principal("ana", Role.SUPPORT_AGENT)})
    monkeypatch.setattr(StaticTokenAuthenticator, "from_settings", classmethod(lambda cls, settings: agent))
    for method, path, body in (
        ("GET", "/admin/tenants", None),
        ("POST", "/admin/tenants", {"tenantId": "beta", "displayName": "B"}),
        ("GET", "/admin/tenants/acme", None),
        ("PATCH", "/admin/tenants/acme", {"currency": "EUR"}),
        ("POST", "/admin/tenants/acme/channels", {"channel": "whatsapp", "id": "1"}),
        ("POST", "/admin/tenants/acme/keys", {"kind": "ingest"}),
        ("PUT", "/admin/tenants/acme/secrets", {"WHATSAPP_TOKEN": "x"}),
        ("POST", "/admin/routing", {}),
    ):
        answer = admin.call(method, path, body=body, token="agent-token-0123456789")
        assert answer.status == 403, (method, path, answer.status)
        assert "manage tenants" in answer.json["error"] or "manage_tenants" in answer.json["error"]
    assert db.execute("SELECT count(*) AS n FROM tenants").fetchone()["n"] == 1


def test_the_openapi_document_lists_the_tenant_routes(admin, tenancy):
    document = admin.call("GET", "/admin/openapi.json", token=None).json
    assert {"/admin/tenants", "/admin/tenants/{tenant_id}", "/admin/tenants/{tenant_id}/keys", "/admin/routing"} <= set(
        document["paths"]
    )


def test_one_support_board_bot_and_one_tenant_answering_unclaimed_ids(admin, tenancy, db):
    bot = {"supportBoardApiUrl": "https://sb.example/include/api.php", "supportBoardDmBotUserId": "2"}
    add_tenant(admin, "acme", **bot)
    add_tenant(admin, "beta")
    taken = admin.call("PATCH", "/admin/tenants/beta", body=bot)
    assert taken.status == 409 and "Support Board URL and bot user" in taken.json["error"]
    assert (
        admin.ok("PATCH", "/admin/tenants/beta", body={**bot, "supportBoardDmBotUserId": "5"})[
            "supportBoardDmBotUserId"
        ]
        == "5"
    )
    claiming = admin.call(
        "POST", "/admin/tenants", body={"tenantId": "gamma", "displayName": "G", "claimsUnrouted": True}
    )
    assert claiming.status == 409 and "one tenant" in claiming.json["error"]
