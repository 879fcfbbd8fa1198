"""Which tenant an inbound event or an ingest request belongs to, decided without the database.

The webhook and ingest functions must start fast (no psycopg), so they read a *routing document*
that the admin API, the CLI and every deploy publish from the database (the source of truth) whenever
tenants change: on AWS a Secrets Manager secret read through Powertools parameters (cached
MAX_AGE_SECONDS; an id not found forces a re-read at most every REFRESH_SECONDS, so a channel added
a moment ago is found), locally a JSON file in the data folder (re-read when it changes).

    {"format": 1, "generatedAt": "...", "unroutedTenant": null,
     "tenants": {"acme": {"whatsapp": ["1065…"], "messenger": ["PAGE"], "instagram": ["IG"],
                          "webchat": ["wk_…"], "ingest": ["<hash>"], "support_board": ["<hash>"]}}}

Channel ids are stored as they are (they are not secret); keys only as the first 96 bits of their
SHA-256 (base64url, 16 characters). Only active tenants are listed. `unroutedTenant` names the tenant of an
upgraded single-tenant deployment that still answers ids nobody claims (docs/tenants.md).

With neither a file nor a secret configured the deployment is single-tenant, as before tenants
existed: every event and the INGEST_API_KEY belong to TENANT_ID.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from mostrador.config import Settings

RoutedChannel = Literal["whatsapp", "messenger", "instagram", "webchat"]
KeyKind = Literal["ingest", "support_board"]
ROUTED_CHANNELS: tuple[RoutedChannel, ...] = ("whatsapp", "messenger", "instagram", "webchat")
KEY_KINDS: tuple[KeyKind, ...] = ("ingest", "support_board")
FORMAT = 1
# 96 bits of SHA-256 per key: no two of a deployment's keys collide, a wrong key matches one with a chance
# of one in 2**96 / keys per try, and a secret (64 KB) holds about 300 tenants (docs/tenants.md, limits).
HASH_BYTES = 12
MAX_AGE_SECONDS = 60.0
REFRESH_SECONDS = 1.0
# Secrets Manager holds at most 65,536 bytes per value.
MAX_DOCUMENT_BYTES = 65_536


def key_hash(key: str) -> str:
    """The full SHA-256 (hex) of a key, as the database stores it."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _short(full_hash: str) -> str:
    return base64.urlsafe_b64encode(bytes.fromhex(full_hash)[:HASH_BYTES]).decode("ascii")


@dataclass(frozen=True)
class RoutingTable:
    channels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # channel → id → tenant
    keys: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # kind → short hash → tenant
    unrouted_tenant: str | None = None
    # False when the configured document could not be read (every id is then unknown).
    published: bool = True

    def claimed(self, channel: str, channel_id: str) -> str | None:
        return self.channels.get(channel, {}).get(channel_id)

    def key_tenant(self, kind: KeyKind, key: str) -> str | None:
        return self.keys.get(kind, {}).get(_short(key_hash(key))) if key else None

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> RoutingTable:
        if document.get("format") != FORMAT or not isinstance(document.get("tenants"), Mapping):
            raise ValueError(f"routing document of an unknown format {document.get('format')!r} (expected {FORMAT})")
        channels: dict[str, dict[str, str]] = {name: {} for name in ROUTED_CHANNELS}
        keys: dict[str, dict[str, str]] = {kind: {} for kind in KEY_KINDS}
        for tenant, owned in document["tenants"].items():
            for name in ROUTED_CHANNELS:
                for channel_id in owned.get(name, ()):
                    channels[name][str(channel_id)] = tenant
            for kind in KEY_KINDS:
                for short in owned.get(kind, ()):
                    keys[kind][str(short)] = tenant
        unrouted = document.get("unroutedTenant")
        return cls(channels, keys, unrouted if isinstance(unrouted, str) and unrouted else None)

    @classmethod
    def single_tenant(cls, settings: Settings) -> RoutingTable:
        """No document: the deployment's one tenant owns every id and the deployment's keys."""
        keys: dict[str, dict[str, str]] = {kind: {} for kind in KEY_KINDS}
        for kind, name in (("ingest", "ingest_api_key"), ("support_board", "support_board_webhook_secret")):
            if secret := settings.secret(name):
                keys[kind][_short(key_hash(secret))] = settings.tenant_id
        return cls({}, keys, settings.tenant_id)

    @classmethod
    def unpublished(cls) -> RoutingTable:
        return cls(published=False)


def build_document(
    tenants: Iterable[Mapping[str, Any]],
    channels: Iterable[Mapping[str, Any]],
    keys: Iterable[Mapping[str, Any]],
    *,
    generated_at: datetime | None = None,
) -> dict[str, Any]:
    """The document for the active tenants among `tenants` (rows of db/tenant_repository.routing_rows)."""
    active = {row["tenant_id"]: row for row in tenants if row["active"]}
    owned: dict[str, dict[str, list[str]]] = {tenant: {} for tenant in sorted(active)}
    for row in sorted(channels, key=lambda r: (r["channel"], r["channel_key"])):
        if row["tenant_id"] in owned:
            owned[row["tenant_id"]].setdefault(row["channel"], []).append(row["channel_key"])
    for row in sorted(keys, key=lambda r: (r["kind"], r["key_hash"])):
        if row["tenant_id"] in owned and row.get("revoked_at") is None:
            owned[row["tenant_id"]].setdefault(row["kind"], []).append(_short(row["key_hash"]))
    claiming = [tenant for tenant, row in active.items() if row.get("claims_unrouted")]
    # Only while it is the one active tenant: with two, an unclaimed id could be either's.
    unrouted = claiming[0] if len(claiming) == 1 and len(active) == 1 else None
    return {
        "format": FORMAT,
        "generatedAt": (generated_at or datetime.now(UTC)).isoformat(),
        "unroutedTenant": unrouted,
        "tenants": owned,
    }


def serialize(document: Mapping[str, Any]) -> str:
    text = json.dumps(document, separators=(",", ":"), sort_keys=True)
    if len(text.encode("utf-8")) > MAX_DOCUMENT_BYTES:
        raise ValueError(
            f"the routing document is {len(text)} bytes, over the {MAX_DOCUMENT_BYTES} a secret holds: "
            "revoke unused keys, or split the tenants over two deployments (docs/tenants.md, limits)"
        )
    return text


# -- reading ---------------------------------------------------------------------------------------


class RoutingSource(Protocol):
    def table(self, *, refresh: bool = False) -> RoutingTable:
        """The current table; `refresh` asks for a fresh read (an id was not found)."""
        ...


class StaticRouting:
    def __init__(self, table: RoutingTable) -> None:
        self._table = table

    def table(self, *, refresh: bool = False) -> RoutingTable:
        return self._table


def _parse(text: str) -> RoutingTable:
    document = json.loads(text)
    if not isinstance(document, Mapping):
        raise ValueError("routing document is not a JSON object")
    return RoutingTable.from_document(document)


class FileRouting:
    """The local stack's document: re-read whenever the file changes (one stat per request)."""

    def __init__(self, path: str | Path, on_error: Callable[[str], None] | None = None) -> None:
        self._path = Path(path)
        self._seen: tuple[int, int] | None = None
        self._table = RoutingTable.unpublished()
        self._on_error = on_error

    def table(self, *, refresh: bool = False) -> RoutingTable:
        try:
            stat = self._path.stat()
        except FileNotFoundError:
            if self._seen != (0, 0) and self._on_error:
                self._on_error(f"routing document {self._path} does not exist: every event is unrouted")
            self._seen, self._table = (0, 0), RoutingTable.unpublished()
            return self._table
        version = (stat.st_mtime_ns, stat.st_size)
        if version != self._seen:
            try:
                self._table = _parse(self._path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                if self._on_error:
                    self._on_error(f"routing document {self._path} unreadable: {exc}")
                self._table = RoutingTable.unpublished()
            self._seen = version
        return self._table


class SecretRouting:
    """The deployed document: a Secrets Manager secret, cached MAX_AGE_SECONDS per execution environment."""

    def __init__(
        self,
        secret_id: str,
        *,
        max_age: float = MAX_AGE_SECONDS,
        refresh_interval: float = REFRESH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self._secret_id = secret_id
        self._max_age = max_age
        self._refresh_interval = refresh_interval
        self._clock = clock
        self._on_error = on_error
        self._fetched_at: float | None = None
        self._table = RoutingTable.unpublished()
        self._lock = threading.Lock()

    def table(self, *, refresh: bool = False) -> RoutingTable:
        now = self._clock()
        age = None if self._fetched_at is None else now - self._fetched_at
        if age is not None and age < self._max_age and not (refresh and age >= self._refresh_interval):
            return self._table
        with self._lock:
            from aws_lambda_powertools.utilities import parameters

            try:
                text = parameters.get_secret(self._secret_id, force_fetch=True)
                self._table = _parse(text if isinstance(text, str) else text.decode("utf-8"))
            except Exception as exc:  # any read failure: keep the last good table, try again soon
                if self._on_error:
                    self._on_error(f"routing document unreadable ({type(exc).__name__}): {str(exc)[:200]}")
                if self._fetched_at is None:
                    self._table = RoutingTable.unpublished()
                # Retry after the refresh interval rather than hammering a failing endpoint.
                self._fetched_at = now - self._max_age + self._refresh_interval
                return self._table
            self._fetched_at = now
        return self._table


_source: tuple[tuple[str | None, ...], RoutingSource] | None = None


def routing_source(settings: Settings, on_error: Callable[[str], None] | None = None) -> RoutingSource:
    """The source this deployment routes with (one per process, rebuilt when the settings name another)."""
    global _source
    key = (
        settings.mostrador_routing_file,
        settings.mostrador_routing_secret_arn,
        settings.tenant_id,
        settings.secret("ingest_api_key"),
        settings.secret("support_board_webhook_secret"),
    )
    if _source is None or _source[0] != key:
        source: RoutingSource
        if settings.mostrador_routing_secret_arn:
            source = SecretRouting(settings.mostrador_routing_secret_arn, on_error=on_error)
        elif settings.mostrador_routing_file:
            source = FileRouting(settings.mostrador_routing_file, on_error=on_error)
        else:
            source = StaticRouting(RoutingTable.single_tenant(settings))
        _source = (key, source)
    return _source[1]


def reset_routing_source() -> None:
    global _source
    _source = None


def channel_tenant(source: RoutingSource, channel: RoutedChannel, channel_id: str) -> str | None:
    """The tenant owning `channel_id`; else the tenant answering unclaimed ids; else None (drop it)."""
    table = source.table()
    found = table.claimed(channel, channel_id)
    if found is None:
        table = source.table(refresh=True)
        found = table.claimed(channel, channel_id)
    return found or table.unrouted_tenant


def key_tenant(source: RoutingSource, kind: KeyKind, key: str | None) -> str | None:
    """The tenant a secret key belongs to, or None (a wrong or revoked key)."""
    if not key:
        return None
    found = source.table().key_tenant(kind, key)
    if found is None:
        found = source.table(refresh=True).key_tenant(kind, key)
    return found


# -- publishing ------------------------------------------------------------------------------------


class RoutingPublisher(Protocol):
    def publish(self, text: str) -> None: ...

    @property
    def where(self) -> str: ...


class FilePublisher:
    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)

    @property
    def where(self) -> str:
        return str(self._path)

    def publish(self, text: str) -> None:
        # Written beside and renamed over: a reader never sees half a document.
        self._path.parent.mkdir(parents=True, exist_ok=True)
        partial = self._path.with_name(f".{self._path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, self._path)


class SecretPublisher:
    def __init__(self, secret_id: str, client: Any = None) -> None:
        self._secret_id = secret_id
        self._client = client

    @property
    def where(self) -> str:
        return self._secret_id

    def publish(self, text: str) -> None:
        if self._client is None:
            import boto3

            self._client = boto3.client("secretsmanager")
        self._client.put_secret_value(SecretId=self._secret_id, SecretString=text)


def routing_publisher(settings: Settings) -> RoutingPublisher | None:
    """Where this deployment publishes its routing document; None for a single-tenant deployment."""
    if settings.mostrador_routing_secret_arn:
        return SecretPublisher(settings.mostrador_routing_secret_arn)
    if settings.mostrador_routing_file:
        return FilePublisher(settings.mostrador_routing_file)
    return None
