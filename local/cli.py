"""The `mostrador` command: local (the whole stack on one machine), migrate, ingest, knowledge, chat, tenant,
token."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import warnings
from pathlib import Path

from local.envfile import load_env_file
from local.functions import ensure_importable
from local.running_stack import DATA_DIR_HELP, DEFAULT_PORT, default_data_dir, local_url, local_webchat_key

# Lambda-like defaults that keep a terminal readable; the environment or .env can change them. Set before
# the shared package is imported: its logger reads the level once, at creation.
QUIET_POWERTOOLS = {
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "MostradorLocal",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}


# Where commands go without --url (resolved after parsing: the data folder is an option).
URL_DEFAULT = f"PORT's, else the running local stack's (stack.json in --data-dir), else http://127.0.0.1:{DEFAULT_PORT}"


def _default_port() -> int:
    try:
        return int(os.environ.get("PORT", str(DEFAULT_PORT)))
    except ValueError:
        return DEFAULT_PORT


def _load_dotenv() -> list[str]:
    # Only the current folder's: `make run` runs at the repository root, and tests run elsewhere on purpose.
    return load_env_file(Path.cwd() / ".env")


def _local_key(data_dir: Path, name: str = "INGEST_API_KEY") -> str | None:
    path = data_dir / "secrets.json"
    if path.is_file():
        key = json.loads(path.read_text()).get(name)
        return str(key) if key else None
    return None


def cmd_local(args: argparse.Namespace) -> int:
    for key, value in QUIET_POWERTOOLS.items():
        os.environ.setdefault(key, value)
    warnings.filterwarnings("ignore", message="No application metrics to publish")  # metrics are off locally
    from local.stack import LocalStack, StackOptions

    options = StackOptions(port=args.port, data_dir=Path(args.data_dir), load_sample=not args.no_sample)
    options.verbose = args.verbose
    if args.visibility_timeout:
        options.visibility_timeout = args.visibility_timeout
    stack = LocalStack(options)
    stop = threading.Event()
    # Ctrl-C and SIGTERM only set the event: a KeyboardInterrupt raised inside Event.wait() can leave the
    # event's lock in a broken state, and one raised inside a handler would stop it halfway.
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stack.start()
    except OSError as error:
        print(f"mostrador local: could not start: {error}", file=sys.stderr)
        stack.stop()
        return 1
    if not stop.is_set():
        print(stack.banner(), flush=True)
        stack.load_sample_catalog_once()
        stack.load_sample_knowledge_once()
    while not stop.wait(0.5):
        pass
    print("\nStopping…", flush=True)
    stack.stop()
    print("Stopped.", flush=True)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from mostrador.db.migrate import apply_migrations

    url = args.database_url or os.environ.get("DATABASE_URL")
    server = None
    if not url:
        # No database named: the local stack's own (what `make run` uses), started for the migrations and
        # stopped after them unless a running stack shares it.
        from local.embedded_postgres import start_local_database

        pg_dir = Path(args.data_dir) / "pg"
        print(f"mostrador migrate: no DATABASE_URL; the local stack's embedded PostgreSQL in {pg_dir}", file=sys.stderr)
        Path(args.data_dir).mkdir(parents=True, exist_ok=True)
        server, url = start_local_database(pg_dir)
    try:
        applied = apply_migrations(url)
    finally:
        if server is not None:
            server.cleanup()
    print("applied: " + ", ".join(applied) if applied else "database is up to date")
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from local.ingest_client import IngestFailed, progress_bar, push_catalog, read_catalog, sync_line, wait_for_sync

    key = args.key or os.environ.get("INGEST_API_KEY") or _local_key(Path(args.data_dir))
    if not key:
        print("mostrador ingest: give --key (or set INGEST_API_KEY)", file=sys.stderr)
        return 2
    try:
        products = read_catalog(Path(args.file))
        result = push_catalog(
            products,
            args.url,
            key,
            chunk_size=args.chunk_size,
            full_sync=not args.partial,
            on_progress=progress_bar(),
        )
        print(f"sync {result.sync_id}: {result.accepted} accepted, {len(result.rejected)} rejected", file=sys.stderr)
        for rejection in result.rejected[:20]:
            print(f"  rejected #{rejection['index']} {rejection.get('itemCode')}: {rejection.get('errors')}")
        if args.no_wait:
            print(json.dumps({"syncId": result.sync_id, "accepted": result.accepted}))
            return 0

        def show(status: dict[str, object]) -> None:
            sys.stderr.write("\r" + sync_line(status) + " …")
            sys.stderr.flush()

        status = wait_for_sync(args.url, key, result.sync_id, timeout_seconds=args.timeout, on_status=show)
        sys.stderr.write("\n")
    except (IngestFailed, OSError, ValueError) as error:
        print(f"\nmostrador ingest: {error}", file=sys.stderr)
        return 1
    print(f"sync {status.get('syncId')} complete: {sync_line(status)}")
    print(json.dumps(status))
    return 0


def cmd_knowledge(args: argparse.Namespace) -> int:
    from local import knowledge_client as client
    from local.admin_client import TOKEN_SOURCES, admin_token

    token = admin_token(args.token, Path(args.data_dir))
    if not token:
        print(f"mostrador knowledge: give an admin token ({TOKEN_SOURCES})", file=sys.stderr)
        return 2
    try:
        if args.action == "add":
            document = client.upload_document(
                Path(args.file),
                args.url,
                token,
                title=args.title,
                on_progress=client.upload_progress(),
                tenant=args.tenant,
            )
        elif args.action == "faq":
            document = client.add_faq(args.url, token, args.question, args.answer, args.tag, tenant=args.tenant)
        elif args.action == "list":
            for item in client.list_knowledge(args.url, token, "faq" if args.faq else "file", tenant=args.tenant):
                print(client.document_line(item))
            return 0
        else:
            print(json.dumps(client.delete_document(args.url, token, args.id, faq=args.faq, tenant=args.tenant)))
            return 0
        if document.get("unchanged"):
            print(f"unchanged: {client.document_line(document)}", file=sys.stderr)
        elif not args.no_wait:
            print(f"queued: {client.document_line(document)} …", file=sys.stderr)
            document = client.wait_for_document(
                args.url, token, int(document["id"]), timeout_seconds=args.timeout, tenant=args.tenant
            )
    except (client.KnowledgeFailed, OSError, ValueError) as error:
        print(f"mostrador knowledge: {error}", file=sys.stderr)
        return 1
    print(client.document_line(document), file=sys.stderr)
    print(json.dumps(document, ensure_ascii=False))
    return 1 if document.get("status") == "failed" else 0


def cmd_chat(args: argparse.Namespace) -> int:
    from local.chat_client import run_chat

    # The local stack's own tenant unless told otherwise: the chat routes refuse a request without a key.
    key = args.key or local_webchat_key(Path(args.data_dir), args.url)
    if not key:
        print(
            f"mostrador chat: give --key (the shop's web chat widget key; no local stack is running at {args.url} "
            "to take its default tenant's from)",
            file=sys.stderr,
        )
        return 2
    return run_chat(args.url, key)


def cmd_token(args: argparse.Namespace) -> int:
    from local.admin_client import AdminApi, AdminCallFailed, admin_token, as_json, print_tokens

    token = admin_token(args.token, Path(args.data_dir))
    if not token:
        print("mostrador token: give --token (or set MOSTRADOR_ADMIN_TOKEN)", file=sys.stderr)
        return 2
    api = AdminApi(args.url, token, tenant=args.tenant)
    try:
        if args.action == "create":
            created = api.create_token(args.name, args.role, args.expires_days)
            if args.json:
                print(as_json(created))
            else:
                where = f"tenant {created['tenant']}" if created["tenant"] else "the deployment"
                print(
                    f"Token {created['id']} for {created['name']} ({created['role']} of {where}). "
                    "Copy it now: it is never shown again.",
                    file=sys.stderr,
                )
                print(created["secret"])
        elif args.action == "list":
            tokens = api.list_tokens(active_only=args.active, role=args.role)
            if args.json:
                print(as_json(tokens))
            else:
                print_tokens(tokens, sys.stdout)
        else:
            revoked = api.revoke_token(args.id)
            print(as_json(revoked) if args.json else f"Revoked token {revoked['id']} ({revoked['name']}).")
    except AdminCallFailed as error:
        print(f"mostrador token: {error}", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    port = _default_port()
    data_dir = default_data_dir()  # after .env is loaded: it may name MOSTRADOR_DATA_DIR
    parser = argparse.ArgumentParser(prog="mostrador", description="Mostrador on one machine, and its tools.")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("local", help="serve all of Mostrador on 127.0.0.1 (what `make run` does)")
    run.add_argument("--port", type=int, default=port, help="HTTP port (default: PORT or 3000)")
    run.add_argument(
        "--data-dir", default=data_dir, help="database, secrets, outbox (default: MOSTRADOR_DATA_DIR, else .local)"
    )
    run.add_argument("--no-sample", action="store_true", help="do not load the sample catalog")
    run.add_argument("--verbose", action="store_true", help="print every request and queue batch")
    run.add_argument(
        "--visibility-timeout",
        type=int,
        default=0,
        help="seconds before a failed message retries (default: each queue's as deployed, 6x its function's timeout)",
    )
    run.set_defaults(func=cmd_local)

    migrate = commands.add_parser("migrate", help="apply the database migrations")
    migrate.add_argument(
        "--database-url", help="default: DATABASE_URL, else the local stack's embedded PostgreSQL (in --data-dir)"
    )
    migrate.add_argument("--data-dir", default=data_dir, help=DATA_DIR_HELP)
    migrate.set_defaults(func=cmd_migrate)

    ingest = commands.add_parser("ingest", help="push a catalog JSON file and wait for its sync")
    ingest.add_argument("file")
    ingest.add_argument("--url", help=f"Mostrador base URL (default: {URL_DEFAULT})")
    ingest.add_argument("--key", help="X-API-KEY (default: INGEST_API_KEY, or the local stack's generated key)")
    ingest.add_argument("--chunk-size", type=int, default=500, help="products per request (default 500)")
    ingest.add_argument("--partial", action="store_true", help="not a full sync: absent products stay active")
    ingest.add_argument("--no-wait", action="store_true", help="do not wait for the sync to complete")
    ingest.add_argument("--timeout", type=float, default=1800.0, help="seconds to wait for the sync")
    ingest.add_argument("--data-dir", default=data_dir, help=DATA_DIR_HELP)
    ingest.set_defaults(func=cmd_ingest)

    knowledge = commands.add_parser("knowledge", help="the knowledge base: add documents and FAQ entries, list, delete")
    actions = knowledge.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="upload a document (PDF, HTML, Markdown, text, DOCX) and wait until ready")
    add.add_argument("file")
    add.add_argument("--title", help="the document's title (default: the file name)")
    faq = actions.add_parser("faq", help="add an FAQ entry")
    faq.add_argument("--question", required=True)
    faq.add_argument("--answer", required=True)
    faq.add_argument("--tag", action="append", default=[], help="a tag (repeatable)")
    listing = actions.add_parser("list", help="documents (or FAQ entries with --faq) and their status")
    listing.add_argument("--faq", action="store_true")
    remove = actions.add_parser("delete", help="delete a document (or an FAQ entry with --faq)")
    remove.add_argument("id", type=int)
    remove.add_argument("--faq", action="store_true")
    for sub in (add, faq, listing, remove):
        sub.add_argument("--url", help=f"Mostrador base URL (default: {URL_DEFAULT})")
        sub.add_argument(
            "--token", help="your admin token (default: MOSTRADOR_ADMIN_TOKEN, ADMIN_TOKEN or the local stack's)"
        )
        sub.add_argument("--tenant", help="operators: the tenant to act on (X-Tenant)")
        sub.add_argument("--no-wait", action="store_true", help="do not wait for processing")
        sub.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for processing")
        sub.add_argument("--data-dir", default=data_dir, help=DATA_DIR_HELP)
    knowledge.set_defaults(func=cmd_knowledge)

    chat = commands.add_parser("chat", help="chat with the bot in this terminal (web chat channel)")
    chat.add_argument("--url", help=f"Mostrador base URL (default: {URL_DEFAULT})")
    chat.add_argument(
        "--key",
        help="the shop's web chat widget key (which tenant to chat with; default: the local stack's "
        "default tenant's when --url is the running local stack)",
    )
    chat.add_argument("--data-dir", default=data_dir, help=DATA_DIR_HELP)
    chat.set_defaults(func=cmd_chat)

    token = commands.add_parser("token", help="create, list or revoke admin tokens (docs/admin.md)")
    actions = token.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="a token with a role; prints it once")
    create.add_argument("--name", required=True, help="who holds it (shown in the audit log)")
    create.add_argument("--role", required=True, choices=("owner", "agent", "viewer", "operator"))
    create.add_argument("--expires-days", type=int, help="refused after this many days (default: never)")
    listing = actions.add_parser("list", help="tokens newest first (never their secret)")
    listing.add_argument("--active", action="store_true", help="only tokens neither revoked nor expired")
    listing.add_argument("--role", choices=("owner", "agent", "viewer", "operator"))
    revoke = actions.add_parser("revoke", help="refuse a token from now on")
    revoke.add_argument("id", type=int)
    for sub in (create, listing, revoke):
        sub.add_argument("--url", help=f"Mostrador base URL (default: {URL_DEFAULT})")
        sub.add_argument(
            "--token", help="your admin token (default: MOSTRADOR_ADMIN_TOKEN, ADMIN_TOKEN or the local stack's)"
        )
        sub.add_argument("--tenant", help="operators: the tenant to act on (X-Tenant)")
        sub.add_argument("--json", action="store_true", help="print the API's JSON")
        sub.add_argument("--data-dir", default=data_dir, help=DATA_DIR_HELP)
        sub.set_defaults(func=cmd_token)

    from local.tenant_cli import add_parser as add_tenant_parser

    add_tenant_parser(commands, URL_DEFAULT, data_dir)
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, with the URL a command goes to when --url is not given (URL_DEFAULT)."""
    args = build_parser().parse_args(argv)
    if hasattr(args, "url") and not args.url:
        args.url = local_url(Path(args.data_dir))
    return args


def main(argv: list[str] | None = None) -> int:
    _load_dotenv()  # before parsing: PORT may come from .env
    ensure_importable()
    args = parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
