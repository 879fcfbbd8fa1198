"""Roles, tenants and the token cache of mostrador.operations.auth, on their own (the admin API's use of
them runs against PostgreSQL in tests/integration/test_admin_access.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mostrador.operations.auth import (
    ROLE_PERMISSIONS,
    TOKEN_PREFIX,
    DatabaseTokenAuthenticator,
    Permission,
    Principal,
    Role,
    StoredToken,
    TokenCache,
    TokenLookupFailed,
    acting_tenant,
    new_token,
    token_hash,
)
from mostrador.operations.errors import Forbidden


def test_each_role_holds_everything_of_the_one_below_and_only_the_operator_manages_tenants():
    viewer, agent, owner, operator = (ROLE_PERMISSIONS[r] for r in (Role.VIEWER, Role.AGENT, Role.OWNER, Role.OPERATOR))
    assert viewer < agent < owner < operator == frozenset(Permission)
    assert operator - owner == {Permission.MANAGE_TENANTS}
    assert viewer == {Permission.READ_CONVERSATIONS, Permission.VIEW_ANALYTICS}
    assert agent - viewer == {
        Permission.STEER_CONVERSATIONS,
        Permission.REPLY_TO_CUSTOMERS,
        Permission.REVIEW_SUGGESTIONS,
    }


def test_a_tenant_token_acts_on_its_own_tenant_and_an_operator_on_the_one_it_names():
    agent = Principal("ana", Role.AGENT, "norte", 7)
    assert acting_tenant(agent, None, "default") == "norte"
    assert acting_tenant(agent, "norte", "default") == "norte"
    with pytest.raises(Forbidden, match="belongs to tenant 'norte' and cannot act on tenant 'sur'"):
        acting_tenant(agent, "sur", "default")
    operator = Principal("admin", Role.OPERATOR)
    assert acting_tenant(operator, None, "default") == "default"
    assert acting_tenant(operator, "sur", "default") == "sur"


def test_tokens_are_random_prefixed_and_hashed_under_the_key():
    first, second = new_token(), new_token()
    assert first != second and first.startswith(TOKEN_PREFIX) and len(first) == len(TOKEN_PREFIX) + 43
    assert token_hash("k1", first) == token_hash("k1", first) != token_hash("k2", first)
    assert len(token_hash("k1", first)) == 32


class Table:
    """The admin_tokens table as the authenticator sees it (a stand-in for the database)."""

    def __init__(self, *tokens: tuple[str, StoredToken]) -> None:
        self.rows = {token_hash("key", secret): stored for secret, stored in tokens}
        self.lookups = 0
        self.down = False

    def find_active(self, key: bytes) -> StoredToken | None:
        self.lookups += 1
        if self.down:
            raise OSError("connection refused")
        return self.rows.get(key)


def test_a_token_is_looked_up_once_per_period_and_never_past_its_expiry():
    now = [datetime(2026, 11, 1, 12, 0, tzinfo=UTC)]
    tick = [0.0]
    secret = new_token()
    table = Table((secret, StoredToken(3, "ana", "agent", "norte", now[0] + timedelta(minutes=5))))
    cache = TokenCache(ttl_seconds=30, clock=lambda: tick[0])
    authenticator = DatabaseTokenAuthenticator("key", table, cache, now=lambda: now[0])

    assert authenticator.authenticate(secret) == Principal("ana", Role.AGENT, "norte", 3)
    tick[0] = 29.9
    assert authenticator.authenticate(secret) is not None and table.lookups == 1
    tick[0] = 30.0
    assert authenticator.authenticate(secret) is not None and table.lookups == 2
    cache.forget_token(3)  # revoked in this environment
    del table.rows[token_hash("key", secret)]
    assert authenticator.authenticate(secret) is None and table.lookups == 3

    expiring = new_token()
    table.rows[token_hash("key", expiring)] = StoredToken(4, "eva", "viewer", "norte", now[0] + timedelta(seconds=10))
    assert authenticator.authenticate(expiring) is not None
    now[0] += timedelta(seconds=10)
    del table.rows[token_hash("key", expiring)]  # the table's own expiry check would now refuse it too
    assert authenticator.authenticate(expiring) is None  # the cache does not outlive the expiry


def test_unknown_and_foreign_tokens_are_not_remembered_or_looked_up():
    table = Table()
    authenticator = DatabaseTokenAuthenticator("key", table, TokenCache())
    assert authenticator.authenticate("not-one-of-ours") is None and table.lookups == 0
    unknown = new_token()
    assert authenticator.authenticate(unknown) is None
    table.rows[token_hash("key", unknown)] = StoredToken(9, "new", "owner", "sur", None)
    assert authenticator.authenticate(unknown) is not None  # created meanwhile: works at its first use
    table.down = True
    with pytest.raises(TokenLookupFailed):
        authenticator.authenticate(new_token())
