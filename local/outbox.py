"""Stands in for the Graph API (WhatsApp Cloud API, Messenger/Instagram Send API) and the Support Board
API when no real base URL is configured: answers as they do, records every request under the data
folder (outbox.jsonl) and prints what the bot would have sent."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlparse

from mostrador.observability import redact

GRAPH_PREFIX = "/graph/v21.0"
SUPPORT_BOARD_PATH = "/support-board/include/api.php"


class Outbox:
    def __init__(self, record_file: Path, printer: Callable[[str], None] = print, host: str = "127.0.0.1") -> None:
        self.record_file = record_file
        self.printer = printer
        self.host = host
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://{self.host}:{self._server.server_address[1]}"

    @property
    def graph_url(self) -> str:
        return self.base_url + GRAPH_PREFIX

    @property
    def support_board_url(self) -> str:
        return self.base_url + SUPPORT_BOARD_PATH

    def start(self) -> None:
        outbox = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, answer = outbox.handle(self.command, self.path, self.headers.get("Content-Type", ""), raw)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _answer

        self.record_file.parent.mkdir(parents=True, exist_ok=True)
        self._server = ThreadingHTTPServer((self.host, 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="outbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def handle(self, method: str, raw_path: str, content_type: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        parsed = urlparse(raw_path)
        payload: dict[str, Any]
        if "json" in content_type:
            try:
                loaded = json.loads(raw or b"{}")
                payload = loaded if isinstance(loaded, dict) else {"body": loaded}
            except json.JSONDecodeError:
                payload = {"raw": raw.decode("utf-8", "replace")}
        else:
            payload = dict(parse_qsl(raw.decode("utf-8", "replace"))) if raw else dict(parse_qsl(parsed.query))
        if parsed.path.startswith(SUPPORT_BOARD_PATH):
            platform, status, answer = "support_board", 200, _support_board_answer(payload)
        elif parsed.path.startswith(GRAPH_PREFIX):
            platform, status, answer = _graph_answer(method, parsed.path[len(GRAPH_PREFIX) :], payload)
        else:
            platform, status, answer = "unknown", 404, {"error": {"message": f"outbox: no API at {parsed.path}"}}
        entry = {
            "at": datetime.now(UTC).isoformat(),
            "platform": platform,
            "method": method,
            "path": parsed.path,
            "request": {k: v for k, v in payload.items() if k not in ("token", "access_token")},
            "status": status,
            "answer": answer,
        }
        with self._lock:
            self.requests.append(entry)
            with self.record_file.open("a", encoding="utf-8") as out:
                out.write(json.dumps(entry, ensure_ascii=False) + "\n")
        line = _describe(platform, method, payload)
        if line:
            self.printer(line)
        return status, answer


def _graph_answer(method: str, path: str, payload: dict[str, Any]) -> tuple[str, int, dict[str, Any]]:
    if method == "POST" and path.endswith("/messages"):
        if payload.get("messaging_product") == "whatsapp":
            to = str(payload.get("to", ""))
            wamid = "wamid.LOCAL" + uuid.uuid4().hex.upper()
            if payload.get("status") == "read":
                return "whatsapp", 200, {"success": True}
            return (
                "whatsapp",
                200,
                {
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": to, "wa_id": to}],
                    "messages": [{"id": wamid}],
                },
            )
        recipient = payload.get("recipient") or {}
        recipient_id = str(recipient.get("id", "")) if isinstance(recipient, dict) else ""
        return "messenger", 200, {"recipient_id": recipient_id, "message_id": "m_LOCAL" + uuid.uuid4().hex}
    return "graph", 200, {"success": True}


def _support_board_answer(payload: dict[str, Any]) -> dict[str, Any]:
    function = payload.get("function", "")
    if function == "send-message":
        return {"success": True, "response": {"id": uuid.uuid4().int % 10**8, "queue": False}}
    if function == "messenger-send-message":
        return {"success": True, "response": {"recipient_id": payload.get("psid", ""), "message_id": "m_LOCAL"}}
    if function == "get-user":
        return {"success": True, "response": {"id": payload.get("user_id", ""), "details": []}}
    if function == "get-conversation":
        return {"success": True, "response": {"messages": [], "details": {}}}
    return {"success": True, "response": True}


def _describe(platform: str, method: str, payload: dict[str, Any]) -> str | None:
    text: Any = None
    recipient: Any = None
    if platform == "whatsapp":
        text = (payload.get("text") or {}).get("body") if isinstance(payload.get("text"), dict) else None
        recipient = payload.get("to")
    elif platform == "messenger":
        message = payload.get("message") if isinstance(payload.get("message"), dict) else {}
        text = message.get("text") if message else None
        recipient = (payload.get("recipient") or {}).get("id") if isinstance(payload.get("recipient"), dict) else None
    elif platform == "support_board":
        if payload.get("function") == "update-conversation-agent":
            return f"[outbox] support_board: escalated conversation assigned to agent {payload.get('agent_id')}"
        if payload.get("function") not in ("send-message", "messenger-send-message"):
            return None
        text = payload.get("message")
        recipient = payload.get("conversation_id") or payload.get("psid")
    if text is None:
        return None if method == "GET" else f"[outbox] {platform} {method} (no text)"
    # Recipients are customer ids: tagged, never printed.
    return f"[outbox] {platform} → {redact(str(recipient or ''))}:\n    " + str(text).replace("\n", "\n    ")
