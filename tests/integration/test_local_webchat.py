"""The web chat function in-process, with the events the local API Gateway builds: validation, the reply
FIFO queue (moto over HTTP), polling the conversation from the real database, CORS."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from local.api_gateway import HttpRequest, find_route, proxy_event
from local.lambda_context import LambdaContext
from mostrador.channels.base import OutboundMessage
from mostrador.channels.webchat import WebChatSender, conversation_key, parse_post
from mostrador.db import conversation_repository as repo

CONVERSATION = "c0ffee00c0ffee00c0ffee00"


def call(method: str, path: str, body: Any = None, query: str = "", headers: dict[str, str] | None = None) -> Any:
    from urllib.parse import parse_qsl

    from functions.webchat.handler import handler

    raw = json.dumps(body).encode() if body is not None and not isinstance(body, bytes) else (body or b"")
    request = HttpRequest(method, path, parse_qsl(query), list((headers or {}).items()), raw, "127.0.0.1")
    found = find_route(method, path)
    assert found is not None
    event = proxy_event(found[0], found[1], request)
    response = handler(event, LambdaContext(function_name="webchat"))
    response["json"] = json.loads(response["body"]) if response.get("body") else None
    # REST API proxy answers may carry headers in either map; what the browser sees is both.
    merged = dict(response.get("headers") or {})
    merged.update({k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items() if v})
    response["headers"] = merged
    return response


@pytest.fixture
def reply_queue(sqs: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    url = sqs.create_queue(QueueName=f"webchat-{uuid.uuid4().hex[:8]}.fifo", Attributes={"FifoQueue": "true"})[
        "QueueUrl"
    ]
    monkeypatch.setenv("REPLY_QUEUE_URL", url)
    return str(url)


def test_a_posted_message_goes_on_the_reply_fifo_queue_grouped_by_conversation(sqs: Any, reply_queue: str) -> None:
    answer = call(
        "POST", "/webchat/messages", {"conversationId": CONVERSATION, "text": " ¿Tienen aires de 12.000 BTU? "}
    )
    assert answer["statusCode"] == 202, answer["body"]
    assert answer["json"]["conversationId"] == CONVERSATION

    messages = sqs.receive_message(QueueUrl=reply_queue, MessageSystemAttributeNames=["All"])["Messages"]
    assert len(messages) == 1
    body = json.loads(messages[0]["Body"])
    assert body["kind"] == "message"
    message = body["message"]
    assert message["channel"] == "webchat" and message["sender_role"] == "customer"
    assert message["conversation_id"] == conversation_key(CONVERSATION)
    assert message["text"] == "¿Tienen aires de 12.000 BTU?"
    assert messages[0]["Attributes"]["MessageGroupId"].endswith(conversation_key(CONVERSATION))
    assert messages[0]["Attributes"]["MessageDeduplicationId"] == answer["json"]["messageId"]


def test_the_same_client_message_id_is_enqueued_once(sqs: Any, reply_queue: str) -> None:
    body = {"conversationId": CONVERSATION, "text": "hola", "clientMessageId": "retry-0000000000000001"}
    assert call("POST", "/webchat/messages", body)["statusCode"] == 202
    assert call("POST", "/webchat/messages", body)["statusCode"] == 202  # a browser retry
    received = sqs.receive_message(QueueUrl=reply_queue, MaxNumberOfMessages=10)["Messages"]
    assert len(received) == 1


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"", "Body is empty"),
        (b"{not json", "not valid JSON"),
        ([1, 2], "JSON object"),
        ({"conversationId": "short", "text": "hola"}, "conversationId must be 16-64"),
        ({"conversationId": CONVERSATION, "text": "   "}, "text must be 1-4000"),
        ({"conversationId": CONVERSATION, "text": "x" * 4001}, "text must be 1-4000"),
        ({"conversationId": CONVERSATION, "text": "hola", "extra": 1}, "extra"),
    ],
)
def test_bad_posts_get_a_400_saying_what_to_fix(sqs: Any, reply_queue: str, body: Any, fragment: str) -> None:
    answer = call("POST", "/webchat/messages", body)
    assert answer["statusCode"] == 400
    assert fragment in answer["json"]["error"]
    assert "Messages" not in sqs.receive_message(QueueUrl=reply_queue)


def test_polling_returns_the_conversation_after_an_id_and_hides_unsent_drafts(db: Any) -> None:
    now = datetime.now(UTC)
    first = parse_post(json.dumps({"conversationId": CONVERSATION, "text": "hola"}), "default", now)
    inbound = repo.record_inbound(db, first, "customer")
    draft = repo.store_reply_draft(
        db,
        "default",
        first.conversation_id,
        "webchat",
        inbound.id,
        repo.ReplyDraft(text="¡Hola! ¿Qué buscas?", language="es"),
    )
    pending = call("GET", "/webchat/messages", query=f"conversationId={CONVERSATION}&after=0")
    assert [m["from"] for m in pending["json"]["messages"]] == ["customer"]  # the draft is not sent yet

    sent = WebChatSender().send(OutboundMessage("default", "webchat", first.conversation_id, CONVERSATION, "x"))
    repo.mark_reply_sent(db, "default", draft["id"], sent.platform_message_ids, latency_ms=5)
    answer = call("GET", "/webchat/messages", query=f"conversationId={CONVERSATION}&after=0")
    assert answer["statusCode"] == 200
    shown = answer["json"]["messages"]
    assert [(m["from"], m["text"]) for m in shown] == [("customer", "hola"), ("bot", "¡Hola! ¿Qué buscas?")]
    assert answer["json"]["next"] == shown[-1]["id"]

    later = call("GET", "/webchat/messages", query=f"conversationId={CONVERSATION}&after={shown[0]['id']}")
    assert [m["from"] for m in later["json"]["messages"]] == ["bot"]
    other = call("GET", "/webchat/messages", query="conversationId=another-conversation-0001&after=0")
    assert other["json"]["messages"] == []


@pytest.mark.parametrize(
    ("query", "fragment"),
    [("", "conversationId must be"), (f"conversationId={CONVERSATION}&after=abc", "after must be")],
)
def test_bad_polls_get_a_400(query: str, fragment: str) -> None:
    answer = call("GET", "/webchat/messages", query=query)
    assert answer["statusCode"] == 400 and fragment in answer["json"]["error"]


def test_cors_only_for_the_configured_origin(sqs: Any, reply_queue: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBCHAT_ALLOWED_ORIGINS", "https://tienda.example, https://www.tienda.example")
    preflight = call("OPTIONS", "/webchat/messages", headers={"Origin": "https://tienda.example"})
    assert preflight["statusCode"] == 204
    assert preflight["headers"]["Access-Control-Allow-Origin"] == "https://tienda.example"
    assert "POST" in preflight["headers"]["Access-Control-Allow-Methods"]

    body = {"conversationId": CONVERSATION, "text": "hola"}
    foreign = call("POST", "/webchat/messages", body, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in (foreign.get("headers") or {})
    allowed = call("POST", "/webchat/messages", body, headers={"Origin": "https://www.tienda.example"})
    assert allowed["headers"]["Access-Control-Allow-Origin"] == "https://www.tienda.example"
