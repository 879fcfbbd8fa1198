"""`mostrador token create/list/revoke` as a person runs it: the real command in its own process, over HTTP,
against the real admin handler behind the local API Gateway's proxy events, on a real PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.fakes.platforms import platforms_fixture  # noqa: F401
from tests.integration import test_admin_support as support
from tests.integration.test_admin_support import ADMIN_TOKEN, AdminClient
from tests.lambda_events import LambdaContextStub

admin, reply_env = support.admin, support.reply_env


@pytest.fixture
def admin_url(admin) -> Iterator[str]:
    """The admin function on 127.0.0.1, each HTTP request turned into the proxy event API Gateway sends."""
    from functions.admin.handler import handler
    from local.api_gateway import HttpRequest, dispatch

    lock = threading.Lock()  # one execution environment: one request at a time, like the local stack

    def invoke(_name: str, event: dict[str, Any]) -> Any:
        with lock:
            return handler(event, LambdaContextStub())

    class Gateway(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            request = HttpRequest(
                self.command, parts.path, parse_qsl(parts.query), list(self.headers.items()), body, "127.0.0.1"
            )
            answer = dispatch(request, invoke).response
            self.send_response(answer.status)
            for name, value in answer.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        do_GET = do_POST = _handle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def mostrador(*args: str, cwd: Path, token: str | None = ADMIN_TOKEN) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "POWERTOOLS_LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "local.cli", "token", *args]
    if token is not None:
        command += ["--token", token]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def test_tokens_are_created_listed_and_revoked_from_the_command_line(admin_url, db, tmp_path):
    from mostrador.db.tenant_repository import create_tenant

    create_tenant(db, "norte", {"display_name": "Norte"})  # tenants are data (mostrador tenant add)
    unknown = mostrador(
        "create", "--name", "ana", "--role", "agent", "--tenant", "nadie", "--url", admin_url, cwd=tmp_path
    )
    assert unknown.returncode == 1 and "No tenant 'nadie'" in unknown.stderr
    made = mostrador(
        "create", "--name", "ana", "--role", "agent", "--tenant", "norte", "--url", admin_url, cwd=tmp_path
    )
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip()
    assert secret.startswith("mst_") and "\n" not in secret  # stdout holds only the token: TOKEN=$(...)
    assert "never shown again" in made.stderr and "agent of tenant norte" in made.stderr
    assert AdminClient(secret).ok("GET", "/admin/me")["tenant"] == "norte"

    # The agent's own token cannot make tokens: the command says why and fails.
    refused = mostrador("create", "--name", "x", "--role", "viewer", "--url", admin_url, cwd=tmp_path, token=secret)
    assert refused.returncode == 1 and "403" in refused.stderr and "manage_tokens" in refused.stderr

    listed = mostrador("list", "--url", admin_url, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    header, row = listed.stdout.splitlines()
    assert header.split()[:5] == ["ID", "NAME", "ROLE", "TENANT", "PREFIX"]
    assert row.split()[1:6] == ["ana", "agent", "norte", secret[:12], "active"]
    assert secret not in listed.stdout
    as_json = json.loads(mostrador("list", "--json", "--url", admin_url, cwd=tmp_path).stdout)
    assert [t["name"] for t in as_json] == ["ana"] and "secret" not in as_json[0]

    token_id = str(as_json[0]["id"])
    revoked = mostrador("revoke", token_id, "--url", admin_url, cwd=tmp_path)
    assert revoked.returncode == 0 and f"Revoked token {token_id} (ana)" in revoked.stdout
    assert AdminClient(secret).call("GET", "/admin/me").status == 401
    again = mostrador("revoke", token_id, "--url", admin_url, cwd=tmp_path)
    assert again.returncode == 1 and "409" in again.stderr
    assert mostrador("list", "--active", "--url", admin_url, cwd=tmp_path).stdout.splitlines()[1:] == []

    missing = mostrador("list", "--url", admin_url, cwd=tmp_path, token=None)
    assert missing.returncode == 2 and "--token" in missing.stderr
    wrong = mostrador("list", "--url", admin_url, cwd=tmp_path, token="wrong")
    assert wrong.returncode == 1 and "401" in wrong.stderr
