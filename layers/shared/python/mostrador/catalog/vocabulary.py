"""Words for products: how customers say them (Venezuela, Colombia, Mexico, elsewhere; English; a few
Portuguese ones) and how a Spanish catalog writes them. Applied to every search query (mostrador.catalog.query).

SHIPPED_SYNONYMS is the default list. A deployment edits its own on top through the admin API
(`/admin/search/synonyms`, table search_synonyms): a tenant's entry replaces the shipped one for
that term, and an entry with no alternatives switches the shipped one off.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

# Words for the same kind of product. Every word of a group expands to the others, so a group holds
# only words for the SAME thing: a broader word ("mueble", "aire", "secador") goes one way below (a
# sofa is a mueble, not every mueble a sofa; "aire" alone is an air conditioner, not the "Freidora de
# Aire"). These name what a product IS: a query's kind words must be matched (catalog.query, catalog.search).
_PRODUCT_GROUPS: list[list[str]] = [
    # "tele" is one way (below): Postgres' Spanish stemmer makes it "tel", as it does "tela" (a sofa's fabric).
    ["televisor", "tv", "tvs", "television", "smart tv", "pantalla", "televisores", "televisao"],
    ["celular", "telefono", "smartphone", "movil", "cel", "celu", "telefono celular", "cell phone", "cellphone"],
    ["laptop", "notebook", "computadora portatil", "compu portatil", "laptops"],
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
        "geladeira",
    ],
    ["congelador", "freezer", "freezers"],
    ["lavadora", "lavarropas", "washer", "washing machine", "maquina de lavar"],
    ["secadora", "secarropas", "dryer", "clothes dryer"],
    ["lavadora secadora", "lavasecadora", "washer dryer"],
    ["cocina", "estufa", "fogon", "stove", "range", "cooktop", "cocineta", "fogao"],
    ["horno", "oven"],
    ["microondas", "micro ondas", "horno microondas", "microwave"],
    ["licuadora", "blender", "licuadoras"],
    ["batidora", "mixer", "stand mixer"],
    [
        "aire acondicionado",
        "split",
        "minisplit",
        "mini split",
        "clima",
        "climatizador",
        "air conditioner",
        "ac",
        "ar condicionado",
    ],
    ["ventilador", "abanico", "fan"],
    ["arrocera", "olla arrocera", "rice cooker", "olla de arroz"],
    ["freidora de aire", "freidora", "air fryer", "airfryer", "freidora sin aceite"],
    ["cafetera", "coffee maker", "coffee machine", "maquina de cafe"],
    ["hervidor", "tetera electrica", "kettle", "jarra electrica"],
    ["tostadora", "tostador", "toaster"],
    ["plancha", "iron"],
    ["aspiradora", "vacuum", "vacuum cleaner", "aspirador"],
    ["audifonos", "auriculares", "cascos", "headphones", "earbuds", "earphones", "headset"],
    ["parlante", "bocina", "altavoz", "corneta", "speaker", "bafle"],
    ["colchon", "mattress"],
    ["sofa", "sillon", "couch"],
    ["mueble", "furniture"],
    ["calentador", "calentador de agua", "termo", "boiler", "water heater", "terma"],
    ["impresora", "printer", "multifuncional"],
    ["tablet", "tableta", "tablets"],
    ["smartwatch", "reloj inteligente", "smart watch"],
    ["consola", "videojuegos", "videoconsola", "console", "game console"],
    ["camara", "camera"],
    ["monitor", "pantalla de computadora"],
    ["cargador", "charger"],
    ["bateria", "battery", "pila"],
    ["bateria externa", "power bank", "powerbank", "cargador portatil", "portable charger"],
    ["lampara", "lamp", "bombillo", "bombilla", "foco"],
    ["silla", "chair"],
    ["mesa", "table"],
    # "noche" is a quality word (SOFT_WORDS), not small talk, so the phrase survives the stop words.
    ["mesa de noche", "mesita de noche", "nightstand", "bedside table", "buro", "velador"],
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
    ["licuadora", "licua"],
    ["cafetera", "greca", "cafetera italiana", "moka"],
    ["sandwichera", "sanduchera", "sanduchero", "sandwich maker", "panini"],
    ["arepera", "arepas", "arepa"],
    ["planta electrica", "planta", "generador", "generator", "power generator", "planta de luz"],
    ["equipo de sonido", "minicomponente", "minicomponentes", "sound system", "stereo"],
    ["hidrolavadora", "pressure washer", "lavadora a presion", "karcher"],
    ["secador de pelo", "secador de cabello", "hair dryer", "blower"],
    ["plancha de pelo", "plancha de cabello", "alisadora", "hair straightener", "flat iron"],
    ["escaparate", "closet", "armario", "ropero", "wardrobe", "guardarropa"],
    ["espejo", "mirror"],
    ["protector de voltaje", "protector", "regulador", "surge protector", "voltage protector"],
    ["taladro", "drill", "rotomartillo"],
    ["herramienta", "herramientas", "tools", "tool"],
    ["horno electrico", "horno tostador", "toaster oven"],
    ["aspiradora robot", "robot aspiradora", "robot vacuum"],
    ["ventilador de techo", "ceiling fan"],
    ["ventilador de pie", "pedestal fan", "standing fan"],
    ["soundbar", "barra de sonido"],
    ["control", "mando", "controller", "gamepad"],
    # Parts and accessories, and what they may be for: a shop without them must not answer
    # "repuestos de nevera" or "aire acondicionado para carro" with its fridges or its air conditioners.
    ["repuesto", "repuestos", "spare part", "spare parts", "parts"],
    ["accesorio", "accesorios", "accessory", "accessories"],
    ["control remoto", "remote control", "remote"],
    ["funda", "forro", "estuche", "cover"],
    ["cable", "cord"],
    ["soporte", "base", "stand", "mount", "bracket"],
    ["carro", "auto", "automovil", "vehiculo", "coche"],
    ["moto", "motocicleta", "motorcycle", "motorbike"],
]

# Words for qualities: they expand like products, but never name what a product is.
_QUALITY_GROUPS: list[list[str]] = [
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
    ["gamer", "gaming"],
    ["queen", "queen size"],
    ["king", "king size"],
    ["matrimonial", "full size", "double bed"],
    ["individual", "twin", "single bed"],
    ["resistente al agua", "prueba de agua", "sumergible", "waterproof", "water resistant", "contra agua"],
]

_GROUPS = _PRODUCT_GROUPS + _QUALITY_GROUPS

# What a product is for -> the products: "para hacer cafe" asks for a cafetera.
_PURPOSES: dict[str, list[str]] = {
    "lavar ropa": ["lavadora"],
    "secar ropa": ["secadora"],
    "congelar": ["congelador"],
    "congelado": ["congelador"],
    "congelados": ["congelador"],
    "calentar comida": ["microondas"],
    "calentar": ["microondas", "calentador"],
    "musica": ["corneta", "parlante", "equipo de sonido", "audifonos"],
    "music": ["corneta", "parlante", "equipo de sonido", "audifonos"],
    "imprimir": ["impresora"],
    "print": ["impresora"],
    "dormir": ["colchon"],
    "dolor espalda": ["colchon ortopedico"],
    "hacer cafe": ["cafetera"],
    "cafe": ["cafetera"],
    "coffee": ["cafetera"],
    "papas fritas": ["freidora"],
    "freir": ["freidora"],
    "barrer": ["aspiradora"],
    "aspirar": ["aspiradora"],
    "limpiar piso": ["aspiradora"],
    "guardar ropa": ["escaparate"],
    "videojuegos": ["consola"],
    "video games": ["consola"],
    "jugar": ["consola"],
    "tortas": ["batidora", "horno"],
    "galletas": ["batidora", "horno"],
    "hornear": ["horno", "batidora"],
    "reposteria": ["batidora", "horno"],
    "jugos": ["licuadora", "extractor"],
    "batidos": ["licuadora"],
    "planchar": ["plancha"],
    "cocinar arroz": ["arrocera"],
    "hacer arepas": ["arepera"],
    "se va luz": ["planta electrica"],
    "apagon": ["planta electrica"],
    "apagones": ["planta electrica"],
    "power outage": ["planta electrica"],
    "power outages": ["planta electrica"],
    "agua caliente": ["calentador"],
    "ver peliculas": ["televisor"],
    "netflix": ["televisor"],
    "taladrar": ["taladro"],
    "lavar carro": ["hidrolavadora"],
    "secar pelo": ["secador de pelo"],
}


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
    # A customer's word the vocabulary narrows (every alternative contains it and says more) is
    # replaced by them (catalog.query): "aire" alone is an air conditioner, not the "Freidora de Aire";
    # "secador" a hair dryer, though the Spanish stemmer folds it into "secadora" (a clothes dryer).
    "aire": ["aire acondicionado"],
    "secador": ["secador de pelo", "secador de cabello"],
    # In Venezuela "un mueble" is a sofa; a sofa is a mueble, but "sofa" must not find every mueble.
    "mueble": ["sofa"],
    "ps5": ["playstation 5"],
    "ps 5": ["playstation 5"],
    "play 5": ["playstation 5"],
    "ps4": ["playstation 4"],
    "ps 4": ["playstation 4"],
    "play 4": ["playstation 4"],
    "refri": ["nevera", "refrigerador"],
    "lap": ["laptop"],
    # "portátil" alone is a laptop to a customer, but a catalog also says it of speakers, air
    # conditioners and generators: one way only.
    "portatil": ["laptop", "computadora portatil"],
    "cel": ["celular", "smartphone"],
    "tele": ["televisor", "tv", "television", "smart tv", "pantalla", "televisores"],
    "tv": ["televisor"],
    "flatscreen": ["televisor"],
    "phone": ["celular", "telefono", "smartphone"],
    "mobile": ["celular", "smartphone"],
    "notebook": ["laptop"],
    "pava electrica": ["hervidor"],
    "nevera grande": ["nevera", "refrigerador"],
}

# Words matched as written (any ending: the plural too), never by their Spanish stem, because the
# stemmer folds them into another product: "secadora" (a clothes dryer) and "secador" (a hair dryer)
# are both "secador".
# A tsquery fragment per word. "tele" is also "tela" to the stemmer (a sofa's fabric).
AS_WRITTEN: dict[str, str] = {
    "secadora": "'secadora':*",
    "secadoras": "'secadora':*",
    "tele": "'tele' | 'teles'",
    "teles": "'tele' | 'teles'",
}

MAX_TERM_WORDS = 3
# Words asking for the lower prices: results that match equally are ordered cheapest first.
CHEAP_WORDS = frozenset(
    {
        "barato",
        "barata",
        "baratos",
        "baratas",
        "economico",
        "economica",
        "economicos",
        "cheap",
        "cheaper",
        "cheapest",
        "affordable",
        "budget",
    }
)
# Units a number may be glued to ("17kg"); the same list as migration 006's mostrador_search_text.
UNITS = "kg|kgs|g|gr|grs|l|lt|lts|ml|w|kw|v|btu|mah|gb|tb|mb|mp|hz|cm|mm|m|in|pulg|ft|hp|cc"

# Function words and the small talk around a product question (Spanish, English, Portuguese): they
# say nothing about which product is meant.
STOP_WORDS = frozenset(
    """
    a al algo alguna algunas alguno algunos algun ante asi aun bajo como con contra cual cuales cuando de del desde
    donde el ella ellas ellos en entre era es esa esas ese eso esos esta estas este esto estos estan esta la las le
    les lo los me mi mis mucho muchos muy nada ni no nos o otra otro otros para pero poco por porque que quien se
    sea ser si sin sobre son su sus tal tambien te ti tu tus un una uno unos unas usted ustedes y ya yo vos
    hola buenas buenos dia dias tarde tardes saludos gracias favor porfa porfavor pls plis
    quiero quisiera queria quieres busco buscando buscaba necesito necesita necesitaba ocupo gustaria saber
    precio precios cuanto cuanta cuantos cuesta cuestan costo vale valen sale salen disponible disponibles
    disponibilidad hay tienen tiene tienes tendran tendras tendra venden vende vendes manejan manejas existe
    existen existencia existencias stock consigo conseguir comprar compro compra informacion info ver mostrar
    muestrame muestreme dame deme cosa cosas tipo producto productos articulo articulos marca modelo busque
    puedo pueden podria podrian tengo tenga tengan hacer hace sirve sirva algo ahi aqui alla haya hayan habra
    a an the and or of for to in on at by with without is are was were be been do does did have has had i me my
    you your we our they it its this that these those what which who how much many price prices cost costs sell
    sells selling available availability hi hello hey please thanks thank looking look want wanted need would
    like buy get show any some there here can could got do item items product products sale
    o os as um uma do da dos das em no na nos nas com voce voces vcs tem quanto custa preco ola obrigado quero procuro
    pa pal q xq pq porq menos mas hasta maximo minimo entre tengan tenga tendrian otra otro necesitamos
    coroto corotos vaina vainas aparato dano dana danado danada averiado averio
    """.split()  # noqa: SIM905 (a word list reads better as text)
) - {"dos"}  # "dos puertas": two, not the Portuguese "of the"

# Qualities that order the results but must not decide whether a product is relevant: a shop with
# no "bonita" in its catalog still sells the fridge asked for.
SOFT_WORDS = (
    frozenset(
        """
    grande grandes pequeno pequena pequenos pequenas chico chica mediano mediana barato barata baratos baratas
    economico economica economicos economicas bueno buena buenos buenas mejor mejores nuevo nueva nuevos nuevas
    bonito bonita lindo linda potente moderno moderna original originales excelente calidad recomendado
    recomendable ideal perfecto sencillo sencilla basico basica premium top
    big large small little cheap cheaper cheapest affordable good best better new nice great quality simple
    mini bien grandote grandota grandotes grandotas pequenito pequenita chiquito chiquita enorme
    negro negra blanco blanca gris plateado plateada rojo roja azul verde dorado dorada rosado rosada black white
    gray grey silver red blue green gold pink
    noche noches cuarto cuartos habitacion sala casa hogar oficina playa familia ninos nino hijos hijo hija mama papa
    abuela abuelo esposa esposo regalo negocio apartamento apto
    room bedroom house home office beach family kids gift
    """.split()  # noqa: SIM905
    )
    | set(UNITS.split("|"))
    | {"pulgadas", "pulgada", "litros", "litro", "kilos", "kilo", "watts", "vatios", "voltios"}
)


MAX_ALTERNATIVES = 20
_WORD = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    """Lower case without accents, as the database's mostrador_fold (ñ -> n, ç -> c)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize_term(text: str) -> str:
    """Folded words separated by one space ("Olla  Arrocera" -> "olla arrocera")."""
    return " ".join(_WORD.findall(fold(text)))


def phrase_key(text: str) -> str:
    """How a term is looked up: its folded words without stop words ("olla de arroz" -> "olla arroz"),
    so the customer's "olla pa arroz" finds it too."""
    words = _WORD.findall(fold(text))
    content = [w for w in words if w not in STOP_WORDS]
    return " ".join(content or words)


def _shipped() -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    for group in _GROUPS:
        keys = [phrase_key(word) for word in group]
        for key in keys:
            table.setdefault(key, [])
            table[key].extend(other for other in keys if other != key and other not in table[key])
    for word, alternatives in [*_ONE_WAY.items(), *_PURPOSES.items()]:
        key = phrase_key(word)
        table.setdefault(key, [])
        table[key].extend(a for a in map(phrase_key, alternatives) if a != key and a not in table[key])
    return table


SHIPPED_SYNONYMS: dict[str, list[str]] = _shipped()

# Words that name a kind of product (or a use that stands for one: "hacer cafe"), as looked up. A query
# term is a kind term when it, or one of its alternatives, is one of these (catalog.query.Term.kind).
KIND_WORDS: frozenset[str] = frozenset(
    phrase_key(word) for words in (*_PRODUCT_GROUPS, *_PURPOSES.values(), _PURPOSES) for word in words
)


def effective_synonyms(tenant_rows: Iterable[Mapping[str, object]]) -> dict[str, list[str]]:
    """The shipped list with a tenant's rows ({"term", "alternatives"}) on top."""
    table = {term: list(alternatives) for term, alternatives in SHIPPED_SYNONYMS.items()}
    for row in tenant_rows:
        term = phrase_key(str(row["term"]))
        alternatives = [phrase_key(str(a)) for a in row["alternatives"]]  # type: ignore[attr-defined]
        table[term] = [a for a in alternatives if a and a != term]
    return {term: alternatives for term, alternatives in table.items() if alternatives}
