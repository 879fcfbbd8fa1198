"""The webhook function end to end: API Gateway (REST, v1 proxy) events in, the real boto3 talking to
moto's SQS server out. FIFO dedup on the queue is moto's, the same rule SQS applies."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from local.lambda_context import LambdaContext
from mostrador.conversations.reply_queue import parse_reply_queue_envelope
from mostrador.messaging.model import InboundMessage, StatusUpdate
from tests.unit.channels.payloads import (
    CUSTOMER_PHONE,
    PAGE_ID,
    PHONE_NUMBER_ID,
    PSID,
    fb_event,
    messenger_delivery,
    meta_bytes,
    sign,
    support_board_event,
    wa_message,
    wa_status,
    whatsapp_delivery,
    whatsapp_value,
)

APP_SECRET = "meta-app-secret"
VERIFY_TOKEN = "verify-me"
SB_SECRET = "sb-secret"


@pytest.fixture
def queue_url(sqs: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    name = f"reply-{uuid.uuid4().hex[:10]}.fifo"
    url = sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true"})["QueueUrl"]
    monkeypatch.setenv("REPLY_QUEUE_URL", url)
    monkeypatch.setenv("META_APP_SECRET", APP_SECRET)
    monkeypatch.setenv("META_VERIFY_TOKEN", VERIFY_TOKEN)
    monkeypatch.setenv("SUPPORT_BOARD_WEBHOOK_SECRET", SB_SECRET)
    monkeypatch.setenv("TENANT_ID", "acme")
    yield url


def invoke(
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    base64_body: bool = False,
) -> dict[str, Any]:
    from functions.webhook.handler import handler

    text = None
    if body is not None:
        text = base64.b64encode(body).decode() if base64_body else body.decode("utf-8")
    event = {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers or {},
        "multiValueHeaders": {k: [v] for k, v in (headers or {}).items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {"resourcePath": path, "httpMethod": method, "stage": "prod", "requestId": str(uuid.uuid4())},
        "body": text,
        "isBase64Encoded": base64_body,
    }
    return handler(event, LambdaContext("webhook"))


def post_meta(
    path: str, payload: dict[str, Any], *, secret: str = APP_SECRET, header: str = "X-Hub-Signature-256"
) -> dict[str, Any]:
    raw = meta_bytes(payload)
    return invoke("POST", path, body=raw, headers={"Content-Type": "application/json", header: sign(raw, secret)})


def drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Every message on the queue (FIFO hands out one group at a time, so keep receiving)."""
    found: list[dict[str, Any]] = []
    for _ in range(20):
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], VisibilityTimeout=60
        ).get("Messages", [])
        if not batch:
            break
        found.extend(batch)
    return found


def queued_count(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


# -- handshake ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/webhooks/whatsapp", "/webhooks/meta"])
def test_handshake_answers_the_challenge(queue_url: str, path: str) -> None:
    response = invoke(
        "GET", path, query={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    )
    assert response["statusCode"] == 200
    assert response["body"] == "1158201444"
    headers = response.get("multiValueHeaders") or {k: [v] for k, v in response.get("headers", {}).items()}
    assert headers["Content-Type"][0].startswith("text/plain")


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        None,
    ],
)
def test_handshake_refused(queue_url: str, query: dict[str, str] | None) -> None:
    assert invoke("GET", "/webhooks/whatsapp", query=query)["statusCode"] == 403


def test_handshake_refused_when_no_token_is_configured(queue_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("META_VERIFY_TOKEN")
    query = {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}
    assert invoke("GET", "/webhooks/meta", query=query)["statusCode"] == 403


# -- signatures --------------------------------------------------------------------------------


def _text_delivery(wamid: str = "wamid.TEXT1", body: str = "¿Precio de la nevera 1/2? café") -> dict[str, Any]:
    return whatsapp_delivery(whatsapp_value([wa_message("text", {"body": body}, wamid=wamid)]))


def test_missing_signature_is_401_and_nothing_is_queued(sqs: Any, queue_url: str) -> None:
    raw = meta_bytes(_text_delivery())
    response = invoke("POST", "/webhooks/whatsapp", body=raw, headers={"Content-Type": "application/json"})
    assert response["statusCode"] == 401
    assert queued_count(sqs, queue_url) == 0


def test_wrong_signature_is_401_and_nothing_is_queued(sqs: Any, queue_url: str) -> None:
    assert post_meta("/webhooks/whatsapp", _text_delivery(), secret="not-the-secret")["statusCode"] == 401
    raw = meta_bytes(_text_delivery())
    # Signed over a re-serialization (unescaped é and /), not the bytes actually sent.
    resigned = sign(json.dumps(json.loads(raw), ensure_ascii=False).encode(), APP_SECRET)
    response = invoke("POST", "/webhooks/meta", body=raw, headers={"X-Hub-Signature-256": resigned})
    assert response["statusCode"] == 401
    assert queued_count(sqs, queue_url) == 0


def test_no_app_secret_configured_refuses_events(sqs: Any, queue_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("META_APP_SECRET")
    assert post_meta("/webhooks/whatsapp", _text_delivery())["statusCode"] == 401
    assert queued_count(sqs, queue_url) == 0


def test_signed_escaped_body_is_accepted_and_normalized(sqs: Any, queue_url: str) -> None:
    response = post_meta("/webhooks/whatsapp", _text_delivery(), header="x-hub-signature-256")
    assert response["statusCode"] == 200
    [message] = drain(sqs, queue_url)
    envelope = parse_reply_queue_envelope(message["Body"])
    item = envelope.item
    assert isinstance(item, InboundMessage)
    assert item.text == "¿Precio de la nevera 1/2? café"
    assert item.tenant_id == "acme"
    assert item.conversation_id == f"wa:{PHONE_NUMBER_ID}:{CUSTOMER_PHONE}"
    assert message["Attributes"]["MessageGroupId"] == f"acme|wa:{PHONE_NUMBER_ID}:{CUSTOMER_PHONE}"
    assert message["Attributes"]["MessageDeduplicationId"] == "wamid.TEXT1"


def test_base64_encoded_body_is_verified_on_its_decoded_bytes(sqs: Any, queue_url: str) -> None:
    raw = meta_bytes(_text_delivery())
    response = invoke(
        "POST", "/webhooks/whatsapp", body=raw, headers={"X-Hub-Signature-256": sign(raw, APP_SECRET)}, base64_body=True
    )
    assert response["statusCode"] == 200
    assert len(drain(sqs, queue_url)) == 1


# -- dedup, statuses, unknown content ----------------------------------------------------------


def test_five_deliveries_of_one_webhook_leave_one_message(sqs: Any, queue_url: str) -> None:
    payload = _text_delivery(wamid="wamid.SAME")
    for _ in range(5):
        assert post_meta("/webhooks/whatsapp", payload)["statusCode"] == 200
    assert queued_count(sqs, queue_url) == 1
    [message] = drain(sqs, queue_url)
    assert parse_reply_queue_envelope(message["Body"]).item.platform_message_id == "wamid.SAME"


def test_statuses_are_queued_as_statuses_never_as_messages(sqs: Any, queue_url: str) -> None:
    failed = wa_status("failed", wamid="wamid.OUT2", errors=[{"code": 131047, "title": "Re-engagement message"}])
    payload = whatsapp_delivery(whatsapp_value(statuses=[wa_status("sent"), wa_status("delivered"), failed]))
    assert post_meta("/webhooks/whatsapp", payload)["statusCode"] == 200
    # The same statuses again (Meta redelivers) are deduplicated on id + status.
    assert post_meta("/webhooks/whatsapp", payload)["statusCode"] == 200
    messages = drain(sqs, queue_url)
    bodies = [json.loads(m["Body"]) for m in messages]
    assert [b["kind"] for b in bodies] == ["status", "status", "status"]
    items = [parse_reply_queue_envelope(m["Body"]).item for m in messages]
    assert all(isinstance(i, StatusUpdate) for i in items)
    assert [(i.platform_message_id, i.status) for i in items if isinstance(i, StatusUpdate)] == [
        ("wamid.OUT1", "sent"),
        ("wamid.OUT1", "delivered"),
        ("wamid.OUT2", "failed"),
    ]
    assert {m["Attributes"]["MessageDeduplicationId"] for m in messages} == {
        "wamid.OUT1:sent",
        "wamid.OUT1:delivered",
        "wamid.OUT2:failed",
    }


def test_mixed_delivery_keeps_messages_and_statuses_apart(sqs: Any, queue_url: str) -> None:
    value = whatsapp_value(
        [wa_message("image", {"id": "m1", "mime_type": "image/jpeg"}, wamid="wamid.IMG")], statuses=[wa_status("read")]
    )
    assert post_meta("/webhooks/whatsapp", whatsapp_delivery(value))["statusCode"] == 200
    kinds = sorted(json.loads(m["Body"])["kind"] for m in drain(sqs, queue_url))
    assert kinds == ["message", "status"]


@pytest.mark.parametrize(
    "payload",
    [
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"field": "account_update", "value": {}}]}],
        },
        {"object": "permissions", "entry": []},
        {"hello": "world"},
        messenger_delivery(fb_event(optin={"ref": "landing"})),
    ],
)
def test_unknown_payloads_are_acknowledged(sqs: Any, queue_url: str, payload: dict[str, Any]) -> None:
    assert post_meta("/webhooks/meta", payload)["statusCode"] == 200
    assert queued_count(sqs, queue_url) == 0


def test_signed_garbage_is_a_400_not_5xx(sqs: Any, queue_url: str) -> None:
    raw = b"not json at all"
    response = invoke("POST", "/webhooks/whatsapp", body=raw, headers={"X-Hub-Signature-256": sign(raw, APP_SECRET)})
    assert response["statusCode"] == 400 and "not valid JSON" in json.loads(response["body"])["message"]
    assert queued_count(sqs, queue_url) == 0


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        (  # a status whose "status" is a list, not a string
            "/webhooks/whatsapp",
            {
                "object": "whatsapp_business_account",
                "entry": [
                    {
                        "id": "1",
                        "changes": [
                            {
                                "field": "messages",
                                "value": {
                                    "metadata": {"phone_number_id": "1"},
                                    "statuses": [{"id": "wamid.X", "status": ["read"], "recipient_id": "5"}],
                                },
                            }
                        ],
                    }
                ],
            },
        ),
        ("/webhooks/meta", messenger_delivery(fb_event(delivery={"mids": 7, "watermark": 1}))),
    ],
)
def test_verified_payloads_of_an_unexpected_shape_are_acknowledged(
    sqs: Any, queue_url: str, path: str, payload: dict[str, Any]
) -> None:
    assert post_meta(path, payload)["statusCode"] == 200
    assert queued_count(sqs, queue_url) == 0


def test_characters_sqs_refuses_travel_escaped(sqs: Any, queue_url: str) -> None:
    response = post_meta("/webhooks/whatsapp", _text_delivery(body="hola \uffff\ufffe"))
    assert response["statusCode"] == 200
    (message,) = drain(sqs, queue_url)
    assert message["Body"].isascii()
    assert json.loads(message["Body"])["message"]["text"] == "hola \uffff\ufffe"


def test_sqs_failure_is_the_only_5xx(sqs: Any, queue_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPLY_QUEUE_URL", queue_url.replace(".fifo", "-missing.fifo"))
    assert post_meta("/webhooks/whatsapp", _text_delivery())["statusCode"] == 500
    assert queued_count(sqs, queue_url) == 0


# -- Messenger and Instagram -------------------------------------------------------------------


def test_messenger_message_echo_and_receipts(sqs: Any, queue_url: str) -> None:
    payload = messenger_delivery(
        fb_event(message={"mid": "m_in", "text": "Hola"}),
        fb_event(
            sender=PAGE_ID, recipient=PSID, message={"mid": "m_echo", "text": "Hola!", "is_echo": True, "app_id": 42}
        ),
        fb_event(delivery={"mids": ["m_echo"], "watermark": 1763892000000}),
    )
    assert post_meta("/webhooks/meta", payload)["statusCode"] == 200
    items = [parse_reply_queue_envelope(m["Body"]).item for m in drain(sqs, queue_url)]
    messages = [i for i in items if isinstance(i, InboundMessage)]
    assert [(m.platform_message_id, m.sender_role) for m in messages] == [("m_in", "customer"), ("m_echo", "page")]
    assert messages[1].metadata["app_id"] == "42"
    assert {m.conversation_id for m in messages} == {f"fb:{PAGE_ID}:{PSID}"}
    assert [(s.platform_message_id, s.status) for s in items if isinstance(s, StatusUpdate)] == [
        ("m_echo", "delivered")
    ]


def test_an_unsend_right_after_its_message_is_queued_too(sqs: Any, queue_url: str) -> None:
    """Both name the same mid: the unsend must not be deduplicated away as a redelivery."""
    from mostrador.messaging.model import MessageDeletion

    message = fb_event(sender="IGSID1", recipient="1784", message={"mid": "aWdfZAG1", "text": "mi dirección es..."})
    unsend = fb_event(sender="IGSID1", recipient="1784", message={"mid": "aWdfZAG1", "is_deleted": True})
    assert (
        post_meta("/webhooks/meta", messenger_delivery(message, obj="instagram", account_id="1784"))["statusCode"]
        == 200
    )
    assert (
        post_meta("/webhooks/meta", messenger_delivery(unsend, obj="instagram", account_id="1784"))["statusCode"] == 200
    )
    items = [parse_reply_queue_envelope(m["Body"]).item for m in drain(sqs, queue_url)]
    assert [type(i).__name__ for i in items] == ["InboundMessage", "MessageDeletion"]
    assert isinstance(items[1], MessageDeletion) and items[1].platform_message_id == "aWdfZAG1"


def test_messenger_standby_events_are_queued(sqs: Any, queue_url: str) -> None:
    payload = {
        "object": "page",
        "entry": [{"id": PAGE_ID, "time": 1, "standby": [fb_event(message={"mid": "m_standby", "text": "hola"})]}],
    }
    assert post_meta("/webhooks/meta", payload)["statusCode"] == 200
    [message] = drain(sqs, queue_url)
    item = parse_reply_queue_envelope(message["Body"]).item
    assert isinstance(item, InboundMessage) and item.metadata["standby"] == "true"


def test_whatsapp_coexistence_echoes_are_queued(sqs: Any, queue_url: str) -> None:
    value = whatsapp_value()
    value["message_echoes"] = [
        {
            "from": "15550783881",
            "to": CUSTOMER_PHONE,
            "id": "wamid.ECHO",
            "timestamp": "1763892000",
            "type": "text",
            "text": {"body": "Te atiendo yo"},
        }
    ]
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "smb_message_echoes", "value": value}]}],
    }
    assert post_meta("/webhooks/whatsapp", payload)["statusCode"] == 200
    [message] = drain(sqs, queue_url)
    item = parse_reply_queue_envelope(message["Body"]).item
    assert isinstance(item, InboundMessage)
    assert (item.conversation_id, item.sender_role) == (f"wa:{PHONE_NUMBER_ID}:{CUSTOMER_PHONE}", "agent")


# -- Support Board -----------------------------------------------------------------------------


def post_sb(payload: dict[str, Any]) -> dict[str, Any]:
    return invoke(
        "POST",
        "/webhooks/support-board",
        body=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
    )


def test_support_board_message_is_queued(sqs: Any, queue_url: str) -> None:
    assert post_sb(support_board_event(key=SB_SECRET))["statusCode"] == 200
    [message] = drain(sqs, queue_url)
    item = parse_reply_queue_envelope(message["Body"]).item
    assert isinstance(item, InboundMessage)
    assert (item.conversation_id, item.platform_message_id, item.sender_role) == ("sb:321", "sb:9001", "customer")
    assert message["Attributes"]["MessageGroupId"] == "acme|sb:321"


@pytest.mark.parametrize("key", ["wrong", "", None])
def test_support_board_wrong_or_missing_key_is_401(sqs: Any, queue_url: str, key: str | None) -> None:
    payload = support_board_event(key=key or "")
    if key is None:
        del payload["key"]
    assert post_sb(payload)["statusCode"] == 401
    assert queued_count(sqs, queue_url) == 0


def test_support_board_other_events_are_ignored(sqs: Any, queue_url: str) -> None:
    assert post_sb(support_board_event(function="conversation-status-updated", key=SB_SECRET))["statusCode"] == 200
    assert queued_count(sqs, queue_url) == 0


def test_support_board_without_configured_secret_refuses(
    sqs: Any, queue_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SUPPORT_BOARD_WEBHOOK_SECRET")
    assert post_sb(support_board_event(key=SB_SECRET))["statusCode"] == 401
    assert queued_count(sqs, queue_url) == 0


def test_support_board_body_that_is_not_json_is_400(queue_url: str) -> None:
    response = invoke("POST", "/webhooks/support-board", body=b"function=message-sent")
    assert response["statusCode"] == 400
    assert "JSON" in json.loads(response["body"])["message"]


def test_unknown_route_is_404(queue_url: str) -> None:
    assert invoke("POST", "/webhooks/telegram", body=b"{}")["statusCode"] == 404


def test_handler_module_loads_no_heavy_sdk() -> None:
    import subprocess
    import sys

    code = (
        "import sys, functions.webhook.handler; "
        "heavy = ('openai', 'google.genai', 'psycopg', 'bs4', 'numpy', 'httpx', 'py3langid'); "
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": "layers/shared/python:.", "PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"},
    )
    assert out.stdout.strip() == ""
