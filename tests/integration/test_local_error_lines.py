"""The local stack's `[queue]` and `[function] raised` lines name an exception's class and a redacted
message (issue 14, item 9): never PostgreSQL's DETAIL, which quotes the row (`Key (tenant_id,
platform_message_id)=(default, wamid...)`; a conversation id is a customer's phone number). The handlers
here run in the stack's worker processes against the session's real PostgreSQL."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.event_source import BatchOutcome
from local.functions import FunctionError, LocalFunctions
from local.stack import LocalStack, StackOptions

PHONE = "584141234567"

HANDLERS = {
    # A duplicate key whose value is a phone number: DETAIL would print it.
    "duplicate": """
        import json, os, psycopg

        def handler(event, context):
            phone = json.loads(event["Records"][0]["body"])["to"]
            with psycopg.connect(os.environ["TEST_DATABASE_URL"], autocommit=True) as conn:
                conn.execute("CREATE TEMPORARY TABLE conversations_probe (conversation_id text PRIMARY KEY)")
                conn.execute("INSERT INTO conversations_probe VALUES (%s)", (phone,))
                conn.execute("INSERT INTO conversations_probe VALUES (%s)", (phone,))
    """,
    # The same inside a Powertools batch (the shape of the reply and enrich consumers' failures).
    "batch": """
        import json, os, psycopg
        from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

        processor = BatchProcessor(event_type=EventType.SQS)

        def record(record):
            phone = json.loads(record.body)["to"]
            with psycopg.connect(os.environ["TEST_DATABASE_URL"], autocommit=True) as conn:
                conn.execute("CREATE TEMPORARY TABLE conversations_probe (conversation_id text PRIMARY KEY)")
                conn.execute("INSERT INTO conversations_probe VALUES (%s)", (phone,))
                conn.execute("INSERT INTO conversations_probe VALUES (%s)", (phone,))

        def handler(event, context):
            return process_partial_response(event=event, record_handler=record, processor=processor, context=context)
    """,
    # Not a database error: the first line stays, a phone-number-like run of digits does not.
    "plain": """
        def handler(event, context):
            raise ValueError(f"no reply for {event['to']}\\nDETAIL: more about {event['to']}")
    """,
}


@pytest.fixture
def functions(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalFunctions]:
    monkeypatch.setenv("TEST_DATABASE_URL", db_url)
    for name, source in HANDLERS.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "handler.py").write_text(textwrap.dedent(source))
    local = LocalFunctions({name: 1 for name in HANDLERS}, functions_root=tmp_path)
    yield local
    local.close()


def _sqs_event() -> dict:
    return {
        "Records": [
            {
                "messageId": "m-1",
                "receiptHandle": "r",
                "body": json.dumps({"to": PHONE}),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:q",
                "awsRegion": "us-east-1",
            }
        ]
    }


@pytest.mark.parametrize("name", ["duplicate", "batch"])
def test_a_database_error_is_described_by_class_sqlstate_and_constraint_never_its_detail(
    functions: LocalFunctions, name: str, tmp_path: Path
) -> None:
    with pytest.raises(FunctionError) as raised:
        functions.invoke(name, _sqs_event())
    description, trace = raised.value.description, raised.value.remote_traceback
    assert "UniqueViolation(23505, constraint conversations_probe_pkey" in description, description
    assert "UniqueViolation: 23505, constraint conversations_probe_pkey" in trace or name == "batch", trace
    lines: list[str] = []
    stack = LocalStack(StackOptions(data_dir=tmp_path), printer=lines.append)
    stack._report_batch("mostrador-local-reply", BatchOutcome(1, 0, 1, error=description))
    [line] = lines
    assert line.startswith("[queue] mostrador-local-reply: 1 of 1 message(s) failed (handler raised ")
    for text in (description, trace, line):
        assert PHONE not in text and "DETAIL" not in text and "Key (" not in text, text


def test_any_other_error_keeps_its_first_line_without_phone_numbers(functions: LocalFunctions) -> None:
    with pytest.raises(FunctionError) as raised:
        functions.invoke("plain", {"to": PHONE})
    assert raised.value.description == "handler raised ValueError('no reply for …')"
    assert raised.value.remote_traceback.endswith("ValueError: no reply for …\n")
    assert PHONE not in raised.value.remote_traceback
