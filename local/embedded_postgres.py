"""The embedded PostgreSQL (pgserver: PostgreSQL 16 with pgvector) used by the local stack, tests and benches."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

START_ATTEMPTS = 4


def start_embedded_postgres(data_dir: Path | str, *, cleanup_mode: str | None = "stop") -> Any:
    """Start (or reuse) the server whose data lives in `data_dir`.

    pgserver gives `pg_ctl start -w` ten seconds; on a busy machine the server is often up a moment
    after that. Asking again finds it running (or starts it), so a slow start is not a failure.
    """
    import pgserver

    for attempt in range(1, START_ATTEMPTS + 1):
        try:
            return pgserver.get_server(str(data_dir), cleanup_mode=cleanup_mode)
        except subprocess.TimeoutExpired:
            if attempt == START_ATTEMPTS:
                raise
    raise AssertionError("unreachable")
