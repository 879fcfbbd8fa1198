"""What a customer's voice note or photo says, for the reply: transcript, product description, or
the notice to send instead (no model for it, over the limits, could not be read).

A voice note becomes text the model answers like any typed message. A photo goes to a
vision-capable model that describes the product; the description (with the caption) is what the
reply model reads, so it drives the catalog search. Without a model, a voice note gets a polite
notice and a photo's caption is answered with a note that photos need a model; words typed with a
voice note that cannot be heard are answered the same way.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Iterator, Sequence
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

    def can_hear(self) -> bool:
        """Whether any model transcribes voice notes (else they get the "needs a model" notice)."""
        return bool(self._transcribers())

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
        words = message.text.strip()
        models = list(self._transcribers())
        if not models:
            return self._without_voice(words, notice("voice_needs_model", language))
        try:
            media = self._source.fetch(message)
        except MediaTooLarge:
            return self._without_voice(words, self._too_large(language))
        except MediaError as error:
            logger.warning("voice note not downloaded", extra={"error": str(error)[:200]})
            return self._without_voice(words, notice("voice_unavailable", language))
        seconds = audio_duration_seconds(media.data)
        if seconds is not None and seconds > self.max_voice_seconds:
            too_long = notice("voice_too_long", language, minutes=_minutes(self.max_voice_seconds))
            return self._without_voice(words, too_long)
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
        return self._without_voice(words, notice("voice_unavailable", language))

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
    def _without_voice(words: str, fixed_notice: str) -> Understood:
        # Words typed with the voice note (Support Board sends both) are still a question worth
        # answering; the reply says after it that the voice note itself was not heard.
        return Understood() if words else Understood(notice=fixed_notice)

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
    """How long a voice note plays, from the file's own structure, without decoding it: Ogg (Opus or
    Vorbis: WhatsApp voice notes), WAV, MP4/M4A (Messenger and Instagram audio clips, WhatsApp's
    audio/mp4), WebM (browsers' recordings, when the recorder wrote a duration), AMR and AMR-WB (older
    phones' voice notes, WhatsApp's audio/amr), ADTS AAC and MP3. None for anything else or a file
    that does not say; then only the size limit bounds it."""
    if data[:4] == b"OggS":
        return _ogg_duration(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return _wav_duration(data)
    if data[4:8] in _MP4_FIRST_BOXES:
        return _mp4_duration(data)
    if data[:4] == _EBML_MAGIC:
        return _webm_duration(data)
    if data.startswith(_AMR_MAGIC):
        return _amr_duration(data)
    start = _after_id3(data)
    if len(data) >= start + 2 and data[start] == 0xFF and data[start + 1] & 0xF6 == 0xF0:  # sync word, layer 0
        return _adts_duration(data, start)
    return _mpeg_audio_duration(data, start)


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


# -- MP4 (ISO base media): moov/mvhd holds the timescale and duration; moov may follow the media data.

_MP4_FIRST_BOXES = frozenset({b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"styp"})
_UNKNOWN_32 = 0xFFFF_FFFF
_UNKNOWN_64 = 0xFFFF_FFFF_FFFF_FFFF


def _mp4_boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, body start, body end) of each whole box between start and end."""
    position = start
    while position + 8 <= end:
        size, kind, header = int.from_bytes(data[position : position + 4], "big"), data[position + 4 : position + 8], 8
        if size == 1:  # a 64-bit size follows the type
            if position + 16 > end:
                return
            size, header = int.from_bytes(data[position + 8 : position + 16], "big"), 16
        elif size == 0:  # to the end of the file
            size = end - position
        if size < header or position + size > end:
            return
        yield kind, position + header, position + size
        position += size


def _mp4_duration(data: bytes) -> float | None:
    moov = next(((b, e) for kind, b, e in _mp4_boxes(data, 0, len(data)) if kind == b"moov"), None)
    if moov is None:
        return None
    timescale, duration = 0, 0
    for kind, body, end in _mp4_boxes(data, *moov):
        if kind == b"mvhd" and end - body >= 20:
            if data[body] == 1 and end - body >= 32:
                timescale = int.from_bytes(data[body + 20 : body + 24], "big")
                duration = int.from_bytes(data[body + 24 : body + 32], "big")
            else:
                timescale = int.from_bytes(data[body + 12 : body + 16], "big")
                duration = int.from_bytes(data[body + 16 : body + 20], "big")
            if duration in (_UNKNOWN_32, _UNKNOWN_64):
                duration = 0
        elif kind == b"mvex":  # a fragmented file: mvhd says 0, mehd the whole length
            for inner, mehd, mehd_end in _mp4_boxes(data, body, end):
                if inner == b"mehd" and mehd_end - mehd >= 8:
                    width = 8 if data[mehd] == 1 and mehd_end - mehd >= 12 else 4
                    duration = duration or int.from_bytes(data[mehd + 4 : mehd + 4 + width], "big")
    return duration / timescale if timescale and duration else None


# -- WebM (Matroska): Segment > Info > Duration, in units of Info's TimecodeScale (ns, default 1 ms).

_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_SEGMENT, _INFO, _TIMECODE_SCALE, _DURATION, _CLUSTER = 0x18538067, 0x1549A966, 0x2AD7B1, 0x4489, 0x1F43B675


def _ebml_number(data: bytes, position: int, *, keep_marker: bool) -> tuple[int, int, bool] | None:
    """(value, length, all-ones) of the variable-length number at `position`: an element id keeps its
    length marker, a size drops it (all ones: unknown size)."""
    if position >= len(data) or data[position] == 0:
        return None
    length = 9 - data[position].bit_length()
    if position + length > len(data):
        return None
    value = data[position] if keep_marker else data[position] & (0xFF >> length)
    for byte in data[position + 1 : position + length]:
        value = (value << 8) | byte
    return value, length, not keep_marker and value == (1 << (7 * length)) - 1


def _ebml_elements(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    """(id, body start, body end) of each element between start and end; an unknown size runs to `end`."""
    position = start
    while position < end:
        element = _ebml_number(data, position, keep_marker=True)
        size = element and _ebml_number(data, position + element[1], keep_marker=False)
        if not element or not size:
            return
        body = position + element[1] + size[1]
        stop = end if size[2] else min(end, body + size[0])
        yield element[0], body, stop
        position = stop


def _webm_duration(data: bytes) -> float | None:
    for element, body, end in _ebml_elements(data, 0, len(data)):
        if element != _SEGMENT:
            continue
        for child, child_body, child_end in _ebml_elements(data, body, end):
            if child == _CLUSTER:
                return None  # the media began: no Info before it
            if child != _INFO:
                continue
            scale, duration = 1_000_000, None
            for field, value_start, value_end in _ebml_elements(data, child_body, child_end):
                raw = data[value_start:value_end]
                if field == _TIMECODE_SCALE and raw:
                    scale = int.from_bytes(raw, "big")
                elif field == _DURATION and len(raw) in (4, 8):
                    duration = struct.unpack(">f" if len(raw) == 4 else ">d", raw)[0]
            if duration is None or not math.isfinite(duration) or duration <= 0:
                return None
            return duration * scale / 1e9
    return None


# -- ADTS AAC (audio/aac): a header per frame of 1024 samples per raw block; count them.

_ADTS_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350)


def _after_id3(data: bytes) -> int:
    """Where the audio frames start: after an ID3v2 tag (sizes are 7 bits a byte; a footer adds 10)."""
    if data[:3] != b"ID3" or len(data) < 10:
        return 0
    footer = 10 if data[5] & 0x10 else 0
    return 10 + footer + sum((data[6 + i] & 0x7F) << (7 * (3 - i)) for i in range(4))


def _adts_duration(data: bytes, position: int) -> float | None:
    samples, rate = 0, 0
    while position + 7 <= len(data):
        header = data[position : position + 7]
        if header[0] != 0xFF or header[1] & 0xF6 != 0xF0:  # sync word, layer 0
            break
        index = (header[2] >> 2) & 0x0F
        length = ((header[3] & 0x03) << 11) | (header[4] << 3) | (header[5] >> 5)
        if index >= len(_ADTS_RATES) or length < 7:
            break
        rate = rate or _ADTS_RATES[index]
        samples += 1024 * ((header[6] & 0x03) + 1)
        position += length
    return samples / rate if rate and samples else None


# -- AMR / AMR-WB (RFC 4867 storage format): after the magic, one frame per 20 ms, each a table-of-contents
# byte (frame type in bits 6-3) and the speech bits of that mode; SID and NO_DATA frames take 20 ms too.

_AMR_MAGIC = b"#!AMR"
# Bytes per frame, its TOC byte included, by frame type (3GPP TS 26.101 / 26.201 bit counts, rounded up to
# whole bytes; 9-15 in AMR, 10-15 in AMR-WB are SID of other codecs, reserved or NO_DATA: the TOC alone).
_AMR_FRAME_BYTES = (13, 14, 16, 18, 20, 21, 27, 32, 6, 1, 1, 1, 1, 1, 1, 1)
_AMR_WB_FRAME_BYTES = (18, 24, 33, 37, 41, 47, 51, 59, 61, 6, 1, 1, 1, 1, 1, 1)


def _amr_duration(data: bytes) -> float | None:
    if data.startswith(b"#!AMR\n"):
        position, sizes = 6, _AMR_FRAME_BYTES
    elif data.startswith(b"#!AMR-WB\n"):
        position, sizes = 9, _AMR_WB_FRAME_BYTES
    else:
        return None  # multichannel (#!AMR_MC1.0): not a voice note
    frames, end = 0, len(data)
    while position < end:
        size = sizes[(data[position] >> 3) & 0x0F]
        if position + size > end:
            break
        frames += 1
        position += size
    return frames * 0.02 if frames else None


# -- MP3 (MPEG audio layers I-III): the frame count of a Xing/Info (or VBRI) header when the first frame
# carries one, else the frame headers walked; samples per frame over the sample rate.

_MPEG_RATES = {3: (44_100, 48_000, 32_000), 2: (22_050, 24_000, 16_000), 0: (11_025, 12_000, 8_000)}
_MPEG_BITRATES = {  # kbit/s by (MPEG-1?, layer), bitrate index 1-14
    (True, 1): (32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}


@dataclass(frozen=True)
class _MpegFrame:
    length: int
    samples: int
    rate: int
    mpeg1: bool
    mono: bool


def _mpeg_frame(data: bytes, position: int) -> _MpegFrame | None:
    """The MPEG audio frame header at `position` (sync, version, layer, bitrate, rate), or None."""
    header = data[position : position + 4]
    if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return None
    version, layer_bits = (header[1] >> 3) & 0x03, (header[1] >> 1) & 0x03
    bitrate_index, rate_index = header[2] >> 4, (header[2] >> 2) & 0x03
    if version == 1 or layer_bits == 0 or bitrate_index in (0, 15) or rate_index == 3:
        return None  # reserved, or free format (no length in the header)
    layer, mpeg1, padding = 4 - layer_bits, version == 3, (header[2] >> 1) & 0x01
    rate = _MPEG_RATES[version][rate_index]
    bitrate = _MPEG_BITRATES[(mpeg1, layer)][bitrate_index - 1] * 1000
    if layer == 1:
        return _MpegFrame((12 * bitrate // rate + padding) * 4, 384, rate, mpeg1, header[3] >> 6 == 3)
    samples = 1152 if layer == 2 or mpeg1 else 576
    return _MpegFrame(samples // 8 * bitrate // rate + padding, samples, rate, mpeg1, header[3] >> 6 == 3)


def _mpeg_audio_duration(data: bytes, start: int) -> float | None:
    first = _mpeg_frame(data, start)
    if first is None:
        return None
    # Xing / Info (LAME) after the side information, VBRI (Fraunhofer) 32 bytes after the header.
    side_info = (32 if not first.mono else 17) if first.mpeg1 else (17 if not first.mono else 9)
    xing = start + 4 + side_info
    if data[xing : xing + 4] in (b"Xing", b"Info") and int.from_bytes(data[xing + 4 : xing + 8], "big") & 0x01:
        frames = int.from_bytes(data[xing + 8 : xing + 12], "big")
        return frames * first.samples / first.rate if frames else None
    if data[start + 36 : start + 40] == b"VBRI":
        frames = int.from_bytes(data[start + 50 : start + 54], "big")
        return frames * first.samples / first.rate if frames else None
    seconds, position, end = 0.0, start, len(data)
    while (frame := _mpeg_frame(data, position)) is not None and position + frame.length <= end:
        seconds += frame.samples / frame.rate
        position += frame.length
    return seconds or None
