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
from tests.integration.channel_pipeline import channel_pipeline_fixture  # noqa: F401
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


@pytest.fixture
def cli(admin, monkeypatch, capsys):
    """`mostrador tenant …` in this process, its HTTP calls answered by the real admin handler; its stdout."""
    import httpx

    from local import tenant_cli
    from local.admin_client import AdminApi
    from local.cli import main
    from tests.integration.test_admin_support import ADMIN_TOKEN

    def through_the_admin_handler(request: httpx.Request) -> httpx.Response:
        answer = admin.call(
            request.method,
            request.url.path,
            body=json.loads(request.content) if request.content else None,
            query=dict(request.url.params) or None,
            authorization=request.headers["authorization"],
            tenant=request.headers.get("x-tenant"),
        )
        return httpx.Response(answer.status, content=answer.raw, headers={"Content-Type": "application/json"})

    transport = httpx.MockTransport(through_the_admin_handler)
    monkeypatch.setattr(
        tenant_cli,
        "AdminApi",
        lambda url, token, tenant=None: AdminApi(url, token, tenant, client=httpx.Client(transport=transport)),
    )
    monkeypatch.setenv("ADMIN_TOKEN", ADMIN_TOKEN)

    def run(*args: str) -> str:
        capsys.readouterr()
        assert main([*args, "--url", "http://mostrador.test"]) == 0
        return capsys.readouterr().out

    return run


def test_switching_off_unclaimed_ids_gives_an_upgraded_tenant_without_one_a_web_chat_key(
    admin, tenancy, channel_pipeline, db, cli
):
    # On AWS the upgraded default tenant has no widget key; its keyless chat pages get 400 once it stops
    # answering unclaimed ids, so the switch makes it one and `mostrador tenant set` prints it.
    from tests.integration.test_tenant_routing import webchat

    db.execute("INSERT INTO tenants (tenant_id, display_name, claims_unrouted) VALUES ('default', 'default', true)")
    admin.ok("POST", "/admin/routing")
    chat = json.dumps({"conversationId": "conversation-0123456789", "text": "hola"})
    assert webchat("POST", None, body=chat)["statusCode"] == 202  # a keyless page still reaches it

    printed = cli("tenant", "set", "default", "--no-claim-unrouted")
    [key] = [
        row["channel_key"] for row in db.execute("SELECT channel_key FROM tenant_channels WHERE channel = 'webchat'")
    ]
    assert "web chat key (created: put it in the shop's chat pages" in printed and key in printed
    assert routing(tenancy).claimed("webchat", key) == "default" and routing(tenancy).unrouted_tenant is None
    assert webchat("POST", None, body=chat)["statusCode"] == 400  # why the key was needed
    shown = admin.ok("GET", "/admin/tenants/default")
    assert key in [c["id"] for c in shown["channels"] if c["channel"] == "webchat"]

    # A tenant that has a key keeps it: the answer names it, nothing new is made.
    admin.ok("PATCH", "/admin/tenants/default", body={"claimsUnrouted": True})
    again = admin.ok("PATCH", "/admin/tenants/default", body={"claimsUnrouted": False})
    assert (again["webchatKey"], again["webchatKeyCreated"]) == (key, False)
    assert db.execute("SELECT count(*) AS n FROM tenant_channels WHERE channel = 'webchat'").fetchone()["n"] == 1


def test_escalation_recipients_the_deployment_cannot_reach_are_stored_with_a_warning_saying_so(
    admin, tenancy, db, cli, monkeypatch
):
    from mostrador.config import reset_settings

    made = admin.call(
        "POST", "/admin/tenants", body={"tenantId": "acme", "displayName": "Acme", "escalationEmail": "a@acme.test"}
    )
    assert made.status == 201
    [no_mail] = made.json["warnings"]
    assert no_mail.startswith("escalationEmail: this deployment sends no e-mail") and "ESCALATION_EMAIL_FROM" in no_mail
    agents = admin.ok("PATCH", "/admin/tenants/acme", body={"escalationAgentIds": ["11"]})
    [_, no_board] = agents["warnings"]
    assert agents["escalationAgentIds"] == ["11"] and "supportBoardApiUrl" in no_board
    # Said on every change while it holds, so whoever changes the tenant next learns it too.
    assert admin.ok("PATCH", "/admin/tenants/acme", body={"currency": "EUR"})["warnings"] == [no_mail, no_board]
    # A webhook does not make Mostrador mail or assign anyone: the warnings stay.
    hooked = admin.ok("PATCH", "/admin/tenants/acme", body={"escalationWebhookUrl": "https://hooks.acme.test/esc"})
    assert hooked["warnings"] == [no_mail, no_board]

    # The tenant's own Support Board takes the agent warning away; the deployment's sender the e-mail one.
    board = admin.ok("PATCH", "/admin/tenants/acme", body={"supportBoardApiUrl": "https://sb.acme.test/api.php"})
    assert board["warnings"] == [no_mail]
    monkeypatch.setenv("ESCALATION_EMAIL_FROM", "avisos@mostrador.example")
    reset_settings()
    assert "warnings" not in admin.ok("PATCH", "/admin/tenants/acme", body={"currency": "USD"})
    monkeypatch.delenv("ESCALATION_EMAIL_FROM")
    reset_settings()

    plain = admin.call("POST", "/admin/tenants", body={"tenantId": "beta", "displayName": "Beta"})
    assert plain.status == 201 and "warnings" not in plain.json
    assert f"warning: {no_mail}" in cli("tenant", "set", "beta", "--escalation-email", "b@beta.test")


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


def test_a_single_tenant_deployment_refuses_tenants_channels_and_keys_before_storing_anything(admin, db):
    # No routing document (neither MOSTRADOR_ROUTING_SECRET_ARN nor MOSTRADOR_ROUTING_FILE): nothing
    # could route to what would be stored, so it is refused first (it was stored, then answered 503).
    from mostrador.config import get_settings
    from mostrador.operations.tenants import ensure_default_tenant

    ensure_default_tenant(db, get_settings())  # the deploy's first start: the one tenant, TENANT_ID
    tenants_before = db.execute("SELECT count(*) AS n FROM tenants").fetchone()["n"]
    keys_before = db.execute("SELECT count(*) AS n FROM tenant_keys").fetchone()["n"]
    audited_before = db.execute("SELECT count(*) AS n FROM audit_log").fetchone()["n"]
    for method, path, body in (
        ("POST", "/admin/tenants", {"tenantId": "acme", "displayName": "Acme"}),
        ("POST", "/admin/tenants", {"tenantId": "acme", "displayName": "Acme"}),  # a retry: the same answer
        ("POST", "/admin/tenants/default/channels", {"channel": "whatsapp", "id": "1001"}),
        ("POST", "/admin/tenants/default/keys", {"kind": "ingest"}),
        ("DELETE", "/admin/tenants/default/keys/key_000000000000", None),
        ("PATCH", "/admin/tenants/default", {"claimsUnrouted": False}),
    ):
        answer = admin.call(method, path, body=body)
        assert answer.status == 409, (path, answer.status, answer.raw)
        error = answer.json["error"]
        assert "single-tenant deployment" in error and "MOSTRADOR_ROUTING_SECRET_ARN" in error
        assert "MOSTRADOR_ROUTING_FILE" in error and "Nothing was stored" in error
    assert db.execute("SELECT count(*) AS n FROM tenants").fetchone()["n"] == tenants_before
    assert db.execute("SELECT count(*) AS n FROM tenant_channels WHERE channel_key = '1001'").fetchone()["n"] == 0
    assert db.execute("SELECT count(*) AS n FROM tenant_keys").fetchone()["n"] == keys_before
    assert (
        db.execute("SELECT count(*) AS n FROM audit_log").fetchone()["n"] == audited_before
    )  # a refused mutation leaves no entry (test_admin_access)
    # Settings that do not route still change.
    assert admin.ok("PATCH", "/admin/tenants/default", body={"currency": "EUR"})["currency"] == "EUR"


def test_a_routing_document_that_cannot_be_written_leaves_the_change_and_says_to_publish_again(admin, tenancy, db):
    add_tenant(admin, "acme")
    tenancy.routing_file.unlink()
    tenancy.routing_file.mkdir()  # a folder where the file should go: the rename fails
    answer = admin.call("POST", "/admin/tenants/acme/channels", body={"channel": "whatsapp", "id": "1001"})
    assert answer.status == 503 and "POST /admin/routing" in answer.json["error"]
    assert (
        db.execute("SELECT tenant_id FROM tenant_channels WHERE channel_key = '1001'").fetchone()["tenant_id"] == "acme"
    )
    # Stored, so audited with the answer it got; the publish that follows is audited too.
    [entry] = admin.ok("GET", "/admin/audit", query={"action": "add_channel"})["entries"]
    assert (entry["status"], entry["tenant"], entry["targetId"]) == (503, "acme", "whatsapp:1001")
    tenancy.routing_file.rmdir()
    admin.ok("POST", "/admin/routing")
    assert routing(tenancy).claimed("whatsapp", "1001") == "acme"
    assert admin.ok("GET", "/admin/audit")["entries"][0]["action"] == "publish_routing"


def test_the_operator_manages_tenants_an_owner_its_own_settings_and_nobody_else_anything(admin, tenancy, db):
    add_tenant(admin, "acme")
    add_tenant(admin, "beta")

    def token(role: str) -> support.AdminClient:
        made = admin.ok("POST", "/admin/tokens", body={"name": f"{role} of acme", "role": role}, tenant="acme")
        return support.AdminClient(made["secret"])

    owner, agent, viewer = token("owner"), token("agent"), token("viewer")
    key = created(admin, "/admin/tenants/acme/keys", {"kind": "ingest"})
    operator_only = [
        ("GET", "/admin/tenants", None),
        ("POST", "/admin/tenants", {"tenantId": "gamma", "displayName": "G"}),
        ("POST", "/admin/tenants/acme/channels", {"channel": "whatsapp", "id": "1"}),
        ("DELETE", "/admin/tenants/acme/channels/webchat/wk_x", None),
        ("POST", "/admin/routing", {}),
    ]
    own_settings = [
        ("GET", "/admin/tenants/acme", None),
        ("PATCH", "/admin/tenants/acme", {"currency": "EUR"}),
        ("GET", "/admin/tenants/acme/keys", None),
        ("POST", "/admin/tenants/acme/keys", {"kind": "ingest"}),
        ("DELETE", f"/admin/tenants/acme/keys/{key['keyId']}", None),
        ("PUT", "/admin/tenants/acme/secrets", {"WHATSAPP_TOKEN": "acme-own"}),
    ]

    # Agents and viewers: refused before their input is read, naming what they miss.
    for client, role in ((agent, "agent"), (viewer, "viewer")):
        for method, path, body in operator_only + own_settings:
            answer = client.call(method, path, body=body)
            missing = "manage_tenants" if (method, path, body) in operator_only else "manage_tenant_settings"
            assert answer.status == 403, (role, method, path, answer.status)
            assert answer.json["missingPermission"] == missing and f"'{role}'" in answer.json["error"]

    # Its owner: the tenant's own settings, keys and secrets, never the operator's part.
    for method, path, body in operator_only:
        answer = owner.call(method, path, body=body)
        assert answer.status == 403 and answer.json["missingPermission"] == "manage_tenants", (method, path)
    for method, path, body in own_settings:
        answer = owner.call(method, path, body=body)
        assert answer.status in (200, 201), (method, path, answer.status, answer.raw[:300])
    switched_off = owner.call("PATCH", "/admin/tenants/acme", body={"active": False})
    assert switched_off.status == 403 and "'manage_tenants'" in switched_off.json["error"]
    assert "active" in switched_off.json["error"]

    # ... of its own tenant only, whether named in the path or in X-Tenant.
    for method, path, body in [(m, p.replace("acme", "beta"), b) for m, p, b in own_settings[:4]]:
        answer = owner.call(method, path, body=body)
        assert answer.status == 403 and "cannot act on tenant 'beta'" in answer.json["error"], (method, path)
    assert owner.call("GET", "/admin/conversations", tenant="beta").status == 403
    beta = db.execute("SELECT currency, active FROM tenants WHERE tenant_id = 'beta'").fetchone()
    assert (beta["currency"], beta["active"]) == ("USD", True)
    acme = db.execute("SELECT currency, active FROM tenants WHERE tenant_id = 'acme'").fetchone()
    assert (acme["currency"], acme["active"]) == ("EUR", True)
    assert db.execute("SELECT count(*) AS n FROM tenants").fetchone()["n"] == 2

    # The operator: any tenant, by path; an X-Tenant that disagrees with the path, or names nobody, is refused.
    assert admin.ok("GET", "/admin/tenants/beta")["tenantId"] == "beta"
    assert admin.call("GET", "/admin/tenants/beta", tenant="acme").status == 400
    unknown = admin.call("GET", "/admin/conversations", tenant="nadie")
    assert unknown.status == 404 and "No tenant 'nadie'" in unknown.json["error"]


def test_tenant_management_is_in_the_audit_log_without_keys_or_secrets(admin, tenancy, db):
    shop = add_tenant(admin, "acme", channels={"whatsapp": "1001"}, secrets={"WHATSAPP_TOKEN": "acme-wa-token"})
    owner_secret = admin.ok("POST", "/admin/tokens", body={"name": "olga", "role": "owner"}, tenant="acme")["secret"]
    owner = support.AdminClient(owner_secret)
    owner.ok("PATCH", "/admin/tenants/acme", body={"systemPrompt": "Eres Lía."})
    owner.ok("DELETE", f"/admin/tenants/acme/keys/{shop['ingest_id']}")

    entries = admin.ok("GET", "/admin/audit")["entries"][::-1]  # oldest first
    assert [(e["action"], e["tenant"], e["actor"], e["targetId"]) for e in entries] == [
        ("create_tenant", "acme", "admin", "acme"),
        ("add_channel", "acme", "admin", "whatsapp:1001"),
        ("create_key", "acme", "admin", entries[2]["targetId"]),
        ("create_key", "acme", "admin", entries[3]["targetId"]),
        ("set_secrets", "acme", "admin", "acme"),
        ("create_token", "acme", "admin", entries[5]["targetId"]),
        ("update_tenant", "acme", "olga", "acme"),
        ("revoke_key", "acme", "olga", shop["ingest_id"]),
    ]
    assert entries[2]["targetId"] == shop["ingest_id"] and entries[3]["targetId"].startswith("key_")
    # The tenant's owner reads its own tenant's entries, tenant management included.
    assert [e["action"] for e in owner.ok("GET", "/admin/audit")["entries"]][:2] == ["revoke_key", "update_tenant"]
    stored = json.dumps(db.execute("SELECT * FROM audit_log").fetchall(), default=str)
    for secret in (shop["ingest"], shop["support_board"], shop["webchat"], "acme-wa-token", owner_secret, "Lía"):
        assert secret not in stored


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


def test_a_new_tenant_with_another_tenants_support_board_bot_is_a_409_and_nothing_is_stored(admin, tenancy, db):
    bot = {"supportBoardApiUrl": "https://sb.example/include/api.php", "supportBoardDmBotUserId": "2"}
    add_tenant(admin, "acme", secrets={"SUPPORT_BOARD_API_TOKEN": "acme-sb-token"}, **bot)
    same = {**bot, "supportBoardApiUrl": "https://SB.example/include/api.php"}  # URLs compare without case
    taken = admin.call("POST", "/admin/tenants", body={"tenantId": "beta", "displayName": "B", **same})
    assert taken.status == 409, taken.raw
    assert "tenant 'acme' has this Support Board URL and bot user" in taken.json["error"]
    assert b"acme-sb-token" not in taken.raw
    assert db.execute("SELECT 1 FROM tenants WHERE tenant_id = 'beta'").fetchone() is None
    created(admin, "/admin/tenants", {"tenantId": "beta", "displayName": "B", **bot, "supportBoardDmBotUserId": "5"})

    # A tenant's owner is told the bot is taken, not whose it is.
    from tests.integration.tenant_support import as_tenant

    as_tenant(admin, "beta")
    refused = admin.call("PATCH", "/admin/tenants/beta", body={"supportBoardDmBotUserId": "2"})
    assert refused.status == 409 and "another tenant has this Support Board URL" in refused.json["error"]
    assert b"acme" not in refused.raw


def test_a_deploy_whose_default_tenant_bot_another_tenant_has_still_creates_the_default_tenant(admin, tenancy, db):
    from mostrador.config import load_settings
    from mostrador.operations.tenants import ensure_default_tenant

    url = "https://sb.example/include/api.php"
    add_tenant(admin, "acme", supportBoardApiUrl=url, supportBoardDmBotUserId="2")
    settings = load_settings(
        {"TENANT_ID": "renamed", "SUPPORT_BOARD_API_URL": url, "SUPPORT_BOARD_DM_BOT_USER_ID": "2"}
    )
    done = ensure_default_tenant(db, settings)
    assert done[:2] == [
        "created tenant renamed",
        "Support Board bot left to tenant acme (SUPPORT_BOARD_DM_BOT_USER_ID)",
    ]
    row = db.execute("SELECT support_board_dm_bot_user_id FROM tenants WHERE tenant_id = 'renamed'").fetchone()
    assert row["support_board_dm_bot_user_id"] is None
