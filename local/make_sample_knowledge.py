"""Writes the sample knowledge base the local stack loads on its first run (deterministic):

* local/sample_knowledge/faq.json: a small FAQ (shipping, hours, payment, returns, installation);
* local/sample_knowledge/politicas-de-la-tienda.pdf: a three-page policy PDF (delivery times,
  warranty terms, service prices), made with local/pdf_writer.py.

Run: .venv/bin/python -m local.make_sample_knowledge
"""

from __future__ import annotations

import json
from pathlib import Path

from local.pdf_writer import make_pdf

FOLDER = Path(__file__).resolve().parent / "sample_knowledge"
PDF_NAME = "politicas-de-la-tienda.pdf"
# Titles the local stack uploads the sample files with: citations and the console show them, not the file name.
TITLES = {PDF_NAME: "Políticas de la tienda"}

FAQ = [
    {
        "question": "¿Hacen envíos?",
        "answer": "Sí, hacemos envíos a toda Venezuela. En Caracas, Valencia y Maracaibo entregamos en 24 a 48 "
        "horas hábiles; al resto del país en 3 a 5 días hábiles. El envío es gratis en compras desde 300 USD; "
        "por debajo cuesta 10 USD en ciudades con sucursal y 18 USD al resto del país.",
        "tags": ["envíos", "entregas", "delivery"],
    },
    {
        "question": "¿Cuál es el horario de las tiendas?",
        "answer": "Nuestras sucursales abren de lunes a sábado de 9:00 a 19:00 y los domingos de 10:00 a 15:00. "
        "El chat responde a toda hora.",
        "tags": ["horario", "sucursales"],
    },
    {
        "question": "¿Qué formas de pago aceptan?",
        "answer": "Aceptamos efectivo en dólares, pago móvil, transferencia en bolívares, Zelle y tarjetas de "
        "débito y crédito en las sucursales. Los pagos en bolívares se calculan a la tasa del día.",
        "tags": ["pagos"],
    },
    {
        "question": "¿Puedo devolver un producto?",
        "answer": "Sí: tienes 7 días desde la entrega para devolver un producto sin uso, en su empaque original y "
        "con la factura. Te devolvemos el dinero por el mismo medio de pago.",
        "tags": ["devoluciones"],
    },
    {
        "question": "Do you ship outside Venezuela?",
        "answer": "No, we only deliver within Venezuela for now. Orders from abroad can be paid online and "
        "delivered to an address in Venezuela.",
        "tags": ["shipping"],
    },
]

PAGES = [
    [
        ("h", "Políticas de la tienda"),
        ("p", "Este documento resume cómo entregamos, qué cubre la garantía y cuánto cuestan nuestros servicios."),
        ("h", "Plazos de entrega"),
        (
            "p",
            "Los pedidos confirmados antes de las 2:00 p. m. salen el mismo día. En Caracas, Valencia y Maracaibo "
            "la entrega tarda de 24 a 48 horas hábiles. En el resto del país tarda de 3 a 5 días hábiles. Los "
            "productos de línea blanca grandes (neveras, lavadoras, cocinas) se entregan con dos personas y se "
            "suben hasta el piso indicado sin costo adicional.",
        ),
        (
            "p",
            "Si nadie recibe el pedido, coordinamos una segunda visita sin costo. A partir de la tercera visita "
            "cada entrega cuesta 10 USD.",
        ),
    ],
    [
        ("h", "Garantía"),
        (
            "p",
            "Todos los productos nuevos tienen garantía de 12 meses contra defectos de fábrica, salvo los "
            "teléfonos y portátiles, que tienen 6 meses. Los compresores de neveras y aires acondicionados "
            "tienen 3 años de garantía del fabricante.",
        ),
        (
            "p",
            "La garantía no cubre golpes, humedad, variaciones de voltaje ni reparaciones hechas por terceros. "
            "Para usarla trae el producto con su factura a cualquier sucursal; el diagnóstico tarda hasta 10 "
            "días hábiles y, si procede, reparamos o cambiamos el producto.",
        ),
    ],
    [
        ("h", "Precios de servicios"),
        (
            "p",
            "Instalación de aire acondicionado split hasta 12.000 BTU: 60 USD. De 18.000 a 24.000 BTU: 85 USD. "
            "Instalación de lavadora o secadora: 20 USD. Instalación de cocina a gas: 25 USD. Montaje de "
            "televisor en pared (soporte no incluido): 30 USD.",
        ),
        (
            "p",
            "La garantía extendida de 12 meses adicionales cuesta el 10 % del precio del producto y se compra "
            "junto con él.",
        ),
    ],
]


def write() -> list[Path]:
    FOLDER.mkdir(parents=True, exist_ok=True)
    faq_path = FOLDER / "faq.json"
    faq_path.write_text(json.dumps(FAQ, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    pdf_path = FOLDER / PDF_NAME
    pdf_path.write_bytes(make_pdf(PAGES, title=TITLES[PDF_NAME]))
    return [faq_path, pdf_path]


if __name__ == "__main__":
    for path in write():
        print(f"wrote {path}")
