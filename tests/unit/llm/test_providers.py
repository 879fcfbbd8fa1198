"""The factory: which provider summarizes, embeds and chats, and in which fallback order."""

from __future__ import annotations

import pytest

from mostrador.config import Settings
from mostrador.llm.base import ChatModel, Embedder, ProviderError, Summarizer
from mostrador.llm.providers import chat_models_for, embedder_for, summarizer_for


def settings(**values: object) -> Settings:
    return Settings.model_validate(values)


def test_offline_everything() -> None:
    offline = settings(llm_provider="offline", openai_api_key="sk", gemini_api_key="gm")

    assert summarizer_for(offline).name == "offline"
    assert embedder_for(offline) is None  # offline means full-text search only
    assert [model.name for model in chat_models_for(offline)] == ["offline"]


def test_openai_first_then_gemini_when_its_key_is_set() -> None:
    both = settings(llm_provider="openai", openai_api_key="sk", gemini_api_key="gm")

    models = chat_models_for(both)

    assert [model.name for model in models] == ["openai", "gemini"]
    assert all(isinstance(model, ChatModel) for model in models)
    assert summarizer_for(both).name == "openai"
    embedder = embedder_for(both)
    assert embedder is not None and embedder.name == "openai" and embedder.model == "text-embedding-3-small"


def test_gemini_first_then_openai() -> None:
    both = settings(llm_provider="gemini", openai_api_key="sk", gemini_api_key="gm")

    assert [model.name for model in chat_models_for(both)] == ["gemini", "openai"]
    embedder = embedder_for(both)
    assert embedder is not None and embedder.model == "gemini-embedding-001"


def test_no_fallback_without_the_other_key() -> None:
    assert [model.name for model in chat_models_for(settings(llm_provider="gemini", gemini_api_key="gm"))] == ["gemini"]


def test_embeddings_can_use_their_own_provider() -> None:
    mixed = settings(llm_provider="gemini", embedding_provider="openai", openai_api_key="sk", gemini_api_key="gm")
    text_only = settings(llm_provider="openai", embedding_provider="offline", openai_api_key="sk")

    embedder = embedder_for(mixed)
    assert isinstance(embedder, Embedder) and embedder.name == "openai"
    assert summarizer_for(mixed).name == "gemini"
    assert embedder_for(text_only) is None
    assert isinstance(summarizer_for(text_only), Summarizer)


def test_a_configured_provider_without_its_key_is_an_error() -> None:
    missing = settings(llm_provider="openai", gemini_api_key="gm")

    with pytest.raises(ProviderError, match="OPENAI_API_KEY"):
        chat_models_for(missing)
    with pytest.raises(ProviderError, match="GEMINI_API_KEY"):
        embedder_for(settings(llm_provider="offline", embedding_provider="gemini"))


def test_providers_are_built_once_per_settings_object() -> None:
    first = settings(llm_provider="openai", openai_api_key="sk", gemini_api_key="gm")
    second = settings(llm_provider="openai", openai_api_key="sk", gemini_api_key="gm")

    assert summarizer_for(first) is chat_models_for(first)[0] is embedder_for(first)
    assert chat_models_for(first)[1] is chat_models_for(first)[1]
    assert summarizer_for(second) is not summarizer_for(first)


def test_importing_the_llm_package_and_factory_loads_no_sdk() -> None:
    import subprocess
    import sys

    code = (
        "import sys, mostrador.llm, mostrador.llm.providers, mostrador.llm.tools, mostrador.llm.offline_provider; "
        "bad = [m for m in ('openai', 'google.genai') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)

    assert completed.returncode == 0, completed.stdout + completed.stderr
