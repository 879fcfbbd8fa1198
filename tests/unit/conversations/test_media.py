"""The media reader's rules with in-process stand-ins for the other systems (the download and the
models); the real downloads and SDKs are in tests/integration/test_reply_media.py."""

from __future__ import annotations

import struct
from datetime import UTC, datetime

import pytest

from mostrador.channels.media import MediaFile, MediaTooLarge, MediaUnavailable
from mostrador.conversations.media import MediaReader, Understood, audio_duration_seconds
from mostrador.conversations.notices import notice
from mostrador.llm.base import Completion, ProviderError, Usage
from mostrador.messaging.model import InboundMessage
from tests.fakes.media_files import (
    adts_voice_note,
    amr_voice_note,
    mp3_voice_note,
    mp4_voice_note,
    ogg_opus_voice_note,
    png_photo,
    webm_voice_note,
)

# AMR frame types with their sizes (TOC byte included): every speech mode, SID, and NO_DATA.
_AMR_SIZES = [(0, 13), (1, 14), (2, 16), (3, 18), (4, 20), (5, 21), (6, 27), (7, 32), (8, 6), (15, 1)]


class Source:
    def __init__(self, result: MediaFile | Exception) -> None:
        self.result = result
        self.fetched = 0

    def fetch(self, message: InboundMessage) -> MediaFile:
        self.fetched += 1
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


class Ears:
    def __init__(self, name: str, answer: str | Exception) -> None:
        self.name, self.answer, self.calls = name, answer, 0

    def transcribe(self, audio: bytes, *, mime_type: str) -> Completion:
        self.calls += 1
        if isinstance(self.answer, Exception):
            raise self.answer
        return Completion(self.answer, Usage(self.name, "m"))

    def describe_image(self, image: bytes, *, mime_type: str, caption: str, language: str) -> Completion:
        return self.transcribe(image, mime_type=mime_type)


def msg(kind: str, text: str = "") -> InboundMessage:
    return InboundMessage(
        tenant_id="t", channel="whatsapp", conversation_id="wa:1:2", sender_id="2", sender_role="customer",
        text=text, media_kind=kind, platform_message_id="w1", timestamp=datetime.now(UTC),  # type: ignore[arg-type]
    )  # fmt: skip


def reader(source: Source, models: list[Ears], *, seconds: int = 120, size: int = 1_000_000) -> MediaReader:
    return MediaReader(
        source, transcribers=lambda: models, describers=lambda: models, max_voice_seconds=seconds, max_bytes=size
    )


def test_durations_come_from_ogg_and_wav_headers():
    assert audio_duration_seconds(ogg_opus_voice_note(61.25)) == 61.25
    fmt = struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16)
    wav = b"RIFF" + struct.pack("<I", 36 + 32000) + b"WAVE" + b"fmt " + fmt + b"data" + struct.pack("<I", 32000)
    assert audio_duration_seconds(wav + b"\0" * 32000) == 2.0
    assert audio_duration_seconds(b"ID3\x04" + b"\0" * 100) is None  # a tag and no frame: the file does not say


def test_durations_come_from_mp4_webm_and_adts_structure():
    # Messenger / Instagram clips and WhatsApp's audio/mp4: moov (with mvhd) after the media data, or first.
    assert audio_duration_seconds(mp4_voice_note(185)) == 185
    assert audio_duration_seconds(mp4_voice_note(61.5, moov_first=True)) == 61.5
    assert audio_duration_seconds(mp4_voice_note(3600.25, version=1)) == 3600.25  # 64-bit times
    cut = mp4_voice_note(185)
    assert audio_duration_seconds(cut[: len(cut) - 20]) is None  # moov cut short: the file does not say
    # Browsers' WebM: the duration when the recorder wrote one.
    assert audio_duration_seconds(webm_voice_note(200)) == 200
    assert audio_duration_seconds(webm_voice_note(200, with_duration=False)) is None
    # Raw AAC (audio/aac): frames counted.
    assert abs(audio_duration_seconds(adts_voice_note(190)) - 190) < 0.1
    assert audio_duration_seconds(b"ID3\x04\0\0\0\0\0\0" + adts_voice_note(10)) == pytest.approx(10, abs=0.1)
    assert audio_duration_seconds(b"\xff\xfb\x90\x00" + b"\0" * 400) is None  # an MP3 frame cut short


def test_durations_come_from_amr_and_mp3_frames():
    # AMR and AMR-WB: 20 ms a frame, whatever its mode (speech, comfort noise, no data) and so its size.
    assert audio_duration_seconds(amr_voice_note(190)) == pytest.approx(190)
    assert audio_duration_seconds(amr_voice_note(61.3, wideband=True)) == pytest.approx(61.3)
    one_of_each = b"#!AMR\n" + b"".join(bytes([mode << 3 | 4]) + b"\0" * (size - 1) for mode, size in _AMR_SIZES)
    assert audio_duration_seconds(one_of_each) == pytest.approx(0.02 * len(_AMR_SIZES))
    assert audio_duration_seconds(b"#!AMR\n") is None and audio_duration_seconds(b"#!AMR_MC1.0\n" + b"\0" * 99) is None
    # MP3: the frame headers walked after the ID3 tag, or the frame count of a Xing header.
    assert audio_duration_seconds(mp3_voice_note(190)) == pytest.approx(190, abs=0.05)
    assert audio_duration_seconds(mp3_voice_note(190, xing=True)) == pytest.approx(190, abs=0.05)
    short = mp3_voice_note(2, xing=True)
    count = short.index(b"Xing") + 8
    lying = short[:count] + (10_000).to_bytes(4, "big") + short[count + 4 :]
    assert audio_duration_seconds(lying) == pytest.approx(10_000 * 576 / 16_000)  # the header is believed
    # MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, with and without padding: 1152 samples a frame.
    frames = [b"\xff\xfb\x90\x00" + b"\0" * 413, b"\xff\xfb\x92\x00" + b"\0" * 414] * 50
    assert audio_duration_seconds(b"".join(frames)) == pytest.approx(100 * 1152 / 44_100)


def test_the_second_model_transcribes_when_the_first_fails_and_usage_is_reported():
    first, second = Ears("openai", ProviderError("down")), Ears("gemini", "hola")
    seen: list[tuple[str, str]] = []
    understood = reader(Source(MediaFile(ogg_opus_voice_note(3), "audio/ogg")), [first, second]).understand(
        msg("audio"), "es", on_usage=lambda usage, purpose: seen.append((usage.provider, purpose))
    )
    assert understood.transcript == "hola" and seen == [("gemini", "transcription")]


def test_limits_and_failures_become_clear_notices():
    voice = MediaFile(ogg_opus_voice_note(200), "audio/ogg")
    long = reader(Source(voice), [Ears("o", "x")], seconds=120).understand(msg("audio"), "en")
    assert long.notice == notice("voice_too_long", "en", minutes="2")
    large = reader(Source(MediaTooLarge(5, 4)), [Ears("o", "x")], size=16_000_000).understand(msg("audio"), "es")
    assert large.notice == notice("media_too_large", "es", megabytes="16")
    gone = reader(Source(MediaUnavailable("404")), [Ears("o", "x")]).understand(msg("audio"), "fr")
    assert gone.notice == notice("voice_unavailable", "fr")
    silent = reader(Source(voice), [Ears("o", "")], seconds=999).understand(msg("audio"), "es")
    assert silent.notice == notice("voice_unavailable", "es")


def test_without_models_nothing_is_downloaded():
    source = Source(MediaFile(b"", "audio/ogg"))
    assert reader(source, []).understand(msg("audio"), "pt").notice == notice("voice_needs_model", "pt")
    assert reader(source, []).understand(msg("image", "¿tienen este?"), "es").notice is None  # the caption is answered
    assert reader(source, []).understand(msg("image"), "es").notice == notice("photo_needs_model", "es")
    assert source.fetched == 0


def test_a_photo_is_described_and_a_failed_one_with_a_caption_is_left_to_the_caption():
    photo = MediaFile(png_photo("x"), "image/png")
    assert (
        reader(Source(photo), [Ears("o", "Una licuadora")]).understand(msg("image"), "es").description
        == "Una licuadora"
    )
    failed = reader(Source(photo), [Ears("o", ProviderError("x"))]).understand(msg("image", "¿y este?"), "es")
    assert failed.description is None and failed.notice is None


def test_words_typed_with_a_voice_note_that_cannot_be_heard_are_left_to_the_words():
    """Support Board sends a voice note and typed words as one message: with no transcriber, a failed
    download, a voice note too long or silence, the words are answered (no notice instead of them)."""
    words = msg("audio", "¿tienen neveras samsung?")
    voice = MediaFile(ogg_opus_voice_note(3), "audio/ogg")
    offline = Source(voice)
    assert reader(offline, []).understand(words, "es") == Understood()
    assert offline.fetched == 0
    assert reader(Source(MediaUnavailable("404")), [Ears("o", "x")]).understand(words, "es") == Understood()
    assert reader(Source(MediaTooLarge(5, 4)), [Ears("o", "x")]).understand(words, "es") == Understood()
    too_long = MediaFile(ogg_opus_voice_note(200), "audio/ogg")
    assert reader(Source(too_long), [Ears("o", "x")], seconds=120).understand(words, "es") == Understood()
    assert reader(Source(voice), [Ears("o", "")]).understand(words, "es") == Understood()
    # Heard, the transcript is what the model reads (with the words beside it).
    assert reader(Source(voice), [Ears("o", "hola")]).understand(words, "es").transcript == "hola"
    # Whitespace is no words: the notice as before.
    blank = msg("audio", "  ")
    assert reader(Source(voice), []).understand(blank, "es").notice == notice("voice_needs_model", "es")
