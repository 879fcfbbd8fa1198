"""Which language the customer writes in, and when a message changes the conversation's language.

The identification is py3langid (langid.py's naive Bayes over byte n-grams, a 4.5 MB model) limited
to SUPPORTED. Chat messages are short, and n-grams alone cannot tell "hi" or "merci" apart, so a
short list of chat words (greetings, thanks, shopping verbs, a few unmistakable function words)
multiplies a language's odds, and the catalog's product words ("nevera", "licuadora") lean a little
to Spanish, the catalog's language: n-grams read "busco una nevera" as Italian. Codes, numbers,
links, emojis and product names (brands, series, units: "Samsung Galaxy" reads as German to
n-grams) are removed before anything is measured: "XY-0412" or "👍" says nothing about a language,
and a message naming a product with only a few other words names one only through a chat word.
Other languages are named too: a message in another script by its script, a Latin-script one when
py3langid over all its languages clearly prefers a language outside the six ("hallo, hebben jullie
een koelkast?" is Dutch, not German). Choice, measurements and the rules: docs/conversations.md.

The model loads on the first message that has words to detect (about half a second, once per
execution environment); importing this module costs nothing.
"""

from __future__ import annotations

import bisect
import copy
import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from mostrador.conversations.language_names import LANGUAGE_NAMES
from mostrador.conversations.product_names import KNOWN_BRANDS, MODEL_WORDS, UNITS, ProductNames

# Languages the detector chooses from. Fewer candidates is what makes short texts work: a word
# that could be Catalan, Galician or Tagalog is not "probably Portuguese" unless those are ruled out.
SUPPORTED = ("es", "en", "pt", "fr", "it", "de")
# The deployment's language: a conversation whose messages never say otherwise is answered in it.
DEFAULT_LANGUAGE = "es"
# Fixed texts (handoff notice, offline templates) exist in these; any other language gets English.
TEXT_LANGUAGES = ("es", "en", "pt", "fr")
FALLBACK_TEXT_LANGUAGE = "en"

# Languages outside SUPPORTED are named too, when the evidence is strong (docs/conversations.md):
# - a message written mostly in another script (Cyrillic, Arabic, Han, kana, Hangul, Greek, Hebrew,
#   Thai, Devanagari...) is not in any of the six: its script names the language, or, for a script
#   several languages share, py3langid among those languages;
# - a Latin-script message that py3langid over all its languages (with the six's chat words, catalog
#   words and prior applied as below) gives to one other language with at least OTHER_CONFIDENCE, from
#   at least OTHER_MIN_WORDS words ("hallo, hebben jullie een koelkast?" is Dutch, not German); when
#   such a language is the best but below that, no language is named (none of the six explains it).
# Chosen on language_other.tsv; on the labelled sets of the six, the brand openers and the search
# evaluation's queries and product names, no other language scores above 0.24.
OTHER_CONFIDENCE = 0.5
OTHER_MIN_WORDS = 3
# A script's letters must be at least this share of a message's letters to name its language.
SCRIPT_SHARE = 0.5
# Within a script several languages write, the best of them counts from this probability among them;
# below it the script's most spoken language (Russian for Cyrillic, Arabic, Hindi for Devanagari).
SCRIPT_LANGUAGE_CONFIDENCE = 0.6
# py3langid's regional and historical labels, folded into the language a reply is written in.
LANGUAGE_ALIASES = {
    "ary": "ar",
    "arz": "ar",
    "yue": "zh",
    "wuu": "zh",
    "grc": "el",
    "hbo": "he",
    "uzs": "uz",
    "sdh": "ku",
    "nn": "no",
    "gug": "gn",
}
# Never named from Latin-script n-grams: no text (zxx), no customers (Latin, Esperanto, Volapük,
# Sanskrit), and the six's close relatives, whose n-grams a Spanish, Portuguese, French, Italian or
# German message shares ("busco nevera pequeña para un apartamento" is 0.54 Galician; "cuanto vale el
# televisor de 55" Venetian). Their speakers read the neighbour the detector names instead.
_NEVER_NAMED = frozenset(
    {"zxx", "la", "eo", "vo", "sa", "gl", "an", "ext", "ast", "oc", "ca", "vec", "lij", "wa", "gcf", "gcr", "lb"}
)

# A message names a language when its best guess reaches this probability (among SUPPORTED)...
DETECT_CONFIDENCE = 0.6
# ...and switches an already pinned conversation only when it is clear: this probability, from at
# least SWITCH_MIN_WORDS words that are not codes, names of nothing ("ok") or emojis.
SWITCH_CONFIDENCE = 0.8
SWITCH_MIN_WORDS = 2
# Each chat word of a language multiplies that language's odds by e**CHAT_WORD_WEIGHT (about 20x)...
CHAT_WORD_WEIGHT = 3.0
# ...and the language the conversation already has (the deployment's for a new one) gets e**1 (2.7x):
# a message that could be anything leans to what we know. Both chosen on language_samples.tsv.
PRIOR_WEIGHT = 1.0
# The catalog's language (the deployment's): each catalog word in a message multiplies its odds by
# e**1.5 (about 4.5x), a weaker hint than a chat word. Chosen on language_shopping.tsv.
CATALOG_LANGUAGE = DEFAULT_LANGUAGE
CATALOG_WORD_WEIGHT = 1.5
# A message that names a product (a brand, a series, a code, a size) and has at most this many other
# words names a language only through a chat word: "Haier Side by Side" or "Somela Fresh Air Max" is
# a product's name, which is English marketing as often as not; "any samsung phones?" has "any".
PRODUCT_MESSAGE_MAX_WORDS = 3


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_CHAT_WORDS: dict[str, frozenset[str]] = {
    "es": _word_set(
        "hola buenas buenos gracias porfa porfavor precio cuanto cuánto cuesta tienen quiero quisiera "
        "necesito disculpa listo vale ustedes usted hay donde dónde mañana "
        # How a Spanish customer shops ("busco una nevera": n-grams say Italian, 0.79; "me regala el
        # precio", "dale")...
        "busco buscando interesa interesan tienes tendrán tendran manejan aceptan hacen envían envian "
        "sigue regala regalas dale "
        # ...function words no other of the six has ("pa": "para")...
        "el los las y pa "
        # ...and Venezuelan, Colombian and Mexican forms of address.
        "chamo pana epa quiubo órale güey wey oye oiga"
    ),
    "en": _word_set(
        "hi hello hey thanks thank thx please pls yes yeah price how what the you your have is are "
        "good morning great want need any looking does much"
    ),
    "pt": _word_set(
        "oi olá obrigado obrigada valeu você vocês vcs voce tem preço não nao sim tudo bom boa beleza "
        "quero preciso onde têm tá pra aí uma estou procuro procurando custa faz fazem"
    ),
    "fr": _word_set(
        "bonjour bonsoir salut merci oui svp s'il vous avez combien prix je c'est est-ce d'accord "
        "cherche voudrais coûte livrez"
    ),
    # "cerco una lavatrice" against "busco una lavadora": Italian's shopping verb, words Spanish never writes.
    "it": _word_set("ciao grazie buongiorno buonasera prego vorrei avete perfetto cerco cercando il c'è sono quali"),
    "de": _word_set("hallo danke bitte guten ich haben ist nicht wie"),
}
# Words of the deployment's catalog (product kinds, sizes, spelled as Spanish spells them): evidence
# of Spanish, but weak, since a customer writing another language quotes the catalog's names ("do you
# have the Nevera Samsung RT38?"). Never a chat word: a product word alone does not name a language.
_CATALOG_WORDS: frozenset[str] = _word_set(
    "nevera neveras refrigerador refrigeradores refri refris lavadora lavadoras secadora secadoras "
    "televisor televisores tele teles pantalla pantallas licuadora licuadoras licua colchón colchon colchones "
    "aire aires acondicionado cocina cocinas estufa estufas hornilla hornillas horno hornos microondas "
    "congelador congeladores freidora freidoras cafetera cafeteras greca arrocera olla ollas plancha planchas "
    "ventilador ventiladores abanico calentador calentadores celular celulares cel celu teléfono telefono "
    "computadora computadoras compu audífonos audifonos corneta cornetas bocina bocinas parlante parlantes "
    "impresora impresoras batidora aspiradora sandwichera sanduchera arepera taladro silla sillas pulgadas puestos"
)
# Tokens every language uses in chat: they count neither as words nor as evidence.
_NEUTRAL = _word_set("ok okay okey okk oki hmm mmm jaja jajaja haha hahaha lol xd si no")

_LINK = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\S+", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


# Writing systems other than Latin, as (first code point, last code point, script), in order.
_SCRIPT_RANGES = (
    (0x0370, 0x03FF, "Greek"),
    (0x0400, 0x052F, "Cyrillic"),
    (0x0530, 0x058F, "Armenian"),
    (0x0590, 0x05FF, "Hebrew"),
    (0x0600, 0x06FF, "Arabic"),
    (0x0750, 0x077F, "Arabic"),
    (0x08A0, 0x08FF, "Arabic"),
    (0x0900, 0x097F, "Devanagari"),
    (0x0980, 0x09FF, "Bengali"),
    (0x0A00, 0x0A7F, "Gurmukhi"),
    (0x0A80, 0x0AFF, "Gujarati"),
    (0x0B00, 0x0B7F, "Odia"),
    (0x0B80, 0x0BFF, "Tamil"),
    (0x0C00, 0x0C7F, "Telugu"),
    (0x0C80, 0x0CFF, "Kannada"),
    (0x0D00, 0x0D7F, "Malayalam"),
    (0x0D80, 0x0DFF, "Sinhala"),
    (0x0E00, 0x0E7F, "Thai"),
    (0x0E80, 0x0EFF, "Lao"),
    (0x1000, 0x109F, "Myanmar"),
    (0x10A0, 0x10FF, "Georgian"),
    (0x1100, 0x11FF, "Hangul"),
    (0x1200, 0x139F, "Ethiopic"),
    (0x1780, 0x17FF, "Khmer"),
    (0x1F00, 0x1FFF, "Greek"),
    (0x3040, 0x30FF, "Kana"),
    (0x3130, 0x318F, "Hangul"),
    (0x31F0, 0x31FF, "Kana"),
    (0x3400, 0x4DBF, "Han"),
    (0x4E00, 0x9FFF, "Han"),
    (0xAC00, 0xD7AF, "Hangul"),
    (0xF900, 0xFAFF, "Han"),
    (0xFB1D, 0xFB4F, "Hebrew"),
    (0xFB50, 0xFDFF, "Arabic"),
    (0xFE70, 0xFEFF, "Arabic"),
    (0xFF66, 0xFF9F, "Kana"),
    (0x20000, 0x2FA1F, "Han"),
)
_SCRIPT_STARTS = [start for start, _, _ in _SCRIPT_RANGES]
# The languages each script writes, the most spoken first: the one named when py3langid cannot tell
# them apart (a short Cyrillic message: Russian). Han with kana is Japanese; Han alone, Chinese.
_SCRIPT_LANGUAGES: dict[str, tuple[str, ...]] = {
    "Greek": ("el",),
    "Cyrillic": ("ru", "uk", "bg", "sr", "mk", "be", "kk", "ky", "mn", "tg", "tt", "ba"),
    "Armenian": ("hy",),
    "Hebrew": ("he",),
    "Arabic": ("ar", "fa", "ur", "ps", "ug", "ku"),
    "Devanagari": ("hi", "mr", "ne"),
    "Bengali": ("bn", "as"),
    "Gurmukhi": ("pa",),
    "Gujarati": ("gu",),
    "Odia": ("or",),
    "Tamil": ("ta",),
    "Telugu": ("te",),
    "Kannada": ("kn",),
    "Malayalam": ("ml",),
    "Sinhala": ("si",),
    "Thai": ("th",),
    "Lao": ("lo",),
    "Myanmar": ("my",),
    "Georgian": ("ka",),
    "Hangul": ("ko",),
    "Ethiopic": ("am",),
    "Khmer": ("km",),
    "Kana": ("ja",),
    "Han": ("zh",),
}
# Scripts written without spaces between words: about two characters make a word.
_UNSPACED = frozenset({"Han", "Kana", "Thai", "Lao", "Khmer", "Myanmar"})


@dataclass(frozen=True)
class Detection:
    language: str
    # Probability of `language` among SUPPORTED, after the chat-word odds.
    confidence: float
    # Words that carried it: letters only, neutral chat tokens ("ok") left out.
    words: int

    @property
    def clear(self) -> bool:
        """Strong enough to switch a conversation that already has a language."""
        return self.words >= SWITCH_MIN_WORDS and self.confidence >= SWITCH_CONFIDENCE


def language_words(text: str) -> list[str]:
    """The words of `text` that can show a language: lowercased, without links, e-mail addresses and
    any token holding a digit (item codes, sizes, prices, phone numbers), without emojis."""
    return _split_words(text)[0]


def _split_words(text: str) -> tuple[list[str], bool]:
    """language_words, and whether one of the tokens left out was a code (letters and digits: "S24",
    "OLED55C3", "128GB"). A plain number is a price or a size in any sentence ("quanto costa il 55?")."""
    kept: list[str] = []
    coded = False
    for token in _LINK.sub(" ", text).lower().split():
        if any(ch.isdigit() for ch in token):
            coded = coded or any(ch.isalpha() for ch in token)
            continue
        kept.extend(_WORD.findall(token.replace("’", "'")))
    return kept, coded


@dataclass(frozen=True)
class _Script:
    name: str
    # Its share of the message's letters (marks included), and its words.
    share: float
    words: int
    # The message without links and codes, as written (word splitting would cut Devanagari's marks).
    text: str


def _script_of(char: str) -> str | None:
    point = ord(char)
    index = bisect.bisect_right(_SCRIPT_STARTS, point) - 1
    if index >= 0 and point <= _SCRIPT_RANGES[index][1]:
        return _SCRIPT_RANGES[index][2]
    return None


def _main_script(text: str) -> _Script | None:
    """The non-Latin script most of the message is written in, when it is at least SCRIPT_SHARE of
    its letters and two of them; None for Latin (and for messages with no letters)."""
    tokens = [token for token in _LINK.sub(" ", text).split() if not any(ch.isdigit() for ch in token)]
    counts: Counter[str] = Counter()
    letters = 0
    for char in "".join(tokens):
        if char.isalpha() or unicodedata.category(char).startswith("M"):
            letters += 1
            script = _script_of(char)
            if script is not None:
                counts[script] += 1
    if counts["Kana"]:
        counts["Kana"] += counts.pop("Han", 0)  # kanji beside kana: Japanese
    if not counts:
        return None
    name, count = counts.most_common(1)[0]
    if count < 2 or count / letters < SCRIPT_SHARE:
        return None
    if name in _UNSPACED:
        words = max(1, count // 2)
    else:
        words = sum(1 for token in tokens if any(_script_of(char) == name for char in token))
    return _Script(name, count / letters, words, " ".join(tokens))


def _meaningful(words: list[str]) -> list[str]:
    return [word for word in words if word not in _NEUTRAL]


# Chat words are never taken out as a one-word product name (a brand called "Hola" still greets).
_KEEP: frozenset[str] = frozenset().union(*_CHAT_WORDS.values(), _NEUTRAL)


@cache
def _shipped_names() -> ProductNames:
    return ProductNames((*KNOWN_BRANDS, *MODEL_WORDS, *UNITS), keep=_KEEP)


def _message_words(text: str, brands: ProductNames | None) -> tuple[list[str], bool]:
    """The language words of `text` without product names, and whether it named a product (a brand,
    a series or unit word, or a model code)."""
    words, coded = _split_words(text)
    words, named = _shipped_names().without_names(words)
    if brands:
        words, own = brands.without_names(words)
        named = named or own
    return words, coded or named


def detect(text: str, prefer: str = DEFAULT_LANGUAGE, brands: Iterable[str] = ()) -> Detection | None:
    """The message's language when it names one with at least DETECT_CONFIDENCE, else None.
    `prefer`: the language to lean to when the text is ambiguous (the conversation's). `brands`: the
    tenant's, taken out like the shipped brands."""
    script = _main_script(text)
    if script is not None:
        return _script_detection(script)
    words, names_product = _message_words(text, ProductNames(brands, keep=_KEEP) if brands else None)
    meaningful = _meaningful(words)
    if not meaningful:
        return None
    hits = {code: sum(word in chat for word in meaningful) for code, chat in _CHAT_WORDS.items()}
    catalog_hits = sum(word in _CATALOG_WORDS for word in meaningful)
    if not any(hits.values()):
        if len(meaningful) == 1:
            return None  # one unknown word is a brand or a name as often as a language
        if names_product and len(meaningful) <= PRODUCT_MESSAGE_MAX_WORDS:
            return None  # the rest of a product's name ("Side by Side", "Fresh Air")
    # Scores are probabilities; chat words, catalog words and the prior multiply the odds.
    prefer = base_language(prefer)

    def odds(ranked: Iterable[tuple[str, float]]) -> tuple[str, float] | None:
        return _best(
            (
                code,
                math.log(score)
                + CHAT_WORD_WEIGHT * hits.get(code, 0)
                + (CATALOG_WORD_WEIGHT * catalog_hits if code == CATALOG_LANGUAGE else 0.0)
                + (PRIOR_WEIGHT if code == prefer else 0.0),
            )
            for code, score in ranked
            if score > 0
        )

    everything, supported = _identifiers()
    if len(meaningful) >= OTHER_MIN_WORDS:
        other = odds(_folded(everything.rank(" ".join(words))).items())
        if other is not None and other[0] not in SUPPORTED and other[0] not in _NEVER_NAMED:
            if other[1] >= OTHER_CONFIDENCE:
                return Detection(other[0], other[1], len(meaningful))
            return None  # another language explains it best, not clearly: none of the six either
    best = odds(supported.rank(" ".join(words)))
    if best is None or best[1] < DETECT_CONFIDENCE:
        return None
    return Detection(best[0], best[1], len(meaningful))


def _best(log_odds: Iterable[tuple[str, float]]) -> tuple[str, float] | None:
    """The language with the highest log-odds and its probability. Summed as logarithms and scaled by
    the largest: a long message repeating a word would overflow exp()."""
    scores = dict(log_odds)
    if not scores:
        return None
    language = max(scores, key=lambda code: scores[code])
    top = scores[language]
    return language, 1.0 / sum(math.exp(value - top) for value in scores.values())


def _folded(ranked: Iterable[tuple[str, float]]) -> dict[str, float]:
    """py3langid's probabilities with regional and historical labels added to their language's."""
    folded: dict[str, float] = {}
    for code, score in ranked:
        language = LANGUAGE_ALIASES.get(code, code)
        folded[language] = folded.get(language, 0.0) + score
    return folded


def _script_detection(script: _Script) -> Detection:
    """A message written in a script none of SUPPORTED uses: the script's language, or for a script
    several languages share, the one py3langid prefers among them when it is clear."""
    candidates = _SCRIPT_LANGUAGES[script.name]
    language = candidates[0]
    if len(candidates) > 1:
        ranked = _folded(_identifiers()[0].rank(script.text))
        among = {code: ranked.get(code, 0.0) for code in candidates}
        total = sum(among.values())
        best = max(among, key=lambda code: among[code])
        if total > 0 and among[best] / total >= SCRIPT_LANGUAGE_CONFIDENCE:
            language = best
    return Detection(language, script.share, script.words)


def _word_count(text: str) -> int:
    """Words that can show a language, without loading the model: of the message's script, or its
    Latin-script words that are not codes, product names or neutral chat tokens."""
    script = _main_script(text)
    if script is not None:
        return script.words
    return len(_meaningful(_message_words(text, None)[0]))


def detect_language(text: str, prefer: str = DEFAULT_LANGUAGE) -> str | None:
    """ISO 639-1 code of the message's language, or None when the message does not tell."""
    found = detect(text, prefer)
    return found.language if found else None


def conversation_language(
    text: str,
    current: str | None,
    *,
    pinned: bool = True,
    catalog_brands: Callable[[], Iterable[str]] | None = None,
) -> str:
    """The language to answer this message in.

    `current` is the conversation's language; `pinned` says it was set by earlier customer messages.
    A conversation's first message sets the language whenever it names one (a bare "hi" or
    "obrigado" does); when it does not, the deployment default stays. After that only a clear
    message in another language switches it: "ok", a code, an emoji, a product name or a lone
    "thanks" never flips a conversation. `catalog_brands` gives the tenant's brands; it is called
    only when the message would change the language, so the catalog is read for those few messages
    (a conversation's first one in another language, a switch), never for the rest.
    """
    if pinned and current is not None and _word_count(text) < SWITCH_MIN_WORDS:
        return current  # too short to be clear: no need to run (or load) the model
    chosen = _choose(text, current, pinned, ())
    if chosen != (current or DEFAULT_LANGUAGE) and catalog_brands is not None:
        brands = list(catalog_brands())
        if brands:
            chosen = _choose(text, current, pinned, brands)
    return chosen


def _choose(text: str, current: str | None, pinned: bool, brands: Iterable[str]) -> str:
    found = detect(text, current or DEFAULT_LANGUAGE, brands)
    if found is not None and (not pinned or current is None or found.clear):
        return found.language
    return current or DEFAULT_LANGUAGE


def base_language(language: str) -> str:
    """The language of a tag without its region: "pt-BR" -> "pt"."""
    return language.strip().lower().replace("_", "-").split("-")[0]


def language_name(language: str) -> str:
    """English name of a language code ("pt" -> "Portuguese"); the code itself when unknown."""
    return LANGUAGE_NAMES.get(base_language(language), language)


T = TypeVar("T")


def localized(texts: Mapping[str, T], language: str) -> T:
    """The text for `language`, English when there is none (the model may speak it; we don't)."""
    return texts.get(base_language(language)) or texts[FALLBACK_TEXT_LANGUAGE]


# -- the model, loaded once on first use --------------------------------------------------------

_lock = threading.Lock()
_loaded: Any = None


def _identifiers() -> tuple[Any, Any]:
    """py3langid over all its languages, and the same model restricted to SUPPORTED (a shallow copy:
    restricting keeps six columns of the shared tables, so the model is loaded once)."""
    global _loaded
    if _loaded is None:
        with _lock:
            if _loaded is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                everything = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
                supported = copy.copy(everything)
                supported.set_languages(list(SUPPORTED))
                _loaded = (everything, supported)
    return _loaded


def model_loaded() -> bool:
    """Whether the identification model is in memory (tests and the benchmark check laziness)."""
    return _loaded is not None
