"""The function the deploy runs: applies the migrations to an empty database, then is a no-op."""

from __future__ import annotations

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
