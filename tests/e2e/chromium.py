"""Headless Chromium (Debian's `chromium` package, see local/install-test-browser.sh) driven over the
DevTools protocol with the `websockets` client: open a page, type, press Enter, click as a person does (a
real pointer press at the element's centre, refused when something covers it), evaluate."""

from __future__ import annotations

import base64
import itertools
import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
    "--remote-allow-origins=*",
]


# Where a person would press the element (its centre, once scrolled into view), or why they could not:
# elementFromPoint must hit the element itself or something inside it (a <span> in a button).
_CLICK_POINT = """(() => {
  const name = (e) => e ? e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
    + [...e.classList].map((c) => '.' + c).join('') : 'nothing';
  const element = document.querySelector(SELECTOR);
  if (!element) return {problem: 'nothing to click at ' + SELECTOR};
  element.scrollIntoView({block: 'center', inline: 'center', behavior: 'instant'});
  const box = element.getBoundingClientRect();
  if (!box.width || !box.height) return {problem: name(element) + ' has no box on the page (hidden?)'};
  const x = box.left + box.width / 2, y = box.top + box.height / 2;
  const hit = document.elementFromPoint(x, y);
  if (!hit || !(hit === element || element.contains(hit))) {
    return {problem: name(element) + ' is covered by ' + name(hit) + ' at its centre (' + Math.round(x) + ', '
      + Math.round(y) + ')'};
  }
  return {x, y};
})()"""


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError("Chromium is not installed: run local/install-test-browser.sh")


class Page:
    def __init__(self, websocket_url: str) -> None:
        from websockets.sync.client import connect

        self._socket = connect(websocket_url, max_size=None, open_timeout=30)
        self._socket.__enter__()  # the connection object itself, without the context-manager nesting
        self._ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []  # protocol events received while waiting for answers

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        message_id = next(self._ids)
        self._socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            answer = json.loads(self._socket.recv(timeout=30))
            if "method" in answer and "id" not in answer:
                self.events.append(answer)
            if answer.get("id") == message_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                result: dict[str, Any] = answer.get("result", {})
                return result

    def next_event(self, method: str, seconds: float = 30.0) -> dict[str, Any]:
        """The first protocol event named `method` (enable its domain first), received or still to come."""
        deadline = time.monotonic() + seconds
        while True:
            for index, event in enumerate(self.events):
                if event["method"] == method:
                    return self.events.pop(index)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {method} event within {seconds} s")
            try:
                message = json.loads(self._socket.recv(timeout=remaining))
            except TimeoutError:
                continue
            if "method" in message and "id" not in message:
                self.events.append(message)

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"page error: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, seconds: float = 30.0) -> Any:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.25)
        shown = self.evaluate("document.body ? document.body.innerText : ''")
        raise AssertionError(f"page never satisfied: {expression}\npage text:\n{shown}")

    def type_into(self, selector: str, text: str) -> None:
        self.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")
        self.call("Input.insertText", text=text)

    def press_enter(self) -> None:
        key = {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "nativeVirtualKeyCode": 13}
        self.call("Input.dispatchKeyEvent", type="keyDown", text="\r", **key)
        self.call("Input.dispatchKeyEvent", type="keyUp", **key)

    def press_tab(self) -> None:
        """Tab, as a keyboard user moves the focus on."""
        key = {"key": "Tab", "code": "Tab", "windowsVirtualKeyCode": 9, "nativeVirtualKeyCode": 9}
        self.call("Input.dispatchKeyEvent", type="keyDown", **key)
        self.call("Input.dispatchKeyEvent", type="keyUp", **key)

    def click(self, selector: str) -> None:
        """A person's click on the element: scrolled into view, then the left button pressed and released at
        its centre through the browser's input (Input.dispatchMouseEvent), so the page gets trusted pointer
        and click events. Fails, naming what is wrong, when a person could not press it there: no such
        element, no box (hidden), or another element on top of it."""
        where = self.evaluate(_CLICK_POINT.replace("SELECTOR", json.dumps(selector)))
        if where.get("problem"):
            raise AssertionError(f"cannot click {selector}: {where['problem']}")
        point = {"x": where["x"], "y": where["y"]}
        self.call("Input.dispatchMouseEvent", type="mouseMoved", **point)
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, button="left", buttons=1, clickCount=1, **point)

    def choose_files(self, selector: str, *paths: Path) -> None:
        """Pick files in an <input type=file>, as a person does in the file chooser (fires input and change)."""
        root = self.call("DOM.getDocument", depth=0)["root"]["nodeId"]
        node = self.call("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
        if not node:
            raise AssertionError(f"no file input at {selector}")
        self.call("DOM.setFileInputFiles", nodeId=node, files=[str(path) for path in paths])

    def set_viewport(self, width: int, height: int, *, mobile: bool = False) -> None:
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=mobile)

    def screenshot(self, path: Path) -> Path:
        """The visible page as PNG at `path`."""
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        self._socket.close()


class Chromium:
    def __init__(self, profile_dir: Path | None = None) -> None:
        self.profile_dir = profile_dir or Path(tempfile.mkdtemp(prefix="chromium-"))
        self.process: subprocess.Popen[str] | None = None
        self.port = 0
        self.pages: list[Page] = []

    def __enter__(self) -> Chromium:
        self.profile_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [chromium_binary(), *FLAGS, f"--user-data-dir={self.profile_dir}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stderr is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            found = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
            if found:
                self.port = int(found.group(1))
                return self
            if not line and self.process.poll() is not None:
                break
        self.__exit__(None, None, None)
        raise RuntimeError("Chromium did not start its DevTools endpoint")

    def open(self, url: str) -> Page:
        target = httpx.put(f"http://127.0.0.1:{self.port}/json/new?{url}", timeout=30).json()
        page = Page(target["webSocketDebuggerUrl"])
        self.pages.append(page)
        return page

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        for page in self.pages:
            page.close()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
