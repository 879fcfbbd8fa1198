"""Applies the numbered SQL files in ./migrations once each, in order, under an advisory lock."""

from __future__ import annotations

from importlib import resources

from mostrador.config import get_settings
from mostrador.db.connection import SessionLimits, connect
from mostrador.db.role_repository import ensure_app_role

_LOCK_KEY = 727_100_001  # any constant; serializes concurrent deploys/test sessions


def migration_files() -> list[tuple[str, str]]:
    folder = resources.files("mostrador.db") / "migrations"
    files = sorted((p for p in folder.iterdir() if p.name.endswith(".sql")), key=lambda p: p.name)
    return [(p.name, p.read_text(encoding="utf-8")) for p in files]


def apply_migrations(url: str) -> list[str]:
    """Apply pending migrations; returns the names applied now."""
    applied_now: list[str] = []
    with connect(url, SessionLimits.for_migrations(get_settings())) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {row["name"] for row in conn.execute("SELECT name FROM schema_migrations")}
            for name, sql in migration_files():
                if name in done:
                    continue
                with conn.transaction():
                    conn.execute(sql.encode())  # trusted files shipped with the package
                    conn.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (name,))
                applied_now.append(name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return applied_now


def grant_app_role(url: str, role: str, password: str) -> None:
    """Create or update the functions' database role (AWS); connected as the master user at `url`."""
    with connect(url) as conn:
        ensure_app_role(conn, role, password)
