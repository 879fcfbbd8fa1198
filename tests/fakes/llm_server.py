"""A fake OpenAI + Gemini HTTP server on 127.0.0.1 that the real `openai` and `google-genai` SDKs talk to.

Use it through the function-scoped pytest fixture `llm_server`, available to every test because
tests/conftest.py registers this module (`pytest_plugins = ["tests.fakes.llm_server", ...]`):

    def test_something(llm_server, monkeypatch):
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        monkeypatch.setenv("OPENAI_BASE_URL", llm_server.openai_base_url)
        monkeypatch.setenv("GEMINI_API_KEY", "test-key")
        monkeypatch.setenv("GEMINI_BASE_URL", llm_server.gemini_base_url)

Outside pytest fixtures (benchmarks, scripts) use `with running_llm_server() as server: ...`.

API of the yielded `FakeLLMServer` (stable, other rooms depend on it):

* `openai_base_url` ("http://127.0.0.1:<port>/v1") and `gemini_base_url` ("http://127.0.0.1:<port>").
* Routes: OpenAI `POST /v1/chat/completions`, `POST /v1/embeddings` (float or base64 encoding);
  Gemini `POST /<version>/models/<model>:generateContent`, `:batchEmbedContents`, `:embedContent`
  (any version prefix: the installed SDK uses /v1, older ones /v1beta).
* `requests`: every request received, in order, as `RecordedRequest(api, kind, path, body, headers, status)`;
  `api` is "openai" or "gemini", `kind` is "chat", "summary" or "embedding", `status` what was answered.
* Counters (every HTTP request, failed ones included): `calls(kind, api=None)`, and the shortcuts
  `chat_calls`, `summary_calls`, `embedding_calls`. `embedded_texts` lists every text embedded.
  A "summary" is a chat call whose system prompt is mostrador.llm.SUMMARY_INSTRUCTIONS.
* Failure injection: `fail_next(status, times=1)` fails the next `times` requests of any kind;
  `fail_when(substring, status, times=None)` fails requests whose path or raw body contains
  `substring` (`times=None`: for ever). Failures carry an API-shaped error body and a tiny
  Retry-After so the SDKs' retries are fast.
* `script_chat([...])` queues replies for chat calls (both APIs share the queue; summaries never
  consume it). Each item is a str (text reply) or a dict
  `{"text": str, "tool_calls": [{"name": str, "arguments": dict | str, "id": str}]}`; a str `arguments`
  is sent verbatim to OpenAI (e.g. malformed JSON); `id` (optional) is sent by Gemini, which
  otherwise sends none, as the real API mostly does; OpenAI ids are always "call_fake_<n>". An item may
  also carry `"usage": {"prompt_tokens": int, "completion_tokens": int}`: the OpenAI answer reports those
  counts (otherwise words of the prompt and of the reply), so a test knows the tokens the pipeline records.
  Unscripted chat calls answer "Fake reply from <api>.".
* Summaries are deterministic: "Summary: " + the first 20 words of the product text, unless
  `script_summaries([...])` queued texts (each summary call takes the next one; a model that obeyed
  a planted instruction, say).
* Embeddings are deterministic and meaningful: a normalized bag-of-concepts vector of the requested
  dimensionality (OpenAI `dimensions`, Gemini `outputDimensionality`; 1536 when absent). Each token
  (lowercased, accents folded, stop words dropped, a trailing plural s/es tried off) maps through
  `concepts` (word -> concept name; extend it per test, e.g. `llm_server.concepts["sofa"] = "couch"`)
  or else stands for itself, and each concept hashes to one dimension. So "fridge" and a text saying
  "nevera" point the same way. `vector_for(text, dimensions)` computes the same vector in-process.
* Voice notes and photos: OpenAI `POST /v1/audio/transcriptions` (multipart, kind "transcription"),
  OpenAI chat calls carrying an `image_url` part (kind "vision"), Gemini `generateContent` calls carrying
  `inlineData` (kind "transcription" for audio/*, "vision" for image/*). Answers are looked up by the
  file's bytes: `add_transcript(audio_bytes, text)`, `add_image_description(image_bytes, text)`;
  unknown files answer "Fake transcript." / "Fake photo description.". Neither consumes `script_chat`.
* `hold_chat()` makes chat calls wait until `release_chat()`; `chat_arrived` (a threading.Event) is set
  when a chat call comes in, so a test can act while a reply is being generated.
* `reset()` forgets requests, scripts and failures.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import json
import math
import re
import struct
import threading
import unicodedata
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from mostrador.llm import PRODUCT_CLOSE, PRODUCT_OPEN, SUMMARY_INSTRUCTIONS

DEFAULT_DIMENSIONS = 1536
SUMMARY_WORDS = 20
_SUMMARY_MARKER = SUMMARY_INSTRUCTIONS.splitlines()[0]

DEFAULT_CONCEPTS: dict[str, str] = {
    **dict.fromkeys(["nevera", "refrigerador", "refrigeradora", "fridge", "refrigerator", "heladera"], "fridge"),
    **dict.fromkeys(["congelador", "freezer"], "freezer"),
    **dict.fromkeys(["lavadora", "washer", "washing", "lavarropas"], "washer"),
    **dict.fromkeys(["secadora", "dryer"], "dryer"),
    **dict.fromkeys(["televisor", "tv", "television", "televisión", "pantalla", "screen", "smarttv"], "tv"),
    **dict.fromkeys(["telefono", "celular", "phone", "smartphone", "movil", "mobile", "cellphone"], "phone"),
    **dict.fromkeys(["portatil", "laptop", "notebook", "computadora", "computer", "pc"], "laptop"),
    **dict.fromkeys(["aire", "acondicionado", "ac", "conditioner", "conditioning", "split"], "air_conditioner"),
    **dict.fromkeys(["cocina", "estufa", "stove", "cooker", "range"], "stove"),
    **dict.fromkeys(["microondas", "microwave"], "microwave"),
    **dict.fromkeys(["licuadora", "blender"], "blender"),
    **dict.fromkeys(["ventilador", "fan"], "fan"),
    **dict.fromkeys(["colchon", "mattress"], "mattress"),
    **dict.fromkeys(["audifonos", "auriculares", "headphones", "earphones", "earbuds"], "headphones"),
    **dict.fromkeys(["barato", "barata", "economico", "economica", "cheap", "affordable", "budget"], "cheap"),
}

# Words that carry no product meaning; left in, they would make every question look alike.
STOP_WORDS = frozenset(
    """a al con de del el en es la las lo los o para por que se su sus un una uno y me mi tu tienen tiene
    hay busco quiero necesito the an and of for to in on with is are i my you your do does have has any
    want need looking""".split()  # noqa: SIM905 (a word list reads better as text)
)


@dataclass(frozen=True)
class RecordedRequest:
    api: str
    kind: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    status: int


@dataclass
class _Failure:
    status: int
    remaining: int | None
    substring: str | None = None


class FakeLLMServer:
    def __init__(self) -> None:
        self.concepts: dict[str, str] = dict(DEFAULT_CONCEPTS)
        self.requests: list[RecordedRequest] = []
        self.embedded_texts: list[str] = []
        self._scripted: deque[dict[str, Any]] = deque()
        self._scripted_summaries: deque[str] = deque()
        self._failures: list[_Failure] = []
        self.transcripts: dict[str, str] = {}
        self.image_descriptions: dict[str, str] = {}
        # Gemini's finishReason for a file's answer (default STOP): "SAFETY", "MAX_TOKENS"...
        self.media_finish_reasons: dict[str, str] = {}
        self.chat_arrived = threading.Event()
        self._chat_gate: threading.Event | None = None
        self._lock = threading.Lock()
        self._counter = 0
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-llm-server", daemon=True
        )
        port = self._httpd.server_address[1]
        self.openai_base_url = f"http://127.0.0.1:{port}/v1"
        self.gemini_base_url = f"http://127.0.0.1:{port}"

    # lifecycle

    def start(self) -> FakeLLMServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.embedded_texts.clear()
            self._scripted.clear()
            self._scripted_summaries.clear()
            self._failures.clear()

    # test controls

    def fail_next(self, status: int, times: int = 1) -> None:
        with self._lock:
            self._failures.append(_Failure(status=status, remaining=times))

    def fail_when(self, substring: str, status: int, times: int | None = None) -> None:
        with self._lock:
            self._failures.append(_Failure(status=status, remaining=times, substring=substring))

    def script_chat(self, replies: list[str | dict[str, Any]]) -> None:
        with self._lock:
            for reply in replies:
                self._scripted.append({"text": reply} if isinstance(reply, str) else dict(reply))

    def add_transcript(self, audio: bytes, text: str, *, finish_reason: str = "STOP") -> None:
        """`text` "" is a silent voice note; Gemini answers it with `finish_reason` (another than STOP: an
        answer cut short or blocked)."""
        self.transcripts[hashlib.sha256(audio).hexdigest()] = text
        self.media_finish_reasons[hashlib.sha256(audio).hexdigest()] = finish_reason

    def add_image_description(self, image: bytes, text: str) -> None:
        self.image_descriptions[hashlib.sha256(image).hexdigest()] = text

    def hold_chat(self) -> None:
        self.chat_arrived.clear()
        self._chat_gate = threading.Event()

    def release_chat(self) -> None:
        gate, self._chat_gate = self._chat_gate, None
        if gate is not None:
            gate.set()

    def script_summaries(self, texts: list[str]) -> None:
        with self._lock:
            self._scripted_summaries.extend(texts)

    def calls(self, kind: str, api: str | None = None) -> int:
        return sum(1 for request in self.requests if request.kind == kind and (api is None or request.api == api))

    @property
    def chat_calls(self) -> int:
        return self.calls("chat")

    @property
    def summary_calls(self) -> int:
        return self.calls("summary")

    @property
    def embedding_calls(self) -> int:
        return self.calls("embedding")

    # embeddings

    def vector_for(self, text: str, dimensions: int = DEFAULT_DIMENSIONS) -> list[float]:
        vector = [0.0] * dimensions
        for concept in self._concepts_of(text):
            digest = hashlib.blake2b(concept.encode(), digest_size=8).digest()
            vector[int.from_bytes(digest, "big") % dimensions] += 1.0
        norm = math.sqrt(sum(value * value for value in vector))
        if not norm:
            # An empty text still gets a valid unit vector, like a real model would give.
            vector[0] = 1.0
            return vector
        return [value / norm for value in vector]

    def _concepts_of(self, text: str) -> Iterator[str]:
        folded = unicodedata.normalize("NFKD", text.lower())
        folded = "".join(char for char in folded if not unicodedata.combining(char))
        concepts = {_fold(word): concept for word, concept in self.concepts.items()}
        for token in re.findall(r"[a-z0-9]+", folded):
            if token in STOP_WORDS:
                continue
            for candidate in (
                token,
                token[:-2] if token.endswith("es") else "",
                token[:-1] if token.endswith("s") else "",
            ):
                if candidate and candidate in concepts:
                    yield "concept:" + concepts[candidate]
                    break
            else:
                yield "word:" + (token[:-1] if len(token) > 3 and token.endswith("s") else token)

    # request handling (called from the HTTP thread)

    def _handle(self, path: str, raw: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any], dict[str, str]]:
        if path.split("?", 1)[0].endswith("/audio/transcriptions"):
            body = _multipart(raw, headers.get("content-type", ""))
            api, kind = "openai", "transcription"
        else:
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                return 400, {"error": {"message": "body is not JSON"}}, {}
            api, kind = _classify(path, body)
        if kind == "chat":
            self.chat_arrived.set()
            gate = self._chat_gate
            if gate is not None:
                gate.wait(timeout=30)
        with self._lock:
            failure = self._take_failure(path, raw)
        if failure is not None:
            status = failure.status
            payload = _error_body(api, status)
            extra = {"retry-after-ms": "5", "retry-after": "0"}
        elif api == "unknown":
            status, payload, extra = 404, {"error": {"message": f"no fake route for {path}"}}, {}
        else:
            status, extra = 200, {}
            payload = self._answer(api, kind, path, body)
        with self._lock:
            self.requests.append(RecordedRequest(api, kind, path, body, headers, status))
        return status, payload, extra

    def _take_failure(self, path: str, raw: bytes) -> _Failure | None:
        for failure in self._failures:
            if (
                failure.substring is not None
                and failure.substring not in path
                and failure.substring.encode() not in raw
            ):
                continue
            if failure.remaining is not None:
                failure.remaining -= 1
                if failure.remaining <= 0:
                    self._failures.remove(failure)
            return failure
        return None

    def _answer(self, api: str, kind: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        if kind == "transcription" and api == "openai":
            text = self.transcripts.get(body.get("file_sha256", ""), "Fake transcript.")
            words = len(text.split())
            return {
                "text": text,
                "usage": {"type": "tokens", "input_tokens": 50, "output_tokens": words, "total_tokens": 50 + words},
            }
        if kind == "vision" and api == "openai":
            return self._openai_text_reply(
                body, self.image_descriptions.get(_openai_image_sha(body), "Fake photo description.")
            )
        if kind in ("transcription", "vision"):
            table = self.transcripts if kind == "transcription" else self.image_descriptions
            default = "Fake transcript." if kind == "transcription" else "Fake photo description."
            text = table.get(_gemini_inline_sha(body), default)
            finish = self.media_finish_reasons.get(_gemini_inline_sha(body), "STOP")
            return {
                "candidates": [
                    {"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": finish, "index": 0}
                ],
                "usageMetadata": {
                    "promptTokenCount": 300,
                    "candidatesTokenCount": len(text.split()),
                    "totalTokenCount": 300,
                },
                "modelVersion": "fake",
            }
        if api == "openai":
            if kind == "embedding":
                return self._openai_embeddings(body)
            return self._openai_chat(kind, body)
        if kind == "embedding":
            return self._gemini_embeddings(path, body)
        return self._gemini_generate(kind, body)

    def _reply_for(self, kind: str, prompt: str, api: str) -> dict[str, Any]:
        if kind == "summary":
            with self._lock:
                if self._scripted_summaries:
                    return {"text": self._scripted_summaries.popleft()}
            return {"text": _fake_summary(prompt)}
        with self._lock:
            if self._scripted:
                return self._scripted.popleft()
        return {"text": f"Fake reply from {api}."}

    def _next_id(self) -> int:
        with self._lock:
            self._counter += 1
            return self._counter

    def _openai_chat(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        messages = body.get("messages") or []
        user_text = "\n".join(_text_of(m.get("content")) for m in messages if m.get("role") == "user")
        reply = self._reply_for(kind, user_text, "openai")
        tool_calls = [
            {
                "id": f"call_fake_{self._next_id()}",
                "type": "function",
                "function": {
                    "name": call["name"],
                    "arguments": call["arguments"]
                    if isinstance(call.get("arguments"), str)
                    else json.dumps(call.get("arguments") or {}),
                },
            }
            for call in reply.get("tool_calls") or []
        ]
        message: dict[str, Any] = {"role": "assistant", "content": reply.get("text") or None, "refusal": None}
        if tool_calls:
            message["tool_calls"] = tool_calls
        prompt_tokens = sum(len(_text_of(m.get("content")).split()) for m in messages)
        completion_tokens = len((reply.get("text") or "").split()) + 5 * len(tool_calls)
        if reply.get("usage"):  # the counts a test scripted
            prompt_tokens = int(reply["usage"]["prompt_tokens"])
            completion_tokens = int(reply["usage"]["completion_tokens"])
        return {
            "id": f"chatcmpl-fake-{self._next_id()}",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": body.get("model", "fake"),
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if tool_calls else "stop",
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    def _openai_text_reply(self, body: dict[str, Any], text: str) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-fake-{self._next_id()}",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": body.get("model", "fake"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
            "usage": {"prompt_tokens": 100, "completion_tokens": len(text.split()), "total_tokens": 100},
        }

    def _openai_embeddings(self, body: dict[str, Any]) -> dict[str, Any]:
        texts = body.get("input")
        texts = [texts] if isinstance(texts, str) else list(texts or [])
        dimensions = int(body.get("dimensions") or DEFAULT_DIMENSIONS)
        data = []
        for index, text in enumerate(texts):
            vector = self.vector_for(str(text), dimensions)
            encoded: Any = vector
            if body.get("encoding_format") == "base64":
                encoded = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        with self._lock:
            self.embedded_texts.extend(str(text) for text in texts)
        tokens = sum(len(str(text).split()) for text in texts)
        return {
            "object": "list",
            "data": data,
            "model": body.get("model", "fake"),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }

    def _gemini_generate(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        contents = body.get("contents") or []
        user_text = "\n".join(
            part.get("text", "")
            for content in contents
            if content.get("role", "user") == "user"
            for part in content.get("parts") or []
        )
        reply = self._reply_for(kind, user_text, "gemini")
        parts: list[dict[str, Any]] = []
        if reply.get("text"):
            parts.append({"text": reply["text"]})
        for call in reply.get("tool_calls") or []:
            arguments = call.get("arguments")
            if isinstance(arguments, str):
                try:
                    arguments = json.loads(arguments)
                except json.JSONDecodeError:
                    arguments = {}
            # Gemini sends no call ids; thinking models attach an opaque signature to be sent back.
            signature = base64.b64encode(f"sig-{self._next_id()}".encode()).decode()
            function_call = {"name": call["name"], "args": arguments or {}}
            if call.get("id"):
                function_call["id"] = call["id"]
            parts.append({"functionCall": function_call, "thoughtSignature": signature})
        prompt_tokens = len(user_text.split())
        return {
            "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {
                "promptTokenCount": prompt_tokens,
                "candidatesTokenCount": len((reply.get("text") or "").split()) + 5 * len(reply.get("tool_calls") or []),
                "totalTokenCount": prompt_tokens,
            },
            "modelVersion": "fake",
        }

    def _gemini_embeddings(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        single = path.endswith(":embedContent")
        requests = [body] if single else list(body.get("requests") or [])
        vectors = []
        texts = []
        for request in requests:
            text = " ".join(part.get("text", "") for part in (request.get("content") or {}).get("parts") or [])
            texts.append(text)
            vectors.append(
                {"values": self.vector_for(text, int(request.get("outputDimensionality") or DEFAULT_DIMENSIONS))}
            )
        with self._lock:
            self.embedded_texts.extend(texts)
        return {"embedding": vectors[0]} if single else {"embeddings": vectors}


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _multipart(raw: bytes, content_type: str) -> dict[str, Any]:
    """The fields of an OpenAI multipart upload; the file as its name, type and SHA-256."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw
    )
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        if part.get_filename():
            fields.update(
                file_name=part.get_filename(),
                file_type=part.get_content_type(),
                file_sha256=hashlib.sha256(data).hexdigest(),
                file_bytes=len(data),
            )
        elif name:
            fields[str(name)] = data.decode()
    return fields


def _openai_image_sha(body: dict[str, Any]) -> str:
    for message in body.get("messages") or []:
        content = message.get("content")
        for part in content if isinstance(content, list) else []:
            url = (part.get("image_url") or {}).get("url", "") if isinstance(part, dict) else ""
            if url.startswith("data:") and "," in url:
                return hashlib.sha256(base64.b64decode(url.split(",", 1)[1])).hexdigest()
    return ""


def _gemini_inline(body: dict[str, Any]) -> dict[str, Any] | None:
    for content in body.get("contents") or []:
        for part in content.get("parts") or []:
            inline = part.get("inlineData") or part.get("inline_data")
            if inline:
                return dict(inline)
    return None


def _gemini_inline_sha(body: dict[str, Any]) -> str:
    inline = _gemini_inline(body)
    if not inline:
        return ""
    # The SDK sends url-safe base64.
    return hashlib.sha256(
        base64.urlsafe_b64decode(str(inline.get("data", "")).replace("+", "-").replace("/", "_"))
    ).hexdigest()


def _classify(path: str, body: dict[str, Any]) -> tuple[str, str]:
    route = path.split("?", 1)[0]
    if route.endswith("/chat/completions") and _openai_image_sha(body):
        return "openai", "vision"
    if route.endswith("/chat/completions"):
        system = " ".join(
            _text_of(m.get("content")) for m in body.get("messages") or [] if m.get("role") in ("system", "developer")
        )
        return "openai", "summary" if _SUMMARY_MARKER in system else "chat"
    if route.endswith("/embeddings"):
        return "openai", "embedding"
    if "/models/" in route and route.endswith((":batchEmbedContents", ":embedContent")):
        return "gemini", "embedding"
    if "/models/" in route and route.endswith(":generateContent") and _gemini_inline(body):
        mime = str((_gemini_inline(body) or {}).get("mimeType") or (_gemini_inline(body) or {}).get("mime_type") or "")
        return "gemini", "transcription" if mime.startswith("audio/") else "vision"
    if "/models/" in route and route.endswith(":generateContent"):
        system = " ".join(part.get("text", "") for part in (body.get("systemInstruction") or {}).get("parts") or [])
        return "gemini", "summary" if _SUMMARY_MARKER in system else "chat"
    return "unknown", "unknown"


def _fake_summary(prompt: str) -> str:
    text = prompt
    if PRODUCT_OPEN in text:
        text = text.split(PRODUCT_OPEN, 1)[1].split(PRODUCT_CLOSE, 1)[0]
    # Drop the "Name: ..." line so the summary starts from the product text itself.
    lines = [line for line in text.strip().splitlines() if not line.startswith("Name:")]
    words = " ".join(lines).split()[:SUMMARY_WORDS]
    return "Summary: " + " ".join(words)


def _error_body(api: str, status: int) -> dict[str, Any]:
    if api == "gemini":
        names = {429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 400: "INVALID_ARGUMENT"}
        return {"error": {"code": status, "message": "injected failure", "status": names.get(status, "UNKNOWN")}}
    kinds = {429: "rate_limit_exceeded", 400: "invalid_request_error"}
    return {"error": {"message": "injected failure", "type": kinds.get(status, "server_error"), "code": None}}


def _handler_for(server: FakeLLMServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            headers = {key.lower(): value for key, value in self.headers.items()}
            status, payload, extra = server._handle(self.path, raw, headers)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for key, value in extra.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (signature of the base class)
            return

    return Handler


@contextmanager
def running_llm_server() -> Iterator[FakeLLMServer]:
    """The fake server for the duration of a `with` block (the fixture below uses it)."""
    server = FakeLLMServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def llm_server() -> Iterator[FakeLLMServer]:
    """A fresh fake OpenAI + Gemini server for one test (see the module docstring)."""
    with running_llm_server() as server:
        yield server
