"""Pieces of the local stack on their own: .env reading, API Gateway proxy events and answers, the outbox
spoken to by the real WhatsApp sender over HTTP, and the choice of LLM provider."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from local.api_gateway import HttpRequest, dispatch, find_route, proxy_event, proxy_response
from local.envfile import load_env_file, parse_env_text
from local.outbox import Outbox
from local.stack import choose_llm_provider


def test_env_file_parsing_and_real_environment_wins(tmp_path: Path) -> None:
    text = "\n".join(
        [
            "# comment",
            "PLAIN=value",
            "export EXPORTED=yes",
            'QUOTED="two words # not a comment"',
            "SINGLE='a$b'",
            "INLINE=kept # dropped",
            "EMPTY=",
            "not a line",
        ]
    )
    assert parse_env_text(text) == {
        "PLAIN": "value",
        "EXPORTED": "yes",
        "QUOTED": "two words # not a comment",
        "SINGLE": "a$b",
        "INLINE": "kept",
        "EMPTY": "",
    }
    path = tmp_path / ".env"
    path.write_text(text)
    environ = {"PLAIN": "from-environment"}
    applied = load_env_file(path, environ)
    assert environ["PLAIN"] == "from-environment" and "PLAIN" not in applied
    assert environ["EXPORTED"] == "yes"
    assert load_env_file(tmp_path / "missing", environ) == []


def test_proxy_event_has_the_rest_api_v1_shape() -> None:
    request = HttpRequest(
        method="GET",
        path="/ingest/syncs/abc-1",
        query=[("a", "1"), ("a", "2"), ("b", "x")],
        headers=[("X-API-KEY", "k"), ("Accept", "a"), ("Accept", "b")],
        body=b"",
        source_ip="127.0.0.1",
    )
    route, params = find_route("GET", "/ingest/syncs/abc-1") or (None, {})
    assert route is not None
    event = proxy_event(route, params, request)
    assert event["resource"] == "/ingest/syncs/{syncId}"
    assert event["path"] == "/ingest/syncs/abc-1" and event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"syncId": "abc-1"}
    assert event["queryStringParameters"] == {"a": "2", "b": "x"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": ["x"]}
    assert event["headers"]["Accept"] == "b" and event["multiValueHeaders"]["Accept"] == ["a", "b"]
    assert event["body"] is None and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["stage"] == "local" and context["resourcePath"] == "/ingest/syncs/{syncId}"
    assert context["requestId"] and context["identity"]["sourceIp"] == "127.0.0.1"

    binary = HttpRequest("POST", "/ingest/products", [], [], b"\xff\xfe", "127.0.0.1")
    found = find_route("POST", "/ingest/products")
    assert found is not None
    event = proxy_event(found[0], found[1], binary)
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == b"\xff\xfe"
    assert event["pathParameters"] is None and event["queryStringParameters"] is None


def test_greedy_admin_route_and_unknown_routes() -> None:
    found = find_route("GET", "/admin/conversations/42")
    assert found is not None and found[1] == {"proxy": "conversations/42"}
    assert find_route("GET", "/ingest/products") is None  # wrong method
    result = dispatch(HttpRequest("GET", "/nope", [], [], b"", "127.0.0.1"), lambda name, event: None)
    assert result.response.status == 403 and json.loads(result.response.body)["message"] == (
        "Missing Authentication Token"
    )


def test_proxy_answers_become_http_responses_and_malformed_ones_a_502() -> None:
    good = proxy_response(
        {"statusCode": 201, "headers": {"X-One": "1"}, "multiValueHeaders": {"Set-Cookie": ["a", "b"]}, "body": "{}"}
    )
    assert good.status == 201 and ("Set-Cookie", "a") in good.headers and ("Set-Cookie", "b") in good.headers
    encoded = proxy_response({"statusCode": 200, "body": base64.b64encode(b"\x00").decode(), "isBase64Encoded": True})
    assert encoded.body == b"\x00"
    assert proxy_response({"body": "no status"}).status == 502
    assert proxy_response("not a dict").status == 502

    def crash(name: str, event: dict[str, object]) -> None:
        raise RuntimeError("boom")

    crashed = dispatch(HttpRequest("GET", "/health", [], [], b"", "127.0.0.1"), crash)
    assert crashed.response.status == 502 and isinstance(crashed.error, RuntimeError)


def test_outbox_answers_the_real_whatsapp_sender_and_records_what_it_would_send(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mostrador.channels.base import OutboundMessage
    from mostrador.channels.whatsapp import WhatsAppSender
    from mostrador.config import load_settings

    printed: list[str] = []
    outbox = Outbox(tmp_path / "outbox.jsonl", printer=printed.append)
    outbox.start()
    try:
        settings = load_settings(
            {
                "META_GRAPH_URL": outbox.graph_url,
                "WHATSAPP_TOKEN": "local-outbox",
                "WHATSAPP_PHONE_NUMBER_ID": "100000000000001",
            }
        )
        message = OutboundMessage("default", "whatsapp", "wa:100000000000001:584140000000", "584140000000", "¡Hola!")
        result = WhatsAppSender.from_settings(settings).send(message)
    finally:
        outbox.stop()

    assert len(result.platform_message_ids) == 1 and result.platform_message_ids[0].startswith("wamid.LOCAL")
    records = [json.loads(line) for line in (tmp_path / "outbox.jsonl").read_text().splitlines()]
    assert len(records) == 1
    assert records[0]["platform"] == "whatsapp" and records[0]["request"]["text"]["body"] == "¡Hola!"
    assert records[0]["path"] == "/graph/v21.0/100000000000001/messages"
    assert "¡Hola!" in printed[0] and "584140000000" not in printed[0]  # customer ids are redacted


@pytest.mark.parametrize(
    ("env", "provider", "explained"),
    [
        ({}, "offline", True),
        ({"OPENAI_API_KEY": "sk-x"}, "openai", False),
        ({"GEMINI_API_KEY": "g"}, "gemini", False),
        ({"LLM_PROVIDER": "gemini", "OPENAI_API_KEY": "sk-x"}, "offline", True),
        ({"LLM_PROVIDER": "offline", "OPENAI_API_KEY": "sk-x"}, "offline", False),
    ],
)
def test_llm_provider_falls_back_to_offline_without_a_key(env: dict[str, str], provider: str, explained: bool) -> None:
    chosen, reason = choose_llm_provider(env)
    assert chosen == provider and (reason is not None) == explained


def test_env_example_documents_every_setting() -> None:
    import re

    from mostrador.config import NOT_FROM_ENVIRONMENT, Settings

    text = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, re.M))
    settings = {name.upper() for name in Settings.model_fields if name not in NOT_FROM_ENVIRONMENT}
    assert settings - documented == set()
    assert "WEBCHAT_ALLOWED_ORIGINS" in documented


def test_a_request_over_lambda_s_6_mb_payload_limit_gets_413_without_invoking_the_function() -> None:
    """A Lambda takes at most 6,291,456 bytes of request payload (the whole proxy event), well below API
    Gateway's 10 MB: a 4.5 MB file upload, base64 in JSON, never reaches the function on AWS."""
    invoked: list[int] = []

    def invoke(name: str, event: dict[str, object]) -> dict[str, object]:
        invoked.append(len(str(event["body"])))
        return {"statusCode": 202, "body": "{}"}

    def upload(file_bytes: int) -> HttpRequest:
        content = base64.b64encode(b"x" * file_bytes).decode()
        body = json.dumps({"filename": "manual.txt", "contentBase64": content}).encode()
        headers = [("Content-Type", "application/json"), ("Authorization", "Bearer t")]
        return HttpRequest("POST", "/admin/knowledge/documents", [], headers, body, "127.0.0.1")

    too_big = dispatch(upload(4_800_000), invoke)  # 6.4 MB of base64: API Gateway would take it, Lambda not
    assert too_big.response.status == 413 and json.loads(too_big.response.body) == {"message": "Request Too Long"}
    assert ("x-amzn-ErrorType", "BadRequestException") in too_big.response.headers
    assert invoked == []
    fits = dispatch(upload(4 * 1024 * 1024), invoke)  # the knowledge upload's own limit: reaches the function
    assert fits.response.status == 202 and len(invoked) == 1
