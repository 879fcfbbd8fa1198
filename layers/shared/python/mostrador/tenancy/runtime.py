"""The Settings a tenant runs with, kept per process: rebuilt only when its row or its secret changed, so
what hangs off a Settings object (LLM clients, channel senders and their HTTP pools) is kept too."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from mostrador.tenancy.profile import TenantProfile, tenant_settings

if TYPE_CHECKING:
    from mostrador.config import Settings
    from mostrador.db.connection import Connection
    from mostrador.tenancy.secrets import TenantSecretStore


def load_profile(conn: Connection, tenant_id: str) -> TenantProfile:
    """The tenant's row, or the deployment's defaults for a tenant without one (a database from before
    tenants, where the deployment's TENANT_ID has no row yet)."""
    from mostrador.db.tenant_repository import get_tenant_with_numbers

    row = get_tenant_with_numbers(conn, tenant_id)
    return TenantProfile.from_row(row) if row else TenantProfile.deployment_default(tenant_id)


def fingerprint(profile: TenantProfile, secrets: dict[str, str]) -> str:
    material = json.dumps([profile.model_dump(mode="json"), sorted(secrets.items())], sort_keys=True)
    return hashlib.sha256(material.encode()).hexdigest()


class TenantSettingsCache:
    def __init__(self, base: Settings, secrets: TenantSecretStore) -> None:
        self.base = base
        self._secrets = secrets
        self._built: dict[str, tuple[str, TenantProfile, Settings]] = {}

    def get(self, conn: Connection, tenant_id: str) -> tuple[TenantProfile, Settings]:
        profile = load_profile(conn, tenant_id)
        secrets = self._secrets.read(tenant_id)
        digest = fingerprint(profile, secrets)
        built = self._built.get(tenant_id)
        if built is None or built[0] != digest:
            built = (digest, profile, tenant_settings(self.base, profile, secrets))
            self._built[tenant_id] = built
        return built[1], built[2]
