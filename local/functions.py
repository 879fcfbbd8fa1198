"""The deployed handlers, loaded from functions/<name>/handler.py and invoked as Lambda invokes them.

Each function runs in worker processes of its own, as Lambda runs each function in execution environments
of its own: a worker imports one handler, keeps that handler's module state (its database connection, its
clients, its Powertools app) and handles one invocation at a time. A function has at most
CONCURRENCY[name] workers (its concurrency); an invocation beyond that waits for a worker to be free. So
a stuck reply holds up replies only, never a webhook, and an HTTP request never waits for an enrich
batch. Workers start on first use (a cold start) and then stay warm. An invocation that outlives its
function's timeout is ended as Lambda ends it: the worker is killed, and the next invocation gets a new one.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import multiprocessing
import os
import re
import signal
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from contextlib import suppress
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from local.lambda_context import LambdaContext

REPO_ROOT = Path(__file__).resolve().parent.parent

# Seconds each function may run: FunctionSpec.timeout_seconds in infra/functions.py, the deployed table
# (not imported from there: that module loads the CDK, seconds of start-up; tests/infra asserts they agree).
TIMEOUTS = {
    "ingest": 28.0,
    "webhook": 15.0,
    "webchat": 15.0,
    "admin": 28.0,
    "enrich": 180.0,
    "reply": 90.0,
    "knowledge": 300.0,
}
# A queue's visibility timeout, as deployed (infra/queues.py): 6x its consumer's timeout plus the batching
# window, so a message is never handed out again while an invocation may still be working on it.
VISIBILITY_FACTOR = 6


def visibility_timeout(function: str, batching_window_seconds: float = 0.0) -> int:
    return int(TIMEOUTS[function] * VISIBILITY_FACTOR + batching_window_seconds + 0.999)


# Workers per function: what the deployed stack allows at once, scaled to one machine (deployed: enrich 4,
# reply 10, knowledge 2, the API functions as many as the stage throttle lets through).
CONCURRENCY = {"ingest": 4, "webhook": 4, "webchat": 4, "admin": 2, "enrich": 2, "reply": 4, "knowledge": 1}
DEFAULT_CONCURRENCY = 2
# Queue consumers, which nobody waits on over HTTP: on one machine their workers yield the CPU to the
# functions behind the API (deployed, every execution environment has a CPU share of its own).
BACKGROUND = {"enrich", "reply", "knowledge"}
# A worker's cold start (importing its handler) may take this long on a busy machine.
INIT_TIMEOUT_SECONDS = 60.0
# Imported once by the process workers are forked from, so a new worker starts in a fraction of a cold start.
# (Third-party modules only: they read no setting when imported. The handlers still import what they use.)
PRELOAD = [
    "boto3",
    "botocore.client",
    "pydantic",
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.utilities.batch",
    "httpx",
    "psycopg",
    "pgvector.psycopg",
]

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
    """functions/<name>/handler.py does not exist (yet) in this checkout, or has no handler(event, context)."""


class FunctionError(Exception):
    """The handler raised (or could not be imported). `description` says what, with each failed record's
    error for a batch; `remote_traceback` is the worker's traceback."""

    def __init__(self, function: str, description: str, remote_traceback: str) -> None:
        super().__init__(f"{function}: {description}")
        self.function = function
        self.description = description
        self.remote_traceback = remote_traceback


class FunctionTimedOut(Exception):
    """The invocation outlived the function's timeout; its worker was killed."""

    def __init__(self, function: str, seconds: float) -> None:
        super().__init__(f"{function} timed out after {seconds:.0f} s")
        self.function = function
        self.seconds = seconds


def describe_error(raised: BaseException) -> str:
    """One line for the terminal: each exception's class and a redacted message (`redacted_error`)."""
    # Powertools' BatchProcessingError carries each record's exception as (type, value, traceback).
    children = getattr(raised, "child_exceptions", None) or []
    causes = [redacted_error(child[1]) for child in children if isinstance(child, tuple) and len(child) > 1]
    return f"handler raised {redacted_error(raised)}" + (f": {'; '.join(causes[:3])}" if causes else "")


# A run of digits as long as a phone number's (spaces, dashes or a leading + inside): a PSID, a phone.
_LONG_NUMBER = re.compile(r"\+?\d[\d \-]{5,}\d")


def redacted_error(raised: BaseException) -> str:
    """The exception's class and what of its message carries no customer data. A database error says its
    SQLSTATE and the constraint, table or column concerned, never its message: PostgreSQL's DETAIL quotes
    the row (`Key (tenant_id, platform_message_id)=(default, wamid...)`, a conversation id is a phone
    number) and its primary message may quote the value it refused. Anything else keeps the first line of
    its message, before any DETAIL, with phone-number-like runs of digits masked."""
    name, database, message = _redacted_parts(raised)
    return f"{name}({message})" if database else f"{name}({message!r})"


def _redacted_parts(raised: BaseException) -> tuple[str, bool, str]:
    """(class name, is a database error, redacted message)."""
    name = type(raised).__name__
    sqlstate = getattr(raised, "sqlstate", None)
    diag = getattr(raised, "diag", None)
    if sqlstate and diag is not None:
        parts = [str(sqlstate)]
        for label, value in (
            ("constraint", diag.constraint_name),
            ("table", diag.table_name),
            ("column", diag.column_name),
        ):
            if value:
                parts.append(f"{label} {value}")
        return name, True, ", ".join(parts)
    lines = str(raised).splitlines()
    first = lines[0].split("DETAIL:")[0].strip() if lines else ""
    return name, False, _LONG_NUMBER.sub("…", first)[:300]


def redacted_traceback(raised: BaseException) -> str:
    """The worker's frames, ending with the redacted exception line instead of its full message."""
    frames = "".join(traceback.format_tb(raised.__traceback__))
    name, _, message = _redacted_parts(raised)
    return f"Traceback (most recent call last):\n{frames}{name}: {message}\n"


def _import_handler_module(name: str, root: str | None) -> Any:
    if root is None:
        return importlib.import_module(f"functions.{name}.handler")
    # Another folder of functions (tests): loaded by path, under a name of its own.
    spec = importlib.util.spec_from_file_location(f"local_functions_{name}", Path(root) / name / "handler.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _worker_main(
    name: str, conn: Connection, environment: dict[str, str], root: str | None, warning_filters: list[Any]
) -> None:
    """A worker process: import the handler once, then invoke it for each event the stack sends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the stack, which stops its workers
    os.environ.clear()
    os.environ.update(environment)
    warnings.filters[:] = warning_filters  # the stack's (it silences what is off locally)
    if name in BACKGROUND and hasattr(os, "nice"):
        os.nice(10)
    ensure_importable()
    try:
        module = _import_handler_module(name, root)
    except Exception as raised:
        conn.send(("init_error", describe_error(raised), redacted_traceback(raised)))
        return
    handler = getattr(module, "handler", None)
    if handler is None:
        # Exactly what the stack deploys ("handler.handler"): a differently named entry point fails here too.
        conn.send(("not_built", f"functions/{name}/handler.py has no handler(event, context)", ""))
        return
    conn.send(("ready", None, ""))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        event, timeout = message
        try:
            result = handler(event, LambdaContext(function_name=name, timeout_seconds=timeout))
        except Exception as raised:
            conn.send(("raised", describe_error(raised), redacted_traceback(raised)))
            continue
        try:
            # What Lambda hands back is the handler's answer as JSON: an answer it cannot encode fails here too.
            answer = json.loads(json.dumps(result))
        except (TypeError, ValueError) as raised:
            conn.send(("raised", f"Runtime.MarshalError: unable to marshal the response: {raised}", ""))
            continue
        conn.send(("result", answer, ""))


def _builtin_warning_filters() -> list[Any]:
    # Filters on categories every process can import (a test's own categories may not be).
    return [entry for entry in warnings.filters if entry[2].__module__ == "builtins"]


def _process_context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if context.get_start_method() == "forkserver":
        context.set_forkserver_preload(PRELOAD)
    return context


class _Worker:
    def __init__(self, context: Any, name: str, root: str | None) -> None:
        self.name = name
        ours, theirs = context.Pipe()
        self.process = context.Process(
            target=_worker_main,
            args=(name, theirs, dict(os.environ), root, _builtin_warning_filters()),
            name=f"mostrador-{name}",
            daemon=True,
        )
        self.process.start()
        theirs.close()
        self.conn: Connection = ours
        self.ready = False
        self._ready_lock = threading.Lock()

    def _receive(self, deadline: float) -> tuple[str, Any, str]:
        remaining = max(0.0, deadline - time.monotonic())
        if not wait([self.conn, self.process.sentinel], remaining):
            raise TimeoutError
        try:
            answer: tuple[str, Any, str] = self.conn.recv()
        except (EOFError, OSError):
            self.process.join(1)
            return ("raised", f"the worker process exited (code {self.process.exitcode})", "")
        return answer

    def await_ready(self) -> None:
        """Wait for the cold start (the handler's import) to finish; raise what the function would."""
        with self._ready_lock:  # a prewarm and the first invocation may both wait
            if self.ready:
                return
            try:
                kind, detail, trace = self._receive(time.monotonic() + INIT_TIMEOUT_SECONDS)
            except TimeoutError:
                raise FunctionTimedOut(self.name, INIT_TIMEOUT_SECONDS) from None
            if kind == "not_built":
                raise FunctionNotBuilt(detail)
            if kind != "ready":
                raise FunctionError(self.name, detail, trace)
            self.ready = True

    def invoke(self, event: dict[str, Any], timeout: float) -> Any:
        self.await_ready()
        self.conn.send((event, timeout))
        try:
            kind, detail, trace = self._receive(time.monotonic() + timeout)
        except TimeoutError:
            raise FunctionTimedOut(self.name, timeout) from None
        if kind == "result":
            return detail
        raise FunctionError(self.name, detail, trace)

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def request_stop(self, *, gracefully: bool) -> None:
        """Ask an idle worker to exit; kill a busy one (as Lambda ends an environment)."""
        if gracefully and self.alive:
            with suppress(OSError):
                self.conn.send(None)
        elif self.alive:
            self.process.kill()

    def wait_stopped(self) -> None:
        self.process.join(2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self.conn.close()

    def stop(self, *, gracefully: bool) -> None:
        self.request_stop(gracefully=gracefully)
        self.wait_stopped()


class _Pool:
    """At most `size` workers of one function; idle ones are reused, warmest first."""

    def __init__(self, name: str, size: int, start: Callable[[], _Worker]) -> None:
        self.name = name
        self.size = size
        self._start = start
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._starting = 0
        self._closed = False
        self._condition = threading.Condition()

    def acquire(self) -> _Worker:
        with self._condition:
            while True:
                if self._closed:
                    raise FunctionError(self.name, "the local stack is stopping", "")
                if self._idle:
                    worker = self._idle.pop()
                    self._busy.add(worker)
                    return worker
                if len(self._busy) + self._starting < self.size:
                    self._starting += 1
                    break
                self._condition.wait()
        try:
            worker = self._start()
        finally:
            with self._condition:
                self._starting -= 1
                self._condition.notify()
        with self._condition:
            self._busy.add(worker)
        return worker

    def release(self, worker: _Worker, *, keep: bool) -> None:
        with self._condition:
            self._busy.discard(worker)
            keep = keep and worker.alive and not self._closed
            if keep:
                self._idle.append(worker)
            self._condition.notify()
        if not keep:
            worker.stop(gracefully=False)

    def prewarm(self) -> None:
        """One worker started ahead of the first invocation, when the pool has none. It is offered at once;
        an invocation that takes it before its cold start is over waits for that cold start."""
        with self._condition:
            if self._closed or self._idle or self._busy or self._starting:
                return
            self._starting += 1
        worker: _Worker | None = None
        try:
            worker = self._start()
        finally:
            with self._condition:
                self._starting -= 1
                offered = worker is not None and not self._closed
                if offered and worker is not None:
                    self._idle.append(worker)
                self._condition.notify()
        if worker is None:
            return
        if not offered:
            worker.stop(gracefully=False)
            return
        try:
            worker.await_ready()  # one cold start at a time: the first request waits for this one only
        except Exception:
            with self._condition:
                unused = worker in self._idle
                if unused:
                    self._idle.remove(worker)
            if unused:  # (an invocation holding it reports the failure itself)
                worker.stop(gracefully=False)

    def close(self) -> list[_Worker]:
        """Stop taking invocations; ask every worker to stop and return them (see `_Worker.wait_stopped`)."""
        with self._condition:
            self._closed = True
            idle, busy = list(self._idle), list(self._busy)
            self._idle.clear()
            self._condition.notify_all()
        for worker in idle:
            worker.request_stop(gracefully=True)
        for worker in busy:  # their invocations end with an error, as on a Lambda shutdown
            worker.request_stop(gracefully=False)
        return idle + busy


class LocalFunctions:
    def __init__(
        self,
        concurrency: dict[str, int] | None = None,
        *,
        timeouts: dict[str, float] | None = None,
        functions_root: Path | None = None,
    ) -> None:
        ensure_importable()
        self.concurrency = {**CONCURRENCY, **(concurrency or {})}
        self.timeouts = {**TIMEOUTS, **(timeouts or {})}
        self.root = functions_root or REPO_ROOT / "functions"
        self._custom_root = str(functions_root) if functions_root is not None else None
        self._pools: dict[str, _Pool] = {}
        self._lock = threading.Lock()
        self._context: Any = None

    def available(self, name: str) -> bool:
        return (self.root / name / "handler.py").is_file()

    def _pool(self, name: str) -> _Pool:
        if not self.available(name):
            raise FunctionNotBuilt(f"functions/{name}/handler.py does not exist")
        with self._lock:
            pool = self._pools.get(name)
            if pool is None:
                if self._context is None:
                    self._context = _process_context()
                context = self._context
                size = self.concurrency.get(name, DEFAULT_CONCURRENCY)
                root = self._custom_root
                pool = self._pools[name] = _Pool(name, size, lambda: _Worker(context, name, root))
            return pool

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        pool = self._pool(name)
        worker = pool.acquire()
        keep = False
        try:
            result = worker.invoke(event, self.timeouts.get(name, 30.0))
            keep = True
            return result
        except FunctionError:
            keep = worker.ready  # a handler that raised leaves its environment warm; a failed import does not
            raise
        finally:
            pool.release(worker, keep=keep)

    def start_early(self) -> None:
        """Start the process workers are forked from, which imports the common libraries, while the stack
        starts its other parts (workers themselves start later, with the finished environment)."""
        with self._lock:
            if self._context is None:
                self._context = _process_context()
            if self._context.get_start_method() == "forkserver":
                from multiprocessing import forkserver

                forkserver.ensure_running()

    def prewarm(self, names: list[str]) -> threading.Thread:
        """One warm worker for each of `names` (the functions behind the API), started in the background."""

        def warm() -> None:
            for name in names:
                if self.available(name):
                    with suppress(Exception):  # the first invocation will say what is wrong
                        self._pool(name).prewarm()

        thread = threading.Thread(target=warm, name="prewarm-functions", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        with self._lock:
            pools = list(self._pools.values())
        stopping = [worker for pool in pools for worker in pool.close()]
        for worker in stopping:
            worker.wait_stopped()
