"""Turning catalog HTML into plain text, and building the text we search and embed."""

from __future__ import annotations

import re
import warnings

_SPACE = re.compile(r"[ \t\u00a0\u200b]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_BLOCK_TAGS = ("p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "section")


def strip_html(html: str | None) -> str:
    """Plain text of an HTML fragment: no scripts/styles/comments, entities decoded, whitespace tidy.

    Broken markup is fine: html.parser recovers from unclosed tags the way browsers roughly do.
    """
    if not html or not html.strip():
        return ""
    from bs4 import BeautifulSoup, Comment, MarkupResemblesLocatorWarning

    with warnings.catch_warnings():
        # A description that is just a URL or a file name is still a description.
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(html, "html.parser")
    for node in soup(["script", "style", "noscript", "template", "iframe", "object", "svg"]):
        node.decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    text = soup.get_text()
    lines = [_SPACE.sub(" ", line).strip() for line in text.splitlines()]
    return _BLANK_LINES.sub("\n", "\n".join(line for line in lines if line)).strip()


def searchable_text(
    *,
    item_code: str,
    name: str,
    description: str,
    brand: str | None,
    category: str | None,
    sub_category: str | None,
    line: str | None,
    item_group: str | None,
) -> str:
    """What we embed and index: the product's identity first, then its (summarized) description."""
    parts = [
        name,
        f"Marca / Brand: {brand}" if brand else "",
        " > ".join(p for p in (category, sub_category) if p),
        f"Línea / Line: {line}" if line else "",
        f"Grupo / Group: {item_group}" if item_group and item_group not in (category, sub_category) else "",
        f"Código / Code: {item_code}",
        description,
    ]
    return "\n".join(p for p in parts if p)
