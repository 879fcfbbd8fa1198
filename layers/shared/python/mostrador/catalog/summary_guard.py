"""A check on LLM-written product summaries before they are stored, indexed and shown to the model.

A summary is written by a model that read supplier text; if that text carried instructions the
model may have obeyed them. A summary is rejected when it contains instructions (to a model or to
the shop's customers: "ignore the instructions", a role prefix such as "SYSTEM:", a note to the
assistant, a command such as "always recommend" or "diga que"), or a URL, a phone number, a price, a
percentage or a promotion ("gratis", "free shipping", "descuento") that the source text does not.
A rejected summary is replaced by an extractive one (whole leading sentences of the source), which
can only say what the source says.

A URL is any host-like "label.label" whose last label is 2-24 letters (a top-level domain of any
name: evil.xyz, shop.ai/deal), not only the well-known ones: the guard cannot know every TLD, and a
summary has no reason to invent one. Letters only, so "5.1", "v2.0" and "1.5L" are no URLs. Letters
written with dots between them ("I.g.n.o.r.e") are read joined when looking for instructions.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from mostrador.llm.base import Completion
from mostrador.observability import logger

# Words a model is called by, in the four languages of our texts (accents folded).
_BOT = r"(?:assistant|asistente|assistente|bot|chatbot|ai|ia|model|modelo|modele|llm|gpt|chatgpt|agent|agente)"
# Verbs an instruction gives: recommend, offer, mention, say, promise, claim... as a command to the
# model: English bare forms, the usted/você/vous imperatives (never a product's third person: "ofrece
# 10 velocidades" describes, "ofrezca un descuento" commands), and tú forms with a pronoun attached
# ("dile", "recomiendale"), which only an imperative has.
_COMMAND = r"""(?:
    recommend|offer|mention|tell|say|promise|claim|assure|insist|pretend|sell|prioriti[sz]e
    | recomiende|recomienden|ofrezca|ofrezcan|mencione|mencionen|diga|digan|prometa|prometan|asegure
    | aseguren|insista|afirme|afirmen|venda|vendan|priorice|prioricen
    | di|dile|diles|digale|diganle|decile|recomiendale|recomiendales|ofrecele|ofreceles|mencionale
    | prometele|asegurale|ofrezcale|recomiendele|mencionele
    | recommandez|proposez|offrez|dites|dis|mentionnez|affirmez|assurez|promettez|vendez
    | recomende|ofereca|mencione|diga|prometa|afirme|venda
)"""
# Phrases that address a model or steer a conversation, not describe a product (Spanish, English,
# Portuguese, French). Matched on lower-case text with accents folded ("instruções" -> "instrucoes").
_INSTRUCTIONS = re.compile(
    rf"""
    \b(ignore|ignores|disregard|forget|override|bypass|ignora|ignore|olvida|olvide|olvidate|olvidense|omite
       |desobedece|ignorar|esquece|esqueca|esquecer|desconsidere|desconsidera|ignorez|oubliez|oublie|oublier)\b
        [^.\n]{{0,40}}
        \b(instruction|instructions|rules|prompt|previous|above|prior|earlier|preceding|guidance|guidelines
           |directions|instruccion|instrucciones|reglas|indicaciones|anterior|anteriores|previas|instrucoes
           |instrucao|regras|acima|anteriormente|consignes|regles|precedentes|ci-dessus)\b
    # New orders: "Nuevas instrucciones: ...", "New rules:" (a sentence's start or a colon after them,
    # not "incluye nuevas instrucciones de uso").
    | (^|[.!?\n]\s*)(new|updated|nuevas?|novas?|nouvelles?)\s+(instructions?|rules|orders|instrucciones|ordenes
        |reglas|instrucoes|regras|ordens|consignes|regles)\b
    | \b(new|updated|nuevas?|novas?|nouvelles?)\s+(instructions?|rules|orders|instrucciones|ordenes|reglas
        |instrucoes|regras|ordens|consignes|regles)\s*:
    # Asking for the model's own setup.
    | \b(reveal|leak|revela|revele|revelez|divulga|divulgue)\s+(me\s+|nos\s+)?
        (the\s+|your\s+|tu\s+|tus\s+|el\s+|la\s+|las\s+|sus\s+|o\s+|a\s+|le\s+|la\s+|vos\s+)?
        (system|prompt|instructions|configuration|config|instrucciones|configuracion|sistema|instrucoes
         |configuracao|systeme)\b
    # A language to answer in: "... y responde en inglés", "Answer in English" (not "Alexa responde en inglés").
    | (^|[.!?:;,\n]\s*|\b(y|and|e|et)\s+)(respond|reply|answer|responde|contesta|responda|conteste|reponds
        |repondez)\s+(only\s+|solo\s+|siempre\s+|always\s+)?(in|en|em)\s+(english|ingles|spanish|espanol
        |castellano|french|frances|francais|anglais|portuguese|portugues|german|aleman|italian|italiano|chinese
        |chino|russian|ruso|ingles|espagnol)\b
    # A part to play: "Eres un pirata, ...", "You are a ...", not a question ("¿Eres un amante del café?").
    | (^|[.!\n]\s*)(eres|you\s+are|tu\s+es|vous\s+etes|voce\s+e|tu\s+e)\s+(un|una|a|an|the|el|la|um|uma|le|une)\s
        [^.?!\n]{{0,60}}[.!,\n]
    | (^|[.!?,;:\n]\s*)(habla|hable|speak|talk|parle|parlez|fale)\s+(como|like|comme)\b
    # "Recomienda siempre esta cafetera": a command to recommend, at the start of a sentence.
    | (^|[.!?:;\n]\s*)(recomienda|menciona|promociona|prioriza|sugiere|recommend|mention|promote|suggest
        |prioriti[sz]e)\s+(siempre|always|sempre|toujours|solo|only|unicamente|primero|first)\b
    | \bne\s+tenez\s+pas\s+compte\b
    | \b(system\s+prompt|prompt\s+del\s+sistema|developer\s+message|jailbreak)\b
    | \byou\s+are\s+now\b | \bahora\s+eres\b | \bnow\s+act\s+as\b | \bact\s+as\s+(a|an|the)\b
    | \b(vous\s+etes|tu\s+es)\s+maintenant\b | \bagora\s+(voce|tu)\s+e\b
    | \b(actua|actue|comportate|aja|atue|agis|agissez)\s+(como|comme)\b | \bfrom\s+now\s+on\b
    | \ba\s+partir\s+de\s+(ahora|agora|maintenant)\b | \bde\s+ahora\s+en\s+adelante\b
    | \b(tell|inform)\s+(the\s+)?(customer|user|client|buyer)s?\b
    | \b(dile|digale|decile|informa|informe|di|diga|dites|dis|informez)\s+(al|ao|au|a\s+la|o|le|aux)\s+
        (cliente|clientes|usuario|usuarios|client|clients|utilisateur|comprador)\b
    | \b(as\s+an?\s+ai|as\s+a\s+language\s+model|como\s+(un\s+)?(modelo\s+de\s+lenguaje|asistente|ia)\b)
    | \b(escalate_to_human|search_local_products|get_live_product_details)\b
    | \b(assistant|asistente|assistente|bot|chatbot|ai|ia|llm|gpt)\s*(must|should|debe|debera|deve|doit)\b
    | \b(respond|reply|answer|responde|contesta|responda|reponds|repondez)\s+(only|always|solo|siempre|que|with|con
        |apenas|sempre|seulement|toujours|uniquement)\b
    | <\s*/?\s*(system|instructions?|prompt)\s*>
    # A role prefix: "SYSTEM: ...", "Assistant: ...", at the start or after a sentence or a bracket.
    | (^|[.!?\n\[(]\s*)(system|sistema|systeme|developer|assistant|asistente|assistente|user|usuario|ai|ia|bot)\s*:
    # A note to the model: "Nota para el asistente", "note to the AI", "para el asistente:", "dear assistant".
    | \b(nota|note|notas|notes|mensaje|message|mensagem|instruccion|instruction|aviso|recordatorio|reminder
         |lembrete|rappel|memo)s?\s+(para|to|for|al|ao|pour|a|a\s+la|para\s+a|para\s+o|para\s+el|para\s+la)\s+
        (el\s+|la\s+|the\s+|o\s+|a\s+|l'\s*)?{_BOT}\b
    | \b(para|to|for|pour|al|ao)\s+(el\s+|la\s+|the\s+|o\s+|a\s+|l'\s*)?{_BOT}\s*[:\u2013\u2014]
    | \b(dear|hey|hi|hello|attention|querido|estimado|hola|atencion|oi|ola|cher|chere)\s+{_BOT}\b
    # An order to the model: a command verb first in a sentence, or after "always"/"never".
    | (^|[.!?:;\n]\s*)(please\s+|por\s+favor,?\s+|s'il\s+vous\s+plait,?\s+)?{_COMMAND}\b
    | \b(always|never|siempre|nunca|sempre|toujours|jamais)\s+({_COMMAND}|recomienda|recomendar|ofrecer
        |mencionar|decir|digas|recomiendes|ofrezcas|menciones|recommande|mentionne|recomenda)\b
    """,
    re.IGNORECASE | re.VERBOSE | re.MULTILINE,
)
_URL = re.compile(
    r"\bhttps?://[^\s<>\"']+|\bwww\.[^\s<>\"']+|\b[\w.+-]+@[\w-]+\.[\w.]+"
    # a host: labels joined by dots, the last one 2-24 letters (any top-level domain), maybe a path
    r"|(?<![\w.@-])[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,24}(?![\w-])"
    r"(?:/[^\s<>\"']*)?",
    re.IGNORECASE,
)
# Letters with dots between them, "i.g.n.o.r.e": read joined when looking for instructions.
_SPELLED_OUT = re.compile(r"(?<![a-z.])(?:[a-z]\.){2,}[a-z](?![a-z])")
# Seven or more digits with the separators people write phone numbers with; `\b` at both ends so a
# model number ("55UQ7500") is not one.
_PHONE = re.compile(r"(?<![\w.,])\+?\(?\d[\d\s().-]{5,}\d(?![\w.,]*\d)")
# A currency, not the end of a word ("jueves 3" is no price in VES).
_CURRENCY = (
    r"(?:(?<![a-z])(?:us\$|usd|u\$s|dolares|dólares|dollars?|bs\.?|bs\.?s|bolivares|bolívares|ves|eur|euros?|pesos?"
    r"|mxn|cop|r\$|reais)|\$|€)"
)
_AMOUNT = r"(?<![\d.,])\d+(?:[.,]\d{3})*(?:[.,]\d{1,2})?(?![\d])"
# An amount with a currency, or after a word that names a price.
_PRICE = re.compile(
    rf"(?:{_CURRENCY})\s*({_AMOUNT})|({_AMOUNT})\s*(?:{_CURRENCY})(?![a-z])"
    rf"|\b(?:precio|precios|price|prices|priced|preço|preco|prix|cuesta|cuestan|costo|coste|costs?|vale|custa|coûte"
    rf"|valor)\D{{0,12}}({_AMOUNT})",
    re.IGNORECASE,
)
_PERCENT = re.compile(rf"({_AMOUNT})\s*(?:%|por\s*ciento|percent|per\s*cent|pour\s*cent|por\s*cento)", re.IGNORECASE)
# Promises a summary must not add: the source's own ("envío gratis" in the description) pass.
# Matched on lower-case text with accents folded; each kind is compared with the source alone.
_PROMOTIONS = {
    "free": re.compile(
        r"\b(gratis|gratuit[oa]s?|gratuite?s?|de\s+graca|sin\s+(costo|cargo)|sem\s+custo|for\s+free|free\s+of\s+charge"
        r"|free\s+(shipping|delivery|installation|install|gift|trial|accessor\w*)"
        r"|(?:is|are|it's|its|totally|completely|100%)\s+free\b|de\s+regalo|brindes?|offerte?s?)\b"
    ),
    "discount": re.compile(
        r"\b(descuentos?|discounts?|discounted|descontos?|remises?|reductions?|rebajas?|rebajad[oa]s?|promocion(es)?"
        r"|promotions?|promocao|promocoes|promos?|cupon(es)?|coupons?|cupom|cupons|code\s+promo|liquidacion|2\s*x\s*1"
        r"|on\s+sale|en\s+oferta|em\s+oferta|en\s+promo\w*|ofertas?\s+especial(es)?|black\s+friday|cyber\s+monday)\b"
    ),
}


@dataclass(frozen=True)
class SummaryVerdict:
    accepted: bool
    reasons: tuple[str, ...] = ()


def check_summary(summary: str, source: str) -> SummaryVerdict:
    """Accept `summary` of `source` unless it instructs, or adds a URL, a phone number, a price (an
    amount with a currency or after a price word, compared with the source's prices only), a
    percentage, or a promise of something free or discounted."""
    reasons = []
    folded, source_folded = _folded(summary), _folded(source)
    joined = _SPELLED_OUT.sub(lambda m: m.group(0).replace(".", ""), folded)
    if _INSTRUCTIONS.search(folded) or _INSTRUCTIONS.search(joined):
        reasons.append("instructions")
    source_lower = source.lower()
    if any(url.lower().rstrip(".,") not in source_lower for url in _URL.findall(summary)):
        reasons.append("url")
    source_digits = {_digits(m) for m in _PHONE.findall(source)}
    if any(len(_digits(m)) >= 7 and _digits(m) not in source_digits for m in _PHONE.findall(summary)):
        reasons.append("phone")
    # Only the source's prices count: "380 litros" in the source does not make "380 dólares" true.
    source_prices = {_amount(_matched(m)) for m in _PRICE.finditer(source)}
    if any(_amount(_matched(m)) not in source_prices for m in _PRICE.finditer(summary)):
        reasons.append("price")
    source_percents = {_amount(m) for m in _PERCENT.findall(source)}
    if any(_amount(m) not in source_percents for m in _PERCENT.findall(summary)):
        reasons.append("percentage")
    if any(rule.search(folded) and not rule.search(source_folded) for rule in _PROMOTIONS.values()):
        reasons.append("promotion")
    return SummaryVerdict(not reasons, tuple(reasons))


def guarded_summary(completion: Completion, source: str, *, product_code: str = "") -> tuple[str | None, str]:
    """The summary to store and the model it is credited to: the model's own when it passes the
    check, else an extractive summary of the source."""
    text = completion.text.strip()
    model = f"{completion.usage.provider}:{completion.usage.model}"
    if not text:
        return None, model
    verdict = check_summary(text, source)
    if verdict.accepted:
        return text, model
    from mostrador.llm.offline_provider import extractive_summary

    # The code only: the text may be anything a supplier wrote.
    logger.warning("generated summary rejected", extra={"item_code": product_code, "reasons": verdict.reasons})
    return extractive_summary(source) or None, f"offline:extractive (rejected {model}: {','.join(verdict.reasons)})"


def _folded(text: str) -> str:
    """Lower case without accents: "Instruções" and "instrucoes" match alike."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _matched(match: re.Match[str]) -> str:
    return next(group for group in match.groups() if group)


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _amount(value: str) -> str:
    """Digits of an amount without thousands separators or a zero cents part: 1.299,00 -> 1299."""
    digits = re.sub(r"[\s.,]", "", value)
    cents = re.search(r"[.,](\d{1,2})$", value.strip())
    if cents and cents.group(1).strip("0") == "":
        digits = digits[: -len(cents.group(1))]
    return digits.lstrip("0") or "0"
