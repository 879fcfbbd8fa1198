"""The whole of Mostrador on one machine: embedded PostgreSQL, SQS with its semantics, the handlers behind a
local API Gateway, the queue consumers, an outbox for outbound messages, and the sample catalog."""

from __future__ import annotations

import json
import os
import secrets
import shlex
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local.api_gateway import ROUTES, HttpRequest, dispatch
from local.event_source import BatchOutcome, SqsEventSource
from local.functions import FunctionError, FunctionTimedOut, LocalFunctions, redacted_traceback, visibility_timeout
from local.outbox import Outbox
from local.running_stack import (
    DATA_DIR_VARIABLE,
    DEFAULT_DATA_DIR,
    forget_running_stack,
    write_running_stack,
)
from local.sqs_emulator import Queue, QueueSpec, SqsEmulator

STATIC = Path(__file__).resolve().parent / "static"
SAMPLE_CATALOG = Path(__file__).resolve().parent / "sample_catalog.json"
SAMPLE_MARKER = "sample-catalog.loaded"
SAMPLE_KNOWLEDGE = Path(__file__).resolve().parent / "sample_knowledge"
SAMPLE_KNOWLEDGE_MARKER = "sample-knowledge.loaded"
# Secrets a person needs locally; generated once into the data folder unless configured.
GENERATED_SECRETS = (
    "INGEST_API_KEY",
    "ADMIN_TOKEN",
    "ADMIN_TOKEN_HASH_KEY",
    "META_APP_SECRET",
    "META_VERIFY_TOKEN",
    "SUPPORT_BOARD_WEBHOOK_SECRET",
)


# The queue consumers' event source settings, locally (enrich gathers bigger batches than deployed, 10 in
# 5 s: the first run's sample catalog is enriched sooner on one machine).
CONSUMERS: dict[str, dict[str, Any]] = {
    "enrich": {"batch_size": 25, "batching_window_seconds": 1.0},
    "reply": {"batch_size": 10},
    "knowledge": {"batch_size": 1},
}

# Queues whose function also consumes their dead-letter queue, as deployed (infra/settings.py), and what the
# alarm line says once it has.
DEAD_LETTER_CONSUMERS = {
    "enrich": "counted as failed in their syncs",
    "reply": "settled (messages failed, the ones waiting behind them answered)",
}


@dataclass
class StackOptions:
    port: int = 3000
    data_dir: Path = Path(".local")
    host: str = "127.0.0.1"
    load_sample: bool = True
    # Seconds; 0: each queue's as deployed (6x its consumer's timeout plus the window, local.functions).
    # A shorter one retries sooner, but may hand a message out again while it is still being handled.
    visibility_timeout: int = 0
    verbose: bool = False


def choose_llm_provider(env: dict[str, str] | os._Environ[str]) -> tuple[str, str | None]:
    """The provider to use and, when it differs from what was asked or implied, why."""
    asked = (env.get("LLM_PROVIDER") or "").strip().lower()
    has = {"openai": bool(env.get("OPENAI_API_KEY")), "gemini": bool(env.get("GEMINI_API_KEY"))}
    if not asked:
        for name in ("openai", "gemini"):
            if has[name]:
                return name, None
        return "offline", "no OPENAI_API_KEY or GEMINI_API_KEY set"
    if asked in has and not has[asked]:
        return "offline", f"LLM_PROVIDER={asked} but {asked.upper()}_API_KEY is not set"
    return asked, None


class LocalStack:
    def __init__(self, options: StackOptions, printer: Callable[[str], None] | None = None) -> None:
        self.options = options
        self.data_dir = options.data_dir.resolve()
        self.print = printer or (lambda line: print(line, flush=True))
        self.pg: Any = None
        self.sqs: SqsEmulator | None = None
        self.outbox: Outbox | None = None
        self.functions: LocalFunctions | None = None
        self.queues: dict[str, Queue] = {}
        self.sources: list[SqsEventSource] = []
        self.http: ThreadingHTTPServer | None = None
        self.notes: list[str] = []
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        # The deployment's own tenant and its web chat widget key (the /chat page uses it).
        self.default_tenant = ""
        self.default_widget_key = ""

    @property
    def url(self) -> str:
        return f"http://{self.options.host}:{self.options.port}"

    # --- start -------------------------------------------------------------------------------------------

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.functions = LocalFunctions()
        self.functions.start_early()  # imports the libraries workers share while the database starts
        self._configure_secrets()
        self._configure_tenancy()
        self._configure_llm()
        self._start_database()
        self._start_outbox()
        self._start_queues()
        from mostrador import queues
        from mostrador.config import reset_settings
        from mostrador.db.connection import close_connection

        reset_settings()
        queues.reset_clients()
        close_connection()
        self._start_tenants()
        # One warm worker per function behind the API, /health's first (workers take the environment now set).
        self.functions.prewarm(list(dict.fromkeys(route.function for route in ROUTES)))
        self._start_consumers()
        self._start_http()
        self._watch_dead_letters()
        write_running_stack(self.data_dir, self.url, self.default_tenant, self.default_widget_key)

    def _configure_secrets(self) -> None:
        path = self.data_dir / "secrets.json"
        stored: dict[str, str] = json.loads(path.read_text()) if path.is_file() else {}
        changed = False
        for name in GENERATED_SECRETS:
            if not os.environ.get(name):
                if name not in stored:
                    # Hex, never token_urlsafe: a key starting with "-" reads as an option on the CLI.
                    stored[name] = secrets.token_hex(24)
                    changed = True
                os.environ[name] = stored[name]
        if changed:
            path.write_text(json.dumps(stored, indent=2) + "\n")
            path.chmod(0o600)

    def _configure_tenancy(self) -> None:
        """The routing document and the tenants' secrets live in the data folder (docs/tenants.md)."""
        os.environ.setdefault("MOSTRADOR_ROUTING_FILE", str(self.data_dir / "routing.json"))
        os.environ.setdefault("MOSTRADOR_TENANT_SECRETS_DIR", str(self.data_dir / "tenants"))
        # Escalation e-mails (mail.py) become .eml files here instead of going through SES.
        outbox = os.environ.setdefault("ESCALATION_EMAIL_OUTBOX_DIR", str(self.data_dir / "mail"))
        if outbox:
            self.notes.append(f"E-mail: escalation e-mails are written to {outbox} (one .eml file each)")

    def _start_tenants(self) -> None:
        """The default tenant from the single-tenant settings, its web chat key, and a fresh routing document."""
        from mostrador.config import get_settings
        from mostrador.db.connection import connect
        from mostrador.operations.tenants import ensure_default_tenant, publish_routing, webchat_key
        from mostrador.tenancy.routing import routing_publisher

        settings = get_settings()
        url = settings.secret("database_url")
        assert url is not None
        with connect(url) as conn:
            for line in ensure_default_tenant(conn, settings):
                self.notes.append(f"Tenants: {line}")
            self.default_tenant = settings.tenant_id
            self.default_widget_key = webchat_key(conn, settings.tenant_id)
            published = publish_routing(conn, routing_publisher(settings))
        self.notes.append(
            f"Tenants: {', '.join(published['tenants'])} (routing document {published['publishedTo']}; "
            "add one with `mostrador tenant add`)"
        )

    def _configure_llm(self) -> None:
        provider, reason = choose_llm_provider(os.environ)
        os.environ["LLM_PROVIDER"] = provider
        if provider == "offline":
            os.environ["EMBEDDING_PROVIDER"] = "offline"
            self.notes.append(
                f"LLM: offline provider ({reason}). Summaries are extractive, search is full-text only and "
                "replies come from a template over the search results. Set OPENAI_API_KEY or GEMINI_API_KEY "
                "in .env for a real model."
            )
        else:
            self.notes.append(f"LLM: {provider}")

    def _start_database(self) -> None:
        from mostrador.db.migrate import apply_migrations

        configured = os.environ.get("DATABASE_URL")
        if configured:
            url = configured
            self.notes.append("Database: DATABASE_URL from the environment")
        else:
            from local.embedded_postgres import start_local_database

            self.pg, url = start_local_database(self.data_dir / "pg")
            os.environ["DATABASE_URL"] = url
            self.notes.append(f"Database: embedded PostgreSQL in {self.data_dir / 'pg'} (kept between runs)")
        applied = apply_migrations(url)
        if applied:
            self.notes.append("Migrations applied: " + ", ".join(applied))

    def _start_outbox(self) -> None:
        needs_graph = not os.environ.get("META_GRAPH_URL")
        needs_support_board = not os.environ.get("SUPPORT_BOARD_API_URL")
        if not (needs_graph or needs_support_board):
            return
        self.outbox = Outbox(self.data_dir / "outbox.jsonl", printer=self.print)
        self.outbox.start()
        if needs_graph:
            os.environ["META_GRAPH_URL"] = self.outbox.graph_url
            os.environ.setdefault("WHATSAPP_TOKEN", "local-outbox")
            os.environ.setdefault("WHATSAPP_PHONE_NUMBER_ID", "100000000000001")
            os.environ.setdefault("MESSENGER_PAGE_TOKEN", "local-outbox")
        if needs_support_board:
            os.environ["SUPPORT_BOARD_API_URL"] = self.outbox.support_board_url
            os.environ.setdefault("SUPPORT_BOARD_API_TOKEN", "local-outbox")
        targets = " and ".join(
            name for name, on in (("Meta", needs_graph), ("Support Board", needs_support_board)) if on
        )
        self.notes.append(
            f"Outbox: messages to {targets} are recorded in {self.data_dir / 'outbox.jsonl'} and printed here "
            "(set META_GRAPH_URL / SUPPORT_BOARD_API_URL to send for real)"
        )

    def _start_queues(self) -> None:
        self.sqs = SqsEmulator(host=self.options.host)
        self.sqs.start()
        os.environ.update(
            {
                "AWS_ENDPOINT_URL_SQS": self.sqs.endpoint,
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_DEFAULT_REGION": self.sqs.region,
                "AWS_REGION": self.sqs.region,
            }
        )
        os.environ.pop("AWS_PROFILE", None)
        os.environ.pop("AWS_SESSION_TOKEN", None)
        self._create_queues()

    def _create_queues(self) -> None:
        from mostrador.config import load_settings

        assert self.sqs is not None
        settings = load_settings()
        max_receives = settings.enrich_max_receives
        prefix = f"mostrador-local-{self.options.port}"

        def vt(name: str) -> int:
            window = float(CONSUMERS[name].get("batching_window_seconds", 0.0))
            return self.options.visibility_timeout or visibility_timeout(name, window)

        self.queues["enrich"] = self.sqs.create_queue(QueueSpec(f"{prefix}-enrich", False, vt("enrich"), max_receives))
        reply = QueueSpec(f"{prefix}-reply", True, vt("reply"), 5, per_group_deduplication=True)  # as infra/queues.py
        self.queues["reply"] = self.sqs.create_queue(reply)
        self.queues["knowledge"] = self.sqs.create_queue(
            QueueSpec(f"{prefix}-knowledge", False, vt("knowledge"), settings.knowledge_max_receives)
        )
        os.environ["ENRICH_QUEUE_URL"] = self.queues["enrich"].url
        os.environ["REPLY_QUEUE_URL"] = self.queues["reply"].url
        os.environ["KNOWLEDGE_QUEUE_URL"] = self.queues["knowledge"].url
        # Uploaded knowledge files live in the data folder (an S3 bucket on AWS).
        os.environ.pop("KNOWLEDGE_BUCKET", None)
        os.environ["KNOWLEDGE_FILES_DIR"] = str(self.data_dir / "knowledge")

    def _start_consumers(self) -> None:
        assert self.sqs is not None and self.functions is not None
        functions = self.functions
        for name, kwargs in CONSUMERS.items():
            if not functions.available(name):
                self.notes.append(f"Queue consumer {name}: functions/{name}/handler.py not built yet")
                continue
            source = SqsEventSource(
                self.sqs.client,
                self.queues[name],
                lambda event, name=name: functions.invoke(name, event),  # type: ignore[misc]
                on_batch=self._report_batch,
                pollers=functions.concurrency[name],  # as many as the function has workers
                **kwargs,  # type: ignore[arg-type]
            )
            source.start()
            self.sources.append(source)
        for name in DEAD_LETTER_CONSUMERS:
            if not functions.available(name):
                continue
            # As deployed: the enrich function counts each item of its dead-letter queue as failed in its sync;
            # the reply function settles each item of its own (docs/conversations.md, "Dead letters").
            work = self.queues[name]
            dead_letters = Queue(
                spec=QueueSpec(f"{work.spec.name}-dlq", work.spec.fifo, work.spec.visibility_timeout, 0),
                url=work.dlq_url,
                arn=work.dlq_arn,
                dlq_url="",
                dlq_arn="",
            )
            self.sqs.client.set_queue_attributes(
                QueueUrl=work.dlq_url, Attributes={"VisibilityTimeout": str(work.spec.visibility_timeout)}
            )
            source = SqsEventSource(
                self.sqs.client,
                dead_letters,
                lambda event, name=name: functions.invoke(name, event),  # type: ignore[misc]
                on_batch=lambda _queue, outcome, name=name: self._report_dead_letters(name, outcome),  # type: ignore[misc]
                batch_size=10,
            )
            source.start()
            self.sources.append(source)

    def _report_dead_letters(self, name: str, outcome: BatchOutcome) -> None:
        if outcome.received:
            recorded = not (outcome.failed or outcome.error)
            self.print(
                f"[alarm] {outcome.received} {name} item(s) dead-lettered: "
                + (DEAD_LETTER_CONSUMERS[name] if recorded else "not recorded yet")
            )

    def _report_batch(self, queue: str, outcome: BatchOutcome) -> None:
        if outcome.failed or outcome.error:
            detail = f" ({outcome.error})" if outcome.error else ""
            self.print(
                f"[queue] {queue}: {outcome.failed} of {outcome.received} message(s) failed{detail}; "
                f"retried after {self._visibility_of(queue)} s"
            )
        elif self.options.verbose:
            self.print(f"[queue] {queue}: {outcome.succeeded} message(s) handled")

    def _visibility_of(self, queue_name: str) -> int:
        return next((q.spec.visibility_timeout for q in self.queues.values() if q.spec.name == queue_name), 0)

    def _watch_dead_letters(self) -> None:
        assert self.sqs is not None
        sqs = self.sqs

        def watch() -> None:
            seen = {name: 0 for name in self.queues}
            while not self._stopping.wait(5.0):
                for name, queue in self.queues.items():
                    if name in DEAD_LETTER_CONSUMERS and self.functions and self.functions.available(name):
                        continue  # consumed by its function: _report_dead_letters says what it recorded
                    try:
                        attributes = sqs.client.get_queue_attributes(
                            QueueUrl=queue.dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
                        )["Attributes"]
                    except Exception:  # noqa: S112 - the emulator is going away at shutdown
                        continue
                    count = int(attributes["ApproximateNumberOfMessages"])
                    if count > seen[name]:
                        self.print(f"[alarm] {count} message(s) in the {name} dead-letter queue")
                    seen[name] = count

        self._spawn(watch, "dlq-watch")

    def _start_http(self) -> None:
        stack = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                started = time.monotonic()
                parts = urlsplit(self.path)
                if self.command == "GET" and parts.path in ("/", "/chat", "/chat/"):
                    self._static(parts.path)
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = HttpRequest(
                    method=self.command,
                    path=parts.path,
                    query=parse_qsl(parts.query, keep_blank_values=True),
                    headers=list(self.headers.items()),
                    body=body,
                    source_ip=self.client_address[0],
                )
                assert stack.functions is not None
                result = dispatch(request, stack.functions.invoke)
                response = result.response
                self.send_response(response.status)
                for key, value in response.headers:
                    if key.lower() not in ("content-length", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)
                if isinstance(result.error, FunctionError):
                    stack.print(f"[{result.function}] raised:\n{result.error.remote_traceback}")
                elif isinstance(result.error, FunctionTimedOut):
                    stack.print(f"[{result.function}] {result.error}")
                elif result.error is not None:
                    stack.print(f"[{result.function}] raised:\n{redacted_traceback(result.error)}")
                quiet = self.command == "GET" and response.status < 300  # polling would flood the terminal
                if stack.options.verbose or not quiet:
                    took = (time.monotonic() - started) * 1000
                    via = f" {result.function}" if result.function else ""
                    # The route template, as API Gateway's access log has it: paths and queries carry phone
                    # numbers, PSIDs and conversation ids.
                    route = result.resource or "(no route)"
                    stack.print(f"[http] {self.command} {route} →{via} {response.status} ({took:.0f} ms)")

            def _static(self, path: str) -> None:
                if path == "/":
                    self.send_response(302)
                    self.send_header("Location", "/chat")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                # The page chats as the default tenant unless its address names another key (?key=wk_…).
                page = (
                    (STATIC / "chat.html")
                    .read_bytes()
                    .replace(b"<script>", f'<script data-widget-key="{stack.default_widget_key}">'.encode(), 1)
                )
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _handle

        ThreadingHTTPServer.allow_reuse_address = True
        self.http = ThreadingHTTPServer((self.options.host, self.options.port), Handler)
        self.http.daemon_threads = True
        self.options.port = self.http.server_address[1]
        self._spawn(self.http.serve_forever, "http")

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    # --- sample catalog ----------------------------------------------------------------------------------

    def load_sample_catalog_once(self, catalog: Path = SAMPLE_CATALOG) -> threading.Thread | None:
        """Push the sample catalog through the real ingest route the first time (a marker in the data folder)."""
        marker = self.data_dir / SAMPLE_MARKER
        if marker.exists() or not self.options.load_sample:
            return None
        assert self.functions is not None
        if not self.functions.available("ingest"):
            self.print("[sample] not loaded: functions/ingest/handler.py is not built yet")
            return None

        def load() -> None:
            from local.ingest_client import IngestFailed, push_catalog, read_catalog, sync_line, wait_for_sync

            key = os.environ["INGEST_API_KEY"]
            try:
                products = read_catalog(catalog)
                self.print(f"[sample] loading {len(products)} sample products through POST /ingest/products …")
                result = push_catalog(products, self.url, key, chunk_size=200)
                marker.write_text(json.dumps({"syncId": result.sync_id, "accepted": result.accepted}) + "\n")
                status = wait_for_sync(self.url, key, result.sync_id, interval_seconds=2.0)
                self.print(f"[sample] sample catalog ready: {sync_line(status)}")
            except (IngestFailed, OSError, ValueError) as error:
                if not self._stopping.is_set():
                    self.print(f"[sample] loading the sample catalog failed: {error}")

        thread = threading.Thread(target=load, name="sample-catalog", daemon=True)
        thread.start()
        return thread

    def load_sample_knowledge_once(self, folder: Path = SAMPLE_KNOWLEDGE) -> threading.Thread | None:
        """The sample FAQ and policy PDF through the real admin routes, the first time (a marker)."""
        marker = self.data_dir / SAMPLE_KNOWLEDGE_MARKER
        if marker.exists() or not self.options.load_sample:
            return None
        assert self.functions is not None
        if not (self.functions.available("admin") and self.functions.available("knowledge")):
            self.print("[sample] knowledge not loaded: the admin or knowledge function is not built yet")
            return None

        def load() -> None:
            from local.knowledge_client import KnowledgeFailed, add_faq, upload_document, wait_for_document
            from local.make_sample_knowledge import TITLES

            token = os.environ["ADMIN_TOKEN"]
            try:
                entries = json.loads((folder / "faq.json").read_text(encoding="utf-8"))
                ids = [int(add_faq(self.url, token, e["question"], e["answer"], e.get("tags"))["id"]) for e in entries]
                for pdf in sorted(folder.glob("*.pdf")):
                    ids.append(int(upload_document(pdf, self.url, token, title=TITLES.get(pdf.name))["id"]))
                failed = [
                    d
                    for d in (wait_for_document(self.url, token, i, interval_seconds=0.5) for i in ids)
                    if d["status"] != "ready"
                ]
                marker.write_text(json.dumps({"documents": ids}) + "\n")
                if failed:
                    self.print(f"[sample] knowledge: {len(failed)} item(s) failed: {failed[0].get('error')}")
                else:
                    self.print(f"[sample] sample knowledge ready: {len(entries)} FAQ entries and the policy PDF")
            except (KnowledgeFailed, OSError, ValueError, KeyError) as error:
                if not self._stopping.is_set():
                    self.print(f"[sample] loading the sample knowledge failed: {error}")

        thread = threading.Thread(target=load, name="sample-knowledge", daemon=True)
        thread.start()
        return thread

    # --- what a person needs -----------------------------------------------------------------------------

    def banner(self) -> str:
        assert self.functions is not None
        lines = [f"Mostrador is running on {self.url}", ""]
        lines.extend(self.notes)
        lines += ["", "Routes (same as API Gateway):"]
        for route in ROUTES:
            built = self.functions.available(route.function)
            state = "" if built else f"   (functions/{route.function} not built yet)"
            lines.append(f"  {' '.join(route.methods):<22} {route.resource:<28} → {route.function}{state}")
        lines.append(f"  {'GET':<22} {'/chat':<28} → web chat page")
        lines += [
            "",
            f"Ingest key (X-API-KEY): {os.environ['INGEST_API_KEY']}",
            f"  push a catalog: mostrador ingest FILE --url {self.url} --key $KEY",
            f"  add knowledge:  mostrador knowledge add FILE.pdf --url {self.url}   (docs/knowledge.md)",
            f"Admin token: {os.environ['ADMIN_TOKEN']}   (generated values live in {self.data_dir / 'secrets.json'})",
            "",
            f"Chat with the bot: open {self.url}/chat  or run",
            f"  mostrador chat --url {self.url} --key {self.default_widget_key}",
            f"  (tenant {self.default_tenant}; another tenant's page: {self.url}/chat?key=<its web chat key>)",
            *self._cli_lines(),
            f"Admin console: open {self.url}/console  and sign in with the admin token",
            "Ctrl-C stops everything.",
        ]
        return "\n".join(lines)

    def _cli_lines(self) -> list[str]:
        """How a `mostrador` command in another shell finds this stack: by itself when its data folder is
        ./.local of that shell's folder; else told with --data-dir (or MOSTRADOR_DATA_DIR), printed exactly."""
        intro = "`mostrador` is .venv/bin/mostrador (or `source .venv/bin/activate`)"
        if self.data_dir == (Path.cwd() / DEFAULT_DATA_DIR).resolve():
            return [
                f"{intro}; run from this folder, it finds this stack's URL and keys in {self.data_dir} "
                "without --url, --key or --token."
            ]
        folder = shlex.quote(str(self.data_dir))
        return [
            f"{intro}; given this stack's data folder it finds its URL and keys without --url, --key or --token:",
            f"  mostrador tenant add shop2 --name 'Second shop' --data-dir {folder}",
            f"  (or once per shell: export {DATA_DIR_VARIABLE}={folder})",
        ]

    # --- stop --------------------------------------------------------------------------------------------

    def stop(self) -> None:
        self._stopping.set()
        forget_running_stack(self.data_dir)
        if self.http is not None:
            self.http.shutdown()
            self.http.server_close()
        for source in self.sources:
            source.request_stop()
        if self.functions is not None:
            self.functions.close()  # ends batches still running, so the pollers can return
        for source in self.sources:
            source.stop()
        if self.sqs is not None:
            self.sqs.stop()
        if self.outbox is not None:
            self.outbox.stop()
        from mostrador.db.connection import close_connection

        close_connection()
        if self.pg is not None:
            try:
                self.pg.cleanup()
            except Exception as error:  # the server process may already be gone
                print(f"stopping PostgreSQL: {error}", file=sys.stderr)
