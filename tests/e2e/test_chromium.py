"""The browser driver the console's tests click with (tests/e2e/chromium.py): a click is a person's pointer
press and release at the element's centre, so a button that a person could not press (covered by another
element, hidden, without a box) fails the test with a message instead of being pressed from script."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.chromium import Chromium, Page

# A page built in place (no server needed): a button far below the fold, a button under an overlay, a
# hidden button and a button whose text is inside a <span>. Each counts its clicks and whether the
# browser marked them as a person's (isTrusted).
PAGE = """(() => {
  document.body.replaceChildren();
  document.body.style.margin = '0';
  const clicks = window.__clicks = {};
  function button(id, text, style) {
    const b = document.createElement('button');
    b.id = id;
    b.type = 'button';
    b.style.cssText = style || '';
    const span = document.createElement('span');
    span.textContent = text;
    b.append(span);
    b.addEventListener('click', (event) => { (clicks[id] = clicks[id] || []).push(event.isTrusted); });
    document.body.append(b);
    return b;
  }
  button('plain', 'Plain', 'display: block; margin: 20px; padding: 10px 30px;');
  button('covered', 'Covered', 'display: block; margin: 20px; padding: 10px 30px;');
  const veil = document.createElement('div');
  veil.id = 'veil';
  veil.className = 'overlay';
  const box = document.getElementById('covered').getBoundingClientRect();
  veil.style.cssText = `position: absolute; left: 0; top: ${box.top - 5}px; width: 100%; height: ${box.height + 10}px;`
    + ' background: rgba(0, 0, 0, .3);';
  document.body.append(veil);
  button('hidden', 'Hidden', 'display: none;');
  button('far', 'Far below', 'display: block; margin: 3000px 20px 20px; padding: 10px 30px;');
  return true;
})()"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    with Chromium(tmp_path_factory.mktemp("driver-profile")) as chromium:
        yield chromium


@pytest.fixture(params=["phone", "desktop"])
def page(browser: Chromium, request: pytest.FixtureRequest) -> Iterator[Page]:
    opened = browser.open("about:blank")
    if request.param == "phone":
        opened.set_viewport(390, 700, mobile=True)
    else:
        opened.set_viewport(1366, 900)
    opened.wait_for("document.readyState === 'complete'")
    assert opened.evaluate(PAGE) is True
    yield opened
    opened.call("Page.close")


def clicks(page: Page, button: str) -> list[bool]:
    return list(page.evaluate(f"window.__clicks[{button!r}] || []"))


def test_a_click_is_a_real_pointer_press_on_the_element(page: Page) -> None:
    page.click("#plain")
    assert clicks(page, "plain") == [True]  # isTrusted: the browser's own input, not element.click()


def test_an_element_below_the_fold_is_scrolled_to_and_pressed(page: Page) -> None:
    page.click("#far")
    assert clicks(page, "far") == [True]
    assert page.evaluate("window.scrollY") > 1000  # it started some 3000 px down, out of sight


def test_a_covered_element_is_not_pressed_and_the_failure_names_what_covers_it(page: Page) -> None:
    with pytest.raises(AssertionError, match=r"#covered.*covered by div#veil\.overlay"):
        page.click("#covered")
    assert clicks(page, "covered") == []


def test_a_hidden_element_is_not_pressed(page: Page) -> None:
    with pytest.raises(AssertionError, match=r"#hidden.*no box on the page"):
        page.click("#hidden")
    assert clicks(page, "hidden") == []


def test_a_missing_element_says_so(page: Page) -> None:
    with pytest.raises(AssertionError, match="nothing to click at #nowhere"):
        page.click("#nowhere")
