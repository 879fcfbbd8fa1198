"""The admin console (docs/console.md): its page at GET /console, the routes only it needs, and the
export route seed 003's tooling calls (GET /api/v1/export/conversations).

Included by the admin handler with one line; the handler's bearer check covers every route here
except the page's own static files (a browser loads the page before anyone signs in; the page holds
no data). Read routes the console polls answer with an ETag and `304 Not Modified` when nothing
changed, so an open console costs a few bytes every few seconds.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path as PathParam
from aws_lambda_powertools.event_handler.openapi.params import Query

from mostrador.config import Settings, get_settings
from mostrador.observability import metrics
from mostrador.operations import console, export
from mostrador.operations.agent_reply import AgentReplies, ReplyNotSent, ReplyWindowClosed, SupportBoardSourceCache
from mostrador.operations.auth import Permission, Principal
from mostrador.operations.console_requests import (
    AgentReplyBody,
    InboxQuery,
    ProductLookupQuery,
    SeedExportQuery,
    SyncFailuresQuery,
)
from mostrador.operations.ranges import DayRange
from mostrador.tenancy.runtime import TenantSettingsCache
from mostrador.tenancy.secrets import tenant_secret_store

try:  # on Lambda this folder is the module root; locally and in tests it is the package functions.admin
    import access_routes as access  # type: ignore[import-not-found,unused-ignore]
except ModuleNotFoundError:
    from functions.admin import access_routes as access

router = Router()
requires = access.requires  # what each route needs; the caller's tenant is access.tenant()
Id = Annotated[str, PathParam(min_length=1, max_length=200)]

CONSOLE_PATH = "/console"
CONSOLE_DIR = Path(__file__).resolve().parent / "console"
_ASSET_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
# The page runs only its own files: no inline script or style, no other origin, not framable. Customer
# text is never turned into HTML (the page sets textContent only); this is the second line of defence.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def is_console_page(method: str, path: str) -> bool:
    """The console's static files, served without a token (they hold no data)."""
    return method == "GET" and (path == CONSOLE_PATH or path.startswith(CONSOLE_PATH + "/"))


def _principal() -> Principal:
    return access.caller().principal


def _db() -> Any:
    from mostrador.db.connection import get_connection

    return get_connection()


def _now() -> datetime:
    return datetime.now(UTC)


def _etagged(body: dict[str, Any]) -> Response[str]:
    """JSON with an ETag of its bytes; `304` and no body when the caller already has exactly these."""
    raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=str)
    etag = '"' + hashlib.sha256(raw.encode()).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if etag in (router.current_event.headers.get("if-none-match") or ""):
        return Response(status_code=304, headers=headers, body="")
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=raw, headers=headers)


class _Collaborators:
    """Channel senders (each with its HTTP pool) and the Support Board source cache, built once per
    execution environment and rebuilt when the settings are reloaded."""

    settings: Settings | None = None
    senders: dict[str, Any]
    sources: SupportBoardSourceCache | None

    @classmethod
    def for_settings(cls, settings: Settings) -> type[_Collaborators]:
        if cls.settings is not settings:
            cls.settings, cls.senders, cls.sources = settings, {}, None
            if settings.support_board_api_url:
                from mostrador.channels.support_board import SupportBoardClient

                cls.sources = SupportBoardSourceCache(SupportBoardClient.from_settings(settings))
        return cls

    @classmethod
    def sender(cls, channel: str) -> Any:
        from mostrador.channels.registry import sender_for

        assert cls.settings is not None
        if channel not in cls.senders:
            cls.senders[channel] = sender_for(channel, cls.settings)
        return cls.senders[channel]


def _tenant() -> str:
    return access.tenant()


_tenant_settings: TenantSettingsCache | None = None


def _agent_replies() -> AgentReplies:
    """A person's replies go out with the conversation's tenant's tokens and pause the bot for its pause."""
    global _tenant_settings
    base = get_settings()
    if _tenant_settings is None or _tenant_settings.base is not base:
        _tenant_settings = TenantSettingsCache(base, tenant_secret_store(base))
    tenant = _tenant()
    _, settings = _tenant_settings.get(_db(), tenant)
    collaborators = _Collaborators.for_settings(settings)
    return AgentReplies(
        conn=_db(),
        tenant_id=tenant,
        sender_for=collaborators.sender,
        sources=collaborators.sources,
        pause_minutes=settings.human_takeover_pause_minutes,
    )


# -- inbox and conversations -----------------------------------------------------------------------

READ = [requires(Permission.READ_CONVERSATIONS)]


@router.get("/admin/console/inbox", middlewares=READ, tags=["console"])
def inbox(query: Annotated[InboxQuery, Query()]) -> Response[str]:
    """Conversations newest first with their state; filters by channel, state and text. ETag / 304."""
    body = console.inbox(
        _db(),
        _tenant(),
        channel=query.channel,
        state=query.state,
        text=query.q,
        cursor=query.cursor,
        limit=query.limit,
        now=_now(),
        ids_shown=_principal().can(Permission.VIEW_CUSTOMER_CONTACT),
    )
    return _etagged(body)


@router.get("/admin/console/conversations/<conversation_id>", middlewares=READ, tags=["console"])
def conversation(conversation_id: Id) -> Response[str]:
    """The latest messages with tool calls, cited products, tokens and model; state; reply window. ETag / 304."""
    conversation_id = unquote(conversation_id)
    replies = _agent_replies()
    window = replies.window(conversation_id)
    body = console.conversation_detail(_db(), _tenant(), conversation_id, window=window, now=_now())
    return _etagged(body)


@router.post(
    "/admin/conversations/<conversation_id>/reply",
    # Not atomic: the pause must be committed before the platform is called, and a failed send stays recorded.
    middlewares=[requires(Permission.REPLY_TO_CUSTOMERS)],
    tags=["conversations"],
)
def reply(conversation_id: Id, body: AgentReplyBody) -> dict[str, Any]:
    """Write to the customer as a person, through the conversation's channel; pauses the bot. 409 when
    Meta's window is closed (nothing sent or stored), 502/503 when the platform refused (stored as failed)."""
    answer = _agent_replies().send(unquote(conversation_id), body.text, _principal())
    metrics.add_metric(name="AgentReplies", unit="Count", value=1)
    return answer


@router.exception_handler(ReplyWindowClosed)
def window_closed(error: ReplyWindowClosed) -> Response[Any]:
    return Response(
        status_code=409,
        content_type=content_types.APPLICATION_JSON,
        body={"error": error.message, "window": error.window},
    )


@router.exception_handler(ReplyNotSent)
def not_sent(error: ReplyNotSent) -> Response[Any]:
    metrics.add_metric(name="AgentRepliesNotSent", unit="Count", value=1)
    return Response(
        status_code=error.status,
        content_type=content_types.APPLICATION_JSON,
        body={"error": error.message, "code": error.code, "transient": error.transient, "messageId": error.message_id},
    )


# -- catalog ---------------------------------------------------------------------------------------


@router.get("/admin/console/products", middlewares=READ, tags=["console"])
def products(query: Annotated[ProductLookupQuery, Query()]) -> dict[str, Any]:
    """The catalog searched exactly as the bot's search tool does, with each product's score if any."""
    from mostrador.conversations.toolbox import DatabaseCatalog
    from mostrador.llm.providers import embedder_for

    settings = get_settings()
    return console.lookup_products(
        DatabaseCatalog(_db(), lambda: embedder_for(settings)),
        _tenant(),
        query.q,
        brand=query.brand,
        category=query.category,
        in_stock=query.inStock,
        branch=query.branch,
        limit=query.limit,
    )


@router.get(
    "/admin/console/syncs/<sync_id>/failures",
    middlewares=[requires(Permission.VIEW_ANALYTICS)],
    tags=["console"],
)
def sync_failures(sync_id: Id, query: Annotated[SyncFailuresQuery, Query()]) -> dict[str, Any]:
    """The items of a catalog sync that failed, with the error each one got."""
    return console.sync_failures(_db(), _tenant(), unquote(sync_id), limit=query.limit)


# -- the export route of seed 003 ------------------------------------------------------------------


@router.get(
    "/api/v1/export/conversations",
    middlewares=[requires(Permission.EXPORT)],
    tags=["export"],
    responses={
        200: {
            "description": "The same files as GET /admin/export (excel = XLSX); X-Next-Cursor names the next page.",
            "content": {content_type: {} for content_type in export.CONTENT_TYPES.values()},
        }
    },
)
def seed_export(query: Annotated[SeedExportQuery, Query()]):
    """GET /admin/export under the names an existing CCI-style script uses (start_date, end_date, format
    excel|csv|json, user_id)."""
    # (No return annotation, as for /admin/export: the file's bytes must not go through response validation.)
    file_format = "xlsx" if query.format == "excel" else query.format
    page = export.export_page(
        _db(),
        _tenant(),
        DayRange.of(query.start_date, query.end_date),
        file_format=file_format,
        customer_id=query.user_id,
        cursor=query.cursor,
        max_rows=query.limit,
    )
    metrics.add_metric(name="ExportRows", unit="Count", value=page.rows)
    headers = {"Content-Disposition": f'attachment; filename="{page.filename}"', "X-Export-Rows": str(page.rows)}
    if page.next_cursor:
        headers["X-Next-Cursor"] = page.next_cursor
    body: str | bytes = page.body if file_format == "xlsx" else page.body.decode("utf-8")
    return Response(status_code=200, content_type=page.content_type, body=body, headers=headers)


# -- the page --------------------------------------------------------------------------------------


@cache
def _assets() -> dict[str, tuple[bytes, str, str]]:
    """name → (bytes, content type, ETag) of every file the page is made of, read once."""
    assets = {}
    for path in sorted(CONSOLE_DIR.iterdir()):
        if path.is_file() and path.suffix in _ASSET_TYPES:
            data = path.read_bytes()
            assets[path.name] = (data, _ASSET_TYPES[path.suffix], '"' + hashlib.sha256(data).hexdigest()[:32] + '"')
    return assets


def _asset(name: str) -> Response[Any]:
    found = _assets().get(name)
    if found is None:
        return Response(
            status_code=404,
            content_type=content_types.APPLICATION_JSON,
            body={"error": "No such file in the console."},
            headers=PAGE_HEADERS,
        )
    data, content_type, etag = found
    headers = {**PAGE_HEADERS, "ETag": etag, "Cache-Control": "no-cache"}
    if etag in (router.current_event.headers.get("if-none-match") or ""):
        return Response(status_code=304, headers=headers, body="")
    return Response(status_code=200, content_type=content_type, body=data.decode("utf-8"), headers=headers)


@router.get(CONSOLE_PATH, include_in_schema=False)
def console_page() -> Response[Any]:
    if router.current_event.path.endswith("/"):
        # /console/ (typed or bookmarked; API Gateway routes it here too): the page names its files relative
        # to /console, so from /console/ they would be looked for under /console/console/. Relative, so the
        # stage prefix on API Gateway (/prod/console/ → /prod/console) is kept.
        return Response(status_code=308, headers={**PAGE_HEADERS, "Location": "../console"}, body="")
    return _asset("index.html")


@router.get(CONSOLE_PATH + "/<asset>", include_in_schema=False)
def console_file(asset: str) -> Response[Any]:
    return _asset(unquote(asset))
