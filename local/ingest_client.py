"""`mostrador ingest`: push a catalog file to any Mostrador in parts of one sync, then follow the sync."""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx


class IngestFailed(Exception):
    pass


@dataclass
class PushResult:
    sync_id: str
    accepted: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)


def read_catalog(path: Path) -> list[Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and isinstance(data.get("products"), list):
        data = data["products"]
    if not isinstance(data, list):
        raise IngestFailed(f"{path}: expected a JSON list of products or an object with a 'products' list")
    return data


def progress_bar(stream: TextIO = sys.stderr, width: int = 30) -> Callable[[int, int], None]:
    def show(done: int, total: int) -> None:
        filled = int(width * done / total) if total else width
        stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} products sent")
        if done >= total:
            stream.write("\n")
        stream.flush()

    return show


def push_catalog(
    products: list[Any],
    url: str,
    key: str,
    *,
    chunk_size: int = 500,
    full_sync: bool = True,
    sync_id: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    client: httpx.Client | None = None,
) -> PushResult:
    """POST the products as the numbered parts of one sync ("final": false on all but the last)."""
    if not products:
        raise IngestFailed("the catalog is empty")
    result = PushResult(sync_id=sync_id or f"cli-{uuid.uuid4().hex[:16]}")
    http = client or httpx.Client(timeout=60.0)
    parts = [products[i : i + chunk_size] for i in range(0, len(products), chunk_size)]
    try:
        for index, part in enumerate(parts):
            body = {
                "products": part,
                "syncId": result.sync_id,
                "fullSync": full_sync,
                "part": index + 1,
                "final": index == len(parts) - 1,
            }
            response = http.post(f"{url.rstrip('/')}/ingest/products", json=body, headers={"X-API-KEY": key})
            if response.status_code not in (202, 422):
                raise IngestFailed(f"part {index + 1}: HTTP {response.status_code}: {response.text[:500]}")
            answer = response.json()
            result.accepted += int(answer.get("accepted", 0))
            offset = index * chunk_size
            for rejection in answer.get("rejected", []):
                result.rejected.append({**rejection, "index": offset + int(rejection.get("index", 0))})
            if on_progress:
                on_progress(min(offset + len(part), len(products)), len(products))
    finally:
        if client is None:
            http.close()
    return result


def wait_for_sync(
    url: str,
    key: str,
    sync_id: str,
    *,
    timeout_seconds: float = 900.0,
    interval_seconds: float = 1.0,
    on_status: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Poll GET /ingest/syncs/{syncId} until it is complete."""
    deadline = time.monotonic() + timeout_seconds
    with httpx.Client(timeout=30.0) as http:
        while True:
            response = http.get(f"{url.rstrip('/')}/ingest/syncs/{sync_id}", headers={"X-API-KEY": key})
            if response.status_code == 200:
                status: dict[str, Any] = response.json()
                if on_status:
                    on_status(status)
                if status.get("complete"):
                    return status
            elif response.status_code != 404:  # 404: not recorded yet (the database was down at the POST)
                raise IngestFailed(f"sync status: HTTP {response.status_code}: {response.text[:300]}")
            if time.monotonic() > deadline:
                raise IngestFailed(f"sync {sync_id} not complete after {timeout_seconds:.0f} s")
            time.sleep(interval_seconds)


def sync_line(status: dict[str, Any]) -> str:
    return (
        f"received {status.get('received', 0)}, processed {status.get('processed', 0)}, "
        f"unchanged {status.get('unchanged', 0)}, failed {status.get('failed', 0)}"
    )
