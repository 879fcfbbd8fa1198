"""Upload checks and text extraction for each format (pure logic; PDFs made by local/pdf_writer)."""

from __future__ import annotations

import io
import zipfile

import pytest

from local.pdf_writer import encrypt_pdf, make_pdf
from mostrador.knowledge.extract import Block, ExtractionFailed, extract_blocks, line_blocks, markdown_blocks
from mostrador.knowledge.formats import MAX_DOCUMENT_BYTES, UploadRejected, check_upload, format_of


def docx(
    paragraphs: list[tuple[str | None, str]], table: list[list[str]] | None = None, *, raw_body: str = ""
) -> bytes:
    ns = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    body = raw_body
    for style, text in paragraphs:
        props = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
        body += f"<w:p>{props}<w:r><w:t>{text}</w:t></w:r></w:p>"
    if table:
        rows = "".join(
            "<w:tr>" + "".join(f"<w:tc><w:p><w:r><w:t>{c}</w:t></w:r></w:p></w:tc>" for c in row) + "</w:tr>"
            for row in table
        )
        body += f"<w:tbl>{rows}</w:tbl>"
    xml = f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{ns}"><w:body>{body}</w:body></w:document>'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", xml)
    return out.getvalue()


def test_formats_come_from_the_extension() -> None:
    assert [format_of(n) for n in ("a.PDF", "b.htm", "c.md", "d.txt", "e.docx")] == [
        "pdf",
        "html",
        "markdown",
        "text",
        "docx",
    ]
    with pytest.raises(UploadRejected) as rejected:
        format_of("hoja.xlsx")
    assert rejected.value.status == 415 and ".pdf" in rejected.value.message


def test_upload_checks_answer_what_to_fix() -> None:
    cases = [
        ("a.txt", b"", 400),
        ("a.txt", b"x" * (MAX_DOCUMENT_BYTES + 1), 413),
        ("a.pdf", b"hello", 422),
        ("a.pdf", encrypt_pdf(make_pdf([[("p", "hola")]]), "clave"), 422),
        ("a.docx", b"not a zip", 422),
        ("a.md", b"\xff\xfe binary", 422),
    ]
    for name, data, status in cases:
        with pytest.raises(UploadRejected) as rejected:
            check_upload(name, data)
        assert rejected.value.status == status, name
    assert check_upload("ok.pdf", make_pdf([[("p", "hola")]])) == "pdf"
    assert check_upload("ok.md", "# Título\nÑandú".encode()) == "markdown"


def test_markdown_headings_lists_tables_links_and_code() -> None:
    text = """Título
======

Intro con [un enlace](https://x.example) y **negrita**.

## Lista
- uno
- dos

| Servicio | Precio |
|---|---|
| Instalación | 20 USD |

```
código   literal
```
"""
    blocks = markdown_blocks(text)

    assert blocks[0] == Block("Título", 1)
    assert Block("Intro con un enlace y negrita.") in blocks
    assert Block("Lista", 2) in blocks and Block("- uno") in blocks and Block("- dos") in blocks  # items apart
    assert Block("Instalación | 20 USD") in blocks
    assert Block("código   literal") in blocks


def test_html_headings_and_blocks_without_scripts_or_menus() -> None:
    html = """<html><head><style>p {color: red}</style></head><body>
      <nav><a href="/">Inicio</a></nav>
      <h1>Preguntas frecuentes</h1><h2>Envíos</h2><p>Enviamos a <b>todo</b> el país.</p>
      <script>alert("x")</script><ul><li>Caracas</li><li>Valencia</li></ul>
      <table><tr><td>Instalación</td><td>20 USD</td></tr></table></body></html>"""

    blocks = extract_blocks("html", html.encode())

    assert blocks[:3] == [Block("Preguntas frecuentes", 1), Block("Envíos", 2), Block("Enviamos a todo el país.")]
    texts = [b.text for b in blocks]
    assert "Caracas" in texts and "Valencia" in texts and "Instalación | 20 USD" in texts
    assert not any("alert" in t or "Inicio" in t or "color" in t for t in texts)


def test_docx_headings_paragraphs_and_tables() -> None:
    data = docx(
        [("Heading1", "Garantía"), (None, "Doce meses."), ("Ttulo2", "Excepciones"), (None, "Golpes.")],
        table=[["Servicio", "Precio"], ["Instalación", "20 USD"]],
    )

    assert extract_blocks("docx", data) == [
        Block("Garantía", 1),
        Block("Doce meses."),
        Block("Excepciones", 2),
        Block("Golpes."),
        Block("Servicio | Precio"),
        Block("Instalación | 20 USD"),
    ]


def test_docx_text_inside_content_controls_is_read() -> None:
    """Word's content controls (w:sdt: form fields, template blocks, a table of contents) wrap
    paragraphs and tables at body level, inline in a paragraph, and around table rows."""
    run = "<w:r><w:t>{}</w:t></w:r>"
    raw = (
        '<w:sdt><w:sdtPr><w:alias w:val="Bloque"/></w:sdtPr><w:sdtContent>'
        '<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr>' + run.format("Garantía") + "</w:p>"
        "<w:p>" + run.format("Doce meses.") + "</w:p>"
        "<w:sdt><w:sdtContent><w:p>" + run.format("Anidado.") + "</w:p></w:sdtContent></w:sdt>"
        "</w:sdtContent></w:sdt>"
        "<w:p>"
        + run.format("Plazo:")
        + "<w:sdt><w:sdtContent>"
        + run.format("48 horas")
        + "</w:sdtContent></w:sdt></w:p>"
        "<w:tbl><w:sdt><w:sdtContent><w:tr><w:tc><w:p>" + run.format("Instalación") + "</w:p></w:tc>"
        "<w:tc><w:sdt><w:sdtContent><w:p>" + run.format("20 USD") + "</w:p></w:sdtContent></w:sdt></w:tc>"
        "</w:tr></w:sdtContent></w:sdt></w:tbl>"
    )

    assert extract_blocks("docx", docx([], raw_body=raw)) == [
        Block("Garantía", 1),
        Block("Doce meses."),
        Block("Anidado."),
        Block("Plazo:48 horas"),
        Block("Instalación | 20 USD"),
    ]


def test_plain_text_paragraphs_join_wrapped_lines_and_mend_hyphens() -> None:
    text = "Horario\nAbrimos de lunes a sábado de 9:00 a 19:00 y los do-\nmingos de 10:00 a 15:00.\n\nSin más."

    assert line_blocks(text) == [
        Block("Horario", 2),
        Block("Abrimos de lunes a sábado de 9:00 a 19:00 y los domingos de 10:00 a 15:00."),
        Block("Sin más."),
    ]


def test_pdf_text_with_pages_and_the_failures_only_a_full_read_finds() -> None:
    data = make_pdf([[("h", "Envíos"), ("p", "Enviamos a todo el país.")], [("p", "Página dos.")]])
    assert extract_blocks("pdf", data) == [
        Block("Envíos", 2, 1),
        Block("Enviamos a todo el país.", 0, 1),
        Block("Página dos.", 0, 2),
    ]
    with pytest.raises(ExtractionFailed, match="scanned images"):
        extract_blocks("pdf", make_pdf([[], []]))
    with pytest.raises(ExtractionFailed, match="needs a password to open"):
        extract_blocks("pdf", encrypt_pdf(data, "clave"))


def test_a_pdf_with_only_an_owner_password_opens_without_one_and_is_read() -> None:
    """Owner-password PDFs (printing or copying restricted) open in any viewer without a password."""
    data = make_pdf([[("h", "Envíos"), ("p", "Enviamos a todo el país.")]])
    restricted = encrypt_pdf(data, "dueño", owner_only=True)
    assert b"/Encrypt" in restricted

    assert check_upload("restringido.pdf", restricted) == "pdf"
    assert extract_blocks("pdf", restricted) == extract_blocks("pdf", data)
    with pytest.raises(UploadRejected, match="needs a password to open") as rejected:
        check_upload("protegido.pdf", encrypt_pdf(data, "clave"))
    assert rejected.value.status == 422


@pytest.mark.parametrize(
    ("fmt", "data"),
    [
        ("text", b"Garant\xc3\xada\x00 de un a\xc3\xb1o.\x01\x1b\n\tfin\x7f"),
        ("markdown", b"# Garant\xc3\xada\x00\n\nUn a\xc3\xb1o\x08.\tfin"),
        ("html", b"<h1>Garant\xc3\xada\x00</h1><p>Un a\xc3\xb1o\x0b.</p>"),
    ],
)
def test_control_characters_are_dropped_from_extracted_text_except_newlines_and_tabs(fmt, data) -> None:
    """Postgres refuses NUL in text; the upload check reads only the first 8 KB, so the extractor drops
    NUL and the other control characters wherever they are (a PDF's text can carry them too)."""
    blocks = extract_blocks(fmt, data)

    text = "\n".join(block.text for block in blocks)
    assert "Garantía" in text
    assert not [ch for ch in text if ord(ch) < 32 and ch not in "\n\t" or ord(ch) == 127], repr(text)
