"""Where a running `mostrador local` can be found: it writes its address and the default tenant's web chat
key to `stack.json` in its data folder, so `mostrador chat`, `ingest`, `tenant`… in another shell reach it
on the port it chose (`PORT=3817 make run`) and chat as its default tenant without being told."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

RUNNING_FILE = "stack.json"
DEFAULT_PORT = 3000
DEFAULT_DATA_DIR = ".local"
# Names the data folder for every `mostrador` command of a shell, instead of `--data-dir` on each.
DATA_DIR_VARIABLE = "MOSTRADOR_DATA_DIR"
DATA_DIR_HELP = (
    f"the local stack's data folder, where it keeps its URL, keys and admin token "
    f"(default: {DATA_DIR_VARIABLE}, else {DEFAULT_DATA_DIR})"
)


def default_data_dir(environ: dict[str, str] | os._Environ[str] = os.environ) -> str:
    return environ.get(DATA_DIR_VARIABLE, "").strip() or DEFAULT_DATA_DIR


def write_running_stack(data_dir: Path, url: str, tenant: str, webchat_key: str) -> Path:
    path = data_dir / RUNNING_FILE
    record = {"url": url, "pid": os.getpid(), "tenant": tenant, "webchatKey": webchat_key}
    path.write_text(json.dumps(record, indent=2) + "\n")
    path.chmod(0o600)  # the widget key is public on a shop's page, but this folder's files stay the user's
    return path


def forget_running_stack(data_dir: Path) -> None:
    """On a clean stop: the next command should not aim at a port nothing serves."""
    path = data_dir / RUNNING_FILE
    try:
        record = json.loads(path.read_text())
        if record.get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def running_stack(data_dir: Path) -> dict[str, Any]:
    """The record a running stack left in `data_dir` ({} when there is none or it cannot be read)."""
    try:
        record = json.loads((data_dir / RUNNING_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def local_url(data_dir: Path, environ: dict[str, str] | os._Environ[str] = os.environ) -> str:
    """The URL commands use without --url: PORT's, else the running stack's, else port 3000."""
    port = environ.get("PORT", "").strip()
    if port.isdigit():
        return f"http://127.0.0.1:{int(port)}"
    url = running_stack(data_dir).get("url")
    return str(url) if url else f"http://127.0.0.1:{DEFAULT_PORT}"


def local_webchat_key(data_dir: Path, url: str) -> str | None:
    """The running local stack's default web chat key when `url` is that stack, else None."""
    record = running_stack(data_dir)
    if not record.get("webchatKey") or not record.get("url"):
        return None
    return str(record["webchatKey"]) if _same_server(url, str(record["url"])) else None


def _same_server(a: str, b: str) -> bool:
    def where(url: str) -> tuple[str, int | None]:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        return ("127.0.0.1" if host in ("localhost", "::1") else host), parts.port

    try:
        return where(a) == where(b)
    except ValueError:  # a port that is not a number
        return False
