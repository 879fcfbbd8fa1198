"""What the console's browser tests (test_console_page.py, test_console_knowledge_page.py) share:
`mostrador local` stopped as a person stops it, the console opened in headless Chromium, an admin
signed in. No tests here."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.chromium import Chromium, Page
from tests.integration.test_local_stack import REPO, RunningStack, stop_stack

PHONE, DESKTOP = (390, 844), (1366, 900)
SCREENSHOTS = REPO / ".artifacts" / "console-screenshots"


def shut_down(stack: RunningStack) -> None:
    """Ctrl-C, as a person stops it (the stack stops its embedded PostgreSQL too); killed if that takes too long."""
    if stack.process.poll() is None:
        try:
            stop_stack(stack)
        except subprocess.TimeoutExpired:
            stack.process.kill()
            stack.process.wait()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    with Chromium(tmp_path_factory.mktemp("console-profile")) as chromium:
        yield chromium


@pytest.fixture(scope="module")
def page(stack: RunningStack, browser: Chromium) -> Page:
    """The console of the module's `stack` fixture, loaded at desktop width, not signed in."""
    opened = browser.open(f"{stack.url}/console")
    opened.set_viewport(*DESKTOP)
    opened.wait_for("document.readyState === 'complete' && !!document.getElementById('token')")
    return opened


def sign_in(page: Page, token: str, *, shown: str) -> None:
    """Signed in with `token` (once a tab: the console keeps it in sessionStorage), until the element with
    id `shown` is there."""
    if page.evaluate("!!sessionStorage.getItem('mostrador.console.token')"):
        return
    page.evaluate("document.getElementById('token').value = ''")
    page.type_into("#token", token)
    page.click(".signin-form button[type=submit]")
    page.wait_for(f"!document.getElementById('bar').hidden && !!document.getElementById({json.dumps(shown)})")


def signed_in_as(
    stack: RunningStack, browser: Chromium, admin_token: str, role: str, name: str, *, tenant: str | None = None
) -> Page:
    """A new console tab signed in with a real token of `role` for `tenant` (the default one unless named),
    made through the API by the operator (`admin_token`), as a person gets one."""
    made = httpx.post(
        f"{stack.url}/admin/tokens",
        json={"name": name, "role": role},
        headers={"Authorization": f"Bearer {admin_token}", **({"X-Tenant": tenant} if tenant else {})},
        timeout=30,
    )
    assert made.status_code == 200, made.text
    opened = browser.open(f"{stack.url}/console")
    opened.set_viewport(*DESKTOP)
    opened.wait_for("document.readyState === 'complete' && !!document.getElementById('token')")
    opened.type_into("#token", made.json()["secret"])
    opened.click(".signin-form button[type=submit]")
    opened.wait_for("!document.getElementById('bar').hidden && !!document.getElementById('nav-inbox')", 20)
    return opened


def go(page: Page, address: str, ready: str | None = None) -> None:
    """To `address` (a hash route), then until the JavaScript condition `ready` holds when one is given."""
    page.evaluate(f"location.hash = {json.dumps(address)}")
    if ready is not None:
        page.wait_for(ready, seconds=20)


def at_phone_and_desktop_widths(page: Page) -> Iterator[str]:
    """The page at phone width, then at desktop width (yields "phone", "desktop"); left at desktop width."""
    for label, (width, height) in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport(width, height, mobile=label == "phone")
        yield label
    page.set_viewport(*DESKTOP)


def screenshot(page: Page, name: str, *, clear_status: bool = True) -> Path:
    """The page once settled, saved as SCREENSHOTS/<name>.png; by default without a passing status notice."""
    if clear_status:
        page.evaluate("document.getElementById('status').textContent = ''")
    time.sleep(0.3)
    return page.screenshot(SCREENSHOTS / f"{name}.png")


def assert_fits_the_width(page: Page, width: int, where: str) -> None:
    """Nothing on the page is wider than the screen: no sideways scrolling (a phone's layout viewport would
    grow to the content's width, so the screen's own width bounds it too)."""
    scroll, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert scroll <= client <= width, f"{where}: the page is {scroll} px wide on a {width} px screen"


def fits_phone(page: Page, label: str, where: str) -> None:
    """At phone width (`label` from at_phone_and_desktop_widths), assert_fits_the_width."""
    if label == "phone":
        assert_fits_the_width(page, PHONE[0], where)


def assert_pictures(saved: list[Path]) -> None:
    for path in saved:
        assert path.stat().st_size > 5000 and path.read_bytes()[:4] == b"\x89PNG"
