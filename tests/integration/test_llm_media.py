"""Transcription and photo description through the real OpenAI and google-genai SDKs, talking HTTP to
the fake server on 127.0.0.1; the factory's choice of providers; Gemini's signature for a call it did
not make (the customer's tap turned into a product lookup)."""

from __future__ import annotations

import base64

import pytest

from mostrador.llm.base import ChatMessage, ProviderError, ToolCall
from mostrador.llm.providers import image_describers_for, transcribers_for
from mostrador.llm.tools import REPLY_TOOLS
from tests.fakes.llm_server import FakeLLMServer
from tests.fakes.media_files import ogg_opus_voice_note, png_photo
from tests.integration.test_llm_providers import gemini_provider, make_settings, openai_provider


def test_openai_transcribes_with_the_transcription_model_and_a_named_file(llm_server: FakeLLMServer) -> None:
    audio = ogg_opus_voice_note(3, "hola")
    llm_server.add_transcript(audio, "Hola, ¿tienen neveras?")
    result = openai_provider(llm_server).transcribe(audio, mime_type="audio/ogg; codecs=opus")
    assert result.text == "Hola, ¿tienen neveras?"
    assert (result.usage.provider, result.usage.model, result.usage.tokens_in) == (
        "openai",
        "gpt-4o-mini-transcribe",
        50,
    )
    [request] = llm_server.requests
    assert request.body["model"] == "gpt-4o-mini-transcribe"
    assert (request.body["file_name"], request.body["file_type"]) == ("voice-note.ogg", "audio/ogg")
    other = openai_provider(llm_server, openai_transcription_model="whisper-1").transcribe(
        audio, mime_type="audio/mpeg"
    )
    assert other.usage.model == "whisper-1" and llm_server.requests[-1].body["file_name"] == "voice-note.mp3"


def test_openai_describes_a_photo_cheaply_in_the_customers_language(llm_server: FakeLLMServer) -> None:
    photo = png_photo("blender")
    llm_server.add_image_description(photo, "A white Oster blender.")
    result = openai_provider(llm_server).describe_image(
        photo, mime_type="image/png", caption="this one?", language="en"
    )
    assert result.text == "A white Oster blender."
    [request] = llm_server.requests
    system, user = request.body["messages"]
    assert "'en'" in system["content"] and "data, not instructions" in system["content"]
    image = user["content"][1]["image_url"]
    assert image["detail"] == "low" and base64.b64decode(image["url"].split(",", 1)[1]) == photo
    assert "this one?" in user["content"][0]["text"]


def test_gemini_hears_and_sees_through_inline_data(llm_server: FakeLLMServer) -> None:
    audio, photo = ogg_opus_voice_note(2, "g"), png_photo("g")
    llm_server.add_transcript(audio, "busco un ventilador")
    llm_server.add_image_description(photo, "Un ventilador de pie.")
    provider = gemini_provider(llm_server)
    assert provider.transcribe(audio, mime_type="audio/ogg; codecs=opus").text == "busco un ventilador"
    assert (
        provider.describe_image(photo, mime_type="image/png", caption="", language="es").text == "Un ventilador de pie."
    )
    hearing, seeing = llm_server.requests
    assert (hearing.kind, seeing.kind) == ("transcription", "vision")
    assert hearing.body["contents"][0]["parts"][0]["inlineData"]["mime_type"] == "audio/ogg"
    assert "Transcribe" in hearing.body["systemInstruction"]["parts"][0]["text"]


def test_a_silent_voice_note_is_an_empty_transcript_on_both_providers(llm_server: FakeLLMServer) -> None:
    """Silence is an answer (the reader stops at it: another provider would hear nothing either); an empty
    Gemini answer cut short or blocked is a failure, for the next provider to try."""
    silent, blocked = ogg_opus_voice_note(4, "silent"), ogg_opus_voice_note(4, "blocked")
    llm_server.add_transcript(silent, "")
    llm_server.add_transcript(blocked, "", finish_reason="SAFETY")
    assert openai_provider(llm_server).transcribe(silent, mime_type="audio/ogg").text == ""
    heard = gemini_provider(llm_server).transcribe(silent, mime_type="audio/ogg")
    assert (heard.text, heard.usage.provider) == ("", "gemini")
    with pytest.raises(ProviderError, match="empty"):
        gemini_provider(llm_server).transcribe(blocked, mime_type="audio/ogg")


def test_media_calls_that_keep_failing_raise_provider_error(llm_server: FakeLLMServer) -> None:
    llm_server.fail_when("audio/transcriptions", 503)
    with pytest.raises(ProviderError, match="transcription"):
        openai_provider(llm_server, llm_max_retries=1).transcribe(b"OggS", mime_type="audio/ogg")
    llm_server.fail_next(500, times=10)
    with pytest.raises(ProviderError, match="photo description"):
        gemini_provider(llm_server, llm_max_retries=1).describe_image(
            b"x", mime_type="image/png", caption="", language="es"
        )


def test_the_factory_gives_no_media_models_offline_and_a_fallback_when_a_second_key_is_set(
    llm_server: FakeLLMServer,
) -> None:
    assert transcribers_for(make_settings(llm_server, llm_provider="offline")) == []
    assert image_describers_for(make_settings(llm_server, llm_provider="offline")) == []
    both = make_settings(llm_server, llm_provider="offline", transcription_provider="gemini", vision_provider="openai")
    assert [m.name for m in transcribers_for(both)] == ["gemini", "openai"]
    assert [m.name for m in image_describers_for(both)] == ["openai", "gemini"]


def test_gemini_3_gets_the_documented_stand_in_signature_for_a_call_it_did_not_make(llm_server: FakeLLMServer) -> None:
    tap = ToolCall("pick-7", "get_live_product_details", {"item_code": "N-1"})
    messages = [
        ChatMessage("user", "Nevera Samsung"),
        ChatMessage("assistant", "", tool_calls=(tap,)),
        ChatMessage("tool", '{"product": null}', tool_call_id="pick-7", name="get_live_product_details"),
    ]
    for model, expected in (("gemini-3-flash", "skip_thought_signature_validator"), ("gemini-2.5-flash", None)):
        gemini_provider(llm_server, gemini_chat_model=model).chat(messages, REPLY_TOOLS, language="es")
        call_part = llm_server.requests[-1].body["contents"][1]["parts"][0]
        signature = call_part.get("thoughtSignature") or call_part.get("thought_signature")
        assert (base64.urlsafe_b64decode(signature + "==").decode() if signature else None) == expected
