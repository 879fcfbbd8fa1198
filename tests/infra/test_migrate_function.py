"""The function the deploy runs: applies the migrations to an empty database, then is a no-op."""

from __future__ import annotations

import json
import uuid

import pytest

from local.lambda_context import LambdaContext


@pytest.fixture
def empty_database(pg_server, monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"mostrador_migrate_{uuid.uuid4().hex[:8]}"
    pg_server.psql(f"CREATE DATABASE {name};")
    url = pg_server.get_uri(name)
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def test_migrate_applies_every_migration_once(empty_database: str) -> None:
    from functions.migrate.handler import handler
    from mostrador.db.connection import connect
    from mostrador.db.migrate import migration_files

    first = handler({}, LambdaContext("migrate"))
    assert first["applied"] == [name for name, _ in migration_files()]
    assert first["applied"][0] == "001_catalog.sql"
    with connect(empty_database) as conn:
        extensions = {row["extname"] for row in conn.execute("SELECT extname FROM pg_extension")}
        tables = {row["tablename"] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname='public'")}
    assert "vector" in extensions
    assert {"products", "syncs", "schema_migrations"} <= tables

    assert handler({}, LambdaContext("migrate")) == {"applied": []}


def test_migrate_fails_the_deploy_without_a_database(monkeypatch: pytest.MonkeyPatch) -> None:
    from functions.migrate.handler import handler

    for name in ("DATABASE_URL", "DATABASE_SECRET_ARN", "MOSTRADOR_SECRET_ARN"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError, match="DATABASE_SECRET_ARN"):
        handler({}, LambdaContext("migrate"))


def _scram_matches(verifier: str, password: str) -> bool:
    """Whether PostgreSQL's stored SCRAM-SHA-256 verifier was made from `password` (RFC 5802 / 7677)."""
    import base64
    import hashlib
    import hmac

    method, rest = verifier.split("$", 1)
    iterations_salt, keys = rest.split("$")
    iterations, salt = iterations_salt.split(":")
    stored_key = base64.b64decode(keys.split(":")[0])
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return method == "SCRAM-SHA-256" and hashlib.sha256(client_key).digest() == stored_key


def test_migrate_creates_the_functions_role_with_row_rights_only(
    empty_database: str, pg_server, secrets_manager, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    from functions.migrate.handler import handler
    from mostrador.db.connection import connect

    role = f"mostrador_app_{uuid.uuid4().hex[:6]}"
    secret = secrets_manager.create_secret(
        Name=f"mostrador-test/database-app-{role}",
        SecretString=json.dumps({"username": role, "password": "first-Password-0001"}),
    )
    monkeypatch.setenv("DATABASE_APP_SECRET_ARN", secret["ARN"])

    assert handler({}, LambdaContext("migrate"))["appRole"] == role

    def stored_verifier() -> str:
        with connect(empty_database) as conn:
            row = conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", (role,)).fetchone()
        assert row is not None
        return str(row["rolpassword"])

    assert _scram_matches(stored_verifier(), "first-Password-0001")
    assert "first-Password-0001" not in stored_verifier()

    # The functions' connection: rows yes (sequences included), schema no.
    as_role = empty_database.replace("postgres:@", f"{role}:@", 1)
    with connect(as_role) as conn:
        conn.execute("INSERT INTO syncs (tenant_id, sync_id) VALUES ('t', 's1')")
        conn.execute("UPDATE syncs SET full_sync = true WHERE sync_id = 's1'")
        conn.execute("INSERT INTO llm_usage (tenant_id, provider, model, purpose) VALUES ('t', 'openai', 'm', 'reply')")
        assert conn.execute("SELECT count(*) AS n FROM syncs").fetchone()["n"] == 1
        conn.execute("DELETE FROM syncs WHERE sync_id = 's1'")
        # The audit log is append-only for the functions.
        conn.execute(
            "INSERT INTO audit_log (tenant_id, actor, actor_role, action, method, route, status)"
            " VALUES ('t', 'ana', 'agent', 'take_over', 'POST', '/admin/x', 200)"
        )
        assert conn.execute("SELECT count(*) AS n FROM audit_log").fetchone()["n"] == 1
        for change in ("UPDATE audit_log SET actor = 'nadie'", "DELETE FROM audit_log"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(change)
        for ddl in (
            "CREATE TABLE intruder (i int)",
            "DROP TABLE syncs",
            "TRUNCATE syncs",
            "ALTER TABLE syncs ADD x int",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(ddl)

    # A later migration's table (created by the master user) is covered by the default privileges.
    with connect(empty_database) as conn:
        conn.execute("CREATE TABLE later_table (id bigserial PRIMARY KEY, v text)")
    with connect(as_role) as conn:
        conn.execute("INSERT INTO later_table (v) VALUES ('x')")

    # A new password in the secret (rotation by hand) takes effect on the next deploy's run.
    secrets_manager.put_secret_value(
        SecretId=secret["ARN"], SecretString=json.dumps({"username": role, "password": "second-Password-0002"})
    )
    from aws_lambda_powertools.utilities.parameters import clear_caches

    clear_caches()
    assert handler({}, LambdaContext("migrate")) == {"applied": [], "appRole": role}
    assert _scram_matches(stored_verifier(), "second-Password-0002")
