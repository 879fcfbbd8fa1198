"""A provider with no network and no randomness, so the whole pipeline runs without API keys.

summarize(): an extractive summary (whole leading sentences, at most ~75 words).
chat(): deterministic tool use. A customer turn becomes a search_knowledge call with the customer's
words (the store's FAQ and documents); when that finds nothing, or only passages that matched
through product words in their text (match "product_mention"), a search_local_products call with the
same words, whose products win over such passages (several customer turns in a row, a burst answered at once: one
search each). A turn that may name an item code (a code key with a digit, as catalog/query.py cuts
them) searches the catalog first: a product found by its code answers, and the store's information is
searched only for the words left once the code, the product's own words and its branches are taken
out ("¿la REF-01042 tiene garantía?" -> "garantia"); no product by that code: the store's
information with the rest of the question, then as above. A greeting, a thanks or a voice note gets a
canned answer instead, with no search. A tool result becomes a templated answer in the customer's
language (es, en, pt, fr; English for any other): the framing is in that language, a knowledge passage
is quoted as the business wrote it. Every price, stock figure and policy fact it writes is read from
the tool result (shapes in mostrador.llm.tools); it never makes one up.
There is no offline embedder: offline means full-text search only.
"""

from __future__ import annotations

import json
import re
from typing import Any

from mostrador.catalog.query import analyze
from mostrador.catalog.vocabulary import STOP_WORDS, fold
from mostrador.llm.base import ChatMessage, ChatResult, Completion, ToolCall, ToolSpec, Usage
from mostrador.llm.tools import ESCALATE_TO_HUMAN, GET_LIVE_PRODUCT_DETAILS, SEARCH_KNOWLEDGE, SEARCH_LOCAL_PRODUCTS

SUMMARY_MAX_WORDS = 75
PRODUCTS_LISTED = 3
PASSAGE_MAX_CHARS = 700

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")

# Everything the offline model says, in every language of conversations.language.TEXT_LANGUAGES.
# Any other language (Italian, German...) gets English, the language a visitor most likely reads.
_TEXTS: dict[str, dict[str, str]] = {
    "es": {
        "found": "Encontré estos productos:",
        "more": "¿Quieres más detalles de alguno?",
        "none": "No encontré productos que coincidan con lo que buscas. ¿Puedes describirlo de otra forma?",
        "unknown_product": "No encontré ese producto. ¿Puedes darme su nombre o más detalles?",
        "escalated": "Te pondré en contacto con una persona de nuestro equipo; te responderá muy pronto.",
        "fallback": "¿En qué puedo ayudarte? Cuéntame qué producto buscas.",
        "greeting": "¡Hola! ¿En qué puedo ayudarte? Cuéntame qué producto buscas.",
        "thanks": "¡Con gusto! ¿Te ayudo con algo más?",
        "media": "Por aquí solo puedo leer mensajes de texto. ¿Me escribes qué producto buscas?",
        "price": "precio",
        "no_price": "precio no disponible",
        "stock": "existencias",
        "out_of_stock": "agotado",
        "card": "{name} — {price}. Existencias: {stock}.",
        "details": "{name}: {price}. Existencias por sucursal: {stock}.",
        "knowledge_intro": "Según la información de la tienda ({source}):",
        "knowledge_more": "¿Te ayudo con algo más?",
        "knowledge_none": "No encontré eso en la información de la tienda. ¿Puedes preguntarlo de otra forma?",
    },
    "en": {
        "found": "I found these products:",
        "more": "Would you like more details on any of them?",
        "none": "I couldn't find any products matching that. Could you describe it differently?",
        "unknown_product": "I couldn't find that product. Could you give me its name or more details?",
        "escalated": "I'm passing you to a person on our team; they will follow up with you soon.",
        "fallback": "How can I help you? Tell me which product you are looking for.",
        "greeting": "Hi! How can I help you? Tell me which product you are looking for.",
        "thanks": "You're welcome! Is there anything else I can help you with?",
        "media": "I can only read text messages here. Could you write what you are looking for?",
        "price": "price",
        "no_price": "price not available",
        "stock": "stock",
        "out_of_stock": "out of stock",
        "card": "{name} — {price}. Stock: {stock}.",
        "details": "{name}: {price}. Stock per branch: {stock}.",
        "knowledge_intro": "From the store's information ({source}):",
        "knowledge_more": "Can I help you with anything else?",
        "knowledge_none": "I couldn't find that in the store's information. Could you ask it differently?",
    },
    "pt": {
        "found": "Encontrei estes produtos:",
        "more": "Quer mais detalhes de algum deles?",
        "none": "Não encontrei produtos que correspondam ao que você procura. Pode descrever de outra forma?",
        "unknown_product": "Não encontrei esse produto. Pode me dar o nome dele ou mais detalhes?",
        "escalated": "Vou te passar para uma pessoa da nossa equipe; ela vai te responder em breve.",
        "fallback": "Como posso ajudar? Diga qual produto você procura.",
        "greeting": "Olá! Como posso ajudar? Diga qual produto você procura.",
        "thanks": "De nada! Posso ajudar com mais alguma coisa?",
        "media": "Por aqui só consigo ler mensagens de texto. Pode escrever o que você procura?",
        "price": "preço",
        "no_price": "preço não disponível",
        "stock": "estoque",
        "out_of_stock": "esgotado",
        "card": "{name} — {price}. Estoque: {stock}.",
        "details": "{name}: {price}. Estoque por loja: {stock}.",
        "knowledge_intro": "Segundo as informações da loja ({source}):",
        "knowledge_more": "Posso ajudar com mais alguma coisa?",
        "knowledge_none": "Não encontrei isso nas informações da loja. Pode perguntar de outra forma?",
    },
    "fr": {
        "found": "J'ai trouvé ces produits :",
        "more": "Voulez-vous plus de détails sur l'un d'eux ?",
        "none": "Je n'ai trouvé aucun produit correspondant. Pouvez-vous le décrire autrement ?",
        "unknown_product": "Je n'ai pas trouvé ce produit. Pouvez-vous me donner son nom ou plus de détails ?",
        "escalated": "Je vous mets en relation avec une personne de notre équipe ; elle vous répondra très bientôt.",
        "fallback": "Comment puis-je vous aider ? Dites-moi quel produit vous cherchez.",
        "greeting": "Bonjour ! Comment puis-je vous aider ? Dites-moi quel produit vous cherchez.",
        "thanks": "Avec plaisir ! Puis-je vous aider pour autre chose ?",
        "media": "Ici, je ne peux lire que les messages écrits. Pouvez-vous m'écrire ce que vous cherchez ?",
        "price": "prix",
        "no_price": "prix non disponible",
        "stock": "stock",
        "out_of_stock": "en rupture de stock",
        "card": "{name} — {price}. Stock : {stock}.",
        "details": "{name} : {price}. Stock par magasin : {stock}.",
        "knowledge_intro": "D'après les informations du magasin ({source}) :",
        "knowledge_more": "Puis-je vous aider pour autre chose ?",
        "knowledge_none": (
            "Je n'ai pas trouvé cela dans les informations du magasin. Pouvez-vous le demander autrement ?"
        ),
    },
}
FALLBACK_LANGUAGE = "en"


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# A customer turn made only of these is a greeting or a thanks, not a product search (in the
# languages the detector knows). "ok", "si", "no" alone answer with the plain "how can I help".
_GREETING_WORDS = _word_set(
    "hola buenas buenos buen dia dias días tardes noches hi hello hey there good morning afternoon evening "
    "oi olá ola bom boa tarde noite tudo bem bonjour bonsoir salut ciao buongiorno buonasera hallo guten tag "
    "morgen abend"
)
_THANKS_WORDS = _word_set(
    "gracias muchas mil thanks thank you thx a lot so much obrigado obrigada muito valeu merci beaucoup bien "
    "grazie mille danke schön vielen"
)
_NEUTRAL_WORDS = _word_set("ok okay okey okk oki vale listo si sí no yes")
# How the reply history shows a message that had no text (mostrador.conversations.reply).
_MEDIA_PLACEHOLDER = re.compile(
    r"\[(image|photo|audio|voice note|video|document|location|sticker|reaction|interactive|postback|unsupported)\]"
)
_WORDS = re.compile(r"[^\W\d_]+")
# Thousands separators where they are not English's comma (the decimal mark is then a comma).
_THOUSANDS = {"es": ".", "pt": ".", "fr": "\u00a0"}


class OfflineProvider:
    """Summarizer and ChatModel without a network."""

    name = "offline"
    model = "offline-template"

    # Summarizer

    def summarize(self, text: str, *, product_name: str) -> Completion:
        return Completion(extractive_summary(text), Usage(self.name, "offline-extractive"))

    # ChatModel

    def chat(self, messages: list[ChatMessage], tools: list[ToolSpec], *, language: str = "es") -> ChatResult:
        language = text_language(language)
        texts = _TEXTS[language]
        usage = Usage(self.name, self.model)
        last = messages[-1] if messages else None
        offered = {spec.name for spec in tools}
        if last is not None and last.role == "user":
            # Several customer messages in a row (a burst answered at once): one search for each that
            # asks for something (greetings and thanks among them are not searched); the store's
            # information first, the catalog for what it does not answer.
            queries = [
                query
                for query in map(_search_words, _trailing_user_texts(messages))
                if query and _small_talk(query) is None
            ]
            first_search = next(
                (spec for spec in (SEARCH_KNOWLEDGE, SEARCH_LOCAL_PRODUCTS) if spec.name in offered), None
            )
            if first_search is not None and queries:
                calls = tuple(
                    _search_call(
                        f"offline-{len(messages)}-{number}",
                        SEARCH_LOCAL_PRODUCTS
                        if SEARCH_LOCAL_PRODUCTS.name in offered and _may_name_item_code(query)
                        else first_search,
                        query,
                    )
                    for number, query in enumerate(queries)
                )
                return ChatResult(text="", tool_calls=calls, usage=usage)
            return ChatResult(text=texts[_small_talk(last.content) or "fallback"], usage=usage)
        results = _trailing_tool_results(messages)
        if not results:
            return ChatResult(text=texts["fallback"], usage=usage)
        follow_ups = _follow_up_searches(messages, offered)
        if follow_ups:
            calls = tuple(
                _search_call(f"offline-{len(messages)}-{number}", spec, words)
                for number, (spec, words) in enumerate(follow_ups)
            )
            return ChatResult(text="", tool_calls=calls, usage=usage)
        answer = "\n\n".join(_answer(name, content, texts, language) for name, content in _answered_results(messages))
        return ChatResult(text=answer, usage=usage)


def text_language(language: str) -> str:
    """The language the offline texts are written in for `language`: itself, or English."""
    code = language.strip().lower().replace("_", "-").split("-")[0]
    return code if code in _TEXTS else FALLBACK_LANGUAGE


def _small_talk(content: str) -> str | None:
    """The canned answer for a customer turn that asks for no product: a media message we cannot
    read, a greeting, a thanks, or only "ok"/an emoji. None: search (knowledge, then the catalog)."""
    content = content.strip()
    if _MEDIA_PLACEHOLDER.fullmatch(content):
        return "media"
    content = " ".join(_KIND_LABEL.sub(" ", content).split())  # "[voice note] hola" is a greeting
    if any(ch.isdigit() for ch in content):
        return None  # a code or a size: worth a search
    words = [word for word in _WORDS.findall(content.lower()) if word not in _NEUTRAL_WORDS]
    if not words:
        return "fallback" if content else None
    if all(word in _GREETING_WORDS for word in words):
        return "greeting"
    if all(word in _THANKS_WORDS or word in _GREETING_WORDS for word in words):
        return "thanks"
    return None


def _search_call(call_id: str, spec: ToolSpec, words: str) -> ToolCall:
    argument = "question" if spec is SEARCH_KNOWLEDGE else "query"
    return ToolCall(id=call_id, name=spec.name, arguments={argument: words})


def _may_name_item_code(text: str) -> bool:
    """The catalog search compares every run of the text's chunks with item codes (catalog/query.py);
    one with a digit ("REF-01042", "xy 0412") may be a code: worth the catalog's look first."""
    return any(any(ch.isdigit() for ch in key) for key in analyze(text, {}).code_keys)


def _follow_up_searches(messages: list[ChatMessage], offered: set[str]) -> list[tuple[ToolSpec, str]]:
    """The second round's searches, from the first round's results (none after the second round):
    the catalog for questions the store's information does not answer (_unanswered_questions), and
    for a catalog search that may have named an item code, the store's information: with the words the
    product found by its code leaves unanswered, or the question less the code when no product has it."""
    rounds = 0
    for message in reversed(messages):
        if message.role == "user":
            break
        rounds += message.role == "assistant" and bool(message.tool_calls)
    if rounds != 1:
        return []
    follow_ups: list[tuple[ToolSpec, str]] = []
    if SEARCH_LOCAL_PRODUCTS.name in offered:
        follow_ups += [(SEARCH_LOCAL_PRODUCTS, question) for question in _unanswered_questions(messages)]
    if SEARCH_KNOWLEDGE.name in offered:
        calls = {call.id: call for message in messages for call in message.tool_calls}
        for message in messages[len(messages) - len(_trailing_tool_results(messages)) :]:
            call = calls.get(message.tool_call_id or "")
            if call is None or call.name != SEARCH_LOCAL_PRODUCTS.name:
                continue
            asked = str(call.arguments.get("query") or "").strip()
            if not _may_name_item_code(asked):
                continue
            by_code = [card for card in _products(message.content) if card.get("match") == "item_code"]
            question = _words_left_by(asked, by_code) if by_code else _without_codes(asked)
            if question:
                follow_ups.append((SEARCH_KNOWLEDGE, question))
    return follow_ups


def _without_codes(text: str) -> str:
    """The text less its words with a digit: what a code no product has leaves to ask."""
    return " ".join(chunk for chunk in text.split() if not any(ch.isdigit() for ch in chunk))


def _words_left_by(question: str, cards: list[dict[str, Any]]) -> str:
    """The words of `question` the product cards do not answer: not the code, not the product's own
    words (name, brand, category, branches), not small talk or a price/stock question ("cuánto
    cuesta", "hay": STOP_WORDS) — "" when nothing is left to ask the store's information."""
    from mostrador.knowledge.relevance import FILLER_WORDS

    answered: set[str] = set()
    for card in cards:
        branches = [str(b.get("branch") or "") for b in card.get("branches") or [] if isinstance(b, dict)]
        for text in (card.get("item_code"), card.get("name"), card.get("brand"), card.get("category"), *branches):
            answered.update(_WORDS.findall(fold(str(text or ""))))
    left = [
        word
        for chunk in fold(question).split()
        if not any(ch.isdigit() for ch in chunk)  # the code itself, "REF-01042"
        for word in _WORDS.findall(chunk)
        if word not in answered and word not in STOP_WORDS and word not in FILLER_WORDS and len(word) > 1
    ]
    return " ".join(left)


def _unanswered_questions(messages: list[ChatMessage]) -> list[str]:
    """The questions of the last round when it was only search_knowledge calls: those that found no
    passage, or only passages that matched through product words in their text (then searched in the
    catalog: "¿tienen lavadoras con instalación?" may be a product question though the service prices
    mention both). [] after any other round."""
    calls = {call.id: call for message in messages for call in message.tool_calls}
    questions: list[str] = []
    for message in reversed(messages):
        if message.role != "tool":
            break
        call = calls.get(message.tool_call_id or "")
        if call is not None and call.name == SEARCH_LOCAL_PRODUCTS.name:
            continue  # a turn that may name a code searched the catalog first (_follow_up_searches)
        if call is None or call.name != SEARCH_KNOWLEDGE.name:
            return []
        if _weak_or_empty(message.content):
            asked = call.arguments.get("question") or call.arguments.get("query") or _last_customer_text(messages)
            questions.append(str(asked).strip())
    return [question for question in reversed(questions) if question]


def _last_customer_text(messages: list[ChatMessage]) -> str:
    for message in reversed(messages):
        if message.role == "user":
            return message.content.strip()
    return ""


def _answered_results(messages: list[ChatMessage]) -> list[tuple[str, str]]:
    """Every tool result since the customer's last turn, less the knowledge searches that found nothing
    when the catalog was searched after them (their answer is the catalog's). A question whose
    passages matched only by their text and that the catalog also searched: the products when the
    catalog found some, else the passages."""
    calls = {call.id: call for message in messages for call in message.tool_calls}
    results: list[tuple[str, str, str]] = []  # tool, question asked, result
    for message in reversed(messages):
        if message.role == "user":
            break
        if message.role == "tool":
            call = calls.get(message.tool_call_id or "")
            name = message.name or (call.name if call else "")
            asked = str((call.arguments.get("question") or call.arguments.get("query") or "") if call else "").strip()
            results.append((name, asked, message.content))
    results.reverse()
    # A catalog search made first because the question may have named a code, when no product has it
    # and the store's information answers the same question: the information's answer alone.
    answered = {
        asked
        for name, asked, content in results
        if name == SEARCH_KNOWLEDGE.name and _passages(content) and not _weak_or_empty(content)
    }
    results = [
        (name, asked, content)
        for name, asked, content in results
        if not (
            name == SEARCH_LOCAL_PRODUCTS.name
            and _without_codes(asked) in answered
            and not any(card.get("match") == "item_code" for card in _products(content))
        )
    ]
    catalog_found = {
        key: bool(_products(content))
        for name, asked, content in results
        if name == SEARCH_LOCAL_PRODUCTS.name
        for key in (_without_codes(asked), asked)
    }
    if catalog_found:
        weak = {
            asked
            for name, asked, content in results
            if name == SEARCH_KNOWLEDGE.name and _passages(content) and _weak_or_empty(content)
        }
        results = [
            (name, asked, content)
            for name, asked, content in results
            if not (
                name == SEARCH_KNOWLEDGE.name
                and (not _passages(content) or (asked in weak and catalog_found.get(asked, True)))
            )
            and not (name == SEARCH_LOCAL_PRODUCTS.name and asked in weak and not catalog_found[asked])
        ]
    return [(name, content) for name, _, content in results]


def _weak_or_empty(content: str) -> bool:
    """A knowledge result with no passage, or only passages that matched in their text through words
    naming products (match "product_mention", knowledge/relevance.py): maybe a product question."""
    return all(passage.get("match") == "product_mention" for passage in _passages(content))


def _products(content: str) -> list[dict[str, Any]]:
    try:
        result = json.loads(content)
    except json.JSONDecodeError:
        return []
    products = result.get("products") if isinstance(result, dict) else None
    return [card for card in products or [] if isinstance(card, dict)]


def _passages(content: str) -> list[dict[str, Any]]:
    try:
        result = json.loads(content)
    except json.JSONDecodeError:
        return []
    passages = result.get("passages") if isinstance(result, dict) else None
    return [p for p in passages or [] if isinstance(p, dict) and p.get("text")]


def _knowledge_answer(content: str, texts: dict[str, str]) -> str:
    """The best passage as the business wrote it, framed in the conversation's language."""
    passages = _passages(content)
    if not passages:
        return texts["knowledge_none"]
    best = passages[0]
    text = str(best["text"]).strip()
    if best.get("kind") == "faq" and "\n" in text:
        text = text.split("\n", 1)[1].strip()  # an FAQ chunk is question + answer: say the answer
    if len(text) > PASSAGE_MAX_CHARS:
        cut = text.rfind(". ", 0, PASSAGE_MAX_CHARS)
        text = text[: cut + 1] if cut > PASSAGE_MAX_CHARS // 2 else text[:PASSAGE_MAX_CHARS].rsplit(" ", 1)[0] + "…"
    source = str(best.get("section") or best.get("document") or "")
    intro = texts["knowledge_intro"].format(source=source) if source and best.get("kind") != "faq" else ""
    return "\n".join(part for part in (intro, text, texts["knowledge_more"]) if part)


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
    if tool == SEARCH_KNOWLEDGE.name:
        return _knowledge_answer(content, texts)
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
    return texts["card"].format(
        name=_title(card), price=_price(card, texts, language), stock=_stock(card, texts, language)
    )


def _title(card: dict[str, Any]) -> str:
    name = str(card.get("name") or card.get("item_code") or "?")
    brand = card.get("brand")
    return f"{name} ({brand})" if brand and str(brand).lower() not in name.lower() else name


def _price(card: dict[str, Any], texts: dict[str, str], language: str) -> str:
    price = card.get("price")
    if not isinstance(price, int | float) or isinstance(price, bool):
        return texts["no_price"]
    currency = card.get("currency")  # the store's, put on every card by the reply toolbox
    text = f"{texts['price']} {f'{currency} ' if currency else ''}{format_amount(price, language)}"
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
    """Two decimals with the language's separators: en 1,299.50, es and pt 1.299,50, fr 1 299,50
    (a no-break space, so a chat app never wraps a price). Other languages are written as English."""
    text = f"{value:,.2f}"
    thousands = _THOUSANDS.get(text_language(language))
    if thousands is None:
        return text
    return text.replace(",", "_").replace(".", ",").replace("_", thousands)


def format_quantity(value: object) -> str:
    """Stock as the catalog sent it: 3.0 -> "3", 2.5 -> "2.5"."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "?"
    return str(int(value)) if float(value).is_integer() else str(value)
