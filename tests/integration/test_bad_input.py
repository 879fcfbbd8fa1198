"""Bad input and odd events (issue 14, items 8-10), each as a fixture through the real handlers:
API Gateway v1 proxy events into functions/{webhook,ingest,admin,webchat}/handler.py, the real
boto3 on moto's SQS (a reply queue with the deployed 256 KiB message limit), and the real reply
handler answering at the fake Meta / Support Board servers. The same inputs over the local stack's
HTTP gateway are in test_local_stack.py."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from mostrador.config import reset_settings
from mostrador.queues import MAX_MESSAGE_BYTES
from tests.fakes.platforms import platforms_fixture  # noqa: F401
from tests.integration import test_admin_support as admin_support
from tests.integration import test_reply_llm as reply_llm
from tests.integration.test_reply_support import inbound_row, replies
from tests.integration.test_webhook import APP_SECRET, SB_SECRET, drain, invoke, queued_count
from tests.lambda_events import LambdaContextStub, api_event, response_json, sqs_event
from tests.unit.channels.payloads import (
    CUSTOMER_PHONE,
    PHONE_NUMBER_ID,
    meta_bytes,
    sign,
    support_board_event,
    wa_message,
    whatsapp_delivery,
    whatsapp_value,
)

admin, reply_env = admin_support.admin, admin_support.reply_env
llm_env = reply_llm.llm_env
DEPTH = 5_000  # past the 1,000 levels at which Python's json parser gave up with RecursionError


def nested(depth: int = DEPTH) -> str:
    return "[" * depth + "]" * depth


@pytest.fixture
def reply_queue(sqs: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The reply FIFO queue with SQS's default 256 KiB message limit, as deployed (moto's is 1 MiB)."""
    name = f"reply-{uuid.uuid4().hex[:10]}.fifo"
    attributes = {"FifoQueue": "true", "MaximumMessageSize": str(MAX_MESSAGE_BYTES)}
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    monkeypatch.setenv("REPLY_QUEUE_URL", url)
    monkeypatch.setenv("META_APP_SECRET", APP_SECRET)
    monkeypatch.setenv("SUPPORT_BOARD_WEBHOOK_SECRET", SB_SECRET)
    yield url


def post_signed(path: str, raw: bytes) -> dict[str, Any]:
    return invoke(
        "POST",
        path,
        body=raw,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(raw, APP_SECRET)},
        base64_body=not raw.isascii(),  # as API Gateway hands over a body that is not UTF-8
    )


def post_sb_raw(raw: bytes) -> dict[str, Any]:
    return invoke("POST", "/webhooks/support-board", body=raw, headers={"Content-Type": "application/json"})


def sb_bytes(payload: dict[str, Any]) -> bytes:
    # Support Board's json_encode keeps non-ASCII as UTF-8 (JSON_UNESCAPED_UNICODE).
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def message_of(response: dict[str, Any]) -> str:
    body = response_json(response) or {}
    return str(body.get("message") or body.get("error") or "")


def text_delivery(text: str, wamid: str) -> dict[str, Any]:
    # Sent now: an old timestamp would put the message outside WhatsApp's 24-hour window.
    message = wa_message("text", {"body": text}, wamid=wamid, timestamp=str(int(time.time())))
    return whatsapp_delivery(whatsapp_value([message]))


def answer_queued(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Run the real reply handler on everything the webhook queued; the SQS messages it read."""
    from functions.reply.handler import handler

    messages = drain(sqs, url)
    result = handler(sqs_event(messages, "arn:aws:sqs:us-east-1:123456789012:reply.fifo"), LambdaContextStub())
    assert result["batchItemFailures"] == []
    return messages


# -- 8: bodies nested past any sane limit --------------------------------------------------------


@pytest.mark.parametrize("path", ["/webhooks/whatsapp", "/webhooks/meta"])
def test_deeply_nested_signed_meta_body_is_a_400_after_the_signature_check(sqs, reply_queue, path):
    raw = ('{"object":"whatsapp_business_account","entry":' + nested() + "}").encode()
    unsigned = invoke("POST", path, body=raw, headers={"X-Hub-Signature-256": sign(raw, "not-the-secret")})
    assert unsigned["statusCode"] == 401  # the signature on the raw bytes comes first, as before
    response = post_signed(path, raw)
    assert response["statusCode"] == 400 and "levels deep" in message_of(response)
    assert queued_count(sqs, reply_queue) == 0


def test_signed_body_that_is_not_json_is_a_400_never_a_5xx(sqs, reply_queue):
    for raw in (b"not json at all", b'{"object": "page", "entry": [', '{"a": "\xe9"}'.encode("latin-1")):
        response = post_signed("/webhooks/meta", raw)
        assert response["statusCode"] == 400, raw
    assert queued_count(sqs, reply_queue) == 0


def test_deeply_nested_support_board_body_needs_the_key_first(sqs, reply_queue):
    deep_data = '{"function":"message-sent","key":%s,"data":' + nested() + "}"
    for key in ('"wrong"', '""', "null"):
        assert post_sb_raw((deep_data % key).encode())["statusCode"] == 401
    assert post_sb_raw(('{"function":"message-sent","data":' + nested() + "}").encode())["statusCode"] == 401
    # The key hidden after (or inside) the nested value is never looked for: nothing is parsed unauthenticated.
    behind = '{"function":"message-sent","data":' + nested() + ',"key":"' + SB_SECRET + '"}'
    assert post_sb_raw(behind.encode())["statusCode"] == 401
    inside = {"function": "message-sent", "data": {"key": SB_SECRET}}
    assert post_sb_raw(json.dumps(inside).encode())["statusCode"] == 401

    with_key = post_sb_raw((deep_data % json.dumps(SB_SECRET)).encode())
    assert with_key["statusCode"] == 400 and "levels deep" in message_of(with_key)
    assert queued_count(sqs, reply_queue) == 0


def test_support_board_key_is_checked_before_the_rest_of_the_body_is_read(sqs, reply_queue):
    broken = b'{"function":"message-sent","key":"wrong","data":{"message": "hola", '  # cut short
    assert post_sb_raw(broken)["statusCode"] == 401
    right = broken.replace(b'"wrong"', json.dumps(SB_SECRET).encode())
    response = post_sb_raw(right)
    assert response["statusCode"] == 400 and "not valid JSON" in message_of(response)
    assert post_sb_raw(sb_bytes(support_board_event(key=SB_SECRET)))["statusCode"] == 200
    assert queued_count(sqs, reply_queue) == 1


@pytest.mark.parametrize(
    "body",
    [
        nested(),
        '{"products": [{"itemCode": "A1", "itemName": "Nevera", "specifications": ' + nested() + "}]}",
        "[" * 100_000,  # never closed: still a 400, not a RecursionError
    ],
)
def test_deeply_nested_catalog_push_is_a_400_and_nothing_is_enqueued(pipeline, body):
    status, answer = pipeline.push(body.encode())
    assert status == 400 and "levels deep" in answer["error"]
    assert pipeline.queued_count() == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/admin/model-prices/gpt-4o-mini"),
        ("POST", "/admin/conversations/wa:1:2/takeover"),
        ("POST", "/admin/escalations/1/resolve"),
    ],
)
def test_deeply_nested_admin_body_is_a_400_and_needs_the_token_first(admin, db, method, path):
    assert admin.call(method, path, body=nested(), token=None).status == 401
    answer = admin.call(method, path, body=nested())
    assert answer.status == 400 and "levels deep" in answer.json["error"]


def test_deeply_nested_web_chat_post_is_a_400(sqs, reply_queue):
    from functions.webchat.handler import handler

    body = '{"conversationId": "' + "c" * 20 + '", "text": "hola", "extra": ' + nested() + "}"
    response = handler(api_event("POST", "/webchat/messages", body=body), LambdaContextStub())
    assert response["statusCode"] == 400 and "levels deep" in response_json(response)["error"]
    assert queued_count(sqs, reply_queue) == 0


# A number past Python's int conversion limit (4,300 digits) made json.loads raise a plain ValueError,
# which no route caught: a 5xx on every route, the unauthenticated web chat POST included.
HUGE_NUMBER = "9" * 5_000


def _huge_number_to_meta(request: pytest.FixtureRequest, path: str) -> tuple[int, str, int]:
    sqs, url = request.getfixturevalue("sqs"), request.getfixturevalue("reply_queue")
    response = post_signed(path, ('{"object":"whatsapp_business_account","entry":[],"n":' + HUGE_NUMBER + "}").encode())
    return response["statusCode"], message_of(response), queued_count(sqs, url)


def _huge_number_to_support_board(request: pytest.FixtureRequest) -> tuple[int, str, int]:
    sqs, url = request.getfixturevalue("sqs"), request.getfixturevalue("reply_queue")
    body = '{"function":"message-sent","key":%s,"data":{"message":"hola","n":' + HUGE_NUMBER + "}}"
    assert post_sb_raw((body % '"wrong"').encode())["statusCode"] == 401  # the key is still checked first
    response = post_sb_raw((body % json.dumps(SB_SECRET)).encode())
    return response["statusCode"], message_of(response), queued_count(sqs, url)


def _huge_number_to_ingest(request: pytest.FixtureRequest) -> tuple[int, str, int]:
    pipeline = request.getfixturevalue("pipeline")
    status, answer = pipeline.push(
        ('[{"itemCode": "A1", "itemName": "Nevera", "stock": ' + HUGE_NUMBER + "}]").encode()
    )
    return status, answer["error"], pipeline.queued_count()


def _huge_number_to_admin(request: pytest.FixtureRequest) -> tuple[int, str, int]:
    admin, db = request.getfixturevalue("admin"), request.getfixturevalue("db")
    answer = admin.call("PUT", "/admin/model-prices/gpt-4o-mini", body='{"inputPerMillion": ' + HUGE_NUMBER + "}")
    stored = db.execute("SELECT count(*) AS n FROM model_prices").fetchone()["n"]
    return answer.status, answer.json["error"], stored


def _huge_number_to_web_chat(request: pytest.FixtureRequest) -> tuple[int, str, int]:
    from functions.webchat.handler import handler

    sqs, url = request.getfixturevalue("sqs"), request.getfixturevalue("reply_queue")
    body = '{"conversationId": "' + "c" * 20 + '", "text": "hola", "n": ' + HUGE_NUMBER + "}"
    response = handler(api_event("POST", "/webchat/messages", body=body), LambdaContextStub())
    return response["statusCode"], message_of(response), queued_count(sqs, url)


@pytest.mark.parametrize(
    "send",
    [
        lambda request: _huge_number_to_meta(request, "/webhooks/whatsapp"),
        lambda request: _huge_number_to_meta(request, "/webhooks/meta"),
        _huge_number_to_support_board,
        _huge_number_to_ingest,
        _huge_number_to_admin,
        _huge_number_to_web_chat,
    ],
    ids=["whatsapp-signed", "meta-signed", "support-board-after-key", "ingest", "admin", "web-chat"],
)
def test_a_number_of_5000_digits_is_a_400_on_every_route_and_nothing_is_kept(request, send):
    status, error, kept = send(request)
    assert status == 400 and "a number has more than 4300 digits" in error, (status, error)
    assert kept == 0


def test_a_web_chat_post_that_is_not_utf_8_is_a_400(sqs, reply_queue):
    import base64

    from functions.webchat.handler import handler

    # A body that is not UTF-8 arrives base64-encoded (the local gateway always; API Gateway for the
    # binary media type, which any caller can name in Content-Type); decoding it unguarded was a 502.
    event = api_event("POST", "/webchat/messages", headers={"Content-Type": "application/json"})
    raw = ('{"conversationId": "' + "c" * 20 + '", "text": "caf\xe9"}').encode("latin-1")
    event["body"], event["isBase64Encoded"] = base64.b64encode(raw).decode(), True
    response = handler(event, LambdaContextStub())
    assert response["statusCode"] == 400 and "not UTF-8" in response_json(response)["error"]
    assert queued_count(sqs, reply_queue) == 0


def test_unauthenticated_web_chat_post_with_a_never_ending_string_is_a_400_at_once(sqs, reply_queue):
    from functions.webchat.handler import handler

    # Escaped quotes in a string never closed: the string scan used to restart at each one (quadratic).
    body = '{"conversationId": "' + "c" * 20 + '", "text": "' + '\\"' * 40_000
    started = time.monotonic()
    response = handler(api_event("POST", "/webchat/messages", body=body), LambdaContextStub())
    assert response["statusCode"] == 400 and "not valid JSON" in response_json(response)["error"]
    assert time.monotonic() - started < 5  # generous: it took about 45 s
    assert queued_count(sqs, reply_queue) == 0


def test_an_admin_body_that_is_not_utf_8_is_a_400(admin, db):
    import base64

    from functions.admin.handler import handler
    from tests.integration.test_admin_support import ADMIN_TOKEN

    # The gateway hands over a body that is not UTF-8 base64-encoded (the local one always, API
    # Gateway for the binary media type): the shared input check decoded it unguarded (a 502).
    event = api_event(
        "PUT",
        "/admin/model-prices/gpt-4o-mini",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {ADMIN_TOKEN}"},
        resource="/admin/{proxy+}",
        path_parameters={"proxy": "model-prices/gpt-4o-mini"},
    )
    event["body"] = base64.b64encode('{"inputPerMillion": 1, "note": "\xe9"}'.encode("latin-1")).decode()
    event["isBase64Encoded"] = True
    response = handler(event, LambdaContextStub())
    assert response["statusCode"] == 400, response
    assert "not UTF-8" in response_json(response)["error"]


# -- 9: NUL and lone surrogates ------------------------------------------------------------------


def test_nul_in_admin_paths_and_queries_is_a_400_saying_what_to_fix(admin, db):
    cases = [
        ("GET", "/admin/conversations/%00", None, None),
        ("GET", "/admin/conversations/wa%3A1%00/", None, None),
        ("GET", "/admin/customers/%00/status", None, None),
        ("POST", "/admin/conversations/%00/resume", None, {}),
        ("PUT", "/admin/model-prices/%00", None, {"inputPerMillion": 1, "outputPerMillion": 2}),
        ("GET", "/admin/export", {"since": "2026-01-01", "until": "2026-01-02", "customer": "\x00"}, None),
        ("GET", "/admin/conversations", {"customer": "58412\x00"}, None),
        ("GET", "/admin/conversations", {"cursor": "\ud800"}, None),
    ]
    for method, path, query, body in cases:
        answer = admin.call(method, path, query=query, body=body)
        assert answer.status == 400, (method, path, query, answer.status, answer.raw[:300])
        error = answer.json["error"]
        assert error.startswith("Invalid request:") and ("NUL (U+0000)" in error or "U+D800" in error), error
    # The same routes with ordinary values still work.
    assert admin.call("GET", "/admin/conversations", query={"customer": "584125550101"}).status == 200
    assert (
        admin.call("PUT", "/admin/model-prices/gpt-4o-mini", body={"inputPerMillion": 1, "outputPerMillion": 2}).status
        == 200
    )


def test_nul_or_a_lone_surrogate_in_an_admin_body_is_a_400(admin, db):
    for note in ("hola\u0000", "hola \ud83d"):
        answer = admin.call("POST", "/admin/conversations/wa:1:2/takeover", body=json.dumps({"note": note}))
        assert answer.status == 400 and "body.note contains" in answer.json["error"], answer.raw
    assert db.execute("SELECT count(*) AS n FROM conversation_pauses").fetchone()["n"] == 0


CUSTOMER_TEXTS = [
    ("hola\u0000 ¿tienen neveras?", "hola ¿tienen neveras?"),
    ("¿tienen neveras? \ud83d", "¿tienen neveras? \ufffd"),  # half of an emoji's surrogate pair
    ("\udc00precio\u0000\u0001 de la nevera", "\ufffdprecio de la nevera"),
]


@pytest.mark.parametrize(("sent", "stored"), CUSTOMER_TEXTS)
def test_whatsapp_text_with_nul_or_lone_surrogate_is_cleaned_recorded_and_answered(
    sqs, reply_queue, reply_env, db, sent, stored
):
    wamid = f"wamid.NUL{uuid.uuid4().hex[:8]}"
    raw = meta_bytes(text_delivery(sent, wamid))
    assert b"\\u0000" in raw or b"\\ud83d" in raw or b"\\udc00" in raw  # as Meta escapes them
    assert post_signed("/webhooks/whatsapp", raw)["statusCode"] == 200
    answer_queued(sqs, reply_queue)

    row = inbound_row(db, wamid)
    assert (row["text"], row["state"]) == (stored, "replied")
    [reply] = replies(db, row["conversation_id"])
    assert reply["status"] == "sent"
    [sent_reply] = reply_env.meta.sent()
    assert sent_reply.json["to"] == CUSTOMER_PHONE and sent_reply.json["text"]["body"]


def test_support_board_text_with_nul_is_cleaned_recorded_and_answered(sqs, reply_queue, reply_env, db):
    board = reply_env.support_board
    board.add_user("45", **{"facebook-id": "PSID-45"})
    board.add_conversation("321", user_id="45", source="ig", extra="PAGE-1")
    payload = support_board_event(key=SB_SECRET, message="hola\u0000, ¿precio? \ud83d")
    raw = json.dumps(payload).encode()  # ASCII escapes: "\u0000" and a lone "\ud83d" as JSON allows
    assert post_sb_raw(raw)["statusCode"] == 200
    answer_queued(sqs, reply_queue)

    row = inbound_row(db, "sb:9001")
    assert (row["text"], row["state"]) == ("hola, ¿precio? \ufffd", "replied")
    [sent] = board.calls("messenger-send-message")
    assert sent["psid"] == "PSID-45" and sent["message"]


@pytest.mark.parametrize(
    "typed",
    ["[" * 3_000, "[" + "9" * 5_000 + "]", '{"precio": 1}'],
    ids=["3000-open-brackets", "5000-digit-number", "json-looking-text"],
)
def test_support_board_customer_text_that_looks_like_json_is_answered_and_nothing_dead_lettered(
    sqs, reply_queue, reply_env, db, typed
):
    # Support Board's get-conversation (read before every reply, for a human's takeover) carries the
    # customer's own text: every string in it that began with [ or { was json.loads-ed, so these made the
    # batch fail (RecursionError) or the read a TransientSendError, retried into the dead-letter queue.
    board = reply_env.support_board
    board.add_user("45", **{"facebook-id": "PSID-45"})
    board.add_conversation("321", user_id="45", source="ig", extra="PAGE-1")
    board.add_message("321", "45", typed, time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()))
    assert post_sb_raw(sb_bytes(support_board_event(key=SB_SECRET, message=typed)))["statusCode"] == 200
    answer_queued(sqs, reply_queue)  # asserts no batch item failure: nothing retried, nothing dead-lettered

    row = inbound_row(db, "sb:9001")
    assert (row["text"], row["state"]) == (typed, "replied")
    [sent] = board.calls("messenger-send-message")
    assert sent["psid"] == "PSID-45" and sent["message"]
    [reply] = [r for r in replies(db, "sb:321") if r["status"] == "sent"]
    assert reply["text"]


def test_web_chat_text_with_nul_is_cleaned_and_one_of_only_control_characters_is_empty(sqs, reply_queue):
    from functions.webchat.handler import handler

    conversation = uuid.uuid4().hex
    body = json.dumps({"conversationId": conversation, "text": "hola\u0000 \ud800"})
    response = handler(api_event("POST", "/webchat/messages", body=body), LambdaContextStub())
    assert response["statusCode"] == 202
    [queued] = drain(sqs, reply_queue)
    assert json.loads(queued["Body"])["message"]["text"] == "hola \ufffd"
    empty = json.dumps({"conversationId": conversation, "text": "\u0000\u0001"})
    refused = handler(api_event("POST", "/webchat/messages", body=empty), LambdaContextStub())
    assert refused["statusCode"] == 400 and "text must be" in response_json(refused)["error"]


# -- 10: events larger than one queue message ----------------------------------------------------


def _queued_message(message: dict[str, Any]) -> dict[str, Any]:
    assert len(message["Body"].encode()) <= MAX_MESSAGE_BYTES
    return json.loads(message["Body"])["message"]


@pytest.mark.parametrize("letter", ["a", "ñ"], ids=["ascii", "escaped-six-bytes-each"])
def test_a_3_mb_whatsapp_text_is_acknowledged_cut_to_fit_counted_and_answered(
    sqs, reply_queue, reply_env, db, capsys, letter
):
    text = ("¿Tienen nevera? " + letter * 3_000_000)[:3_000_000]
    wamid = f"wamid.BIG{uuid.uuid4().hex[:8]}"
    raw = meta_bytes(text_delivery(text, wamid))
    assert len(raw) > 3_000_000
    response = post_signed("/webhooks/whatsapp", raw)
    assert response["statusCode"] == 200, response["body"]
    assert '"WebhookEventsTruncated"' in capsys.readouterr().out

    [message] = answer_queued(sqs, reply_queue)
    queued = _queued_message(message)
    marker = re.search(
        r"\n\n\[… message truncated by Mostrador: 3000000 characters received, the first (\d+) kept\]$", queued["text"]
    )
    assert marker is not None and int(marker.group(1)) == marker.start() > MAX_MESSAGE_BYTES // 6 - 1_000
    assert queued["text"][: marker.start()] == text[: marker.start()]
    assert queued["metadata"]["truncated_from_chars"] == "3000000"
    assert queued["conversation_id"] == f"wa:{PHONE_NUMBER_ID}:{CUSTOMER_PHONE}"
    # Nearly the whole message budget is used, whatever the escaping.
    assert len(message["Body"].encode()) > MAX_MESSAGE_BYTES - 100

    row = inbound_row(db, wamid)
    assert row["state"] == "replied" and row["text"] == queued["text"]
    [sent] = reply_env.meta.sent()
    assert sent.json["to"] == CUSTOMER_PHONE and sent.json["context"] == {"message_id": wamid}


def test_a_2_mb_support_board_message_is_acknowledged_cut_to_fit_and_answered(sqs, reply_queue, reply_env, db):
    board = reply_env.support_board
    board.add_user("45", **{"facebook-id": "PSID-45"})
    board.add_conversation("321", user_id="45", source="ig", extra="PAGE-1")
    text = "Hola, quiero una nevera. " + "😀" * 500_000  # 2 MB of UTF-8; 12 escaped bytes per emoji
    raw = sb_bytes(support_board_event(key=SB_SECRET, message=text))
    assert len(raw) > 2_000_000
    assert post_sb_raw(raw)["statusCode"] == 200

    [message] = answer_queued(sqs, reply_queue)
    queued = _queued_message(message)
    assert queued["text"].startswith("Hola, quiero una nevera. 😀😀")
    assert f"{len(text)} characters received" in queued["text"]
    row = inbound_row(db, "sb:9001")
    assert row["state"] == "replied"
    [sent] = board.calls("messenger-send-message")
    assert sent["psid"] == "PSID-45" and sent["message"]


def test_a_3_mb_text_reaches_the_model_cut_to_a_few_thousand_characters_on_every_turn(
    sqs, reply_queue, llm_env, db, monkeypatch
):
    # The webhook keeps ~40,000-250,000 characters of it (one queue message); the model is shown 3,000.
    from mostrador.llm import CUSTOMER_TEXT_CHARS

    monkeypatch.setenv("LLM_PROVIDER", "openai")
    reset_settings()
    llm_env.script_chat(["¿Qué nevera buscas?", "Sí, tenemos lavadoras."])
    text = ("¿Tienen nevera? " + "a" * 3_000_000)[:3_000_000]
    wamid = f"wamid.BIGLLM{uuid.uuid4().hex[:8]}"
    assert post_signed("/webhooks/whatsapp", meta_bytes(text_delivery(text, wamid)))["statusCode"] == 200
    answer_queued(sqs, reply_queue)
    kept = inbound_row(db, wamid)["text"]
    later = f"wamid.AFTER{uuid.uuid4().hex[:8]}"
    assert post_signed("/webhooks/whatsapp", meta_bytes(text_delivery("¿y lavadoras?", later)))["statusCode"] == 200
    answer_queued(sqs, reply_queue)

    chats = [r for r in llm_env.requests if r.kind == "chat"]
    assert len(chats) == 2  # the big message's own turn, then a later one carrying it as history
    for chat in chats:
        [shown] = [
            m["content"] for m in chat.body["messages"] if m["role"] == "user" and m["content"].startswith("¿Tienen")
        ]
        assert (
            shown == f"{kept[:CUSTOMER_TEXT_CHARS]}\n\n[… {len(kept) - CUSTOMER_TEXT_CHARS} more characters not shown]"
        )
        assert len(json.dumps(chat.body)) < 30_000  # the whole request, where the uncut text alone was ~250 KB


@pytest.mark.parametrize(("obj", "channel"), [("page", "messenger"), ("instagram", "instagram")])
def test_a_1_mb_messenger_or_instagram_text_is_acknowledged_and_cut_to_fit(sqs, reply_queue, obj, channel):
    from tests.unit.channels.payloads import fb_event, messenger_delivery

    text = "¿Tienen neveras? " + "é" * 1_000_000
    event = fb_event(message={"mid": f"m_BIG_{channel}", "text": text, "quick_reply": {"payload": "P" * 50_000}})
    raw = meta_bytes(messenger_delivery(event, obj=obj))
    response = post_signed("/webhooks/meta", raw)
    assert response["statusCode"] == 200 and message_of(response) == "Queued 1 event(s)."
    [message] = drain(sqs, reply_queue)
    queued = _queued_message(message)
    assert (queued["channel"], queued["platform_message_id"]) == (channel, f"m_BIG_{channel}")
    assert queued["text"].startswith("¿Tienen neveras? éé")
    assert queued["metadata"]["truncated_from_chars"] == str(len(text))
    assert len(queued["metadata"]["quick_reply_payload"]) <= 1_001  # metadata values are cut too


def test_several_large_messages_in_one_delivery_are_all_queued(sqs, reply_queue):
    # Each fits one SQS message; together they exceed what one SendMessageBatch call may carry
    # (256 KiB on a queue of the default size; moto checks 1 MiB, which six of them exceed too).
    messages = [wa_message("text", {"body": "x" * 200_000}, wamid=f"wamid.MANY{i}") for i in range(6)]
    raw = meta_bytes(whatsapp_delivery(whatsapp_value(messages)))
    response = post_signed("/webhooks/whatsapp", raw)
    assert response["statusCode"] == 200 and message_of(response) == "Queued 6 event(s)."
    queued = [json.loads(m["Body"])["message"] for m in drain(sqs, reply_queue)]
    assert sorted(m["platform_message_id"] for m in queued) == [f"wamid.MANY{i}" for i in range(6)]
    assert all(len(m["text"]) == 200_000 and "truncated_from_chars" not in m["metadata"] for m in queued)
