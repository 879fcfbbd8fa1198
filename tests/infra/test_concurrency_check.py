"""The deploy-time Lambda concurrency check, through the real boto3 against a Lambda API stand-in on 127.0.0.1.

The stand-in answers GetAccountSettings with the shape AWS documents; a new account's quota of 10 fails the
deploy with what to do, the usual 1000 passes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class _LambdaApi(BaseHTTPRequestHandler):
    limits: dict[str, int] = {}
    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        type(self).requests.append(self.path)
        if self.path.rstrip("/") != "/2016-08-19/account-settings":
            self.send_error(404)
            return
        body = json.dumps(
            {
                "AccountLimit": {
                    "TotalCodeSize": 80530636800,
                    "CodeSizeUnzipped": 262144000,
                    "CodeSizeZipped": 52428800,
                    **self.limits,
                },
                "AccountUsage": {"TotalCodeSize": 1024, "FunctionCount": 9},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def lambda_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_LambdaApi]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _LambdaApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setenv("REQUIRED_CONCURRENCY", "24")
    monkeypatch.setenv("CONCURRENCY_BREAKDOWN", "reply 10 + enrich 4 + API headroom 10")
    monkeypatch.setenv("MOSTRADOR_STAGE", "prod")
    _LambdaApi.requests = []
    yield _LambdaApi
    server.shutdown()
    server.server_close()


def test_a_new_accounts_quota_fails_the_deploy_saying_what_to_do(lambda_api: type[_LambdaApi]) -> None:
    from infra.concurrency_check.handler import InsufficientConcurrency, handler

    lambda_api.limits = {"ConcurrentExecutions": 10, "UnreservedConcurrentExecutions": 10}
    with pytest.raises(InsufficientConcurrency) as refused:
        handler({}, None)
    message = str(refused.value)
    assert "quota is 10" in message and "needs 24 (reply 10 + enrich 4 + API headroom 10)" in message
    assert "Service Quotas" in message and "infra/stages/prod.toml" in message
    assert lambda_api.requests  # asked AWS, through boto3


def test_the_usual_quota_passes(lambda_api: type[_LambdaApi]) -> None:
    from infra.concurrency_check.handler import handler

    lambda_api.limits = {"ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": 900}
    assert handler({}, None) == {"quota": 1000, "unreserved": 900, "required": 24}


def test_concurrency_reserved_by_other_functions_does_not_count(lambda_api: type[_LambdaApi]) -> None:
    from infra.concurrency_check.handler import InsufficientConcurrency, handler

    lambda_api.limits = {"ConcurrentExecutions": 100, "UnreservedConcurrentExecutions": 20}
    with pytest.raises(InsufficientConcurrency, match="20 not reserved"):
        handler({}, None)
