"""The OpenAI and Gemini providers through their real SDKs, over HTTP, against the fake server
(the `llm_server` fixture, registered as a plugin in tests/conftest.py)."""

from __future__ import annotations

import base64
import json
import math

import pytest

from mostrador.config import Settings
from mostrador.llm import SUMMARY_INSTRUCTIONS
from mostrador.llm.base import ChatMessage, ProviderError, ToolCall
from mostrador.llm.gemini_provider import GeminiProvider
from mostrador.llm.openai_provider import OpenAIProvider
from mostrador.llm.providers import chat_models_for, embedder_for, summarizer_for
from mostrador.llm.tools import REPLY_TOOLS
from tests.fakes.llm_server import FakeLLMServer

FRIDGE_TEXT = "Nevera Samsung de dos puertas, 300 litros, dispensador de agua y control digital de temperatura."
WASHER_TEXT = "Lavadora LG de carga frontal, 12 kilos, motor inverter y 14 programas de lavado."


def make_settings(server: FakeLLMServer, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "openai_api_key": "sk-test",
        "openai_base_url": server.openai_base_url,
        "gemini_api_key": "gm-test",
        "gemini_base_url": server.gemini_base_url,
        "llm_max_retries": 2,
        "llm_timeout_seconds": 10,
        "embedding_dimensions": 64,
    }
    values.update(overrides)
    return Settings.model_validate(values)


def openai_provider(server: FakeLLMServer, **overrides: object) -> OpenAIProvider:
    return OpenAIProvider(make_settings(server, llm_provider="openai", **overrides))


def gemini_provider(server: FakeLLMServer, **overrides: object) -> GeminiProvider:
    # Short backoff so retry tests stay quick; production uses the SDK-style 1 s start.
    return GeminiProvider(make_settings(server, llm_provider="gemini", **overrides), retry_delay_seconds=0.01)


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


# OpenAI


def test_openai_summarize_sends_the_summary_prompt_and_returns_the_text(llm_server: FakeLLMServer) -> None:
    result = openai_provider(llm_server).summarize(FRIDGE_TEXT, product_name="Nevera Samsung RT30")

    assert result.text == "Summary: " + " ".join(FRIDGE_TEXT.split()[:20])
    assert result.usage.provider == "openai" and result.usage.model == "gpt-4o-mini"
    assert result.usage.tokens_in > 0 and result.usage.tokens_out > 0
    assert llm_server.summary_calls == 1 and llm_server.chat_calls == 0
    request = llm_server.requests[0]
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test"
    system, user = request.body["messages"]
    assert system == {"role": "system", "content": SUMMARY_INSTRUCTIONS}
    assert FRIDGE_TEXT in user["content"] and "Nevera Samsung RT30" in user["content"]


def test_openai_summarize_of_empty_text_makes_no_call(llm_server: FakeLLMServer) -> None:
    result = openai_provider(llm_server).summarize("   \n", product_name="X")

    assert result.text == ""
    assert llm_server.requests == []


def test_openai_embeds_a_batch_in_one_call_with_meaningful_vectors(llm_server: FakeLLMServer) -> None:
    provider = openai_provider(llm_server)
    texts = [FRIDGE_TEXT, WASHER_TEXT, "fridge"]

    result = provider.embed(texts)

    assert llm_server.embedding_calls == 1
    body = llm_server.requests[0].body
    assert body["input"] == texts and body["dimensions"] == 64 and body["model"] == "text-embedding-3-small"
    assert provider.model == "text-embedding-3-small" and result.usage.model == provider.model
    assert [len(vector) for vector in result.vectors] == [64, 64, 64]
    assert result.vectors[0] == pytest.approx(llm_server.vector_for(FRIDGE_TEXT, 64))
    fridge_query = result.vectors[2]
    assert cosine(fridge_query, result.vectors[0]) > cosine(fridge_query, result.vectors[1])
    assert result.usage.tokens_in > 0


def test_openai_embeds_2049_texts_in_two_calls_in_order(llm_server: FakeLLMServer) -> None:
    texts = [f"producto {number}" for number in range(2049)]

    result = openai_provider(llm_server, embedding_dimensions=4).embed(texts)

    assert llm_server.embedding_calls == 2
    assert [len(request.body["input"]) for request in llm_server.requests] == [2048, 1]
    assert len(result.vectors) == 2049
    assert result.vectors[-1] == pytest.approx(llm_server.vector_for("producto 2048", 4))
    assert result.vectors[2047] == pytest.approx(llm_server.vector_for("producto 2047", 4))


def test_openai_empty_batch_makes_no_call(llm_server: FakeLLMServer) -> None:
    assert openai_provider(llm_server).embed([]).vectors == []
    assert llm_server.requests == []


@pytest.mark.parametrize("status", [429, 503])
def test_openai_retries_then_succeeds(llm_server: FakeLLMServer, status: int) -> None:
    llm_server.fail_next(status, times=2)

    result = openai_provider(llm_server).summarize(FRIDGE_TEXT, product_name="Nevera")

    assert result.text.startswith("Summary: Nevera Samsung")
    assert [request.status for request in llm_server.requests] == [status, status, 200]


def test_openai_persistent_failure_raises_provider_error(llm_server: FakeLLMServer) -> None:
    llm_server.fail_when("/embeddings", 503)

    with pytest.raises(ProviderError, match="503"):
        openai_provider(llm_server).embed(["nevera"])

    assert llm_server.embedding_calls == 3  # the first try and llm_max_retries=2 retries


def test_openai_client_error_is_not_retried(llm_server: FakeLLMServer) -> None:
    llm_server.fail_next(400)

    with pytest.raises(ProviderError, match="400"):
        openai_provider(llm_server).chat([ChatMessage("user", "hola")], REPLY_TOOLS)

    assert llm_server.chat_calls == 1


def test_openai_chat_parses_tool_calls_and_sends_tool_results_back(llm_server: FakeLLMServer) -> None:
    provider = openai_provider(llm_server)
    llm_server.script_chat(
        [
            {"tool_calls": [{"name": "search_local_products", "arguments": {"query": "nevera", "max_price": 500}}]},
            "Tenemos la Nevera Samsung a 450 USD.",
        ]
    )
    history = [ChatMessage("system", "Eres el asistente de la tienda."), ChatMessage("user", "¿Tienen neveras?")]

    first = provider.chat(history, REPLY_TOOLS, language="es")

    assert first.text == ""
    assert len(first.tool_calls) == 1
    call = first.tool_calls[0]
    assert call.name == "search_local_products"
    assert call.arguments == {"query": "nevera", "max_price": 500}
    assert call.id.startswith("call_fake_")
    assert first.usage.provider == "openai" and first.usage.tokens_in > 0
    request = llm_server.requests[0].body
    assert [tool["function"]["name"] for tool in request["tools"]] == [tool.name for tool in REPLY_TOOLS]
    assert request["tools"][0]["function"]["parameters"] == REPLY_TOOLS[0].parameters
    assert request["messages"][0]["role"] == "system"
    assert "Eres el asistente" in request["messages"][0]["content"] and "'es'" in request["messages"][0]["content"]

    tool_result = json.dumps({"products": [], "total": 0})
    second = provider.chat(
        [
            *history,
            ChatMessage("assistant", "", tool_calls=first.tool_calls),
            ChatMessage("tool", tool_result, tool_call_id=call.id, name=call.name),
        ],
        REPLY_TOOLS,
        language="es",
    )

    assert second.text == "Tenemos la Nevera Samsung a 450 USD." and second.tool_calls == ()
    sent = llm_server.requests[1].body["messages"]
    assert sent[2]["role"] == "assistant"
    assert sent[2]["tool_calls"][0]["id"] == call.id
    assert json.loads(sent[2]["tool_calls"][0]["function"]["arguments"]) == call.arguments
    assert sent[3] == {"role": "tool", "tool_call_id": call.id, "content": tool_result}


def test_openai_malformed_tool_arguments_become_empty_and_other_calls_survive(llm_server: FakeLLMServer) -> None:
    llm_server.script_chat(
        [
            {
                "tool_calls": [
                    {"name": "get_live_product_details", "arguments": '{"item_code": "A1"'},
                    {"name": "escalate_to_human", "arguments": {"reason": "quiere hablar con alguien"}},
                ]
            }
        ]
    )

    result = openai_provider(llm_server).chat([ChatMessage("user", "hola")], REPLY_TOOLS)

    assert [(call.name, call.arguments) for call in result.tool_calls] == [
        ("get_live_product_details", {}),
        ("escalate_to_human", {"reason": "quiere hablar con alguien"}),
    ]


def test_openai_tool_arguments_with_a_5000_digit_number_become_empty(llm_server: FakeLLMServer) -> None:
    # json.loads raises a plain ValueError past 4,300 digits (a customer's number echoed by the model).
    llm_server.script_chat(
        [
            {
                "tool_calls": [
                    {
                        "name": "search_local_products",
                        "arguments": '{"query": "nevera", "max_price": ' + "9" * 5000 + "}",
                    }
                ]
            }
        ]
    )

    result = openai_provider(llm_server).chat([ChatMessage("user", "hola")], REPLY_TOOLS)

    assert [(call.name, call.arguments) for call in result.tool_calls] == [("search_local_products", {})]


# Gemini


def test_gemini_summarize_sends_the_summary_prompt_and_returns_the_text(llm_server: FakeLLMServer) -> None:
    result = gemini_provider(llm_server).summarize(WASHER_TEXT, product_name="Lavadora LG")

    assert result.text == "Summary: " + " ".join(WASHER_TEXT.split()[:20])
    assert result.usage.provider == "gemini" and result.usage.model == "gemini-2.5-flash"
    assert result.usage.tokens_in > 0
    assert llm_server.calls("summary", api="gemini") == 1
    request = llm_server.requests[0]
    assert request.path.endswith("/models/gemini-2.5-flash:generateContent")
    assert request.headers["x-goog-api-key"] == "gm-test"
    assert request.body["systemInstruction"]["parts"][0]["text"] == SUMMARY_INSTRUCTIONS
    assert WASHER_TEXT in request.body["contents"][0]["parts"][0]["text"]


def test_gemini_embeds_a_batch_in_one_call_normalized_and_meaningful(llm_server: FakeLLMServer) -> None:
    provider = gemini_provider(llm_server)

    result = provider.embed([FRIDGE_TEXT, WASHER_TEXT, "refrigerator"])

    assert llm_server.calls("embedding", api="gemini") == 1
    request = llm_server.requests[0]
    assert request.path.endswith("/models/gemini-embedding-001:batchEmbedContents")
    assert [item["outputDimensionality"] for item in request.body["requests"]] == [64, 64, 64]
    assert provider.model == "gemini-embedding-001" and result.usage.model == "gemini-embedding-001"
    assert all(math.isclose(sum(v * v for v in vector), 1.0, rel_tol=1e-6) for vector in result.vectors)
    query = result.vectors[2]
    assert cosine(query, result.vectors[0]) > cosine(query, result.vectors[1])


def test_gemini_embeds_101_texts_in_two_calls_in_order(llm_server: FakeLLMServer) -> None:
    texts = [f"producto {number}" for number in range(101)]

    result = gemini_provider(llm_server, embedding_dimensions=4).embed(texts)

    assert llm_server.embedding_calls == 2
    assert [len(request.body["requests"]) for request in llm_server.requests] == [100, 1]
    assert len(result.vectors) == 101
    assert result.vectors[100] == pytest.approx(llm_server.vector_for("producto 100", 4))


@pytest.mark.parametrize("status", [429, 503])
def test_gemini_retries_then_succeeds(llm_server: FakeLLMServer, status: int) -> None:
    llm_server.fail_next(status, times=2)

    result = gemini_provider(llm_server).embed(["nevera"])

    assert len(result.vectors) == 1
    assert [request.status for request in llm_server.requests] == [status, status, 200]


def test_gemini_persistent_failure_raises_provider_error(llm_server: FakeLLMServer) -> None:
    llm_server.fail_when("generateContent", 500)

    with pytest.raises(ProviderError, match="500"):
        gemini_provider(llm_server).chat([ChatMessage("user", "hola")], REPLY_TOOLS)

    assert llm_server.chat_calls == 3


def test_gemini_chat_function_calls_get_stable_ids_and_results_go_back(llm_server: FakeLLMServer) -> None:
    provider = gemini_provider(llm_server)
    scripted = {"tool_calls": [{"name": "search_local_products", "arguments": {"query": "lavadora", "in_stock": True}}]}
    llm_server.script_chat([scripted, scripted, "We have the LG washer."])
    history = [ChatMessage("system", "You are the store assistant."), ChatMessage("user", "Do you have washers?")]

    first = provider.chat(history, REPLY_TOOLS, language="en")
    again = provider.chat(history, REPLY_TOOLS, language="en")

    assert len(first.tool_calls) == 1
    call = first.tool_calls[0]
    assert call.name == "search_local_products" and call.arguments == {"query": "lavadora", "in_stock": True}
    assert call.id and again.tool_calls[0].id == call.id  # same reply, same synthesized id
    request = llm_server.requests[0].body
    assert request["tools"][0]["functionDeclarations"][0]["name"] == "search_local_products"
    assert "You are the store assistant." in request["systemInstruction"]["parts"][0]["text"]
    assert "'en'" in request["systemInstruction"]["parts"][0]["text"]
    assert [content["role"] for content in request["contents"]] == ["user"]

    tool_result = {"products": [], "total": 0}
    final = provider.chat(
        [
            *history,
            ChatMessage("assistant", "", tool_calls=first.tool_calls),
            ChatMessage("tool", json.dumps(tool_result), tool_call_id=call.id),
        ],
        REPLY_TOOLS,
        language="en",
    )

    assert final.text == "We have the LG washer." and final.tool_calls == ()
    contents = llm_server.requests[2].body["contents"]
    assert [content["role"] for content in contents] == ["user", "model", "user"]
    call_part = contents[1]["parts"][0]
    assert call_part["functionCall"] == {"name": "search_local_products", "args": call.arguments}
    # The thinking signature Gemini attached to the call goes back with it; the made-up id does not.
    assert base64.b64decode(call_part["thoughtSignature"]).startswith(b"sig-")
    assert contents[2]["parts"][0]["functionResponse"] == {"name": "search_local_products", "response": tool_result}


def test_gemini_parallel_tool_results_go_back_in_one_turn(llm_server: FakeLLMServer) -> None:
    calls = (
        ToolCall("a", "get_live_product_details", {"item_code": "A1"}),
        ToolCall("b", "get_live_product_details", {"item_code": "B2"}),
    )
    llm_server.script_chat(["Both are in stock."])

    gemini_provider(llm_server).chat(
        [
            ChatMessage("user", "A1 and B2?"),
            ChatMessage("assistant", "", tool_calls=calls),
            ChatMessage("tool", '{"product": null}', tool_call_id="a", name="get_live_product_details"),
            ChatMessage("tool", '{"product": null}', tool_call_id="b", name="get_live_product_details"),
        ],
        REPLY_TOOLS,
    )

    contents = llm_server.requests[0].body["contents"]
    assert [content["role"] for content in contents] == ["user", "model", "user"]
    responses = [part["functionResponse"] for part in contents[2]["parts"]]
    assert [response["name"] for response in responses] == ["get_live_product_details"] * 2
    # Ids Gemini did not issue (here: another provider's, after a fallback) are not echoed to it.
    assert all("id" not in response for response in responses)
    assert all("id" not in part["functionCall"] for part in contents[1]["parts"])


def test_gemini_echoes_the_ids_it_issued(llm_server: FakeLLMServer) -> None:
    provider = gemini_provider(llm_server)
    llm_server.script_chat([{"tool_calls": [{"name": "escalate_to_human", "arguments": {"reason": "x"}, "id": "g-7"}]}])
    llm_server.script_chat(["Listo."])

    first = provider.chat([ChatMessage("user", "quiero un humano")], REPLY_TOOLS)
    provider.chat(
        [
            ChatMessage("user", "quiero un humano"),
            ChatMessage("assistant", "", tool_calls=first.tool_calls),
            ChatMessage(
                "tool", '{"escalated": true, "escalation_id": 1}', tool_call_id="g-7", name="escalate_to_human"
            ),
        ],
        REPLY_TOOLS,
    )

    assert first.tool_calls[0].id == "g-7"
    contents = llm_server.requests[1].body["contents"]
    assert contents[1]["parts"][0]["functionCall"]["id"] == "g-7"
    assert contents[2]["parts"][0]["functionResponse"]["id"] == "g-7"


# Factory over HTTP: the chosen providers really reach their APIs.


def test_factory_providers_reach_their_apis(llm_server: FakeLLMServer) -> None:
    settings = make_settings(llm_server, llm_provider="gemini", embedding_provider="openai")

    summarizer_for(settings).summarize(FRIDGE_TEXT, product_name="Nevera")
    embedder = embedder_for(settings)
    assert embedder is not None
    embedder.embed([FRIDGE_TEXT])
    models = chat_models_for(settings)
    llm_server.script_chat(["uno", "dos"])
    for model in models:
        model.chat([ChatMessage("user", "hola")], REPLY_TOOLS)

    assert [(request.api, request.kind) for request in llm_server.requests] == [
        ("gemini", "summary"),
        ("openai", "embedding"),
        ("gemini", "chat"),
        ("openai", "chat"),
    ]
