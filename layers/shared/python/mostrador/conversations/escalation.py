"""When a person must take over: the customer asks for one, searches keep finding nothing, or the
model decides so (the escalate_to_human tool). Escalating always opens a record, pauses the bot and
tells the customer; a reply that merely promises a person is made true the same way."""

from __future__ import annotations

import re

from mostrador.conversations.language import localized

# Consecutive searches finding nothing before a person is brought in.
EMPTY_SEARCH_LIMIT = 3

# A request for a person, not any sentence naming one: "hablar con un asesor", "que me atienda una
# persona", "talk to an agent" — but not "mi encargado la busca" or "speak with my manager first".
_ASKS_FOR_HUMAN = re.compile(
    r"""
    \b(hablar|comunic\w*|contact\w*|pas(ar|as|a|es|en)(me|nos)?|conect\w*)\b[^.?!]{0,25}?
        \bcon\s+(un|una|el|la|algun|algún|alguna|su|sus|alguien)?\s*(asesor|asesora|agente|persona|humano|humana|
        operador|operadora|vendedor|vendedora|real|representante|encargad[oa])\b
    | \b(me\s+)?atienda\s+(un|una|el|la|alguien)\s*
        (asesor|asesora|agente|persona|humano|humana|real|vendedor|vendedora)\b
    | \b(quiero|necesito|prefiero)\s+(un|una|a\s+un|a\s+una)\s+(asesor|asesora|agente|persona|humano|humana)\b
    | \b(human|person|agent|representative|operator|someone\s+real|real\s+person|live\s+agent)\b
        [^.?!]{0,10}?\bplease\b
    | \b(talk|speak|chat|connect\s+me|transfer\s+me|put\s+me\s+through)\s+(to|with)\s+
        (a|an|the|your|one\s+of\s+your)?\s*(real\s+|live\s+)?
        (human|person|agent|representative|operator|manager|staff|customer\s+service)\b
    | \b(falar|conversar)\s+com\s+(um|uma|o|a|algum|alguma|alguém)?\s*
        (atendente|humano|humana|pessoa|vendedor|vendedora|agente|representante|consultor|consultora)\b
    | \b(quero|preciso\s+de)\s+(um|uma)\s+(atendente|humano|humana|pessoa|agente)\b
    | \b(parler|discuter)\s+(à|a|avec)\s+(un|une|le|la|quelqu'un|un\s+vrai|une\s+vraie)?\s*
        (conseiller|conseillère|humain|humaine|personne|agent|vendeur|vendeuse|opérateur|opératrice|responsable)\b
    | \bquelqu'un\s+de\s+(réel|vrai)\b
    """,
    re.IGNORECASE | re.VERBOSE,
)

_PROMISES_HANDOFF = re.compile(
    r"""
    \b(te|le|lo|la|los)\s+
        (paso|transfiero|comunico|conecto|pongo\s+en\s+contacto|voy\s+a\s+(pasar|transferir|comunicar))
        [^.?!]{0,40}?\b(asesor|asesora|agente|persona|humano|equipo)\b
    | \b(un|una)\s+(asesor|asesora|agente|persona)\b[^.?!]{0,40}?
        \b(te|le)\s+(contactar[aá]|atender[aá]|escribir[aá]|responder[aá])
    | \b(transfer(ring)?|connect(ing)?|hand(ing)?\s+(you\s+)?over|pass(ing)?)\s+(you\s+)?(to|with)\s+
        (a|an|our|one\s+of\s+our)?\s*
        (human|person|agent|representative|colleague|team)
    | \b(a|an)\s+(human|person|agent|representative|colleague)\b[^.?!]{0,30}?
        \b(will|shall)\s+(contact|follow|reach|get\s+back|be\s+with)
    | \b(transferir|passar|encaminhar|conectar)\s+(você\s+)?(para|com)\s+((a|o|um|uma|nossa|nosso)\s+){0,2}
        (atendente|pessoa|equipe|agente|consultor|consultora)
    | \b(um|uma)\s+(atendente|pessoa|agente|consultor|consultora)\b[^.?!]{0,40}?
        \b(vai|irá)\s+(te\s+|lhe\s+)?(responder|atender|contatar|chamar|falar)
    | \b(transf[eè]re|passe|mets\s+en\s+relation|mettre\s+en\s+relation)\s+(avec|à)\s+
        (un|une|notre|l')?\s*(conseill[eè]re?|personne|équipe|agent|collègue)
    | \b(un|une)\s+(conseill[eè]re?|personne|agent|collègue)\b[^.?!]{0,40}?
        \b(vous\s+)?(répondra|contactera|recontactera|rappellera)
    """,
    re.IGNORECASE | re.VERBOSE,
)

# Customer-facing texts exist in every language of language.TEXT_LANGUAGES; others get English.
_HANDOFF = {
    "es": "Te comunico con un asesor: una persona de nuestro equipo te responderá por aquí muy pronto.",
    "en": "I'm passing you to our team: a person will follow up with you here shortly.",
    "pt": "Vou te passar para a nossa equipe: uma pessoa vai te responder por aqui em breve.",
    "fr": "Je vous mets en relation avec notre équipe : une personne vous répondra ici très bientôt.",
}

_NO_RESULTS = {
    "es": "No encontré lo que buscas en nuestro catálogo.",
    "en": "I couldn't find what you're looking for in our catalog.",
    "pt": "Não encontrei o que você procura no nosso catálogo.",
    "fr": "Je n'ai pas trouvé ce que vous cherchez dans notre catalogue.",
}


def asks_for_human(text: str) -> bool:
    return bool(_ASKS_FOR_HUMAN.search(text))


def promises_handoff(text: str) -> bool:
    return bool(_PROMISES_HANDOFF.search(text))


def handoff_message(language: str) -> str:
    return localized(_HANDOFF, language)


def no_results_message(language: str) -> str:
    return localized(_NO_RESULTS, language)


def with_handoff(text: str, language: str, after_hours: str | None = None) -> str:
    """The reply, followed by the handoff notice unless it already tells the customer; outside business
    hours by the tenant's `after_hours` message instead, always (a promise of someone "shortly" is wrong then)."""
    text = text.strip()
    if after_hours:
        return f"{text}\n\n{after_hours}" if text else after_hours
    if text and promises_handoff(text):
        return text
    return f"{text}\n\n{handoff_message(language)}" if text else handoff_message(language)
