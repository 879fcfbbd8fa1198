"""Tenants in tests: a deployment with a routing document and tenant secrets in a temporary data folder
(as the local stack has them), tenants made through the real admin API. No tests here."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_admin_support import ADMIN_TOKEN, AdminClient


@dataclass
class Tenancy:
    folder: Path

    @property
    def routing_file(self) -> Path:
        return self.folder / "routing.json"

    @property
    def secrets_dir(self) -> Path:
        return self.folder / "tenant-secrets"


def forget_tenancy_caches() -> None:
    from mostrador.config import reset_settings
    from mostrador.tenancy.routing import reset_routing_source
    from mostrador.tenancy.secrets import reset_tenant_secret_store

    reset_settings()
    reset_routing_source()
    reset_tenant_secret_store()


@pytest.fixture(name="tenancy")
def tenancy_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Tenancy]:
    """A multi-tenant deployment: routing document and tenant secrets in files, as `mostrador local` sets them."""
    found = Tenancy(tmp_path / "data")
    monkeypatch.setenv("MOSTRADOR_ROUTING_FILE", str(found.routing_file))
    monkeypatch.setenv("MOSTRADOR_TENANT_SECRETS_DIR", str(found.secrets_dir))
    forget_tenancy_caches()
    yield found
    forget_tenancy_caches()


def as_tenant(admin: AdminClient, tenant_id: str) -> None:
    """From now on `admin` calls as an owner of this tenant: a token of its own that the operator made for it
    (POST /admin/tokens with X-Tenant). The tenant comes from the token, as for every caller of a shop."""
    owners: dict[str, str] = admin.__dict__.setdefault("owner_tokens", {})
    if tenant_id not in owners:
        operator = AdminClient(ADMIN_TOKEN, tenant=tenant_id)
        made = operator.ok("POST", "/admin/tokens", body={"name": f"owner of {tenant_id}", "role": "owner"})
        owners[tenant_id] = made["secret"]
    admin.token, admin.tenant = owners[tenant_id], None


def created(admin: AdminClient, path: str, body: dict[str, Any]) -> Any:
    answer = admin.call("POST", path, body=body)
    assert answer.status == 201, (path, answer.status, answer.raw[:500])
    return answer.json


def add_tenant(
    admin: AdminClient,
    tenant_id: str,
    *,
    channels: dict[str, str] | None = None,
    secrets: dict[str, str] | None = None,
    **settings: Any,
) -> dict[str, Any]:
    """A tenant made the way an operator makes one; its web chat key, ingest and Support Board keys."""
    tenant = created(admin, "/admin/tenants", {"tenantId": tenant_id, "displayName": tenant_id.title(), **settings})
    for channel, channel_id in (channels or {}).items():
        created(admin, f"/admin/tenants/{tenant_id}/channels", {"channel": channel, "id": channel_id})
    ingest = created(admin, f"/admin/tenants/{tenant_id}/keys", {"kind": "ingest", "label": "fetcher"})
    support_board = created(admin, f"/admin/tenants/{tenant_id}/keys", {"kind": "support_board"})
    if secrets:
        assert admin.call("PUT", f"/admin/tenants/{tenant_id}/secrets", body=secrets).status == 200
    return {
        "webchat": tenant["webchatKey"],
        "ingest": ingest["key"],
        "ingest_id": ingest["keyId"],
        "support_board": support_board["key"],
    }
