"""A provider with no network and no randomness, so the whole pipeline runs without API keys.

summarize(): an extractive summary (whole leading sentences, at most ~75 words).
chat(): deterministic tool use. A customer turn becomes a search_local_products call with the
customer's words; a tool result becomes a templated answer in the customer's language ("es" or
"en", Spanish otherwise). Every price and stock figure it writes is read from the tool result
(shapes in mostrador.llm.tools); it never makes one up.
There is no offline embedder: offline means full-text search only.
"""

from __future__ import annotations

import json
import re
from typing import Any

from mostrador.llm.base import ChatMessage, ChatResult, Completion, ToolCall, ToolSpec, Usage
from mostrador.llm.tools import ESCALATE_TO_HUMAN, GET_LIVE_PRODUCT_DETAILS, SEARCH_LOCAL_PRODUCTS

SUMMARY_MAX_WORDS = 75
PRODUCTS_LISTED = 3

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")

_TEXTS: dict[str, dict[str, str]] = {
    "es": {
        "found": "Encontré estos productos:",
        "more": "¿Quieres más detalles de alguno?",
        "none": "No encontré productos que coincidan con lo que buscas. ¿Puedes describirlo de otra forma?",
        "unknown_product": "No encontré ese producto. ¿Puedes darme su nombre o más detalles?",
        "escalated": "Te pondré en contacto con una persona de nuestro equipo; te responderá muy pronto.",
        "fallback": "¿En qué puedo ayudarte? Cuéntame qué producto buscas.",
        "price": "precio",
        "no_price": "precio no disponible",
        "stock": "existencias",
        "out_of_stock": "agotado",
        "details": "{name}: {price}. Existencias por sucursal: {stock}.",
    },
    "en": {
        "found": "I found these products:",
        "more": "Would you like more details on any of them?",
        "none": "I couldn't find any products matching that. Could you describe it differently?",
        "unknown_product": "I couldn't find that product. Could you give me its name or more details?",
        "escalated": "I'm passing you to a person on our team; they will follow up with you soon.",
        "fallback": "How can I help you? Tell me which product you are looking for.",
        "price": "price",
        "no_price": "price not available",
        "stock": "stock",
        "out_of_stock": "out of stock",
        "details": "{name}: {price}. Stock per branch: {stock}.",
    },
}


class OfflineProvider:
    """Summarizer and ChatModel without a network."""

    name = "offline"
    model = "offline-template"

    # Summarizer

    def summarize(self, text: str, *, product_name: str) -> Completion:
        return Completion(extractive_summary(text), Usage(self.name, "offline-extractive"))

    # ChatModel

    def chat(self, messages: list[ChatMessage], tools: list[ToolSpec], *, language: str = "es") -> ChatResult:
        texts = _TEXTS.get(language.strip().lower()[:2], _TEXTS["es"])
        usage = Usage(self.name, self.model)
        last = messages[-1] if messages else None
        if last is not None and last.role == "user":
            # Several customer messages in a row (a burst answered at once): one search for each.
            queries = [query for query in map(_search_words, _trailing_user_texts(messages)) if query]
            if any(spec.name == SEARCH_LOCAL_PRODUCTS.name for spec in tools) and queries:
                calls = tuple(
                    ToolCall(
                        id=f"offline-{len(messages)}-{number}",
                        name=SEARCH_LOCAL_PRODUCTS.name,
                        arguments={"query": query},
                    )
                    for number, query in enumerate(queries)
                )
                return ChatResult(text="", tool_calls=calls, usage=usage)
            return ChatResult(text=texts["fallback"], usage=usage)
        results = _trailing_tool_results(messages)
        if not results:
            return ChatResult(text=texts["fallback"], usage=usage)
        answer = "\n\n".join(_answer(name, content, texts, language) for name, content in results)
        return ChatResult(text=answer, usage=usage)


def extractive_summary(text: str, max_words: int = SUMMARY_MAX_WORDS) -> str:
    """The leading whole sentences of `text` that fit in `max_words` words (a first sentence longer
    than that is cut at a word boundary, never mid-word)."""
    words_total = 0
    kept: list[str] = []
    for sentence in _SENTENCE_END.split(" ".join(text.split())):
        words = sentence.split()
        if not words:
            continue
        if words_total + len(words) > max_words:
            if not kept:
                kept.append(" ".join(words[:max_words]))
            break
        kept.append(sentence)
        words_total += len(words)
    return " ".join(kept)


TRAILING_SEARCHES = 3
# "[voice note]", "[photo]": the reply side's labels for what a customer's text came from.
_KIND_LABEL = re.compile(r"\[[a-z ]+\]")


def _trailing_user_texts(messages: list[ChatMessage]) -> list[str]:
    """The customer's latest messages after the last non-customer turn (at most TRAILING_SEARCHES)."""
    texts: list[str] = []
    for message in reversed(messages):
        if message.role != "user":
            break
        texts.append(message.content)
    return list(reversed(texts))[-TRAILING_SEARCHES:]


def _search_words(text: str) -> str:
    """The words worth searching for ("" for an emoji-only reaction or a bare sticker label)."""
    words = " ".join(_KIND_LABEL.sub(" ", text).split())
    return words if any(ch.isalnum() for ch in words) else ""


def _trailing_tool_results(messages: list[ChatMessage]) -> list[tuple[str, str]]:
    """The tool results after the model's last turn, with their tool names."""
    names_by_call_id = {call.id: call.name for message in messages for call in message.tool_calls}
    results: list[tuple[str, str]] = []
    for message in reversed(messages):
        if message.role != "tool":
            break
        name = message.name or names_by_call_id.get(message.tool_call_id or "", "")
        results.append((name, message.content))
    return list(reversed(results))


def _answer(tool: str, content: str, texts: dict[str, str], language: str) -> str:
    try:
        result = json.loads(content)
    except json.JSONDecodeError:
        result = None
    if not isinstance(result, dict):
        return texts["fallback"]
    if tool == SEARCH_LOCAL_PRODUCTS.name:
        products = [card for card in result.get("products") or [] if isinstance(card, dict)]
        if not products:
            return texts["none"]
        lines = [texts["found"]]
        lines += [f"• {_card_line(card, texts, language)}" for card in products[:PRODUCTS_LISTED]]
        lines.append(texts["more"])
        return "\n".join(lines)
    if tool == GET_LIVE_PRODUCT_DETAILS.name:
        card = result.get("product")
        if not isinstance(card, dict):
            return texts["unknown_product"]
        return texts["details"].format(
            name=_title(card), price=_price(card, texts, language), stock=_stock(card, texts, language)
        )
    if tool == ESCALATE_TO_HUMAN.name:
        return texts["escalated"]
    return texts["fallback"]


def _card_line(card: dict[str, Any], texts: dict[str, str], language: str) -> str:
    stock_label = texts["stock"].capitalize()
    return f"{_title(card)} — {_price(card, texts, language)}. {stock_label}: {_stock(card, texts, language)}."


def _title(card: dict[str, Any]) -> str:
    name = str(card.get("name") or card.get("item_code") or "?")
    brand = card.get("brand")
    return f"{name} ({brand})" if brand and str(brand).lower() not in name.lower() else name


def _price(card: dict[str, Any], texts: dict[str, str], language: str) -> str:
    price = card.get("price")
    if not isinstance(price, int | float) or isinstance(price, bool):
        return texts["no_price"]
    text = f"{texts['price']} {card.get('currency') or 'USD'} {format_amount(price, language)}"
    bolivar = card.get("price_bolivar")
    if isinstance(bolivar, int | float) and not isinstance(bolivar, bool):
        text += f" (Bs. {format_amount(bolivar, language)})"
    return text


def _stock(card: dict[str, Any], texts: dict[str, str], language: str) -> str:
    branches = [branch for branch in card.get("branches") or [] if isinstance(branch, dict)]
    if branches:
        return ", ".join(f"{branch.get('branch', '?')}: {format_quantity(branch.get('stock'))}" for branch in branches)
    if card.get("in_stock") and card.get("stock_total") is not None:
        return format_quantity(card.get("stock_total"))
    return texts["out_of_stock"]


def format_amount(value: float, language: str) -> str:
    """Two decimals with the language's separators: en 1,299.50, es 1.299,50."""
    text = f"{value:,.2f}"
    if language.strip().lower()[:2] == "en":
        return text
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def format_quantity(value: object) -> str:
    """Stock as the catalog sent it: 3.0 -> "3", 2.5 -> "2.5"."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "?"
    return str(int(value)) if float(value).is_integer() else str(value)
