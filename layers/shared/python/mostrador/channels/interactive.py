"""Choices as each channel can show them, within Meta's documented limits (cited in docs/channels.md).

WhatsApp: up to 3 choices as reply buttons, up to 10 as a list message. Messenger and Instagram:
up to 13 quick replies on a text message. Everywhere else the reply side writes numbered lines.
A tap comes back carrying the choice's id ("product:<item code>"): WhatsApp's interactive
button_reply / list_reply id, Messenger's quick_reply payload (or a postback payload).

Nothing here talks to a network; the senders put these payloads on the wire.
"""

from __future__ import annotations

from typing import Any

from mostrador.channels.base import Choice, ChoiceSet

PRODUCT_PAYLOAD_PREFIX = "product:"

# WhatsApp Cloud API, interactive reply buttons messages.
WHATSAPP_BUTTONS_MAX = 3
WHATSAPP_BUTTON_TITLE_MAX = 20
WHATSAPP_BUTTON_ID_MAX = 256
# WhatsApp Cloud API, interactive list messages.
WHATSAPP_LIST_ROWS_MAX = 10
WHATSAPP_ROW_TITLE_MAX = 24
WHATSAPP_ROW_DESCRIPTION_MAX = 72
WHATSAPP_ROW_ID_MAX = 200
WHATSAPP_LIST_BUTTON_MAX = 20
WHATSAPP_SECTION_TITLE_MAX = 24
# Body of both kinds (the list's is 4096 in Meta's newest page; 1024 holds for both, so we use it).
WHATSAPP_BODY_MAX = 1024
# Image messages: caption.
WHATSAPP_CAPTION_MAX = 1024
# Messenger Platform (and Instagram) quick replies.
MESSENGER_QUICK_REPLIES_MAX = 13
MESSENGER_QUICK_REPLY_TITLE_MAX = 20
MESSENGER_QUICK_REPLY_PAYLOAD_MAX = 1000
# Numbered lines on Support Board and web chat: as many as a WhatsApp list, so a relayed chat reads alike.
NUMBERED_MAX = 10

_ELLIPSIS = "…"


def product_payload(item_code: str) -> str:
    return f"{PRODUCT_PAYLOAD_PREFIX}{item_code}"


def item_code_from_payload(payload: str | None) -> str | None:
    """The item code a tapped choice carries, or None for any other payload (a "Get started" button)."""
    if not payload or not payload.startswith(PRODUCT_PAYLOAD_PREFIX):
        return None
    code = payload[len(PRODUCT_PAYLOAD_PREFIX) :].strip()
    return code or None


def shorten(text: str, limit: int) -> str:
    """`text` in at most `limit` characters: whole words and an ellipsis when it must be cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    room = limit - len(_ELLIPSIS)
    cut = text[: room + 1].rsplit(" ", 1)[0] if " " in text[: room + 1] else ""
    if len(cut) < room // 2:  # one long word: cut inside it rather than keep almost nothing
        cut = text[:room]
    return cut[:room].rstrip(" ,.;:-—") + _ELLIPSIS


def distinct_titles(titles: list[str], limit: int, brands: list[str] | None = None) -> list[str]:
    """Each title within `limit` and telling its product apart from the others.

    Names that fit are kept whole. A longer name is cut at its end when the cut still keeps what sets
    it apart ("Lavadora Samsung 10 kg…"). When it would not — names sharing a long start, six
    "Televisor Samsung Crystal UHD de 4x pulgadas" — the words it shares with its closest neighbour
    are dropped, keeping the product's brand (`brands`, one per title, "" when unknown) and its first
    words while they fit: "Samsung 43 pulgadas". What must survive is the first word that differs,
    and the word after it when that first word is a number (its unit: "43 pulgadas", "10 kg").
    Titles still alike (identical names) end with their position; no two are ever equal, as WhatsApp
    refuses repeated button titles."""
    words = [title.split() for title in titles]
    folded = [[word.casefold() for word in these] for these in words]
    brand_words = [(brand or "").casefold().split() for brand in (brands or [""] * len(titles))]
    candidates = []
    for index, these in enumerate(words):
        shared = max((_common_start(folded[index], other) for n, other in enumerate(folded) if n != index), default=0)
        brand = _find(folded[index][:shared], brand_words[index]) if index < len(brand_words) else None
        candidates.append(_title(these, shared, limit, brand))
    return _without_repeats(candidates, limit)


def _common_start(one: list[str], other: list[str]) -> int:
    count = 0
    for a, b in zip(one, other, strict=False):
        if a != b:
            break
        count += 1
    return count


def _find(words: list[str], part: list[str]) -> range | None:
    """Where the words of `part` stand together in `words`, or None."""
    for start in range(len(words) - len(part) + 1 if part else 0):
        if words[start : start + len(part)] == part:
            return range(start, start + len(part))
    return None


def _title(words: list[str], shared: int, limit: int, brand: range | None) -> str:
    full = " ".join(words)
    if len(full) <= limit or shared >= len(words):
        return shorten(full, limit)
    tail = words[shared:]
    needed = 2 if len(tail) > 1 and any(ch.isdigit() for ch in tail[0]) else 1
    cut = shorten(full, limit)
    if _whole_words(cut, words) >= shared + needed:
        return cut
    for head in _heads(shared, brand):
        start = " ".join(words[n] for n in head)
        room = limit - len(start) - (1 if start else 0)
        if room <= 0:
            continue
        rest = shorten(" ".join(tail), room)
        if _whole_words(rest, tail) >= min(needed, len(tail)):
            return f"{start} {rest}" if start else rest
    return shorten(" ".join(tail), limit)


def _heads(shared: int, brand: range | None) -> list[list[int]]:
    """Which of the shared leading words to keep before the distinguishing ones, best first: the
    first words with the brand among them, the first word and the brand, the brand alone, then the
    first words without it, then none."""
    leading = [list(range(count)) for count in range(shared - 1, 0, -1)]
    if brand is None:
        return [*leading, []]
    with_brand = [head for head in leading if brand.stop <= len(head)]
    first_and_brand = sorted({0, *brand})
    without = [head for head in leading if len(head) <= brand.start]
    heads = [*with_brand, first_and_brand, list(brand), *without, []]
    unique: list[list[int]] = []
    for head in heads:
        if head not in unique and len(head) < shared:
            unique.append(head)
    return unique


def _whole_words(text: str, words: list[str]) -> int:
    """How many of `words` `text` keeps whole, from the first."""
    return _common_start(text.removesuffix(_ELLIPSIS).split(), words)


def _without_repeats(titles: list[str], limit: int) -> list[str]:
    """A title equal to an earlier one ends with its position (the next free number when that too is
    taken): "Nevera Samsung… 2"."""
    taken = {title.casefold() for title in titles}
    seen: set[str] = set()
    result = []
    for position, title in enumerate(titles, start=1):
        candidate, number = title or str(position), position
        while candidate.casefold() in seen or (candidate != title and candidate.casefold() in taken):
            suffix = f" {number}"
            candidate = shorten(title, limit - len(suffix)) + suffix if title else str(number)
            number += 1
        seen.add(candidate.casefold())
        result.append(candidate)
    return result


def row_description(choice: Choice, title: str) -> str:
    """A list row's description (72): the product's full name when its title had to shorten it, then
    the choice's description (price · stock), then its item code when there is room."""
    code = item_code_from_payload(choice.id)
    tail = [part for part in (choice.description,) if part]
    name = " ".join(choice.title.split())
    text = " · ".join(tail)
    if name and name != title:
        room = WHATSAPP_ROW_DESCRIPTION_MAX - (len(text) + 3 if text else 0)
        text = " · ".join([shorten(name, room), *tail]) if room >= 12 else text or name
    if code and len(text) + 3 + len(code) <= WHATSAPP_ROW_DESCRIPTION_MAX:
        text = f"{text} · {code}" if text else code
    return shorten(text, WHATSAPP_ROW_DESCRIPTION_MAX)


def _titles(items: list[Choice], limit: int) -> list[str]:
    return distinct_titles([item.title for item in items], limit, [item.brand for item in items])


def _usable(items: tuple[Choice, ...], id_limit: int, count: int) -> list[Choice]:
    return [item for item in items if 0 < len(item.id) <= id_limit][:count]


def whatsapp_interactive(choices: ChoiceSet, body: str) -> dict[str, Any] | None:
    """The `interactive` object: reply buttons for up to 3 choices, a list message for up to 10.
    None when nothing can be offered. `body` must already be within WHATSAPP_BODY_MAX."""
    body = shorten(body, WHATSAPP_BODY_MAX) if len(body) > WHATSAPP_BODY_MAX else body
    if len(choices.items) <= WHATSAPP_BUTTONS_MAX:
        items = _usable(choices.items, WHATSAPP_BUTTON_ID_MAX, WHATSAPP_BUTTONS_MAX)
        if not items:
            return None
        titles = _titles(items, WHATSAPP_BUTTON_TITLE_MAX)
        return {
            "type": "button",
            "body": {"text": body},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": item.id, "title": title}}
                    for item, title in zip(items, titles, strict=True)
                ]
            },
        }
    items = _usable(choices.items, WHATSAPP_ROW_ID_MAX, WHATSAPP_LIST_ROWS_MAX)
    if not items:
        return None
    titles = _titles(items, WHATSAPP_ROW_TITLE_MAX)
    rows = []
    for item, title in zip(items, titles, strict=True):
        row = {"id": item.id, "title": title}
        description = row_description(item, title)
        if description:
            row["description"] = description
        rows.append(row)
    return {
        "type": "list",
        "body": {"text": body},
        "action": {
            "button": shorten(choices.button, WHATSAPP_LIST_BUTTON_MAX),
            "sections": [{"title": shorten(choices.section, WHATSAPP_SECTION_TITLE_MAX), "rows": rows}],
        },
    }


def messenger_quick_replies(choices: ChoiceSet) -> list[dict[str, Any]]:
    items = _usable(choices.items, MESSENGER_QUICK_REPLY_PAYLOAD_MAX, MESSENGER_QUICK_REPLIES_MAX)
    titles = _titles(items, MESSENGER_QUICK_REPLY_TITLE_MAX)
    return [
        {"content_type": "text", "title": title, "payload": item.id} for item, title in zip(items, titles, strict=True)
    ]


def numbered_lines(items: tuple[Choice, ...]) -> str:
    """ "1. Nevera Samsung RT38 — USD 499,00 · Caracas" per choice, for channels without buttons."""
    lines = []
    for number, item in enumerate(items[:NUMBERED_MAX], start=1):
        line = f"{number}. {item.title}"
        if item.description:
            line += f" — {item.description}"
        lines.append(line)
    return "\n".join(lines)
