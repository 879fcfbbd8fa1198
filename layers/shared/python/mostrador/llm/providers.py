"""Which provider does what, from Settings.

summarizer_for(settings)   -> the LLM_PROVIDER's Summarizer (offline: extractive).
embedder_for(settings)     -> the EMBEDDING_PROVIDER's Embedder (defaults to LLM_PROVIDER), or None
                              when that is offline (full-text search only).
chat_models_for(settings)  -> [configured provider, the other real provider if its key is set];
                              offline -> [offline].
transcribers_for(settings) -> the TRANSCRIPTION_PROVIDER's Transcriber (defaults to LLM_PROVIDER) and the
                              other real provider if its key is set; offline -> [] (no voice notes).
image_describers_for(settings) -> the same for photos (VISION_PROVIDER).

SDKs are imported only when a real provider is first built; providers are cached per Settings
object so one cold start keeps one client (and its connection pool).
"""

from __future__ import annotations

import weakref
from typing import Any

from mostrador.config import ProviderName, Settings
from mostrador.llm.base import ChatModel, Embedder, ImageDescriber, ProviderError, Summarizer, Transcriber

_REAL_PROVIDERS: tuple[ProviderName, ...] = ("openai", "gemini")

# id(settings) -> (weak reference to that Settings, {provider name: provider}).
_cache: dict[int, tuple[weakref.ref[Settings], dict[str, Any]]] = {}


def summarizer_for(settings: Settings) -> Summarizer:
    provider: Summarizer = _provider(settings, settings.llm_provider)
    return provider


def embedder_for(settings: Settings) -> Embedder | None:
    name = settings.effective_embedding_provider
    if name == "offline":
        return None
    provider: Embedder = _provider(settings, name)
    return provider


def chat_models_for(settings: Settings) -> list[ChatModel]:
    primary = settings.llm_provider
    models: list[ChatModel] = [_provider(settings, primary)]
    if primary != "offline":
        for other in _REAL_PROVIDERS:
            if other != primary and _has_key(settings, other):
                models.append(_provider(settings, other))
    return models


def transcribers_for(settings: Settings) -> list[Transcriber]:
    return _media_providers(settings, settings.effective_transcription_provider)


def image_describers_for(settings: Settings) -> list[ImageDescriber]:
    return _media_providers(settings, settings.effective_vision_provider)


def _media_providers(settings: Settings, primary: ProviderName) -> list[Any]:
    """The configured real provider, then the other one if its key is set. Offline has no ears or eyes."""
    if primary == "offline":
        return []
    names: list[ProviderName] = [primary]
    names += [other for other in _REAL_PROVIDERS if other != primary and _has_key(settings, other)]
    return [_provider(settings, name) for name in names]


def _has_key(settings: Settings, name: ProviderName) -> bool:
    return bool(settings.secret(f"{name}_api_key"))


def _provider(settings: Settings, name: ProviderName) -> Any:
    entry = _cache.get(id(settings))
    if entry is None or entry[0]() is not settings:
        _forget_dead_entries()
        entry = (weakref.ref(settings), {})
        _cache[id(settings)] = entry
    built = entry[1]
    if name not in built:
        built[name] = _build(settings, name)
    return built[name]


def _build(settings: Settings, name: ProviderName) -> Any:
    if name == "offline":
        from mostrador.llm.offline_provider import OfflineProvider

        return OfflineProvider()
    if not _has_key(settings, name):
        raise ProviderError(f"{name} is configured as a provider but {name.upper()}_API_KEY is not set")
    if name == "openai":
        from mostrador.llm.openai_provider import OpenAIProvider

        return OpenAIProvider(settings)
    if name == "gemini":
        from mostrador.llm.gemini_provider import GeminiProvider

        return GeminiProvider(settings)
    raise ProviderError(f"Unknown LLM provider {name!r}")


def _forget_dead_entries() -> None:
    for key in [key for key, (ref, _) in _cache.items() if ref() is None]:
        del _cache[key]
