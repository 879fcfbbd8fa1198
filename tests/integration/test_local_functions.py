"""How the local stack runs functions (issue 14, item 6): each in worker processes of its own, as Lambda runs
each in execution environments of its own, at most its concurrency at once, one function never waiting for
another, and an invocation past its timeout ended with its worker. The functions here are small handlers
written into a temporary functions folder; the real handlers run the same way in test_local_stack.py."""

from __future__ import annotations

import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest

from local.functions import FunctionError, FunctionNotBuilt, FunctionTimedOut, LocalFunctions

HANDLERS = {
    "sleepy": """
        import os, time
        calls = 0

        def handler(event, context):
            global calls
            calls += 1
            began = time.time()
            time.sleep(event.get("sleep", 0))
            return {"pid": os.getpid(), "calls": calls, "began": began, "ended": time.time(),
                    "remaining_ms": context.get_remaining_time_in_millis()}
    """,
    "quick": """
        import os

        def handler(event, context):
            return {"pid": os.getpid(), "function": context.function_name}
    """,
    "broken": """
        def handler(event, context):
            raise ValueError("the catalog item has no code")
    """,
    "unencodable": """
        def handler(event, context):
            return {"statusCode": 200, "seen": {"a", "set"}}
    """,
    "nameless": """
        def main(event, context):
            return {}
    """,
}


@pytest.fixture
def functions(tmp_path: Path) -> Iterator[LocalFunctions]:
    for name, source in HANDLERS.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "handler.py").write_text(textwrap.dedent(source))
    local = LocalFunctions({"sleepy": 2, "quick": 2}, timeouts={"sleepy": 8.0}, functions_root=tmp_path)
    yield local
    local.close()


def invoke_in_threads(functions: LocalFunctions, calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    results: list[Any] = [None] * len(calls)

    def run(index: int, name: str, event: dict[str, Any]) -> None:
        try:
            results[index] = functions.invoke(name, event)
        except Exception as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, *call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def most_at_once(results: list[dict[str, Any]]) -> int:
    edges = sorted([(r["began"], 1) for r in results] + [(r["ended"], -1) for r in results])
    running = peak = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    return peak


def test_invocations_of_one_function_run_at_once_up_to_its_concurrency(functions: LocalFunctions) -> None:
    results = invoke_in_threads(functions, [("sleepy", {"sleep": 1.0})] * 4)

    assert all(isinstance(r, dict) for r in results), results
    assert most_at_once(results) == 2
    assert len({r["pid"] for r in results}) == 2  # two execution environments, each reused


def test_a_warm_worker_keeps_its_module_state_and_its_lambda_context(functions: LocalFunctions) -> None:
    first = functions.invoke("sleepy", {})
    second = functions.invoke("sleepy", {})

    assert first["pid"] == second["pid"]  # the idle worker is reused: a warm start
    assert (first["calls"], second["calls"]) == (1, 2)
    assert 0 < second["remaining_ms"] <= 8000
    assert functions.invoke("quick", {})["function"] == "quick"


def test_a_stuck_function_holds_up_no_other_function(functions: LocalFunctions) -> None:
    stuck = threading.Thread(target=lambda: _swallow(functions.invoke, "sleepy", {"sleep": 60}), daemon=True)
    stuck.start()
    time.sleep(0.5)

    began = time.monotonic()
    answer = functions.invoke("quick", {})
    took = time.monotonic() - began

    assert answer["function"] == "quick"
    assert took < 6, f"another function's invocation waited {took:.1f} s"  # a cold start, nothing more


def test_an_invocation_past_its_timeout_ends_with_its_worker(functions: LocalFunctions) -> None:
    warm = functions.invoke("sleepy", {})
    began = time.monotonic()
    with pytest.raises(FunctionTimedOut):
        functions.invoke("sleepy", {"sleep": 60})
    assert time.monotonic() - began < 20

    results = invoke_in_threads(functions, [("sleepy", {})] * 2)
    assert all(isinstance(r, dict) for r in results), results  # the killed worker's slot is free again
    assert warm["pid"] not in {r["pid"] for r in results}


def test_a_handler_error_comes_back_with_the_workers_traceback(functions: LocalFunctions) -> None:
    with pytest.raises(FunctionError) as raised:
        functions.invoke("broken", {})
    assert raised.value.description == "handler raised ValueError('the catalog item has no code')"
    assert "ValueError: the catalog item has no code" in raised.value.remote_traceback


def test_a_function_without_a_handler_is_not_built(functions: LocalFunctions) -> None:
    with pytest.raises(FunctionNotBuilt, match="no handler"):
        functions.invoke("nameless", {})
    with pytest.raises(FunctionNotBuilt):
        functions.invoke("absent", {})
    assert not functions.available("absent") and functions.available("quick")


def _swallow(call: Any, *args: Any) -> None:
    with suppress(Exception):  # the stuck invocation ends when the fixture closes the functions
        call(*args)


def test_an_answer_lambda_could_not_encode_as_json_fails_as_on_lambda(functions: LocalFunctions) -> None:
    with pytest.raises(FunctionError, match="Runtime.MarshalError"):
        functions.invoke("unencodable", {})
