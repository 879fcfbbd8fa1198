"""Routing by channel identity through the real webhook, web chat and ingest handlers: each event to the
tenant owning its id (WhatsApp phone_number_id, Page id, Instagram account id, Support Board key, web
chat widget key, ingest key), unknown ids acknowledged and dropped (logged without customer data,
counted), on the routing document as a file (local) and as a Secrets Manager secret (AWS, moto)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from mostrador.conversations.reply_queue import parse_reply_queue_envelope
from mostrador.tenancy.routing import REFRESH_SECONDS
from tests.fakes.platforms import platforms_fixture  # noqa: F401
from tests.integration import test_admin_support as support
from tests.integration.channel_pipeline import APP_SECRET, channel_pipeline_fixture  # noqa: F401
from tests.integration.tenant_support import add_tenant, tenancy_fixture  # noqa: F401
from tests.lambda_events import LambdaContextStub, api_event
from tests.unit.channels.payloads import (
    CUSTOMER_PHONE,
    PSID,
    fb_event,
    messenger_delivery,
    meta_bytes,
    sign,
    support_board_event,
    wa_message,
    wa_status,
    whatsapp_delivery,
    whatsapp_value,
)

admin, reply_env = support.admin, support.reply_env


@pytest.fixture
def tenants(admin, tenancy, channel_pipeline, pipeline) -> dict[str, dict[str, Any]]:
    return {
        "acme": add_tenant(admin, "acme", channels={"whatsapp": "1001", "messenger": "2001", "instagram": "3001"}),
        "beta": add_tenant(admin, "beta", channels={"whatsapp": "1002", "messenger": "2002", "instagram": "3002"}),
    }


def post_meta(payload: dict[str, Any], path: str = "/webhooks/meta") -> dict[str, Any]:
    from functions.webhook.handler import handler

    raw = meta_bytes(payload)
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(raw, APP_SECRET)}
    return handler(api_event("POST", path, body=raw, headers=headers), LambdaContextStub())


def post_support_board(key: str, **data: Any) -> dict[str, Any]:
    from functions.webhook.handler import handler

    body = json.dumps(support_board_event(key=key, **data))
    return handler(api_event("POST", "/webhooks/support-board", body=body), LambdaContextStub())


def webchat(method: str, key: str | None, **kw: Any) -> dict[str, Any]:
    from functions.webchat.handler import handler

    headers = {"Content-Type": "application/json", **({"X-Widget-Key": key} if key else {})}
    return handler(api_event(method, "/webchat/messages", headers=headers, **kw), LambdaContextStub())


def queued(channel_pipeline) -> list[Any]:
    items = []
    while messages := channel_pipeline.sqs.receive_message(
        QueueUrl=channel_pipeline.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=60
    ).get("Messages", []):
        items.extend(parse_reply_queue_envelope(m["Body"]).item for m in messages)
    return items


def emitted(output: str) -> list[dict[str, Any]]:
    """The EMF metric records the handler printed."""
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [r for r in records if "_aws" in r]


def logged(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """What the handlers logged: message and extra fields of each record."""
    return [
        {"message": r.getMessage(), **{k: v for k, v in vars(r).items() if k in ("channel", "account_id", "reason")}}
        for r in caplog.records
        if r.name == "mostrador"
    ]


def metric(records: list[dict[str, Any]], name: str) -> float:
    return sum(r[name] if not isinstance(r[name], list) else sum(r[name]) for r in records if name in r)


def test_whatsapp_events_go_to_the_tenant_owning_the_number_and_unknown_numbers_are_dropped(
    tenants, channel_pipeline, capsys, caplog
):
    capsys.readouterr()
    caplog.clear()
    delivery = whatsapp_delivery(
        whatsapp_value([wa_message("text", {"body": "hola acme"}, wamid="wamid.A")], phone_number_id="1001"),
        whatsapp_value([wa_message("text", {"body": "hola beta"}, wamid="wamid.B")], phone_number_id="1002"),
        whatsapp_value([wa_message("text", {"body": "hola nadie"}, wamid="wamid.X")], phone_number_id="9999"),
        whatsapp_value(statuses=[wa_status("read", wamid="wamid.OUTB")], phone_number_id="1002"),
        entries=2,
    )
    answer = post_meta(delivery, "/webhooks/whatsapp")
    assert answer["statusCode"] == 200
    items = queued(channel_pipeline)
    routed = {i.platform_message_id: i for i in items}
    assert set(routed) == {"wamid.A", "wamid.B", "wamid.OUTB"}
    assert (routed["wamid.A"].tenant_id, routed["wamid.A"].conversation_id) == ("acme", f"wa:1001:{CUSTOMER_PHONE}")
    assert routed["wamid.B"].tenant_id == "beta" and routed["wamid.OUTB"].tenant_id == "beta"

    assert metric(emitted(capsys.readouterr().out), "UnroutedEvents") == 1
    [dropped] = [r for r in logged(caplog) if "no tenant owns" in r["message"]]
    assert (dropped["channel"], dropped["account_id"]) == ("whatsapp", "9999")
    everything = json.dumps([vars(r) for r in caplog.records], default=str)
    assert CUSTOMER_PHONE not in everything and "hola nadie" not in everything


def test_messenger_and_instagram_events_go_to_the_page_or_account_owner(tenants, channel_pipeline, capsys, caplog):
    message = {"message": {"mid": "m_acme", "text": "hola"}}
    assert post_meta(messenger_delivery(fb_event(recipient="2001", **message), account_id="2001"))["statusCode"] == 200
    instagram = messenger_delivery(
        fb_event(recipient="3002", message={"mid": "ig_beta", "text": "hi"}), obj="instagram", account_id="3002"
    )
    assert post_meta(instagram)["statusCode"] == 200
    capsys.readouterr()
    caplog.clear()
    unknown = messenger_delivery(fb_event(recipient="7777", message={"mid": "m_x", "text": "?"}), account_id="7777")
    assert post_meta(unknown)["statusCode"] == 200
    # An Instagram account id claimed only as a Page is not the tenant's Instagram.
    wrong_channel = messenger_delivery(
        fb_event(recipient="2001", message={"mid": "ig_x", "text": "?"}), obj="instagram", account_id="2001"
    )
    assert post_meta(wrong_channel)["statusCode"] == 200

    items = {i.platform_message_id: i for i in queued(channel_pipeline)}
    assert set(items) == {"m_acme", "ig_beta"}
    assert (items["m_acme"].tenant_id, items["m_acme"].conversation_id) == ("acme", f"fb:2001:{PSID}")
    assert (items["ig_beta"].tenant_id, items["ig_beta"].channel) == ("beta", "instagram")
    assert metric(emitted(capsys.readouterr().out), "UnroutedEvents") == 2
    assert [r["account_id"] for r in logged(caplog) if "no tenant owns" in r["message"]] == ["7777", "2001"]
    assert PSID not in json.dumps([vars(r) for r in caplog.records], default=str)


def test_support_board_events_go_to_the_tenant_whose_key_they_carry(tenants, channel_pipeline, tenancy, capsys, caplog):
    assert post_support_board(tenants["acme"]["support_board"], message_id="1")["statusCode"] == 200
    assert post_support_board(tenants["beta"]["support_board"], message_id="2")["statusCode"] == 200
    capsys.readouterr()
    caplog.clear()
    for wrong in ("sb-secret", "", tenants["acme"]["ingest"]):  # the deployment's old secret is nobody's now
        assert post_support_board(wrong, message_id="3", message="mi número es 0412 555 0101")["statusCode"] == 401
    assert metric(emitted(capsys.readouterr().out), "UnroutedEvents") == 3  # counted, as unknown ids are
    logged_text = json.dumps([vars(r) for r in caplog.records], default=str)
    assert "0412 555 0101" not in logged_text and tenants["acme"]["ingest"] not in logged_text
    items = {i.platform_message_id: i.tenant_id for i in queued(channel_pipeline)}
    assert items == {"sb:1": "acme", "sb:2": "beta"}


def test_web_chat_posts_and_polls_as_the_tenant_of_the_widget_key(tenants, channel_pipeline, capsys):
    body = json.dumps({"conversationId": "conversation-0123456789", "text": "hola"})
    assert webchat("POST", tenants["acme"]["webchat"], body=body)["statusCode"] == 202
    assert webchat("POST", tenants["beta"]["webchat"], body=body)["statusCode"] == 202
    capsys.readouterr()
    unknown = webchat("POST", "wk_nobody_0123456789abcdef", body=body)
    assert unknown["statusCode"] == 403 and "Unknown widget key" in unknown["body"]
    assert metric(emitted(capsys.readouterr().out), "UnroutedEvents") == 1
    missing = webchat("POST", None, body=body)
    assert missing["statusCode"] == 400 and "X-Widget-Key" in missing["body"]
    poll = webchat("GET", None, query={"conversationId": "conversation-0123456789", "after": "0"})
    assert poll["statusCode"] == 400
    items = queued(channel_pipeline)
    assert sorted(i.tenant_id for i in items) == ["acme", "beta"]
    assert {i.conversation_id for i in items} == {"webchat:conversation-0123456789"}


def test_a_catalog_push_belongs_to_the_tenant_of_its_key(tenants, pipeline, admin):
    from tests.integration.catalog_support import product

    status, body = pipeline.push([product("XY-1")], key=tenants["acme"]["ingest"])
    assert status == 202
    status, _ = pipeline.push([product("XY-2")], key=tenants["beta"]["ingest"])
    assert status == 202
    for wrong in ("test-ingest-key", tenants["acme"]["support_board"], tenants["acme"]["webchat"], ""):
        assert pipeline.push([product("XY-3")], key=wrong)[0] == 401  # INGEST_API_KEY is nobody's here
    tenants_of = {
        json.loads(m["Body"])["item"]["itemCode"]: json.loads(m["Body"])["tenantId"] for m in pipeline.receive()
    }
    assert tenants_of == {"XY-1": "acme", "XY-2": "beta"}

    admin.ok("DELETE", f"/admin/tenants/acme/keys/{tenants['acme']['ingest_id']}")
    assert pipeline.push([product("XY-4")], key=tenants["acme"]["ingest"])[0] == 401


def test_an_inactive_tenant_is_routed_nothing(tenants, channel_pipeline, pipeline, admin):
    from tests.integration.catalog_support import product

    admin.ok("PATCH", "/admin/tenants/beta", body={"active": False})
    delivery = whatsapp_delivery(whatsapp_value([wa_message("text", {"body": "hola"})], phone_number_id="1002"))
    assert post_meta(delivery, "/webhooks/whatsapp")["statusCode"] == 200
    assert queued(channel_pipeline) == []
    assert pipeline.push([product("XY-1")], key=tenants["beta"]["ingest"])[0] == 401
    admin.ok("PATCH", "/admin/tenants/beta", body={"active": True})
    assert pipeline.push([product("XY-1")], key=tenants["beta"]["ingest"])[0] == 202


def test_the_routing_document_in_secrets_manager_is_published_and_followed(
    admin, tenancy, channel_pipeline, secrets_manager, monkeypatch
):
    from tests.integration.tenant_support import forget_tenancy_caches

    arn = secrets_manager.create_secret(Name=f"routing-{uuid.uuid4().hex[:8]}", SecretString="{}")["ARN"]
    monkeypatch.delenv("MOSTRADOR_ROUTING_FILE")
    monkeypatch.setenv("MOSTRADOR_ROUTING_SECRET_ARN", arn)
    forget_tenancy_caches()
    add_tenant(admin, "acme", channels={"whatsapp": "1001"})
    document = json.loads(secrets_manager.get_secret_value(SecretId=arn)["SecretString"])
    assert document["tenants"]["acme"]["whatsapp"] == ["1001"]

    delivery = whatsapp_delivery(
        whatsapp_value([wa_message("text", {"body": "hola"}, wamid="w1")], phone_number_id="1001")
    )
    assert post_meta(delivery, "/webhooks/whatsapp")["statusCode"] == 200
    # A number added after the last read is found within a second, not after the cache's minute: an id not
    # found makes the webhook read the secret again (at most once a second).
    add_tenant(admin, "beta", channels={"whatsapp": "1002"})
    time.sleep(REFRESH_SECONDS)
    delivery = whatsapp_delivery(
        whatsapp_value([wa_message("text", {"body": "hola"}, wamid="w2")], phone_number_id="1002")
    )
    assert post_meta(delivery, "/webhooks/whatsapp")["statusCode"] == 200
    assert {i.platform_message_id: i.tenant_id for i in queued(channel_pipeline)} == {"w1": "acme", "w2": "beta"}


def test_the_secret_is_cached_and_read_again_after_its_age_or_on_a_miss(secrets_manager):
    from mostrador.tenancy.routing import SecretRouting, build_document, channel_tenant, serialize

    def document(*owned: tuple[str, str]) -> str:
        tenants = [{"tenant_id": t, "active": True, "claims_unrouted": False} for t, _ in owned]
        channels = [{"channel": "whatsapp", "channel_key": c, "tenant_id": t} for t, c in owned]
        return serialize(build_document(tenants, channels, []))

    arn = secrets_manager.create_secret(
        Name=f"routing-cache-{uuid.uuid4().hex[:8]}", SecretString=document(("acme", "1"))
    )["ARN"]
    now = [1000.0]
    source = SecretRouting(arn, max_age=60, refresh_interval=5, clock=lambda: now[0])
    assert channel_tenant(source, "whatsapp", "1") == "acme"
    secrets_manager.put_secret_value(SecretId=arn, SecretString=document(("beta", "1"), ("beta", "2")))
    now[0] += 2
    assert channel_tenant(source, "whatsapp", "1") == "acme"  # cached
    assert channel_tenant(source, "whatsapp", "2") is None  # a miss, but read less than 5 s ago
    now[0] += 5
    assert channel_tenant(source, "whatsapp", "2") == "beta"  # a miss re-reads
    secrets_manager.put_secret_value(SecretId=arn, SecretString=document(("acme", "1")))
    now[0] += 30
    assert channel_tenant(source, "whatsapp", "1") == "beta"  # claimed ids wait for the age
    now[0] += 31
    assert channel_tenant(source, "whatsapp", "1") == "acme"
