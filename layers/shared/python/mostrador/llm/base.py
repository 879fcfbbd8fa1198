"""The one small interface every LLM provider implements, and the value types that cross it.

Providers: openai_provider (OpenAI SDK), gemini_provider (google-genai SDK), offline_provider
(deterministic, no network; it neither transcribes nor looks at photos). Heavy SDKs are imported
inside the provider modules only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable


class ProviderError(Exception):
    """The provider could not answer after its own retries (timeouts, 429s, 5xx, bad responses)."""


@dataclass(frozen=True)
class Usage:
    provider: str
    model: str
    tokens_in: int = 0
    tokens_out: int = 0


@dataclass(frozen=True)
class Completion:
    text: str
    usage: Usage


@dataclass(frozen=True)
class Embeddings:
    vectors: list[list[float]]
    usage: Usage


@dataclass(frozen=True)
class ToolSpec:
    """A function the model may call. `parameters` is a JSON Schema object."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class ChatMessage:
    """One turn of a conversation in provider-neutral form.

    role "tool" carries a tool result: `tool_call_id`, `name` and `content` (JSON text).
    role "assistant" may carry `tool_calls` the model asked for.
    """

    role: Literal["system", "user", "assistant", "tool"]
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class ChatResult:
    """The model's turn: either text for the customer or tool calls to run (or both)."""

    text: str
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage = field(default_factory=lambda: Usage("none", "none"))


@runtime_checkable
class Summarizer(Protocol):
    name: str

    def summarize(self, text: str, *, product_name: str) -> Completion: ...


@runtime_checkable
class Embedder(Protocol):
    name: str
    model: str

    def embed(self, texts: list[str]) -> Embeddings: ...


@runtime_checkable
class Transcriber(Protocol):
    """Turns a customer's voice note into text (OpenAI's transcription model, Gemini's audio input)."""

    name: str

    def transcribe(self, audio: bytes, *, mime_type: str) -> Completion: ...


@runtime_checkable
class ImageDescriber(Protocol):
    """Says what product a customer's photo shows, in the customer's language, for a catalog search."""

    name: str

    def describe_image(self, image: bytes, *, mime_type: str, caption: str, language: str) -> Completion: ...


@runtime_checkable
class ChatModel(Protocol):
    name: str

    def chat(self, messages: list[ChatMessage], tools: list[ToolSpec], *, language: str = "es") -> ChatResult:
        """One model turn. `language` (ISO 639-1) is the customer's; real models also get it in the
        system prompt, the offline model needs it to pick its template."""
        ...
