"""Document bytes -> structural blocks: headings (level 1-6) and body text, with PDF page numbers.

Libraries: pypdf for PDF (pure Python, no dependencies, about 2 MB; docs/knowledge.md has the
measurements against the alternatives), BeautifulSoup (already in the layer) for HTML, the standard
library's zipfile + ElementTree for DOCX (a DOCX is zipped XML; python-docx would bring lxml for
what 40 lines do). Markdown and plain text are read by hand.

ExtractionFailed is permanent (the same bytes always fail the same way): its message becomes the
document's `failed` status, written for the person who uploaded it.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from mostrador.knowledge.formats import MAX_DOCX_XML_BYTES, pdf_lock


@dataclass(frozen=True)
class Block:
    text: str
    heading_level: int = 0  # 0: body text; 1-6: a heading
    page: int | None = None


class ExtractionFailed(Exception):
    pass


def extract_blocks(fmt: str, data: bytes) -> list[Block]:
    if fmt == "pdf":
        blocks = pdf_blocks(data)
    elif fmt == "docx":
        blocks = docx_blocks(data)
    elif fmt == "html":
        blocks = html_blocks(_text(data))
    elif fmt == "markdown":
        blocks = markdown_blocks(_text(data))
    elif fmt == "text":
        blocks = line_blocks(_text(data))
    else:
        raise ExtractionFailed(f"unsupported format {fmt!r}")
    blocks = [Block(clean, b.heading_level, b.page) for b in blocks if (clean := _printable(b.text)).strip()]
    if not blocks:
        raise ExtractionFailed("the document has no text")
    return blocks


# Control characters (all but newline and tab), DEL and lone surrogates: Postgres refuses NUL in text,
# and none of them is text a customer should be quoted. The upload check reads only the first 8 KB, and
# a PDF's text can carry them anywhere. NUL goes (UTF-16 debris); the others become a space.
_NUL = re.compile("\x00")
_CONTROL = re.compile("[\x01-\x08\x0b-\x1f\x7f\ud800-\udfff]")


def _printable(text: str) -> str:
    return _CONTROL.sub(" ", _NUL.sub("", text))


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ExtractionFailed("the file is not UTF-8 text: save it as UTF-8 and upload it again") from None


# --- PDF ----------------------------------------------------------------------------------------


def pdf_blocks(data: bytes) -> list[Block]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        locked = pdf_lock(reader)
        if locked:
            raise ExtractionFailed(f"the PDF {locked}")
        blocks: list[Block] = []
        for number, page in enumerate(reader.pages, start=1):
            blocks.extend(line_blocks(page.extract_text() or "", page=number))
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as error:
        raise ExtractionFailed(f"the PDF cannot be read: {error}") from None
    if not any(b.text.strip() for b in blocks):
        raise ExtractionFailed(
            "no text found in the PDF: its pages seem to be scanned images. Text recognition (OCR) is not "
            "supported: upload a PDF with selectable text, or the text itself"
        )
    return blocks


# --- plain text (and PDF page text) ---------------------------------------------------------------

_SENTENCE_END = re.compile(r"[.!?…:;)\]\"»]$")
_BULLET = re.compile(r"^([-*•·▪‣]|\d{1,3}[.)])\s+")


def _looks_like_heading(line: str, next_line: str | None) -> bool:
    """A short line without final punctuation, followed by a line that starts a sentence: how a
    heading looks once a PDF's or a text file's formatting is gone (a wrapped line's continuation
    starts in lower case)."""
    if next_line is None or _BULLET.match(line) or _SENTENCE_END.search(line):
        return False
    words = line.split()
    starts_sentence = next_line[:1].isupper() or next_line[:1].isdigit() or bool(_BULLET.match(next_line))
    return 1 <= len(words) <= 10 and len(line) <= 70 and (line[:1].isupper() or line[:1].isdigit()) and starts_sentence


def line_blocks(text: str, *, page: int | None = None) -> list[Block]:
    """Paragraphs from lines: blank lines and sentence ends close a paragraph, wrapped lines join,
    hyphenated line breaks are mended, short unpunctuated lines before text become headings."""
    lines = [" ".join(line.split()) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    blocks: list[Block] = []
    paragraph: list[str] = []

    def close() -> None:
        if paragraph:
            blocks.append(Block(" ".join(paragraph), 0, page))
            paragraph.clear()

    for index, line in enumerate(lines):
        if not line:
            close()
            continue
        following = next((candidate for candidate in lines[index + 1 :] if candidate), None)
        if not paragraph and _looks_like_heading(line, following):
            blocks.append(Block(line, 2, page))
            continue
        if _BULLET.match(line):
            close()
        if paragraph and paragraph[-1].endswith("-") and line[:1].islower():
            paragraph[-1] = paragraph[-1][:-1] + line
        else:
            paragraph.append(line)
        if _SENTENCE_END.search(line) and (following is None or not following[:1].islower()):
            close()
    close()
    return blocks


# --- Markdown (and HTML through it) ---------------------------------------------------------------

_ATX = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_SETEXT = re.compile(r"^(=+|-+)\s*$")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")
_TABLE_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")


def _inline(text: str) -> str:
    text = _LINK.sub(r"\1", text)
    text = _EMPHASIS.sub(r"\2", text)
    return " ".join(text.split())


def markdown_blocks(text: str) -> list[Block]:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    blocks: list[Block] = []
    paragraph: list[str] = []
    fenced = False

    def close() -> None:
        if paragraph:
            joined = "\n".join(paragraph) if fenced else _inline(" ".join(paragraph))
            blocks.append(Block(joined))
            paragraph.clear()

    for index, raw in enumerate(lines):
        line = raw.rstrip()
        if line.lstrip().startswith("```") or line.lstrip().startswith("~~~"):
            close()
            fenced = not fenced
            continue
        if fenced:
            paragraph.append(line)
            continue
        stripped = line.strip()
        heading = _ATX.match(stripped)
        if heading:
            close()
            blocks.append(Block(_inline(heading.group(2)), len(heading.group(1))))
            continue
        following = lines[index + 1].strip() if index + 1 < len(lines) else ""
        if stripped and paragraph == [] and _SETEXT.match(following) and not _TABLE_RULE.match(following):
            blocks.append(Block(_inline(stripped), 1 if following.startswith("=") else 2))
            continue
        if _SETEXT.match(stripped) and blocks and blocks[-1].heading_level and not paragraph:
            continue  # the underline of a setext heading
        if not stripped or _TABLE_RULE.match(stripped):
            close()
            continue
        if _BULLET.match(stripped) or stripped.startswith(">"):
            close()
            stripped = stripped.lstrip("> ")
        if stripped.startswith("|"):
            close()
            stripped = " | ".join(cell.strip() for cell in stripped.strip("|").split("|"))
            blocks.append(Block(_inline(stripped)))
            continue
        paragraph.append(stripped)
    close()
    return blocks


_HTML_DROP = ("script", "style", "noscript", "template", "iframe", "object", "svg", "nav", "form", "button")
_HTML_BLOCKS = ("p", "div", "li", "tr", "pre", "blockquote", "dt", "dd", "section", "article", "table", "br")


def html_blocks(html: str) -> list[Block]:
    """HTML headings and blocks, through Markdown: h1-h6 become ATX headings, block elements paragraphs."""
    from bs4 import BeautifulSoup, Comment, MarkupResemblesLocatorWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(html, "html.parser")
    for node in soup(list(_HTML_DROP)):
        node.decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for level in range(1, 7):
        for heading in soup.find_all(f"h{level}"):
            text = " ".join(heading.get_text(" ").split())
            heading.replace_with(f"\n\n{'#' * level} {text}\n\n" if text else "\n\n")
    for cell in soup.find_all(["td", "th"]):
        cell.insert_after(" | ")
    for tag in soup.find_all(list(_HTML_BLOCKS)):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    lines = [" ".join(line.split()).strip(" |") for line in soup.get_text().split("\n")]
    # Markdown syntax inside HTML text is literal: escape nothing, but keep '#' lines ours only.
    return markdown_blocks("\n".join(lines))


# --- DOCX -----------------------------------------------------------------------------------------

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_HEADING_STYLE = re.compile(r"(?i)^(heading|titulo|título|ttulo|berschrift|titre)\s*(\d)")


def docx_blocks(data: bytes) -> list[Block]:
    from xml.etree import ElementTree

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo("word/document.xml")
            if info.file_size > MAX_DOCX_XML_BYTES:
                raise ExtractionFailed("the document's XML is too large")
            root = ElementTree.fromstring(archive.read(info))  # noqa: S314 - expat limits entity expansion
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError) as error:
        raise ExtractionFailed(f"the Word document cannot be read: {error}") from None
    body = root.find(f"{_W}body")
    if body is None:
        raise ExtractionFailed("the Word document has no body")
    blocks: list[Block] = []
    for element in _docx_block_elements(body):
        if element.tag == f"{_W}p":
            text = _docx_paragraph_text(element)
            if text:
                blocks.append(Block(text, _docx_heading_level(element)))
        elif element.tag == f"{_W}tbl":
            for row in element.iter(f"{_W}tr"):
                cells = [" ".join(_docx_paragraph_text(p) for p in cell.iter(f"{_W}p")) for cell in row.iter(f"{_W}tc")]
                text = " | ".join(cell for cell in cells if cell)
                if text:
                    blocks.append(Block(text))
    return blocks


def _docx_block_elements(parent: Any) -> Iterator[Any]:
    """The body's paragraphs and tables in order, also those inside content controls (w:sdt: form
    fields, template blocks, a table of contents), nested or not. Inline controls inside a paragraph
    and around table rows or cells are read by the paragraph and table walks themselves."""
    for element in parent:
        if element.tag == f"{_W}sdt":
            content = element.find(f"{_W}sdtContent")
            if content is not None:
                yield from _docx_block_elements(content)
        else:
            yield element


def _docx_paragraph_text(paragraph: object) -> str:
    parts: list[str] = []
    for node in paragraph.iter():  # type: ignore[attr-defined]
        if node.tag == f"{_W}t" and node.text:
            parts.append(node.text)
        elif node.tag in (f"{_W}tab", f"{_W}br"):
            parts.append(" ")
    return " ".join("".join(parts).split())


def _docx_heading_level(paragraph: object) -> int:
    properties = paragraph.find(f"{_W}pPr")  # type: ignore[attr-defined]
    if properties is None:
        return 0
    style = properties.find(f"{_W}pStyle")
    name = style.get(f"{_W}val", "") if style is not None else ""
    if name.lower() == "title":
        return 1
    found = _HEADING_STYLE.match(name)
    if found:
        return max(1, min(6, int(found.group(2))))
    outline = properties.find(f"{_W}outlineLvl")
    if outline is not None and (outline.get(f"{_W}val") or "").isdigit():
        return max(1, min(6, int(outline.get(f"{_W}val") or "0") + 1))
    return 0
