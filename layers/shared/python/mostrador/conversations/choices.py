"""Which products a reply offers as choices, how each channel shows them, and which product a
customer picked (a tapped button, list row or quick reply, or a typed number after a numbered list).

A reply offers choices when its searches returned two or more products: the ones the reply names
(by name or item code), or all of them when it names none. One named product is an answer, not a
choice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from mostrador.channels.base import Choice, ChoiceSet
from mostrador.channels.interactive import (
    MESSENGER_QUICK_REPLIES_MAX,
    NUMBERED_MAX,
    WHATSAPP_LIST_ROWS_MAX,
    item_code_from_payload,
    numbered_lines,
    product_payload,
)
from mostrador.conversations.notices import notice
from mostrador.conversations.toolbox import ToolOutcome
from mostrador.llm.offline_provider import format_amount
from mostrador.llm.tools import SEARCH_LOCAL_PRODUCTS
from mostrador.messaging.model import Channel, InboundMessage

ChoiceStyle = Literal["whatsapp", "quick_replies", "numbered"]
# Where a tap's payload arrives: WhatsApp interactive/button replies, Messenger quick replies and postbacks.
_PAYLOAD_KEYS = ("reply_id", "quick_reply_payload", "postback_payload")
_TYPED_NUMBER = re.compile(r"^\s*#?\s*(\d{1,2})\s*[.)]?\s*$")


@dataclass(frozen=True)
class ChannelAbilities:
    style: ChoiceStyle
    max_choices: int
    # Sends a photo by URL (WhatsApp image by link, Messenger attachment by URL).
    images: bool
    # Characters of caption a photo can carry (0: none; the text follows as its own message).
    caption_max: int


def abilities_for(channel: Channel) -> ChannelAbilities:
    """Support Board relays and web chat are text-only: numbered lines, no photos."""
    if channel == "whatsapp":
        return ChannelAbilities("whatsapp", WHATSAPP_LIST_ROWS_MAX, images=True, caption_max=1024)
    if channel in ("messenger", "instagram"):
        return ChannelAbilities("quick_replies", MESSENGER_QUICK_REPLIES_MAX, images=True, caption_max=0)
    return ChannelAbilities("numbered", NUMBERED_MAX, images=False, caption_max=0)


def offered_choices(
    outcomes: Sequence[ToolOutcome], reply_text: str, language: str, abilities: ChannelAbilities
) -> ChoiceSet | None:
    cards: dict[str, dict[str, Any]] = {}
    for outcome in outcomes:
        if outcome.call.name != SEARCH_LOCAL_PRODUCTS.name or outcome.error is not None:
            continue
        for card in outcome.result.get("products") or []:
            if isinstance(card, dict) and card.get("item_code") and str(card["item_code"]) not in cards:
                cards[str(card["item_code"])] = card
    folded = reply_text.casefold()
    named = [card for code, card in cards.items() if code.casefold() in folded or _name(card).casefold() in folded]
    if len(named) == 1:
        return None
    chosen = named or list(cards.values())
    if len(chosen) < 2:
        return None
    items = tuple(
        Choice(
            id=product_payload(str(card["item_code"])),
            title=_name(card),
            description=_description(card, language),
            brand=str(card.get("brand") or ""),
        )
        for card in chosen[: abilities.max_choices]
    )
    return ChoiceSet(
        items=items,
        prompt=notice("choices_prompt", language),
        button=notice("choices_button", language),
        section=notice("choices_section", language),
    )


def numbered_text(choices: ChoiceSet, language: str) -> str:
    """What a text-only channel shows after the reply: the numbered products and how to pick one."""
    return f"{numbered_lines(choices.items)}\n{notice('choices_numbered', language)}"


def picked_item_code(message: InboundMessage, offered: Sequence[dict[str, Any]] | None) -> str | None:
    """The product the customer picked: a tap's payload, or a typed number of the last numbered offer."""
    for key in _PAYLOAD_KEYS:
        code = item_code_from_payload(message.metadata.get(key))
        if code:
            return code
    number = typed_number(message.text)
    if number is not None and offered and 1 <= number <= len(offered):
        return item_code_from_payload(str(offered[number - 1].get("id") or ""))
    return None


def typed_number(text: str) -> int | None:
    match = _TYPED_NUMBER.match(text or "")
    return int(match.group(1)) if match else None


def choices_json(choices: ChoiceSet) -> dict[str, Any]:
    return {
        "items": [
            {"id": c.id, "title": c.title, "description": c.description, **({"brand": c.brand} if c.brand else {})}
            for c in choices.items
        ],
        "prompt": choices.prompt,
        "button": choices.button,
        "section": choices.section,
    }


def choices_from_json(value: Any) -> ChoiceSet | None:
    if not isinstance(value, dict) or not isinstance(value.get("items"), list):
        return None
    items = tuple(
        Choice(
            id=str(item.get("id") or ""),
            title=str(item.get("title") or ""),
            description=str(item.get("description") or ""),
            brand=str(item.get("brand") or ""),
        )
        for item in value["items"]
        if isinstance(item, dict)
    )
    return ChoiceSet(
        items=items,
        prompt=str(value.get("prompt") or ""),
        button=str(value.get("button") or ""),
        section=str(value.get("section") or ""),
    )


def _name(card: dict[str, Any]) -> str:
    return str(card.get("name") or card.get("item_code") or "?")


def _description(card: dict[str, Any], language: str) -> str:
    price = card.get("price")
    if isinstance(price, int | float) and not isinstance(price, bool):
        # The card's currency is the store's (the reply toolbox puts it there); none, and the amount stands alone.
        price_text = f"{card.get('currency') or ''} {format_amount(float(price), language)}".strip()
    else:
        price_text = notice("no_price", language)
    stock = notice("in_stock" if card.get("in_stock") else "out_of_stock", language)
    return f"{price_text} · {stock}"
