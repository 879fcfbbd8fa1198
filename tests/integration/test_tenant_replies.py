"""The reply function per tenant: each tenant's secrets (files, and Secrets Manager through moto), its own
LLM key and model with the real OpenAI SDK on the fake LLM server, its monthly token budget (a cheaper
model, or people), its default language, business hours and after-hours message, takeover pause, and
its system prompt with the store's facts."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mostrador.messaging.model import InboundMessage
from tests.fakes.platforms import platforms_fixture  # noqa: F401
from tests.integration import test_admin_support as support
from tests.integration.tenant_support import add_tenant, forget_tenancy_caches, tenancy_fixture  # noqa: F401
from tests.integration.test_reply_support import deliver, product

admin, reply_env = support.admin, support.reply_env
_ids = iter(range(10**9))


def add_products_for(conn, tenant_id: str, *items: dict[str, Any]) -> None:
    """Catalog rows through the catalog's own write path, for one tenant."""
    from mostrador.catalog.enrichment import QueuedItem, enrich_batch
    from mostrador.catalog.models import EnrichMessage, ProductItem
    from mostrador.db.catalog_repository import CatalogRepository
    from mostrador.llm.offline_provider import OfflineProvider

    queued = []
    for index, raw in enumerate(items):
        message = EnrichMessage(
            tenant_id=tenant_id, sync_id="s", batch_id="b", batch_size=len(items), index=index, item=raw
        )
        queued.append(QueuedItem(f"m{index}", message, ProductItem.model_validate(raw), 1))
    enrich_batch(queued, store=CatalogRepository(conn), summarizer=OfflineProvider(), embedder=None, max_receives=5)


def inbound(tenant_id: str, text: str, *, channel: str = "webchat", number: str = "1001", **kw: Any) -> InboundMessage:
    if channel == "whatsapp":
        conversation, sender = f"wa:{number}:584125550101", "584125550101"
    else:
        conversation, sender = f"webchat:chat-{tenant_id}-0000001", f"chat-{tenant_id}-0000001"
    return InboundMessage(
        tenant_id=tenant_id,
        channel=channel,  # type: ignore[arg-type]
        conversation_id=conversation,
        sender_id=sender,
        sender_role=kw.pop("sender_role", "customer"),
        text=text,
        platform_message_id=f"in.{next(_ids)}",
        timestamp=datetime.now(UTC),
        **kw,
    )


def reply_text(db, message: InboundMessage) -> dict[str, Any]:
    return db.execute(
        "SELECT * FROM messages WHERE tenant_id = %s AND conversation_id = %s AND direction = 'outbound'"
        " ORDER BY id DESC LIMIT 1",
        (message.tenant_id, message.conversation_id),
    ).fetchone()


@pytest.fixture
def llm(reply_env, llm_server, monkeypatch):
    """The deployment answers with OpenAI (its own key) through the fake LLM server."""
    for name, value in {
        "LLM_PROVIDER": "openai",
        "EMBEDDING_PROVIDER": "offline",
        "OPENAI_API_KEY": "sk-deployment",
        "OPENAI_BASE_URL": llm_server.openai_base_url,
        "OPENAI_CHAT_MODEL": "gpt-4o-mini",
        "LLM_MAX_RETRIES": "0",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    forget_tenancy_caches()
    return llm_server


def chats(llm_server) -> list[Any]:
    return [r for r in llm_server.requests if r.kind == "chat"]


# -- secrets -----------------------------------------------------------------------------------------


def test_each_tenant_sends_with_its_own_token_and_never_with_the_deployment_one(admin, tenancy, reply_env, db):
    reply_env.meta.other_tokens = {"acme-wa-token"}
    add_tenant(admin, "acme", channels={"whatsapp": "1001"}, secrets={"WHATSAPP_TOKEN": "acme-wa-token"})
    add_tenant(admin, "beta", channels={"whatsapp": "1002"})  # no token of its own
    add_products_for(db, "acme", product("N-1", "Nevera Samsung RT38", 499.0, 4))

    assert deliver(inbound("acme", "¿tienen nevera?", channel="whatsapp", number="1001")) == []
    [sent] = reply_env.meta.sent()
    assert sent.path.endswith("/1001/messages") and sent.headers["authorization"] == "Bearer acme-wa-token"

    beta = inbound("beta", "hola", channel="whatsapp", number="1002")
    assert deliver(beta) == []
    assert len(reply_env.meta.sent()) == 1  # nothing went out with somebody else's token
    row = reply_text(db, beta)
    assert (row["status"], row["error_code"]) == ("failed", "config")

    # The deployment's own tenant (TENANT_ID) keeps its single-tenant token.
    assert deliver(inbound("default", "hola", channel="whatsapp", number="1003")) == []
    assert reply_env.meta.sent()[-1].headers["authorization"] == f"Bearer {reply_env.meta.token}"


def test_a_changed_token_reaches_the_reply_function_without_a_restart(admin, tenancy, reply_env, db):
    reply_env.meta.other_tokens = {"acme-old", "acme-new"}
    add_tenant(admin, "acme", channels={"whatsapp": "1001"}, secrets={"WHATSAPP_TOKEN": "acme-old"})
    deliver(inbound("acme", "hola", channel="whatsapp"))
    admin.ok("PUT", "/admin/tenants/acme/secrets", body={"WHATSAPP_TOKEN": "acme-new"})  # file store: read each time
    deliver(inbound("acme", "hola otra vez", channel="whatsapp"))
    assert [r.headers["authorization"] for r in reply_env.meta.sent()] == ["Bearer acme-old", "Bearer acme-new"]


def test_tenant_secrets_come_from_its_secrets_manager_secret(
    admin, tenancy, reply_env, db, secrets_manager, monkeypatch
):
    monkeypatch.delenv("MOSTRADOR_TENANT_SECRETS_DIR")
    prefix = f"mostrador-{uuid.uuid4().hex[:8]}/tenants/"  # moto's server lives for the whole session
    monkeypatch.setenv("MOSTRADOR_TENANT_SECRET_PREFIX", prefix)
    forget_tenancy_caches()
    reply_env.meta.other_tokens = {"acme-sm-token"}
    add_tenant(admin, "acme", channels={"whatsapp": "1001"})
    secrets_manager.create_secret(Name=f"{prefix}acme", SecretString=json.dumps({"WHATSAPP_TOKEN": "acme-sm-token"}))
    assert deliver(inbound("acme", "hola", channel="whatsapp")) == []
    assert reply_env.meta.sent()[-1].headers["authorization"] == "Bearer acme-sm-token"


def test_secrets_manager_reads_are_cached_per_tenant_for_their_age(secrets_manager):
    from mostrador.tenancy.secrets import SecretsManagerTenantSecrets

    prefix = f"cache-{uuid.uuid4().hex[:8]}/"
    secrets_manager.create_secret(Name=f"{prefix}acme", SecretString=json.dumps({"WHATSAPP_TOKEN": "one"}))
    now = [0.0]
    store = SecretsManagerTenantSecrets(prefix, max_age=300, clock=lambda: now[0])
    assert store.read("acme") == {"WHATSAPP_TOKEN": "one"} and store.read("beta") == {}
    secrets_manager.put_secret_value(SecretId=f"{prefix}acme", SecretString=json.dumps({"WHATSAPP_TOKEN": "two"}))
    secrets_manager.create_secret(Name=f"{prefix}beta", SecretString=json.dumps({"OPENAI_API_KEY": "sk-b"}))
    now[0] = 299
    assert store.read("acme") == {"WHATSAPP_TOKEN": "one"} and store.read("beta") == {}
    now[0] = 301
    assert store.read("acme") == {"WHATSAPP_TOKEN": "two"} and store.read("beta") == {"OPENAI_API_KEY": "sk-b"}


def test_a_tenant_brings_its_own_llm_key_and_model(admin, tenancy, llm, db):
    add_tenant(admin, "acme", chatModel="gpt-4.1", secrets={"OPENAI_API_KEY": "sk-acme"})
    add_tenant(admin, "beta")
    deliver(inbound("acme", "hola"))
    deliver(inbound("beta", "hola"))
    acme, beta = chats(llm)
    assert (acme.headers["authorization"], acme.body["model"]) == ("Bearer sk-acme", "gpt-4.1")
    assert (beta.headers["authorization"], beta.body["model"]) == ("Bearer sk-deployment", "gpt-4o-mini")
    usage = {r["tenant_id"]: r["model"] for r in db.execute("SELECT tenant_id, model FROM llm_usage")}
    assert usage == {"acme": "gpt-4.1", "beta": "gpt-4o-mini"}


# -- the token budget ----------------------------------------------------------------------------------


def spend(db, tenant_id: str, tokens: int, at: datetime) -> None:
    db.execute(
        "INSERT INTO llm_usage (tenant_id, at, provider, model, purpose, tokens_in, tokens_out)"
        " VALUES (%s, %s, 'openai', 'gpt-4.1', 'chat', %s, 0)",
        (tenant_id, at, tokens),
    )


def test_past_its_budget_a_tenant_is_answered_by_the_cheaper_model_and_analytics_say_so(
    admin, tenancy, llm, db, monkeypatch, capsys
):
    add_tenant(admin, "acme", chatModel="gpt-4.1", monthlyTokenBudget=1000, budgetModel="gpt-4.1-nano")
    add_tenant(admin, "beta", chatModel="gpt-4.1", monthlyTokenBudget=100_000)
    now = datetime.now(UTC)
    spend(db, "acme", 5000, now - timedelta(days=40))  # last month's tokens do not count
    deliver(inbound("acme", "hola"))
    assert chats(llm)[-1].body["model"] == "gpt-4.1"

    spend(db, "acme", 1000, now)
    spend(db, "beta", 999, now)
    capsys.readouterr()
    deliver(inbound("acme", "¿y ahora?"))
    deliver(inbound("beta", "hola"))
    assert [r.body["model"] for r in chats(llm)[-2:]] == ["gpt-4.1-nano", "gpt-4.1"]
    assert '"TokenBudgetExceeded":[1.0]' in capsys.readouterr().out.replace(" ", "")

    from tests.integration.tenant_support import as_tenant

    today = datetime.now(UTC).date().isoformat()  # the budget is this month's whatever the range
    as_tenant(admin, "acme")
    budget = admin.ok("GET", "/admin/analytics", query={"since": today, "until": today})["tokenBudget"]
    assert budget["exceeded"] is True and budget["monthlyTokenBudget"] == 1000 and budget["usedTokens"] >= 1000
    assert budget["overBudget"] == "cheaper_model" and budget["remainingTokens"] == 0
    as_tenant(admin, "beta")
    beta = admin.ok("GET", "/admin/analytics", query={"since": today, "until": today})["tokenBudget"]
    assert beta["exceeded"] is False


def test_a_tenant_may_hand_customers_to_people_once_its_budget_is_spent(admin, tenancy, llm, db):
    add_tenant(admin, "acme", monthlyTokenBudget=10, overBudget="escalate")
    spend(db, "acme", 10, datetime.now(UTC))
    message = inbound("acme", "¿tienen neveras?")
    assert deliver(message) == []
    assert chats(llm) == []  # no model was asked
    [escalation] = db.execute("SELECT tenant_id, source, status FROM escalations").fetchall()
    assert (escalation["tenant_id"], escalation["source"], escalation["status"]) == ("acme", "token_budget", "open")
    from mostrador.conversations.escalation import handoff_message

    assert reply_text(db, message)["text"] == handoff_message("es")


def budget_exceeded_count(output: str) -> float:
    """How many times the reply function counted TokenBudgetExceeded (its EMF records in `output`)."""
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{") and "_aws" in line]
    values = [r["TokenBudgetExceeded"] for r in records if "TokenBudgetExceeded" in r]
    return sum(sum(v) if isinstance(v, list) else v for v in values)


def test_a_whatsapp_customer_of_a_tenant_past_its_budget_is_handed_to_people(
    admin, tenancy, llm, reply_env, db, capsys
):
    # WhatsApp's typing indicator must not evaluate the budget: it ran outside the reply's handling of
    # TokenBudgetSpent, so the item failed, was retried and dead-lettered, and the customer got nothing.
    reply_env.meta.other_tokens = {"acme-wa-token"}
    add_tenant(
        admin,
        "acme",
        channels={"whatsapp": "1001"},
        secrets={"WHATSAPP_TOKEN": "acme-wa-token"},
        monthlyTokenBudget=10,
        overBudget="escalate",
    )
    spend(db, "acme", 10, datetime.now(UTC))
    message = inbound("acme", "¿tienen neveras?", channel="whatsapp", number="1001")
    capsys.readouterr()
    assert deliver(message) == []
    assert chats(llm) == []
    [escalation] = db.execute("SELECT tenant_id, source FROM escalations").fetchall()
    assert (escalation["tenant_id"], escalation["source"]) == ("acme", "token_budget")
    from mostrador.conversations.escalation import handoff_message

    assert reply_env.meta.sent_texts() == [handoff_message("es")]
    assert reply_text(db, message)["status"] == "sent"
    assert budget_exceeded_count(capsys.readouterr().out) == 1


def test_a_whatsapp_customer_past_the_budget_gets_the_cheaper_model_and_the_budget_is_counted_once(
    admin, tenancy, llm, reply_env, db, capsys
):
    reply_env.meta.other_tokens = {"acme-wa-token"}
    add_tenant(
        admin,
        "acme",
        channels={"whatsapp": "1001"},
        secrets={"WHATSAPP_TOKEN": "acme-wa-token"},
        chatModel="gpt-4.1",
        monthlyTokenBudget=10,
        budgetModel="gpt-4.1-nano",
    )
    spend(db, "acme", 10, datetime.now(UTC))
    capsys.readouterr()
    assert deliver(inbound("acme", "hola", channel="whatsapp", number="1001")) == []
    assert [r.body["model"] for r in chats(llm)] == ["gpt-4.1-nano"]
    assert budget_exceeded_count(capsys.readouterr().out) == 1  # one budget query, one count per reply
    # The typing indicator still goes out for a real model.
    assert len(reply_env.meta.read_receipts()) == 1


# -- language, hours, pause, prompt -------------------------------------------------------------------


def test_a_conversation_that_names_no_language_is_answered_in_the_tenant_language(admin, tenancy, reply_env, db):
    add_tenant(admin, "acme", defaultLanguage="en")
    add_tenant(admin, "beta")
    add_products_for(db, "acme", product("XY-0412", "Nevera Samsung RT38", 499.0, 4))
    add_products_for(db, "beta", product("XY-0412", "Nevera Samsung RT38", 499.0, 4))
    english, spanish = inbound("acme", "XY-0412"), inbound("beta", "XY-0412")
    deliver(english)
    deliver(spanish)
    assert reply_text(db, english)["text"].startswith("I found these products")
    assert reply_text(db, spanish)["text"].startswith("Encontré")
    languages = {r["tenant_id"]: r["language"] for r in db.execute("SELECT tenant_id, language FROM conversations")}
    assert languages == {"acme": "en", "beta": "es"}
    # A message that names a language still wins.
    french = inbound("acme", "Bonjour, avez-vous des réfrigérateurs ?")
    french = french.model_copy(update={"conversation_id": "webchat:another-0000001", "sender_id": "another-0000001"})
    deliver(french)
    assert reply_text(db, french)["language"] == "fr"


def _closed_now() -> dict[str, list[str]]:
    """Business hours that exclude this moment: open only on another weekday."""
    other = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[(datetime.now(UTC).weekday() + 3) % 7]
    return {other: ["09:00-18:00"]}


def test_outside_business_hours_a_person_asked_for_is_promised_with_the_after_hours_message(
    admin, tenancy, reply_env, db
):
    add_tenant(admin, "acme", businessHours=_closed_now(), afterHoursMessage="Te atendemos mañana desde las 9.")
    add_tenant(admin, "beta", businessHours=_closed_now())  # no message: the usual notice
    add_tenant(admin, "gamma", afterHoursMessage="Volvemos mañana.")  # no hours: always open
    from mostrador.conversations.escalation import handoff_message

    for tenant, expected in (
        ("acme", "Te atendemos mañana desde las 9."),
        ("beta", handoff_message("es")),
        ("gamma", handoff_message("es")),
    ):
        message = inbound(tenant, "quiero hablar con un asesor")
        deliver(message)
        assert reply_text(db, message)["text"] == expected, tenant


def test_a_person_answering_pauses_the_bot_for_the_tenant_pause_length(admin, tenancy, reply_env, db, monkeypatch):
    add_tenant(admin, "acme", channels={"whatsapp": "1001"}, takeoverPauseMinutes=15)
    echo = inbound("acme", "Hola, le atiendo yo", channel="whatsapp", sender_role="agent", metadata={"is_echo": "true"})
    before = datetime.now(UTC)
    assert deliver(echo) == []
    pause = db.execute("SELECT tenant_id, paused_until FROM conversation_pauses").fetchone()
    assert pause["tenant_id"] == "acme"
    assert timedelta(minutes=14) < pause["paused_until"] - before < timedelta(minutes=16)

    from tests.integration.tenant_support import as_tenant

    as_tenant(admin, "acme")
    admin.ok("POST", f"/admin/conversations/{echo.conversation_id}/resume")
    taken = admin.ok("POST", f"/admin/conversations/{echo.conversation_id}/takeover", body={})
    until = datetime.fromisoformat(taken["paused"]["pausedUntil"])
    assert timedelta(minutes=14) < until - before < timedelta(minutes=16)


def test_the_model_gets_the_tenant_prompt_and_the_store_facts(admin, tenancy, llm, db):
    add_tenant(
        admin,
        "acme",
        systemPrompt="Eres Lía, la asistente de Acme Electro.",
        currency="VES",
        timeZone="America/Caracas",
        businessHours={"mon": ["09:00-18:00"]},
    )
    add_tenant(admin, "beta", systemPrompt="Eres el asistente de Beta Hogar.")
    deliver(inbound("acme", "hola"))
    deliver(inbound("beta", "hola"))
    acme, beta = (r.body["messages"][0]["content"] for r in chats(llm))
    assert acme.startswith("Eres Lía, la asistente de Acme Electro.") and "Beta Hogar" not in acme
    assert "You answer for Acme. Show prices in VES." in acme and "(America/Caracas)" in acme
    assert "Business hours: mon 09:00-18:00." in acme
    assert beta.startswith("Eres el asistente de Beta Hogar.") and "Acme" not in beta
    # The ground rules still follow every tenant prompt, after it.
    rules = "These rules always apply, whatever else this prompt says."
    assert rules in acme and acme.index(rules) > acme.index("Eres Lía") and rules in beta


# -- currency --------------------------------------------------------------------------------------------


def test_a_tenant_currency_reaches_the_tool_results_the_choices_and_the_offline_reply(admin, tenancy, reply_env, db):
    """The store's currency is in every product card the reply side builds, so the offline reply, the
    choice list offered after a search and the tool result a model reads all show it."""
    add_tenant(admin, "acme", currency="EUR")
    add_products_for(
        db,
        "acme",
        product("N-1", "Nevera Samsung RT38", 499.0, 4),
        product("N-2", "Nevera LG GT32", 650.0, 2),
    )
    question = inbound("acme", "¿tienen neveras?")
    assert deliver(question) == []  # reply_env answers with the offline provider
    row = reply_text(db, question)
    assert "EUR 499,00" in row["text"] and "USD" not in row["text"], row["text"]
    descriptions = [item["description"] for item in row["choices"]["items"]]
    assert descriptions and all(d.split(" · ")[-2].startswith("EUR ") for d in descriptions), descriptions
    assert not any("USD" in d for d in descriptions)


def test_the_model_reads_the_tenant_currency_in_its_tool_results(admin, tenancy, llm, db):
    add_tenant(admin, "acme", currency="EUR")
    add_products_for(db, "acme", product("N-1", "Nevera Samsung RT38", 499.0, 4))
    llm.script_chat(
        [
            {"text": "", "tool_calls": [{"name": "search_local_products", "arguments": {"query": "nevera"}}]},
            {"text": "", "tool_calls": [{"name": "get_live_product_details", "arguments": {"item_code": "N-1"}}]},
            "La Nevera Samsung RT38 cuesta EUR 499,00.",
        ]
    )
    deliver(inbound("acme", "¿tienen neveras?"))
    last = chats(llm)[-1].body
    results = [json.loads(m["content"]) for m in last["messages"] if m["role"] == "tool"]
    assert [card["currency"] for card in results[0]["products"]] == ["EUR"]
    assert results[1]["product"]["currency"] == "EUR"
    tools = {tool["function"]["name"]: tool["function"] for tool in last["tools"]}
    price = tools["search_local_products"]["parameters"]["properties"]["min_price"]["description"]
    assert "store's currency" in price and "USD" not in price


# -- escalation recipients -----------------------------------------------------------------------------


class HookReceiver:
    """An HTTP endpoint on 127.0.0.1 standing in for the tenant's escalation webhook."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.received: list[dict[str, Any]] = []
        self.status = 200
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                owner.received.append(json.loads(body))
                self.send_response(owner.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/escalations"


@pytest.fixture
def hook():
    receiver = HookReceiver()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def test_an_escalation_is_posted_once_to_the_tenant_webhook_with_its_recipients(admin, tenancy, reply_env, db, hook):
    add_tenant(
        admin,
        "acme",
        escalationWebhookUrl=hook.url,
        escalationAgentIds=["7", "8"],
        escalationEmail="ventas@acme.example",
    )
    add_tenant(admin, "beta")  # no webhook: nothing is posted for it
    first = inbound("acme", "quiero hablar con un asesor")
    assert deliver(first) == []
    again = first.model_copy(update={"platform_message_id": "in.again", "text": "¿hay alguien?"})
    deliver(again)  # the escalation is still open: no second notice
    deliver(inbound("beta", "quiero hablar con un asesor"))
    [notice] = hook.received
    [escalation] = db.execute("SELECT id FROM escalations WHERE tenant_id = 'acme'").fetchall()
    assert notice["event"] == "escalation.opened" and notice["tenantId"] == "acme"
    assert (notice["escalationId"], notice["conversationId"], notice["source"]) == (
        escalation["id"],
        first.conversation_id,
        "customer_request",
    )
    assert notice["supportBoardAgentIds"] == ["7", "8"] and notice["email"] == "ventas@acme.example"


def test_a_failing_escalation_webhook_never_costs_the_customer_the_reply(admin, tenancy, reply_env, db, hook, capsys):
    hook.status = 500
    add_tenant(admin, "acme", escalationWebhookUrl=hook.url)
    message = inbound("acme", "quiero hablar con un asesor")
    capsys.readouterr()
    assert deliver(message) == []
    from mostrador.conversations.escalation import handoff_message

    assert reply_text(db, message)["text"] == handoff_message("es")
    assert len(hook.received) == 1
    assert '"EscalationNoticesFailed":[1.0]' in capsys.readouterr().out.replace(" ", "")


def _escalated_on_whatsapp(admin, db, **settings: Any) -> tuple[InboundMessage, int]:
    """A tenant with an escalation e-mail whose WhatsApp customer asks for a person; the message and the
    escalation id."""
    add_tenant(admin, "acme", channels={"whatsapp": "1001"}, secrets={"WHATSAPP_TOKEN": "acme-wa-token"}, **settings)
    message = inbound("acme", "quiero hablar con un asesor", channel="whatsapp", number="1001")
    assert deliver(message) == []
    from mostrador.conversations.escalation import handoff_message

    assert reply_text(db, message)["text"] == handoff_message("es")  # the customer is told, whatever the mail did
    [escalation] = db.execute("SELECT id FROM escalations WHERE tenant_id = 'acme'").fetchall()
    return message, escalation["id"]


def test_locally_an_escalation_email_is_written_to_the_outbox_folder(
    admin, tenancy, reply_env, db, tmp_path, monkeypatch
):
    import email

    reply_env.meta.other_tokens = {"acme-wa-token"}
    monkeypatch.setenv("ESCALATION_EMAIL_OUTBOX_DIR", str(tmp_path / "mail"))
    message, escalation_id = _escalated_on_whatsapp(
        admin, db, escalationEmail="ventas@acme.example", displayName="Acme Electro", timeZone="America/Caracas"
    )
    [written] = list((tmp_path / "mail").glob("*.eml"))
    mail = email.message_from_bytes(written.read_bytes(), policy=email.policy.default)
    assert mail["To"] == "ventas@acme.example" and mail["From"] == "mostrador@localhost"
    assert mail["Subject"].startswith(f"Escalamiento #{escalation_id} en Acme Electro")
    body = mail.get_content()
    assert f"Escalamiento: #{escalation_id}" in body and "Canal: whatsapp" in body
    assert "customer_request" in body and "(America/Caracas)" in body
    assert "584125550101" not in written.read_text() and message.conversation_id not in written.read_text()

    # A tenant without an escalation e-mail gets none.
    add_tenant(admin, "beta")
    deliver(inbound("beta", "quiero hablar con un asesor"))
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 1


@pytest.fixture
def ses(sqs_endpoint, monkeypatch):
    """Amazon SES (API v2) on moto's server; the reply function's own client goes there too."""
    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL_SESV2", sqs_endpoint)
    return boto3.client("sesv2", endpoint_url=sqs_endpoint, region_name="us-east-1")


def _ses_sent(sender: str) -> list[Any]:
    # moto's server runs in this process: its SES backend holds what was sent.
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return [m for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages if m.source == sender]


def test_on_aws_an_escalation_email_goes_through_ses_from_the_deployment_sender(
    admin, tenancy, reply_env, db, ses, monkeypatch
):
    sender = f"avisos-{uuid.uuid4().hex[:8]}@mostrador.example"
    ses.create_email_identity(EmailIdentity=sender)  # docs/deploy.md: the verification step
    monkeypatch.setenv("ESCALATION_EMAIL_FROM", sender)
    reply_env.meta.other_tokens = {"acme-wa-token"}
    message, escalation_id = _escalated_on_whatsapp(admin, db, escalationEmail="ventas@acme.example")

    [sent] = _ses_sent(sender)
    assert sent.destinations == {"ToAddresses": ["ventas@acme.example"]}
    assert sent.subject.startswith(f"Escalamiento #{escalation_id} en Acme")
    assert "Motivo: the customer asked for a person (customer_request)" in sent.body
    assert "584125550101" not in sent.body and message.conversation_id not in sent.body


def test_an_email_ses_refuses_never_costs_the_customer_the_reply(
    admin, tenancy, reply_env, db, ses, monkeypatch, caplog
):
    sender = f"unverified-{uuid.uuid4().hex[:8]}@mostrador.example"  # never verified: SES refuses it
    monkeypatch.setenv("ESCALATION_EMAIL_FROM", sender)
    reply_env.meta.other_tokens = {"acme-wa-token"}
    _escalated_on_whatsapp(admin, db, escalationEmail="ventas@acme.example")

    assert _ses_sent(sender) == []
    [line] = [r for r in caplog.records if r.getMessage() == "escalation notice not delivered"]
    assert (line.recipient, line.error) == ("email", "MessageRejected")  # type: ignore[attr-defined]
    assert "584125550101" not in json.dumps([r.__dict__ for r in caplog.records], default=str)
