"""The admin API of any Mostrador (local or deployed) from a terminal: `mostrador token ...` and
`mostrador tenant ...` (local/tenant_cli.py) both call it through AdminApi, with one way to find the token."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, TextIO

import httpx

TOKEN_SOURCES = "--token, MOSTRADOR_ADMIN_TOKEN, ADMIN_TOKEN or the local stack's"  # noqa: S105 - names, no secret


class AdminCallFailed(Exception):
    pass


def admin_token(given: str | None, data_dir: Path) -> str | None:
    """The token to call with: --token, else MOSTRADOR_ADMIN_TOKEN, else ADMIN_TOKEN, else the local
    stack's generated ADMIN_TOKEN (`.local/secrets.json`)."""
    token = given or os.environ.get("MOSTRADOR_ADMIN_TOKEN") or os.environ.get("ADMIN_TOKEN")
    if not token:
        secrets_file = data_dir / "secrets.json"
        if secrets_file.is_file():
            token = json.loads(secrets_file.read_text()).get("ADMIN_TOKEN")
    return str(token) if token else None


def admin_headers(token: str, tenant: str | None = None) -> dict[str, str]:
    """Bearer auth, and the tenant an operator's token acts on (X-Tenant); a tenant's own token needs none."""
    headers = {"Authorization": f"Bearer {token}"}
    return {**headers, "X-Tenant": tenant} if tenant else headers


class AdminApi:
    def __init__(self, url: str, token: str, tenant: str | None = None, client: httpx.Client | None = None) -> None:
        self.url = url.rstrip("/")
        self.headers = admin_headers(token, tenant)
        self.client = client or httpx.Client(timeout=30.0)

    def call(self, method: str, path: str, *, body: Any = None, query: dict[str, Any] | None = None) -> Any:
        try:
            answer = self.client.request(method, self.url + path, headers=self.headers, json=body, params=query)
        except httpx.HTTPError as error:
            raise AdminCallFailed(f"could not reach {self.url}: {error}") from error
        try:
            data = answer.json()
        except ValueError:
            data = None
        if answer.status_code >= 400:
            detail = data.get("error") or data.get("message") if isinstance(data, dict) else answer.text[:200]
            raise AdminCallFailed(f"{method} {path} answered {answer.status_code}: {detail}")
        return data

    def create_token(self, name: str, role: str, expires_in_days: int | None) -> dict[str, Any]:
        body: dict[str, Any] = {"name": name, "role": role}
        if expires_in_days:
            body["expiresInDays"] = expires_in_days
        created: dict[str, Any] = self.call("POST", "/admin/tokens", body=body)
        return created

    def list_tokens(self, *, active_only: bool, role: str | None) -> list[dict[str, Any]]:
        """Every page, newest first."""
        tokens: list[dict[str, Any]] = []
        query: dict[str, Any] = {"status": "active" if active_only else "all", "limit": 200}
        if role:
            query["role"] = role
        while True:
            page = self.call("GET", "/admin/tokens", query=query)
            tokens += page["tokens"]
            if not page.get("nextCursor"):
                return tokens
            query["cursor"] = page["nextCursor"]

    def revoke_token(self, token_id: int) -> dict[str, Any]:
        revoked: dict[str, Any] = self.call("POST", f"/admin/tokens/{token_id}/revoke", body={})
        return revoked


COLUMNS = (("id", "ID"), ("name", "NAME"), ("role", "ROLE"), ("tenant", "TENANT"), ("prefix", "PREFIX"))
COLUMNS += (("status", "STATUS"), ("lastUsedAt", "LAST USED"), ("createdAt", "CREATED"))


def print_tokens(tokens: list[dict[str, Any]], out: TextIO) -> None:
    rows = [[header for _, header in COLUMNS]]
    rows += [[_cell(key, token.get(key)) for key, _ in COLUMNS] for token in tokens]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    for row in rows:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() + "\n")


def _cell(key: str, value: Any) -> str:
    if value is None:
        return "-"
    return str(value)[:19].replace("T", " ") if key.endswith("At") else str(value)


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)
