"""Admin access: who may call which route for which tenant, the audit of every mutation, and the routes
for tokens, the audit log and /admin/me (docs/admin.md, "Roles and tokens").

Every route declares the permissions it needs with `requires(...)` in its middlewares (`requires()` with
none: any signed-in caller). `admit` checks them before the route runs, so a refused caller gets 403
naming the missing permission whatever its input; a route that declares nothing is refused to everyone.
`audit_mutations` (one middleware for every route, routers' included) writes the audit entry of each
POST/PUT/PATCH/DELETE that succeeded: right after it, or — for a route declared `atomic` — in one
transaction with it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote, unquote

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Route, Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import BaseModel

from mostrador.config import get_settings
from mostrador.db.access_repository import AuditEntry, AuditFilter
from mostrador.observability import logger, metrics
from mostrador.operations import access
from mostrador.operations.access import Caller
from mostrador.operations.access_requests import AuditQuery, TokenBody, TokenQuery
from mostrador.operations.auth import (
    DEPLOYMENT_PERMISSIONS,
    Permission,
    Principal,
    Role,
    acting_tenant,
    missing_permission_message,
)
from mostrador.operations.console_privacy import (
    CURSOR_PREFIX,
    CUSTOMER_FILTERS,
    ConversationHandles,
    is_handle,
    redacted,
)
from mostrador.operations.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    OperationsError,
    PermissionMissing,
    Unavailable,
)
from mostrador.operations.ranges import optional_bounds
from mostrador.request_input import unsafe_in_id

router = Router()

MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
TENANT_HEADER = "X-Tenant"
_PERMISSIONS = "required_permissions"  # the attributes `requires` leaves on its middleware
_ATOMIC = "atomic"


# -- declaring and checking permissions ---------------------------------------------------------------


def requires(*permissions: Permission, atomic: bool = False) -> Callable[..., Any]:
    """A route's middleware naming what it needs; `requires()`: any signed-in caller (GET /admin/me).

    `atomic=True` for a mutation that only writes the database: it runs in one transaction with its audit
    entry, so it never commits without one. Not for a route that tells something outside the database (a
    queue, a bucket, a platform) what it wrote, which must be committed by then, or that keeps a record of a
    failed attempt: those commit as they go, and their entry is written right after them."""

    def check(app: Any, next_middleware: Callable[..., Any]) -> Any:
        principal: Principal = app.context["principal"]
        for permission in permissions:
            if not principal.can(permission):
                raise Forbidden(missing_permission_message(principal, permission, _what(app.context.get("_route"))))
        return next_middleware(app)

    setattr(check, _PERMISSIONS, frozenset(permissions))
    setattr(check, _ATOMIC, atomic)
    return check


def declared_permissions(route: Route) -> frozenset[Permission] | None:
    """What the route asks for; None when it declares nothing (refused to every caller)."""
    for middleware in route.middlewares:
        declared = getattr(middleware, _PERMISSIONS, None)
        if declared is not None:
            return frozenset(declared)
    return None


def is_atomic(route: Route) -> bool:
    return any(getattr(middleware, _ATOMIC, False) for middleware in route.middlewares)


def routes_of(app: Any) -> list[Route]:
    routes: list[Route] = [*app._static_routes, *app._dynamic_routes]
    return routes


def route_for(app: Any, method: str, path: str) -> Route | None:
    """The route the resolver will call for this request (same matching as Powertools)."""
    for route in routes_of(app):
        if route.method == method.upper() and route.rule.match(path):
            return route
    return None


def _what(route: Route | None) -> str:
    return f"{route.method} {route.openapi_path}" if route is not None else "this route"


def admit(app: Any, principal: Principal, method: str, path: str, headers: Any) -> dict[str, Any] | None:
    """Settle the request's tenant and check the route's permissions; None when admitted (the caller is in
    the resolver's context then), else the answer to send (400 or 403 saying what is wrong or missing)."""
    named = (headers.get(TENANT_HEADER.lower()) or "").strip() or None
    if named is not None and (len(named) > 100 or unsafe_in_id(named)):
        return _answer(400, {"error": f"Invalid request: the {TENANT_HEADER} header must be a tenant id."})
    try:
        tenant = acting_tenant(principal, named, get_settings().tenant_id)
    except Forbidden as refused:
        return _answer(403, {"error": f"Forbidden: {refused.message}"})
    route = route_for(app, method, path)
    if route is not None:
        needed = declared_permissions(route)
        if needed is None:
            logger.error("admin route declares no permission", extra={"route": _what(route)})
            return _answer(403, {"error": f"Forbidden: {_what(route)} declares no permission, so nobody may call it."})
        for permission in sorted(needed):
            if not principal.can(permission):
                message = missing_permission_message(principal, permission, _what(route))
                return _answer(403, {"error": f"Forbidden: {message}", "missingPermission": permission.value})
    if named is not None and principal.tenant_id is None and not access.tenant_exists(_db(), named):
        return _answer(404, {"error": f"No tenant '{named}' (X-Tenant): GET /admin/tenants lists them."})
    app.append_context(principal=principal, caller=Caller(principal, tenant, tenant_named=named is not None))
    return None


def _answer(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def caller() -> Caller:
    """The signed-in caller and the tenant its request acts on (set by `admit`)."""
    found: Caller = router.context["caller"]
    return found


def tenant() -> str:
    """The tenant every tenant-scoped route reads and writes: never a setting, always the caller's."""
    return caller().tenant_id


def _db() -> Any:
    from mostrador.db.connection import get_connection

    return get_connection()


def _now() -> datetime:
    return datetime.now(UTC)


# -- the audit of every mutation ----------------------------------------------------------------------


def audit_mutations(app: Any, next_middleware: Callable[..., Any]) -> Any:
    """Write the audit entry of every mutation that succeeded; a refused or failed one (4xx/5xx, or an
    exception) gets none. A route declared `atomic` runs in one transaction with its entry: a change that
    commits always has it, and a failure leaves neither. Any other route commits as it goes and its entry
    follows; should that write fail, the answer still says what happened (a retry could repeat it) and the
    loss is logged and counted (AuditEntryLost). Nothing of the body is kept (customer text, secrets): who,
    their role, the tenant, the route template, the target id, the status."""
    from psycopg import Rollback

    method = app.current_event.http_method.upper()
    found: Caller | None = app.context.get("caller")
    route: Route | None = app.context.get("_route")
    if method not in MUTATING_METHODS or found is None or route is None:
        return next_middleware(app)
    conn = _db()
    if is_atomic(route):
        with conn.transaction():
            response = next_middleware(app)
            if response.status_code >= 400:
                raise Rollback()  # leaves the `with` quietly, having undone whatever the route wrote
            access.record_mutation(conn, _entry(app, route, found, method, response))
        return response
    try:
        response = next_middleware(app)
    except OperationsError as error:
        if error.committed:  # stored, but what follows failed (a routing document not published): audited
            _record(conn, app, route, found, method, Response(status_code=error.status, body=None))
        raise
    if response.status_code < 400:
        _record(conn, app, route, found, method, response)
    return response


def _record(conn: Any, app: Any, route: Route, found: Caller, method: str, response: Any) -> None:
    try:
        access.record_mutation(conn, _entry(app, route, found, method, response))
    except Exception:
        logger.exception("audit entry not written", extra={"route": _what(route), "actor": found.principal.subject})
        metrics.add_metric(name="AuditEntryLost", unit="Count", value=1)


def _entry(app: Any, route: Route, found: Caller, method: str, response: Any) -> AuditEntry:
    principal = found.principal
    return AuditEntry(
        tenant_id=_audit_tenant(app, route, found),
        actor=principal.subject,
        actor_role=principal.role.value,
        actor_token_id=principal.token_id,
        action=route.func.__name__,
        method=method,
        route=route.openapi_path,
        target_id=_target(app, route, app.current_event.path, response),
        status=response.status_code,
    )


def _audit_tenant(app: Any, route: Route, found: Caller) -> str | None:
    if "audit_tenant" in app.context:  # a route that acted elsewhere says where (tokens, /admin/tenants/{id})
        audit_tenant: str | None = app.context["audit_tenant"]
        return audit_tenant
    if (declared_permissions(route) or frozenset()) & DEPLOYMENT_PERMISSIONS:
        return None
    return found.tenant_id


def _target(app: Any, route: Route, path: str, response: Any) -> str | None:
    """What the route says it acted on, else the last id in the path (decoded), else the `id` it created."""
    if app.context.get("audit_target") is not None:
        return str(app.context["audit_target"])[:200]
    match = route.rule.match(path)
    values = [unquote(value) for value in (match.groupdict().values() if match else [])]
    if values:
        return values[-1][:200]
    body = response.body
    if isinstance(body, str | bytes):
        try:
            body = json.loads(body)
        except ValueError:
            return None
    created = body.get("id") if isinstance(body, dict) else None
    return str(created)[:200] if created is not None else None


# -- customer contacts: handles in, masks out (mostrador.operations.console_privacy) ---------------------

_handles: tuple[str, ConversationHandles, ConversationHandles] | None = None


def conversation_handles() -> ConversationHandles:
    return _sealers()[0]


def cursor_seals() -> ConversationHandles:
    """Seals list cursors for callers who may not see conversation ids (they hold one)."""
    return _sealers()[1]


def _sealers() -> tuple[ConversationHandles, ConversationHandles]:
    global _handles
    key = get_settings().secret("admin_token_hash_key")
    if not key:
        raise Unavailable(
            "conversation handles need ADMIN_TOKEN_HASH_KEY (generated by the deploy and by `mostrador local`)."
        )
    if _handles is None or _handles[0] != key:
        cursors = ConversationHandles(key, purpose="list cursor", prefix=CURSOR_PREFIX)
        _handles = (key, ConversationHandles(key), cursors)
    return _handles[1], _handles[2]


def contact_privacy(app: Any, next_middleware: Callable[..., Any]) -> Any:
    """Every route taking a conversation id takes its handle too (whoever calls). A caller without
    `view_customer_contact` addresses conversations by handle only, filters by no customer id, pages with
    sealed cursors, and gets every JSON answer with handles for conversation ids, masked customer ids and
    sealed cursors; errors that name a conversation it addressed by handle name the handle."""
    found: Caller | None = app.context.get("caller")
    if found is None:  # the public routes: the console's files, the OpenAPI document
        return next_middleware(app)
    arguments = app.context.get("_route_args") or {}
    addressed = unquote(str(arguments.get("conversation_id") or ""))
    opened = None
    if is_handle(addressed):
        opened = conversation_handles().conversation(found.tenant_id, addressed)
        if opened is None:
            raise NotFound(f"No conversation has the handle '{addressed}' in this tenant.")
        arguments["conversation_id"] = quote(opened, safe="")  # as the path carries it: the route unquotes
        app.append_context(audit_target=opened)  # the audit names the conversation, not the handle
    if found.principal.can(Permission.VIEW_CUSTOMER_CONTACT):
        return next_middleware(app)
    route: Route | None = app.context.get("_route")
    if addressed and opened is None:
        # A raw id would answer 200 or 404 by whether that phone number or PSID wrote to this business.
        raise _contact_refused(
            found.principal,
            f"Addressing a conversation by its id ({_what(route)})",
            "Use the handle (h.…) the API gave for it.",
        )
    _refuse_customer_filters(found.principal, route, arguments)
    _open_cursors(found.tenant_id, arguments)
    handles, cursors = _sealers()
    try:
        response = next_middleware(app)
    except Exception as error:
        if opened is not None and isinstance(getattr(error, "message", None), str):
            error.message = error.message.replace(opened, addressed)  # type: ignore[attr-defined]
        raise
    return _without_contacts(
        response,
        lambda conversation_id: handles.handle(found.tenant_id, conversation_id),
        lambda cursor: cursors.handle(found.tenant_id, cursor),
    )


def _contact_refused(principal: Principal, what: str, hint: str) -> PermissionMissing:
    permission = Permission.VIEW_CUSTOMER_CONTACT
    message = missing_permission_message(principal, permission, what)
    return PermissionMissing(f"Forbidden: {message} {hint}", permission.value)


def _refuse_customer_filters(principal: Principal, route: Route | None, arguments: dict[str, Any]) -> None:
    """Filtering by customer id would tell whether that phone number or PSID wrote, and which rows are its."""
    for value in arguments.values():
        for name in CUSTOMER_FILTERS:
            if isinstance(value, BaseModel) and getattr(value, name, None) is not None:
                raise _contact_refused(
                    principal,
                    f"Filtering {_what(route)} by customer id ('{name}')",
                    "This role sees customers masked: find conversations by message text or the last 4 characters"
                    " shown (q of GET /admin/console/inbox).",
                )


def _open_cursors(tenant_id: str, arguments: dict[str, Any]) -> None:
    """The cursor this caller was given, opened; a plain one is refused (crafted, it would probe ids)."""
    for name, value in list(arguments.items()):
        cursor = getattr(value, "cursor", None) if isinstance(value, BaseModel) else None
        if isinstance(cursor, str):
            opened = cursor_seals().conversation(tenant_id, cursor)
            if opened is None:
                raise BadRequest("cursor is not valid: pass back the nextCursor of the previous page unchanged")
            arguments[name] = value.model_copy(update={"cursor": opened})


def _without_contacts(response: Any, handle: Callable[[str], str], seal: Callable[[str], str]) -> Any:
    body = response.body
    if isinstance(body, dict | list):
        response.body = redacted(body, handle, seal)
    elif isinstance(body, str | bytes) and body and "json" in str(response.headers.get("Content-Type", "")):
        shown = redacted(json.loads(body), handle, seal)
        response.body = json.dumps(shown, separators=(",", ":"), ensure_ascii=False, default=str)
    return response


# -- routes --------------------------------------------------------------------------------------------

TAGS = ["access"]
TokenId = Annotated[int, Path(ge=1)]


@router.get("/admin/me", middlewares=[requires()], tags=TAGS)
def who_am_i() -> dict[str, Any]:
    """The caller: subject, role, the tenant it acts on, and its permissions (a console offers only these)."""
    return access.me(caller())


@router.post("/admin/tokens", middlewares=[requires(Permission.MANAGE_TOKENS, atomic=True)], tags=TAGS)
def create_token(body: TokenBody) -> dict[str, Any]:
    """A token for this tenant with a role (operator: the deployment's). The answer holds `secret`, the token
    itself, this once: only a keyed hash is stored."""
    created = access.create_token(
        _db(),
        caller(),
        name=body.name,
        role=Role(body.role),
        expires_in_days=body.expiresInDays,
        hash_key=get_settings().secret("admin_token_hash_key"),
        now=_now(),
    )
    router.append_context(audit_tenant=created["tenant"])
    return created


@router.get("/admin/tokens", middlewares=[requires(Permission.MANAGE_TOKENS)], tags=TAGS)
def list_tokens(query: Annotated[TokenQuery, Query()]) -> dict[str, Any]:
    """Tokens newest first, with their prefix and status, never the secret. An operator naming no tenant
    sees every tenant's and the operator tokens."""
    return access.list_tokens(
        _db(),
        caller(),
        active_only=query.status == "active",
        role=Role(query.role) if query.role else None,
        cursor=query.cursor,
        limit=query.limit,
        now=_now(),
    )


@router.post(
    "/admin/tokens/<token_id>/revoke", middlewares=[requires(Permission.MANAGE_TOKENS, atomic=True)], tags=TAGS
)
def revoke_token(token_id: TokenId) -> dict[str, Any]:
    """Revoke a token: refused at once here, and by every function within 30 seconds (their caches)."""
    revoked = access.revoke_token(_db(), caller(), token_id, now=_now())
    router.append_context(audit_tenant=revoked["tenant"])
    return revoked


@router.get("/admin/audit", middlewares=[requires(Permission.VIEW_AUDIT)], tags=TAGS)
def audit_log(query: Annotated[AuditQuery, Query()]) -> dict[str, Any]:
    """Every admin mutation newest first: who, role, tenant, route, target, status, when. Filters by actor,
    action and UTC days. An operator naming no tenant sees every tenant's and the deployment's."""
    since, until = optional_bounds(query.since, query.until)
    filters = AuditFilter(actor=query.actor, action=query.action, since=since, until=until)
    return access.list_audit(_db(), caller(), filters, cursor=query.cursor, limit=query.limit)


def describe_access(app: Any, document: dict[str, Any]) -> None:
    """Add to each operation of the OpenAPI document the permissions it needs and the X-Tenant header."""
    tenant_header = {
        "name": TENANT_HEADER,
        "in": "header",
        "required": False,
        "schema": {"type": "string", "maxLength": 100},
        "description": "operators only: the tenant to act on (default: the deployment's default tenant; for "
        "token and audit lists: every tenant). Other tokens act on their own tenant only.",
    }
    for route in routes_of(app):
        operation = document.get("paths", {}).get(route.openapi_path, {}).get(route.method.lower())
        if operation is None:
            continue
        needed = declared_permissions(route)
        operation["x-mostrador-permissions"] = sorted(p.value for p in needed or ())
        operation.setdefault("parameters", []).append(tenant_header)
