"""/admin/tenants and /admin/routing: the deployment operator manages tenants (docs/tenants.md).

Creating tenants, claiming channel ids (they decide where every event goes) and publishing the routing
document need Permission.MANAGE_TENANTS (the operator). A tenant's own settings, keys and secrets may
also be changed by a principal of that tenant holding Permission.CONFIGURE, except `active` and
`claimsUnrouted`, which are the operator's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from mostrador.config import get_settings
from mostrador.operations import tenants
from mostrador.operations.auth import Permission, Principal
from mostrador.operations.errors import Forbidden
from mostrador.operations.tenant_requests import ChannelBody, KeyBody, NewTenantBody, SecretsBody, TenantSettingsBody
from mostrador.tenancy.routing import RoutingPublisher, routing_publisher
from mostrador.tenancy.secrets import TenantSecretStore, tenant_secret_store

router = Router()
TenantId = Annotated[str, Path(min_length=1, max_length=40)]
OPERATOR_FIELDS = {"active", "claimsUnrouted"}


def _principal() -> Principal:
    principal: Principal = router.context["principal"]
    return principal


def _operator(app: Any, next_middleware: Any) -> Response:
    if not _principal().can(Permission.MANAGE_TENANTS):
        raise Forbidden("your role may not manage tenants (it needs the manage_tenants permission)")
    return next_middleware(app)


def _this_tenant_or_operator(app: Any, next_middleware: Any) -> Response:
    principal = _principal()
    tenant_id = unquote(app.current_event.path.split("/")[3])
    own = getattr(principal, "tenant_id", None) == tenant_id and principal.can(Permission.CONFIGURE)
    if not (principal.can(Permission.MANAGE_TENANTS) or own):
        raise Forbidden("your role may not change this tenant (manage_tenants, or configure on your own tenant)")
    return next_middleware(app)


OPERATOR, THIS_TENANT = [_operator], [_this_tenant_or_operator]


def _db() -> Any:
    from mostrador.db.connection import get_connection

    return get_connection()


def _publisher() -> RoutingPublisher | None:
    return routing_publisher(get_settings())


def _store() -> TenantSecretStore:
    return tenant_secret_store(get_settings())


@router.get("/admin/tenants", middlewares=OPERATOR, tags=["tenants"])
def list_tenants() -> dict[str, Any]:
    """Every tenant with its settings and how many channel ids and live keys route to it."""
    return tenants.list_tenants(_db())


@router.post("/admin/tenants", middlewares=OPERATOR, tags=["tenants"])
def create_tenant(body: NewTenantBody) -> Response[dict[str, Any]]:
    """A new tenant, with a web chat widget key; then add its channel ids, keys and secrets."""
    created = tenants.create_tenant(_db(), body, _principal(), _publisher())
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=created)


@router.get("/admin/tenants/<tenant_id>", middlewares=THIS_TENANT, tags=["tenants"])
def tenant(tenant_id: TenantId) -> dict[str, Any]:
    """Settings, channel ids, keys (never the keys themselves), names of the secrets set, token budget."""
    return tenants.tenant_view(_db(), _store(), unquote(tenant_id), now=datetime.now(UTC))


@router.patch("/admin/tenants/<tenant_id>", middlewares=THIS_TENANT, tags=["tenants"])
def update_tenant(tenant_id: TenantId, body: TenantSettingsBody) -> dict[str, Any]:
    """Change the fields sent (null clears a field); the rest stay."""
    if OPERATOR_FIELDS & body.model_fields_set and not _principal().can(Permission.MANAGE_TENANTS):
        raise Forbidden(f"only the operator may change {', '.join(sorted(OPERATOR_FIELDS & body.model_fields_set))}")
    return tenants.update_tenant(_db(), unquote(tenant_id), body, _principal(), _publisher())


@router.post("/admin/tenants/<tenant_id>/channels", middlewares=OPERATOR, tags=["tenants"])
def add_channel(tenant_id: TenantId, body: ChannelBody) -> Response[dict[str, Any]]:
    """Route a WhatsApp phone_number_id, Page id, Instagram account id or a new web chat key to the tenant."""
    added = tenants.add_channel(_db(), unquote(tenant_id), body, _principal(), _publisher())
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=added)


@router.delete("/admin/tenants/<tenant_id>/channels/<channel>/<channel_id>", middlewares=OPERATOR, tags=["tenants"])
def remove_channel(
    tenant_id: TenantId,
    channel: Annotated[str, Path(pattern="^(whatsapp|messenger|instagram|webchat)$")],
    channel_id: Annotated[str, Path(min_length=1, max_length=80)],
) -> dict[str, Any]:
    """Stop routing that id to the tenant (its events are then dropped, unless another tenant claims it)."""
    return tenants.remove_channel(_db(), unquote(tenant_id), channel, unquote(channel_id), _principal(), _publisher())


@router.get("/admin/tenants/<tenant_id>/keys", middlewares=THIS_TENANT, tags=["tenants"])
def keys(tenant_id: TenantId) -> dict[str, Any]:
    """The tenant's ingest and Support Board keys: id, kind, last characters, label, revoked."""
    return tenants.list_keys(_db(), unquote(tenant_id))


@router.post("/admin/tenants/<tenant_id>/keys", middlewares=THIS_TENANT, tags=["tenants"])
def create_key(tenant_id: TenantId, body: KeyBody) -> Response[dict[str, Any]]:
    """A new key, shown once in this answer and stored only hashed. The old keys keep working until revoked."""
    created = tenants.create_key(_db(), unquote(tenant_id), body, _principal(), _publisher())
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=created)


@router.delete("/admin/tenants/<tenant_id>/keys/<key_id>", middlewares=THIS_TENANT, tags=["tenants"])
def revoke_key(tenant_id: TenantId, key_id: Annotated[str, Path(min_length=1, max_length=40)]) -> dict[str, Any]:
    """Revoke a key: requests with it are refused from the next routing read (seconds)."""
    return tenants.revoke_key(_db(), unquote(tenant_id), unquote(key_id), _principal(), _publisher())


@router.put("/admin/tenants/<tenant_id>/secrets", middlewares=THIS_TENANT, tags=["tenants"])
def set_secrets(tenant_id: TenantId, body: SecretsBody) -> dict[str, Any]:
    """Set or remove the tenant's tokens and LLM keys; answers which names are set, never a value."""
    return tenants.set_secrets(_db(), _store(), unquote(tenant_id), body.changes(), _principal())


@router.post("/admin/routing", middlewares=OPERATOR, tags=["tenants"])
def publish_routing() -> dict[str, Any]:
    """Publish the routing document again from the database (after a failed publish, say)."""
    return tenants.publish_routing(_db(), _publisher())
