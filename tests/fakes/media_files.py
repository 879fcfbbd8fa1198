"""Small but well-formed media files for tests: an Ogg Opus voice note (what WhatsApp records) of a
chosen length, and a PNG photo. `marker` makes each file's bytes unique, so the fake LLM server can
answer per file (llm_server.add_transcript / add_image_description)."""

from __future__ import annotations

import struct
import zlib

OPUS_RATE = 48_000
PRE_SKIP = 312


def _ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def _ogg_page(packet: bytes, *, granule: int, sequence: int, flags: int) -> bytes:
    segments = [255] * (len(packet) // 255) + [len(packet) % 255]
    header = struct.pack("<4sBBqIIIB", b"OggS", 0, flags, granule, 0x4D4F5354, sequence, 0, len(segments))
    page = header + bytes(segments) + packet
    crc = _ogg_crc(page)
    return page[:22] + struct.pack("<I", crc) + page[26:]


def ogg_opus_voice_note(seconds: float, marker: str = "") -> bytes:
    """An Ogg Opus stream whose last page says it plays `seconds` (the audio packets are filler)."""
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, PRE_SKIP, OPUS_RATE, 0, 0)
    tags = b"OpusTags" + struct.pack("<I", 9) + b"mostrador" + struct.pack("<I", 1) + struct.pack("<I", 9 + len(marker))
    tags += b"TITLE=" + b"ab=" + marker.encode()
    audio = (b"\xfc\xff\xfe" + marker.encode()) * 10
    total = int(seconds * OPUS_RATE) + PRE_SKIP
    return (
        _ogg_page(head, granule=0, sequence=0, flags=0x02)
        + _ogg_page(tags, granule=0, sequence=1, flags=0)
        + _ogg_page(audio, granule=total // 2, sequence=2, flags=0)
        + _ogg_page(audio, granule=total, sequence=3, flags=0x04)
    )


def png_photo(marker: str = "") -> bytes:
    """A 2x2 RGB PNG carrying `marker` in a text chunk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    pixels = b"".join(b"\x00" + b"\xff\x80\x00" * 2 for _ in range(2))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
        + chunk(b"tEXt", b"Comment\x00" + marker.encode())
        + chunk(b"IDAT", zlib.compress(pixels))
        + chunk(b"IEND", b"")
    )
