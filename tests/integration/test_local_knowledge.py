"""`make run` out of the box: `mostrador local` as a subprocess loads the sample FAQ and policy PDF
through its own admin routes and knowledge queue, and the web chat answers "¿hacen envíos?" with the
offline provider; a second run does not load them again."""

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path

import httpx

from local.knowledge_client import list_knowledge
from local.pdf_writer import make_pdf
from local.stack import SAMPLE_KNOWLEDGE_MARKER
from tests.integration.test_local_stack import (  # noqa: F401
    free_port,
    graph,
    local_secret,
    run_cli,
    stack_env,
    start_stack,
    stop_stack,
)


def ask(url: str, text: str) -> str:
    """Through the web chat as the default tenant's page does: with the widget key the page carries."""
    page = httpx.get(f"{url}/chat", timeout=30).text
    found = re.search(r'data-widget-key="(wk_[A-Za-z0-9_-]+)"', page)
    assert found is not None, "the chat page carries the default tenant's widget key"
    headers = {"X-Widget-Key": found[1]}
    conversation = uuid.uuid4().hex
    posted = httpx.post(
        f"{url}/webchat/messages", json={"conversationId": conversation, "text": text}, headers=headers, timeout=30
    )
    assert posted.status_code == 202, posted.text
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        messages = httpx.get(
            f"{url}/webchat/messages", params={"conversationId": conversation}, headers=headers, timeout=30
        ).json()
        bot = [m["text"] for m in messages["messages"] if m["from"] == "bot"]
        if bot:
            return str(bot[0])
        time.sleep(0.5)
    raise AssertionError(f"no answer to {text!r}")


def test_the_first_run_loads_the_sample_knowledge_and_answers_shipping_offline(
    stack_env: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    first = start_stack(tmp_path / "data", free_port(), stack_env, tmp_path / "first.log", sample=True)
    try:
        for _ in range(240):
            if "[sample] sample knowledge ready" in first.output() or "knowledge failed" in first.output():
                break
            time.sleep(0.5)
        assert "[sample] sample knowledge ready" in first.output(), first.output()
        assert json.loads((first.data_dir / SAMPLE_KNOWLEDGE_MARKER).read_text())["documents"]
        assert list((first.data_dir / "knowledge").rglob("*.pdf"))  # the raw file, in the data folder

        answer = ask(first.url, "¿hacen envíos?")
        assert answer.startswith("Sí, hacemos envíos a toda Venezuela"), answer
        warranty = ask(first.url, "¿cuánto cuesta instalar un aire acondicionado?")
        assert "60 USD" in warranty, warranty  # from the sample PDF's service prices
        # The sample PDF carries a title for citations, not its file name.
        token = local_secret(first, "ADMIN_TOKEN")
        assert [d["title"] for d in list_knowledge(first.url, token, "file")] == ["Políticas de la tienda"]

        # The CLI: a large file goes up with a progress bar and is followed until ready; a bad one is refused.
        manual = tmp_path / "manual.pdf"
        manual.write_bytes(
            make_pdf([[("h", f"Sección {n}"), ("p", "Texto de la política. " * 120)] for n in range(120)])
        )
        assert manual.stat().st_size > 256 * 1024
        added = run_cli(first, stack_env, "knowledge", "add", str(manual), timeout=300)
        assert added.returncode == 0, added.stderr
        assert "MB sent" in added.stderr and "[##############################]" in added.stderr
        document = json.loads(added.stdout.strip().splitlines()[-1])
        assert document["status"] == "ready" and document["chunks"] >= 120
        (tmp_path / "hoja.xlsx").write_bytes(b"PK")
        refused = run_cli(first, stack_env, "knowledge", "add", str(tmp_path / "hoja.xlsx"), timeout=60)
        assert refused.returncode == 1 and "Unsupported file type (.xlsx)" in refused.stderr
    finally:
        assert stop_stack(first) == 0
    again = start_stack(tmp_path / "data", free_port(), stack_env, tmp_path / "second.log", sample=True)
    try:
        time.sleep(2)
        assert "sample knowledge" not in again.output()
    finally:
        assert stop_stack(again) == 0
