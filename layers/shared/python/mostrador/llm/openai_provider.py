"""OpenAI behind the Summarizer, Embedder and ChatModel protocols, through the official SDK.

The SDK retries 408/409/429/5xx and timeouts itself (`llm_max_retries`, honouring Retry-After);
whatever still fails is raised as ProviderError. Import this module only where a call is made:
it imports `openai`, which costs about a second of cold start.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import openai

from mostrador.config import Settings
from mostrador.llm import (
    SUMMARY_INSTRUCTIONS,
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
from mostrador.observability import logger

# OpenAI's documented limit of inputs per embeddings request.
EMBEDDING_BATCH_SIZE = 2048


class OpenAIProvider:
    """Summaries, embeddings and tool-calling chat with one OpenAI client (connections are reused).

    No temperature is sent: reasoning models (o-series, gpt-5) reject any but the default.
    """

    name = "openai"

    def __init__(self, settings: Settings) -> None:
        api_key = settings.secret("openai_api_key")
        if not api_key:
            raise ProviderError("OPENAI_API_KEY is not set")
        self.chat_model = settings.openai_chat_model
        self.model = settings.openai_embedding_model
        self.dimensions = settings.embedding_dimensions
        self.transcription_model = settings.openai_transcription_model
        self._client = openai.OpenAI(
            api_key=api_key,
            base_url=settings.openai_base_url or None,
            timeout=settings.llm_timeout_seconds,
            max_retries=settings.llm_max_retries,
        )

    # Summarizer

    def summarize(self, text: str, *, product_name: str) -> Completion:
        if not text.strip():
            return Completion("", Usage(self.name, self.chat_model))
        try:
            response = self._client.chat.completions.create(
                model=self.chat_model,
                messages=[
                    {"role": "system", "content": SUMMARY_INSTRUCTIONS},
                    {"role": "user", "content": summary_request(text, product_name=product_name)},
                ],
            )
        except openai.OpenAIError as error:
            raise _provider_error("summary", error) from error
        summary = (response.choices[0].message.content or "").strip() if response.choices else ""
        if not summary:
            raise ProviderError("OpenAI summary came back empty")
        return Completion(summary, self._usage(response.usage, self.chat_model))

    # Embedder

    def embed(self, texts: list[str]) -> Embeddings:
        vectors: list[list[float]] = []
        tokens_in = 0
        for chunk in _chunks(texts, EMBEDDING_BATCH_SIZE):
            try:
                response = self._client.embeddings.create(
                    model=self.model, input=chunk, dimensions=self.dimensions, encoding_format="float"
                )
            except openai.OpenAIError as error:
                raise _provider_error("embedding", error) from error
            if len(response.data) != len(chunk):
                raise ProviderError(f"OpenAI returned {len(response.data)} embeddings for {len(chunk)} texts")
            vectors.extend(item.embedding for item in sorted(response.data, key=lambda item: item.index))
            tokens_in += response.usage.prompt_tokens if response.usage else 0
        return Embeddings(vectors, Usage(self.name, self.model, tokens_in=tokens_in))

    # Transcriber

    def transcribe(self, audio: bytes, *, mime_type: str) -> Completion:
        try:
            # The API tells the format by the file name's extension.
            response = self._client.audio.transcriptions.create(
                model=self.transcription_model, file=(audio_file_name(mime_type), audio, _bare_mime(mime_type))
            )
        except openai.OpenAIError as error:
            raise _provider_error("transcription", error) from error
        usage = getattr(response, "usage", None)
        tokens_in = getattr(usage, "input_tokens", 0) or 0
        tokens_out = getattr(usage, "output_tokens", 0) or 0
        return Completion(
            (response.text or "").strip(), Usage(self.name, self.transcription_model, tokens_in, tokens_out)
        )

    # ImageDescriber

    def describe_image(self, image: bytes, *, mime_type: str, caption: str, language: str) -> Completion:
        data_url = f"data:{_bare_mime(mime_type)};base64,{base64.b64encode(image).decode('ascii')}"
        try:
            response = self._client.chat.completions.create(
                model=self.chat_model,
                messages=[
                    {"role": "system", "content": photo_instructions(language)},
                    {
                        "role": "user",
                        "content": [
                            {"type": "text", "text": photo_request(caption)},
                            # "low": a 512 px view, a fixed small token cost; enough to tell a blender from a fan.
                            {"type": "image_url", "image_url": {"url": data_url, "detail": "low"}},
                        ],
                    },
                ],
            )
        except openai.OpenAIError as error:
            raise _provider_error("photo description", error) from error
        text = (response.choices[0].message.content or "").strip() if response.choices else ""
        if not text:
            raise ProviderError("OpenAI photo description came back empty")
        return Completion(text, self._usage(response.usage, self.chat_model))

    # ChatModel

    def chat(self, messages: list[ChatMessage], tools: list[ToolSpec], *, language: str = "es") -> ChatResult:
        request: dict[str, Any] = {
            "model": self.chat_model,
            "messages": _to_openai_messages(messages, language),
        }
        if tools:
            request["tools"] = [
                {
                    "type": "function",
                    "function": {"name": spec.name, "description": spec.description, "parameters": spec.parameters},
                }
                for spec in tools
            ]
        try:
            response = self._client.chat.completions.create(**request)
        except openai.OpenAIError as error:
            raise _provider_error("chat", error) from error
        if not response.choices:
            raise ProviderError("OpenAI chat returned no choices")
        message = response.choices[0].message
        calls = tuple(_parse_tool_calls(message.tool_calls or []))
        text = (message.content or "").strip()
        if not text and not calls:
            # Nothing to say and nothing to do: let the caller fall back to another model.
            raise ProviderError("OpenAI chat returned neither text nor tool calls")
        return ChatResult(text=text, tool_calls=calls, usage=self._usage(response.usage, self.chat_model))

    def _usage(self, usage: Any, model: str) -> Usage:
        if usage is None:
            return Usage(self.name, model)
        return Usage(self.name, model, tokens_in=usage.prompt_tokens or 0, tokens_out=usage.completion_tokens or 0)


def _to_openai_messages(messages: list[ChatMessage], language: str) -> list[dict[str, Any]]:
    # All system turns become one leading system message that also names the customer's language.
    system = [message.content for message in messages if message.role == "system" and message.content]
    converted: list[dict[str, Any]] = [
        {"role": "system", "content": "\n\n".join([*system, language_instruction(language)])}
    ]
    for message in messages:
        if message.role == "user":
            converted.append({"role": "user", "content": message.content})
        elif message.role == "assistant":
            turn: dict[str, Any] = {"role": "assistant", "content": message.content or None}
            if message.tool_calls:
                turn["tool_calls"] = [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": json.dumps(call.arguments, ensure_ascii=False)},
                    }
                    for call in message.tool_calls
                ]
            converted.append(turn)
        elif message.role == "tool":
            converted.append({"role": "tool", "tool_call_id": message.tool_call_id or "", "content": message.content})
    return converted


def _parse_tool_calls(raw_calls: list[Any]) -> Iterator[ToolCall]:
    for raw in raw_calls:
        function = getattr(raw, "function", None)
        if function is None:  # custom (non-function) tool calls are never requested by us
            continue
        yield ToolCall(id=raw.id, name=function.name, arguments=_parse_arguments(function.name, function.arguments))


def _parse_arguments(tool: str, raw: str | None) -> dict[str, Any]:
    """Malformed arguments become {} so the tool loop goes on (the tool then reports what is missing)."""
    try:
        arguments = json.loads(raw or "{}")
    except (ValueError, RecursionError):  # not JSON, a number past 4,300 digits, nested past the stack
        logger.warning("Malformed tool call arguments from OpenAI", extra={"tool": tool})
        return {}
    return arguments if isinstance(arguments, dict) else {}


_AUDIO_EXTENSIONS = {
    "audio/ogg": "ogg",
    "audio/opus": "ogg",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/mp4": "m4a",
    "audio/m4a": "m4a",
    "audio/x-m4a": "m4a",
    "audio/aac": "aac",  # not among OpenAI's formats: refused, and the customer is asked to write
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/webm": "webm",
    "audio/flac": "flac",
}


def _bare_mime(mime_type: str) -> str:
    """ "audio/ogg; codecs=opus" -> "audio/ogg"."""
    return mime_type.split(";", 1)[0].strip().lower() or "application/octet-stream"


def audio_file_name(mime_type: str) -> str:
    return f"voice-note.{_AUDIO_EXTENSIONS.get(_bare_mime(mime_type), 'ogg')}"


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _provider_error(operation: str, error: openai.OpenAIError) -> ProviderError:
    status = getattr(error, "status_code", None)
    detail = f"HTTP {status}" if status else type(error).__name__
    return ProviderError(f"OpenAI {operation} failed after retries: {detail}")
