"""A check on LLM-written product summaries before they are stored, indexed and shown to the model.

A summary is written by a model that read supplier text; if that text carried instructions the
model may have obeyed them. A summary is rejected when it contains instructions (to a model or to
the shop's customers), or a URL, a phone number or a price that the source text does not contain.
A rejected summary is replaced by an extractive one (whole leading sentences of the source), which
can only say what the source says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mostrador.llm.base import Completion
from mostrador.observability import logger

# Phrases that address a model or steer a conversation, not describe a product (Spanish, English,
# Portuguese). Matched on lower-case text with accents kept and folded alike.
_INSTRUCTIONS = re.compile(
    r"""
    \b(ignore|disregard|forget|override|bypass)\b[^.\n]{0,40}\b(instruction|instructions|rules|prompt|previous|above)\b
    | \b(ignora|ignore|olvida|olvide|omite|desobedece|ignorar|esquece|esqueca)\b[^.\n]{0,40}
        \b(instruccion|instrucciones|reglas|indicaciones|prompt|anteriores|instrucoes|regras)\b
    | \b(system\s+prompt|prompt\s+del\s+sistema|developer\s+message|jailbreak)\b
    | \byou\s+are\s+now\b | \bahora\s+eres\b | \bnow\s+act\s+as\b | \bact\s+as\s+(a|an|the)\b
    | \b(actua|actue|comportate)\s+como\b | \bfrom\s+now\s+on\b
    | \ba\s+partir\s+de\s+ahora\b | \bde\s+ahora\s+en\s+adelante\b
    | \b(tell|inform)\s+(the\s+)?(customer|user|client)s?\b
    | \b(dile|dígale|digale|decile|informa)\s+al\s+(cliente|usuario)\b
    | \b(as\s+an?\s+ai|as\s+a\s+language\s+model|como\s+(un\s+)?(modelo\s+de\s+lenguaje|asistente|ia)\b)
    | \b(escalate_to_human|search_local_products|get_live_product_details)\b
    | \b(assistant|asistente|bot|chatbot|modelo|model|ai|ia)\s*(must|should|debe|deberá|debera)\b
    | \b(respond|reply|answer|responde|contesta|responda)\s+(only|always|solo|siempre|que|with|con)\b
    | <\s*/?\s*(system|instructions?|prompt)\s*>
    """,
    re.IGNORECASE | re.VERBOSE,
)
_URL = re.compile(
    r"\bhttps?://[^\s<>\"']+|\bwww\.[^\s<>\"']+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|info|biz|shop|store|online|"
    r"site|link|io|ly|me|co|ve|mx|ar|cl|pe|ec|us|es|br)(?:/[^\s<>\"']*)?(?=[\s),.;:!?]|$)|\b[\w.+-]+@[\w-]+\.[\w.]+",
    re.IGNORECASE,
)
# Seven or more digits with the separators people write phone numbers with; `\b` at both ends so a
# model number ("55UQ7500") is not one.
_PHONE = re.compile(r"(?<![\w.,])\+?\(?\d[\d\s().-]{5,}\d(?![\w.,]*\d)")
_CURRENCY = (
    r"(?:\$|us\$|usd|u\$s|dolares|dólares|dollars?|bs\.?|bs\.?s|bolivares|bolívares|ves|€|eur|euros?|pesos?"
    r"|mxn|cop|r\$|reais)"
)
_AMOUNT = r"(?<![\d.,])\d+(?:[.,]\d{3})*(?:[.,]\d{1,2})?(?![\d])"
_PRICE = re.compile(
    rf"(?:{_CURRENCY})\s*({_AMOUNT})|({_AMOUNT})\s*(?:{_CURRENCY})(?![a-z])|\b(?:precio|price|preço|cuesta|costs?)\D{{0,12}}({_AMOUNT})",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SummaryVerdict:
    accepted: bool
    reasons: tuple[str, ...] = ()


def check_summary(summary: str, source: str) -> SummaryVerdict:
    """Accept `summary` of `source` unless it instructs, or adds a URL, phone number or price."""
    reasons = []
    if _INSTRUCTIONS.search(summary):
        reasons.append("instructions")
    source_lower = source.lower()
    if any(url.lower().rstrip(".,") not in source_lower for url in _URL.findall(summary)):
        reasons.append("url")
    source_digits = {_digits(m) for m in _PHONE.findall(source)}
    if any(len(_digits(m)) >= 7 and _digits(m) not in source_digits for m in _PHONE.findall(summary)):
        reasons.append("phone")
    source_amounts = {_amount(m) for m in re.findall(_AMOUNT, source)}
    for match in _PRICE.finditer(summary):
        amount = next(group for group in match.groups() if group)
        if _amount(amount) not in source_amounts:
            reasons.append("price")
            break
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


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _amount(value: str) -> str:
    """Digits of an amount without thousands separators or a zero cents part: 1.299,00 -> 1299."""
    digits = re.sub(r"[\s.,]", "", value)
    cents = re.search(r"[.,](\d{1,2})$", value.strip())
    if cents and cents.group(1).strip("0") == "":
        digits = digits[: -len(cents.group(1))]
    return digits.lstrip("0") or "0"
