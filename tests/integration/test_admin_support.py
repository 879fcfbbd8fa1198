"""Driving the real admin handler in tests, with API Gateway REST v1 proxy events shaped like the
deployed route (ANY /admin/{proxy+}). No tests here: fixtures and helpers for the test_admin_* modules.
Conversations come from the real reply handler (test_reply_support), catalog syncs from the real
ingest + enrich handlers (the `pipeline` fixture)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import pytest

from tests.fakes.platforms import platforms_fixture  # noqa: F401
from tests.integration import test_reply_support as reply_support
from tests.lambda_events import LambdaContextStub, api_event

ADMIN_TOKEN = "test-admin-token-0123456789"
ADMIN_TOKEN_HASH_KEY = "test-admin-token-hash-key-0123456789abcdef"

reply_env = reply_support.reply_env


@dataclass
class AdminAnswer:
    status: int
    headers: dict[str, str]
    raw: bytes
    # As the Lambda answered: API Gateway turns a base64 body back into bytes only for binary media types.
    base64_encoded: bool = False

    @property
    def json(self) -> Any:
        return json.loads(self.raw) if self.raw else None


class AdminClient:
    """Calls the admin handler with a token and, for an operator acting on a tenant, an X-Tenant header."""

    def __init__(self, token: str | None = ADMIN_TOKEN, tenant: str | None = None) -> None:
        self.token = token
        self.tenant = tenant

    def call(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        body: Any = None,
        token: str | None = "default",
        authorization: str | None = None,
        tenant: str | None = "default",
    ) -> AdminAnswer:
        from functions.admin.handler import handler

        headers = {"Content-Type": "application/json"}
        token = self.token if token == "default" else token
        if authorization is not None:
            headers["Authorization"] = authorization
        elif token is not None:
            headers["Authorization"] = f"Bearer {token}"
        tenant = self.tenant if tenant == "default" else tenant
        if tenant is not None:
            headers["X-Tenant"] = tenant
        proxy = path.removeprefix("/admin/")
        event = api_event(
            method,
            path,
            body=None if body is None else (body if isinstance(body, str) else json.dumps(body)),
            headers=headers,
            query={k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in query.items()} if query else None,
            resource="/admin/{proxy+}",
            path_parameters={"proxy": proxy},
        )
        response = handler(event, LambdaContextStub())
        raw = response.get("body") or ""
        data = base64.b64decode(raw) if response.get("isBase64Encoded") else raw.encode()
        headers = dict(response.get("headers") or {})
        for name, values in (response.get("multiValueHeaders") or {}).items():
            headers.setdefault(name, values[-1])
        return AdminAnswer(response["statusCode"], headers, data, bool(response.get("isBase64Encoded")))

    def get(self, path: str, **query: Any) -> AdminAnswer:
        return self.call("GET", path, query={k: v for k, v in query.items() if v is not None} or None)

    def post(self, path: str, body: Any = None) -> AdminAnswer:
        return self.call("POST", path, body={} if body is None else body)

    def ok(self, method: str, path: str, **kw: Any) -> Any:
        answer = self.call(method, path, **kw)
        assert answer.status == 200, (answer.status, answer.raw[:500])
        return answer.json


@pytest.fixture
def admin(reply_env, monkeypatch: pytest.MonkeyPatch) -> AdminClient:
    """The admin API with its token and token hash key set, on the same database and settings as the reply
    handler; no token remembered from an earlier test."""
    from mostrador.config import reset_settings
    from mostrador.operations.auth import TOKEN_CACHE

    monkeypatch.setenv("ADMIN_TOKEN", ADMIN_TOKEN)
    monkeypatch.setenv("ADMIN_TOKEN_HASH_KEY", ADMIN_TOKEN_HASH_KEY)
    monkeypatch.delenv("MOSTRADOR_MODEL_PRICES", raising=False)
    reset_settings()
    TOKEN_CACHE.clear()
    return AdminClient()
