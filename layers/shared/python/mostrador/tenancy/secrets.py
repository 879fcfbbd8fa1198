"""Each tenant's own tokens and keys (profile.TENANT_SECRET_NAMES): one JSON object per tenant.

On AWS one Secrets Manager secret per tenant, named MOSTRADOR_TENANT_SECRET_PREFIX + tenant id, read at
first use through Powertools parameters and cached MAX_AGE_SECONDS per execution environment (a
changed token reaches the reply function within that time). Locally one file per tenant in
MOSTRADOR_TENANT_SECRETS_DIR (mode 0600). Values are write-only through the admin API: it answers
which names are set, never a value.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from mostrador.tenancy.profile import TENANT_SECRET_NAMES

if TYPE_CHECKING:
    from mostrador.config import Settings

MAX_AGE_SECONDS = 300.0


class TenantSecretStore(Protocol):
    def read(self, tenant_id: str) -> dict[str, str]:
        """The tenant's secret values ({} when it has none)."""
        ...

    def write(self, tenant_id: str, changes: Mapping[str, str | None]) -> list[str]:
        """Set (a string) or remove (None) values; the names set afterwards."""
        ...


def _merged(current: Mapping[str, str], changes: Mapping[str, str | None]) -> dict[str, str]:
    unknown = sorted(set(changes) - set(TENANT_SECRET_NAMES))
    if unknown:
        raise ValueError(f"unknown secret name(s) {', '.join(unknown)}; a tenant's secret holds {TENANT_SECRET_NAMES}")
    merged = dict(current)
    for name, value in changes.items():
        if value:
            merged[name] = value
        else:
            merged.pop(name, None)
    return merged


def _values(document: object) -> dict[str, str]:
    if not isinstance(document, Mapping):
        return {}
    return {str(k): str(v) for k, v in document.items() if k in TENANT_SECRET_NAMES and v not in (None, "")}


class NoTenantSecrets:
    """A deployment without per-tenant secrets: every tenant has none (the default one uses the deployment's)."""

    def read(self, tenant_id: str) -> dict[str, str]:
        return {}

    def write(self, tenant_id: str, changes: Mapping[str, str | None]) -> list[str]:
        raise ValueError(
            "this deployment keeps no per-tenant secrets: set MOSTRADOR_TENANT_SECRET_PREFIX (AWS) "
            "or MOSTRADOR_TENANT_SECRETS_DIR (locally)"
        )


class FileTenantSecrets:
    def __init__(self, folder: str | Path) -> None:
        self._folder = Path(folder)

    def _path(self, tenant_id: str) -> Path:
        return self._folder / f"{tenant_id}.json"

    def read(self, tenant_id: str) -> dict[str, str]:
        path = self._path(tenant_id)
        if not path.is_file():
            return {}
        return _values(json.loads(path.read_text(encoding="utf-8")))

    def write(self, tenant_id: str, changes: Mapping[str, str | None]) -> list[str]:
        merged = _merged(self.read(tenant_id), changes)
        self._folder.mkdir(parents=True, exist_ok=True)
        path = self._path(tenant_id)
        partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        # Created 0600 before anything is written into it.
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(merged, handle, indent=2, sort_keys=True)
        os.replace(partial, path)
        return sorted(merged)


class SecretsManagerTenantSecrets:
    """One secret per tenant; reads cached per execution environment (missing secrets too)."""

    def __init__(
        self,
        prefix: str,
        *,
        max_age: float = MAX_AGE_SECONDS,
        client: Any = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._prefix = prefix
        self._max_age = max_age
        self._client = client
        self._clock = clock
        self._cache: dict[str, tuple[float, dict[str, str]]] = {}
        self._lock = threading.Lock()

    def name(self, tenant_id: str) -> str:
        return f"{self._prefix}{tenant_id}"

    def _boto(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("secretsmanager")
        return self._client

    def read(self, tenant_id: str) -> dict[str, str]:
        now = self._clock()
        cached = self._cache.get(tenant_id)
        if cached is not None and now - cached[0] < self._max_age:
            return cached[1]
        from aws_lambda_powertools.utilities import parameters

        try:
            document = parameters.get_secret(self.name(tenant_id), transform="json", force_fetch=True)
        except parameters.exceptions.GetParameterError as exc:
            if "ResourceNotFoundException" not in str(exc) and "can't find" not in str(exc).lower():
                raise
            document = {}
        values = _values(document)
        with self._lock:
            self._cache[tenant_id] = (now, values)
        return values

    def write(self, tenant_id: str, changes: Mapping[str, str | None]) -> list[str]:
        client = self._boto()
        name = self.name(tenant_id)
        try:
            current = _values(json.loads(client.get_secret_value(SecretId=name)["SecretString"]))
            exists = True
        except client.exceptions.ResourceNotFoundException:
            current, exists = {}, False
        merged = _merged(current, changes)
        text = json.dumps(merged, sort_keys=True)
        if exists:
            client.put_secret_value(SecretId=name, SecretString=text)
        else:
            client.create_secret(
                Name=name, SecretString=text, Description=f"Mostrador: tokens and keys of tenant {tenant_id}"
            )
        with self._lock:
            self._cache.pop(tenant_id, None)
        return sorted(merged)


_store: tuple[tuple[str | None, str | None], TenantSecretStore] | None = None


def tenant_secret_store(settings: Settings) -> TenantSecretStore:
    """This deployment's store (one per process)."""
    global _store
    key = (settings.mostrador_tenant_secret_prefix, settings.mostrador_tenant_secrets_dir)
    if _store is None or _store[0] != key:
        store: TenantSecretStore
        if settings.mostrador_tenant_secret_prefix:
            store = SecretsManagerTenantSecrets(settings.mostrador_tenant_secret_prefix)
        elif settings.mostrador_tenant_secrets_dir:
            store = FileTenantSecrets(settings.mostrador_tenant_secrets_dir)
        else:
            store = NoTenantSecrets()
        _store = (key, store)
    return _store[1]


def reset_tenant_secret_store() -> None:
    global _store
    _store = None
