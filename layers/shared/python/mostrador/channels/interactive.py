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


def unique_titles(titles: list[str], limit: int) -> list[str]:
    """Each title within `limit`, no two alike (WhatsApp refuses repeated button titles): a title that
    would repeat an earlier one ends with its position instead, "Nevera Samsung… 2"."""
    seen: set[str] = set()
    result = []
    for position, title in enumerate(titles, start=1):
        candidate = shorten(title, limit) or str(position)
        if candidate.casefold() in seen:
            suffix = f" {position}"
            candidate = shorten(title, limit - len(suffix)) + suffix
        seen.add(candidate.casefold())
        result.append(candidate)
    return result


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
        titles = unique_titles([item.title for item in items], WHATSAPP_BUTTON_TITLE_MAX)
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
    titles = unique_titles([item.title for item in items], WHATSAPP_ROW_TITLE_MAX)
    rows = []
    for item, title in zip(items, titles, strict=True):
        row = {"id": item.id, "title": title}
        if item.description:
            row["description"] = shorten(item.description, WHATSAPP_ROW_DESCRIPTION_MAX)
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
    titles = unique_titles([item.title for item in items], MESSENGER_QUICK_REPLY_TITLE_MAX)
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
