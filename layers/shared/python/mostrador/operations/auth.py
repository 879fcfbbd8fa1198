"""Who is calling the admin API and what they may do.

Today one bearer token (ADMIN_TOKEN; from Secrets Manager on AWS) authenticates one principal with
the admin role. The shape is ready for per-user access: an Authenticator that looks tokens up (or
verifies a JWT) returns Principals with their own subject and role, and routes ask for permissions,
never for a particular token. A support agent steers conversations; only an admin sees analytics,
exports data or changes prices.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from mostrador.config import Settings


class Role(StrEnum):
    SUPPORT_AGENT = "support_agent"
    ADMIN = "admin"


class Permission(StrEnum):
    READ_CONVERSATIONS = "read_conversations"  # lists, transcripts, customer status, escalations
    STEER_CONVERSATIONS = "steer_conversations"  # takeover, resume, reset, resolve escalations
    VIEW_ANALYTICS = "view_analytics"
    EXPORT = "export"
    REPLY_TO_CUSTOMERS = "reply_to_customers"  # write to a customer as a person (the console's composer)
    VIEW_CUSTOMER_CONTACT = "view_customer_contact"  # customer phone numbers / ids unmasked in the console
    CONFIGURE = "configure"  # model prices
    MANAGE_KNOWLEDGE = "manage_knowledge"  # upload, change, delete knowledge; approve suggestions
    # Deployment level: create tenants, route channel ids to them, publish the routing document (/admin/tenants).
    MANAGE_TENANTS = "manage_tenants"


ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.SUPPORT_AGENT: frozenset(
        {Permission.READ_CONVERSATIONS, Permission.STEER_CONVERSATIONS, Permission.REPLY_TO_CUSTOMERS}
    ),
    Role.ADMIN: frozenset(Permission),
}


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]


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
        token = settings.secret("admin_token")
        return cls({token: Principal("admin", Role.ADMIN)} if token else {})

    @property
    def configured(self) -> bool:
        return bool(self._tokens)


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
