"""A generated test set of first messages that are only a brand and a model: "Samsung Galaxy",
"LG OLED55", "Mabe 17 kg", "Xiaomi Redmi Note 13", "oster licuadora?".

None of them names a language (or, with a Spanish product word, only Spanish), so a conversation
opened by one must stay in the deployment's language. The brands and series here are written for
the test and kept apart from language.py's shipped list on purpose: UNLISTED_BRANDS are brands the
detector has never heard of (a tenant's catalog would name them), so the set measures the rule, not
only the list.
"""

from __future__ import annotations

from itertools import cycle, islice

# Brand -> series / product-line names as customers type them.
BRANDS: dict[str, tuple[str, ...]] = {
    "Samsung": ("Galaxy", "Galaxy Tab", "Crystal UHD", "Bespoke", "Neo QLED", "EcoBubble", "Odyssey"),
    "LG": ("OLED", "NanoCell", "ThinQ", "Gram", "InstaView", "Dual Inverter", "XBoom"),
    "Sony": ("Bravia", "PlayStation", "Xperia", "WH-1000XM5", "Alpha"),
    "Xiaomi": ("Redmi Note", "Redmi", "Poco", "Mi Band", "Mi Smart Band", "Mi TV Stick"),
    "Apple": ("iPhone", "iPad", "MacBook Air", "MacBook Pro", "AirPods", "Watch"),
    "Motorola": ("Moto G", "Moto E", "Edge", "Razr"),
    "Huawei": ("Mate", "Nova", "MatePad", "Watch Fit", "FreeBuds"),
    "Oster": ("licuadora", "Xpert", "freidora de aire", "cafetera", "tostadora"),
    "Mabe": ("lavadora", "nevera", "Aqua Saver", "cocina", "secadora"),
    "Whirlpool": ("Xpert Energy Saver", "lavadora", "refrigerador", "Duet"),
    "Electrolux": ("Ultimate Care", "Frost Free", "Perfect Care", "refrigerador"),
    "Frigidaire": ("Gallery", "Professional", "Frost Free", "nevera"),
    "Haier": ("Inverter", "Side by Side", "Cube"),
    "Hisense": ("ULED", "Laser TV", "Vidaa", "Smart TV"),
    "TCL": ("QLED", "Mini LED", "Google TV", "NxtPaper"),
    "Panasonic": ("Lumix", "Inverter", "microondas", "Viera"),
    "Philips": ("Airfryer", "Hue", "Sonicare", "OneBlade", "Ambilight"),
    "Lenovo": ("IdeaPad", "ThinkPad", "Legion", "Yoga", "Tab M10"),
    "HP": ("Pavilion", "Victus", "Omen", "EliteBook", "DeskJet", "LaserJet"),
    "Dell": ("Inspiron", "Latitude", "Vostro", "XPS", "Alienware"),
    "Asus": ("Vivobook", "Zenbook", "ROG Strix", "TUF Gaming", "ExpertBook"),
    "Acer": ("Aspire", "Nitro", "Predator Helios", "Swift"),
    "Bosch": ("Serie", "taladro", "lavavajillas", "Professional"),
    "Black+Decker": ("licuadora", "taladro", "aspiradora", "plancha"),
    "Hamilton Beach": ("licuadora", "cafetera", "waflera"),
    "KitchenAid": ("Artisan", "batidora", "Classic"),
    "Daewoo": ("microondas", "Smart TV", "aire"),
    "Midea": ("Inverter", "Xtreme Save", "Forest"),
    "Nintendo": ("Switch", "Switch Lite", "Switch OLED"),
    "Microsoft": ("Xbox Series", "Surface Pro", "Xbox Series X"),
    "JBL": ("Flip", "Charge", "PartyBox", "Go", "Tune", "Boombox"),
    "Bose": ("QuietComfort", "SoundLink", "SoundLink Flex"),
    "Nokia": ("Lumia", "G21", "C32"),
    "Honor": ("Magic", "X8a", "Pad"),
    "Oppo": ("Reno", "Find", "A78"),
    "Realme": ("Narzo", "GT", "C55"),
    "Infinix": ("Hot", "Note", "Zero", "Smart"),
    "Tecno": ("Spark", "Camon", "Pova", "Phantom"),
    "Epson": ("EcoTank", "WorkForce"),
    "Canon": ("Pixma", "EOS", "PowerShot"),
    "Logitech": ("MX Master", "G Pro", "Pebble"),
    "Carrier": ("Inverter", "Split", "XPower"),
    "Daikin": ("Inverter", "Split"),
    "Sharp": ("Aquos", "microondas"),
    "Toshiba": ("Regza", "Satellite"),
    "Imaco": ("licuadora", "ventilador", "hervidor"),
    "Premium": ("aire acondicionado", "nevera", "microondas"),
    "Siragon": ("Notebook", "tablet", "Smart TV"),
    "Drean": ("Next", "Concept", "Family"),
    "Brastemp": ("Frost Free", "Inverse", "Ative"),
    "Consul": ("Frost Free", "Facilite", "Bem Estar"),
    "Indurama": ("Ecomax", "Quarzo", "Torino"),
}
# Brands language.py's shipped list deliberately does not know: only the rule protects them (and, in
# production, the tenant's catalog).
UNLISTED_BRANDS: dict[str, tuple[str, ...]] = {
    "Kalley": ("Smart TV", "Genius", "licuadora"),
    "Caixun": ("Smart TV", "Android TV"),
    "Challenger": ("Smart TV", "Inverter"),
    "Frigilux": ("nevera", "Frost"),
    "Somela": ("Thermal", "Fresh Air"),
    "Ursus Trotter": ("Cocina", "Cavaletto"),
    "Vitrokitchen": ("Gourmet", "Induccion"),
    "Atma": ("Smart Vision", "Rapid Cook"),
    "Kanji": ("Home", "Smart Max"),
    "Sindelen": ("Flow", "Compact"),
    "Recco": ("Smart", "Chef"),
    "Winia": ("Silent Cool", "Blue Smart"),
}

# Model-number shapes, numbers, sizes and units as they follow a brand or a series.
MODEL_TAILS = (
    "",
    " 13",
    " 15 Pro",
    " 14 Pro Max",
    " S24 Ultra",
    " A54",
    " 55",
    ' 65"',
    " 55 pulgadas",
    " 4K",
    " 17 kg",
    " 12000 BTU",
    " 18000 btu",
    " 128GB",
    " 8GB 256GB",
    " 2024",
    " X",
    " Plus",
    " Lite",
    " Max",
    " Mini",
    " Ultra",
    " Neo",
)
MODEL_CODES = (
    "OLED55C3",
    "UN55TU7000",
    "RT38K5930SL",
    "WA17T6260",
    "LM-X420",
    "55UR8750",
    "SM-A155M",
    "KDL-32W600",
    "MWM17",
    "43A6K",
    "BLSTKAG",
    "XR-55A80L",
)


def _variants(text: str) -> list[str]:
    """How the same opener arrives: as typed, all lower case, with a question mark."""
    return [text, text.lower(), f"{text}?"]


def brand_model_openers(brands: dict[str, tuple[str, ...]] | None = None) -> list[str]:
    """Every brand with each of its series and a few tails, each model code, the bare series, and the
    brand with a number and a unit; deterministic, no duplicates."""
    brands = BRANDS if brands is None else brands
    openers: list[str] = []
    tails = cycle(MODEL_TAILS)
    codes = cycle(MODEL_CODES)
    for brand, series_names in brands.items():
        for series in series_names:
            for tail in islice(tails, 3):
                openers.extend(_variants(f"{brand} {series}{tail}"))
            openers.append(f"{series}{next(tails)}")
        for code in islice(codes, 3):
            openers.extend(_variants(f"{brand} {code}"))
        for tail in (" 17 kg", " 55 pulgadas", " 12000 BTU"):
            openers.append(f"{brand}{tail}")
    return list(dict.fromkeys(opener.strip() for opener in openers))


def unlisted_brand_openers() -> list[str]:
    return brand_model_openers(UNLISTED_BRANDS)
