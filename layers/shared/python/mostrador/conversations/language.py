"""Which language the customer writes in (Spanish or English), from a few strong signals.

Short messages ("ok", "gracias", "42") often say nothing; then the conversation keeps the language
it already had. A cheap word-list vote is enough to tell Spanish from English and costs no call.
"""

from __future__ import annotations

import re

DEFAULT_LANGUAGE = "es"
SUPPORTED = ("es", "en")

_SPANISH = frozenset(
    [
        "hola",
        "buenas",
        "buenos",
        "dias",
        "tardes",
        "noches",
        "gracias",
        "por",
        "favor",
        "quiero",
        "quisiera",
        "busco",
        "necesito",
        "tienen",
        "tiene",
        "hay",
        "cuanto",
        "cuánto",
        "cuesta",
        "cuestan",
        "precio",
        "precios",
        "el",
        "la",
        "los",
        "las",
        "un",
        "una",
        "unos",
        "unas",
        "de",
        "del",
        "que",
        "qué",
        "con",
        "sin",
        "para",
        "como",
        "cómo",
        "donde",
        "dónde",
        "cuando",
        "cuándo",
        "es",
        "son",
        "está",
        "están",
        "estoy",
        "y",
        "o",
        "pero",
        "mi",
        "mis",
        "tu",
        "su",
        "sus",
        "te",
        "se",
        "disponible",
        "disponibles",
        "sucursal",
        "tienda",
        "nevera",
        "lavadora",
        "televisor",
        "telefono",
        "teléfono",
        "celular",
        "si",
        "sí",
        "muy",
        "más",
        "mas",
        "también",
        "tambien",
        "esto",
        "eso",
        "este",
        "esta",
        "ese",
        "esa",
        "ver",
        "puedo",
        "puede",
        "podría",
        "podria",
        "saber",
        "hablar",
        "asesor",
        "persona",
        "ayuda",
        "comprar",
        "envio",
        "envío",
        "pago",
    ]
)
_ENGLISH = frozenset(
    [
        "hi",
        "hello",
        "hey",
        "good",
        "morning",
        "afternoon",
        "evening",
        "thanks",
        "thank",
        "you",
        "please",
        "want",
        "would",
        "like",
        "looking",
        "need",
        "do",
        "does",
        "have",
        "has",
        "how",
        "much",
        "cost",
        "costs",
        "price",
        "prices",
        "the",
        "an",
        "of",
        "with",
        "without",
        "for",
        "what",
        "where",
        "when",
        "is",
        "are",
        "am",
        "and",
        "or",
        "but",
        "my",
        "your",
        "their",
        "it",
        "this",
        "that",
        "these",
        "those",
        "available",
        "store",
        "branch",
        "fridge",
        "washer",
        "tv",
        "phone",
        "can",
        "could",
        "know",
        "talk",
        "speak",
        "agent",
        "human",
        "person",
        "help",
        "buy",
        "shipping",
        "payment",
        "any",
        "in",
        "stock",
    ]
)
_WORD = re.compile(r"[a-záéíóúüñ]+", re.IGNORECASE)


def detect_language(text: str) -> str | None:
    """'es', 'en', or None when the text does not tell."""
    lowered = text.lower()
    spanish = 2 * sum(lowered.count(mark) for mark in "¿¡ñ")
    english = 0
    for word in _WORD.findall(lowered):
        if word in _SPANISH:
            spanish += 1
        if word in _ENGLISH:
            english += 1
        if any(ch in word for ch in "áéíóú"):
            spanish += 1
    if spanish == english:
        return None
    # Words both languages share ("no", "me", "a") are in neither list, so any lead is a real signal.
    return "es" if spanish > english else "en"


def conversation_language(text: str, current: str | None) -> str:
    """The language to answer in: what this message shows, else what the conversation had."""
    return detect_language(text) or current or DEFAULT_LANGUAGE
