"""Blocks -> chunks, by structure.

* A heading starts a new chunk; the chunk remembers its heading path ("Envíos > Plazos"), which is
  searched and embedded with it, so a short answer under a telling heading is still found.
* Paragraphs of one section are packed together up to TARGET_CHARS (never past MAX_CHARS); a
  paragraph longer than MAX_CHARS is split at sentence ends (at words for a monster sentence).
* Overlap where it helps: when one section continues into the next chunk, the next chunk starts with
  the last sentences of the previous one (up to OVERLAP_CHARS), so an answer that straddles the cut
  is whole in at least one chunk. A new section starts clean: its heading is its context.
* An FAQ entry is one chunk: question and answer together, never split.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from mostrador.knowledge.extract import Block

TARGET_CHARS = 900
MAX_CHARS = 1500
OVERLAP_CHARS = 200

_SENTENCE = re.compile(r"(?<=[.!?…])\s+")


@dataclass(frozen=True)
class Chunk:
    index: int
    content: str
    section: str | None = None
    page: int | None = None


def faq_chunk(question: str, answer: str) -> Chunk:
    return Chunk(0, f"{question.strip()}\n{answer.strip()}", section=None)


def split_long(text: str, limit: int = MAX_CHARS) -> list[str]:
    """Pieces of at most `limit` characters, cut at sentence ends, else at spaces."""
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
    current = ""
    for sentence in _SENTENCE.split(text):
        for part in _hard_split(sentence, limit):
            if current and len(current) + 1 + len(part) > limit:
                pieces.append(current)
                current = part
            else:
                current = f"{current} {part}" if current else part
    if current:
        pieces.append(current)
    return pieces


def _hard_split(sentence: str, limit: int) -> Iterable[str]:
    while len(sentence) > limit:
        cut = sentence.rfind(" ", 0, limit)
        cut = cut if cut > limit // 2 else limit
        yield sentence[:cut].strip()
        sentence = sentence[cut:].strip()
    if sentence:
        yield sentence


def overlap_tail(text: str, budget: int = OVERLAP_CHARS) -> str:
    """The last whole sentences of `text` that fit in `budget` characters ('' if even one does not)."""
    kept: list[str] = []
    size = 0
    for sentence in reversed(_SENTENCE.split(text)):
        if size + len(sentence) > budget:
            break
        kept.insert(0, sentence)
        size += len(sentence) + 1
    return " ".join(kept)


def chunk_blocks(
    blocks: Iterable[Block],
    *,
    target: int = TARGET_CHARS,
    limit: int = MAX_CHARS,
    overlap: int = OVERLAP_CHARS,
) -> list[Chunk]:
    chunks: list[Chunk] = []
    headings: list[tuple[int, str]] = []
    parts: list[str] = []
    carried = ""  # the overlap at the start of `parts`, not new content by itself
    page: int | None = None

    def size() -> int:
        return sum(len(p) + 1 for p in parts)

    def flush(*, continue_section: bool) -> None:
        nonlocal parts, carried
        content = "\n".join(parts).strip()
        has_new = bool(content) and content != carried
        if has_new:
            section = " > ".join(text for _, text in headings) or None
            chunks.append(Chunk(len(chunks), content, section, page))
        tail = overlap_tail(content, overlap) if continue_section and has_new and overlap > 0 else ""
        parts = [tail] if tail else []
        carried = tail

    for block in blocks:
        text = block.text.strip()
        if not text:
            continue
        if block.heading_level:
            flush(continue_section=False)
            while headings and headings[-1][0] >= block.heading_level:
                headings.pop()
            headings.append((block.heading_level, text[:200]))
            continue
        for piece in split_long(text, limit - overlap - 1):
            if parts and parts != [carried] and (size() + len(piece) > limit or size() >= target):
                flush(continue_section=True)
            if not parts or parts == [carried]:
                page = block.page if block.page is not None else page
            parts.append(piece)
    flush(continue_section=False)
    return chunks
