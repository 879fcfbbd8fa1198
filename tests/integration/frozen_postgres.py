"""A hung database, for tests: SIGSTOP to a PostgreSQL server's postmaster and every one of its backends,
SIGCONT afterwards. The kernel still accepts connections and acknowledges bytes, but nothing answers —
what a wedged or overloaded host looks like to a client. Only ever freeze a server started for the test
itself, never the session's `pg_server` that other tests share."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import psutil


def server_processes(data_dir: Path) -> list[psutil.Process]:
    """The postmaster (first line of postmaster.pid) and every process it forked."""
    pid = int((Path(data_dir) / "postmaster.pid").read_text().splitlines()[0])
    postmaster = psutil.Process(pid)
    return [postmaster, *postmaster.children(recursive=True)]


@contextmanager
def frozen_postgres(data_dir: Path) -> Iterator[None]:
    stopped: list[psutil.Process] = []
    try:
        # The postmaster first: once it is stopped it forks no new backend, so the list below is complete.
        for process in server_processes(data_dir):
            process.send_signal(signal.SIGSTOP)
            stopped.append(process)
        for process in stopped[0].children(recursive=True):
            if process not in stopped:
                process.send_signal(signal.SIGSTOP)
                stopped.append(process)
        yield
    finally:
        for process in reversed(stopped):
            with suppress(psutil.NoSuchProcess):
                process.send_signal(signal.SIGCONT)
