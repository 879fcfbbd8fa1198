"""What the console's browser tests (test_console_page.py, test_console_knowledge_page.py) share:
`mostrador local` stopped as a person stops it, the console opened in headless Chromium, an admin
signed in. No tests here."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import pytest

from tests.e2e.chromium import Chromium, Page
from tests.integration.test_local_stack import RunningStack, stop_stack

DESKTOP = (1366, 900)


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


def go(page: Page, address: str, ready: str | None = None) -> None:
    """To `address` (a hash route), then until the JavaScript condition `ready` holds when one is given."""
    page.evaluate(f"location.hash = {json.dumps(address)}")
    if ready is not None:
        page.wait_for(ready, seconds=20)
