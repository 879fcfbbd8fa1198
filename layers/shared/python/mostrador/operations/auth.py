"""Who is calling the admin API, for which tenant, and what they may do (docs/admin.md, "Roles and tokens").

A caller is a Principal: a subject (the person or system holding the token), a role and, for everyone but a
deployment operator, the one tenant the token belongs to. Routes ask for permissions, never for roles or
tokens; ROLE_PERMISSIONS says which role holds which.

Two authenticators, tried in order:
* ADMIN_TOKEN (Secrets Manager on AWS): the deployment's own operator token, kept so existing deployments
  work untouched. Compared in constant time, no database involved.
* Tokens created through the API (`mst_...`): looked up by a keyed hash (HMAC-SHA256 under
  ADMIN_TOKEN_HASH_KEY) in the admin_tokens table, and remembered for TOKEN_CACHE_SECONDS per execution
  environment, so a console polling every few seconds costs one lookup per period, not one per call.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from mostrador.operations.errors import Forbidden

if TYPE_CHECKING:
    from mostrador.config import Settings


class Role(StrEnum):
    OPERATOR = "operator"  # the deployment: every tenant, and tenants themselves
    OWNER = "owner"  # everything for one tenant, its settings, keys and tokens included
    AGENT = "agent"  # one tenant's conversations: read, take over, answer, resolve escalations, suggestions
    VIEWER = "viewer"  # one tenant, read only


class Permission(StrEnum):
    READ_CONVERSATIONS = "read_conversations"  # lists, transcripts, customer status, escalations
    STEER_CONVERSATIONS = "steer_conversations"  # takeover, resume, reset, resolve escalations
    VIEW_ANALYTICS = "view_analytics"  # analytics, syncs, model prices and search synonyms (read)
    EXPORT = "export"  # every message of a date range as a file
    REPLY_TO_CUSTOMERS = "reply_to_customers"  # write to a customer as a person (the console's composer)
    VIEW_CUSTOMER_CONTACT = "view_customer_contact"  # customer phone numbers / ids unmasked in the console
    CONFIGURE = "configure"  # model prices, search synonyms
    MANAGE_KNOWLEDGE = "manage_knowledge"  # upload, change, delete knowledge
    REVIEW_SUGGESTIONS = "review_suggestions"  # approve or discard the FAQ entries resolved escalations suggest
    MANAGE_TOKENS = "manage_tokens"  # create, list and revoke the tenant's admin tokens
    VIEW_AUDIT = "view_audit"  # read the audit log
    MANAGE_TENANT_SETTINGS = "manage_tenant_settings"  # the tenant's own settings and keys
    # Deployment level: create tenants, route channel ids to them, publish the routing document; operator tokens.
    MANAGE_TENANTS = "manage_tenants"


_VIEWER = frozenset({Permission.READ_CONVERSATIONS, Permission.VIEW_ANALYTICS})
_AGENT = _VIEWER | {Permission.STEER_CONVERSATIONS, Permission.REPLY_TO_CUSTOMERS, Permission.REVIEW_SUGGESTIONS}
ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.VIEWER: _VIEWER,
    Role.AGENT: _AGENT,
    Role.OWNER: frozenset(Permission) - {Permission.MANAGE_TENANTS},
    Role.OPERATOR: frozenset(Permission),
}
# Permissions that act on the deployment rather than on one tenant (their audit entries carry no tenant).
DEPLOYMENT_PERMISSIONS = frozenset({Permission.MANAGE_TENANTS})


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    # The tenant the token belongs to; None for a deployment operator, who names the tenant per request.
    tenant_id: str | None = None
    token_id: int | None = None  # None for ADMIN_TOKEN

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    @property
    def permissions(self) -> list[str]:
        return sorted(permission.value for permission in ROLE_PERMISSIONS[self.role])


def missing_permission_message(principal: Principal, permission: Permission, what: str) -> str:
    return f"{what} needs the permission '{permission.value}', which the role '{principal.role.value}' does not have."


def permission_to_grant(role: Role) -> Permission:
    """What a caller needs to create (or revoke) a token of `role`: operator tokens are the deployment's."""
    return Permission.MANAGE_TENANTS if role is Role.OPERATOR else Permission.MANAGE_TOKENS


def acting_tenant(principal: Principal, named: str | None, default_tenant: str) -> str:
    """The tenant a request acts on. A tenant's token acts on its own tenant only (naming another is refused);
    an operator acts on the tenant it names (X-Tenant), or the deployment's default tenant when it names none,
    so ADMIN_TOKEN keeps working on a single-tenant deployment exactly as before."""
    if principal.tenant_id is None:
        return named or default_tenant
    if named is not None and named != principal.tenant_id:
        raise Forbidden(
            f"this token belongs to tenant '{principal.tenant_id}' and cannot act on tenant '{named}' "
            "(only an operator may name another tenant, in X-Tenant or a /admin/tenants/{id} path)."
        )
    return principal.tenant_id


# -- token material ----------------------------------------------------------------------------------

TOKEN_PREFIX = "mst_"  # noqa: S105 - not a secret; says what a leaked string is (secret scanners, logs) and skips lookups of others
SHOWN_PREFIX_LENGTH = 12  # "mst_" + 8 random characters: enough to tell tokens apart, useless to guess with
TOKEN_CACHE_SECONDS = 30.0


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)  # 256 random bits


def token_hash(key: str, token: str) -> bytes:
    return hmac.new(key.encode(), token.encode(), hashlib.sha256).digest()


def shown_prefix(token: str) -> str:
    return token[:SHOWN_PREFIX_LENGTH]


@dataclass(frozen=True)
class StoredToken:
    id: int
    name: str
    role: str
    tenant_id: str | None
    expires_at: datetime | None


class TokenStore(Protocol):
    def find_active(self, token_hash: bytes) -> StoredToken | None:
        """The token with this hash if it is neither revoked nor expired (and note that it was used)."""
        ...


class TokenLookupFailed(Exception):
    """The token store could not be asked (database down): the caller is neither admitted nor refused."""


class TokenCache:
    """Principals of recently seen tokens, by hash, per execution environment. An entry lives
    TOKEN_CACHE_SECONDS (or until the token expires, if sooner), so a revocation made elsewhere takes effect
    within that time; one made in this environment takes effect at once (forget_token). Unknown tokens are
    not remembered: a token created a moment ago elsewhere must work at its first use here."""

    def __init__(self, ttl_seconds: float = TOKEN_CACHE_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        self._entries: dict[bytes, tuple[float, datetime | None, Principal]] = {}
        self._lock = threading.Lock()

    def get(self, key: bytes, now: datetime) -> Principal | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            fresh_until, expires_at, principal = entry
            if self.clock() >= fresh_until or (expires_at is not None and now >= expires_at):
                del self._entries[key]
                return None
            return principal

    def put(self, key: bytes, principal: Principal, expires_at: datetime | None) -> None:
        with self._lock:
            self._entries[key] = (self.clock() + self.ttl_seconds, expires_at, principal)

    def forget_token(self, token_id: int) -> None:
        with self._lock:
            for key in [k for k, (_, _, p) in self._entries.items() if p.token_id == token_id]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


TOKEN_CACHE = TokenCache()


class Authenticator(Protocol):
    def authenticate(self, token: str) -> Principal | None: ...


class StaticTokenAuthenticator:
    """Fixed tokens, each for one principal. Every token is compared in constant time, and all of
    them are compared, so the answer time does not tell which one (or how much of one) matched."""

    def __init__(self, tokens: Mapping[str, Principal]) -> None:
        self._tokens = [(token.encode(), principal) for token, principal in tokens.items() if token]

    def authenticate(self, token: str) -> Principal | None:
        given = token.encode()
        found: Principal | None = None
        for expected, principal in self._tokens:
            if hmac.compare_digest(given, expected) and found is None:
                found = principal
        return found

    @classmethod
    def from_settings(cls, settings: Settings) -> StaticTokenAuthenticator:
        """ADMIN_TOKEN is the deployment's operator (subject "admin", as audit rows before roles say)."""
        token = settings.secret("admin_token")
        return cls({token: Principal("admin", Role.OPERATOR)} if token else {})

    @property
    def configured(self) -> bool:
        return bool(self._tokens)


class DatabaseTokenAuthenticator:
    """Tokens created through the admin API, found by their keyed hash."""

    def __init__(
        self,
        hash_key: str,
        store: TokenStore,
        cache: TokenCache = TOKEN_CACHE,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self._key = hash_key
        self._store = store
        self._cache = cache
        self._now = now or _utc_now

    def authenticate(self, token: str) -> Principal | None:
        if not token.startswith(TOKEN_PREFIX):
            return None
        key = token_hash(self._key, token)
        now = self._now()
        cached = self._cache.get(key, now)
        if cached is not None:
            return cached
        try:
            stored = self._store.find_active(key)
        except Exception as error:
            raise TokenLookupFailed(type(error).__name__) from error
        if stored is None:
            return None
        principal = Principal(stored.name, Role(stored.role), stored.tenant_id, stored.id)
        self._cache.put(key, principal, stored.expires_at)
        return principal


class ChainedAuthenticator:
    """The first authenticator that knows the token wins."""

    def __init__(self, *authenticators: Authenticator) -> None:
        self._authenticators = authenticators

    def authenticate(self, token: str) -> Principal | None:
        for authenticator in self._authenticators:
            principal = authenticator.authenticate(token)
            if principal is not None:
                return principal
        return None


def _utc_now() -> datetime:
    from datetime import UTC

    return datetime.now(UTC)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header (scheme case-insensitive)."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def authenticate(authorization: str | None, authenticator: Authenticator) -> Principal | None:
    token = bearer_token(authorization)
    return authenticator.authenticate(token) if token is not None else None
