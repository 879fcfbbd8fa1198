"""Admin API behind ANY /admin/{proxy+}: conversations, takeover, escalations, analytics, export, search
vocabulary, the knowledge base (knowledge_routes.py), the console (console_routes.py), tenants
(tenant_routes.py), and access (tokens, audit log, /admin/me: access_routes.py).

Every request but GET /admin/openapi.json needs `Authorization: Bearer <token>` (ADMIN_TOKEN, the
deployment's operator, or a token created through /admin/tokens); it is checked before routing, so an
unauthenticated caller learns nothing (not even which routes exist). Then access_routes.admit settles the
tenant the request acts on and checks the permissions the route declares (403 naming the missing one), and
every mutation is audited by one middleware. Inputs are validated from the pydantic models in
mostrador.operations.requests; the OpenAPI document is generated from these routes.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

try:  # the admin console (docs/console.md); on Lambda this folder is the module root, elsewhere functions.admin
    from console_routes import is_console_page  # type: ignore[import-not-found,unused-ignore]
    from console_routes import router as console_router  # type: ignore[import-not-found,unused-ignore]
except ModuleNotFoundError:
    from functions.admin.console_routes import is_console_page
    from functions.admin.console_routes import router as console_router

from mostrador.config import get_settings
from mostrador.db.connection import DatabaseUnavailable, database_deadline
from mostrador.observability import logger, metrics, tracer
from mostrador.operations import analytics, conversations, escalations, export, pricing, search_vocabulary
from mostrador.operations.access import admin_authenticator
from mostrador.operations.auth import Permission, Principal, TokenLookupFailed, authenticate
from mostrador.operations.errors import OperationsError, PermissionMissing
from mostrador.operations.ranges import DayRange
from mostrador.operations.requests import (
    ConversationQuery,
    DayRangeQuery,
    EscalationQuery,
    ExportQuery,
    MessagePaging,
    PriceBody,
    ResolveBody,
    SyncQuery,
    SynonymBody,
    TakeoverBody,
    unusable_request_input,
)
from mostrador.operations.tenants import tenant_budget

try:  # on Lambda this folder is the module root; locally and in tests it is the package functions.admin
    import access_routes as access  # type: ignore[import-not-found,unused-ignore]
    from knowledge_routes import router as knowledge_router  # type: ignore[import-not-found,unused-ignore]
    from tenant_routes import router as tenant_router  # type: ignore[import-not-found,unused-ignore]
except ModuleNotFoundError:
    from functions.admin import access_routes as access
    from functions.admin.knowledge_routes import router as knowledge_router
    from functions.admin.tenant_routes import router as tenant_router

OPENAPI_PATH = "/admin/openapi.json"
MAX_ANALYTICS_DAYS = 366
app = APIGatewayRestResolver(enable_validation=True)
# Every mutation audited, and customer contacts only for those allowed, for every route (routers' included).
app.use([access.audit_mutations, access.contact_privacy])
app.include_router(access.router)  # /admin/me, /admin/tokens, /admin/audit
app.include_router(knowledge_router)  # /admin/knowledge/... (functions/admin/knowledge_routes.py)
app.include_router(tenant_router)  # /admin/tenants, /admin/routing (functions/admin/tenant_routes.py)
Id = Annotated[str, Path(min_length=1, max_length=200)]
requires = access.requires


def _principal() -> Principal:
    return access.caller().principal


def _db() -> Any:
    from mostrador.db.connection import get_connection

    return get_connection()


def _tenant() -> str:
    return access.tenant()


def _pause_minutes() -> int:
    """The tenant's takeover pause (its own setting, else HUMAN_TAKEOVER_PAUSE_MINUTES)."""
    from mostrador.db.tenant_repository import get_tenant

    row = get_tenant(_db(), _tenant())
    return (row or {}).get("takeover_pause_minutes") or get_settings().human_takeover_pause_minutes


def _now() -> datetime:
    return datetime.now(UTC)


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers)


app.include_router(console_router)  # the console page and its routes, /api/v1/export/... (docs/console.md)


# -- conversations and customers -------------------------------------------------------------------

# Every mutation here only writes the database: atomic, in one transaction with its audit entry.
READ, STEER = [requires(Permission.READ_CONVERSATIONS)], [requires(Permission.STEER_CONVERSATIONS, atomic=True)]
CONFIGURE = [requires(Permission.CONFIGURE, atomic=True)]


@app.get("/admin/conversations", middlewares=READ, tags=["conversations"])
def list_conversations(query: Annotated[ConversationQuery, Query()]) -> dict[str, Any]:
    """Conversations, most recently active first, filtered by channel, pause, escalation, days, customer."""
    from mostrador.db.operations_repository import ConversationFilter
    from mostrador.operations.ranges import optional_bounds

    since, until = optional_bounds(query.since, query.until)
    filters = ConversationFilter(query.channel, query.customer, query.paused, query.escalated, since, until)
    return conversations.list_conversations(
        _db(), _tenant(), filters, cursor=query.cursor, limit=query.limit, now=_now()
    )


@app.get("/admin/conversations/<conversation_id>", middlewares=READ, tags=["conversations"])
def conversation(conversation_id: Id, query: Annotated[MessagePaging, Query()]) -> dict[str, Any]:
    """One conversation and its messages (actor, latency, products the bot cited), oldest first."""
    return conversations.conversation_view(
        _db(), _tenant(), unquote(conversation_id), cursor=query.cursor, limit=query.limit, now=_now()
    )


@app.post("/admin/conversations/<conversation_id>/takeover", middlewares=STEER, tags=["conversations"])
def take_over(conversation_id: Id, body: TakeoverBody) -> dict[str, Any]:
    """Pause the bot in this conversation for `minutes` or until resumed; other conversations go on."""
    request = conversations.Takeover(body.minutes, body.untilResumed, body.note)
    default = _pause_minutes()
    return conversations.take_over(
        _db(), _tenant(), unquote(conversation_id), request, _principal(), default_minutes=default, now=_now()
    )


@app.post("/admin/conversations/<conversation_id>/resume", middlewares=STEER, tags=["conversations"])
def resume(conversation_id: Id) -> dict[str, Any]:
    """End the bot's pause now (whatever set it): the next customer message is answered."""
    return conversations.resume(_db(), _tenant(), unquote(conversation_id), _principal(), now=_now())


@app.post("/admin/conversations/<conversation_id>/reset", middlewares=STEER, tags=["conversations"])
def reset_conversation(conversation_id: Id) -> dict[str, Any]:
    """The next message starts fresh: the model no longer sees earlier messages (the log keeps them)."""
    return conversations.reset_conversation(_db(), _tenant(), unquote(conversation_id), _principal())


# A customer is addressed by its id (a phone number, a PSID), which only those who may see it can know.
CUSTOMER_READ = [requires(Permission.READ_CONVERSATIONS, Permission.VIEW_CUSTOMER_CONTACT)]
CUSTOMER_STEER = [requires(Permission.STEER_CONVERSATIONS, Permission.VIEW_CUSTOMER_CONTACT, atomic=True)]


@app.get("/admin/customers/<customer_id>/status", middlewares=CUSTOMER_READ, tags=["customers"])
def customer_status(customer_id: Id) -> dict[str, Any]:
    """Language, last message, paused until, open escalations, and each of the customer's conversations."""
    return conversations.customer_status(_db(), _tenant(), unquote(customer_id), now=_now())


@app.post("/admin/customers/<customer_id>/reset", middlewares=CUSTOMER_STEER, tags=["customers"])
def reset_customer(customer_id: Id) -> dict[str, Any]:
    """Reset the context of every conversation of the customer."""
    return conversations.reset_customer(_db(), _tenant(), unquote(customer_id), _principal())


# -- escalations -----------------------------------------------------------------------------------


@app.get("/admin/escalations", middlewares=READ, tags=["escalations"])
def list_escalations(query: Annotated[EscalationQuery, Query()]) -> dict[str, Any]:
    """Escalations (open ones by default), oldest first, with reason and the latest transcript."""
    return escalations.list_escalations(
        _db(),
        _tenant(),
        status=None if query.status == "all" else query.status,
        cursor=query.cursor,
        limit=query.limit,
        transcript_messages=query.transcriptMessages,
    )


@app.post("/admin/escalations/<escalation_id>/resolve", middlewares=STEER, tags=["escalations"])
def resolve_escalation(escalation_id: Annotated[int, Path(ge=1)], body: ResolveBody) -> dict[str, Any]:
    """Resolve an open escalation with a note; `resumeBot` also ends the bot's pause."""
    return escalations.resolve(
        _db(), _tenant(), escalation_id, note=body.note, resume_bot=body.resumeBot, principal=_principal()
    )


# -- analytics, export, prices ---------------------------------------------------------------------


@app.get("/admin/analytics", middlewares=[requires(Permission.VIEW_ANALYTICS)], tags=["analytics"])
def analytics_report(query: Annotated[DayRangeQuery, Query()]) -> dict[str, Any]:
    """Automation rate, time to reply, escalations, messages per channel, LLM cost per day, syncs."""
    days = DayRange.of(query.since, query.until, max_days=MAX_ANALYTICS_DAYS)
    conn = _db()
    report = analytics.analytics(conn, _tenant(), days, pricing.load_price_book(conn, _tenant()))
    return {**report, "tokenBudget": tenant_budget(conn, _tenant(), _now())}


@app.get("/admin/analytics/syncs", middlewares=[requires(Permission.VIEW_ANALYTICS)], tags=["analytics"])
def sync_list(query: Annotated[SyncQuery, Query()]) -> dict[str, Any]:
    """Catalog syncs started in the range, newest first, with received/processed/unchanged/failed."""
    days = DayRange.of(query.since, query.until)
    return analytics.syncs(_db(), _tenant(), days, cursor=query.cursor, limit=query.limit)


@app.get(
    "/admin/export",
    middlewares=[requires(Permission.EXPORT)],
    tags=["export"],
    responses={
        200: {
            "description": "One page of the export; X-Next-Cursor names the next page when there is one.",
            "content": {content_type: {} for content_type in export.CONTENT_TYPES.values()},
        }
    },
)
def export_conversations(query: Annotated[ExportQuery, Query()]):
    """Messages between two days (one customer optionally) as CSV, XLSX or JSON, one row per message."""
    # (No return annotation on purpose: with one, Powertools would run the file's bytes through
    # response validation; without, a non-JSON Response passes through as it is.)
    page = export.export_page(
        _db(),
        _tenant(),
        DayRange.of(query.since, query.until),
        file_format=query.format,
        customer_id=query.customer,
        cursor=query.cursor,
        max_rows=query.limit,
    )
    metrics.add_metric(name="ExportRows", unit="Count", value=page.rows)
    headers = {"Content-Disposition": f'attachment; filename="{page.filename}"', "X-Export-Rows": str(page.rows)}
    if page.next_cursor:
        headers["X-Next-Cursor"] = page.next_cursor
    # Text formats go out as text: API Gateway would hand a base64 body to the caller as base64 unless
    # its Accept header names a binary media type. XLSX is binary (and listed as such on the API).
    body: str | bytes = page.body if query.format == "xlsx" else page.body.decode("utf-8")
    return Response(status_code=200, content_type=page.content_type, body=body, headers=headers)


@app.get("/admin/model-prices", middlewares=[requires(Permission.VIEW_ANALYTICS)], tags=["analytics"])
def model_prices() -> dict[str, Any]:
    """Effective LLM prices (USD per 1M tokens) used for cost estimates, with where each comes from."""
    book = pricing.load_price_book(_db(), _tenant())
    return {"prices": [pricing.price_json(book.prices[name]) for name in sorted(book.prices)]}


@app.put("/admin/model-prices/<model>", middlewares=CONFIGURE, tags=["analytics"])
def set_model_price(model: Annotated[str, Path(min_length=1, max_length=100)], body: PriceBody) -> dict[str, Any]:
    """Set this tenant's price for a model (MOSTRADOR_MODEL_PRICES still wins when set)."""
    return pricing.set_price(
        _db(), _tenant(), unquote(model), body.inputPerMillion, body.outputPerMillion, _principal()
    )


# -- search vocabulary ----------------------------------------------------------------------------

Term = Annotated[str, Path(min_length=1, max_length=100)]


@app.get("/admin/search/synonyms", middlewares=[requires(Permission.VIEW_ANALYTICS)], tags=["search"])
def synonyms() -> dict[str, Any]:
    """The search synonyms in effect: the shipped list and this deployment's own entries (docs/search.md)."""
    return search_vocabulary.list_synonyms(_db(), _tenant())


@app.put("/admin/search/synonyms/<term>", middlewares=CONFIGURE, tags=["search"])
def set_synonym(term: Term, body: SynonymBody) -> dict[str, Any]:
    """Set how the catalog may write `term` (replaces the shipped entry; [] switches it off)."""
    return search_vocabulary.set_synonym(_db(), _tenant(), unquote(term), body.alternatives, _principal())


@app.delete("/admin/search/synonyms/<term>", middlewares=CONFIGURE, tags=["search"])
def delete_synonym(term: Term) -> dict[str, Any]:
    """Remove this deployment's entry for `term` (the shipped one, if any, applies again)."""
    return search_vocabulary.delete_synonym(_db(), _tenant(), unquote(term), _principal())


# -- errors, OpenAPI, entry point ------------------------------------------------------------------


@app.exception_handler(OperationsError)
def operations_error(error: OperationsError) -> Response:
    if isinstance(error, PermissionMissing):
        return _json(error.status, {"error": error.message, "missingPermission": error.permission})
    return _json(error.status, {"error": error.message})


@app.exception_handler(RequestValidationError)
def invalid_request(error: RequestValidationError) -> Response:
    # Field, problem and pydantic's message; never the input value (it may be a customer's data).
    detail = [{"loc": _where(e["loc"]), "type": e["type"], "msg": str(e.get("msg", "invalid"))} for e in error.errors()]
    summary = "; ".join(f"{'.'.join(d['loc'][1:]) or d['loc'][0]}: {d['msg']}" for d in detail)
    return _json(422, {"error": f"Invalid request: {summary}", "detail": detail})


def _where(loc: Any) -> list[str]:
    """Where the problem is, as the caller wrote it: a query model's fields are sent bare, but Powertools
    puts the handler's parameter name (always `query` here) between them: ("query", "query", "since")."""
    parts = [str(part) for part in loc]
    return parts[:1] + parts[2:] if len(parts) >= 3 and parts[:2] == ["query", "query"] else parts


@app.not_found
def not_found(error: NotFoundError) -> Response:
    return _json(404, {"error": f"No admin route {app.current_event.http_method} {app.current_event.path}."})


@app.get(OPENAPI_PATH, include_in_schema=False)
def openapi_document() -> Response[str]:
    document = json.loads(
        app.get_openapi_json_schema(
            title="Mostrador admin API",
            version="1.0.0",
            description="Conversations, takeover, escalations, analytics, export, search vocabulary, tokens and "
            "the audit log (docs/admin.md), the knowledge base (docs/knowledge.md), tenants (docs/tenants.md). "
            "Each operation lists the permissions it needs in x-mostrador-permissions; an operator names the "
            "tenant it acts on in X-Tenant.",
            security_schemes={
                "bearerAuth": HTTPBearer(
                    description="ADMIN_TOKEN (the deployment's operator) or a token from POST /admin/tokens"
                )
            },
            security=[{"bearerAuth": []}],
        )
    )
    access.describe_access(app, document)
    _describe_operations(document)
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=json.dumps(document))


def _describe_operations(document: dict[str, Any]) -> None:
    """Powertools leaves an operation's description empty unless the route passes one: each takes its
    route function's docstring. Every operation can also answer 401 (checked before routing) and 403."""
    import inspect

    error = {"application/json": {"schema": {"type": "object", "properties": {"error": {"type": "string"}}}}}
    for route in access.routes_of(app):
        operation = document.get("paths", {}).get(route.openapi_path, {}).get(route.method.lower())
        if operation is None:
            continue
        if not operation.get("description") and route.func.__doc__:
            operation["description"] = inspect.cleandoc(route.func.__doc__)
        answers = operation.setdefault("responses", {})
        answers.setdefault("401", {"description": "no bearer token, or a wrong one", "content": error})
        answers.setdefault(
            "403",
            {"description": "the token lacks a permission this operation needs, or another tenant", "content": error},
        )


def _unauthorized() -> dict[str, Any]:
    return {
        "statusCode": 401,
        "headers": {"Content-Type": content_types.APPLICATION_JSON, "WWW-Authenticate": 'Bearer realm="admin"'},
        "body": json.dumps({"error": "Missing or wrong bearer token: send Authorization: Bearer <your admin token>."}),
        "isBase64Encoded": False,
    }


def _bad_request(problem: str) -> dict[str, Any]:
    return {
        "statusCode": 400,
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": json.dumps({"error": f"Invalid request: {problem}"}),
        "isBase64Encoded": False,
    }


def _refused(status: int, message: str, retry_after_seconds: int | None = None) -> dict[str, Any]:
    headers = {"Content-Type": content_types.APPLICATION_JSON}
    if retry_after_seconds is not None:
        headers["Retry-After"] = str(retry_after_seconds)
    return {
        "statusCode": status,
        "headers": headers,
        "body": json.dumps({"error": message}),
        "isBase64Encoded": False,
    }


def is_public(method: str, path: str) -> bool:
    """Served without a token: the OpenAPI document and the console's static files (they hold no data)."""
    return (method == "GET" and path == OPENAPI_PATH) or is_console_page(method, path)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        with database_deadline():
            return _handle(event, context)
    except DatabaseUnavailable as unavailable:
        logger.error("database unavailable", extra={"reason": str(unavailable)})
        return _refused(503, unavailable.answer, unavailable.retry_after_seconds)


def _handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = APIGatewayProxyEvent(event)
    app.clear_context()  # nothing of an earlier request (answered before resolving) may carry over
    if not is_public(request.http_method, request.path):
        settings = get_settings()
        if not (settings.secret("admin_token") or settings.secret("admin_token_hash_key")):
            logger.error("neither ADMIN_TOKEN nor ADMIN_TOKEN_HASH_KEY is configured; refusing every admin request")
        try:
            principal = authenticate(request.headers.get("authorization"), admin_authenticator(settings, _db))
        except TokenLookupFailed as failure:
            logger.error("admin token lookup failed", extra={"error": str(failure)})
            return _refused(503, "Could not check the token right now (database unavailable); try again shortly.", 5)
        if principal is None:
            # Only the section of the path: the rest may hold a customer's phone number.
            section = "/".join(request.path.split("/")[:3])
            logger.info("admin request refused", extra={"section": section, "method": request.http_method})
            return _unauthorized()
        refusal = access.admit(app, principal, request.http_method, request.path, request.headers)
        if refusal is not None:
            logger.info(
                "admin request forbidden", extra={"role": principal.role.value, "status": refusal["statusCode"]}
            )
            return refusal
    # One check for every route, before any of them reads its path, query or body.
    query = request.multi_value_query_string_parameters or {
        name: [value] for name, value in (request.query_string_parameters or {}).items()
    }
    # The raw bytes, not decoded_body: that decodes a base64 body as UTF-8 unguarded (a 502 otherwise).
    raw_body = base64.b64decode(request.body) if request.body and request.is_base64_encoded else request.body
    problem = unusable_request_input(request.path, query, raw_body)
    if problem:
        logger.info("admin request refused: unusable input", extra={"reason": problem})
        return _bad_request(problem)
    return app.resolve(event, context)
