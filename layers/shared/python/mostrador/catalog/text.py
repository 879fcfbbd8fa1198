"""Turning catalog HTML into plain text, and building the text we search and embed."""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping

_SPACE = re.compile(r"[ \t\u00a0\u200b]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_BLOCK_TAGS = ("p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "section")


def strip_html(html: str | None) -> str:
    """Plain text of an HTML fragment: only what a shopper would see on the page.

    Scripts, styles, comments and every element hidden from view are dropped (hidden text is how a
    supplier description plants instructions for the model: see `is_hidden`). Entities are decoded
    and whitespace tidied. Broken markup is fine: html.parser recovers from unclosed tags the way
    browsers roughly do.
    """
    if not html or not html.strip():
        return ""
    from bs4 import BeautifulSoup, Comment, MarkupResemblesLocatorWarning, Tag

    with warnings.catch_warnings():
        # A description that is just a URL or a file name is still a description.
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(html, "html.parser")
    hiding_selectors = _hiding_selectors(" ".join(node.get_text() for node in soup("style")))
    for node in soup(["script", "style", "noscript", "template", "iframe", "object", "svg", "head", "title"]):
        node.decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in soup.find_all(True):
        if isinstance(tag, Tag) and not tag.decomposed and is_hidden(tag.attrs, hiding_selectors):
            tag.decompose()
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    text = soup.get_text()
    lines = [_SPACE.sub(" ", line).strip() for line in text.splitlines()]
    return _BLANK_LINES.sub("\n", "\n".join(line for line in lines if line)).strip()


# Class names the common CSS frameworks use to hide things (Bootstrap, Tailwind, WordPress, ...).
_HIDING_CLASSES = frozenset(
    {"hidden", "d-none", "sr-only", "visually-hidden", "screen-reader-text", "invisible", "hide", "is-hidden"}
)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_CSS_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_LENGTH = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))\s*([a-z%]*)$")


def is_hidden(attrs: Mapping[str, object], hiding_selectors: frozenset[str] = frozenset()) -> bool:
    """Whether an element's attributes hide it from a shopper's eyes.

    Covers the `hidden` attribute, aria-hidden, framework hiding classes, <style> rules on a class
    or id (`hiding_selectors`), and inline styles: display:none, visibility:hidden, a zero or
    near-zero font size or opacity, zero size with overflow hidden, clipping, off-screen
    positioning, scale(0), and transparent text. Any case, spacing, unit or !important.
    """
    if "hidden" in attrs:
        return True
    if str(attrs.get("aria-hidden", "")).strip().lower() == "true":
        return True
    classes = attrs.get("class") or []
    names = {str(c).lower() for c in (classes.split() if isinstance(classes, str) else classes)}  # type: ignore[attr-defined]
    if names & _HIDING_CLASSES or {f".{n}" for n in names} & hiding_selectors:
        return True
    element_id = str(attrs.get("id", "")).strip().lower()
    if element_id and f"#{element_id}" in hiding_selectors:
        return True
    return hides(_declarations(str(attrs.get("style", ""))))


def hides(declarations: dict[str, str]) -> bool:
    """Whether CSS declarations (property -> value, lower case) make an element's text invisible."""
    d = declarations
    if d.get("display", "").startswith("none") or d.get("visibility", "") in ("hidden", "collapse"):
        return True
    if _tiny(d.get("font-size"), px=2.0, em=0.2, percent=20.0):
        return True
    if _tiny(d.get("opacity"), px=0.05, em=0.05, percent=5.0, unitless=0.05):
        return True
    overflow_hidden = any(d.get(p, "") in ("hidden", "clip") for p in ("overflow", "overflow-x", "overflow-y"))
    if overflow_hidden and any(
        _tiny(d.get(p), px=1.0, em=0.05, percent=1.0) for p in ("height", "max-height", "width", "max-width")
    ):
        return True
    clip = d.get("clip", "") + " " + d.get("clip-path", "")
    if re.search(
        r"rect\(\s*0[a-z]*[\s,]+0[a-z]*[\s,]+0[a-z]*[\s,]+0[a-z]*\s*\)|inset\(\s*(50|100)%|circle\(\s*0", clip
    ):
        return True
    if re.search(r"scale[xy]?\(\s*0(\.0*)?\s*[,)]", d.get("transform", "")):
        return True
    if d.get("position", "") in ("absolute", "fixed") and any(
        _far_off(d.get(p)) for p in ("left", "top", "right", "bottom", "margin-left", "margin-top")
    ):
        return True
    if _far_off(d.get("text-indent")):
        return True
    color = d.get("color", "").replace(" ", "")
    if color == "transparent" or re.fullmatch(r"rgba\(\d+,\d+,\d+,0(\.0*)?\)", color):
        return True
    background = d.get("background-color", d.get("background", "")).replace(" ", "")
    return bool(color) and color == background


def _declarations(style: str) -> dict[str, str]:
    result = {}
    for part in _CSS_COMMENT.sub(" ", style).split(";"):
        name, sep, value = part.partition(":")
        if sep:
            value = re.sub(r"!\s*important", "", value, flags=re.IGNORECASE)
            result[name.strip().lower()] = " ".join(value.lower().split())
    return result


def _hiding_selectors(css: str) -> frozenset[str]:
    """Simple `.class` and `#id` selectors of <style> rules that hide what they select."""
    selectors = set()
    for selector_list, body in _CSS_RULE.findall(_CSS_COMMENT.sub(" ", css)):
        if hides(_declarations(body)):
            for selector in selector_list.split(","):
                last = selector.strip().lower().split()[-1:] or [""]
                match = re.fullmatch(r"[a-z0-9_-]*([.#][a-z0-9_-]+)", last[0])
                if match:
                    selectors.add(match.group(1))
    return frozenset(selectors)


def _tiny(value: str | None, *, px: float, em: float, percent: float, unitless: float = 0.0) -> bool:
    if not value:
        return False
    match = _LENGTH.match(value.split()[0])
    if not match:
        return False
    number, unit = float(match.group(1)), match.group(2)
    limit = {"": unitless, "px": px, "pt": px, "em": em, "rem": em, "%": percent}.get(unit, 0.0)
    return number <= 0 or number < limit


def _far_off(value: str | None) -> bool:
    if not value:
        return False
    match = _LENGTH.match(value.split()[0])
    if match is None:
        return False
    return float(match.group(1)) <= -500 and match.group(2) in ("px", "pt", "em", "rem", "vw", "vh", "%", "")


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
