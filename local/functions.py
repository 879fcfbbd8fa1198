"""The deployed handlers, loaded from functions/<name>/handler.py and invoked like Lambda would.

Every invocation holds one lock: the shared package keeps one database connection per process (one per
Lambda execution environment in AWS), so two handlers must never use it at the same time here.
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from local.lambda_context import LambdaContext

REPO_ROOT = Path(__file__).resolve().parent.parent

# Seconds each function may run, as deployed (the visibility timeouts below are multiples of these).
TIMEOUTS = {
    "ingest": 29.0,
    "webhook": 10.0,
    "webchat": 10.0,
    "admin": 29.0,
    "enrich": 120.0,
    "reply": 60.0,
    "knowledge": 300.0,
}

Handler = Callable[[dict[str, Any], Any], Any]


def ensure_importable() -> None:
    """`functions` lives at the repository root, which an installed console script does not put on sys.path."""
    root = str(REPO_ROOT)
    if root not in sys.path:
        sys.path.insert(0, root)
    shared = str(REPO_ROOT / "layers" / "shared" / "python")
    if shared not in sys.path:
        sys.path.insert(1, shared)


class FunctionNotBuilt(Exception):
    """functions/<name>/handler.py does not exist (yet) in this checkout."""


class LocalFunctions:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._handlers: dict[str, Handler] = {}
        ensure_importable()

    def available(self, name: str) -> bool:
        try:
            self._load(name)
        except FunctionNotBuilt:
            return False
        return True

    def _load(self, name: str) -> Handler:
        handler = self._handlers.get(name)
        if handler is not None:
            return handler
        module_name = f"functions.{name}.handler"
        if not (REPO_ROOT / "functions" / name / "handler.py").is_file():
            raise FunctionNotBuilt(f"functions/{name}/handler.py does not exist")
        with self._lock:
            module = importlib.import_module(module_name)
        # Exactly what the stack deploys ("handler.handler"): a differently named entry point fails here too.
        handler = getattr(module, "handler", None)
        if handler is None:
            raise FunctionNotBuilt(f"functions/{name}/handler.py has no handler(event, context)")
        self._handlers[name] = handler
        return handler

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        handler = self._load(name)
        context = LambdaContext(function_name=name, timeout_seconds=TIMEOUTS.get(name, 30.0))
        with self._lock:
            return handler(event, context)
