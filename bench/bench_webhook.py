"""Webhook fast path: handler time per signed WhatsApp event (warm) and the handler module's import time.

The SQS send goes to moto's server on 127.0.0.1 (real boto3 over HTTP), so the per-event time
includes one SendMessageBatch round trip to a local endpoint. Import times are measured in fresh
interpreters: `import functions.webhook.handler` beside `import boto3` alone (median of several runs).

Target (issue 3): the webhook module's import costs at most 1.5x boto3's. Ends with one line of JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
APP_SECRET = "bench-app-secret"
IMPORT_TARGET_RATIO = 1.5


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def _import_seconds(module: str, runs: int) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "layers/shared/python"), str(ROOT)]),
        "AWS_DEFAULT_REGION": "us-east-1",
        # As the stack deploys the webhook (infra/functions.py: traced=False): no X-Ray SDK.
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    samples = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=ROOT
        )
        samples.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def _event(index: int) -> dict[str, Any]:
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
                            "contacts": [{"profile": {"name": "Ana"}, "wa_id": f"58412555{index % 1000:04d}"}],
                            "messages": [
                                {
                                    "from": f"58412555{index % 1000:04d}",
                                    "id": f"wamid.BENCH{index}{uuid.uuid4().hex}",
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {
                                        "body": "¿Tienen la nevera Samsung 1/2 puertas en Valencia? Precio en dólares."
                                    },
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    raw = json.dumps(payload, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode()
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return {
        "resource": "/webhooks/whatsapp",
        "path": "/webhooks/whatsapp",
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json", "X-Hub-Signature-256": signature},
        "multiValueHeaders": {"Content-Type": ["application/json"], "X-Hub-Signature-256": [signature]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {"resourcePath": "/webhooks/whatsapp", "httpMethod": "POST", "stage": "prod"},
        "body": raw.decode(),
        "isBase64Encoded": False,
    }


def _handler_timings(events: int, warmup: int) -> dict[str, float]:
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        os.environ.update(
            {
                "AWS_ENDPOINT_URL_SQS": endpoint,
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "bench",
                "AWS_SECRET_ACCESS_KEY": "bench",
                "META_APP_SECRET": APP_SECRET,
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_NAMESPACE": "MostradorBench",
                "POWERTOOLS_LOG_LEVEL": "WARNING",
            }
        )
        client = boto3.client("sqs", endpoint_url=endpoint)
        url = client.create_queue(QueueName=f"bench-{uuid.uuid4().hex[:8]}.fifo", Attributes={"FifoQueue": "true"})[
            "QueueUrl"
        ]
        os.environ["REPLY_QUEUE_URL"] = url

        import logging

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        from functions.webhook.handler import handler
        from local.lambda_context import LambdaContext

        context = LambdaContext("webhook")
        payloads = [_event(i) for i in range(warmup + events)]
        samples = []
        # The handler prints its EMF metrics line per event (as on Lambda); keep it out of the report.
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
            for event in payloads[:warmup]:
                assert handler(event, context)["statusCode"] == 200
            for event in payloads[warmup:]:
                began = time.perf_counter()
                response = handler(event, context)
                samples.append((time.perf_counter() - began) * 1000)
                assert response["statusCode"] == 200, response
        queued = int(
            client.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
                "ApproximateNumberOfMessages"
            ]
        )
    finally:
        server.stop()
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p99_ms": round(_percentile(samples, 0.99), 2),
        "events": events,
        "queued": queued,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--import-runs", type=int, default=7)
    args = parser.parse_args()

    boto3_s = _import_seconds("boto3", args.import_runs)
    webhook_s = _import_seconds("functions.webhook.handler", args.import_runs)
    ratio = webhook_s / boto3_s
    print(f"import: boto3 {boto3_s * 1000:.0f} ms, functions.webhook.handler {webhook_s * 1000:.0f} ms ({ratio:.2f}x)")

    timings = _handler_timings(args.events, warmup=20)
    print(
        f"handler per signed WhatsApp event (warm, local SQS): p50 {timings['p50_ms']} ms, p99 {timings['p99_ms']} ms"
    )
    result = {
        "bench": "webhook",
        "handler_p50_ms": timings["p50_ms"],
        "handler_p99_ms": timings["p99_ms"],
        "events": timings["events"],
        "events_queued": timings["queued"],  # warm-up events included
        "import_webhook_ms": round(webhook_s * 1000, 1),
        "import_boto3_ms": round(boto3_s * 1000, 1),
        "import_ratio": round(ratio, 2),
        "import_target_ratio": IMPORT_TARGET_RATIO,
        "import_target_met": ratio <= IMPORT_TARGET_RATIO,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
