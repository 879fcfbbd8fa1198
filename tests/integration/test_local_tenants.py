"""Tenants on `mostrador local` as a person uses them: the stack creates the default tenant, `mostrador tenant`
adds a second one (a subprocess, over HTTP), its own ingest key loads its own catalog, and a chat through its
web chat key is answered from that catalog while the default tenant's chat page answers from the other."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from local.chat_client import WebChatClient
from tests.integration.test_local_stack import RunningStack, graph, ingest_key, run_cli, stack_env, stack_in

__all__ = ["graph", "stack_env"]  # module fixtures used here


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, stack_env: dict[str, str]) -> Iterator[RunningStack]:
    yield from stack_in(tmp_path_factory.mktemp("tenants-stack"), stack_env)


def mostrador(stack: RunningStack, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = run_cli(stack, env, *args, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def catalog_file(folder: Path, name: str, items: list[dict[str, Any]]) -> Path:
    path = folder / f"{name}.json"
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    return path


def item(code: str, name: str, price: float) -> dict[str, Any]:
    return {
        "itemCode": code,
        "itemName": name,
        "whsName": "CCS-01",
        "branchName": "Caracas",
        "stock": 3,
        "price": price,
    }


def bot_answer(client: WebChatClient, text: str, seconds: float = 90.0) -> str:
    client.send(text)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for message in client.new_messages():
            if message["from"] == "bot":
                return str(message["text"])
        time.sleep(0.5)
    raise AssertionError(f"no bot answer to {text!r} within {seconds} s")


def test_a_second_tenant_added_from_the_cli_is_chatted_with_through_its_own_key(
    stack: RunningStack, stack_env: dict[str, str], tmp_path: Path
) -> None:
    assert "Tenants: created tenant default" in stack.output()
    page = httpx.get(f"{stack.url}/chat").text
    default_key = re.search(r'data-widget-key="(wk_[A-Za-z0-9_-]+)"', page)
    assert default_key is not None

    added = mostrador(stack, stack_env, "tenant", "add", "beta", "--name", "Beta Hogar", "--language", "es")
    beta_key = re.search(r"web chat key: (wk_[A-Za-z0-9_-]+)", added.stdout)
    assert beta_key is not None and f"/chat?key={beta_key[1]}" in added.stdout
    keys = mostrador(stack, stack_env, "tenant", "keys", "beta", "--new", "ingest", "--label", "fetcher")
    beta_ingest = re.search(r"ingest key key_\w+: (mik_\S+)", keys.stdout)
    assert beta_ingest is not None

    listed = mostrador(stack, stack_env, "tenant", "list").stdout
    assert re.search(r"^beta\s+Beta Hogar\s+yes", listed, re.M) and re.search(r"^default\s", listed, re.M)

    # The same item code in both catalogs, each pushed with its tenant's key.
    default_catalog = catalog_file(tmp_path, "default", [item("XY-0412", "Nevera Samsung RT38", 499)])
    beta_catalog = catalog_file(tmp_path, "beta", [item("XY-0412", "Licuadora Oster Pro", 80)])
    mostrador(stack, stack_env, "ingest", str(default_catalog), f"--key={ingest_key(stack)}", "--timeout", "180")
    mostrador(stack, stack_env, "ingest", str(beta_catalog), f"--key={beta_ingest[1]}", "--timeout", "180")

    beta_answer = bot_answer(WebChatClient(stack.url, widget_key=beta_key[1]), "¿tienen el XY-0412?")
    assert "Licuadora Oster Pro" in beta_answer and "Nevera" not in beta_answer
    default_answer = bot_answer(WebChatClient(stack.url, widget_key=default_key[1]), "¿tienen el XY-0412?")
    assert "Nevera Samsung RT38" in default_answer and "Licuadora" not in default_answer

    refused = httpx.post(
        f"{stack.url}/webchat/messages",
        json={"conversationId": "0123456789abcdef", "text": "hola"},
        headers={"X-Widget-Key": "wk_not_a_real_key_123456"},
    )
    assert refused.status_code == 403
    shown = json.loads(mostrador(stack, stack_env, "tenant", "show", "beta").stdout)
    assert shown["displayName"] == "Beta Hogar" and [k["kind"] for k in shown["keys"]] == ["ingest"]
    assert beta_ingest[1] not in json.dumps(shown)


def test_the_banner_prints_the_command_that_finds_a_stack_in_another_data_folder(
    stack: RunningStack, stack_env: dict[str, str]
) -> None:
    """This stack's data folder is not ./.local of the folder it runs from, so a bare `mostrador tenant add`
    there would aim at port 3000 without a token: the banner prints the command with `--data-dir`, and it
    works as printed (no --url, no --token, no PORT), as does MOSTRADOR_DATA_DIR instead of the option."""
    printed = next(
        line.strip() for line in stack.output().splitlines() if line.strip().startswith("mostrador tenant add")
    )
    argv = shlex.split(printed)
    assert argv[argv.index("--data-dir") + 1] == str(stack.data_dir.resolve())
    assert f"MOSTRADOR_DATA_DIR={shlex.quote(str(stack.data_dir.resolve()))}" in stack.output()
    env = {k: v for k, v in stack_env.items() if k not in ("PORT", "MOSTRADOR_DATA_DIR")}

    def run(args: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "local.cli", *args],
            cwd=stack.data_dir.parent,
            env=environment,
            capture_output=True,
            text=True,
            timeout=240,
        )

    added = run(argv[1:], env)
    assert added.returncode == 0, added.stdout + added.stderr
    assert "web chat key: wk_" in added.stdout
    tenant_id = argv[3]
    shown = run(["tenant", "show", tenant_id], {**env, "MOSTRADOR_DATA_DIR": str(stack.data_dir)})
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert json.loads(shown.stdout)["tenantId"] == tenant_id


def test_tenant_set_changes_settings_channels_and_secrets(stack: RunningStack, stack_env: dict[str, str]) -> None:
    mostrador(stack, stack_env, "tenant", "add", "gamma", "--name", "Gamma")
    changed = mostrador(
        stack,
        stack_env,
        "tenant",
        "set",
        "gamma",
        "--hours",
        "mon-fri 09:00-13:00 15:00-19:00; sat 09:00-13:00",
        "--time-zone",
        "America/Caracas",
        "--token-budget",
        "2000000",
        "--whatsapp",
        "5550001",
        "--secret",
        "WHATSAPP_TOKEN=gamma-token",
    ).stdout
    assert "whatsapp 5550001 → gamma" in changed and "secrets set now: WHATSAPP_TOKEN" in changed
    shown = json.loads(mostrador(stack, stack_env, "tenant", "show", "gamma").stdout)
    assert shown["businessHours"]["wed"] == ["09:00-13:00", "15:00-19:00"] and "sun" not in shown["businessHours"]
    assert shown["monthlyTokenBudget"] == 2000000 and shown["secretsSet"] == ["WHATSAPP_TOKEN"]
    assert "gamma-token" not in json.dumps(shown)
    routing = json.loads((stack.data_dir / "routing.json").read_text())
    assert routing["tenants"]["gamma"]["whatsapp"] == ["5550001"]

    wrong = run_cli(stack, stack_env, "tenant", "set", "gamma", "--time-zone", "Mars/Base", timeout=120)
    assert wrong.returncode == 1 and "unknown time zone" in wrong.stderr


def test_a_tenant_owner_token_from_the_cli_manages_only_its_own_tenant(
    stack: RunningStack, stack_env: dict[str, str]
) -> None:
    mostrador(stack, stack_env, "tenant", "add", "delta", "--name", "Delta")
    made = mostrador(stack, stack_env, "token", "create", "--tenant", "delta", "--role", "owner", "--name", "dora")
    owner = made.stdout.strip()
    assert owner.startswith("mst_") and "never shown again" in made.stderr

    as_owner = {**stack_env, "MOSTRADOR_ADMIN_TOKEN": owner}
    changed = mostrador(stack, as_owner, "tenant", "set", "delta", "--currency", "EUR").stdout
    assert "set currency" in changed
    assert json.loads(mostrador(stack, as_owner, "tenant", "show", "delta").stdout)["currency"] == "EUR"
    tokens = mostrador(stack, as_owner, "token", "list").stdout
    assert "dora" in tokens and "delta" in tokens

    def refused(*args: str) -> str:
        done = run_cli(stack, as_owner, *args, timeout=120)
        assert done.returncode == 1, done.stdout + done.stderr
        return done.stderr

    assert "manage_tenants" in refused("tenant", "list")
    assert "cannot act on tenant 'default'" in refused("tenant", "show", "default")
    assert "manage_tenants" in refused("tenant", "set", "delta", "--whatsapp", "5550009")


def test_the_operator_keeps_a_tenants_knowledge_from_the_cli_and_its_owner_finds_it_with_its_token(
    stack: RunningStack, stack_env: dict[str, str]
) -> None:
    mostrador(stack, stack_env, "tenant", "add", "epsilon", "--name", "Epsilon")
    question = "¿Abren los domingos en Epsilon?"
    added = mostrador(
        stack, stack_env, "knowledge", "faq", "--tenant", "epsilon", "--question", question, "--answer", "Sí, de 9 a 1."
    )
    assert json.loads(added.stdout.strip().splitlines()[-1])["status"] == "ready", added.stderr

    def faq_questions(env: dict[str, str], *tenant: str) -> str:
        return mostrador(stack, env, "knowledge", "list", "--faq", *tenant).stdout

    assert question in faq_questions(stack_env, "--tenant", "epsilon")
    assert question not in faq_questions(stack_env)  # the operator's token alone acts on the default tenant
    owner = mostrador(stack, stack_env, "token", "create", "--tenant", "epsilon", "--role", "owner", "--name", "eva")
    assert question in faq_questions({**stack_env, "MOSTRADOR_ADMIN_TOKEN": owner.stdout.strip()})


def test_a_tenants_escalation_email_lands_in_the_data_folders_mail_outbox(
    stack: RunningStack, stack_env: dict[str, str]
) -> None:
    added = mostrador(
        stack, stack_env, "tenant", "add", "zeta", "--name", "Zeta Hogar", "--escalation-email", "zeta@zeta.example"
    )
    assert "warning" not in added.stdout + added.stderr  # the local stack mails (into its outbox folder)
    key = re.search(r"web chat key: (wk_[A-Za-z0-9_-]+)", added.stdout)
    assert key is not None and f"E-mail: escalation e-mails are written to {stack.data_dir / 'mail'}" in stack.output()

    bot_answer(WebChatClient(stack.url, widget_key=key[1]), "quiero hablar con un asesor")

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not list((stack.data_dir / "mail").glob("*.eml")):
        time.sleep(0.3)
    [mail] = [p.read_text() for p in (stack.data_dir / "mail").glob("*.eml") if "zeta@zeta.example" in p.read_text()]
    assert "Subject: Escalamiento #" in mail and "Zeta Hogar" in mail and "Canal: webchat" in mail
