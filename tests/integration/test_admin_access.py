"""Admin access end to end through the real admin handler on a real PostgreSQL: each role's allowed and
refused actions on every route of the app's route table, tenants kept apart, tokens (hashed, listed,
revoked, cached), and the audit entry of every mutation. Conversations come from the real reply handler."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.fakes.platforms import platforms_fixture  # noqa: F401
from tests.integration import knowledge_support
from tests.integration import test_admin_support as support
from tests.integration.tenant_support import tenancy_fixture  # noqa: F401
from tests.integration.test_admin_support import ADMIN_TOKEN, ADMIN_TOKEN_HASH_KEY, AdminClient
from tests.integration.test_reply_support import deliver, whatsapp

admin, reply_env = support.admin, support.reply_env
knowledge = knowledge_support.knowledge

NORTE, SUR = "norte", "sur"


def routes() -> list[Any]:
    """Every route of the admin function that needs a token (all but the OpenAPI document and console files)."""
    from functions.admin.access_routes import routes_of
    from functions.admin.handler import app, is_public

    return [r for r in routes_of(app) if not is_public(r.method, concrete(r))]


def template(route: Any) -> tuple[str, str]:
    return route.method, route.openapi_path


def concrete(route: Any, value: str = "999999") -> str:
    """The route's path with made-up ids, but the tenant of the staff's tokens where a path names a tenant,
    and a conversation named by a (made-up) handle, as every role may address one (a raw conversation id
    needs view_customer_contact: test_console_api's masked-role tests)."""
    path = route.path.replace("<tenant_id>", NORTE).replace("<conversation_id>", f"h.{value}")
    return re.sub(r"<\w+>", value, path)


def make_token(creator: AdminClient, role: str, name: str, **body: Any) -> AdminClient:
    created = creator.ok("POST", "/admin/tokens", body={"name": name, "role": role, **body})
    return AdminClient(created["secret"])


@pytest.fixture(autouse=True)
def tenants(db) -> None:
    """Tenants norte and sur, as rows (how they are made through /admin/tenants is test_tenant_admin's)."""
    from mostrador.db.tenant_repository import create_tenant

    for tenant in (NORTE, SUR):
        create_tenant(db, tenant, {"display_name": tenant.title()})


@pytest.fixture
def staff(admin) -> dict[str, AdminClient]:
    """A client per role: the deployment's ADMIN_TOKEN, and tokens of tenant `norte` made by it."""
    operator_for_norte = AdminClient(ADMIN_TOKEN, tenant=NORTE)
    return {
        "operator": admin,
        "owner": make_token(operator_for_norte, "owner", "olga"),
        "agent": make_token(operator_for_norte, "agent", "ana"),
        "viewer": make_token(operator_for_norte, "viewer", "victor"),
    }


@pytest.fixture
def norte_sends(tenancy, reply_env) -> None:
    """Norte has a WhatsApp token of its own (a tenant never sends with the deployment's, docs/tenants.md)."""
    reply_env.meta.other_tokens = {"norte-wa-token"}
    AdminClient(ADMIN_TOKEN).ok("PUT", f"/admin/tenants/{NORTE}/secrets", body={"WHATSAPP_TOKEN": "norte-wa-token"})


def in_tenant(tenant: str, text: str, *, sender: str = "584125550101") -> Any:
    """A WhatsApp message of one tenant; both tenants share the phone number id and customers on purpose."""
    return whatsapp(text, sender=sender).model_copy(update={"tenant_id": tenant})


def audit_rows(db) -> list[dict[str, Any]]:
    return db.execute("SELECT * FROM audit_log ORDER BY id").fetchall()


# -- the role matrix, from the app's route table ------------------------------------------------------

READS = {
    ("GET", "/admin/me"),
    ("GET", "/admin/conversations"),
    ("GET", "/admin/conversations/{conversation_id}"),
    ("GET", "/admin/escalations"),
    ("GET", "/admin/analytics"),
    ("GET", "/admin/analytics/syncs"),
    ("GET", "/admin/model-prices"),
    ("GET", "/admin/search/synonyms"),
    ("GET", "/admin/console/inbox"),
    ("GET", "/admin/console/conversations/{conversation_id}"),
    ("GET", "/admin/console/products"),
    ("GET", "/admin/console/syncs/{sync_id}/failures"),
    ("GET", "/admin/knowledge/documents"),
    ("GET", "/admin/knowledge/documents/{document_id}"),
    ("GET", "/admin/knowledge/faq"),
    ("GET", "/admin/knowledge/suggestions"),
    ("GET", "/admin/knowledge/search"),
}
STEERING = {
    ("POST", "/admin/conversations/{conversation_id}/takeover"),
    ("POST", "/admin/conversations/{conversation_id}/resume"),
    ("POST", "/admin/conversations/{conversation_id}/reset"),
    ("POST", "/admin/escalations/{escalation_id}/resolve"),
    ("POST", "/admin/conversations/{conversation_id}/reply"),  # as a person, from the console
    ("POST", "/admin/knowledge/suggestions/{suggestion_id}/approve"),  # knowledge suggestions
    ("POST", "/admin/knowledge/suggestions/{suggestion_id}/discard"),
}
# What the words give each role, written out route by route: a new route must be placed here.
EVERY_ROUTE = "every route"
ALLOWED: dict[str, set[tuple[str, str]] | str] = {
    "viewer": READS,  # read only; not the export (all customer messages), tokens or the audit log
    "agent": READS | STEERING,  # conversations, takeover, escalations, knowledge suggestions
    "owner": EVERY_ROUTE,  # everything of its tenant (tenant management is the operator's)
    "operator": EVERY_ROUTE,
}


def test_every_route_declares_the_permissions_it_needs():
    from functions.admin.access_routes import declared_permissions

    undeclared = [template(r) for r in routes() if declared_permissions(r) is None]
    assert undeclared == [], "every admin route must declare its permissions with requires(...)"
    open_to_all = [template(r) for r in routes() if declared_permissions(r) == frozenset()]
    assert open_to_all == [("GET", "/admin/me")]


def test_each_role_is_allowed_and_refused_exactly_per_its_permissions_on_every_route(staff, db, knowledge):
    from functions.admin.access_routes import declared_permissions
    from mostrador.operations.auth import ROLE_PERMISSIONS, Role

    every = {template(r) for r in routes()}
    for name, expected in ALLOWED.items():
        allowed = every if expected == EVERY_ROUTE else expected
        assert allowed <= every, f"{name}: routes that no longer exist: {allowed - every}"
    successes_that_mutate = 0
    for role_name, client in staff.items():
        role = Role(role_name)
        expected = ALLOWED[role_name]
        for route in routes():
            needed = declared_permissions(route) or frozenset()
            missing = sorted(p for p in needed if p not in ROLE_PERMISSIONS[role])
            body = {} if route.method in ("POST", "PUT", "PATCH", "DELETE") else None
            answer = client.call(route.method, concrete(route), body=body)
            where = (role_name, *template(route), answer.status, answer.raw[:200])
            if missing:
                # Refused before any input is looked at, naming the first permission missing.
                assert answer.status == 403, where
                assert answer.json["missingPermission"] == missing[0].value, where
                assert f"'{missing[0].value}'" in answer.json["error"] and f"'{role_name}'" in answer.json["error"]
                assert route.openapi_path in answer.json["error"], where
                assert template(route) not in (set() if expected == EVERY_ROUTE else expected), where
            else:
                assert answer.status not in (401, 403), where
                assert expected == EVERY_ROUTE or template(route) in expected, where
                if answer.status < 400 and body is not None:
                    successes_that_mutate += 1
    # Refused and failed calls leave no audit entry; the ones that changed something (if any) leave one each.
    assert len(audit_rows(db)) == 3 + successes_that_mutate  # the three tokens of the fixture


def test_viewer_is_read_only_on_every_mutating_route(staff):
    mutating = [r for r in routes() if r.method != "GET"]
    assert mutating
    for route in mutating:
        answer = staff["viewer"].call(route.method, concrete(route), body={})
        assert answer.status == 403, template(route)


def test_me_says_who_is_calling_for_which_tenant_with_which_permissions(staff):
    from mostrador.operations.auth import ROLE_PERMISSIONS, Role

    for role_name, client in staff.items():
        me = client.ok("GET", "/admin/me")
        assert me["role"] == role_name
        assert me["permissions"] == sorted(p.value for p in ROLE_PERMISSIONS[Role(role_name)])
    assert staff["agent"].ok("GET", "/admin/me") | {"tokenId": None} == {
        "subject": "ana",
        "role": "agent",
        "tenant": NORTE,
        "tenantFixed": True,
        "tokenId": None,
        "permissions": [
            "read_conversations",
            "reply_to_customers",
            "review_suggestions",
            "steer_conversations",
            "view_analytics",
        ],
    }
    operator = staff["operator"].ok("GET", "/admin/me")
    assert (operator["subject"], operator["tenant"], operator["tenantFixed"], operator["tokenId"]) == (
        "admin",
        "default",
        False,
        None,
    )
    assert AdminClient(ADMIN_TOKEN, tenant=SUR).ok("GET", "/admin/me")["tenant"] == SUR


# -- tenants kept apart ------------------------------------------------------------------------------


def test_a_tenant_token_never_reaches_another_tenants_rows(admin, db):
    """Two tenants with the same customer and conversation ids: norte's owner sees and changes only norte's."""
    norte_owner = make_token(AdminClient(ADMIN_TOKEN, tenant=NORTE), "owner", "olga")
    sur_owner = make_token(AdminClient(ADMIN_TOKEN, tenant=SUR), "owner", "sara")
    sur_agent = make_token(sur_owner, "agent", "santi")
    for tenant in (NORTE, SUR):
        deliver(in_tenant(tenant, f"hola desde {tenant}"))
        deliver(in_tenant(tenant, "quiero hablar con un asesor", sender="584125550102"))
    shared = in_tenant(NORTE, "x").conversation_id
    assert shared == in_tenant(SUR, "x").conversation_id

    def texts(client: AdminClient) -> set[str]:
        view = client.ok("GET", f"/admin/conversations/{shared}")
        return {m["text"] for m in view["messages"] if m["direction"] == "inbound"}

    assert texts(norte_owner) == {"hola desde norte"} and texts(sur_owner) == {"hola desde sur"}
    listed = norte_owner.ok("GET", "/admin/conversations")["conversations"]
    assert len(listed) == 2 and "desde sur" not in json.dumps(listed)

    # A takeover by norte pauses norte's conversation only.
    norte_owner.ok("POST", f"/admin/conversations/{shared}/takeover", body={"minutes": 10})
    pauses = db.execute("SELECT tenant_id FROM conversation_pauses WHERE conversation_id = %s", (shared,)).fetchall()
    assert [p["tenant_id"] for p in pauses] == [NORTE]
    assert sur_owner.ok("GET", f"/admin/conversations/{shared}")["conversation"]["paused"] is None

    # Escalations: each sees its own; resolving the other's answers 404 and changes nothing.
    [norte_escalation] = norte_owner.ok("GET", "/admin/escalations")["escalations"]
    [sur_escalation] = sur_owner.ok("GET", "/admin/escalations")["escalations"]
    refused = norte_owner.call("POST", f"/admin/escalations/{sur_escalation['id']}/resolve", body={"note": "hecho"})
    assert refused.status == 404
    assert sur_owner.ok("GET", "/admin/escalations")["escalations"][0]["status"] == "open"
    assert norte_escalation["id"] != sur_escalation["id"]

    # Naming the other tenant is refused outright, for every role of a tenant.
    for client in (norte_owner, sur_agent):
        other = SUR if client is norte_owner else NORTE
        answer = client.call("GET", "/admin/conversations", tenant=other)
        assert answer.status == 403 and "cannot act on tenant" in answer.json["error"]
    assert norte_owner.call("GET", "/admin/conversations", tenant=NORTE).status == 200

    # Export and analytics count only the tenant's own messages.
    today = str(datetime.now(UTC).date())
    exported = json.loads(norte_owner.get("/admin/export", since=today, until=today, format="json").raw)
    texts_exported = [row["text"] for row in exported["rows"]]
    assert "hola desde norte" in texts_exported and "hola desde sur" not in texts_exported
    deliver(in_tenant(NORTE, "una pregunta más"))  # norte has one customer message more than sur
    norte_counts = norte_owner.ok("GET", "/admin/analytics", query={"since": today, "until": today})
    sur_counts = sur_owner.ok("GET", "/admin/analytics", query={"since": today, "until": today})
    norte_in, sur_in = (c["messagesByChannel"]["whatsapp"]["inbound"] for c in (norte_counts, sur_counts))
    assert (norte_in, sur_in) == (3, 2)  # counted apart: neither sees the other's (nor everyone's 5)
    everyone = admin.ok("GET", "/admin/conversations", tenant=NORTE)["conversations"]
    assert len(everyone) == 2  # the operator sees a tenant only by naming it

    # Tokens and the audit log: each owner sees its own tenant's only, and cannot revoke the other's.
    assert {t["tenant"] for t in norte_owner.ok("GET", "/admin/tokens")["tokens"]} == {NORTE}
    sur_tokens = sur_owner.ok("GET", "/admin/tokens")["tokens"]
    assert {t["name"] for t in sur_tokens} == {"sara", "santi"}
    santi = next(t for t in sur_tokens if t["name"] == "santi")
    assert norte_owner.call("POST", f"/admin/tokens/{santi['id']}/revoke", body={}).status == 404
    assert sur_agent.call("GET", "/admin/conversations").status == 200
    assert {e["tenant"] for e in norte_owner.ok("GET", "/admin/audit")["entries"]} == {NORTE}
    assert {e["tenant"] for e in sur_owner.ok("GET", "/admin/audit")["entries"]} == {SUR}


# -- tokens ------------------------------------------------------------------------------------------


def test_a_token_is_shown_once_and_stored_only_as_its_keyed_hash(admin, db):
    created = admin.ok("POST", "/admin/tokens", body={"name": "olga", "role": "owner"}, tenant=NORTE)
    secret = created["secret"]
    assert secret.startswith("mst_") and len(secret) >= 40 and created["prefix"] == secret[:12]
    assert (created["tenant"], created["role"], created["status"], created["createdBy"]) == (
        NORTE,
        "owner",
        "active",
        "admin",
    )
    [row] = db.execute("SELECT * FROM admin_tokens").fetchall()
    assert bytes(row["token_hash"]) == hmac.new(ADMIN_TOKEN_HASH_KEY.encode(), secret.encode(), hashlib.sha256).digest()
    assert secret not in json.dumps(row, default=str)  # no column holds the token

    listed = admin.call("GET", "/admin/tokens")
    assert listed.status == 200 and secret not in listed.raw.decode() and secret[12:] not in listed.raw.decode()
    [token] = listed.json["tokens"]
    assert token["prefix"] == created["prefix"] and "secret" not in token
    owner = AdminClient(secret)
    assert owner.ok("GET", "/admin/me")["subject"] == "olga"
    assert AdminClient(secret + "x").call("GET", "/admin/me").status == 401
    assert AdminClient(secret[:-1]).call("GET", "/admin/me").status == 401


def test_who_may_create_which_token(staff, db):
    owner, agent, viewer = staff["owner"], staff["agent"], staff["viewer"]
    made = owner.ok("POST", "/admin/tokens", body={"name": "otra", "role": "owner"})
    assert made["tenant"] == NORTE
    refused = owner.call("POST", "/admin/tokens", body={"name": "yo", "role": "operator"})
    assert refused.status == 403 and "'manage_tenants'" in refused.json["error"]
    assert "creating a token with the role 'operator'" in refused.json["error"]
    for client in (agent, viewer):
        answer = client.call("POST", "/admin/tokens", body={"name": "x", "role": "viewer"})
        assert answer.status == 403 and answer.json["missingPermission"] == "manage_tokens"
    assert owner.call("POST", "/admin/tokens", body={"name": "x", "role": "viewer"}, tenant=SUR).status == 403

    operator_token = staff["operator"].ok("POST", "/admin/tokens", body={"name": "ops", "role": "operator"})
    assert operator_token["tenant"] is None
    ops = AdminClient(operator_token["secret"])
    assert ops.ok("GET", "/admin/me")["tenant"] == "default"
    assert AdminClient(operator_token["secret"], tenant=SUR).ok("GET", "/admin/me")["tenant"] == SUR

    for body, field in (
        ({"role": "owner"}, "name"),
        ({"name": "x", "role": "admin"}, "role"),
        ({"name": "", "role": "owner"}, "name"),
        ({"name": "x", "role": "owner", "expiresInDays": 0}, "expiresInDays"),
        ({"name": "x", "role": "owner", "secret": "mine"}, "secret"),
    ):
        answer = owner.call("POST", "/admin/tokens", body=body)
        assert answer.status == 422 and field in answer.json["error"], (body, answer.json)


def test_revoked_and_expired_tokens_are_refused(staff, db):
    owner = staff["owner"]
    created = owner.ok("POST", "/admin/tokens", body={"name": "temporal", "role": "viewer", "expiresInDays": 1})
    temporary = AdminClient(created["secret"])
    assert temporary.call("GET", "/admin/conversations").status == 200
    assert datetime.fromisoformat(created["expiresAt"]) - datetime.now(UTC) > timedelta(hours=23)

    revoked = owner.ok("POST", f"/admin/tokens/{created['id']}/revoke", body={})
    assert (revoked["status"], revoked["revokedBy"]) == ("revoked", "olga")
    assert temporary.call("GET", "/admin/conversations").status == 401  # at once, though it was cached
    again = owner.call("POST", f"/admin/tokens/{created['id']}/revoke", body={})
    assert again.status == 409 and "already revoked" in again.json["error"]
    assert owner.call("POST", "/admin/tokens/999999/revoke", body={}).status == 404
    # An operator token is the deployment's: an owner can neither see nor revoke it.
    ops = staff["operator"].ok("POST", "/admin/tokens", body={"name": "ops", "role": "operator"})
    assert owner.call("POST", f"/admin/tokens/{ops['id']}/revoke", body={}).status == 404

    expiring = owner.ok("POST", "/admin/tokens", body={"name": "caduca", "role": "viewer"})
    db.execute("UPDATE admin_tokens SET expires_at = now() - interval '1 second' WHERE id = %s", (expiring["id"],))
    assert AdminClient(expiring["secret"]).call("GET", "/admin/conversations").status == 401
    statuses = {t["name"]: t["status"] for t in owner.ok("GET", "/admin/tokens")["tokens"]}
    assert statuses["temporal"] == "revoked" and statuses["caduca"] == "expired" and statuses["olga"] == "active"
    active = {t["name"] for t in owner.ok("GET", "/admin/tokens", query={"status": "active"})["tokens"]}
    assert active == {"olga", "ana", "victor"}


def test_a_token_is_looked_up_once_per_cache_period_and_a_revocation_elsewhere_lands_within_it(staff, db):
    from mostrador.operations.auth import TOKEN_CACHE

    agent = staff["agent"]
    agent.ok("GET", "/admin/me")
    first_use = db.execute("SELECT last_used_at FROM admin_tokens WHERE name = 'ana'").fetchone()["last_used_at"]
    for _ in range(3):
        agent.ok("GET", "/admin/me")
    again = db.execute("SELECT last_used_at FROM admin_tokens WHERE name = 'ana'").fetchone()["last_used_at"]
    assert first_use is not None and again == first_use  # no lookup while cached

    # Another execution environment revokes it (straight in the table): this one still holds it until
    # its cache entry is older than the period, then refuses it.
    db.execute("UPDATE admin_tokens SET revoked_at = now(), revoked_by = 'elsewhere' WHERE name = 'ana'")
    assert agent.call("GET", "/admin/me").status == 200
    ticks = [TOKEN_CACHE.clock() + TOKEN_CACHE.ttl_seconds + 0.01]
    original = TOKEN_CACHE.clock
    TOKEN_CACHE.clock = lambda: ticks[0]
    try:
        assert agent.call("GET", "/admin/me").status == 401
    finally:
        TOKEN_CACHE.clock = original


def test_the_deployment_token_works_without_the_database_and_tokens_fail_clearly_when_it_is_down(staff, monkeypatch):
    from mostrador.config import reset_settings
    from mostrador.db.connection import close_connection
    from mostrador.operations.auth import TOKEN_CACHE

    TOKEN_CACHE.clear()
    close_connection()
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none?connect_timeout=2")
    reset_settings()
    assert staff["operator"].ok("GET", "/admin/me")["role"] == "operator"
    down = staff["agent"].call("GET", "/admin/me")
    assert down.status == 503 and "try again" in down.json["error"]
    close_connection()


def test_without_the_hash_key_only_admin_token_works_and_no_token_can_be_made(staff, monkeypatch):
    from mostrador.config import reset_settings
    from mostrador.operations.auth import TOKEN_CACHE

    monkeypatch.delenv("ADMIN_TOKEN_HASH_KEY")
    reset_settings()
    TOKEN_CACHE.clear()
    assert staff["owner"].call("GET", "/admin/me").status == 401
    answer = staff["operator"].call("POST", "/admin/tokens", body={"name": "x", "role": "viewer"})
    assert answer.status == 503 and "ADMIN_TOKEN_HASH_KEY" in answer.json["error"]
    # Another key voids every token made under the old one.
    monkeypatch.setenv("ADMIN_TOKEN_HASH_KEY", "another-key-0123456789abcdef0123456789")
    reset_settings()
    assert staff["owner"].call("GET", "/admin/me").status == 401


# -- the audit log -----------------------------------------------------------------------------------


def test_every_mutation_of_every_route_is_audited_once_with_who_what_where_and_no_body(
    staff, db, knowledge, norte_sends
):
    owner, operator = staff["owner"], staff["operator"]
    message = in_tenant(NORTE, "hola")
    deliver(message)
    for sender in ("584125550102", "584125550103", "584125550104"):
        deliver(in_tenant(NORTE, "quiero hablar con un asesor", sender=sender))
    conversation = message.conversation_id
    first, second, third = (e["id"] for e in owner.ok("GET", "/admin/escalations")["escalations"])
    note = "le atiendo yo, Sr. Pérez"
    suggested = [
        owner.ok("POST", f"/admin/escalations/{e}/resolve", body={"note": note})["suggestionId"]
        for e in (second, third)
    ]
    before = len(audit_rows(db))
    done: list[tuple[str, str, str | None]] = []
    who: list[tuple[str, str, str | None]] = []  # actor, role, tenant of each step

    def step(
        method: str, route: str, path: str, body: Any, target: str | None = None, *, operator_on: str | None = "-"
    ) -> Any:
        """As norte's owner; or, given `operator_on` (the tenant acted on, None: the deployment), the operator."""
        by = owner if operator_on == "-" else operator
        answer = by.call(method, path, body=body)
        assert answer.status in (200, 201, 202), (method, path, answer.status, answer.raw[:300])
        done.append((method, route, target if target is not None or by is operator else str(answer.json["id"])))
        who.append(("olga", "owner", NORTE) if by is owner else ("admin", "operator", operator_on))
        return answer.json

    token = step("POST", "/admin/tokens", "/admin/tokens", {"name": "nuevo", "role": "viewer"})
    at_conversation = "/admin/conversations/{conversation_id}"
    step("POST", at_conversation + "/takeover", f"/admin/conversations/{conversation}/takeover",
         {"minutes": 5, "note": note}, conversation)  # fmt: skip
    step("POST", at_conversation + "/resume", f"/admin/conversations/{conversation}/resume", {}, conversation)
    step("POST", at_conversation + "/reset", f"/admin/conversations/{conversation}/reset", {}, conversation)
    step("POST", "/admin/customers/{customer_id}/reset", f"/admin/customers/{message.sender_id}/reset", {},
         message.sender_id)  # fmt: skip
    step("POST", "/admin/escalations/{escalation_id}/resolve", f"/admin/escalations/{first}/resolve",
         {"note": note}, str(first))  # fmt: skip
    step("PUT", "/admin/model-prices/{model}", "/admin/model-prices/gpt-4o",
         {"inputPerMillion": 1, "outputPerMillion": 2}, "gpt-4o")  # fmt: skip
    step("PUT", "/admin/search/synonyms/{term}", "/admin/search/synonyms/nevera", {"alternatives": ["heladera"]},
         "nevera")  # fmt: skip
    step("DELETE", "/admin/search/synonyms/{term}", "/admin/search/synonyms/nevera", None, "nevera")
    step("POST", "/admin/tokens/{token_id}/revoke", f"/admin/tokens/{token['id']}/revoke", {}, str(token["id"]))
    step("POST", at_conversation + "/reply", f"/admin/conversations/{conversation}/reply",
         {"text": "Hola, le escribe Olga"}, conversation)  # fmt: skip
    faq = step("POST", "/admin/knowledge/faq", "/admin/knowledge/faq",
               {"question": "¿Abren los domingos?", "answer": "Sí, de 9 a 13."})  # fmt: skip
    step("PUT", "/admin/knowledge/faq/{faq_id}", f"/admin/knowledge/faq/{faq['id']}",
         {"question": "¿Abren los domingos?", "answer": "Sí, de 9 a 14."}, str(faq["id"]))  # fmt: skip
    step("DELETE", "/admin/knowledge/faq/{faq_id}", f"/admin/knowledge/faq/{faq['id']}", None, str(faq["id"]))
    upload = {"filename": "horario.txt", "contentBase64": base64.b64encode(b"Abrimos de 9 a 18.").decode()}
    document = step("POST", "/admin/knowledge/documents", "/admin/knowledge/documents", upload)
    step("DELETE", "/admin/knowledge/documents/{document_id}", f"/admin/knowledge/documents/{document['id']}", None,
         str(document["id"]))  # fmt: skip
    at_suggestion = "/admin/knowledge/suggestions/{suggestion_id}"
    step("POST", at_suggestion + "/approve", f"/admin/knowledge/suggestions/{suggested[0]}/approve", {},
         str(suggested[0]))  # fmt: skip
    step("POST", at_suggestion + "/discard", f"/admin/knowledge/suggestions/{suggested[1]}/discard", {},
         str(suggested[1]))  # fmt: skip
    # The tenant's own settings, keys and secrets: its owner, under its tenant; never a key or a secret stored.
    at_tenant = "/admin/tenants/{tenant_id}"
    step("PATCH", at_tenant, f"/admin/tenants/{NORTE}", {"currency": "EUR"}, NORTE)
    key = owner.call("POST", f"/admin/tenants/{NORTE}/keys", body={"kind": "ingest"}).json
    done.append(("POST", at_tenant + "/keys", key["keyId"]))
    who.append(("olga", "owner", NORTE))
    step("DELETE", at_tenant + "/keys/{key_id}", f"/admin/tenants/{NORTE}/keys/{key['keyId']}", None, key["keyId"])
    step("PUT", at_tenant + "/secrets", f"/admin/tenants/{NORTE}/secrets", {"OPENAI_API_KEY": "sk-norte-own"}, NORTE)
    # Tenants themselves and their channel ids: the operator, under the tenant changed; publishing: under none.
    step("POST", "/admin/tenants", "/admin/tenants", {"tenantId": "oeste", "displayName": "Oeste"}, "oeste",
         operator_on="oeste")  # fmt: skip
    step("POST", at_tenant + "/channels", "/admin/tenants/oeste/channels", {"channel": "whatsapp", "id": "1003"},
         "whatsapp:1003", operator_on="oeste")  # fmt: skip
    step("DELETE", at_tenant + "/channels/{channel}/{channel_id}", "/admin/tenants/oeste/channels/whatsapp/1003",
         None, "whatsapp:1003", operator_on="oeste")  # fmt: skip
    step("POST", "/admin/routing", "/admin/routing", {}, None, operator_on=None)

    mutating = {template(r) for r in routes() if r.method != "GET"}
    assert {(method, route) for method, route, _ in done} == mutating, "each mutating route needs its case here"
    entries = audit_rows(db)[before:]
    assert [(e["method"], e["route"], e["target_id"]) for e in entries] == done
    statuses = {(e["route"], e["status"]) for e in entries if e["status"] != 200}
    assert statuses == {("/admin/knowledge/faq", 202), ("/admin/knowledge/faq/{faq_id}", 202),
                        ("/admin/knowledge/documents", 202), ("/admin/tenants", 201),
                        ("/admin/tenants/{tenant_id}/keys", 201),
                        ("/admin/tenants/{tenant_id}/channels", 201)}  # fmt: skip
    assert [(e["actor"], e["actor_role"], e["tenant_id"]) for e in entries] == who
    owner_token_id = owner.ok("GET", "/admin/me")["tokenId"]
    assert {e["actor_token_id"] for e in entries if e["actor"] == "olga"} == {owner_token_id}
    assert [e["action"] for e in entries][:3] == ["create_token", "take_over", "resume"]
    assert [e["action"] for e in entries][-8:] == [
        "update_tenant", "create_key", "revoke_key", "set_secrets",
        "create_tenant", "add_channel", "remove_channel", "publish_routing",
    ]  # fmt: skip
    stored = json.dumps(entries, default=str)
    for secret_or_text in (note, token["secret"], "heladera", "le escribe Olga", "domingos", "Abrimos",
                           key["key"], "sk-norte-own", "EUR"):  # fmt: skip
        assert secret_or_text not in stored
    at = [e["at"] for e in entries]
    assert at == sorted(at) and datetime.now(UTC) - at[0] < timedelta(minutes=1)


def test_a_refused_or_failed_mutation_leaves_no_entry_and_an_unrecordable_atomic_one_is_undone(
    staff, db, reply_env, caplog, norte_sends
):
    owner, agent = staff["owner"], staff["agent"]
    message = in_tenant(NORTE, "hola")
    deliver(message)
    before = len(audit_rows(db))
    path = f"/admin/conversations/{message.conversation_id}/takeover"
    assert agent.call("PUT", "/admin/model-prices/x", body={"inputPerMillion": 1, "outputPerMillion": 1}).status == 403
    assert owner.call("POST", "/admin/conversations/wa:nobody/takeover", body={"minutes": 5}).status == 404
    assert owner.call("POST", path, body={"minutes": 0}).status == 422
    assert len(audit_rows(db)) == before

    # When the entry cannot be written, the change it describes does not happen either.
    db.execute("ALTER TABLE audit_log ADD CONSTRAINT refuse_everything CHECK (false) NOT VALID")
    try:
        with pytest.raises(Exception, match="refuse_everything"):
            owner.call("POST", path, body={"minutes": 5})
    finally:
        db.execute("ALTER TABLE audit_log DROP CONSTRAINT refuse_everything")
    assert db.execute("SELECT count(*) AS n FROM conversation_pauses").fetchone()["n"] == 0
    assert db.execute("SELECT count(*) AS n FROM operator_actions WHERE action = 'takeover'").fetchone()["n"] == 0
    assert owner.ok("POST", path, body={"minutes": 5})["paused"]["setBy"] == "olga"
    assert len(audit_rows(db)) == before + 1

    # A reply to the customer is not atomic (it commits as it goes): a send the platform refused stays
    # recorded as failed, and no entry says it succeeded.
    reply = f"/admin/conversations/{message.conversation_id}/reply"
    reply_env.meta.fail_next(code=131047)
    assert owner.call("POST", reply, body={"text": "hola"}).status == 502
    assert [r["status"] for r in db.execute("SELECT status FROM messages WHERE actor = 'agent'").fetchall()] == [
        "failed"
    ]
    assert len(audit_rows(db)) == before + 1
    # Sent, but its entry cannot be written: the answer still says it was sent, and the loss is logged.
    db.execute("ALTER TABLE audit_log ADD CONSTRAINT refuse_everything CHECK (false) NOT VALID")
    try:
        sent = owner.call("POST", reply, body={"text": "¿sigue ahí?"})
    finally:
        db.execute("ALTER TABLE audit_log DROP CONSTRAINT refuse_everything")
    assert sent.status == 200 and sent.json["message"]["status"] == "sent"
    assert len(audit_rows(db)) == before + 1
    assert "audit entry not written" in caplog.text


def test_the_audit_log_pages_and_filters_and_follows_the_callers_tenant(staff, db):
    owner, operator = staff["owner"], staff["operator"]
    for name in ("uno", "dos", "tres"):
        owner.ok("POST", "/admin/tokens", body={"name": name, "role": "viewer"})
    operator.ok("POST", "/admin/tokens", body={"name": "ops", "role": "operator"})
    operator.ok("PUT", "/admin/model-prices/gpt-4o", body={"inputPerMillion": 1, "outputPerMillion": 1})

    mine = owner.ok("GET", "/admin/audit")["entries"]
    assert [e["actor"] for e in mine] == ["olga", "olga", "olga", "admin", "admin", "admin"]  # newest first
    assert {e["tenant"] for e in mine} == {NORTE} and all(e["action"] == "create_token" for e in mine)
    assert [e["actor"] for e in owner.ok("GET", "/admin/audit", query={"actor": "admin"})["entries"]] == ["admin"] * 3

    # The operator naming no tenant sees every tenant's entries and the deployment's own (tenant null).
    everything = operator.ok("GET", "/admin/audit")["entries"]
    assert [(e["action"], e["tenant"]) for e in everything[:2]] == [
        ("set_model_price", "default"),
        ("create_token", None),
    ]
    assert len(everything) == 8
    assert len(AdminClient(ADMIN_TOKEN, tenant=NORTE).ok("GET", "/admin/audit")["entries"]) == 6
    prices = operator.ok("GET", "/admin/audit", query={"action": "set_model_price"})["entries"]
    assert [(e["route"], e["targetId"]) for e in prices] == [("/admin/model-prices/{model}", "gpt-4o")]

    seen, cursor = [], None
    while True:
        page = operator.ok("GET", "/admin/audit", query={"limit": 3, **({"cursor": cursor} if cursor else {})})
        seen += [e["id"] for e in page["entries"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == [e["id"] for e in everything]
    today = datetime.now(UTC).date()
    assert operator.ok("GET", "/admin/audit", query={"until": str(today - timedelta(days=1))})["entries"] == []
    assert len(operator.ok("GET", "/admin/audit", query={"since": str(today)})["entries"]) == 8
    assert operator.call("GET", "/admin/audit", query={"since": "2026-02-02", "until": "2026-02-01"}).status == 422
    assert operator.call("GET", "/admin/audit", query={"cursor": "nope"}).status == 400
    assert staff["agent"].call("GET", "/admin/audit").json["missingPermission"] == "view_audit"
