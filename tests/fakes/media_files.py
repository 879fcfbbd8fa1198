"""Small but well-formed media files for tests: voice notes of a chosen length as Ogg Opus (what
WhatsApp records), MP4/M4A (Messenger and Instagram audio clips), WebM (browsers) and ADTS AAC, and a
PNG photo. `marker` makes each file's bytes unique, so the fake LLM server can
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


def _box(kind: bytes, body: bytes, *, large: bool = False) -> bytes:
    if large:  # the 64-bit size form: size 1, then the real size after the type
        return struct.pack(">I4sQ", 1, kind, 16 + len(body)) + body
    return struct.pack(">I4s", 8 + len(body), kind) + body


def mp4_voice_note(seconds: float, marker: str = "", *, moov_first: bool = False, version: int = 0) -> bytes:
    """An MP4 audio file (ftyp, mdat of filler, moov with its mvhd saying it plays `seconds` at a 44.1 kHz
    timescale). Phones write moov after the media data unless the file was made for streaming."""
    timescale = 44_100
    duration = round(seconds * timescale)
    if version == 1:
        times = struct.pack(">QQIQ", 0, 0, timescale, duration)
    else:
        times = struct.pack(">IIII", 0, 0, timescale, duration)
    rest = struct.pack(">IH10x36x24xI", 0x00010000, 0x0100, 2)  # rate, volume, matrix, predefined, next track
    mvhd = _box(b"mvhd", bytes([version, 0, 0, 0]) + times + rest)
    moov = _box(b"moov", mvhd + _box(b"trak", _box(b"tkhd", b"\0" * 84)))
    mdat = _box(b"mdat", (b"\x21\x10\x05" + marker.encode()) * 50, large=True)
    ftyp = _box(b"ftyp", b"M4A \0\0\0\0M4A mp42isom")
    return ftyp + (moov + mdat if moov_first else mdat + moov)


def _ebml(element_id: int, body: bytes) -> bytes:
    size = len(body)
    assert size < 2**56 - 1
    return element_id.to_bytes((element_id.bit_length() + 7) // 8, "big") + (size | (1 << 56)).to_bytes(8, "big") + body


def webm_voice_note(seconds: float, marker: str = "", *, with_duration: bool = True) -> bytes:
    """A WebM (Matroska) file whose Segment > Info says it plays `seconds` (TimecodeScale 1 ms); the
    Segment has an unknown size, as a live recorder writes it. `with_duration=False`: a browser's
    MediaRecorder output, which names no duration."""
    header = _ebml(0x1A45DFA3, _ebml(0x4282, b"webm"))
    info = _ebml(0x2AD7B1, (1_000_000).to_bytes(3, "big"))
    if with_duration:
        info += _ebml(0x4489, struct.pack(">d", seconds * 1000))
    cluster = _ebml(0x1F43B675, _ebml(0xE7, b"\0") + (b"\xa3" + marker.encode()) * 20)
    segment = bytes.fromhex("18538067") + bytes.fromhex("01ffffffffffffff") + _ebml(0x1549A966, info) + cluster
    return header + segment


def adts_voice_note(seconds: float, marker: str = "") -> bytes:
    """Raw AAC in ADTS frames (audio/aac) at 16 kHz, one raw block (1024 samples) a frame."""
    payload = (b"\x21" + marker.encode())[:32].ljust(32, b"\0")
    length = 7 + len(payload)
    rate_index = 8  # 16000 Hz
    header = bytes(
        [
            0xFF,
            0xF1,  # MPEG-4, layer 0, no CRC
            (1 << 6) | (rate_index << 2),  # AAC LC
            (1 << 6) | ((length >> 11) & 0x03),  # one channel
            (length >> 3) & 0xFF,
            ((length & 0x07) << 5) | 0x1F,
            0xFC,  # one raw data block
        ]
    )
    frames = round(seconds * 16_000 / 1024)
    return (header + payload) * frames


# AMR frame sizes by mode (TOC byte included): 12.2 kbit/s, 4.75 kbit/s, SID, NO_DATA; AMR-WB 23.85 kbit/s.
_AMR_MODES = ((7, 32), (0, 13), (8, 6), (15, 1))
_AMR_WB_MODES = ((8, 61), (2, 33), (9, 6), (15, 1))


def amr_voice_note(seconds: float, marker: str = "", *, wideband: bool = False) -> bytes:
    """AMR (audio/amr) or AMR-WB storage format: 50 frames a second, cycling through speech, comfort-noise
    (SID) and NO_DATA frames of different sizes, as a phone's discontinuous transmission writes them."""
    magic, modes = (b"#!AMR-WB\n", _AMR_WB_MODES) if wideband else (b"#!AMR\n", _AMR_MODES)
    frames = []
    for index in range(round(seconds * 50)):
        mode, size = modes[index % len(modes)]
        body = (marker.encode() if index == 0 else b"").ljust(size - 1, b"\x55")[: size - 1]
        frames.append(bytes([(mode << 3) | 0x04]) + body)
    return magic + b"".join(frames)


def mp3_voice_note(seconds: float, marker: str = "", *, xing: bool = False) -> bytes:
    """MP3 (audio/mpeg) after an ID3v2 tag: MPEG-2 Layer III, 8 kbit/s, 16 kHz mono (36-byte frames of 576
    samples, 36 ms each). `xing`: the first frame is a Xing header carrying the frame count."""
    header = bytes([0xFF, 0xF3, 0x18, 0xC0])  # sync, MPEG-2, layer III, no CRC; 8 kbit/s, 16 kHz; mono
    frames = round(seconds * 16_000 / 576)
    tag = marker.encode()
    id3 = b"ID3\x04\x00\x00" + bytes([0, 0, 0, len(tag)]) + tag
    audio = [header + bytes([index % 251]) * 32 for index in range(frames)]
    if xing:  # side information (9 bytes for MPEG-2 mono), then "Xing", flags (frame count), the count
        audio.insert(
            0, (header + b"\0" * 9 + b"Xing" + (1).to_bytes(4, "big") + frames.to_bytes(4, "big")).ljust(36, b"\0")
        )
    return id3 + b"".join(audio)
