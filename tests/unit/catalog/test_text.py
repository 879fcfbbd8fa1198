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


# What an audit found leaking, and their neighbours.
HIDING.update(
    {
        "content-visibility hidden": '<div style="content-visibility:hidden">SECRET</div>',
        "colour #rgba with zero alpha": '<span style="color:#0000">SECRET</span>',
        "colour #rrggbbaa with zero alpha": '<span style="color: #FFFFFF00">SECRET</span>',
        "colour transparent, upper case, important": '<span style="COLOR: Transparent !important">SECRET</span>',
        "rgba zero alpha, spaced": '<span style="color: rgba(10, 20, 30, 0)">SECRET</span>',
        "rgba zero percent alpha": '<span style="color:rgba(0,0,0,0%)">SECRET</span>',
        "rgb space syntax with / 0": '<span style="color: rgb(0 0 0 / 0)">SECRET</span>',
        "hsla zero alpha": '<span style="color:hsla(120, 100%, 50%, 0)">SECRET</span>',
        "hsl space syntax with / 0.0": '<span style="color: hsl(120deg 100% 50% / 0.0)">SECRET</span>',
        "webkit text fill transparent": '<span style="-webkit-text-fill-color: transparent">SECRET</span>',
        "font-size calc(0px)": '<span style="font-size:calc(0px)">SECRET</span>',
        "font-size calc arithmetic": '<span style="font-size: calc(12px - 12px)">SECRET</span>',
        "font-size calc times zero": '<span style="font-size:calc(1em * 0)">SECRET</span>',
        "font-size min()": '<span style="font-size:min(0px, 14px)">SECRET</span>',
        "font-size clamp()": '<span style="font-size:clamp(0px, 0vw, 0px)">SECRET</span>',
        "clip-path inset 100%": '<span style="clip-path: inset(100%)">SECRET</span>',
        "clip-path inset 50% 0": '<span style="clip-path:inset(50% 0)">SECRET</span>',
        "clip-path circle 0": '<span style="clip-path: circle(0)">SECRET</span>',
        "clip rect 0 0 0 0, absolute": '<span style="position:absolute; clip: rect(0 0 0 0)">SECRET</span>',
        "clip rect 1px (sr-only)": '<span style="position:absolute;clip:rect(1px, 1px, 1px, 1px)">SECRET</span>',
        "width 0 height 0 overflow hidden": '<div style="width:0;height:0;overflow:hidden">SECRET</div>',
        "text-indent -9999px": '<p style="text-indent: -9999px">SECRET</p>',
        "text-indent -100%": '<p style="text-indent:-100%">SECRET</p>',
        "absolute left -9999px": '<div style="position:absolute;left:-9999px">SECRET</div>',
        "fixed top -100vh": '<div style="position: fixed; top: -100vh">SECRET</div>',
        # <style> rules: compound, attribute, tag and descendant selectors.
        "compound class selector": "<style>span.x.y{display:none}</style><span class='y x z'>SECRET</span>",
        "attribute presence selector": "<style>[data-h]{display:none}</style><p data-h>SECRET</p>",
        "attribute value selector": '<style>div[data-role="note"]{visibility:hidden}</style>'
        '<div data-role="note">SECRET</div>',
        "attribute prefix selector": "<style>[class^=hid]{font-size:0}</style><span class='hid-1'>SECRET</span>",
        "attribute word selector": "<style>p [class~=x]{display:none}</style><span class='y x'>SECRET</span>",
        "attribute selector, spaced": '<style>[data-role = "a b"]{display:none}</style><em data-role="a b">SECRET</em>',
        "descendant selector": "<style>div .inner > b.s{opacity:0}</style><b class='s'>SECRET</b>",
        "tag selector": "<style>small{display:none}</style><small>SECRET</small>",
        "rule in a media block": "<style>@media all { .m { color: transparent } }</style><i class='m'>SECRET</i>",
        "rule with content-visibility": "<style>.cv{content-visibility:hidden}</style><div class='cv'>SECRET</div>",
        "rule with calc font size": "<style>#f{font-size:calc(0px)}</style><p id='F'>SECRET</p>",
        "rule with zero box": "<style>.z{width:0;height:0;overflow:hidden}</style><div class='z'>SECRET</div>",
        "rule with off-screen": "<style>.o{position:absolute;left:-9999px}</style><div class='o'>SECRET</div>",
        "rule with text-indent": "<style>.t{text-indent:-9999px}</style><h2 class='t'>SECRET</h2>",
    }
)

# What a second audit found leaking.
HIDING.update(
    {
        "dialog not open": "<dialog>SECRET</dialog>",
        "CDATA section": "<![CDATA[SECRET]]>",
        "processing instruction": "<?SECRET?>",
        "filter opacity(0)": '<span style="filter:opacity(0)">SECRET</span>',
        "filter opacity 0% after another filter": '<span style="filter: blur(0px) opacity(0%)">SECRET</span>',
        "zoom near zero": '<span style="zoom:0.01">SECRET</span>',
        "white text, no background": '<span style="color:#fff">SECRET</span>',
        "white text by name": '<span style="color: White">SECRET</span>',
        "near-white hex": '<span style="color:#FAFAFA">SECRET</span>',
        "near-white rgb": '<span style="color: rgb(250, 250, 250)">SECRET</span>',
        "near-white hsl": '<span style="color:hsl(0 0% 98%)">SECRET</span>',
        "near-white name": '<span style="color:whitesmoke">SECRET</span>',
        "font colour white": '<font color="#ffffff">SECRET</font>',
        "font colour white by name": "<font color=white>SECRET</font>",
        "white named on white hex": '<span style="color:white;background:#ffffff">SECRET</span>',
        "black named on black hex": '<span style="color:black;background-color:#000">SECRET</span>',
        "css escape in a property": '<span style="disp\\lay:none">SECRET</span>',
        "css hex escape in a value": '<span style="display:\\6e one">SECRET</span>',
        "css escape in a style rule": "<style>.x{vi\\sibility:hidden}</style><span class='x'>SECRET</span>",
        # Shown only while focused from the keyboard (skip links): never to a shopper reading a description.
        "visually-hidden-focusable class": '<a class="visually-hidden-focusable" href="#">SECRET</a>',
        "sr-only-focusable class": '<span class="sr-only sr-only-focusable">SECRET</span>',
    }
)


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
        # Look-alikes of the hiding styles above.
        '<span style="font-size:11pt">visible</span>',
        '<span style="font-size:calc(1em + 2px)">visible</span>',
        '<span style="font-size:clamp(12px, 2vw, 18px)">visible</span>',
        '<span style="visibility:visible">visible</span>',
        '<span style="content-visibility:auto">visible</span>',
        '<span style="display:block">visible</span>',
        '<span style="color:#000">visible</span>',
        '<span style="color:#0000ff">visible</span>',
        '<span style="color:#00000080">visible</span>',
        '<span style="color:rgba(0,0,0,0.8)">visible</span>',
        '<span style="color:rgb(0 0 0 / 50%)">visible</span>',
        '<span style="color:hsla(0,0%,0%,1)">visible</span>',
        '<span style="clip-path: inset(10%)">visible</span>',
        '<span style="position:absolute; clip: rect(0px, 200px, 40px, 0px)">visible</span>',
        '<div style="width:0">visible</div>',  # no overflow:hidden: the text spills out, readable
        '<p style="text-indent:2em">visible</p>',
        '<div style="position:absolute;left:10px">visible</div>',
        "<style>span.x.y{display:none}</style><span class='x'>visible</span>",  # one class of two
        "<style>[data-h]{display:none}</style><p data-k>visible</p>",
        "<style>a:hover{display:none}</style><a>visible</a>",  # hidden only while hovered
        "<style>div span{display:none}</style><p>visible</p>",
        # Look-alikes of the second audit's hiding.
        "<dialog open>visible</dialog>",
        "<details open><summary>more</summary>visible</details>",
        '<span style="filter:opacity(0.9)">visible</span>',
        '<span style="filter:blur(1px)">visible</span>',
        '<span style="zoom:1.2">visible</span>',
        '<span style="color:#ddd">visible</span>',  # light grey, still read
        '<span style="color:#fff; background-color:#c00">visible</span>',  # white on red
        '<div style="background:#000"><p><span style="color:white">visible</span></p></div>',  # on a dark parent
        '<table bgcolor="#333"><tr><td><font color="#ffffff">visible</font></td></tr></table>',
        '<font color="#333333">visible</font>',
        '<font size="0">visible</font>',  # browsers show size 0 as size 1
        '<span style="content:\\201C">visible</span>',  # an escape that hides nothing
        '<span class="focusable">visible</span>',
    ],
)
def test_visible_text_is_kept(markup):
    assert "visible" in strip_html(markup)


def test_a_closed_details_shows_only_its_summary():
    html = "<p>Nevera.</p><details><summary>Ver más</summary><p>SECRET</p></details><details open>abierto</details>"
    assert strip_html(html) == "Nevera.\nVer más\nabierto"


def test_scripts_styles_comments_and_entities_as_before():
    html = "<p>Caf&eacute; <!-- note --><script>x()</script><style>p{color:red}</style>listo</p>"
    assert strip_html(html) == "Café listo"
