"""Words for products: how customers say them (Venezuela, Colombia, Mexico, elsewhere; English) and how
a Spanish catalog writes them. Applied to every search query (mostrador.catalog.query).

SHIPPED_SYNONYMS is the default list. A deployment edits its own on top through the admin API
(`/admin/search/synonyms`, table search_synonyms): a tenant's entry replaces the shipped one for
that term, and an entry with no alternatives switches the shipped one off.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

# Words that mean the same product. Every word of a group expands to the others.
_GROUPS: list[list[str]] = [
    ["televisor", "tv", "television", "tele", "smart tv", "pantalla", "televisores"],
    ["celular", "telefono", "smartphone", "movil", "cel", "celu", "telefono celular", "cell phone", "cellphone"],
    ["laptop", "portatil", "notebook", "computadora portatil", "compu portatil", "laptops"],
    ["computadora", "computador", "ordenador", "compu", "pc", "computer", "desktop"],
    [
        "nevera",
        "refrigerador",
        "refrigeradora",
        "heladera",
        "refri",
        "frigorifico",
        "nevecon",
        "fridge",
        "refrigerator",
    ],
    ["congelador", "freezer", "freezers"],
    ["lavadora", "lavarropas", "washer", "washing machine"],
    ["secadora", "secarropas", "dryer", "clothes dryer"],
    ["lavadora secadora", "lavasecadora", "washer dryer"],
    ["cocina", "estufa", "fogon", "stove", "range", "cooktop", "cocineta"],
    ["horno", "oven"],
    ["microondas", "micro ondas", "horno microondas", "microwave"],
    ["licuadora", "blender", "licuadoras"],
    ["batidora", "mixer", "stand mixer"],
    [
        "aire acondicionado",
        "aire",
        "split",
        "minisplit",
        "mini split",
        "clima",
        "climatizador",
        "air conditioner",
        "ac",
    ],
    ["ventilador", "abanico", "fan"],
    ["arrocera", "olla arrocera", "rice cooker", "olla de arroz"],
    ["freidora de aire", "freidora", "air fryer", "airfryer", "freidora sin aceite"],
    ["cafetera", "coffee maker", "coffee machine", "maquina de cafe"],
    ["hervidor", "tetera electrica", "kettle", "jarra electrica"],
    ["tostadora", "tostador", "toaster", "sandwichera"],
    ["plancha", "iron"],
    ["aspiradora", "vacuum", "vacuum cleaner", "aspirador"],
    ["audifonos", "auriculares", "cascos", "headphones", "earbuds", "earphones", "headset"],
    ["parlante", "bocina", "altavoz", "corneta", "speaker", "bafle"],
    ["colchon", "mattress"],
    ["sofa", "sillon", "mueble", "couch"],
    ["calentador", "calentador de agua", "termo", "boiler", "water heater", "terma"],
    ["impresora", "printer", "multifuncional"],
    ["tablet", "tableta", "tablets"],
    ["smartwatch", "reloj inteligente", "smart watch"],
    ["consola", "videojuegos", "videoconsola", "console", "game console"],
    ["camara", "camera"],
    ["monitor", "pantalla de computadora"],
    ["cargador", "charger"],
    ["bateria", "battery", "pila"],
    ["lampara", "lamp", "bombillo", "bombilla", "foco"],
    ["silla", "chair"],
    ["mesa", "table"],
    ["cama", "bed"],
    ["olla", "pot"],
    ["sarten", "frying pan", "skillet"],
    ["procesador de alimentos", "food processor"],
    ["extractor de jugos", "juicer", "extractor"],
    ["dispensador de agua", "water dispenser", "enfriador de agua", "botellon"],
    ["lavavajillas", "lavaplatos", "dishwasher"],
    ["campana", "campana extractora", "range hood", "hood"],
    ["router", "enrutador", "modem"],
    ["teclado", "keyboard"],
    ["raton", "mouse"],
    ["disco duro", "hard drive", "disco externo"],
    ["memoria usb", "pendrive", "pen drive", "usb"],
    ["bicicleta", "bici", "bike", "bicycle"],
    ["barato", "economico", "cheap", "affordable"],
    ["grande", "big", "large"],
    ["pequeno", "small", "chico", "mini"],
    ["negro", "black"],
    ["blanco", "white"],
    ["gris", "gray", "grey", "plateado", "silver"],
    ["rojo", "red"],
    ["azul", "blue"],
    ["puerta", "door"],
    ["pulgadas", "pulgada", "inch", "inches", "pulg"],
    ["litros", "litro", "liters", "litres", "liter"],
    ["kilos", "kg", "kilogramos", "kilo"],
    ["inalambrico", "wireless", "bluetooth"],
    ["inteligente", "smart"],
    ["vidrio", "glass", "cristal"],
    ["acero inoxidable", "inoxidable", "stainless steel", "stainless"],
    ["carga frontal", "front load", "frontal"],
    ["carga superior", "top load"],
    ["horizontal", "chest", "baul"],
    ["vertical", "upright"],
    ["dos puertas", "two door", "double door"],
    ["garantia", "warranty"],
    ["juguete", "toy"],
    ["ropa", "clothes"],
]

# One-way: the customer's word -> how the catalog says it (not the other way round).
_ONE_WAY: dict[str, list[str]] = {
    "chest freezer": ["congelador horizontal"],
    "upright freezer": ["congelador vertical"],
    "bien grande": ["grande"],
    "pequenita": ["pequeno"],
    "pequenito": ["pequeno"],
    "chiquito": ["pequeno"],
    "chiquita": ["pequeno"],
    "grandota": ["grande"],
    "grandote": ["grande"],
    "compu": ["computadora", "laptop"],
    "refri": ["nevera", "refrigerador"],
    "lap": ["laptop"],
    "cel": ["celular", "smartphone"],
    "tele": ["televisor"],
    "tv": ["televisor"],
    "flatscreen": ["televisor"],
    "phone": ["celular", "telefono", "smartphone"],
    "mobile": ["celular", "smartphone"],
    "notebook": ["laptop"],
    "pava electrica": ["hervidor"],
    "nevera grande": ["nevera", "refrigerador"],
}

MAX_TERM_WORDS = 3
MAX_ALTERNATIVES = 20
_WORD = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    """Lower case without accents, as the database's mostrador_fold (ñ -> n, ç -> c)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize_term(text: str) -> str:
    """A vocabulary key: folded words separated by one space ("Olla  Arrocera" -> "olla arrocera")."""
    return " ".join(_WORD.findall(fold(text)))


def _shipped() -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    for group in _GROUPS:
        keys = [normalize_term(word) for word in group]
        for key in keys:
            table.setdefault(key, [])
            table[key].extend(other for other in keys if other != key and other not in table[key])
    for word, alternatives in _ONE_WAY.items():
        key = normalize_term(word)
        table.setdefault(key, [])
        table[key].extend(a for a in map(normalize_term, alternatives) if a != key and a not in table[key])
    return table


SHIPPED_SYNONYMS: dict[str, list[str]] = _shipped()


def effective_synonyms(tenant_rows: Iterable[Mapping[str, object]]) -> dict[str, list[str]]:
    """The shipped list with a tenant's rows ({"term", "alternatives"}) on top."""
    table = {term: list(alternatives) for term, alternatives in SHIPPED_SYNONYMS.items()}
    for row in tenant_rows:
        term = normalize_term(str(row["term"]))
        alternatives = [normalize_term(str(a)) for a in row["alternatives"]]  # type: ignore[attr-defined]
        table[term] = [a for a in alternatives if a and a != term]
    return {term: alternatives for term, alternatives in table.items() if alternatives}
