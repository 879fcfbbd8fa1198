"""Google Gemini behind the Summarizer, Embedder and ChatModel protocols, through `google-genai`.

The SDK retries 408/429/5xx and connection timeouts itself (HttpRetryOptions, `llm_max_retries`
retries with exponential backoff); whatever still fails is raised as ProviderError. Import this
module only where a call is made: `google.genai` is heavy to import.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import math
import re
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from google import genai
from google.genai import errors, types

from mostrador.config import Settings
from mostrador.llm import (
    SUMMARY_INSTRUCTIONS,
    TRANSCRIPTION_INSTRUCTIONS,
    language_instruction,
    photo_instructions,
    photo_request,
    summary_request,
)
from mostrador.llm.base import (
    ChatMessage,
    ChatResult,
    Completion,
    Embeddings,
    ProviderError,
    ToolCall,
    ToolSpec,
    Usage,
)

# Gemini's limit of texts per batchEmbedContents request.
EMBEDDING_BATCH_SIZE = 100

# Google's documented stand-in signature for function calls the model did not produce itself.
SKIP_SIGNATURE_VALIDATOR = b"skip_thought_signature_validator"

# Ids we make up because Gemini sent none; they are never sent back to Gemini.
SYNTHETIC_ID_PREFIX = "gemini-call-"

# Calls remembered per provider (the tool loop runs in one process): thinking models return an
# opaque signature with each function call that must come back with it on the next turn, and only
# ids Gemini itself issued may be echoed. ToolCall has no field for either, so they are kept here.
_CALLS_REMEMBERED = 256


@dataclass(frozen=True)
class _IssuedCall:
    native_id: bool
    signature: bytes | None


def _transport_errors() -> tuple[type[BaseException], ...]:
    found: list[type[BaseException]] = [errors.APIError, errors.UnknownApiResponseError]
    for module_name in ("httpx2", "httpx"):
        try:
            found.append(importlib.import_module(module_name).HTTPError)
        except (ImportError, AttributeError):
            continue
    return tuple(found)


_SDK_ERRORS = _transport_errors()


class GeminiProvider:
    """Summaries, embeddings and function-calling chat with one google-genai client."""

    name = "gemini"

    def __init__(self, settings: Settings, *, retry_delay_seconds: float = 1.0) -> None:
        api_key = settings.secret("gemini_api_key")
        if not api_key:
            raise ProviderError("GEMINI_API_KEY is not set")
        self.chat_model = settings.gemini_chat_model
        self.model = settings.gemini_embedding_model
        self.dimensions = settings.embedding_dimensions
        self._issued: OrderedDict[str, _IssuedCall] = OrderedDict()
        self._client = genai.Client(
            api_key=api_key,
            vertexai=False,
            http_options=types.HttpOptions(
                base_url=settings.gemini_base_url or None,
                timeout=int(settings.llm_timeout_seconds * 1000),
                retry_options=types.HttpRetryOptions(
                    attempts=settings.llm_max_retries + 1,
                    initial_delay=retry_delay_seconds,
                    max_delay=retry_delay_seconds * 8,
                    jitter=retry_delay_seconds,
                ),
            ),
        )

    # Summarizer

    def summarize(self, text: str, *, product_name: str) -> Completion:
        if not text.strip():
            return Completion("", Usage(self.name, self.chat_model))
        try:
            response = self._client.models.generate_content(
                model=self.chat_model,
                contents=[
                    types.Content(
                        role="user", parts=[types.Part(text=summary_request(text, product_name=product_name))]
                    )
                ],
                config=types.GenerateContentConfig(
                    system_instruction=SUMMARY_INSTRUCTIONS,
                    temperature=0.2,
                    automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
                ),
            )
        except _SDK_ERRORS as error:
            raise _provider_error("summary", error) from error
        summary = "".join(part.text or "" for part in _parts(response) if not part.thought).strip()
        if not summary:
            raise ProviderError(f"Gemini summary came back empty ({_finish_reason(response)})")
        return Completion(summary, self._usage(response, self.chat_model))

    # Embedder

    def embed(self, texts: list[str]) -> Embeddings:
        vectors: list[list[float]] = []
        tokens_in = 0
        for chunk in _chunks(texts, EMBEDDING_BATCH_SIZE):
            try:
                response = self._client.models.embed_content(
                    model=self.model,
                    contents=list(chunk),
                    config=types.EmbedContentConfig(output_dimensionality=self.dimensions),
                )
            except _SDK_ERRORS as error:
                raise _provider_error("embedding", error) from error
            embeddings = response.embeddings or []
            if len(embeddings) != len(chunk):
                raise ProviderError(f"Gemini returned {len(embeddings)} embeddings for {len(chunk)} texts")
            # Gemini normalizes only its full-size vectors; normalize the truncated ones ourselves.
            vectors.extend(_normalized(list(embedding.values or [])) for embedding in embeddings)
            usage = getattr(response, "usage_metadata", None)
            tokens_in += getattr(usage, "prompt_token_count", None) or 0
        return Embeddings(vectors, Usage(self.name, self.model, tokens_in=tokens_in))

    # Transcriber and ImageDescriber: the chat model takes audio and images as input parts.

    def transcribe(self, audio: bytes, *, mime_type: str) -> Completion:
        # A silent voice note: nothing said, the answer finished normally. The reader stops there (another
        # provider would hear nothing either), as with OpenAI's empty transcript; an empty answer that
        # was cut short or blocked is still a provider failure, for the next provider to try.
        return self._media_call(
            "transcription",
            audio,
            mime_type,
            TRANSCRIPTION_INSTRUCTIONS,
            "Transcribe this voice note.",
            empty_when_finished=True,
        )

    def describe_image(self, image: bytes, *, mime_type: str, caption: str, language: str) -> Completion:
        instructions = photo_instructions(language)
        return self._media_call("photo description", image, mime_type, instructions, photo_request(caption))

    def _media_call(
        self,
        operation: str,
        data: bytes,
        mime_type: str,
        instructions: str,
        request: str,
        *,
        empty_when_finished: bool = False,
    ) -> Completion:
        try:
            response = self._client.models.generate_content(
                model=self.chat_model,
                contents=[
                    types.Content(
                        role="user",
                        parts=[
                            types.Part.from_bytes(data=data, mime_type=mime_type.split(";", 1)[0].strip()),
                            types.Part(text=request),
                        ],
                    )
                ],
                config=types.GenerateContentConfig(
                    system_instruction=instructions,
                    temperature=0.0,
                    automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
                ),
            )
        except _SDK_ERRORS as error:
            raise _provider_error(operation, error) from error
        text = "".join(part.text or "" for part in _parts(response) if not part.thought).strip()
        if not text and not (empty_when_finished and _finished(response)):
            raise ProviderError(f"Gemini {operation} came back empty ({_finish_reason(response)})")
        return Completion(text, self._usage(response, self.chat_model))

    # ChatModel

    def chat(self, messages: list[ChatMessage], tools: list[ToolSpec], *, language: str = "es") -> ChatResult:
        system = [message.content for message in messages if message.role == "system" and message.content]
        config = types.GenerateContentConfig(
            system_instruction="\n\n".join([*system, language_instruction(language)]),
            temperature=0.3,
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        )
        if tools:
            config.tools = [
                types.Tool(
                    function_declarations=[
                        types.FunctionDeclaration(
                            name=spec.name, description=spec.description, parameters_json_schema=spec.parameters
                        )
                        for spec in tools
                    ]
                )
            ]
        try:
            response = self._client.models.generate_content(
                model=self.chat_model, contents=self._to_contents(messages), config=config
            )
        except _SDK_ERRORS as error:
            raise _provider_error("chat", error) from error
        texts: list[str] = []
        calls: list[ToolCall] = []
        for part in _parts(response):
            if part.thought:
                continue
            if part.function_call is not None and part.function_call.name:
                calls.append(self._tool_call(part, len(calls)))
            elif part.text:
                texts.append(part.text)
        text = "".join(texts).strip()
        if not text and not calls:
            raise ProviderError(f"Gemini chat returned neither text nor tool calls ({_finish_reason(response)})")
        return ChatResult(text=text, tool_calls=tuple(calls), usage=self._usage(response, self.chat_model))

    def _tool_call(self, part: types.Part, position: int) -> ToolCall:
        call = part.function_call
        assert call is not None and call.name
        arguments = dict(call.args or {})
        call_id = call.id or _synthetic_id(position, call.name, arguments)
        self._issued[call_id] = _IssuedCall(native_id=bool(call.id), signature=part.thought_signature)
        while len(self._issued) > _CALLS_REMEMBERED:
            self._issued.popitem(last=False)
        return ToolCall(id=call_id, name=call.name, arguments=arguments)

    def _signature_for(self, call_id: str) -> bytes | None:
        """The signature Gemini gave the call; for a call it never made (the customer's tap turned into a
        product lookup, another provider's call after a fallback), Gemini 3 and later refuse a call without
        one, and Google documents this sentinel for exactly that case."""
        issued = self._issued.get(call_id)
        if issued is not None:
            return issued.signature
        match = re.match(r"gemini-(\d+)", self.chat_model)
        return SKIP_SIGNATURE_VALIDATOR if match and int(match.group(1)) >= 3 else None

    def _sendable_id(self, call_id: str | None) -> str | None:
        """Echo an id only if Gemini issued it (not ours, not another provider's after a fallback)."""
        issued = self._issued.get(call_id or "")
        return call_id if issued is not None and issued.native_id else None

    def _to_contents(self, messages: list[ChatMessage]) -> list[types.Content]:
        contents: list[types.Content] = []
        names_by_call_id: dict[str, str] = {}
        for message in messages:
            if message.role == "user":
                contents.append(types.Content(role="user", parts=[types.Part(text=message.content)]))
            elif message.role == "assistant":
                parts = [types.Part(text=message.content)] if message.content else []
                for call in message.tool_calls:
                    names_by_call_id[call.id] = call.name
                    parts.append(
                        types.Part(
                            function_call=types.FunctionCall(
                                id=self._sendable_id(call.id), name=call.name, args=dict(call.arguments)
                            ),
                            thought_signature=self._signature_for(call.id),
                        )
                    )
                if parts:
                    contents.append(types.Content(role="model", parts=parts))
            elif message.role == "tool":
                name = message.name or names_by_call_id.get(message.tool_call_id or "", "tool")
                part = types.Part(
                    function_response=types.FunctionResponse(
                        id=self._sendable_id(message.tool_call_id),
                        name=name,
                        response=_response_object(message.content),
                    )
                )
                previous = contents[-1] if contents else None
                # Results of parallel calls go back together, in one turn, as Gemini expects.
                if previous is not None and previous.parts and previous.parts[0].function_response is not None:
                    previous.parts.append(part)
                else:
                    contents.append(types.Content(role="user", parts=[part]))
        return contents

    def _usage(self, response: types.GenerateContentResponse, model: str) -> Usage:
        usage = response.usage_metadata
        if usage is None:
            return Usage(self.name, model)
        # Thinking tokens are billed as output.
        tokens_out = (usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)
        return Usage(self.name, model, tokens_in=usage.prompt_token_count or 0, tokens_out=tokens_out)


def _parts(response: types.GenerateContentResponse) -> list[types.Part]:
    if not response.candidates or response.candidates[0].content is None:
        return []
    return list(response.candidates[0].content.parts or [])


def _finished(response: types.GenerateContentResponse) -> bool:
    """The answer ended normally (STOP), neither cut short nor blocked."""
    candidates = response.candidates or []
    return bool(candidates) and candidates[0].finish_reason == types.FinishReason.STOP


def _finish_reason(response: types.GenerateContentResponse) -> str:
    if response.candidates and response.candidates[0].finish_reason:
        return f"finish reason {response.candidates[0].finish_reason}"
    feedback = response.prompt_feedback
    if feedback is not None and feedback.block_reason:
        return f"blocked: {feedback.block_reason}"
    return "no candidates"


def _synthetic_id(position: int, name: str, arguments: dict[str, Any]) -> str:
    """Stable for the same call: the same reply always yields the same ids."""
    digest = hashlib.sha256(f"{name}\n{json.dumps(arguments, sort_keys=True)}".encode()).hexdigest()[:12]
    return f"{SYNTHETIC_ID_PREFIX}{position}-{digest}"


def _response_object(content: str) -> dict[str, Any]:
    """Gemini wants a JSON object as a function response; tool results are JSON text."""
    try:
        value = json.loads(content) if content else {}
    except json.JSONDecodeError:
        return {"result": content}
    return value if isinstance(value, dict) else {"result": value}


def _normalized(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(value * value for value in vector))
    return [value / norm for value in vector] if norm else vector


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _provider_error(operation: str, error: BaseException) -> ProviderError:
    code = getattr(error, "code", None)
    detail = f"HTTP {code}" if isinstance(code, int) else type(error).__name__
    return ProviderError(f"Gemini {operation} failed after retries: {detail}")
