"""`mostrador chat`: talk to the bot from a terminal through the web chat routes."""

from __future__ import annotations

import sys
import threading
import uuid
from typing import Any

import httpx


class WebChatClient:
    def __init__(
        self,
        url: str,
        conversation_id: str | None = None,
        http: httpx.Client | None = None,
        widget_key: str | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        # The shop's web chat widget key names its tenant (none: the tenant answering unclaimed ids).
        self.headers = {"X-Widget-Key": widget_key} if widget_key else {}
        self.conversation_id = conversation_id or uuid.uuid4().hex
        self.after = 0
        self.http = http or httpx.Client(timeout=30.0)

    def send(self, text: str) -> dict[str, Any]:
        response = self.http.post(
            f"{self.url}/webchat/messages",
            json={"conversationId": self.conversation_id, "text": text, "clientMessageId": uuid.uuid4().hex},
            headers=self.headers,
        )
        if response.status_code != 202:
            raise RuntimeError(f"HTTP {response.status_code}: {response.text[:300]}")
        answer: dict[str, Any] = response.json()
        return answer

    def new_messages(self) -> list[dict[str, Any]]:
        response = self.http.get(
            f"{self.url}/webchat/messages",
            params={"conversationId": self.conversation_id, "after": str(self.after)},
            headers=self.headers,
        )
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}: {response.text[:300]}")
        answer = response.json()
        self.after = int(answer.get("next", self.after))
        return list(answer.get("messages", []))


def run_chat(url: str, widget_key: str | None = None) -> int:
    client = WebChatClient(url, widget_key=widget_key)
    stop = threading.Event()
    print(f"Chatting with Mostrador at {url} (conversation {client.conversation_id}). Ctrl-D or /quit to leave.")

    def poll() -> None:
        while not stop.wait(0.7):
            try:
                for message in client.new_messages():
                    if message["from"] != "customer":
                        who = "bot" if message["from"] == "bot" else "agent"
                        print(f"\r{who}> " + message["text"].replace("\n", "\n     ") + "\nyou> ", end="", flush=True)
            except (httpx.HTTPError, RuntimeError) as error:
                print(f"\r(poll failed: {error})", file=sys.stderr)

    threading.Thread(target=poll, daemon=True).start()
    try:
        while True:
            try:
                text = input("you> ").strip()
            except EOFError:
                break
            if text in ("/quit", "/exit"):
                break
            if text:
                try:
                    client.send(text)
                except (httpx.HTTPError, RuntimeError) as error:
                    print(f"(not sent: {error})", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
    print()
    return 0
