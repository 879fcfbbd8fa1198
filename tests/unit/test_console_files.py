"""The console's own files (functions/admin/console/): what the page may never do, and its two languages."""

from __future__ import annotations

import math
import re
from pathlib import Path

CONSOLE = Path(__file__).resolve().parents[2] / "functions" / "admin" / "console"
SCRIPTS = sorted(CONSOLE.glob("*.js"))


def test_no_script_ever_turns_text_into_html_or_code():
    # Customer text is shown with textContent / text nodes only (dom.js); this keeps it so.
    forbidden = re.compile(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|DOMParser")
    assert SCRIPTS
    for script in SCRIPTS:
        found = [
            line
            for line in script.read_text().splitlines()
            if forbidden.search(line) and "keeps it that way" not in line
        ]
        assert not found, (script.name, found)


def test_nothing_is_loaded_from_another_origin():
    for path in CONSOLE.iterdir():
        text = path.read_text()
        assert not re.search(r"(src|href)=\"(https?:)?//", text), path.name
        assert not re.search(r"import[^;]*from\s+['\"](https?:)?//", text), path.name
        assert "cdn" not in text.lower(), path.name


def _strings(language: str) -> set[str]:
    source = (CONSOLE / "i18n.js").read_text()
    block = re.search(rf"\n  {language}: \{{\n(.*?)\n  \}},", source, re.S)
    assert block, language
    return set(re.findall(r"^\s+'([\w.]+)':", block.group(1), re.M))


def test_spanish_and_english_have_the_same_words_and_every_key_the_scripts_use_exists():
    spanish, english = _strings("es"), _strings("en")
    assert spanish == english, spanish ^ english
    used = set()
    for script in SCRIPTS:
        used |= set(re.findall(r"\bt\('([\w.]+)'", script.read_text()))
    # Keys built at run time (`channel.${...}`) fall back to the raw value; literal ones must exist.
    assert used - spanish == set()
    for prefix in ("state.", "channel.", "actor.", "source.", "window.closed.", "status."):
        assert any(key.startswith(prefix) for key in spanish), prefix


def test_the_page_is_only_html_javascript_and_css():
    assert {path.suffix for path in CONSOLE.iterdir()} <= {".html", ".js", ".css"}
    index = (CONSOLE / "index.html").read_text()
    assert '<script type="module" src="console/app.js"></script>' in index
    assert "<script>" not in index and " style=" not in index  # the content policy forbids inline code and style


def test_every_knowledge_word_the_page_names_exists_in_both_languages():
    # Keys chosen at run time (`t(cond ? 'a' : 'b')`, the upload refusals' table) escape the check above.
    named = set()
    for script in SCRIPTS:
        named |= set(re.findall(r"'(knowledge\.[\w.]+)'", script.read_text()))
    assert named and named - _strings("es") == set() and named - _strings("en") == set()


def test_the_upload_form_accepts_what_the_api_accepts():
    from mostrador.knowledge.formats import FORMATS, MAX_DOCUMENT_BYTES

    source = (CONSOLE / "knowledge.js").read_text()
    accepted = re.search(r"const ACCEPTED = \[([^\]]*)\];", source)
    limit = re.search(r"const MAX_BYTES = ([\d\s*]+);", source)
    assert accepted and limit
    assert sorted(re.findall(r"'([^']+)'", accepted.group(1))) == sorted(FORMATS)
    assert math.prod(int(factor) for factor in limit.group(1).split("*")) == MAX_DOCUMENT_BYTES


def _luminance(colour: str) -> float:
    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.03928 else ((channel + 0.055) / 1.055) ** 2.4

    red, green, blue = (int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def _contrast(one: str, other: str) -> float:
    light, dark = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_focus_rings_and_chart_colours_stand_out_from_what_is_behind_them():
    """WCAG 1.4.11: a focus indicator and the parts of a chart need 3:1 against their background."""
    css = (CONSOLE / "console.css").read_text()
    variables = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", css))
    header = re.search(r"\.bar \{[^}]*background: var\(--(\w+)\)", css)
    header_ring = re.search(r"\.bar :focus-visible \{ outline-color: (#[0-9a-fA-F]{6}); \}", css)
    assert header and header_ring, "the header's background and its own focus ring"
    assert _contrast(header_ring.group(1), variables[header.group(1)]) >= 3
    assert _contrast(variables["focus"], "#ffffff") >= 3 and _contrast(variables["focus"], variables["bg"]) >= 3
    bars = re.findall(r"\.chart svg \.bar\.(\w+), \.legend \.\w+::before \{ fill: (#[0-9a-fA-F]{6})", css)
    assert {name for name, _ in bars} >= {"inbound", "outbound", "open", "resolved", "processed", "unchanged"}
    for name, colour in bars:
        assert _contrast(colour, "#ffffff") >= 3, (name, colour, round(_contrast(colour, "#ffffff"), 2))


def test_the_escalation_reason_the_page_leaves_to_its_label_is_the_one_the_toolbox_stores():
    """labels.js shows a `tool` escalation's reason (the model's own words) except the fixed English phrase the
    toolbox stores when the model gave none; that phrase must be the one the page names."""
    from mostrador.conversations.toolbox import ReplyToolbox
    from mostrador.llm.base import ToolCall
    from mostrador.llm.tools import ESCALATE_TO_HUMAN

    stored: list[str] = []
    toolbox = ReplyToolbox(catalog=None, tenant_id="t", escalate=lambda reason: stored.append(reason) or 1)  # type: ignore[arg-type]
    toolbox.run(ToolCall(id="call-1", name=ESCALATE_TO_HUMAN.name, arguments={}))
    assert len(stored) == 1
    assert f"const MODEL_GAVE_NO_REASON = '{stored[0]}';" in (CONSOLE / "labels.js").read_text()


def test_every_escalation_source_the_pipeline_opens_has_a_name_in_both_languages():
    # The sources conversations/reply.py opens escalations with (the last argument of each call, or of the
    # (reason, source) pairs it hands over); a source without a name would show its English reason.
    reply = (Path(__file__).resolve().parents[2] / "layers/shared/python/mostrador/conversations/reply.py").read_text()
    sources = set(re.findall(r'_open_escalation\([^)]*"(\w+)"\)', reply))
    sources |= set(re.findall(r'handoff = \("[^"]+", "(\w+)"\)', reply))
    assert {"customer_request", "tool", "no_results", "promised_in_reply", "token_budget"} <= sources
    for language in ("es", "en"):
        assert {f"source.{source}" for source in sources} <= _strings(language), language
