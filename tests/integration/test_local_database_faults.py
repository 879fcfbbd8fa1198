"""The stopped-database run (issue 14, item 5), over HTTP against `mostrador local` as a person runs it: its
own embedded PostgreSQL (never the test session's) frozen with SIGSTOP while customers write. Webhooks
never touch the database and must not notice; /health says 503 within 2 s; once the database answers
again, every message is answered, once, and the catalog push is stored."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.fakes.platforms import FakeMetaGraph
from tests.integration.frozen_postgres import frozen_postgres
from tests.integration.test_local_stack import (  # noqa: F401 - fixtures
    SAMPLE,
    RunningStack,
    free_port,
    graph,
    ingest_key,
    post_whatsapp,
    replies_to,
    stack_env,
    start_stack,
    stop_stack,
    wait_for,
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, stack_env: dict[str, str]) -> Iterator[RunningStack]:  # noqa: F811
    root = tmp_path_factory.mktemp("frozen-stack")
    running = start_stack(root / "data", free_port(), stack_env, root / "stack.log")
    yield running
    if running.process.poll() is None:
        assert stop_stack(running) == 0


def sync_of(stack: RunningStack, sync_id: str) -> dict[str, object]:
    answer = httpx.get(f"{stack.url}/ingest/syncs/{sync_id}", headers={"X-API-KEY": ingest_key(stack)}, timeout=10)
    return answer.json() if answer.status_code == 200 else {}


def push_one_product(
    stack: RunningStack, code: str, sync_id: str, client: httpx.Client | None = None
) -> httpx.Response:
    item = {**json.loads(SAMPLE.read_text(encoding="utf-8"))[0], "itemCode": code}
    body = {"products": [item], "syncId": sync_id}
    headers = {"X-API-KEY": ingest_key(stack)}
    return (client or httpx).post(f"{stack.url}/ingest/products", json=body, headers=headers, timeout=10)


def test_while_the_database_is_frozen_webhooks_answer_health_says_503_and_nothing_is_lost(
    stack: RunningStack,
    graph: FakeMetaGraph,  # noqa: F811
) -> None:
    stamp = int(time.time() * 1000)
    # Warm: a reply and an enrichment done end to end, so their workers hold database connections.
    assert post_whatsapp(stack, "584145550000", "Hola", f"wamid.WARM{stamp}").status_code == 200
    wait_for(lambda: replies_to(graph, "584145550000"), what=f"the warm-up reply\n{stack.output()}")
    assert push_one_product(stack, "FROZEN-0", f"warm-{stamp}").status_code == 202
    wait_for(lambda: sync_of(stack, f"warm-{stamp}").get("complete"), what=f"the warm-up sync\n{stack.output()}")
    assert httpx.get(f"{stack.url}/health", timeout=10).status_code == 200

    senders = [f"58414555{n:04d}" for n in range(1, 6)]
    webhook_seconds: list[float] = []
    # One client: its set-up (an SSL context per call of httpx.post) is no part of what is measured.
    with httpx.Client(timeout=10) as client, frozen_postgres(stack.data_dir / "pg"):
        for n, sender in enumerate(senders):
            began = time.monotonic()
            answer = post_whatsapp(stack, sender, "¿Tienen televisores?", f"wamid.FROZEN{stamp}.{n}", client)
            webhook_seconds.append(time.monotonic() - began)
            assert answer.status_code == 200, answer.text
        began = time.monotonic()
        pushed = push_one_product(stack, "FROZEN-1", f"frozen-{stamp}", client)
        ingest_seconds = time.monotonic() - began
        began = time.monotonic()
        health = client.get(f"{stack.url}/health")
        health_seconds = time.monotonic() - began
        time.sleep(2)  # the replies are now waiting on the database
        answered_while_frozen = [sender for sender in senders if replies_to(graph, sender)]

    # Under 200 ms as the issue asks (the median of five: this machine is shared); none near Meta's patience.
    assert statistics.median(webhook_seconds) < 0.2 and max(webhook_seconds) < 1.0, f"webhooks: {webhook_seconds} s"
    assert pushed.status_code == 202 and ingest_seconds < 1.0, (pushed.text, ingest_seconds)
    assert (health.status_code, health.json()) == (503, {"status": "degraded", "database": "unreachable"})
    assert health_seconds < 2.0, f"/health took {health_seconds:.2f} s"
    assert answered_while_frozen == []  # the database really did not answer

    for sender in senders:
        wait_for(lambda sender=sender: replies_to(graph, sender), what=f"the reply to {sender}\n{stack.output()}")
    wait_for(lambda: sync_of(stack, f"frozen-{stamp}").get("complete"), what=f"the frozen sync\n{stack.output()}")
    wait_for(lambda: httpx.get(f"{stack.url}/health", timeout=10).status_code == 200, what="/health back to 200")
    assert [len(replies_to(graph, sender)) for sender in senders] == [1] * len(senders)
    assert sync_of(stack, f"frozen-{stamp}")["processed"] == 1
    assert "[alarm]" not in stack.output()
