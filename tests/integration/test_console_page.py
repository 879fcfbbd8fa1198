"""The admin console in headless Chromium against `mostrador local` (a subprocess, as a person runs it),
with data from the real pipelines: a catalog pushed to POST /ingest/products, customers' messages as
signed WhatsApp webhooks, the bot's and the agent's replies arriving at a Graph API stand-in on
127.0.0.1. Screenshots at phone and desktop widths go to .artifacts/console-screenshots/ (gitignored);
the run prints the folder."""

from __future__ import annotations

import base64
import csv
import io
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from tests.e2e.chromium import Chromium, Page
from tests.fakes.llm_server import FakeLLMServer, running_llm_server
from tests.fakes.media_files import ogg_opus_voice_note, png_photo
from tests.fakes.platforms import FakeMetaGraph
from tests.integration import console_support, test_local_stack
from tests.integration.console_support import (
    SCREENSHOTS,
    assert_pictures,
    at_phone_and_desktop_widths,
    fits_phone,
    go,
    screenshot,
    shut_down,
    signed_in_as,
)
from tests.integration.test_local_stack import (
    PHONE_NUMBER_ID,
    REPO,
    RunningStack,
    free_port,
    signed_whatsapp_delivery,
    stack_environment,
    start_stack,
    wait_for,
)

graph, browser, page = test_local_stack.graph, console_support.browser, console_support.page  # fixtures
ADMIN_TOKEN = "console-test-admin-token-0123456789"
INGEST_KEY = "console-test-ingest-key"


@pytest.fixture(scope="module")
def media_models() -> Iterator[FakeLLMServer]:
    """Voice notes and photos go to the real OpenAI SDK against this server; chat stays offline."""
    with running_llm_server() as server:
        yield server


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, graph: FakeMetaGraph, media_models: FakeLLMServer
) -> Iterator[RunningStack]:
    env = stack_environment(
        graph,
        ADMIN_TOKEN=ADMIN_TOKEN,
        INGEST_API_KEY=INGEST_KEY,
        MESSENGER_PAGE_TOKEN=graph.token,
        LLM_PROVIDER="offline",
        TRANSCRIPTION_PROVIDER="openai",
        VISION_PROVIDER="openai",
        OPENAI_API_KEY="console-test-openai-key",
        OPENAI_BASE_URL=media_models.openai_base_url,
        LLM_MAX_RETRIES="0",
    )
    root = tmp_path_factory.mktemp("console-stack")
    running = start_stack(root / "data", free_port(), env, root / "stack.log")
    catalog = json.loads((REPO / "local" / "sample_catalog.json").read_text(encoding="utf-8"))[:60]
    pushed = httpx.post(
        f"{running.url}/ingest/products",
        json={"products": catalog, "syncId": "console-e2e"},
        headers={"X-API-KEY": INGEST_KEY},
        timeout=60,
    )
    assert pushed.status_code == 202, pushed.text
    wait_for(
        lambda: (
            httpx.get(f"{running.url}/ingest/syncs/console-e2e", headers={"X-API-KEY": INGEST_KEY})
            .json()
            .get("complete")
        ),
        seconds=180,
        what=f"the catalog sync\n{running.output()}",
    )
    yield running
    shut_down(running)


def api(stack: RunningStack, path: str, **query: Any) -> Any:
    answer = httpx.get(
        f"{stack.url}{path}", params=query, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def customer_writes(
    stack: RunningStack,
    sender: str,
    text: str,
    *,
    content: dict[str, Any] | None = None,
    phone_number_id: str = PHONE_NUMBER_ID,
) -> str:
    """A signed WhatsApp webhook with the customer's `text` (or a media message's `content`), to the business
    number `phone_number_id` (the default tenant's unless named)."""
    wamid = f"wamid.CONSOLE{sender}{time.time_ns()}"
    raw, signature = signed_whatsapp_delivery(sender, text, wamid, content=content, phone_number_id=phone_number_id)
    answer = httpx.post(
        f"{stack.url}/webhooks/whatsapp",
        content=raw,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return wamid


def texts_to(graph: FakeMetaGraph, sender: str) -> list[str]:
    # Text, or the body of the list/buttons a reply offering several products is sent as.
    return graph.sent_texts(to=sender)


def _bot_reply_sent(stack: RunningStack, graph: FakeMetaGraph, sender: str, text: str) -> dict[str, Any]:
    """A WhatsApp customer writes `text`; the bot's one reply once it is answered and recorded sent."""
    customer_writes(stack, sender, text)
    conversation = f"/admin/console/conversations/wa:{PHONE_NUMBER_ID}:{sender}"
    wait_for(lambda: texts_to(graph, sender), seconds=60, what=f"the bot's answer\n{stack.output()}")
    wait_for(
        lambda: [m for m in api(stack, conversation)["messages"] if m["actor"] == "bot" and m["status"] == "sent"],
        seconds=30,
        what=f"the bot's reply recorded sent\n{stack.output()}",
    )
    [bot] = [m for m in api(stack, conversation)["messages"] if m["actor"] == "bot"]
    return dict(bot)


def sign_in(page: Page) -> None:
    console_support.sign_in(page, ADMIN_TOKEN, shown="conversation-list")


def clear_filter(page: Page) -> None:
    page.wait_for("!!document.getElementById('filter-text')")
    page.evaluate(
        "document.getElementById('filter-text').value = '';"
        " document.getElementById('filter-text').dispatchEvent(new Event('input'))"
    )
    page.wait_for("document.getElementById('conversation-list').dataset.query === ''")


def filter_inbox(page: Page, words: str, *, rows: int) -> None:
    """Filter the inbox by `words` and wait until it lists the `rows` conversations that search answers."""
    go(page, "#/inbox")
    # The inbox itself, not the list still shown beside a conversation opened before: the hash change
    # mounts a new inbox (and search box) a moment later, and typing into the old box loses the words.
    page.wait_for("!!document.getElementById('filter-text') && !document.getElementById('transcript')")
    page.evaluate("document.getElementById('filter-text').value = ''")
    page.type_into("#filter-text", words)
    page.wait_for(
        f"document.getElementById('conversation-list').dataset.query === {json.dumps(words)}"
        f" && document.querySelectorAll('#conversation-list a.conversation').length === {rows}",
        seconds=20,
    )


def open_conversation_with(page: Page, words: str) -> None:
    """Filter the inbox by `words` and open the one conversation it leaves."""
    filter_inbox(page, words, rows=1)
    page.click("#conversation-list a.conversation")
    page.wait_for("!!document.querySelector('#transcript li.msg')", seconds=20)


def transcript(page: Page) -> list[dict[str, str]]:
    return page.evaluate(
        "[...document.querySelectorAll('#transcript li.msg')].map(e => ({actor: e.dataset.actor,"
        " direction: e.dataset.direction, status: e.dataset.status, text: e.querySelector('.text').textContent}))"
    )


def header_state(page: Page) -> str:
    return str(
        page.evaluate("(document.querySelector('.conv-head .badge[data-state]') || {dataset: {}}).dataset.state")
    )


# -- the tests, in the order a shift goes -------------------------------------------------------------------


def test_sign_in_refuses_a_wrong_token_and_keeps_the_right_one_in_this_tab_only(page: Page) -> None:
    page.type_into("#token", "not-the-token")
    page.click(".signin-form button[type=submit]")
    page.wait_for("document.getElementById('signin-error').textContent.length > 0")
    assert "incorrecto" in page.evaluate("document.getElementById('signin-error').textContent")
    assert page.evaluate("document.getElementById('bar').getClientRects().length") == 0  # no header drawn
    assert page.evaluate("sessionStorage.getItem('mostrador.console.token')") is None

    sign_in(page)
    assert page.evaluate("sessionStorage.getItem('mostrador.console.token')") == ADMIN_TOKEN
    assert page.evaluate("JSON.stringify(localStorage)").find(ADMIN_TOKEN) == -1
    assert ADMIN_TOKEN not in page.evaluate("location.href")
    nav = page.evaluate("[...document.querySelectorAll('.bar nav a')].map(a => a.textContent)")
    assert nav == ["Bandeja", "Escalaciones", "Analítica", "Catálogo", "Conocimiento"]  # Spanish; all permitted

    page.click(".bar button.lang")
    page.wait_for("document.documentElement.lang === 'en' && !!document.getElementById('nav-inbox')")
    english = page.evaluate("[...document.querySelectorAll('.bar nav a')].map(a => a.textContent)")
    assert english == ["Inbox", "Escalations", "Analytics", "Catalog", "Knowledge"]
    page.click(".bar button.lang")
    page.wait_for("document.documentElement.lang === 'es' && !!document.getElementById('nav-inbox')")
    assert page.evaluate("document.getElementById('nav-inbox').textContent") == "Bandeja"

    page.click("#sign-out")
    page.wait_for("!!document.getElementById('token')")
    assert page.evaluate("sessionStorage.getItem('mostrador.console.token')") is None
    # Signed out: the header with its sections, tenant and "Salir" is gone from the screen, not only hidden
    # in the markup, and the sign-in form stays (no section still loading is drawn over it).
    assert page.evaluate("document.getElementById('bar').getClientRects().length") == 0
    time.sleep(0.5)
    assert page.evaluate("!!document.getElementById('token') && !document.getElementById('conversation-list')")
    sign_in(page)


def test_the_page_opens_at_its_address_with_a_trailing_slash_too(stack: RunningStack, browser: Chromium) -> None:
    moved = httpx.get(f"{stack.url}/console/", follow_redirects=False)
    assert moved.status_code == 308 and moved.headers["location"] == "../console"
    opened = browser.open(f"{stack.url}/console/")
    opened.wait_for("!!document.getElementById('token')", seconds=20)  # its scripts ran
    assert opened.evaluate("location.pathname") == "/console"
    opened.call("Page.close")


def test_a_new_conversation_shows_in_the_inbox_within_seconds_of_its_webhook(stack: RunningStack, page: Page) -> None:
    sign_in(page)
    go(page, "#/inbox")
    page.wait_for("!!document.getElementById('conversation-list')")
    clear_filter(page)
    started = time.monotonic()
    customer_writes(stack, "584140001001", "Hola, soy nueva por aquí: busco una nevera")
    page.wait_for(
        "[...document.querySelectorAll('#conversation-list .customer')].some(e => e.textContent === '584••••••01')",
        seconds=15,
    )
    assert time.monotonic() - started < 15
    row = page.evaluate(
        "(() => { const a = [...document.querySelectorAll('#conversation-list a.conversation')]"
        ".find(e => e.querySelector('.customer').textContent === '584••••••01');"
        " return {state: a.dataset.state, channel: a.dataset.channel, text: a.innerText}; })()"
    )
    assert row["channel"] == "whatsapp" and "WhatsApp" in row["text"]


def test_take_over_reply_as_a_person_and_resume(stack: RunningStack, page: Page, graph: FakeMetaGraph) -> None:
    sender = "584140002002"
    customer_writes(stack, sender, "Buenas, ¿tienen neveras Samsung? pedido-7731")
    wait_for(lambda: texts_to(graph, sender), what=f"the bot's first answer\n{stack.output()}")
    sign_in(page)
    open_conversation_with(page, "pedido-7731")
    page.wait_for("document.querySelectorAll('#transcript li.msg[data-actor=bot]').length === 1", seconds=20)
    bot_reply_shows_why_it_said_what_it_said(stack, page, graph, sender)

    page.evaluate("document.getElementById('takeover-duration').value = 'until'")
    page.click("#takeover")
    page.wait_for("document.querySelector('.conv-head .badge[data-state]').dataset.state === 'paused'", seconds=15)

    customer_writes(stack, sender, "¿Hola? ¿Me ayudan con el precio?")
    page.wait_for(
        "[...document.querySelectorAll('#transcript li.msg')].some(e => e.dataset.status === 'skipped')", seconds=20
    )
    assert len(texts_to(graph, sender)) == 1  # taken over: the bot said nothing

    page.type_into("#reply-text", "Hola, soy Ana de la tienda: la RT38 está en 899 USD.")
    page.click("#reply-send")
    sent = wait_for(
        lambda: "Hola, soy Ana de la tienda: la RT38 está en 899 USD." in texts_to(graph, sender),
        seconds=20,
        what="the agent's reply at the Graph API stand-in",
    )
    assert sent
    page.wait_for("document.querySelectorAll('#transcript li.msg[data-actor=agent]').length === 1", seconds=15)
    assert page.evaluate("document.getElementById('reply-text').value") == ""
    conversation_id = f"wa:{PHONE_NUMBER_ID}:{sender}"
    stored = api(stack, f"/admin/console/conversations/{conversation_id}")
    [agent] = [m for m in stored["messages"] if m["actor"] == "agent"]
    assert agent["direction"] == "outbound" and agent["sentBy"] == "admin" and agent["status"] == "sent"
    page.wait_for("document.querySelector('.conv-head .badge[data-state]').dataset.state === 'human'", seconds=15)

    page.wait_for("!document.getElementById('resume').disabled")
    page.click("#resume")
    page.wait_for("document.querySelector('.conv-head .badge[data-state]').dataset.state === 'bot'", seconds=15)
    customer_writes(stack, sender, "Perfecto, ¿y tienen televisores?")
    wait_for(lambda: len(texts_to(graph, sender)) == 3, seconds=60, what=f"the bot again\n{stack.output()}")
    page.wait_for("document.querySelectorAll('#transcript li.msg[data-actor=bot]').length === 2", seconds=20)
    actors = [m["actor"] for m in transcript(page)]
    assert actors == ["customer", "bot", "customer", "agent", "customer", "bot"]


def spanish_ms(value: float) -> str:
    """A duration as the page writes it in Spanish: whole milliseconds under a second, else seconds with one
    decimal (comma)."""
    if value < 1000:
        return f"{Decimal(str(value)).quantize(Decimal(1), ROUND_HALF_UP)} ms"
    seconds = Decimal(str(value)) / 1000
    return f"{seconds.quantize(Decimal('0.1'), ROUND_HALF_UP).normalize():f} s".replace(".", ",")


def bot_reply_shows_why_it_said_what_it_said(
    stack: RunningStack, page: Page, graph: FakeMetaGraph, sender: str
) -> None:
    """The bot's reply, opened: the catalog search it ran, the product it cited (the one the customer was
    sent), and how long it took."""
    bot = "#transcript li.msg[data-actor=bot]"
    page.click(f"{bot} details.why summary")
    page.wait_for(f"document.querySelector('{bot} details.why').open === true")
    shown = page.evaluate(
        f"(() => {{ const e = document.querySelector('{bot}'); const why = e.querySelector('details.why');"
        " const seen = (x) => x.getClientRects().length > 0;"
        " return {tools: [...why.querySelectorAll('.tool-calls li')].filter(seen).map(l => l.dataset.tool),"
        " items: [...why.querySelectorAll('ul.cited li')].filter(seen).map(l => [l.dataset.item, l.textContent]),"
        " facts: e.querySelector('.facts').textContent}; })()"
    )
    assert "search_local_products" in shown["tools"], shown
    # What went out to the customer names a product; the page lists that product's code among the cited.
    sent = json.dumps([r.json for r in graph.sent() if r.json.get("to") == sender], ensure_ascii=False)
    cited = [(code, words) for code, words in shown["items"] if words.removeprefix(code).strip() in sent]
    assert cited and all(code and code in words for code, words in cited), (shown["items"], sent)
    [stored] = [
        m
        for m in api(stack, f"/admin/console/conversations/wa:{PHONE_NUMBER_ID}:{sender}")["messages"]
        if m["actor"] == "bot"
    ]
    assert {code for code, _ in cited} <= {p["itemCode"] for p in stored["citedProducts"]}
    assert stored["latencyMs"] > 0 and f"respondió en {spanish_ms(stored['latencyMs'])}" in shown["facts"], (
        shown["facts"],
        stored["latencyMs"],
    )


def test_an_escalation_is_resolved_from_the_page(stack: RunningStack, page: Page, graph: FakeMetaGraph) -> None:
    sender = "584140003003"
    customer_writes(stack, sender, "Quiero hablar con una persona, por favor")
    wait_for(lambda: texts_to(graph, sender), what="the hand-off message")
    sign_in(page)
    go(page, "#/escalations")
    page.wait_for("document.querySelectorAll('#escalation-list li.escalation[data-status=open]').length === 1", 20)
    # The reason in the page's language: the pipeline's stored reason is a fixed English phrase, which the
    # Spanish label says; it stays only as the label's tooltip.
    [opened] = api(stack, "/admin/escalations", status="open")["escalations"]
    assert opened["reason"] == "the customer asked for a person"
    shown = page.evaluate(
        "(() => { const e = document.querySelector('#escalation-list li.escalation');"
        " return {text: e.innerText, label: e.querySelector('.source').textContent,"
        " title: e.querySelector('.source').title}; })()"
    )
    assert shown["label"] == "Pidió una persona" and shown["title"] == opened["reason"], shown
    assert opened["reason"] not in shown["text"], shown["text"]
    escalation_id = page.evaluate("document.querySelector('#escalation-list li.escalation').dataset.id")
    # The conversation's header says it the same way.
    page.click(f"#escalation-list li.escalation[data-id='{escalation_id}'] a[href^='#/c/']")
    page.wait_for("!!document.getElementById('escalation-note')", seconds=20)
    note = page.evaluate("document.getElementById('escalation-note').innerText")
    assert note.startswith("Escalada: Pidió una persona") and opened["reason"] not in note, note
    go(
        page,
        "#/escalations",
        "document.querySelectorAll('#escalation-list li.escalation[data-status=open]').length === 1",
    )
    page.type_into(f"#note-{escalation_id}", "La llamamos y compró la nevera.")
    page.click(f"#resume-{escalation_id}")
    page.click(f"form.resolve[data-escalation='{escalation_id}'] button[type=submit]")
    page.wait_for("document.querySelectorAll('#escalation-list li.escalation').length === 0", seconds=15)
    resolved = api(stack, "/admin/escalations", status="resolved")["escalations"]
    assert [(e["id"], e["note"], e["status"]) for e in resolved] == [
        (int(escalation_id), "La llamamos y compró la nevera.", "resolved")
    ]
    assert api(stack, f"/admin/console/conversations/wa:{PHONE_NUMBER_ID}:{sender}")["conversation"]["paused"] is None


def test_customer_text_is_shown_as_text_never_as_html(stack: RunningStack, page: Page, graph: FakeMetaGraph) -> None:
    sender = "584140004004"
    attack = '<img src=x onerror="window.__xss=1"><b>negrita</b> xss-5521'
    customer_writes(stack, sender, attack)
    wait_for(lambda: texts_to(graph, sender), what="the bot's answer to the odd message")
    sign_in(page)
    open_conversation_with(page, "xss-5521")
    shown = [m for m in transcript(page) if m["actor"] == "customer"]
    assert shown[0]["text"] == attack
    assert page.evaluate("document.querySelectorAll('#main img, #main b').length") == 0
    assert page.evaluate("window.__xss") is None
    assert attack in page.evaluate("document.getElementById('transcript').innerText")


def test_a_voice_notes_transcript_and_a_photos_description_show_under_the_customers_message(
    stack: RunningStack, page: Page, graph: FakeMetaGraph, media_models: FakeLLMServer
) -> None:
    sender = "584140005005"
    conversation_id = f"wa:{PHONE_NUMBER_ID}:{sender}"

    def answered(count: int) -> bool:
        """The bot has answered `count` of the customer's messages (a reply may go out in two pieces)."""
        answer = httpx.get(
            f"{stack.url}/admin/conversations/{conversation_id}",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            timeout=30,
        )
        messages = answer.json()["messages"] if answer.status_code == 200 else []  # 404 until recorded
        return sum(m["direction"] == "inbound" and m["state"] == "replied" for m in messages) == count

    customer_writes(stack, sender, "Hola, les mando una nota de voz y una foto medios-6630")
    wait_for(lambda: answered(1), what=f"the bot's first answer\n{stack.output()}")

    voice = ogg_opus_voice_note(4.0, "console")
    voice_id = graph.add_media(voice, "audio/ogg; codecs=opus")
    said = "Hola, ¿tienen nevera Samsung?"
    media_models.add_transcript(voice, said)
    customer_writes(
        stack, sender, "", content={"type": "audio", "audio": {"id": voice_id, "mime_type": "audio/ogg; codecs=opus"}}
    )
    wait_for(lambda: answered(2), what=f"the answer to the voice note\n{stack.output()}")

    photo = png_photo("console-blender")
    photo_id = graph.add_media(photo, "image/png")
    seen = "Una licuadora Oster con vaso de vidrio y base plateada."
    media_models.add_image_description(photo, seen)
    customer_writes(
        stack,
        sender,
        "",
        content={"type": "image", "image": {"id": photo_id, "mime_type": "image/png", "caption": "¿tienen este?"}},
    )
    wait_for(lambda: answered(3), what=f"the answer to the photo\n{stack.output()}")

    sign_in(page)
    open_conversation_with(page, "medios-6630")
    page.wait_for("document.querySelectorAll('#transcript li.msg[data-actor=bot]').length === 3", seconds=20)
    notes = page.evaluate(
        "[...document.querySelectorAll('#transcript li.msg')].map(e => ({direction: e.dataset.direction,"
        " text: e.querySelector('.text').textContent, notes: [...e.querySelectorAll('.media-note')]"
        ".map(n => [n.dataset.note, n.querySelector('.label').textContent, n.querySelector('.said').textContent])}))"
    )
    customer = [m for m in notes if m["direction"] == "inbound"]
    assert [m["notes"] for m in customer] == [
        [],
        [["transcript", "Transcripción:", said]],
        [["mediaDescription", "En la foto:", seen]],
    ]
    assert customer[2]["text"] == "¿tienen este?"  # the caption stays the message's text
    assert all(m["notes"] == [] for m in notes if m["direction"] == "outbound")
    # The page shows what the admin API says the models made of them.
    stored = api(stack, f"/admin/console/conversations/{conversation_id}")["messages"]
    inbound = [m for m in stored if m["direction"] == "inbound"]
    assert [(m["mediaKind"], m["transcript"], m["mediaDescription"]) for m in inbound][1:] == [
        ("audio", said, None),
        ("image", None, seen),
    ]
    page.click(".bar button.lang")
    page.wait_for(
        "document.documentElement.lang === 'en'"
        " && document.querySelector('#transcript .media-note .label')?.textContent === 'Transcript:'",
        seconds=15,
    )
    labels = page.evaluate("[...document.querySelectorAll('#transcript .media-note .label')].map(e => e.textContent)")
    assert labels == ["Transcript:", "In the photo:"]
    page.click(".bar button.lang")
    page.wait_for("document.documentElement.lang === 'es'")


def test_the_catalog_page_searches_as_the_bot_and_lists_the_sync(stack: RunningStack, page: Page) -> None:
    sign_in(page)
    go(page, "#/catalog")
    page.wait_for("!!document.querySelector('#syncs tr[data-sync=console-e2e]')", seconds=15)
    cells = page.evaluate(
        "[...document.querySelectorAll('#syncs tr[data-sync=console-e2e] td')].map(c => c.textContent)"
    )
    assert cells[1:3] == ["60", "60"]  # received, processed
    page.type_into("#product-query", "nevera samsung")
    page.evaluate("document.querySelector('#product-query').form.requestSubmit()")
    page.wait_for("document.querySelectorAll('#product-results tbody tr').length > 0", seconds=15)
    first = page.evaluate("document.querySelector('#product-results tbody tr').innerText")
    assert "Nevera" in first or "nevera" in first.lower()
    # Each row's score is the search's own, best first (the column staff read to see why a product came up).
    found = api(stack, "/admin/console/products", q="nevera samsung")
    assert found["scoreField"] == "relevance"
    shown = page.evaluate(
        "[...document.querySelectorAll('#product-results tbody tr')].map(r => [r.dataset.item, r.dataset.score,"
        " r.lastElementChild.textContent])"
    )
    assert [(item, float(score)) for item, score, _ in shown] == [
        (p["item_code"], p["score"]) for p in found["products"]
    ]
    assert all(cell.startswith(f"{p['score']:.3f}") for (_, _, cell), p in zip(shown, found["products"], strict=True))
    assert page.evaluate("document.querySelector('#product-results p.help').textContent") == (
        "Puntuación: «relevance» de la búsqueda."
    )


@contextmanager
def database_refusing(stack: RunningStack, item_code: str) -> Iterator[None]:
    """The stack's own database refuses to store the product `item_code` (a trigger): a per-item failure
    of a catalog sync that validation at the door did not foresee."""
    import pgserver
    import psycopg

    server = pgserver.get_server(str(stack.data_dir / "pg"), cleanup_mode=None)  # the stack's, already running
    with psycopg.connect(server.get_uri("mostrador"), autocommit=True) as conn:
        conn.execute(
            "CREATE OR REPLACE FUNCTION console_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN IF NEW.item_code = '{item_code}' THEN"
            " RAISE EXCEPTION 'refused for this test' USING ERRCODE = 'data_exception'; END IF; RETURN NEW; END $$"
        )
        conn.execute(
            "CREATE OR REPLACE TRIGGER console_test_refuse BEFORE INSERT OR UPDATE ON products"
            " FOR EACH ROW EXECUTE FUNCTION console_test_refuse()"
        )
        try:
            yield
        finally:
            conn.execute("DROP TRIGGER IF EXISTS console_test_refuse ON products")
            conn.execute("DROP FUNCTION IF EXISTS console_test_refuse()")


def test_the_catalog_page_lists_a_syncs_failed_items_with_their_error(stack: RunningStack, page: Page) -> None:
    sample = json.loads((REPO / "local" / "sample_catalog.json").read_text(encoding="utf-8"))[:2]
    items = [{**sample[0], "itemCode": "CONSOLE-OK"}, {**sample[1], "itemCode": "CONSOLE-BAD"}]
    with database_refusing(stack, "CONSOLE-BAD"):
        pushed = httpx.post(
            f"{stack.url}/ingest/products",
            json={"products": items, "syncId": "console-failing"},
            headers={"X-API-KEY": INGEST_KEY},
            timeout=60,
        )
        assert pushed.status_code == 202, pushed.text
        wait_for(
            lambda: api(stack, "/admin/console/syncs/console-failing/failures")["failures"],
            seconds=120,
            what=f"the refused item recorded\n{stack.output()}",
        )
        sign_in(page)
        go(page, "#/inbox", "!!document.getElementById('conversation-list')")  # the catalog reads syncs on opening
        go(page, "#/catalog", "!!document.querySelector('#syncs tr[data-sync=console-failing] td.bad button')")
        page.click("#syncs tr[data-sync=console-failing] td.bad button")
        page.wait_for("!!document.querySelector('#syncs ul.failures li')", seconds=15)
        shown = page.evaluate("[...document.querySelectorAll('#syncs ul.failures li')].map(e => e.textContent)")
    [failure] = api(stack, "/admin/console/syncs/console-failing/failures")["failures"][:1]
    assert len(shown) == 1 and shown[0].startswith(f"CONSOLE-BAD @ {failure['warehouse']}: ")
    assert "refused for this test" in shown[0] and "refused for this test" in failure["error"]


def test_a_bot_reply_shows_the_model_and_the_tokens_it_used(
    stack: RunningStack, page: Page, graph: FakeMetaGraph, media_models: FakeLLMServer
) -> None:
    """The default tenant answers with OpenAI's SDK against the stand-in server for this one reply (its own
    setting, read on every message), so the reply has a model and token counts to show."""
    sender = "584140008118"
    tenant = f"{stack.url}/admin/tenants/default"
    operator = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    changed = httpx.patch(tenant, json={"llmProvider": "openai", "chatModel": "gpt-4o-mini"}, headers=operator)
    assert changed.status_code == 200, changed.text
    try:
        media_models.script_chat([{"text": "Tenemos neveras Samsung y Mabe. ¿Cuál le interesa? modelos-8118"}])
        customer_writes(stack, sender, "Hola, ¿qué neveras tienen? consulta-8118")
        wait_for(lambda: texts_to(graph, sender), seconds=60, what=f"the model's answer\n{stack.output()}")
    finally:
        restored = httpx.patch(tenant, json={"llmProvider": None, "chatModel": None}, headers=operator)
        assert restored.status_code == 200, restored.text
    [bot] = [
        m
        for m in api(stack, f"/admin/console/conversations/wa:{PHONE_NUMBER_ID}:{sender}")["messages"]
        if m["actor"] == "bot"
    ]
    assert bot["model"] and bot["model"] != "offline" and bot["tokensIn"] > 0 and bot["tokensOut"] > 0, bot
    sign_in(page)
    open_conversation_with(page, "consulta-8118")
    page.wait_for("!!document.querySelector('#transcript li.msg[data-actor=bot]')", seconds=20)
    facts = page.evaluate("document.querySelector('#transcript li.msg[data-actor=bot] .facts').textContent")
    assert bot["model"] in facts, facts
    assert f"tokens {bot['tokensIn']} / {bot['tokensOut']}" in facts, facts


def test_a_reply_sent_without_its_refused_photo_says_so_and_not_that_it_failed(
    stack: RunningStack, page: Page, graph: FakeMetaGraph
) -> None:
    """Meta refused the product photo but the text went out: the reply is `sent` with error
    `photo_failed:100` (as the reply pipeline notes it, tests/integration/test_reply_choices.py), and the
    page says the photo was not sent next to "Enviado", never "No se envió"."""
    import pgserver
    import psycopg
    from psycopg.rows import dict_row

    from mostrador.db import conversation_repository

    sender = "584140008338"
    conversation = f"/admin/console/conversations/wa:{PHONE_NUMBER_ID}:{sender}"
    bot = _bot_reply_sent(stack, graph, sender, "Hola, ¿tienen neveras? foto-8338")
    server = pgserver.get_server(str(stack.data_dir / "pg"), cleanup_mode=None)  # the stack's, already running
    with psycopg.connect(server.get_uri("mostrador"), autocommit=True, row_factory=dict_row) as conn:
        conversation_repository.note_photo_failed(
            conn, "default", bot["id"], "100", "(#100) Failed to fetch the file from the url"
        )
    [bot] = [m for m in api(stack, conversation)["messages"] if m["actor"] == "bot"]
    assert (bot["status"], bot["error"]["code"]) == ("sent", "photo_failed:100"), bot
    sign_in(page)
    open_conversation_with(page, "foto-8338")
    page.wait_for("!!document.querySelector('#transcript li.msg[data-actor=bot] .photo-note')", seconds=20)
    shown = page.evaluate(
        "(() => { const e = document.querySelector('#transcript li.msg[data-actor=bot]');"
        " return {status: e.dataset.status, facts: e.querySelector('.facts').textContent,"
        " note: e.querySelector('.photo-note').textContent, text: e.textContent,"
        " errors: e.querySelectorAll('.error').length}; })()"
    )
    assert shown["status"] == "sent" and "enviado" in shown["facts"], shown
    assert shown["note"] == "Foto no enviada (100: (#100) Failed to fetch the file from the url); el texto sí se envió"
    assert "No se envió" not in shown["text"] and shown["errors"] == 0, shown


def test_a_reaction_shows_the_message_it_refers_to_and_its_removal(
    stack: RunningStack, page: Page, graph: FakeMetaGraph
) -> None:
    """The customer's 👍 on our reply (WhatsApp `reaction.message_id` = the reply's wamid) shows as
    "👍 a «<the reply>»"; taking it back shows as a removal, and the 👍 as taken back later."""
    import pgserver
    import psycopg

    sender = "584140008441"
    conversation = f"/admin/console/conversations/wa:{PHONE_NUMBER_ID}:{sender}"
    bot = _bot_reply_sent(stack, graph, sender, "Hola, ¿tienen neveras? reaccion-8441")
    server = pgserver.get_server(str(stack.data_dir / "pg"), cleanup_mode=None)  # the stack's, already running
    with psycopg.connect(server.get_uri("mostrador"), autocommit=True) as conn:
        row = conn.execute("SELECT platform_message_ids FROM messages WHERE id = %s", (bot["id"],)).fetchone()
    assert row is not None
    our_wamid = row[0][0]
    for emoji in ("👍", ""):
        customer_writes(
            stack, sender, "", content={"type": "reaction", "reaction": {"message_id": our_wamid, "emoji": emoji}}
        )
    wait_for(
        lambda: (
            [m.get("reaction", {}).get("status") for m in api(stack, conversation)["messages"]][-2:]
            == ["removed", "removal"]
        ),
        seconds=60,
        what=f"both reactions recorded\n{stack.output()}",
    )
    excerpt = api(stack, conversation)["messages"][-1]["reaction"]["to"]["text"]
    assert bot["text"].startswith(excerpt.removesuffix("…"))
    sign_in(page)
    open_conversation_with(page, "reaccion-8441")
    page.wait_for("document.querySelectorAll('#transcript li.msg').length === 4", seconds=20)
    shown = [m["text"] for m in transcript(page)][-2:]
    assert shown == [f"👍 a «{excerpt}» (quitada después)", f"Quitó su reacción a «{excerpt}»"]
    assert len(graph.sent_texts(to=sender)) == 1  # neither was answered


def test_a_closed_window_says_why_the_page_cannot_send(stack: RunningStack, page: Page) -> None:
    sender = "584140008228"
    long_ago = int(time.time()) - 26 * 3600  # the customer's last message: 26 hours ago
    content = {"type": "text", "text": {"body": "mensaje de ayer ventana-8228"}, "timestamp": str(long_ago)}
    customer_writes(stack, sender, "mensaje de ayer ventana-8228", content=content)
    conversation = f"/admin/console/conversations/wa:{PHONE_NUMBER_ID}:{sender}"
    wait_for(
        lambda: (
            httpx.get(f"{stack.url}{conversation}", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).status_code
            == 200
        )
    )
    window = api(stack, conversation)["window"]
    assert window["open"] is False and window["reason"] == "closed"
    sign_in(page)
    open_conversation_with(page, "ventana-8228")
    page.wait_for("document.getElementById('window-note').dataset.open === 'false'", seconds=15)
    note = page.evaluate("document.getElementById('window-note').textContent")
    assert note.startswith("No se puede enviar: la ventana de 24 horas se cerró el ") and "plantillas" in note
    assert page.evaluate(
        "[document.getElementById('reply-text').disabled, document.getElementById('reply-send').disabled]"
    ) == [True, True]


def test_focus_follows_the_reader_and_reset_asks_in_the_pages_own_dialog(stack: RunningStack, page: Page) -> None:
    """After choosing a section the focus is on its heading (a screen reader says where it is, Tab goes on
    from there), not back on the body; an opened conversation focuses its title; the header's focus ring
    is light on the dark bar; reset asks in an accessible dialog, not window.confirm."""
    sign_in(page)
    focused = "(document.activeElement.id || document.activeElement.tagName)"
    for address, heading in (
        ("#/escalations", "escalations-title"),
        ("#/catalog", "catalog-title"),
        ("#/inbox", "inbox-title"),
    ):
        go(page, address, f"{focused} === {json.dumps(heading)}")
    open_conversation_with(page, "pedido-7731")
    page.wait_for(f"{focused} === 'conv-title'", seconds=10)

    # Reached from the keyboard (the clicks before were a pointer's, after which a focus from script draws
    # no ring): Tab from the skip link, the control before it.
    page.evaluate("document.querySelector('a.skip').focus()")
    page.press_tab()
    page.wait_for(f"{focused} === 'nav-inbox'")
    ring = page.evaluate(
        "(() => { const a = document.getElementById('nav-inbox'), s = getComputedStyle(a);"
        " return [a.matches(':focus-visible'), s.outlineStyle, s.outlineColor,"
        " getComputedStyle(document.getElementById('bar')).backgroundColor]; })()"
    )
    assert ring == [True, "solid", "rgb(255, 255, 255)", "rgb(29, 35, 43)"], ring

    conversation = f"/admin/console/conversations/wa:{PHONE_NUMBER_ID}:584140002002"
    page.evaluate("window.confirm = () => { window.__confirmed = true; return true; }")  # must not be asked
    page.evaluate("document.getElementById('reset').focus()")  # as a keyboard user reaches it
    page.click("#reset")
    page.wait_for("document.getElementById('confirm-dialog')?.open === true")
    assert page.evaluate(f"{focused}") == "confirm-no"  # the safe answer has the focus
    page.click("#confirm-no")
    page.wait_for("!document.getElementById('confirm-dialog')")
    assert page.evaluate(f"{focused}") == "reset"  # back where it was
    assert api(stack, conversation)["conversation"]["contextResetAt"] is None
    page.click("#reset")
    page.wait_for("document.getElementById('confirm-dialog')?.open === true")
    page.click("#confirm-yes")
    wait_for(lambda: api(stack, conversation)["conversation"]["contextResetAt"] is not None, seconds=15)
    assert page.evaluate("window.__confirmed === undefined") is True


# The analytics test's own tenant: its figures hold only what the test below sends, whatever ran before it.
FIGURES_TENANT = "cifras"
FIGURES_NUMBER = "109876500077"  # the tenant's WhatsApp business number
# Its price for the model (USD per million tokens in, out) and what the scripted model reports for each
# reply: 3 replies of 20,000 tokens in and 1,000 out cost 3 × (0.02 + 0.004) = 0.072 USD.
FIGURES_PRICE = (1.0, 4.0)
FIGURES_USAGE = {"prompt_tokens": 20_000, "completion_tokens": 1_000}


def spanish_usd(amount: float) -> str:
    """An amount as the page writes dollars in Spanish: decimal comma, two to four decimals under $1, "US$"."""
    decimals = f"{amount:.4f}".rstrip("0") if 0 < abs(amount) < 1 else f"{amount:.2f}"
    whole, _, fraction = decimals.partition(".")
    return f"{whole},{fraction.ljust(2, '0')}\u00a0US$"


def figures_tenant(stack: RunningStack, graph: FakeMetaGraph) -> dict[str, str]:
    """The tenant for the analytics test: its WhatsApp number, tokens, price, and a 3-product catalog pushed
    with its own ingest key (sync `cifras-1`); then its replies go to OpenAI's SDK against the stand-in.
    Answers the operator's headers for it."""
    operator = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    acting = {**operator, "X-Tenant": FIGURES_TENANT}
    made = httpx.post(
        f"{stack.url}/admin/tenants",
        json={"tenantId": FIGURES_TENANT, "displayName": "Cifras", "defaultLanguage": "es"},
        headers=operator,
    )
    assert made.status_code == 201, made.text
    channel = f"{stack.url}/admin/tenants/{FIGURES_TENANT}"
    added = httpx.post(f"{channel}/channels", json={"channel": "whatsapp", "id": FIGURES_NUMBER}, headers=operator)
    assert added.status_code == 201, added.text
    secrets = {"WHATSAPP_TOKEN": graph.token, "OPENAI_API_KEY": "console-test-figures-key"}
    assert httpx.put(f"{channel}/secrets", json=secrets, headers=operator).status_code == 200
    price = {"inputPerMillion": FIGURES_PRICE[0], "outputPerMillion": FIGURES_PRICE[1]}
    priced = httpx.put(f"{stack.url}/admin/model-prices/gpt-4o-mini", json=price, headers=acting)
    assert priced.status_code == 200, priced.text
    key = httpx.post(f"{channel}/keys", json={"kind": "ingest"}, headers=operator)
    assert key.status_code == 201, key.text
    sample = json.loads((REPO / "local" / "sample_catalog.json").read_text(encoding="utf-8"))[60:63]
    pushed = httpx.post(
        f"{stack.url}/ingest/products",
        json={"products": sample, "syncId": "cifras-1"},
        headers={"X-API-KEY": key.json()["key"]},
        timeout=60,
    )
    assert pushed.status_code == 202, pushed.text
    wait_for(
        lambda: (
            httpx.get(f"{stack.url}/ingest/syncs/cifras-1", headers={"X-API-KEY": key.json()["key"]})
            .json()
            .get("complete")
        ),
        seconds=120,
        what=f"the tenant's catalog sync\n{stack.output()}",
    )
    # Only now the model: the sync's summaries stay with the deployment's offline provider either way.
    chat = httpx.patch(channel, json={"llmProvider": "openai", "chatModel": "gpt-4o-mini"}, headers=operator)
    assert chat.status_code == 200, chat.text
    return acting


def test_analytics_draws_the_days_figures(
    stack: RunningStack, browser: Chromium, graph: FakeMetaGraph, media_models: FakeLLMServer
) -> None:
    """A tenant of its own, so the figures are what this test sent, alone or after the rest of the file:
    four customers write through the signed WhatsApp webhook; the model (scripted, with known token counts)
    answers three, the fourth asks for a person (one escalation). Every figure is checked against what that
    must give, not against the API's own answer: 4 messages in and 4 out, 3 of 4 conversations automated,
    1 escalation still open, 60,000 tokens in and 3,000 out at the tenant's price, the 3-product sync."""
    acting = figures_tenant(stack, graph)
    media_models.script_chat(
        [{"text": f"Sí, tenemos ese producto en tienda. cifras-{n}", "usage": FIGURES_USAGE} for n in range(3)]
    )
    customers = ["584140012001", "584140012002", "584140012003", "584140012004"]
    questions = ["¿Tienen licuadoras?", "¿Venden cafeteras?", "¿Hay planchas de ropa?", "Quiero hablar con una persona"]
    for customer, question in zip(customers, questions, strict=True):
        customer_writes(stack, customer, question, phone_number_id=FIGURES_NUMBER)
        wait_for(lambda c=customer: texts_to(graph, c), seconds=60, what=f"the answer to {customer}\n{stack.output()}")
    today = time.strftime("%Y-%m-%d", time.gmtime())

    def recorded() -> dict[str, Any]:
        answer = httpx.get(f"{stack.url}/admin/analytics", params={"since": today, "until": today}, headers=acting)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    # Ready once the four replies are recorded as sent (read from the API only to know when to look).
    wait_for(lambda: recorded()["conversations"]["automated"] == 3, seconds=30, what="the replies recorded sent")

    page = signed_in_as(stack, browser, ADMIN_TOKEN, "owner", "olga", tenant=FIGURES_TENANT)
    try:
        analytics_page_shows_the_figures(page, today)
    finally:
        page.call("Page.close")


def analytics_page_shows_the_figures(page: Page, today: str) -> None:
    go(page, "#/analytics", "document.getElementById('charts')?.getAttribute('aria-busy') === 'false'")

    def figure(selector: str) -> Any:
        return page.evaluate(f"(document.querySelector({json.dumps(selector)}) || {{dataset: {{}}}}).dataset.value")

    def text(selector: str) -> str:
        return str(page.evaluate(f"document.querySelector({json.dumps(selector)}).textContent"))

    tokens_in, tokens_out = 3 * FIGURES_USAGE["prompt_tokens"], 3 * FIGURES_USAGE["completion_tokens"]
    cost = (tokens_in * FIGURES_PRICE[0] + tokens_out * FIGURES_PRICE[1]) / 1_000_000
    assert cost == pytest.approx(0.072)

    # Messages per channel: the four customers' messages and one answer each.
    assert figure("#chart-channels rect[data-key='whatsapp.inbound']") == "4"
    assert figure("#chart-channels rect[data-key='whatsapp.outbound']") == "4"
    assert page.evaluate("document.querySelectorAll('#chart-channels g.row').length") == 1  # WhatsApp only
    # One escalation, the customer's own request, still open.
    assert figure("#chart-escalations rect[data-key='customer_request.open']") == "1"
    assert figure("#chart-escalations rect[data-key='customer_request.resolved']") == "0"
    assert page.evaluate("document.querySelectorAll('#chart-escalations g.row').length") == 1
    # Automation: 3 of the 4 conversations had the bot alone.
    assert float(figure("#chart-automation circle[data-key=automationRate]")) == 0.75
    assert text("#chart-automation .big") == "75\u00a0%"
    assert text("#chart-automation .figure-summary") == "3 de 4 conversaciones atendidas solo por el bot."
    # Reply times: each of the four answers was measured (the times themselves are the machine's).
    assert text("#chart-reply-time .figure-summary") == "Respuestas medidas: 4"
    median, p90 = (
        float(figure("#chart-reply-time g.row[data-key=median]")),
        float(figure("#chart-reply-time g.row[data-key=p90]")),
    )
    assert 0 < median <= p90
    # Tokens and cost: the scripted usage at the tenant's price, all of it today.
    assert figure(f"#chart-tokens rect[data-key='{today}']") == str(tokens_in + tokens_out)
    assert text("#chart-tokens .figure-summary").startswith("Total: 60.000 de entrada, 3000 de salida en ")
    assert float(figure(f"#chart-cost rect[data-key='{today}']")) == pytest.approx(cost)
    assert text("#chart-cost .figure-summary") == f"Total estimado: {spanish_usd(cost)}"
    # The cost chart is drawn against the largest day, not against $1: today's column fills the chart's
    # height and the figure over it is today's cost (it was 1,00 US$ over a 1.5 px column).
    column = page.evaluate(
        "(() => { const svg = document.querySelector('#chart-cost svg');"
        " const tallest = Math.max(...[...svg.querySelectorAll('rect[data-key]')].map(r => r.height.baseVal.value));"
        " return {tallest, plot: svg.querySelector('line.axis').y1.baseVal.value}; })()"
    )
    assert column["tallest"] > column["plot"] / 2, column
    assert text("#chart-cost text.top") == spanish_usd(cost)
    assert text("#chart-tokens text.top") == "63.000"
    # The 3-product sync pushed with the tenant's key.
    assert figure("#chart-syncs g.row[data-key=cifras-1]") == "3"

    # The export button downloads the existing export of the range: every message, one row each.
    page.evaluate(
        "window.__downloads = []; const keep = URL.createObjectURL.bind(URL);"
        " URL.createObjectURL = (blob) => { window.__downloads.push(blob); return keep(blob); };"
    )
    page.click("#export-csv")
    page.wait_for("window.__downloads.length === 1", seconds=20)
    exported = page.evaluate("window.__downloads[0].text()")
    rows = list(csv.reader(io.StringIO(exported.lstrip("\ufeff"))))
    assert rows[0][:4] == ["message_id", "conversation_id", "customer_id", "channel"]
    assert len(rows) - 1 == 8
    # The XLSX button downloads a real workbook of the same messages.
    page.click("#export-xlsx")
    page.wait_for("window.__downloads.length === 2", seconds=20)
    encoded = page.evaluate(
        "window.__downloads[1].arrayBuffer().then(b => { const bytes = new Uint8Array(b); let text = '';"
        " for (const byte of bytes) text += String.fromCharCode(byte); return btoa(text); })"
    )
    workbook = base64.b64decode(encoded)
    assert workbook[:4] == b"PK\x03\x04"  # a zip, as XLSX files are
    sheet = list(load_workbook(io.BytesIO(workbook), read_only=True).active.iter_rows(values_only=True))
    assert list(sheet[0][:4]) == rows[0][:4] and len(sheet) == len(rows)

    # Another range: today only (the page opens on seven days) — one column a day, the same figures.
    assert page.evaluate("document.querySelectorAll('#chart-cost rect[data-key]').length") == 7
    page.evaluate(
        f"document.getElementById('since').value = {json.dumps(today)};"
        f" document.getElementById('until').value = {json.dumps(today)};"
        " document.getElementById('range-form').requestSubmit()"
    )
    page.wait_for(
        f"document.getElementById('charts').dataset.since === {json.dumps(today)}"
        " && document.getElementById('charts').getAttribute('aria-busy') === 'false'",
        seconds=20,
    )
    assert page.evaluate("document.querySelectorAll('#chart-cost rect[data-key]').length") == 1
    assert page.evaluate("document.querySelectorAll('#chart-tokens rect[data-key]').length") == 1
    assert float(figure(f"#chart-cost rect[data-key='{today}']")) == pytest.approx(cost)
    assert figure(f"#chart-tokens rect[data-key='{today}']") == str(tokens_in + tokens_out)
    assert figure("#chart-channels rect[data-key='whatsapp.inbound']") == "4"

    # A range with nothing in it: no columns and no "NaN", the charts say there was no use.
    page.evaluate(
        "document.getElementById('since').value = '2020-01-01';"
        " document.getElementById('until').value = '2020-01-03';"
        " document.getElementById('range-form').requestSubmit()"
    )
    page.wait_for(
        "document.getElementById('charts').dataset.since === '2020-01-01'"
        " && document.getElementById('charts').getAttribute('aria-busy') === 'false'",
        seconds=20,
    )
    assert text("#chart-cost p.empty") == "Sin costo estimado en estas fechas."
    assert text("#chart-tokens p.empty") == "El modelo no se usó en estas fechas."
    assert "NaN" not in page.evaluate("document.getElementById('charts').innerHTML")


def clock_moved(page: Page, hours: float) -> None:
    """The page's clock (Date.now, which the ages are told from) `hours` later than it was; the server's
    data stays as it is."""
    page.evaluate(
        "window.__realNow = window.__realNow || Date.now.bind(Date);"
        f" window.__shift = (window.__shift || 0) + {hours} * 3600 * 1000;"
        " Date.now = () => window.__realNow() + window.__shift;"
    )


def clock_restored(page: Page) -> None:
    page.evaluate("if (window.__realNow) { Date.now = window.__realNow; window.__shift = 0; }")


def wait_until_steady(page: Page, selector: str, seconds: float) -> None:
    """Until the list at `selector` goes `seconds` without being redrawn (its server data stopped changing)."""
    for _ in range(6):
        page.evaluate(f"document.querySelector({json.dumps(selector)}).firstElementChild.__kept = true")
        time.sleep(seconds)
        if page.evaluate(f"document.querySelector({json.dumps(selector)}).firstElementChild.__kept === true"):
            return
    raise AssertionError(f"{selector} kept changing")


def test_ages_move_on_while_the_page_stays_open(stack: RunningStack, page: Page, graph: FakeMetaGraph) -> None:
    """Nothing changes on the server (the inbox answers 304, the queue the same JSON), yet "5 minutes ago"
    must not stay "5 minutes ago" for hours: every poll tells the ages again."""
    sender = "584140006006"
    customer_writes(stack, sender, "Quiero hablar con una persona del servicio técnico")
    wait_for(lambda: texts_to(graph, sender), what="the hand-off message")
    page.call("Page.bringToFront")
    sign_in(page)
    go(page, "#/inbox")
    page.wait_for("!!document.getElementById('filter-text') && !document.getElementById('transcript')")
    clear_filter(page)
    newest = "document.querySelector('#conversation-list a.conversation time').textContent"
    page.wait_for(f"/minuto|segundo|ahora/.test({newest})", seconds=20)
    wait_until_steady(page, "#conversation-list", 9)  # from now on the inbox answers 304
    try:
        clock_moved(page, 3)
        page.wait_for(f"{newest} === 'hace 3 horas'", seconds=15)  # the inbox polls every 4 s

        go(page, "#/escalations", "document.querySelectorAll('#escalation-list li.escalation').length === 1")
        age = "document.querySelector('#escalation-list li.escalation time').textContent"
        assert page.evaluate(age) == "abierta hace 3 horas"
        clock_moved(page, 2)
        page.wait_for(f"{age} === 'abierta hace 5 horas'", seconds=25)  # the queue polls every 10 s
    finally:
        clock_restored(page)


def test_a_viewer_and_an_agent_are_offered_what_their_roles_allow(
    stack: RunningStack, browser: Chromium, graph: FakeMetaGraph
) -> None:
    """Real tokens of the roles, made through the API: a viewer reads inbox, conversations, escalations,
    analytics and the catalog and is offered no action; an agent takes over, answers and resolves from the
    page. Neither ever gets a customer's number: the API masks it and the page addresses conversations by
    the handles the API gave (docs/console.md, "Customer numbers")."""
    sender = "584140007007"
    customer_writes(stack, sender, "Quiero hablar con una persona sobre un reembolso")
    wait_for(lambda: texts_to(graph, sender), what="the hand-off message")
    mine = (
        "[...document.querySelectorAll('#escalation-list li.escalation[data-status=open]')]"
        ".find(e => e.querySelector('.customer').textContent === '••••7007')"
    )

    viewer = signed_in_as(stack, browser, ADMIN_TOKEN, "viewer", "vera")
    viewer.wait_for("document.querySelectorAll('#conversation-list a.conversation').length > 0", seconds=20)
    assert viewer.evaluate("[...document.querySelectorAll('.bar nav a')].map(a => a.textContent)") == [
        "Bandeja",
        "Escalaciones",
        "Analítica",  # view_analytics
        "Catálogo",
        "Conocimiento",  # reading knowledge needs read_conversations, as in the API
    ]
    assert viewer.evaluate("!!document.getElementById('reveal-ids')") is False  # no "Mostrar números"
    customers = viewer.evaluate(
        "[...document.querySelectorAll('#conversation-list .customer')].map(e => e.textContent)"
    )
    assert "••••2002" in customers and all(c.startswith("••••") for c in customers), customers
    # A number typed whole finds nobody; the 4 characters the page shows do (issue 12).
    filter_inbox(viewer, sender, rows=0)
    filter_inbox(viewer, "7007", rows=1)
    open_conversation_with(viewer, "pedido-7731")
    assert viewer.evaluate("document.getElementById('conv-title').textContent") == "••••2002"
    for absent in ("#takeover", "#resume", "#reset", "#composer", "#reply-text"):
        assert viewer.evaluate(f"!!document.querySelector('{absent}')") is False, absent
    go(viewer, "#/escalations", f"!!{mine}")
    assert viewer.evaluate("document.querySelectorAll('#escalation-list form.resolve').length") == 0
    viewer.evaluate(f"{mine}.querySelector('a[href^=\"#/c/\"]').click()")  # opens by the API's handle
    viewer.wait_for("document.getElementById('conv-title')?.textContent === '••••7007'", seconds=20)
    assert viewer.evaluate("!!document.querySelector('#transcript li.msg')") is True
    go(viewer, "#/analytics", "document.getElementById('charts')?.getAttribute('aria-busy') === 'false'")
    assert (
        viewer.evaluate("!!document.getElementById('export-csv') || !!document.getElementById('export-xlsx')") is False
    )
    go(viewer, "#/catalog", "!!document.querySelector('#syncs table')")
    # Nothing the page holds has a customer's number: not the screen, not its handles in session storage.
    held = viewer.evaluate("document.body.innerText + JSON.stringify(sessionStorage)")
    assert "584140002002" not in held and sender not in held
    assert all(
        v.startswith("h.")
        for v in viewer.evaluate("Object.values(JSON.parse(sessionStorage.getItem('mostrador.console.handles')))")
    )
    viewer.call("Page.close")

    agent = signed_in_as(stack, browser, ADMIN_TOKEN, "agent", "ana")
    agent.wait_for("document.querySelectorAll('#conversation-list a.conversation').length > 0", seconds=20)
    assert agent.evaluate("!!document.getElementById('reveal-ids')") is False
    open_conversation_with(agent, "pedido-7731")
    for present in ("#takeover", "#resume", "#reset", "#composer", "#reply-text"):
        assert agent.evaluate(f"!!document.querySelector('{present}')") is True, present
    agent.click("#takeover")
    agent.wait_for("document.querySelector('.conv-head .badge[data-state]').dataset.state === 'paused'", seconds=15)
    words = "Hola, soy Ana: le confirmo el pedido 7731."
    agent.type_into("#reply-text", words)
    agent.click("#reply-send")
    wait_for(lambda: words in texts_to(graph, "584140002002"), seconds=20, what="the agent's reply at the stand-in")
    agent.wait_for(
        "[...document.querySelectorAll('#transcript li.msg[data-actor=agent]')].some(e => e.querySelector('.who')"
        ".textContent.endsWith('· ana'))",
        seconds=15,
    )
    agent.wait_for("!document.getElementById('resume').disabled")
    agent.click("#resume")
    agent.wait_for("document.querySelector('.conv-head .badge[data-state]').dataset.state === 'bot'", seconds=15)
    go(agent, "#/escalations", f"!!{mine}?.querySelector('form.resolve')")
    escalation_id = agent.evaluate(f"{mine}.dataset.id")
    agent.type_into(f"#note-{escalation_id}", "Le devolvimos el dinero.")
    agent.click(f"form.resolve[data-escalation='{escalation_id}'] button[type=submit]")
    agent.wait_for(f"!{mine}", seconds=15)
    resolved = api(stack, "/admin/escalations", status="resolved")["escalations"]
    assert [e["note"] for e in resolved if e["id"] == int(escalation_id)] == ["Le devolvimos el dinero."]
    agent.call("Page.close")


def test_the_operator_picks_the_tenant_and_a_tenants_own_token_gets_no_picker(
    stack: RunningStack, page: Page, browser: Chromium
) -> None:
    """ADMIN_TOKEN is the deployment's operator: it acts on the tenant it names in X-Tenant. The page lists
    the tenants in the header and names the chosen one on every request (kept for the tab only)."""
    operator = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    made = httpx.post(
        f"{stack.url}/admin/tenants", json={"tenantId": "tienda-b", "displayName": "Tienda B"}, headers=operator
    )
    assert made.status_code in (200, 201), made.text
    page.call("Page.bringToFront")
    sign_in(page)
    page.click("#sign-out")  # signed in again: the page reads the tenants when signing in
    page.wait_for("!!document.getElementById('token')")
    sign_in(page)
    page.wait_for("!!document.getElementById('tenant-picker')", seconds=15)
    options = page.evaluate("[...document.querySelectorAll('#tenant-picker option')].map(o => [o.value, o.selected])")
    assert ["default", True] in options and ["tienda-b", False] in options
    go(page, "#/inbox", "document.querySelectorAll('#conversation-list a.conversation').length > 0")

    def choose(tenant: str) -> None:
        page.evaluate(
            f"(() => {{ const p = document.getElementById('tenant-picker'); p.value = {json.dumps(tenant)};"
            " p.dispatchEvent(new Event('change')); })()"
        )
        page.wait_for(f"document.getElementById('tenant-picker')?.value === {json.dumps(tenant)}", seconds=15)

    choose("tienda-b")
    page.wait_for("!!document.querySelector('#conversation-list li.empty')", seconds=15)  # a new tenant: no one yet
    assert page.evaluate("sessionStorage.getItem('mostrador.console.tenant')") == "tienda-b"
    go(page, "#/escalations", "!!document.querySelector('#escalation-list li.empty')")
    choose("default")
    go(page, "#/inbox", "document.querySelectorAll('#conversation-list a.conversation').length > 0")

    owner = httpx.post(
        f"{stack.url}/admin/tokens",
        json={"name": "bea", "role": "owner"},
        headers={**operator, "X-Tenant": "tienda-b"},
    )
    assert owner.status_code == 200, owner.text
    theirs = browser.open(f"{stack.url}/console")
    theirs.wait_for("document.readyState === 'complete' && !!document.getElementById('token')")
    theirs.type_into("#token", owner.json()["secret"])
    theirs.click(".signin-form button[type=submit]")
    theirs.wait_for("!!document.querySelector('#conversation-list li.empty')", seconds=20)  # tienda-b's inbox
    assert theirs.evaluate("!!document.getElementById('tenant-picker')") is False
    assert theirs.evaluate("sessionStorage.getItem('mostrador.console.tenant')") is None
    theirs.call("Page.close")


def test_screenshots_at_phone_and_desktop_widths(
    stack: RunningStack, page: Page, graph: FakeMetaGraph, capsys: pytest.CaptureFixture[str]
) -> None:
    page.call("Page.bringToFront")  # a hidden tab does not refresh (the console polls only when seen)
    # An open escalation, so the queue is pictured (and measured) with its resolve form.
    sender = "584140009009"
    customer_writes(stack, sender, "Necesito hablar con una persona sobre mi garantía")
    wait_for(lambda: texts_to(graph, sender), what="the hand-off message")
    sign_in(page)
    saved = []
    for label in at_phone_and_desktop_widths(page):
        for name, address, ready in (
            ("inbox", "#/inbox", "document.querySelectorAll('#conversation-list a.conversation').length > 0"),
            ("escalations", "#/escalations", "!!document.querySelector('#escalation-list form.resolve')"),
            (
                "analytics",
                "#/analytics",
                "document.getElementById('charts')?.getAttribute('aria-busy') === 'false'",
            ),
            ("catalog", "#/catalog", "!!document.querySelector('#syncs table')"),
        ):
            go(page, address)
            if name == "inbox":
                clear_filter(page)
            page.wait_for(ready, seconds=20)
            saved.append(screenshot(page, f"{label}-{name}"))
            fits_phone(page, label, name)
        open_conversation_with(page, "pedido-7731")
        saved.append(screenshot(page, f"{label}-conversation", clear_status=False))
        fits_phone(page, label, "conversation")
        go(page, "#/inbox")
    assert_pictures(saved)
    with capsys.disabled():
        print(f"\nconsole screenshots: {SCREENSHOTS}")
