"""Channel events end to end in tests: a signed webhook into the real webhook handler, the real
boto3 onto a FIFO reply queue of moto's SQS server (with its dead-letter queue after five receives,
as deployed), and the real reply handler consuming it the way Lambda's event source does, against
the real database and the fake Meta / Support Board servers (tests/fakes/platforms.py).

No tests here: the `channel_pipeline` fixture for the test_reply_* modules. Import
`channel_pipeline_fixture` into the test module, with `reply_env = support.reply_env` and
`from tests.fakes.platforms import platforms_fixture`, like the other reply tests.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.integration.sqs_support import queue_with_dead_letters
from tests.lambda_events import LambdaContextStub, api_event, sqs_event
from tests.unit.channels.payloads import meta_bytes, sign

APP_SECRET = "meta-app-secret"
SB_SECRET = "sb-secret"
MAX_RECEIVES = 5  # the deployed reply queue's maxReceiveCount (infra/queues.py)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "channels"


def fixture(name: str, replace: dict[str, Any] | None = None) -> Any:
    """A JSON payload from tests/fixtures/channels, with its times made current ("NOW_SECONDS":
    WhatsApp's seconds as a string, "NOW_MILLIS": Messenger's milliseconds, "NOW_ISO": Support
    Board's UTC "Y-m-d H:i:s") and any exact string value found in `replace` swapped for its value."""
    now = time.time()
    values: dict[str, Any] = {
        "NOW_SECONDS": str(int(now)),
        "NOW_MILLIS": int(now * 1000),
        "NOW_ISO": datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d %H:%M:%S"),
        **(replace or {}),
    }

    def swap(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: swap(item) for key, item in value.items()}
        if isinstance(value, list):
            return [swap(item) for item in value]
        if isinstance(value, str) and value in values:
            return values[value]
        return value

    return swap(json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8")))


@dataclass
class ReplyRun:
    """What one `run_replies` did: batches handed to the reply function and records it failed."""

    batches: int = 0
    records: int = 0
    failed: int = 0
    receive_counts: list[int] = field(default_factory=list)


class ChannelPipeline:
    def __init__(self, sqs: Any, queue_url: str, queue_arn: str, dlq_url: str) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.dlq_url = dlq_url

    # -- webhooks in -----------------------------------------------------------------------------

    def post_meta(self, payload: dict[str, Any], *, path: str = "/webhooks/meta") -> int:
        """A Meta delivery (WhatsApp on /webhooks/whatsapp), signed over the bytes Meta would send."""
        from functions.webhook.handler import handler

        raw = meta_bytes(payload)
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(raw, APP_SECRET)}
        response = handler(api_event("POST", path, body=raw, headers=headers), LambdaContextStub())
        return int(response["statusCode"])

    def post_whatsapp(self, payload: dict[str, Any]) -> int:
        return self.post_meta(payload, path="/webhooks/whatsapp")

    def post_support_board(self, payload: dict[str, Any]) -> int:
        from functions.webhook.handler import handler

        body = json.dumps({**payload, "key": SB_SECRET})
        event = api_event("POST", "/webhooks/support-board", body=body, headers={"Content-Type": "application/json"})
        return int(handler(event, LambdaContextStub())["statusCode"])

    # -- the reply function, as Lambda's SQS event source runs it ----------------------------------

    def run_replies(self, max_batches: int = 40) -> ReplyRun:
        """Receive, run the reply handler, delete what it did not report failed; a failed record
        becomes visible again at once (its visibility timeout ending early) and the queue's redrive
        policy dead-letters it after MAX_RECEIVES receives. Stops when the queue is empty."""
        from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

        from functions.reply.handler import handler

        run = ReplyRun()
        for _ in range(max_batches):
            messages = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"], VisibilityTimeout=60
            ).get("Messages", [])
            if not messages:
                if self.queued() == 0:
                    break
                continue  # SQS moved a message to the dead-letter queue on that receive
            run.batches += 1
            run.records += len(messages)
            run.receive_counts.extend(int(m["Attributes"]["ApproximateReceiveCount"]) for m in messages)
            try:
                result = handler(sqs_event(messages, self.queue_arn), LambdaContextStub())
                failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
            except BatchProcessingError:  # every record failed: the whole batch goes back
                failed = {m["MessageId"] for m in messages}
            run.failed += len(failed)
            for message in messages:
                if message["MessageId"] in failed:
                    self.sqs.change_message_visibility(
                        QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                    )
                else:
                    self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return run

    def queued(self, url: str | None = None) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url or self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def dead_lettered(self) -> int:
        return self.queued(self.dlq_url)


@pytest.fixture(name="channel_pipeline")
def channel_pipeline_fixture(reply_env: Any, sqs: Any, monkeypatch: pytest.MonkeyPatch) -> ChannelPipeline:
    """Webhook → FIFO reply queue (+ DLQ after five receives) → reply function, on the fakes."""
    from mostrador.config import reset_settings

    queue = queue_with_dead_letters(sqs, "reply", max_receives=MAX_RECEIVES, fifo=True)
    for name, value in {
        "REPLY_QUEUE_URL": queue.url,
        "REPLY_MAX_RECEIVES": str(MAX_RECEIVES),
        "META_APP_SECRET": APP_SECRET,
        "SUPPORT_BOARD_WEBHOOK_SECRET": SB_SECRET,
    }.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    return ChannelPipeline(sqs, queue.url, queue.arn, queue.dlq_url)
