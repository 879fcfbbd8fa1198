"""strip_html keeps only what a shopper sees: hidden text never becomes product text."""

from __future__ import annotations

import pytest

from mostrador.catalog.text import strip_html

HIDING = {
    "display none": '<span style="display:none">SECRET</span>',
    "display none, spaced, upper case, important": '<div style="DISPLAY : None !IMPORTANT">SECRET</div>',
    "visibility hidden": '<p style="color:red; visibility:hidden">SECRET</p>',
    "visibility collapse": '<span style="visibility: collapse">SECRET</span>',
    "font-size 0": '<span style="font-size:0">SECRET</span>',
    "font-size 0px": '<span style="font-size: 0px">SECRET</span>',
    "font-size 0.0em": '<span style="font-size:0.0EM">SECRET</span>',
    "font-size 0rem": '<span style="font-size:0rem;">SECRET</span>',
    "font-size 0%": '<span style="font-size:0%">SECRET</span>',
    "font-size 1px": '<span style="font-size:1px">SECRET</span>',
    "hidden attribute": "<span hidden>SECRET</span>",
    "hidden attribute with value": '<div hidden="hidden"><p>SECRET</p></div>',
    "aria-hidden": '<span aria-hidden="true">SECRET</span>',
    "aria-hidden upper case": '<span aria-hidden="TRUE">SECRET</span>',
    "opacity 0": '<span style="opacity:0">SECRET</span>',
    "opacity 0.0": '<span style="opacity: 0.0">SECRET</span>',
    "opacity 0%": '<span style="opacity:0%">SECRET</span>',
    "zero height overflow hidden": '<div style="height:0;overflow:hidden">SECRET</div>',
    "zero width overflow hidden": '<div style="width: 0px; overflow: hidden">SECRET</div>',
    "clip rect": '<span style="position:absolute;clip:rect(0,0,0,0)">SECRET</span>',
    "clip-path inset": '<span style="clip-path: inset(50%)">SECRET</span>',
    "off screen": '<div style="position:absolute; left:-9999px">SECRET</div>',
    "text-indent": '<div style="text-indent:-9999px">SECRET</div>',
    "scale 0": '<span style="transform: scale(0)">SECRET</span>',
    "transparent text": '<span style="color: transparent">SECRET</span>',
    "text colour of its background": '<span style="color:#FFF; background-color:#fff">SECRET</span>',
    "framework class": '<span class="d-none">SECRET</span>',
    "screen-reader class": '<span class="sr-only">SECRET</span>',
    "style rule on a class": "<style>.promo { display: none }</style><span class='promo'>SECRET</span>",
    "style rule on an id": "<style>p#x{font-size:0}</style><p id='x'>SECRET</p>",
    "nested in a hidden parent": '<div style="display:none"><p>outer <b>SECRET</b></p></div>',
    "css comment inside": '<span style="display:/* x */none">SECRET</span>',
}


@pytest.mark.parametrize("markup", HIDING.values(), ids=HIDING.keys())
def test_hidden_text_is_dropped(markup):
    text = strip_html(f"<div><p>Nevera Samsung de 380 litros.</p>{markup}<p>Garantía de un año.</p></div>")
    assert "SECRET" not in text
    assert text == "Nevera Samsung de 380 litros.\nGarantía de un año."


@pytest.mark.parametrize(
    "markup",
    [
        '<span style="font-size:14px">visible</span>',
        '<span style="opacity:0.9">visible</span>',
        '<span style="display:block; visibility:visible">visible</span>',
        '<span style="position:relative; left:-5px">visible</span>',
        '<span aria-hidden="false">visible</span>',
        '<span class="highlight">visible</span>',
        '<div style="height:0">visible</div>',  # overflow shows
        '<span style="color:#333; background-color:#fff">visible</span>',
    ],
)
def test_visible_text_is_kept(markup):
    assert "visible" in strip_html(markup)


def test_scripts_styles_comments_and_entities_as_before():
    html = "<p>Caf&eacute; <!-- note --><script>x()</script><style>p{color:red}</style>listo</p>"
    assert strip_html(html) == "Café listo"
