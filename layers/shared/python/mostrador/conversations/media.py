"""What a customer's voice note or photo says, for the reply: transcript, product description, or
the notice to send instead (no model for it, over the limits, could not be read).

A voice note becomes text the model answers like any typed message. A photo goes to a
vision-capable model that describes the product; the description (with the caption) is what the
reply model reads, so it drives the catalog search. Without a model, a voice note gets a polite
notice and a photo's caption is answered with a note that photos need a model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from mostrador.channels.media import MediaError, MediaFile, MediaTooLarge
from mostrador.conversations.notices import notice
from mostrador.llm.base import ImageDescriber, ProviderError, Transcriber, Usage
from mostrador.messaging.model import InboundMessage
from mostrador.observability import logger


class MediaSource(Protocol):
    def fetch(self, message: InboundMessage) -> MediaFile: ...


@dataclass(frozen=True)
class Understood:
    transcript: str | None = None
    description: str | None = None
    # A fixed text to send instead of a model reply (nothing left for the model to answer). A photo
    # with a caption but no description is answered by its caption (the reply says why).
    notice: str | None = None


class MediaReader:
    """Turns voice notes and photos into text. Model lists are built on first use (a text message
    never loads an SDK); each list is tried in order, the first answer wins."""

    def __init__(
        self,
        source: MediaSource,
        *,
        transcribers: Callable[[], Sequence[Transcriber]],
        describers: Callable[[], Sequence[ImageDescriber]],
        max_voice_seconds: int,
        max_bytes: int,
    ) -> None:
        self._source = source
        self._transcribers = transcribers
        self._describers = describers
        self.max_voice_seconds = max_voice_seconds
        self.max_bytes = max_bytes

    def can_see(self) -> bool:
        """Whether any model looks at photos (else a photo's caption is answered alone)."""
        return bool(self._describers())

    def understand(
        self, message: InboundMessage, language: str, *, on_usage: Callable[[Usage, str], None] | None = None
    ) -> Understood:
        """`on_usage(usage, purpose)` hears of every model call ('transcription' or 'vision')."""
        if message.media_kind == "audio":
            return self._voice_note(message, language, on_usage)
        if message.media_kind == "image":
            return self._photo(message, language, on_usage)
        return Understood()

    def _voice_note(
        self, message: InboundMessage, language: str, on_usage: Callable[[Usage, str], None] | None
    ) -> Understood:
        models = list(self._transcribers())
        if not models:
            return Understood(notice=notice("voice_needs_model", language))
        try:
            media = self._source.fetch(message)
        except MediaTooLarge:
            return Understood(notice=self._too_large(language))
        except MediaError as error:
            logger.warning("voice note not downloaded", extra={"error": str(error)[:200]})
            return Understood(notice=notice("voice_unavailable", language))
        seconds = audio_duration_seconds(media.data)
        if seconds is not None and seconds > self.max_voice_seconds:
            return Understood(notice=notice("voice_too_long", language, minutes=_minutes(self.max_voice_seconds)))
        for model in models:
            try:
                completion = model.transcribe(media.data, mime_type=media.mime_type)
            except ProviderError as error:
                logger.warning("transcription failed", extra={"provider": model.name, "error": str(error)[:300]})
                continue
            if on_usage is not None:
                on_usage(completion.usage, "transcription")
            if completion.text.strip():
                return Understood(transcript=completion.text.strip())
            break  # silence: another model would hear nothing either
        return Understood(notice=notice("voice_unavailable", language))

    def _photo(
        self, message: InboundMessage, language: str, on_usage: Callable[[Usage, str], None] | None
    ) -> Understood:
        caption = message.text.strip()
        models = list(self._describers())
        if not models:
            return self._without_photo(caption, "photo_needs_model", language)
        try:
            media = self._source.fetch(message)
        except MediaTooLarge:
            return Understood() if caption else Understood(notice=self._too_large(language))
        except MediaError as error:
            logger.warning("photo not downloaded", extra={"error": str(error)[:200]})
            return self._without_photo(caption, "photo_unavailable", language)
        for model in models:
            try:
                completion = model.describe_image(
                    media.data, mime_type=media.mime_type, caption=caption, language=language
                )
            except ProviderError as error:
                logger.warning("photo description failed", extra={"provider": model.name, "error": str(error)[:300]})
                continue
            if on_usage is not None:
                on_usage(completion.usage, "vision")
            return Understood(description=completion.text.strip())
        return self._without_photo(caption, "photo_unavailable", language)

    @staticmethod
    def _without_photo(caption: str, key: str, language: str) -> Understood:
        # A caption is still a question worth answering; the reply explains the photo's part after it.
        return Understood() if caption else Understood(notice=notice(key, language))

    def _too_large(self, language: str) -> str:
        return notice("media_too_large", language, megabytes=_megabytes(self.max_bytes))


def _minutes(seconds: int) -> str:
    return str(seconds // 60) if seconds % 60 == 0 else f"{seconds / 60:.1f}"


def _megabytes(size: int) -> str:
    value = size / 1_000_000
    return str(int(value)) if value.is_integer() else f"{value:.1f}"


def audio_duration_seconds(data: bytes) -> float | None:
    """How long an Ogg (Opus or Vorbis: WhatsApp voice notes are Ogg Opus) or WAV file plays, from its
    headers alone; None for other formats (MP3, M4A, AMR), which only the size limit then bounds."""
    if data[:4] == b"OggS":
        return _ogg_duration(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return _wav_duration(data)
    return None


def _ogg_duration(data: bytes) -> float | None:
    head = data[:4096]
    opus = head.find(b"OpusHead")
    vorbis = head.find(b"\x01vorbis")
    if opus >= 0 and len(head) >= opus + 12:
        rate, skip = 48_000, int.from_bytes(head[opus + 10 : opus + 12], "little")  # Opus granules: 48 kHz
    elif vorbis >= 0 and len(head) >= vorbis + 16:
        rate, skip = int.from_bytes(head[vorbis + 12 : vorbis + 16], "little"), 0
    else:
        return None
    last = data.rfind(b"OggS")
    if rate <= 0 or last < 0 or len(data) < last + 14:
        return None
    # The last page's granule position counts the samples played up to its end.
    granule = int.from_bytes(data[last + 6 : last + 14], "little", signed=True)
    if granule < 0:
        return None
    return max(0, granule - skip) / rate


def _wav_duration(data: bytes) -> float | None:
    position, byte_rate = 12, 0
    while position + 8 <= len(data):
        chunk, size = data[position : position + 4], int.from_bytes(data[position + 4 : position + 8], "little")
        if chunk == b"fmt " and size >= 12:
            byte_rate = int.from_bytes(data[position + 16 : position + 20], "little")
        elif chunk == b"data":
            return size / byte_rate if byte_rate else None
        position += 8 + size + (size % 2)
    return None
