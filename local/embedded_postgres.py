"""The embedded PostgreSQL (pgserver: PostgreSQL 16 with pgvector) used by the local stack, tests and benches."""

from __future__ import annotations

import subprocess
import warnings
from pathlib import Path
from typing import Any

START_ATTEMPTS = 4
LOCAL_DATABASE = "mostrador"


def _pgserver() -> Any:
    # pgserver keeps its lock file in the user's runtime folder. Without XDG_RUNTIME_DIR (a container, an
    # ssh or sudo session) platformdirs warns at import and falls back to /tmp/runtime-<uid>, which works:
    # the warning only says so at every start.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import pgserver

    return pgserver


def start_embedded_postgres(data_dir: Path | str, *, cleanup_mode: str | None = "stop") -> Any:
    """Start (or reuse) the server whose data lives in `data_dir`.

    pgserver gives `pg_ctl start -w` ten seconds; on a busy machine the server is often up a moment
    after that. Asking again finds it running (or starts it), so a slow start is not a failure.
    """
    pgserver = _pgserver()
    for attempt in range(1, START_ATTEMPTS + 1):
        try:
            return pgserver.get_server(str(data_dir), cleanup_mode=cleanup_mode)
        except subprocess.TimeoutExpired:
            if attempt == START_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def start_local_database(pg_dir: Path) -> tuple[Any, str]:
    """The local stack's server in `pg_dir` (started, or shared when a running stack already has it) with
    its `mostrador` database created if missing, and that database's URL. `server.cleanup()` stops the
    server only when no other process still uses it."""
    from mostrador.db.connection import connect

    server = start_embedded_postgres(pg_dir)
    with connect(server.get_uri("postgres")) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (LOCAL_DATABASE,)).fetchone()
        if not exists:
            conn.execute(f"CREATE DATABASE {LOCAL_DATABASE}")
    return server, str(server.get_uri(LOCAL_DATABASE))
