"""Each channel's text limit, and splitting a reply into as few pieces as fit it.

WhatsApp takes 4096 characters, Messenger 2000 characters, Instagram 1000 bytes of UTF-8. A long
reply is cut at sentence ends where that costs no extra piece, otherwise between words; a word is
only ever cut when it alone is longer than the limit (nothing else can be done then).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mostrador.messaging.model import Channel

WHATSAPP_MAX_CHARS = 4096
MESSENGER_MAX_CHARS = 2000
INSTAGRAM_MAX_BYTES = 1000

_SENTENCE_END = re.compile(r"[.!?…]['\"”’»)\]]*$")


@dataclass(frozen=True)
class TextLimit:
    limit: int
    unit: str  # "chars" or "bytes"

    def measure(self, text: str) -> int:
        return len(text.encode("utf-8")) if self.unit == "bytes" else len(text)

    def fitting_prefix(self, text: str) -> int:
        """Length (in characters) of the longest prefix of `text` within the limit."""
        if self.unit == "bytes":
            return len(text.encode("utf-8")[: self.limit].decode("utf-8", "ignore"))
        return min(len(text), self.limit)


LIMITS: dict[str, TextLimit] = {
    "whatsapp": TextLimit(WHATSAPP_MAX_CHARS, "chars"),
    "messenger": TextLimit(MESSENGER_MAX_CHARS, "chars"),
    "instagram": TextLimit(INSTAGRAM_MAX_BYTES, "bytes"),
}


def limit_for(channel: Channel | str) -> TextLimit:
    """The limit of a Meta channel; Support Board's source codes (wa, fb, ig) map to theirs."""
    aliases = {"wa": "whatsapp", "fb": "messenger", "ig": "instagram"}
    return LIMITS.get(aliases.get(channel, channel), LIMITS["messenger"])


def split_text(text: str, limit: TextLimit) -> list[str]:
    """Pieces of `text`, each within `limit`, as few as possible, preferring sentence ends."""
    rest = text.strip()
    if not rest:
        return []
    if limit.measure(rest) <= limit.limit:
        return [rest]
    budget = _count_word_pieces(rest, limit)
    pieces: list[str] = []
    while limit.measure(rest) > limit.limit:
        fit = limit.fitting_prefix(rest)
        cut = None
        for boundary in _sentence_boundaries(rest, fit):
            after = rest[boundary:].lstrip()
            # A sentence cut is taken only when it does not add a piece overall.
            if len(pieces) + 1 + _count_word_pieces(after, limit) <= budget:
                cut = boundary
                break
        if cut is None:
            cut = _word_boundary(rest, fit)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def _sentence_boundaries(text: str, fit: int) -> list[int]:
    """Whitespace positions within the first `fit` characters that follow a sentence end, last first."""
    found = []
    for index in range(min(fit, len(text) - 1), 0, -1):
        if not text[index].isspace():
            continue
        if text[index] == "\n" or _SENTENCE_END.search(text[max(0, index - 4) : index]):
            found.append(index)
    return found


def _word_boundary(text: str, fit: int) -> int:
    if fit >= len(text) or text[fit].isspace():
        return fit
    for index in range(fit - 1, 0, -1):
        if text[index].isspace():
            return index
    return max(fit, 1)  # one word longer than the whole limit: it has to be cut


def _count_word_pieces(text: str, limit: TextLimit) -> int:
    count = 0
    rest = text.strip()
    while rest:
        count += 1
        if limit.measure(rest) <= limit.limit:
            break
        cut = _word_boundary(rest, limit.fitting_prefix(rest))
        rest = rest[cut:].lstrip()
    return count
