"""Writes local/sample_catalog.json: a few hundred products of an imaginary Venezuelan electronics and home
retailer, in the NamDamasco fetcher's shape (one item per itemCode and warehouse). Deterministic: the same
templates and seed always give the same file. Run: .venv/bin/python -m local.make_sample_catalog"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

OUT = Path(__file__).resolve().parent / "sample_catalog.json"
BOLIVARES_PER_DOLLAR = 36.45

# (whsName, branchName)
WAREHOUSES = [
    ("ALMACEN CARACAS LA CANDELARIA", "Caracas"),
    ("ALMACEN CARACAS CHACAO", "Caracas"),
    ("ALMACEN VALENCIA", "Valencia"),
    ("ALMACEN MARACAIBO", "Maracaibo"),
    ("ALMACEN BARQUISIMETO", "Barquisimeto"),
    ("ALMACEN PUERTO LA CRUZ", "Puerto La Cruz"),
]


@dataclass(frozen=True)
class Template:
    code: str
    category: str
    sub_category: str
    line: str
    group: str
    language: str  # "es" or "en": the language the retailer wrote this product in
    brands: tuple[str, ...]
    variants: tuple[tuple[str, float], ...]  # (model detail, base price USD)
    name: str  # {brand} {variant}
    features: tuple[str, ...]
    intro: str


TEMPLATES = [
    Template(
        "REF",
        "LINEA BLANCA",
        "NEVERAS",
        "REFRIGERACION",
        "ELECTRODOMESTICOS",
        "es",
        ("Samsung", "LG", "Mabe", "Whirlpool", "Frigilux"),
        (
            ("Top Mount 11 pies", 489),
            ("No Frost 14 pies", 629),
            ("Side by Side 22 pies", 1349),
            ("Bottom Freezer 18 pies", 989),
        ),
        "Nevera {brand} {variant}",
        (
            "Tecnología No Frost: sin escarcha",
            "Compresor inverter de bajo consumo",
            "Dispensador de agua",
            "Bandejas de vidrio templado",
            "Iluminación LED interior",
            "Control de temperatura digital",
        ),
        "Mantén tus alimentos frescos por más tiempo con la nevera {brand}.",
    ),
    Template(
        "LAV",
        "LINEA BLANCA",
        "LAVADORAS",
        "LAVADO",
        "ELECTRODOMESTICOS",
        "es",
        ("Samsung", "LG", "Mabe", "Whirlpool", "Drija"),
        (
            ("Automática 12 kg", 459),
            ("Carga frontal 9 kg", 699),
            ("Semiautomática doble tina 10 kg", 249),
            ("Lavasecadora 20 kg", 1199),
        ),
        "Lavadora {brand} {variant}",
        (
            "Motor inverter silencioso",
            "12 programas de lavado",
            "Función de lavado rápido 15 minutos",
            "Tapa de vidrio templado",
            "Filtro atrapa pelusas",
            "Bajo consumo de agua",
        ),
        "La lavadora {brand} cuida tu ropa y ahorra agua y energía.",
    ),
    Template(
        "AIR",
        "CLIMATIZACION",
        "AIRES ACONDICIONADOS",
        "CLIMATIZACION",
        "ELECTRODOMESTICOS",
        "es",
        ("LG", "Samsung", "Daewoo", "Premium", "Gree"),
        (
            ("Split 12.000 BTU", 389),
            ("Split Inverter 18.000 BTU", 619),
            ("Split 24.000 BTU", 789),
            ("Ventana 5.000 BTU", 229),
        ),
        "Aire Acondicionado {brand} {variant}",
        (
            "Gas refrigerante ecológico R410A",
            "Modo sueño y temporizador 24 h",
            "Control remoto con pantalla",
            "Filtro antibacterial",
            "Enfriamiento rápido Jet Cool",
            "Voltaje 220 V",
        ),
        "Refresca tu hogar con el aire acondicionado {brand}, ideal para el clima venezolano.",
    ),
    Template(
        "COC",
        "LINEA BLANCA",
        "COCINAS",
        "COCCION",
        "ELECTRODOMESTICOS",
        "es",
        ("Mabe", "Whirlpool", "Frigilux", "Oster"),
        (
            ("a gas 4 hornillas 20 pulgadas", 319),
            ("a gas 6 hornillas 30 pulgadas", 579),
            ("eléctrica vitrocerámica 4 zonas", 449),
        ),
        "Cocina {brand} {variant}",
        (
            "Encendido electrónico",
            "Horno con luz y ventana panorámica",
            "Parrillas de hierro fundido",
            "Tapa de vidrio templado",
            "Válvula de seguridad",
            "Acabado en acero inoxidable",
        ),
        "Cocina como un profesional con la cocina {brand}.",
    ),
    Template(
        "MIC",
        "PEQUEÑOS ELECTRODOMESTICOS",
        "MICROONDAS",
        "COCCION",
        "ELECTRODOMESTICOS",
        "es",
        ("Samsung", "LG", "Oster", "Panasonic"),
        (("0,7 pies 700 W", 89), ("1,1 pies 1000 W", 129), ("1,4 pies con grill", 179)),
        "Horno Microondas {brand} {variant}",
        (
            "10 niveles de potencia",
            "Descongelado por peso",
            "Plato giratorio de vidrio",
            "Bloqueo para niños",
            "Menús automáticos",
        ),
        "Calienta, descongela y cocina en minutos con el microondas {brand}.",
    ),
    Template(
        "TV",
        "TELEVISORES",
        "SMART TV",
        "VIDEO",
        "ELECTRONICA",
        "en",
        ("Samsung", "LG", "TCL", "Hisense", "Sony"),
        (
            ('32" HD Smart TV', 219),
            ('43" Full HD Smart TV', 319),
            ('55" 4K UHD Smart TV', 499),
            ('65" 4K QLED Smart TV', 899),
            ('75" 4K UHD Smart TV', 1299),
        ),
        "{brand} {variant}",
        (
            "4K upscaling processor",
            "HDR10 and HLG support",
            "Built-in Wi-Fi and Bluetooth",
            "Netflix, YouTube and Prime Video apps",
            "3 HDMI ports, 2 USB ports",
            "Voice assistant remote",
            "Game mode with low input lag",
        ),
        "Bring the cinema home with the {brand} smart TV.",
    ),
    Template(
        "CEL",
        "TELEFONIA",
        "SMARTPHONES",
        "TELEFONIA",
        "ELECTRONICA",
        "en",
        ("Samsung", "Xiaomi", "Motorola", "Tecno", "Infinix"),
        (("128GB 4GB RAM", 179), ("256GB 8GB RAM", 289), ("128GB 6GB RAM 5G", 249)),
        "{brand} smartphone {variant}",
        (
            '6.6" 90 Hz display',
            "50 MP main camera",
            "5000 mAh battery with fast charging",
            "Dual SIM",
            "Fingerprint reader",
            "Android 14",
            "Expandable storage up to 1 TB",
        ),
        "A reliable {brand} phone for photos, social media and a battery that lasts all day.",
    ),
    Template(
        "GAL",
        "TELEFONIA",
        "SMARTPHONES",
        "TELEFONIA",
        "ELECTRONICA",
        "es",
        ("Samsung",),
        (
            ("Galaxy A15 128GB", 169),
            ("Galaxy A25 5G 256GB", 259),
            ("Galaxy A55 5G 256GB", 449),
            ("Galaxy S24 256GB", 899),
        ),
        "Teléfono {brand} {variant}",
        (
            "Pantalla Super AMOLED",
            "Cámara triple de 50 MP",
            "Batería de 5000 mAh",
            "Carga rápida 25 W",
            "Resistente al agua IP67",
            "4 años de actualizaciones",
        ),
        "El {brand} que esperabas: gran pantalla, gran batería.",
    ),
    Template(
        "LAP",
        "COMPUTACION",
        "LAPTOPS",
        "COMPUTACION",
        "ELECTRONICA",
        "en",
        ("HP", "Lenovo", "Dell", "ASUS", "Acer"),
        (
            ('15.6" Intel Core i3 8GB 256GB SSD', 429),
            ('15.6" Intel Core i5 16GB 512GB SSD', 649),
            ('14" AMD Ryzen 7 16GB 1TB SSD', 799),
            ('Gaming 15.6" Core i7 RTX 4060', 1299),
        ),
        "{brand} Laptop {variant}",
        (
            "Windows 11 Home",
            "Full HD anti-glare display",
            "Backlit keyboard",
            "Wi-Fi 6",
            "HD webcam with privacy shutter",
            "Up to 8 hours of battery",
            "USB-C with power delivery",
        ),
        "Work, study and play on the {brand} laptop.",
    ),
    Template(
        "AUD",
        "AUDIO",
        "CORNETAS Y AUDIFONOS",
        "AUDIO",
        "ELECTRONICA",
        "es",
        ("JBL", "Sony", "Xiaomi", "Samsung"),
        (
            ("Corneta Bluetooth portátil", 79),
            ("Audífonos inalámbricos con cancelación de ruido", 129),
            ("Barra de sonido 2.1 300 W", 249),
        ),
        "{variant} {brand}",
        (
            "Bluetooth 5.3",
            "Resistente al agua IPX7",
            "Hasta 20 horas de batería",
            "Micrófono integrado manos libres",
            "Carga USB-C",
        ),
        "Lleva tu música a todas partes con {brand}.",
    ),
    Template(
        "SOF",
        "MUEBLES",
        "SALA",
        "MUEBLES",
        "HOGAR",
        "es",
        ("Muebles Roma", "Tapicería Andina", "HomeStyle"),
        (
            ("Sofá 3 puestos en tela gris", 549),
            ("Juego de sala 3-2-1 en semicuero", 1190),
            ("Sofá cama matrimonial", 629),
        ),
        "{variant} {brand}",
        (
            "Estructura de madera tratada",
            "Espuma de alta densidad",
            "Tela antimanchas fácil de limpiar",
            "Patas de madera maciza",
        ),
        "Dale estilo a tu sala con el mobiliario {brand}, fabricado en Venezuela.",
    ),
    Template(
        "COM",
        "MUEBLES",
        "COMEDOR",
        "MUEBLES",
        "HOGAR",
        "es",
        ("Muebles Roma", "HomeStyle"),
        (("Juego de comedor 4 sillas vidrio templado", 399), ("Juego de comedor 6 sillas madera", 749)),
        "{variant} {brand}",
        ("Tope de vidrio templado de 8 mm", "Sillas tapizadas", "Fácil ensamblaje", "Acabado resistente a la humedad"),
        "Reúne a tu familia alrededor del comedor {brand}.",
    ),
    Template(
        "COL",
        "MUEBLES",
        "DORMITORIO",
        "DESCANSO",
        "HOGAR",
        "es",
        ("Simmons", "Serta", "Paraíso"),
        (
            ("Colchón ortopédico matrimonial", 289),
            ("Colchón pillow top queen", 459),
            ("Colchón individual resortes", 169),
        ),
        "{variant} {brand}",
        ("Resortes bonell reforzados", "Pillow top de espuma viscoelástica", "Tela antiácaros", "10 años de garantía"),
        "Descansa mejor cada noche con {brand}.",
    ),
    Template(
        "PEQ",
        "PEQUEÑOS ELECTRODOMESTICOS",
        "COCINA",
        "PEQUEÑOS",
        "ELECTRODOMESTICOS",
        "en",
        ("Oster", "Black+Decker", "Hamilton Beach", "Ninja"),
        (("Blender 1.5 L 600 W", 59), ("Air Fryer 5 L", 99), ("Coffee maker 12 cups", 45), ("Stand mixer 5 qt", 189)),
        "{brand} {variant}",
        ("Stainless steel blades", "Dishwasher-safe parts", "Non-slip base", "Automatic shut-off", "1-year warranty"),
        "Make everyday cooking easier with {brand}.",
    ),
]


def description_html(template: Template, brand: str, variant: str, rng: random.Random) -> str:
    features = rng.sample(template.features, k=min(len(template.features), rng.randint(3, 5)))
    intro = template.intro.format(brand=brand)
    heading = "Características" if template.language == "es" else "Features"
    items = "".join(f"<li>{feature}</li>" for feature in features)
    style = rng.randint(0, 3)
    if style == 0:
        return f"<p><strong>{brand} {variant}</strong></p><p>{intro}</p><h3>{heading}</h3><ul>{items}</ul>"
    if style == 1:
        # Some fetchers send styles and entities straight from the web shop.
        return (
            f'<div class="descripcion"><style>.descripcion{{color:#333}}</style><p>{intro}&nbsp;</p>'
            f"<p><b>{heading}:</b><br>{'<br>'.join(features)}</p></div>"
        )
    if style == 2:
        warranty = "Garantía de 1 año." if template.language == "es" else "1-year warranty."
        return f"<p>{intro}</p><ul>{items}</ul><p><em>{warranty}</em></p>"
    # Broken markup happens too: an unclosed list and a stray closing tag.
    return f"<p>{intro}<ul>{items}</p></span>"


def build() -> list[dict[str, object]]:
    rng = random.Random(20261123)  # noqa: S311 - reproducible sample data, not security
    items: list[dict[str, object]] = []
    number = 1000
    for template in TEMPLATES:
        for brand in template.brands:
            for variant, base_price in template.variants:
                number += 7
                code = f"{template.code}-{number:05d}"
                name = " ".join(template.name.format(brand=brand, variant=variant).split())
                price = round(base_price * rng.uniform(0.9, 1.15), 2)
                html = description_html(template, brand, variant, rng)
                warehouses = rng.sample(WAREHOUSES, k=rng.randint(1, 4))
                for whs_name, branch in sorted(warehouses):
                    stock = rng.choice([0, 0, 1, 2, 3, 5, 8, 12, 20, 35])
                    items.append(
                        {
                            "itemCode": code,
                            "itemName": name,
                            "description": html,
                            "category": template.category,
                            "subCategory": template.sub_category,
                            "brand": brand.upper(),
                            "line": template.line,
                            "itemGroupName": template.group,
                            "whsName": whs_name,
                            "branchName": branch,
                            "stock": stock,
                            "price": price,
                            "priceBolivar": round(price * BOLIVARES_PER_DOLLAR, 2),
                        }
                    )
    return items


def main() -> None:
    items = build()
    OUT.write_text(json.dumps(items, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    products = len({item["itemCode"] for item in items})
    print(f"wrote {len(items)} items ({products} products) to {OUT}")


if __name__ == "__main__":
    main()
