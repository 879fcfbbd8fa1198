"""Fixed customer-facing texts about voice notes, photos, unsupported messages and choices.

One table per language (es, en, pt, fr); any other language falls back to English. Placeholders
in braces are filled by `notice(key, language, **values)`.
"""

from __future__ import annotations

FALLBACK_LANGUAGE = "en"

NOTICES: dict[str, dict[str, str]] = {
    "es": {
        "voice_needs_model": (
            "Recibí tu nota de voz, pero por ahora no puedo escuchar audios. ¿Me lo puedes escribir, por favor?"
        ),
        "voice_too_long": (
            "Tu nota de voz dura más de {minutes} min y no la puedo escuchar completa. "
            "¿Me mandas una más corta o me lo escribes?"
        ),
        "media_too_large": (
            "El archivo que enviaste pesa más de {megabytes} MB y no lo puedo abrir. "
            "¿Me mandas uno más liviano o me lo escribes?"
        ),
        "voice_unavailable": "No pude escuchar tu nota de voz. ¿Me lo puedes escribir, por favor?",
        "voice_unheard": (
            "No pude escuchar tu nota de voz; respondí lo que escribiste. Si dice algo más, ¿me lo escribes?"
        ),
        "photo_needs_model": (
            "Por ahora no puedo ver fotos: dime el nombre o la marca del producto y lo busco en el catálogo."
        ),
        "photo_unavailable": "No pude ver tu foto. ¿Me dices el nombre o la marca del producto?",
        "unsupported": "Puedo leer texto, notas de voz y fotos. ¿Me escribes lo que necesitas?",
        "unsupported_no_voice": "Puedo leer texto y fotos. ¿Me escribes lo que necesitas?",
        "unsupported_no_photos": "Puedo leer texto y notas de voz. ¿Me escribes lo que necesitas?",
        "unsupported_text_only": "Por ahora solo puedo leer texto. ¿Me escribes lo que necesitas?",
        "choices_prompt": "¿Cuál te interesa?",
        "choices_button": "Ver productos",
        "choices_section": "Productos",
        "choices_numbered": "Responde con el número del que te interesa.",
        "in_stock": "disponible",
        "out_of_stock": "agotado",
        "no_price": "precio a consultar",
    },
    "en": {
        "voice_needs_model": (
            "I got your voice note, but I can't listen to audio yet. Could you type it for me, please?"
        ),
        "voice_too_long": (
            "Your voice note is longer than {minutes} min and I can't listen to all of it. "
            "Could you send a shorter one or type it?"
        ),
        "media_too_large": (
            "The file you sent is larger than {megabytes} MB and I can't open it. "
            "Could you send a smaller one or type it?"
        ),
        "voice_unavailable": "I couldn't listen to your voice note. Could you type it for me, please?",
        "voice_unheard": (
            "I couldn't listen to your voice note, so I answered what you wrote. If it says more, could you type it?"
        ),
        "photo_needs_model": (
            "I can't look at photos yet: tell me the product's name or brand and I'll look it up in the catalog."
        ),
        "photo_unavailable": "I couldn't see your photo. Could you tell me the product's name or brand?",
        "unsupported": "I can read text, voice notes and photos. Could you write what you need?",
        "unsupported_no_voice": "I can read text and photos. Could you write what you need?",
        "unsupported_no_photos": "I can read text and voice notes. Could you write what you need?",
        "unsupported_text_only": "For now I can only read text. Could you write what you need?",
        "choices_prompt": "Which one interests you?",
        "choices_button": "See products",
        "choices_section": "Products",
        "choices_numbered": "Reply with the number of the one you want.",
        "in_stock": "in stock",
        "out_of_stock": "out of stock",
        "no_price": "price on request",
    },
    "pt": {
        "voice_needs_model": (
            "Recebi seu áudio, mas ainda não consigo ouvir mensagens de voz. Pode escrever para mim, por favor?"
        ),
        "voice_too_long": (
            "Seu áudio tem mais de {minutes} min e não consigo ouvi-lo inteiro. Pode mandar um mais curto ou escrever?"
        ),
        "media_too_large": (
            "O arquivo que você enviou tem mais de {megabytes} MB e não consigo abri-lo. "
            "Pode mandar um menor ou escrever?"
        ),
        "voice_unavailable": "Não consegui ouvir seu áudio. Pode escrever para mim, por favor?",
        "voice_unheard": "Não consegui ouvir seu áudio; respondi o que você escreveu. Se ele diz mais, pode escrever?",
        "photo_needs_model": (
            "Ainda não consigo ver fotos: diga o nome ou a marca do produto e eu procuro no catálogo."
        ),
        "photo_unavailable": "Não consegui ver sua foto. Pode dizer o nome ou a marca do produto?",
        "unsupported": "Consigo ler texto, mensagens de voz e fotos. Pode escrever o que precisa?",
        "unsupported_no_voice": "Consigo ler texto e fotos. Pode escrever o que precisa?",
        "unsupported_no_photos": "Consigo ler texto e mensagens de voz. Pode escrever o que precisa?",
        "unsupported_text_only": "Por enquanto só consigo ler texto. Pode escrever o que precisa?",
        "choices_prompt": "Qual deles te interessa?",
        "choices_button": "Ver produtos",
        "choices_section": "Produtos",
        "choices_numbered": "Responda com o número do que te interessa.",
        "in_stock": "disponível",
        "out_of_stock": "esgotado",
        "no_price": "preço sob consulta",
    },
    "fr": {
        "voice_needs_model": (
            "J'ai bien reçu votre message vocal, mais je ne peux pas encore écouter les audios. "
            "Pouvez-vous me l'écrire, s'il vous plaît ?"
        ),
        "voice_too_long": (
            "Votre message vocal dure plus de {minutes} min et je ne peux pas l'écouter en entier. "
            "Pouvez-vous en envoyer un plus court ou me l'écrire ?"
        ),
        "media_too_large": (
            "Le fichier envoyé dépasse {megabytes} Mo et je ne peux pas l'ouvrir. "
            "Pouvez-vous en envoyer un plus léger ou me l'écrire ?"
        ),
        "voice_unavailable": "Je n'ai pas pu écouter votre message vocal. Pouvez-vous me l'écrire, s'il vous plaît ?",
        "voice_unheard": (
            "Je n'ai pas pu écouter votre message vocal ; j'ai répondu à ce que vous avez écrit. "
            "S'il dit autre chose, pouvez-vous me l'écrire ?"
        ),
        "photo_needs_model": (
            "Je ne peux pas encore voir les photos : donnez-moi le nom ou la marque du produit et je le cherche "
            "dans le catalogue."
        ),
        "photo_unavailable": "Je n'ai pas pu voir votre photo. Pouvez-vous me donner le nom ou la marque du produit ?",
        "unsupported": (
            "Je peux lire le texte, les messages vocaux et les photos. Pouvez-vous écrire ce dont vous avez besoin ?"
        ),
        "unsupported_no_voice": "Je peux lire le texte et les photos. Pouvez-vous écrire ce dont vous avez besoin ?",
        "unsupported_no_photos": (
            "Je peux lire le texte et les messages vocaux. Pouvez-vous écrire ce dont vous avez besoin ?"
        ),
        "unsupported_text_only": (
            "Pour l'instant, je ne peux lire que le texte. Pouvez-vous écrire ce dont vous avez besoin ?"
        ),
        "choices_prompt": "Lequel vous intéresse ?",
        "choices_button": "Voir les produits",
        "choices_section": "Produits",
        "choices_numbered": "Répondez avec le numéro de celui qui vous intéresse.",
        "in_stock": "en stock",
        "out_of_stock": "épuisé",
        "no_price": "prix sur demande",
    },
}


def unsupported_key(*, hears: bool, sees: bool) -> str:
    """The "I can read ..." notice naming only what the media reader can do: voice notes need a
    transcription model, photos a vision model (offline, neither: text only)."""
    if hears and sees:
        return "unsupported"
    if hears:
        return "unsupported_no_photos"
    return "unsupported_no_voice" if sees else "unsupported_text_only"


def notice(key: str, language: str, **values: object) -> str:
    """The text `key` in `language` ("es", "en-US"...), English when that language has no table."""
    table = NOTICES.get((language or "").strip().lower()[:2], NOTICES[FALLBACK_LANGUAGE])
    text = table.get(key) or NOTICES[FALLBACK_LANGUAGE][key]
    return text.format(**values) if values else text
