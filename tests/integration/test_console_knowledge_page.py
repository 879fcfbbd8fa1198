"""The console's Knowledge section in headless Chromium against `mostrador local` (a subprocess), with real
data: a Markdown file and the sample policy PDF uploaded through the page and processed by the local
knowledge worker, questions tried as search_knowledge answers them, a suggestion produced by resolving an
escalation (a signed WhatsApp webhook) edited and approved from the page, then a web chat question
answered from it and the cited passages shown in the conversation view. Refused uploads, the view of a
principal who may only read, and document text that looks like HTML. Screenshots at phone and desktop
widths go to .artifacts/console-screenshots/ (gitignored), next to the other console pictures."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from local.pdf_writer import make_pdf
from tests.e2e.chromium import Chromium, Page
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
)
from tests.integration.test_local_stack import (
    REPO,
    RunningStack,
    free_port,
    signed_whatsapp_delivery,
    stack_environment,
    start_stack,
    wait_for,
)

graph, browser, page = test_local_stack.graph, console_support.browser, console_support.page  # fixtures
ADMIN_TOKEN = "console-knowledge-test-admin-token-0123"
SAMPLE_PDF = REPO / "local" / "sample_knowledge" / "politicas-de-la-tienda.pdf"
LOYALTY_MD = """# Programa de fidelidad

Nuestro programa de puntos premia a los clientes que vuelven.

## Cómo se acumulan los puntos

Cada compra de 10 USD suma un punto de fidelidad en tu cuenta. Los puntos se acreditan al día siguiente
de la entrega y vencen a los doce meses.

## Canje de puntos

Con 50 puntos recibes un cupón de 5 USD para tu próxima compra en cualquier sucursal.
"""
ODD_TITLE = '<img src=x onerror="window.__xss=1">Cambios'
ODD_MD = """# Cambios <img src=x onerror="window.__xss=2">

Puedes <b>cambiar</b> un producto <script>window.__xss=3</script> por otro modelo dentro de los 3 días.
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, graph: FakeMetaGraph) -> Iterator[RunningStack]:
    env = stack_environment(graph, ADMIN_TOKEN=ADMIN_TOKEN)
    root = tmp_path_factory.mktemp("console-knowledge-stack")
    running = start_stack(
        root / "data", free_port(), env, root / "stack.log"
    )  # no sample data: all comes from the page
    yield running
    shut_down(running)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("knowledge-files")
    (folder / "fidelidad.md").write_text(LOYALTY_MD, encoding="utf-8")
    (folder / "cambios.md").write_text(ODD_MD, encoding="utf-8")
    (folder / "precios.xlsx").write_bytes(b"PK\x03\x04 not really a spreadsheet")
    (folder / "manual-enorme.txt").write_bytes(b"a" * (5 * 1024 * 1024))
    (folder / "catalogo.pdf").write_bytes(b"esto no es un PDF, solo texto con otro nombre")
    (folder / "escaneado.pdf").write_bytes(make_pdf([[], []]))  # pages drawn, no text: what a scan looks like
    return folder


# -- helpers ---------------------------------------------------------------------------------------


def api(stack: RunningStack, method: str, path: str, **query: Any) -> Any:
    answer = httpx.request(
        method, f"{stack.url}{path}", params=query, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30
    )
    assert answer.status_code < 300, answer.text
    return answer.json()


def sign_in(page: Page) -> None:
    console_support.sign_in(page, ADMIN_TOKEN, shown="nav-knowledge")


def document_item(page: Page, name: str) -> Any:
    return page.evaluate(
        "(() => { const li = [...document.querySelectorAll('#document-list li.source')]"
        f".find(e => e.dataset.name === {json.dumps(name)});"
        " return li ? {id: li.dataset.id, status: li.dataset.status, text: li.innerText} : null; })()"
    )


def upload_through_the_page(page: Page, path: Path, title: str | None = None) -> None:
    page.evaluate("document.getElementById('upload-title').value = ''")
    if title:
        page.type_into("#upload-title", title)
    page.choose_files("#upload-file", path)
    page.wait_for("document.getElementById('upload-file').files.length === 1")
    page.click("#upload-send")


def whatsapp_message(stack: RunningStack, sender: str, text: str) -> None:
    raw, signature = signed_whatsapp_delivery(sender, text, f"wamid.KNOWLEDGE{sender}{time.time_ns()}")
    answer = httpx.post(
        f"{stack.url}/webhooks/whatsapp",
        content=raw,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text


def texts_to(graph: FakeMetaGraph, sender: str) -> list[str]:
    return [r.json["text"]["body"] for r in graph.sent() if r.json.get("to") == sender]


def web_chat(stack: RunningStack, conversation: str, text: str) -> str:
    """The bot's answer to `text` in the web chat conversation `conversation`, through the default tenant's
    widget key as its chat page sends it (since tenants a web chat without a key is routed nowhere)."""
    page = httpx.get(f"{stack.url}/chat", timeout=30).text
    found = re.search(r'data-widget-key="(wk_[A-Za-z0-9_-]+)"', page)
    assert found is not None, "the chat page carries the default tenant's widget key"
    headers = {"X-Widget-Key": found[1]}
    params = {"conversationId": conversation}
    before = httpx.get(f"{stack.url}/webchat/messages", params=params, headers=headers, timeout=30)
    answered = len([m for m in before.json().get("messages", []) if m["from"] == "bot"])  # a new one: 404
    posted = httpx.post(
        f"{stack.url}/webchat/messages",
        json={"conversationId": conversation, "text": text},
        headers=headers,
        timeout=30,
    )
    assert posted.status_code == 202, posted.text

    def answer() -> str | None:
        messages = httpx.get(f"{stack.url}/webchat/messages", params=params, headers=headers, timeout=30)
        bot = [m["text"] for m in messages.json()["messages"] if m["from"] == "bot"]
        return str(bot[answered]) if len(bot) > answered else None

    return str(wait_for(answer, seconds=90, what=f"the bot's answer to {text!r}\n{stack.output()}"))


def show_channel(page: Page, channel: str) -> None:
    """The inbox's channel filter set as a person sets it ('' = all), its text filter emptied."""
    page.evaluate(
        "(() => { const text = document.getElementById('filter-text'); text.value = '';"
        " text.dispatchEvent(new Event('input')); const select = document.getElementById('filter-channel');"
        f" select.value = {json.dumps(channel)}; select.dispatchEvent(new Event('change')); }})()"
    )


def no_markup_ran(page: Page) -> None:
    assert page.evaluate("document.querySelectorAll('#main img, #main b, #main script, #main i').length") == 0
    assert page.evaluate("window.__xss") is None


# -- the tests, in the order a person fills a knowledge base --------------------------------------------------


def test_documents_uploaded_from_the_page_show_progress_and_are_listed_until_ready(
    stack: RunningStack, page: Page, files: Path
) -> None:
    sign_in(page)
    nav = page.evaluate("[...document.querySelectorAll('.bar nav a')].map(a => a.textContent)")
    assert nav[-1] == "Conocimiento"
    go(page, "#/knowledge", "document.getElementById('document-list')?.getAttribute('aria-busy') === 'false'")
    assert page.evaluate("document.querySelector('#knowledge-tab-documents').getAttribute('aria-current')") == "page"
    assert page.evaluate("document.querySelector('#document-list li.empty').textContent") == (
        "Todavía no hay documentos."
    )
    # Every value the progress bar and each document's status take, as the person would have seen them.
    page.evaluate(
        "window.__progress = []; window.__statuses = {}; {"
        " new MutationObserver(() => window.__progress.push(document.getElementById('upload-progress').value))"
        ".observe(document.getElementById('upload-progress'), {attributes: true, attributeFilter: ['value']});"
        " const seen = () => document.querySelectorAll('#document-list li.source').forEach(li => {"
        " (window.__statuses[li.dataset.name] ||= []).at(-1) === li.dataset.status"
        " || window.__statuses[li.dataset.name].push(li.dataset.status); });"
        " new MutationObserver(seen).observe(document.getElementById('document-list'),"
        " {subtree: true, childList: true, attributes: true}); }"
    )

    upload_through_the_page(page, files / "fidelidad.md")
    page.wait_for("document.getElementById('upload-stage').textContent.startsWith('fidelidad.md subido')", 30)
    progress = page.evaluate("window.__progress")
    assert progress[-1] == 100 and min(progress) < 100, progress  # reading, sending, done
    assert page.evaluate("document.getElementById('upload-file').value") == ""

    upload_through_the_page(page, SAMPLE_PDF)
    page.wait_for("document.getElementById('upload-stage').textContent.startsWith('politicas-de-la-tienda.pdf')", 30)
    page.wait_for(
        "['fidelidad.md', 'politicas-de-la-tienda.pdf'].every(name => [...document.querySelectorAll("
        "'#document-list li.source')].some(li => li.dataset.name === name && li.dataset.status === 'ready'))",
        seconds=120,
    )
    statuses = page.evaluate("window.__statuses")
    assert statuses["fidelidad.md"][-1] == "ready" and set(statuses["fidelidad.md"]) <= {"pending", "ready"}

    stored = {d["name"]: d for d in api(stack, "GET", "/admin/knowledge/documents")["documents"]}
    assert set(stored) == {"fidelidad.md", "politicas-de-la-tienda.pdf"}
    for name, document in stored.items():
        shown = document_item(page, name)
        assert shown["status"] == "ready" and shown["id"] == str(document["id"])
        assert f"{document['chunks']} fragmentos" in shown["text"], shown
        assert "lista" in shown["text"]
    assert "PDF" in document_item(page, "politicas-de-la-tienda.pdf")["text"]

    # Its passages as the bot receives them, each with its heading path.
    markdown_id = stored["fidelidad.md"]["id"]
    page.click(f"#document-list li.source[data-id='{markdown_id}'] button[aria-controls]")
    page.wait_for(f"document.querySelectorAll('#chunks-{markdown_id} .chunk-list li').length > 0", seconds=15)
    preview = page.evaluate(f"document.getElementById('chunks-{markdown_id}').innerText")
    assert "Programa de fidelidad > Cómo se acumulan los puntos" in preview
    assert "Cada compra de 10 USD suma un punto" in preview


def test_refused_uploads_say_why_and_store_nothing(stack: RunningStack, page: Page, files: Path) -> None:
    sign_in(page)
    go(page, "#/knowledge/documents", "document.getElementById('document-list')?.getAttribute('aria-busy') === 'false'")
    before = api(stack, "GET", "/admin/knowledge/documents")["documents"]

    def refusal() -> str:
        return str(page.evaluate("document.getElementById('upload-error').textContent"))

    # Refused by the page before anything is read or sent: the type, and the size.
    page.choose_files("#upload-file", files / "precios.xlsx")
    page.wait_for("document.getElementById('upload-error').textContent.length > 0")
    assert refusal().startswith("No se puede subir un archivo .xlsx: se aceptan PDF, HTML, Markdown")
    page.click("#upload-send")
    assert refusal().startswith("No se puede subir un archivo .xlsx")
    page.choose_files("#upload-file", files / "manual-enorme.txt")
    page.wait_for("document.getElementById('upload-error').textContent.includes('pesa')")
    assert refusal() == (
        "El archivo pesa 5 MB y el máximo es 4 MB: divídelo en archivos más pequeños o sube solo su texto."
    )

    # Refused by the API (only reading it tells): its reason, in the page's words around the API's.
    page.choose_files("#upload-file", files / "catalogo.pdf")
    page.wait_for("document.getElementById('upload-error').textContent === ''")
    page.click("#upload-send")
    page.wait_for("document.getElementById('upload-error').textContent.startsWith('No se pudo usar catalogo.pdf')", 30)
    assert "PDF" in refusal()
    assert page.evaluate("document.getElementById('upload-progress').hidden") is True
    assert api(stack, "GET", "/admin/knowledge/documents")["documents"] == before  # nothing half-stored

    # What only the worker can find out ends as failed, with the reason in the list; then deleted.
    upload_through_the_page(page, files / "escaneado.pdf")
    page.wait_for(
        "[...document.querySelectorAll('#document-list li.source')]"
        ".some(li => li.dataset.name === 'escaneado.pdf' && li.dataset.status === 'failed')",
        seconds=90,
    )
    failed = document_item(page, "escaneado.pdf")
    [stored] = [d for d in api(stack, "GET", "/admin/knowledge/documents")["documents"] if d["name"] == "escaneado.pdf"]
    assert stored["status"] == "failed" and f"Motivo: {stored['error']}" in failed["text"]
    assert "OCR" in stored["error"]

    delete = f"#document-list li.source[data-id='{failed['id']}'] button[data-delete]"
    page.click(delete)
    page.wait_for("document.getElementById('confirm-dialog')?.open === true")
    assert "escaneado.pdf" in page.evaluate("document.getElementById('confirm-text').textContent")
    assert page.evaluate("document.activeElement.id") == "confirm-no"  # the safe answer has the focus
    page.click("#confirm-no")
    page.wait_for("!document.getElementById('confirm-dialog')")
    assert document_item(page, "escaneado.pdf") is not None
    page.click(delete)
    page.wait_for("document.getElementById('confirm-dialog')?.open === true")
    page.click("#confirm-yes")
    page.wait_for("!document.querySelector(" + json.dumps(delete) + ")", seconds=15)
    names = [d["name"] for d in api(stack, "GET", "/admin/knowledge/documents")["documents"]]
    assert names == ["fidelidad.md", "politicas-de-la-tienda.pdf"]


def test_try_a_question_shows_the_passages_the_bot_would_get(stack: RunningStack, page: Page) -> None:
    sign_in(page)
    go(page, "#/knowledge/try", "!!document.getElementById('try-question')")

    def try_question(question: str) -> None:
        page.evaluate("document.getElementById('try-question').value = ''")
        page.type_into("#try-question", question)
        page.evaluate("document.getElementById('try-question').form.requestSubmit()")
        page.wait_for("document.getElementById('try-results').getAttribute('aria-busy') === 'false'", seconds=20)

    try_question("¿cómo se acumulan los puntos?")
    expected = api(stack, "GET", "/admin/knowledge/search", q="¿cómo se acumulan los puntos?", limit=3)["passages"]
    shown = page.evaluate(
        "[...document.querySelectorAll('#passages li.passage')].map(li => ({id: li.dataset.documentId,"
        " score: li.dataset.score, chunk: li.dataset.chunk, text: li.innerText}))"
    )
    assert [(s["id"], float(s["score"]), s["chunk"]) for s in shown] == [
        (str(p["document_id"]), p["score"], str(p["chunk"])) for p in expected
    ]
    best = shown[0]["text"]
    assert expected[0]["document"] == "fidelidad" and "fidelidad" in best
    assert "sección «Programa de fidelidad > Cómo se acumulan los puntos»" in best
    assert f"puntuación {expected[0]['score']:.3f}".replace(".", ",") in best
    assert "Cada compra de 10 USD suma un punto de fidelidad" in best

    try_question("¿cuánto cuesta instalar un aire acondicionado?")
    pdf = page.evaluate("document.querySelector('#passages li.passage').innerText")
    assert "politicas-de-la-tienda" in pdf and "pág. " in pdf and "60 USD" in pdf

    try_question("¿venden bicicletas de montaña?")
    assert page.evaluate("!!document.getElementById('no-passages')")


def test_a_suggestion_from_a_resolved_escalation_is_edited_approved_and_answers_the_web_chat(
    stack: RunningStack, page: Page, graph: FakeMetaGraph
) -> None:
    sender = "584140007007"
    asked = "Quiero hablar con una persona: ¿envuelven los pedidos para regalo?"
    whatsapp_message(stack, sender, asked)
    wait_for(lambda: texts_to(graph, sender), what=f"the hand-off message\n{stack.output()}")
    sign_in(page)
    go(
        page,
        "#/escalations",
        "document.querySelectorAll('#escalation-list li.escalation[data-status=open]').length === 1",
    )
    escalation_id = page.evaluate("document.querySelector('#escalation-list li.escalation').dataset.id")
    note = "Sí, envolvemos para regalo sin costo en todas las sucursales; pídelo al pagar."
    page.type_into(f"#note-{escalation_id}", note)
    page.click(f"#resume-{escalation_id}")
    page.click(f"form.resolve[data-escalation='{escalation_id}'] button[type=submit]")
    page.wait_for("document.querySelectorAll('#escalation-list li.escalation').length === 0", seconds=15)

    go(page, "#/knowledge/suggestions", "document.querySelectorAll('#suggestion-list li.suggestion').length === 1")
    assert page.evaluate("document.getElementById('suggestion-count').textContent").startswith("1")
    suggestion_id = page.evaluate("document.querySelector('#suggestion-list li.suggestion').dataset.id")
    origin = page.evaluate("document.querySelector('#suggestion-list li.suggestion .origin').innerText")
    assert f"Escalación #{escalation_id}" in origin and "WhatsApp" in origin and "584••••••07" in origin
    assert "Pidió una persona" in origin and "resuelta" in origin
    assert page.evaluate(f"document.getElementById('suggestion-question-{suggestion_id}').value") == asked
    assert page.evaluate(f"document.getElementById('suggestion-answer-{suggestion_id}').value") == note

    question = "¿Envuelven los pedidos para regalo?"
    page.evaluate(f"document.getElementById('suggestion-question-{suggestion_id}').value = ''")
    page.type_into(f"#suggestion-question-{suggestion_id}", question)
    page.type_into(f"#suggestion-tags-{suggestion_id}", "regalos, pedidos")
    page.click(f"button[data-approve='{suggestion_id}']")
    page.wait_for("!!document.querySelector('#suggestion-list li.empty')", seconds=15)
    assert page.evaluate("document.getElementById('suggestion-count').hidden") is True
    [approved] = api(stack, "GET", "/admin/knowledge/suggestions", status="approved")["suggestions"]
    assert approved["id"] == int(suggestion_id) and approved["decidedBy"] == "admin"

    go(page, "#/knowledge/faq", "document.getElementById('faq-list')?.getAttribute('aria-busy') === 'false'")
    page.wait_for(
        f"[...document.querySelectorAll('#faq-list li.source')].some(li => li.dataset.id === '{approved['faqId']}'"
        " && li.dataset.status === 'ready')",
        seconds=60,
    )
    entry = page.evaluate(f"document.querySelector(\"#faq-list li.source[data-id='{approved['faqId']}']\").innerText")
    assert question in entry and note in entry and "pedidos" in entry and "regalos" in entry

    # A customer on the web chat asks; the bot answers from the approved entry, and from the Markdown file.
    conversation = f"kb-{uuid.uuid4().hex}"
    gift = web_chat(stack, conversation, "¿envuelven para regalo?")
    assert "envolvemos para regalo sin costo" in gift, gift
    points = web_chat(stack, conversation, "¿cómo se acumulan los puntos de fidelidad?")
    assert "Cada compra de 10 USD suma un punto" in points, points

    go(page, "#/inbox", "!!document.getElementById('filter-channel')")
    show_channel(page, "webchat")
    page.wait_for(
        "[...document.querySelectorAll('#conversation-list a.conversation')].length === 1"
        " && document.querySelector('#conversation-list a.conversation').dataset.channel === 'webchat'",
        seconds=20,
    )
    page.click("#conversation-list a.conversation")
    page.wait_for("document.querySelectorAll('#transcript li.msg[data-actor=bot] li.citation').length >= 2", 20)
    page.evaluate("document.querySelectorAll('#transcript details.why').forEach(d => { d.open = true; })")
    shown = page.evaluate(
        "[...document.querySelectorAll('#transcript li.msg[data-actor=bot]')].map(m =>"
        " [...m.querySelectorAll('li.citation')].map(c => ({id: c.dataset.documentId, score: c.dataset.score,"
        " text: c.innerText, visible: c.getBoundingClientRect().height > 0})))"
    )
    detail = api(stack, "GET", f"/admin/console/conversations/webchat:{conversation}")
    cited = [m["citedKnowledge"] for m in detail["messages"] if m["actor"] == "bot"]
    assert [[(c["id"], float(c["score"])) for c in reply] for reply in shown] == [
        [(str(c["documentId"]), c["score"]) for c in reply] for reply in cited
    ]
    first_gift, first_points = shown[0][0], shown[1][0]
    assert first_gift["visible"] and first_points["visible"]
    assert cited[0][0]["documentId"] == approved["faqId"] and first_gift["text"].startswith(question)
    assert f"puntuación {cited[0][0]['score']:.3f}".replace(".", ",") in first_gift["text"]
    assert first_points["text"].startswith("fidelidad · sección «Programa de fidelidad > Cómo se acumulan los puntos»")
    assert f"puntuación {cited[1][0]['score']:.3f}".replace(".", ",") in first_points["text"]
    # And what the passage says: the start of its text, from the API's `excerpt`.
    assert "envolvemos para regalo sin costo" in cited[0][0]["excerpt"]
    assert "Cada compra de 10 USD suma un punto" in cited[1][0]["excerpt"]
    excerpts = page.evaluate(
        "[...document.querySelectorAll('#transcript li.msg[data-actor=bot]')].map(m =>"
        " [...m.querySelectorAll('li.citation')].map(c => c.querySelector('.excerpt')?.textContent ?? null))"
    )
    assert excerpts == [[c["excerpt"] for c in reply] for reply in cited]
    show_channel(page, "")


def test_document_and_faq_text_that_looks_like_html_is_shown_as_text(
    stack: RunningStack, page: Page, files: Path
) -> None:
    sign_in(page)
    go(page, "#/knowledge/documents", "document.getElementById('document-list')?.getAttribute('aria-busy') === 'false'")
    upload_through_the_page(page, files / "cambios.md", title=ODD_TITLE)
    page.wait_for(
        "[...document.querySelectorAll('#document-list li.source')]"
        ".some(li => li.dataset.name === 'cambios.md' && li.dataset.status === 'ready')",
        seconds=90,
    )
    item = document_item(page, "cambios.md")
    assert ODD_TITLE in item["text"]
    page.click(f"#document-list li.source[data-id='{item['id']}'] button[aria-controls]")
    page.wait_for(f"document.querySelectorAll('#chunks-{item['id']} .chunk-list li').length > 0", seconds=15)
    preview = page.evaluate(f"document.getElementById('chunks-{item['id']}').innerText")
    assert 'Cambios <img src=x onerror="window.__xss=2">' in preview
    assert "Puedes <b>cambiar</b> un producto <script>window.__xss=3</script>" in preview
    no_markup_ran(page)

    go(page, "#/knowledge/try", "!!document.getElementById('try-question')")
    page.evaluate("document.getElementById('try-question').value = ''")
    page.type_into("#try-question", "¿puedo cambiar un producto por otro modelo?")
    page.evaluate("document.getElementById('try-question').form.requestSubmit()")
    page.wait_for("!!document.querySelector('#passages li.passage')", seconds=20)
    passage = page.evaluate("document.querySelector('#passages li.passage').innerText")
    assert ODD_TITLE in passage and "<script>window.__xss=3</script>" in passage
    no_markup_ran(page)

    # An FAQ entry added from the page, markup and all, then deleted after confirmation.
    go(page, "#/knowledge/faq", "!!document.getElementById('faq-form')")
    page.type_into("#faq-question", "¿Tienen <i>estacionamiento</i>?")
    page.type_into("#faq-answer", 'Sí, <img src=x onerror="window.__xss=4"> gratis para clientes.')
    page.type_into("#faq-tags", "sucursales")
    page.click("#faq-add")
    page.wait_for(
        "[...document.querySelectorAll('#faq-list li.source')].some(li => li.innerText.includes('estacionamiento'))",
        seconds=20,
    )
    entry = page.evaluate(
        "[...document.querySelectorAll('#faq-list li.source')].find(li => li.innerText.includes('estacionamiento'))"
        ".innerText"
    )
    assert "¿Tienen <i>estacionamiento</i>?" in entry and '<img src=x onerror="window.__xss=4">' in entry
    no_markup_ran(page)
    [faq] = [f for f in api(stack, "GET", "/admin/knowledge/faq")["documents"] if "estacionamiento" in f["question"]]
    page.click(f"#faq-list li.source[data-id='{faq['id']}'] button[data-delete]")
    page.wait_for("document.getElementById('confirm-dialog')?.open === true")
    page.click("#confirm-yes")
    page.wait_for(f"!document.querySelector(\"#faq-list li.source[data-id='{faq['id']}']\")", seconds=15)
    assert all(f["id"] != faq["id"] for f in api(stack, "GET", "/admin/knowledge/faq")["documents"])


def signed_in_as(stack: RunningStack, browser: Chromium, role: str, name: str) -> Page:
    return console_support.signed_in_as(stack, browser, ADMIN_TOKEN, role, name)


def test_a_principal_who_may_only_read_sees_knowledge_but_is_offered_no_change(
    stack: RunningStack, browser: Chromium, graph: FakeMetaGraph
) -> None:
    """A viewer (read_conversations, view_analytics) reads the knowledge base and its suggestions, and is
    offered nothing to change or decide; every request goes to the real API with the viewer's own token."""
    sender = "584140008008"
    whatsapp_message(stack, sender, "Quiero hablar con una persona: ¿reparan televisores?")
    wait_for(lambda: texts_to(graph, sender), what="the hand-off message")
    [open_escalation] = api(stack, "GET", "/admin/escalations")["escalations"]
    api_resolve = httpx.post(
        f"{stack.url}/admin/escalations/{open_escalation['id']}/resolve",
        json={"note": "No reparamos: lo enviamos al servicio técnico de la marca."},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=30,
    )
    assert api_resolve.status_code == 200, api_resolve.text

    viewer = signed_in_as(stack, browser, "viewer", "vera")
    go(viewer, "#/knowledge", "document.querySelectorAll('#document-list li.source').length >= 2")
    assert viewer.evaluate("!!document.getElementById('upload-form')") is False
    assert viewer.evaluate("document.querySelectorAll('[data-delete]').length") == 0
    assert viewer.evaluate("document.querySelectorAll('#document-list button[aria-controls]').length") >= 2

    go(viewer, "#/knowledge/faq", "document.querySelectorAll('#faq-list li.source').length >= 1")
    assert viewer.evaluate("!!document.getElementById('faq-form')") is False
    assert viewer.evaluate("document.querySelectorAll('[data-delete]').length") == 0

    go(viewer, "#/knowledge/suggestions", "document.querySelectorAll('#suggestion-list li.suggestion').length === 1")
    shown = viewer.evaluate("document.querySelector('#suggestion-list li.suggestion').innerText")
    assert "¿reparan televisores?" in shown and "servicio técnico de la marca" in shown
    assert viewer.evaluate("document.querySelectorAll('#suggestion-list form, #suggestion-list button').length") == 0

    go(viewer, "#/knowledge/try", "!!document.getElementById('try-question')")  # reading is allowed
    viewer.type_into("#try-question", "¿envuelven para regalo?")
    viewer.evaluate("document.getElementById('try-question').form.requestSubmit()")
    viewer.wait_for("!!document.querySelector('#passages li.passage')", seconds=20)

    viewer.click(".bar button.lang")  # and in English
    # The header changes at once; the section is drawn again a moment later (its module is loaded first).
    viewer.wait_for(
        "document.documentElement.lang === 'en'"
        " && document.getElementById('knowledge-tab-faq')?.childNodes[0].textContent === 'FAQ'"
        " && document.querySelector('.subnav a').childNodes[0].textContent === 'Documents'"
    )
    tabs = viewer.evaluate("[...document.querySelectorAll('.subnav a')].map(a => a.childNodes[0].textContent)")
    assert tabs == ["Documents", "FAQ", "Suggestions", "Try a question"]
    viewer.click(".bar button.lang")
    viewer.wait_for("document.documentElement.lang === 'es'")
    viewer.call("Page.close")

    # An agent decides suggestions (review_suggestions) but is offered no change to documents or FAQ.
    agent = signed_in_as(stack, browser, "agent", "ana")
    go(agent, "#/knowledge", "document.querySelectorAll('#document-list li.source').length >= 2")
    assert agent.evaluate("!!document.getElementById('upload-form')") is False
    assert agent.evaluate("document.querySelectorAll('[data-delete]').length") == 0
    go(agent, "#/knowledge/faq", "document.querySelectorAll('#faq-list li.source').length >= 1")
    assert agent.evaluate("!!document.getElementById('faq-form')") is False
    go(agent, "#/knowledge/suggestions", "document.querySelectorAll('#suggestion-list li.suggestion').length === 1")
    suggestion_id = agent.evaluate("document.querySelector('#suggestion-list li.suggestion').dataset.id")
    assert agent.evaluate(f"!!document.querySelector(\"button[data-approve='{suggestion_id}']\")") is True
    assert agent.evaluate(f"!!document.querySelector(\"button[data-discard='{suggestion_id}']\")") is True
    assert agent.evaluate(f"!!document.getElementById('suggestion-answer-{suggestion_id}')") is True
    # Left undecided: the screenshots below show it.
    agent.call("Page.close")


def test_screenshots_at_phone_and_desktop_widths(
    stack: RunningStack, page: Page, capsys: pytest.CaptureFixture[str]
) -> None:
    page.call("Page.bringToFront")  # a hidden tab does not refresh
    sign_in(page)
    saved = []
    for label in at_phone_and_desktop_widths(page):
        for name, address, ready in (
            ("documents", "#/knowledge/documents", "document.querySelectorAll('#document-list li.source').length >= 3"),
            ("faq", "#/knowledge/faq", "document.querySelectorAll('#faq-list li.source').length >= 1"),
            (
                "suggestions",
                "#/knowledge/suggestions",
                "document.querySelectorAll('#suggestion-list li.suggestion').length === 1",
            ),
            ("try", "#/knowledge/try", "!!document.getElementById('try-question')"),
        ):
            go(page, address, ready)
            if name == "try":
                page.evaluate("document.getElementById('try-question').value = 'cómo se acumulan los puntos'")
                page.evaluate("document.getElementById('try-question').form.requestSubmit()")
                page.wait_for("!!document.querySelector('#passages li.passage')", seconds=20)
            saved.append(screenshot(page, f"{label}-knowledge-{name}"))
            fits_phone(page, label, f"knowledge {name}")
        go(page, "#/inbox", "!!document.getElementById('filter-channel')")
        show_channel(page, "webchat")
        page.wait_for("document.querySelector('#conversation-list a.conversation')?.dataset.channel === 'webchat'", 20)
        page.click("#conversation-list a.conversation")
        page.wait_for("document.querySelectorAll('#transcript li.citation').length >= 2", seconds=20)
        page.evaluate(
            "document.querySelectorAll('#transcript details.why').forEach(d => { d.open = true; });"
            " [...document.querySelectorAll('#transcript li.citation')].at(-1).scrollIntoView({block: 'center'})"
        )
        saved.append(screenshot(page, f"{label}-knowledge-cited", clear_status=False))
        fits_phone(page, label, "knowledge cited")
    assert_pictures(saved)
    with capsys.disabled():
        print(f"\nknowledge console screenshots: {', '.join(sorted(p.name for p in saved))} in {SCREENSHOTS}")


def test_a_suggestion_is_discarded_only_after_confirmation(stack: RunningStack, page: Page) -> None:
    sign_in(page)
    go(page, "#/knowledge/suggestions", "document.querySelectorAll('#suggestion-list li.suggestion').length === 1")
    suggestion_id = page.evaluate("document.querySelector('#suggestion-list li.suggestion').dataset.id")
    page.click(f"button[data-discard='{suggestion_id}']")
    page.wait_for("document.getElementById('confirm-dialog')?.open === true")
    page.click("#confirm-no")
    page.wait_for("!document.getElementById('confirm-dialog')")
    assert api(stack, "GET", "/admin/knowledge/suggestions")["suggestions"][0]["status"] == "suggested"
    page.click(f"button[data-discard='{suggestion_id}']")
    page.wait_for("document.getElementById('confirm-dialog')?.open === true")
    page.click("#confirm-yes")
    page.wait_for("!!document.querySelector('#suggestion-list li.empty')", seconds=15)
    [discarded] = api(stack, "GET", "/admin/knowledge/suggestions", status="discarded")["suggestions"]
    assert discarded["id"] == int(suggestion_id)
    assert api(stack, "GET", "/admin/knowledge/suggestions")["suggestions"] == []
