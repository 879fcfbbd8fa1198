"""How long a second `mostrador local` takes to serve (issue 5: within ten seconds), on a data folder a
first run left behind (database kept, migrations applied). Ends with one line of JSON."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 10.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_until_serving(data_dir: Path, log: Path) -> tuple[subprocess.Popen[bytes], float]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PORT")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(REPO / "layers" / "shared" / "python")])
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "local.cli", "local", "--port", str(port), "--data-dir", str(data_dir), "--no-sample"],
        cwd=data_dir.parent,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    while time.monotonic() - started < 180:
        if process.poll() is not None:
            raise SystemExit(f"mostrador local exited early; see {log}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return process, time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise SystemExit(f"mostrador local did not serve within 180 s; see {log}")


def _stop(process: subprocess.Popen[bytes]) -> float:
    began = time.monotonic()
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)
    return time.monotonic() - began


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="mostrador-restart-") as root:
        data_dir, log = Path(root) / "data", Path(root) / "local.log"
        first, first_seconds = _run_until_serving(data_dir, log)
        stop_seconds = _stop(first)
        second, second_seconds = _run_until_serving(data_dir, log)
        _stop(second)
    print(
        json.dumps(
            {
                "bench": "local_restart",
                "first_run_serving_s": round(first_seconds, 2),
                "ctrl_c_stop_s": round(stop_seconds, 2),
                "second_run_serving_s": round(second_seconds, 2),
                "target_s": TARGET_SECONDS,
                "target_met": second_seconds <= TARGET_SECONDS,
            }
        )
    )


if __name__ == "__main__":
    main()
