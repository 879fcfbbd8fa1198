"""`mostrador local` as a person runs it: a subprocess on a free port with its own data folder, spoken to
over HTTP. Catalog push and sync, a signed WhatsApp webhook answered at a Graph API stand-in, the web chat
in headless Chromium, Ctrl-C and a second start on the same data."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from local.stack import SAMPLE_MARKER
from tests.fakes.platforms import FakeMetaGraph

REPO = Path(__file__).resolve().parents[2]
APP_SECRET = "local-stack-test-app-secret"
PHONE_NUMBER_ID = "109876543210"
SAMPLE = REPO / "local" / "sample_catalog.json"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningStack:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    data_dir: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def start_stack(
    data_dir: Path, port: int, env: dict[str, str], log: Path, *, sample: bool = False, args: tuple[str, ...] = ()
) -> RunningStack:
    out = log.open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "local.cli", "local", "--port", str(port), "--data-dir", str(data_dir)]
        + ([] if sample else ["--no-sample"])
        + list(args),
        cwd=data_dir.parent,  # no .env there: only the variables below
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    stack = RunningStack(f"http://127.0.0.1:{port}", process, log, data_dir)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, f"mostrador local exited early:\n{stack.output()}"
        try:
            if httpx.get(f"{stack.url}/health", timeout=5).status_code == 200 and "Ctrl-C" in stack.output():
                return stack
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    process.kill()
    raise AssertionError(f"mostrador local did not serve in time:\n{stack.output()}")


def stop_stack(stack: RunningStack) -> int:
    stack.process.send_signal(signal.SIGINT)  # what Ctrl-C sends
    return stack.process.wait(timeout=60)


def stack_environment(graph: FakeMetaGraph, **settings: str) -> dict[str, str]:
    """This process's environment without cloud, Meta, model or database settings (the stack makes its
    own), WhatsApp pointed at the Graph API stand-in, then `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "META_", "WHATSAPP_", "SUPPORT_BOARD_"))}
    for name in ("DATABASE_URL", "INGEST_API_KEY", "LLM_PROVIDER", "OPENAI_API_KEY", "GEMINI_API_KEY", "PORT"):
        env.pop(name, None)
    env.pop("XDG_RUNTIME_DIR", None)  # as in a container or an ssh session: the stack starts without a warning
    env.update(
        {
            "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "layers" / "shared" / "python")]),
            "META_GRAPH_URL": graph.url,
            "META_APP_SECRET": APP_SECRET,
            "WHATSAPP_TOKEN": graph.token,
            "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
            **settings,
        }
    )
    return env


@pytest.fixture(scope="module")
def graph() -> Iterator[FakeMetaGraph]:
    server = FakeMetaGraph()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def stack_env(graph: FakeMetaGraph) -> dict[str, str]:
    return stack_environment(graph, MESSENGER_PAGE_TOKEN=graph.token)


def run_cli(stack: RunningStack, env: dict[str, str], *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """`mostrador <args>` against this stack, as a person runs it (whatever it exits with)."""
    return subprocess.run(
        [sys.executable, "-m", "local.cli", *args, "--url", stack.url, "--data-dir", str(stack.data_dir)],
        cwd=stack.data_dir.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def stack_in(root: Path, env: dict[str, str]) -> Iterator[RunningStack]:
    """A stack serving from `root` for a module fixture to yield from; killed afterwards if still running."""
    running = start_stack(root / "data", free_port(), env, root / "stack.log")
    yield running
    if running.process.poll() is None:
        running.process.kill()
        running.process.wait()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, stack_env: dict[str, str]) -> Iterator[RunningStack]:
    yield from stack_in(tmp_path_factory.mktemp("stack"), stack_env)


def ingest_key(stack: RunningStack) -> str:
    return str(json.loads((stack.data_dir / "secrets.json").read_text())["INGEST_API_KEY"])


def test_serves_health_and_answers_unknown_routes_like_api_gateway(stack: RunningStack) -> None:
    health = httpx.get(f"{stack.url}/health")
    assert health.status_code == 200 and health.json()["database"] == "reachable"
    generated = json.loads((stack.data_dir / "secrets.json").read_text())
    # Hex: a generated key starting with "-" was read as an option by `mostrador ingest --key KEY`.
    assert generated and all(re.fullmatch(r"[0-9a-f]{48}", value) for value in generated.values())
    missing = httpx.get(f"{stack.url}/nothing/here")
    assert missing.status_code == 403 and missing.json() == {"message": "Missing Authentication Token"}
    wrong_method = httpx.delete(f"{stack.url}/ingest/products")
    assert wrong_method.status_code == 403
    output = stack.output()
    assert "offline provider" in output and "Ingest key (X-API-KEY): " + ingest_key(stack) in output
    assert "/webhooks/whatsapp" in output and "mostrador chat" in output


def test_ingest_command_pushes_a_catalog_in_parts_and_prints_the_completed_sync(
    stack: RunningStack, stack_env: dict[str, str], tmp_path: Path
) -> None:
    items = json.loads(SAMPLE.read_text(encoding="utf-8"))[:40]
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    unauthorized = httpx.post(f"{stack.url}/ingest/products", json=items[:1], headers={"X-API-KEY": "wrong"})
    assert unauthorized.status_code == 401

    done = subprocess.run(
        [sys.executable, "-m", "local.cli", "ingest", str(catalog), "--url", stack.url, "--key", ingest_key(stack)]
        + ["--chunk-size", "15", "--timeout", "120"],
        cwd=tmp_path,
        env=stack_env,
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "40/40 products sent" in done.stderr
    status = json.loads(done.stdout.strip().splitlines()[-1])
    assert status["complete"] is True
    assert status["received"] == 40
    assert status["processed"] + status["unchanged"] == 40 and status["failed"] == 0
    again = httpx.get(f"{stack.url}/ingest/syncs/{status['syncId']}", headers={"X-API-KEY": ingest_key(stack)})
    assert again.json()["complete"] is True


def signed_whatsapp_delivery(
    sender: str,
    text: str,
    wamid: str,
    *,
    content: dict[str, Any] | None = None,
    phone_number_id: str = PHONE_NUMBER_ID,
) -> tuple[bytes, str]:
    """A signed delivery of one message to the business number `phone_number_id`: `text`, or `content` (its
    "type" and that type's object)."""
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA-1",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "584120000000", "phone_number_id": phone_number_id},
                            "contacts": [{"profile": {"name": "Ana"}, "wa_id": sender}],
                            "messages": [
                                {
                                    "from": sender,
                                    "id": wamid,
                                    "timestamp": str(int(time.time())),
                                    **(content or {"type": "text", "text": {"body": text}}),
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    # Meta's bytes: non-ASCII escaped as \\u00e9 and "/" as "\\/"; the signature covers exactly these bytes.
    raw = json.dumps(payload, ensure_ascii=True).replace("/", "\\/").encode()
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return raw, signature


def wait_for(condition: Any, seconds: float = 60.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def test_signed_whatsapp_webhook_gets_a_reply_at_the_graph_api(stack: RunningStack, graph: FakeMetaGraph) -> None:
    sender, wamid = "584141234567", f"wamid.LOCALTEST{int(time.time() * 1000)}"
    raw, signature = signed_whatsapp_delivery(sender, "Hola, ¿qué neveras Samsung tienen?", wamid)
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature}

    refused = httpx.post(
        f"{stack.url}/webhooks/whatsapp", content=raw, headers={**headers, "X-Hub-Signature-256": "sha256=00"}
    )
    assert refused.status_code == 401
    accepted = httpx.post(f"{stack.url}/webhooks/whatsapp", content=raw, headers=headers)
    assert accepted.status_code == 200, accepted.text

    def reply() -> Any:
        return next(
            (
                r
                for r in graph.requests
                if r.method == "POST" and r.path.endswith(f"/{PHONE_NUMBER_ID}/messages") and r.json.get("to") == sender
            ),
            None,
        )

    sent = wait_for(reply, what=f"a WhatsApp reply at the Graph API stand-in\n{stack.output()}")
    assert sent.headers.get("authorization") == f"Bearer {graph.token}"
    assert sent.json["messaging_product"] == "whatsapp"
    # Several fridges found: offered as WhatsApp buttons or a list (issue 13), whose body is the reply.
    body = sent.json["text"]["body"] if sent.json["type"] == "text" else sent.json["interactive"]["body"]["text"]
    assert body.strip()
    assert sent.json.get("context", {}).get("message_id") == wamid


def post_whatsapp(
    stack: RunningStack, sender: str, text: str, wamid: str, client: httpx.Client | None = None
) -> httpx.Response:
    raw, signature = signed_whatsapp_delivery(sender, text, wamid)
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
    return (client or httpx).post(f"{stack.url}/webhooks/whatsapp", content=raw, headers=headers)


def replies_to(graph: FakeMetaGraph, sender: str) -> list[Any]:
    return [
        r
        for r in graph.requests
        if r.method == "POST" and r.path.endswith(f"/{PHONE_NUMBER_ID}/messages") and r.json.get("to") == sender
    ]


def test_a_stuck_reply_holds_up_neither_webhooks_nor_ingest(stack: RunningStack, graph: FakeMetaGraph) -> None:
    """Issue 14, item 6: the whole stack ran one invocation at a time, so a reply stuck in its send made
    webhooks wait for it. Each function now runs in workers of its own, as on Lambda."""
    first, second = "584140000101", "584140000102"
    stamp = int(time.time() * 1000)
    graph.hold(at_most_seconds=20)
    try:
        held = graph.held
        assert post_whatsapp(stack, first, "Hola, ¿tienen neveras?", f"wamid.STUCK{stamp}").status_code == 200
        wait_for(lambda: graph.held > held, what=f"the reply stuck in its send to the Graph API\n{stack.output()}")

        with httpx.Client() as client:  # one client: its set-up is no part of what is measured
            began = time.monotonic()
            webhook = post_whatsapp(stack, second, "Hola", f"wamid.NEXT{stamp}", client)
            webhook_took = time.monotonic() - began
            items = json.loads(SAMPLE.read_text(encoding="utf-8"))[:1]
            began = time.monotonic()
            ingest = client.post(f"{stack.url}/ingest/products", json=items, headers={"X-API-KEY": ingest_key(stack)})
            ingest_took = time.monotonic() - began
    finally:
        graph.release()

    assert (webhook.status_code, ingest.status_code) == (200, 202), (webhook.text, ingest.text)
    # Generous bounds: before, each waited for the stuck reply (seconds, up to the send's 10 s timeout).
    assert webhook_took < 2.0, f"the webhook waited {webhook_took:.2f} s for a stuck reply"
    assert ingest_took < 2.0, f"the ingest POST waited {ingest_took:.2f} s for a stuck reply"
    for sender in (first, second):
        wait_for(lambda sender=sender: replies_to(graph, sender), what=f"the reply to {sender}\n{stack.output()}")


def test_http_log_lines_name_the_route_never_the_path(stack: RunningStack) -> None:
    """Issue 14, item 15: paths carry phone numbers and PSIDs; the log says the route, as API Gateway's does."""
    phone = "584149876543"
    refused = httpx.get(f"{stack.url}/admin/customers/{phone}/status", headers={"Authorization": "Bearer wrong"})
    assert refused.status_code == 401
    assert httpx.post(f"{stack.url}/nothing/{phone}").status_code == 403

    wait_for(lambda: "[http] POST (no route) → 403 (" in stack.output(), what="the unknown route's log line")
    lines = [line for line in stack.output().splitlines() if line.startswith("[http]")]
    assert any(line.startswith("[http] GET /admin/{proxy+} → admin 401 (") for line in lines), lines
    assert phone not in stack.output()


def test_web_chat_page_answers_in_headless_chromium(stack: RunningStack, tmp_path: Path) -> None:
    from tests.e2e.chromium import Chromium

    script = "JSON.stringify([...document.querySelectorAll('.msg')].map(e => [e.className, e.textContent]))"
    with Chromium(tmp_path / "profile") as browser:
        page = browser.open(f"{stack.url}/chat")
        page.wait_for("document.readyState === 'complete' && !!document.getElementById('text')")
        page.type_into("#text", "Hola, busco un televisor Samsung")
        page.press_enter()
        # The server recorded the message: the page shows it from the poll (no longer "pending").
        page.wait_for("document.querySelector('.msg.customer[data-id]') !== null", seconds=60)
        messages = json.loads(page.wait_for(f"document.querySelector('.msg.bot') && {script}", seconds=90))
    assert ["msg customer", "Hola, busco un televisor Samsung"] in messages
    bot = [text for cls, text in messages if cls == "msg bot"]
    assert bot and bot[0].strip()


def run_cli_found(
    stack: RunningStack, env: dict[str, str], *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """`mostrador <args>` with no --url, no key and no PORT: only the stack's data folder to go by."""
    return subprocess.run(
        [sys.executable, "-m", "local.cli", *args, "--data-dir", str(stack.data_dir)],
        cwd=stack.data_dir.parent,
        env={k: v for k, v in env.items() if k != "PORT"},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_chat_from_another_shell_finds_the_stack_s_port_and_its_web_chat_key(
    stack: RunningStack, stack_env: dict[str, str]
) -> None:
    """The banner's command works as printed, and a plain `mostrador chat` (no --url, no --key) reaches a
    stack on a port other than 3000 as its default tenant: the stack wrote both to its data folder."""
    running = json.loads((stack.data_dir / "stack.json").read_text())
    assert running["url"] == stack.url and running["webchatKey"].startswith("wk_")
    printed = next(line.strip() for line in stack.output().splitlines() if line.strip().startswith("mostrador chat"))
    assert printed == f"mostrador chat --url {stack.url} --key {running['webchatKey']}"

    chat = run_cli_found(stack, stack_env, "chat", stdin="hola, ¿tienen neveras?\n")

    assert chat.returncode == 0, chat.stderr
    assert "not sent" not in chat.stderr and f"Chatting with Mostrador at {stack.url}" in chat.stdout
    conversation = chat.stdout.split("(conversation ", 1)[1].split(")", 1)[0]

    def bot_said() -> list[str]:
        answer = httpx.get(
            f"{stack.url}/webchat/messages",
            params={"conversationId": conversation, "after": "0"},
            headers={"X-Widget-Key": running["webchatKey"]},
        ).json()
        return [m["text"] for m in answer["messages"] if m["from"] == "bot"]

    assert wait_for(bot_said, 90, "the bot's answer")[0].strip()


def test_migrate_without_a_database_url_uses_the_local_stack_s_database(
    stack: RunningStack, stack_env: dict[str, str], tmp_path: Path
) -> None:
    """`make migrate` on a fresh clone: no DATABASE_URL, so the embedded PostgreSQL `make run` uses — shared
    with a running stack (left running), or started for the migrations and stopped after them."""
    shared = run_cli_found(stack, stack_env, "migrate")
    assert shared.returncode == 0, shared.stderr
    assert shared.stdout.strip() == "database is up to date"
    assert httpx.get(f"{stack.url}/health").json()["database"] == "reachable"

    fresh = RunningStack(stack.url, stack.process, stack.log, tmp_path / ".local")
    first = run_cli_found(fresh, stack_env, "migrate")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("applied: 001_") and "embedded PostgreSQL" in first.stderr
    again = run_cli_found(fresh, stack_env, "migrate")
    assert again.returncode == 0 and again.stdout.strip() == "database is up to date", again.stderr
    postmaster = tmp_path / ".local" / "pg" / "postmaster.pid"
    assert not postmaster.exists()  # stopped after the migrations: nothing else used it


def local_secret(stack: RunningStack, name: str) -> str:
    return str(json.loads((stack.data_dir / "secrets.json").read_text())[name])


def test_bad_input_gets_a_4xx_and_odd_events_an_answer_over_http_never_a_502(
    stack: RunningStack, graph: FakeMetaGraph
) -> None:
    """Issue 14 items 8-10 through the local API gateway, where each of these answered 502 or 500."""
    deep = "[" * 5000 + "]" * 5000
    admin = {"Authorization": f"Bearer {local_secret(stack, 'ADMIN_TOKEN')}"}
    raw = ('{"object":"whatsapp_business_account","entry":' + deep + "}").encode()
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    sb_key = json.dumps(local_secret(stack, "SUPPORT_BOARD_WEBHOOK_SECRET"))
    requests = [
        ("POST", "/webhooks/whatsapp", raw, {"X-Hub-Signature-256": signature}, 400),
        ("POST", "/webhooks/support-board", '{"function":"message-sent","data":' + deep + "}", {}, 401),
        ("POST", "/webhooks/support-board", '{"function":"m","key":' + sb_key + ',"data":' + deep + "}", {}, 400),
        ("POST", "/ingest/products", deep, {"X-API-KEY": ingest_key(stack)}, 400),
        ("PUT", "/admin/model-prices/gpt-4o-mini", deep, admin, 400),
        ("POST", "/webchat/messages", '{"conversationId":"' + "c" * 20 + '","text":' + deep + "}", {}, 400),
        ("GET", "/admin/conversations/%00", None, admin, 400),
        ("GET", "/admin/export?since=2026-01-01&until=2026-01-02&customer=%00", None, admin, 400),
        ("PUT", "/admin/model-prices/%00", '{"inputPerMillion":1,"outputPerMillion":1}', admin, 400),
    ]
    for method, path, body, headers, status in requests:
        content = body.encode() if isinstance(body, str) else body
        answer = httpx.request(method, f"{stack.url}{path}", content=content, headers=headers, timeout=30)
        assert answer.status_code == status, (method, path, answer.status_code, answer.text[:300])
        assert answer.json().get("error") or answer.json().get("message"), answer.text

    # A customer's NUL and a 3 MB text: acknowledged with 200, recorded and answered.
    for sender, text in (("584140000001", "hola\u0000, ¿tienen neveras?"), ("584140000002", "nevera " * 450_000)):
        wamid = f"wamid.ODD{sender}{int(time.time() * 1000)}"
        body, signature = signed_whatsapp_delivery(sender, text, wamid)
        answer = httpx.post(
            f"{stack.url}/webhooks/whatsapp", content=body, headers={"X-Hub-Signature-256": signature}, timeout=30
        )
        assert answer.status_code == 200, answer.text
        wait_for(
            lambda sender=sender: any(r.json.get("to") == sender for r in graph.requests if r.method == "POST"),
            what=f"a reply to {sender}\n{stack.output()}",
        )


def test_ctrl_c_stops_cleanly_and_a_second_run_serves_the_same_data(
    stack: RunningStack, stack_env: dict[str, str], tmp_path: Path
) -> None:
    key = ingest_key(stack)
    assert (stack.data_dir / "stack.json").is_file()
    assert stop_stack(stack) == 0
    assert "Stopped." in stack.output()
    assert not (stack.data_dir / "stack.json").exists()  # commands no longer aim at a port nothing serves
    assert "RuntimeDirWarning" not in stack.output() and "XDG_RUNTIME_DIR" not in stack.output()

    again = start_stack(stack.data_dir, free_port(), stack_env, tmp_path / "second.log")
    try:
        assert "Migrations applied" not in again.output()  # the database was kept
        assert "Ingest key (X-API-KEY): " + key in again.output()
        assert httpx.get(f"{again.url}/health").status_code == 200
    finally:
        assert stop_stack(again) == 0
    shutil.rmtree(stack.data_dir / "pg", ignore_errors=True)


def test_the_first_run_loads_the_sample_catalog_through_ingest_and_a_second_run_does_not(
    stack_env: dict[str, str], tmp_path: Path
) -> None:
    catalog = json.loads((REPO / "local" / "sample_catalog.json").read_text())
    # The user's own 40 products, pushed while the sample (a full sync) is being enriched: the sample
    # must not deactivate them when it completes (issue 14), so the same push again is all unchanged.
    mine = [{**item, "itemCode": f"MIO-{item['itemCode']}"} for item in catalog[:40]]
    first = start_stack(tmp_path / "data", free_port(), stack_env, tmp_path / "first.log", sample=True)
    try:
        key = {"X-API-KEY": ingest_key(first)}
        wait_for(lambda: (first.data_dir / SAMPLE_MARKER).exists(), 120, "every sample part accepted")
        pushed = httpx.post(f"{first.url}/ingest/products", json={"products": mine, "syncId": "mine"}, headers=key)
        assert pushed.status_code == 202 and pushed.json()["accepted"] == 40
        for _ in range(600):  # enrichment of a few hundred items with the offline provider
            if "[sample] sample catalog ready" in first.output() or "[sample] loading the sample" in first.output():
                break
            time.sleep(0.5)
        assert "[sample] sample catalog ready" in first.output(), first.output()
        marker = json.loads((first.data_dir / SAMPLE_MARKER).read_text())
        assert marker["accepted"] == len(catalog)
        sync = httpx.get(f"{first.url}/ingest/syncs/{marker['syncId']}", headers=key).json()
        assert sync["complete"] and sync["received"] == len(catalog) and sync["failed"] == 0
        assert sync["processed"] == len(catalog)

        def complete(sync_id: str) -> dict[str, Any] | None:
            status = httpx.get(f"{first.url}/ingest/syncs/{sync_id}", headers=key).json()
            return status if status.get("complete") else None

        assert wait_for(lambda: complete("mine"), 120, "the user's push")["processed"] == 40
        again = httpx.post(f"{first.url}/ingest/products", json={"products": mine, "syncId": "mine-again"}, headers=key)
        assert again.status_code == 202
        status = wait_for(lambda: complete("mine-again"), 120, "the same push again")
        assert (status["processed"], status["unchanged"]) == (0, 40), status
    finally:
        assert stop_stack(first) == 0
    again = start_stack(tmp_path / "data", free_port(), stack_env, tmp_path / "second.log", sample=True)
    try:
        assert "[sample] loading" not in again.output()
    finally:
        assert stop_stack(again) == 0
