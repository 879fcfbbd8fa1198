"""Turning catalog HTML into plain text, and building the text we search and embed."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

_SPACE = re.compile(r"[ \t\u00a0\u200b]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_BLOCK_TAGS = (
    "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "section",
    "details", "summary",
)  # fmt: skip


def strip_html(html: str | None) -> str:
    """Plain text of an HTML fragment: only what a shopper would see on the page.

    Scripts, styles, comments (and CDATA sections, which a browser shows no more than a comment) and
    every element hidden from view are dropped (hidden text is how a supplier description plants
    instructions for the model: see `is_hidden`), as are a <dialog> that is not open and the body of a
    closed <details> (its <summary> shows). Entities are decoded and whitespace tidied. Broken markup
    is fine: html.parser recovers from unclosed tags the way browsers roughly do.
    """
    if not html or not html.strip():
        return ""
    from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, Tag
    from bs4.element import PreformattedString

    with warnings.catch_warnings():
        # A description that is just a URL or a file name is still a description.
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        soup = BeautifulSoup(html, "html.parser")
    hiding_selectors = _hiding_selectors(" ".join(node.get_text() for node in soup("style")))
    for node in soup(["script", "style", "noscript", "template", "iframe", "object", "svg", "head", "title"]):
        node.decompose()
    # Comments, CDATA, processing instructions, doctypes: never shown on a page.
    for special in soup.find_all(string=lambda s: isinstance(s, PreformattedString)):
        special.extract()
    for tag in soup.find_all(True):
        if not isinstance(tag, Tag) or tag.decomposed:
            continue
        if is_hidden(tag.attrs, hiding_selectors, tag.name) or _unseen_on_a_white_page(tag):
            tag.decompose()
        elif tag.name in ("dialog", "details") and "open" not in tag.attrs:
            if tag.name == "dialog":
                tag.decompose()  # shown only when a script opens it
            else:  # a closed <details> shows its <summary> only
                summary = tag.find("summary", recursive=False)
                for child in list(tag.children):
                    if child is not summary:
                        child.extract()
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    text = soup.get_text()
    lines = [_SPACE.sub(" ", line).strip() for line in text.splitlines()]
    return _BLANK_LINES.sub("\n", "\n".join(line for line in lines if line)).strip()


# Class names the common CSS frameworks use to hide things (Bootstrap, Tailwind, WordPress, ...). The
# "-focusable" ones show only while focused from the keyboard (a page's skip links): a product
# description has none, and a shopper reading it never sees them.
_HIDING_CLASSES = frozenset(
    {
        "hidden",
        "d-none",
        "sr-only",
        "sr-only-focusable",
        "visually-hidden",
        "visually-hidden-focusable",
        "screen-reader-text",
        "invisible",
        "hide",
        "is-hidden",
    }
)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_CSS_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_LENGTH = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))\s*([a-z%]*)$")
# One compound selector: a tag, then #ids, .classes and [attribute] tests, in any order.
_COMPOUND = re.compile(r"(?P<tag>[a-z][a-z0-9-]*|\*)?(?P<parts>(?:[.#][a-z0-9_-]+|\[[^\]]+\])*)")
_PART = re.compile(
    r"([.#])([a-z0-9_-]+)|\[\s*([a-z0-9_:-]+)\s*(?:([~|^$*]?=)\s*(\"[^\"]*\"|'[^']*'|[^\]\s]+)\s*(i)?\s*)?\]"
)
# CSS lengths in pixels, for calc(): a font's em is taken as 16px, a percentage of it likewise.
_PIXELS = {
    "px": 1.0,
    "pt": 4 / 3,
    "pc": 16.0,
    "in": 96.0,
    "cm": 96 / 2.54,
    "mm": 96 / 25.4,
    "q": 96 / 101.6,
    "em": 16.0,
    "rem": 16.0,
    "ch": 8.0,
    "ex": 8.0,
    "%": 0.16,
    "": 1.0,
}


@dataclass(frozen=True)
class Selector:
    """The last compound selector of a <style> rule that hides what it selects: `span.x.y`,
    `[data-h]`, `p#x`. Its ancestors ("div .x") are not checked: hiding too much is the safe side."""

    tag: str | None
    ids: tuple[str, ...]
    classes: tuple[str, ...]
    # (attribute, operator or "", value): `[data-h]` is ("data-h", "", "").
    attributes: tuple[tuple[str, str, str], ...]

    def matches(self, name: str, attrs: Mapping[str, object]) -> bool:
        if self.tag not in (None, "*", name.lower()):
            return False
        if any(str(attrs.get("id", "")).strip().lower() != element_id for element_id in self.ids):
            return False
        if not set(self.classes) <= _classes(attrs):
            return False
        return all(_attribute_matches(attrs, *test) for test in self.attributes)


def is_hidden(attrs: Mapping[str, object], hiding_selectors: Iterable[Selector] = (), name: str = "") -> bool:
    """Whether an element's attributes hide it from a shopper's eyes.

    Covers the `hidden` attribute, aria-hidden, framework hiding classes, <style> rules whose
    selectors match the element (`hiding_selectors`: tags, classes, ids, attribute tests, compound),
    and inline styles (see `hides`). Any case, spacing, unit or !important.
    """
    if "hidden" in attrs:
        return True
    if str(attrs.get("aria-hidden", "")).strip().lower() == "true":
        return True
    if _classes(attrs) & _HIDING_CLASSES:
        return True
    if any(selector.matches(name, attrs) for selector in hiding_selectors):
        return True
    return hides(_declarations(str(attrs.get("style", ""))))


def hides(declarations: dict[str, str]) -> bool:
    """Whether CSS declarations (property -> value, lower case) make an element's text invisible:
    display:none, visibility:hidden|collapse, content-visibility:hidden, a zero or near-zero font
    size, opacity (also as `filter: opacity()`) or zoom (calc(), min() and clamp() worked out), zero
    size with overflow hidden, clipping to nothing, off-screen positioning or indent, scale(0), and
    text that is transparent (a named, hex, rgb() or hsl() colour with zero alpha) or the colour of
    its background."""
    d = declarations
    if d.get("display", "").startswith("none") or d.get("visibility", "") in ("hidden", "collapse"):
        return True
    if d.get("content-visibility", "").startswith("hidden"):
        return True
    if _tiny(d.get("font-size"), px=2.0, em=0.2, percent=20.0):
        return True
    if _tiny(d.get("opacity"), px=0.05, em=0.05, percent=5.0, unitless=0.05):
        return True
    faded = re.search(r"opacity\(\s*([^)\s]*)\s*\)", d.get("filter", ""))
    if faded and _tiny(faded.group(1) or "1", px=0.05, em=0.05, percent=5.0, unitless=0.05):
        return True
    if _tiny(d.get("zoom"), px=0.05, em=0.05, percent=5.0, unitless=0.05):
        return True
    overflow_hidden = any(d.get(p, "") in ("hidden", "clip") for p in ("overflow", "overflow-x", "overflow-y"))
    if overflow_hidden and any(
        _tiny(d.get(p), px=1.0, em=0.05, percent=1.0) for p in ("height", "max-height", "width", "max-width")
    ):
        return True
    if _clipped_away(d.get("clip", ""), d.get("clip-path", "")):
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
    if _transparent(color) or _transparent(d.get("-webkit-text-fill-color", "").replace(" ", "")):
        return True
    background = d.get("background-color", d.get("background", "")).replace(" ", "")
    if bool(color) and color == background:
        return True
    shade, ground = _rgb(color), _rgb(background)
    return shade is not None and shade == ground  # "white" on "#ffffff"


# Colour names, as red, green, blue: white and the near-white ones, and a few common others (so
# "black" on "#000" is caught too).
_NAMED_COLOURS = {
    "white": (255, 255, 255),
    "snow": (255, 250, 250),
    "ivory": (255, 255, 240),
    "ghostwhite": (248, 248, 255),
    "whitesmoke": (245, 245, 245),
    "floralwhite": (255, 250, 240),
    "seashell": (255, 245, 238),
    "mintcream": (245, 255, 250),
    "azure": (240, 255, 255),
    "aliceblue": (240, 248, 255),
    "honeydew": (240, 255, 240),
    "lavenderblush": (255, 240, 245),
    "linen": (250, 240, 230),
    "oldlace": (253, 245, 230),
    "black": (0, 0, 0),
    "red": (255, 0, 0),
    "blue": (0, 0, 255),
    "green": (0, 128, 0),
    "gray": (128, 128, 128),
    "grey": (128, 128, 128),
}
# A text colour this light (every channel) on the page's white is unreadable.
_NEAR_WHITE = 240


def _rgb(color: str) -> tuple[int, int, int] | None:
    """An opaque colour's red, green, blue: a name, #rgb, #rrggbb, rgb()/rgba() (numbers or
    percentages, commas or spaces) or hsl()/hsla(); None for anything else."""
    color = color.strip().lower()
    if color in _NAMED_COLOURS:
        return _NAMED_COLOURS[color]
    hexa = re.fullmatch(r"#([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})", color)
    if hexa:
        digits = hexa.group(1)
        if len(digits) in (3, 4):
            digits = "".join(c * 2 for c in digits)
        red, green, blue = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
        return red, green, blue
    function = re.fullmatch(r"(rgba?|hsla?)\((.*)\)", color)
    if not function:
        return None
    parts = [p for p in re.split(r"[\s,/]+", function.group(2).strip()) if p][:3]
    if len(parts) < 3:
        return None
    try:
        if function.group(1).startswith("rgb"):
            red, green, blue = (round(float(p[:-1]) * 2.55) if p.endswith("%") else round(float(p)) for p in parts)
            return red, green, blue
        hue = float(re.sub(r"deg$", "", parts[0])) / 360
        saturation, lightness = (float(p.rstrip("%")) / 100 for p in parts[1:])
    except ValueError:
        return None
    import colorsys

    red_f, green_f, blue_f = colorsys.hls_to_rgb(hue % 1, lightness, saturation)
    return round(red_f * 255), round(green_f * 255), round(blue_f * 255)


def _near_white(color: str) -> bool:
    rgb = _rgb(color)
    return rgb is not None and min(rgb) >= _NEAR_WHITE


def _unseen_on_a_white_page(tag: Any) -> bool:
    """White or near-white text (a style's colour, or <font color>) where neither the element nor an
    ancestor sets a background: on the white page a description is shown on, it cannot be read."""
    own = _declarations(str(tag.attrs.get("style", "")))
    color = own.get("color") or (str(tag.attrs.get("color", "")) if tag.name == "font" else "")
    if not color or not _near_white(color):
        return False
    for element in (tag, *tag.parents):
        attrs = getattr(element, "attrs", None) or {}
        style = _declarations(str(attrs.get("style", "")))
        if "bgcolor" in attrs or any(p in style for p in ("background", "background-color", "background-image")):
            return False
    return True


def _transparent(color: str) -> bool:
    """A colour with zero alpha: transparent, #rgba / #rrggbbaa ending in zero, rgba()/hsla() or the
    space syntax `rgb(0 0 0 / 0)` with alpha 0 or 0%."""
    if color == "transparent":
        return True
    if re.fullmatch(r"#[0-9a-f]{3}0|#[0-9a-f]{6}00", color):
        return True
    match = re.fullmatch(r"(?:rgba?|hsla?)\((.*)\)", color)
    if not match:
        return False
    inner = match.group(1)
    alpha = inner.rsplit("/", 1)[1] if "/" in inner else (inner.split(",")[3] if inner.count(",") == 3 else None)
    return alpha is not None and re.fullmatch(r"0*\.?0*%?", alpha) is not None and alpha not in ("", "%")


def _clipped_away(clip: str, clip_path: str) -> bool:
    """clip: rect() with no area left (`rect(0 0 0 0)`, the `rect(1px, 1px, 1px, 1px)` of sr-only),
    clip-path: inset() of half or more from opposite sides, or a circle/ellipse of radius zero."""
    rect = re.search(r"rect\(([^)]*)\)", clip)
    if rect:
        sides = [_pixels(side) for side in re.split(r"[\s,]+", rect.group(1).strip())]
        known = [side for side in sides if side is not None]
        if len(known) == 4:  # top, right, bottom, left: no height or no width left
            top, right, bottom, left = known
            if bottom <= top or right <= left:
                return True
    inset = re.search(r"inset\(([^)]*)\)", clip_path)
    if inset:
        values = re.split(r"\s+", inset.group(1).split(" round ")[0].strip())
        percents = [float(v[:-1]) if re.fullmatch(r"\d+(\.\d+)?%", v) else None for v in values]
        # inset(a), inset(a b), inset(a b c), inset(a b c d): top+bottom or left+right >= 100%.
        if len(percents) == 1:
            percents *= 4
        elif len(percents) == 2:
            percents *= 2
        elif len(percents) == 3:
            percents.append(percents[1])
        above, after, below, before = percents[:4]
        if (above is not None and below is not None and above + below >= 100) or (
            before is not None and after is not None and before + after >= 100
        ):
            return True
    return re.search(r"(circle|ellipse)\(\s*0[a-z%]*[\s)]", clip_path) is not None


# CSS escapes: a backslash and one to six hex digits (and one optional space) is that character, a
# backslash and anything else is that thing: "disp\\lay:none" is "display:none" to a browser.
_CSS_ESCAPE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})\s?|(.))", re.DOTALL)


def _css_unescaped(css: str) -> str:
    if "\\" not in css:
        return css

    def character(match: re.Match[str]) -> str:
        if match.group(1):
            code = int(match.group(1), 16)
            return chr(code) if 0 < code <= 0x10FFFF else "\ufffd"
        return match.group(2) if match.group(2) != "\n" else ""

    return _CSS_ESCAPE.sub(character, css)


def _declarations(style: str) -> dict[str, str]:
    result = {}
    for part in _CSS_COMMENT.sub(" ", _css_unescaped(style)).split(";"):
        name, sep, value = part.partition(":")
        if sep:
            value = re.sub(r"!\s*important", "", value, flags=re.IGNORECASE)
            result[name.strip().lower()] = " ".join(value.lower().split())
    return result


def _hiding_selectors(css: str) -> tuple[Selector, ...]:
    """The selectors of <style> rules that hide what they select (pseudo-classes such as :hover left
    out: they hide only sometimes)."""
    selectors = []
    for selector_list, body in _CSS_RULE.findall(_CSS_COMMENT.sub(" ", _css_unescaped(css))):
        if not hides(_declarations(body)):
            continue
        for selector in selector_list.lower().split(","):
            last = _last_compound(selector.strip())
            match = _COMPOUND.fullmatch(last) if last else None
            if match is None or not (match.group("tag") or match.group("parts")):
                continue
            ids, classes, attributes = [], [], []
            for mark, word, attribute, operator, value, _ in _PART.findall(match.group("parts")):
                if mark == "#":
                    ids.append(word)
                elif mark == ".":
                    classes.append(word)
                else:
                    attributes.append((attribute, operator, value.strip("'\"")))
            selectors.append(Selector(match.group("tag"), tuple(ids), tuple(classes), tuple(attributes)))
    return tuple(selectors)


def _last_compound(selector: str) -> str:
    """The compound selector after the last combinator (space, >, +, ~) outside [brackets]:
    "div > p.x[data-a~='b c']" -> "p.x[data-a~='b c']"."""
    depth = 0
    for index in range(len(selector) - 1, -1, -1):
        char = selector[index]
        depth += (char == "]") - (char == "[")
        if depth == 0 and (char.isspace() or char in ">+~"):
            return selector[index + 1 :]
    return selector


def _classes(attrs: Mapping[str, object]) -> set[str]:
    classes = attrs.get("class") or []
    return {str(c).lower() for c in (classes.split() if isinstance(classes, str) else classes)}  # type: ignore[attr-defined]


def _attribute_matches(attrs: Mapping[str, object], name: str, operator: str, expected: str) -> bool:
    if name not in attrs:
        return False
    raw = attrs[name]
    value = (" ".join(map(str, raw)) if isinstance(raw, list) else str(raw)).lower()
    expected = expected.lower()
    if operator == "":
        return True
    if operator == "=":
        return value == expected
    if operator == "~=":
        return expected in value.split()
    if operator == "|=":
        return value == expected or value.startswith(expected + "-")
    if operator == "^=":
        return bool(expected) and value.startswith(expected)
    if operator == "$=":
        return bool(expected) and value.endswith(expected)
    return bool(expected) and expected in value  # *=


def _pixels(value: str) -> float | None:
    """A CSS length in pixels, or a bound it cannot exceed: a plain length or calc()/min()/max()/
    clamp() of lengths; None when it cannot be worked out (viewport units, variables). Callers only
    ask whether it is at most some figure, which a bound answers."""
    value = value.strip()
    match = _LENGTH.match(value)
    if match:
        unit = match.group(2)
        return float(match.group(1)) * _PIXELS[unit] if unit in _PIXELS else None
    function = re.fullmatch(r"(calc|min|max|clamp)\((.*)\)", value)
    if not function:
        return None
    kind, inner = function.groups()
    if kind == "calc":
        return _arithmetic(inner)
    arguments = [_pixels(part) for part in _top_level_split(inner)]
    known = [a for a in arguments if a is not None]
    if kind == "min":
        return min(known) if known else None  # at most its smallest known argument
    if len(known) < len(arguments):
        if kind == "clamp" and len(arguments) == 3 and arguments[0] is not None and arguments[2] is not None:
            return max(arguments[0], arguments[2])  # clamp(lo, ?, hi) is at most max(lo, hi)
        return None
    if kind == "max":
        return max(known) if known else None
    return max(known[0], min(known[1], known[2])) if len(known) == 3 else None


def _top_level_split(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def _arithmetic(expression: str) -> float | None:
    """calc()'s arithmetic over lengths converted to pixels: + - * / and parentheses, nothing else."""
    numbers = re.sub(
        r"(\d+\.?\d*|\.\d+)\s*([a-z%]*)",
        lambda m: repr(float(m.group(1)) * _PIXELS[m.group(2)]) if m.group(2) in _PIXELS else "nan",
        expression.replace("calc(", "("),
    )
    if "nan" in numbers or not re.fullmatch(r"[\d.e+\-*/() ]*", numbers):
        return None
    import ast  # only for a calc(): most descriptions have none

    try:
        tree = ast.parse(numbers, mode="eval")
    except SyntaxError:
        return None
    return _evaluate(tree.body)


def _evaluate(node: Any) -> float | None:
    import ast

    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _evaluate(node.operand)
        return None if operand is None else (-operand if isinstance(node.op, ast.USub) else operand)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
        left, right = _evaluate(node.left), _evaluate(node.right)
        if left is None or right is None:
            return None
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        return left / right if right else None
    return None


def _tiny(value: str | None, *, px: float, em: float, percent: float, unitless: float = 0.0) -> bool:
    if not value:
        return False
    first = value if value.startswith(("calc(", "min(", "max(", "clamp(")) else value.split()[0]
    match = _LENGTH.match(first)
    if not match:
        pixels = _pixels(first)  # calc(0px), min(0px, 12px), clamp(0px, 0px, 0px)
        return pixels is not None and pixels < px
    number, unit = float(match.group(1)), match.group(2)
    limit = {"": unitless, "px": px, "pt": px, "em": em, "rem": em, "%": percent}.get(unit, 0.0)
    return number <= 0 or number < limit


def _far_off(value: str | None) -> bool:
    """At least 500px (or a whole box or viewport) to the left or top: out of sight."""
    if not value:
        return False
    first = value if value.startswith(("calc(", "min(", "max(", "clamp(")) else value.split()[0]
    match = _LENGTH.match(first)
    if match and match.group(2) in ("%", "vw", "vh", "vmin", "vmax"):
        return float(match.group(1)) <= -100
    pixels = _pixels(first)
    return pixels is not None and pixels <= -500


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
