"""/admin/tenants and /admin/routing: tenants as data (docs/tenants.md), behind the same access rules as every
admin route (access_routes.requires, docs/admin.md "Roles and tokens").

Listing and creating tenants, claiming channel ids (they decide where every event goes), switching a tenant
on or off and publishing the routing document need `manage_tenants`: the deployment's operator. A tenant's
own settings, keys and secrets need `manage_tenant_settings` (its owners; the operator for any tenant). The
tenant a route acts on is the one in its path; a token that belongs to a tenant may name only its own (the
rule X-Tenant follows, auth.acting_tenant). Every mutation here is audited by access_routes.audit_mutations,
under the tenant in the path; none is atomic, since each tells something outside the database (the routing
document, Secrets Manager) after it commits.
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
from mostrador.operations.auth import Permission, Principal, acting_tenant, missing_permission_message
from mostrador.operations.errors import BadRequest, Forbidden
from mostrador.operations.tenant_requests import ChannelBody, KeyBody, NewTenantBody, SecretsBody, TenantSettingsBody
from mostrador.tenancy.routing import RoutingPublisher, routing_publisher
from mostrador.tenancy.secrets import TenantSecretStore, tenant_secret_store

try:  # on Lambda this folder is the module root; locally and in tests it is the package functions.admin
    import access_routes as access  # type: ignore[import-not-found,unused-ignore]
except ModuleNotFoundError:
    from functions.admin import access_routes as access

router = Router()
TenantId = Annotated[str, Path(min_length=1, max_length=40)]
TAGS = ["tenants"]
# Fields of a tenant's settings only the operator may change: they decide what the routing document holds.
OPERATOR_FIELDS = {"active", "claimsUnrouted"}

OPERATOR = [access.requires(Permission.MANAGE_TENANTS)]
OWNER = [access.requires(Permission.MANAGE_TENANT_SETTINGS)]


def _principal() -> Principal:
    return access.caller().principal


def _named_tenant(tenant_id: str) -> str:
    """The tenant in the path, if the caller may act on it; the audit entry is written under it."""
    named = unquote(tenant_id)
    found = access.caller()
    if found.tenant_named and found.tenant_id != named:
        raise BadRequest(f"X-Tenant names '{found.tenant_id}' but the path names '{named}': send one of them.")
    acting_tenant(found.principal, named, get_settings().tenant_id)  # a tenant's token: its own tenant only
    router.append_context(audit_tenant=named)
    return named


def _db() -> Any:
    from mostrador.db.connection import get_connection

    return get_connection()


def _publisher() -> RoutingPublisher | None:
    return routing_publisher(get_settings())


def _store() -> TenantSecretStore:
    return tenant_secret_store(get_settings())


@router.get("/admin/tenants", middlewares=OPERATOR, tags=TAGS)
def list_tenants() -> dict[str, Any]:
    """Every tenant with its settings and how many channel ids and live keys route to it."""
    return tenants.list_tenants(_db())


@router.post("/admin/tenants", middlewares=OPERATOR, tags=TAGS)
def create_tenant(body: NewTenantBody) -> Response[dict[str, Any]]:
    """A new tenant, with a web chat widget key; then add its channel ids, keys, secrets and owner tokens."""
    router.append_context(audit_tenant=body.tenantId, audit_target=body.tenantId)
    created = tenants.create_tenant(_db(), body, _principal(), _publisher())
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=created)


@router.get("/admin/tenants/<tenant_id>", middlewares=OWNER, tags=TAGS)
def tenant(tenant_id: TenantId) -> dict[str, Any]:
    """Settings, channel ids, keys (never the keys themselves), names of the secrets set, token budget."""
    return tenants.tenant_view(_db(), _store(), _named_tenant(tenant_id), now=datetime.now(UTC))


@router.patch("/admin/tenants/<tenant_id>", middlewares=OWNER, tags=TAGS)
def update_tenant(tenant_id: TenantId, body: TenantSettingsBody) -> dict[str, Any]:
    """Change the fields sent (null clears a field); the rest stay. `active` and `claimsUnrouted`: operator."""
    named = _named_tenant(tenant_id)
    principal = _principal()
    operator_fields = sorted(OPERATOR_FIELDS & body.model_fields_set)
    if operator_fields and not principal.can(Permission.MANAGE_TENANTS):
        what = f"changing {', '.join(operator_fields)} of a tenant"
        raise Forbidden(missing_permission_message(principal, Permission.MANAGE_TENANTS, what))
    return tenants.update_tenant(_db(), named, body, principal, _publisher())


@router.post("/admin/tenants/<tenant_id>/channels", middlewares=OPERATOR, tags=TAGS)
def add_channel(tenant_id: TenantId, body: ChannelBody) -> Response[dict[str, Any]]:
    """Route a WhatsApp phone_number_id, Page id, Instagram account id or a new web chat key to the tenant."""
    named = _named_tenant(tenant_id)
    if body.id:  # known before the call, so a change stored but not published is audited with it too
        router.append_context(audit_target=f"{body.channel}:{body.id}")
    added = tenants.add_channel(_db(), named, body, _principal(), _publisher())
    router.append_context(audit_target=f"{added['channel']}:{added['id']}")
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=added)


@router.delete("/admin/tenants/<tenant_id>/channels/<channel>/<channel_id>", middlewares=OPERATOR, tags=TAGS)
def remove_channel(
    tenant_id: TenantId,
    channel: Annotated[str, Path(pattern="^(whatsapp|messenger|instagram|webchat)$")],
    channel_id: Annotated[str, Path(min_length=1, max_length=80)],
) -> dict[str, Any]:
    """Stop routing that id to the tenant (its events are then dropped, unless another tenant claims it)."""
    named = _named_tenant(tenant_id)
    router.append_context(audit_target=f"{channel}:{unquote(channel_id)}")
    return tenants.remove_channel(_db(), named, channel, unquote(channel_id), _principal(), _publisher())


@router.get("/admin/tenants/<tenant_id>/keys", middlewares=OWNER, tags=TAGS)
def keys(tenant_id: TenantId) -> dict[str, Any]:
    """The tenant's ingest and Support Board keys: id, kind, last characters, label, revoked."""
    return tenants.list_keys(_db(), _named_tenant(tenant_id))


@router.post("/admin/tenants/<tenant_id>/keys", middlewares=OWNER, tags=TAGS)
def create_key(tenant_id: TenantId, body: KeyBody) -> Response[dict[str, Any]]:
    """A new key, shown once in this answer and stored only hashed. The old keys keep working until revoked."""
    created = tenants.create_key(_db(), _named_tenant(tenant_id), body, _principal(), _publisher())
    router.append_context(audit_target=created["keyId"])
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=created)


@router.delete("/admin/tenants/<tenant_id>/keys/<key_id>", middlewares=OWNER, tags=TAGS)
def revoke_key(tenant_id: TenantId, key_id: Annotated[str, Path(min_length=1, max_length=40)]) -> dict[str, Any]:
    """Revoke a key: requests with it are refused from the next routing read (seconds)."""
    return tenants.revoke_key(_db(), _named_tenant(tenant_id), unquote(key_id), _principal(), _publisher())


@router.put("/admin/tenants/<tenant_id>/secrets", middlewares=OWNER, tags=TAGS)
def set_secrets(tenant_id: TenantId, body: SecretsBody) -> dict[str, Any]:
    """Set or remove the tenant's tokens and LLM keys; answers which names are set, never a value."""
    return tenants.set_secrets(_db(), _store(), _named_tenant(tenant_id), body.changes(), _principal())


@router.post("/admin/routing", middlewares=OPERATOR, tags=TAGS)
def publish_routing() -> dict[str, Any]:
    """Publish the routing document again from the database (after a failed publish, say)."""
    return tenants.publish_routing(_db(), _publisher())
