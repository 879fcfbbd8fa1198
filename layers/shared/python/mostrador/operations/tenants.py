"""Managing tenants (the deployment operator's use cases behind /admin/tenants and `mostrador tenant`).

Every change is stored in the database, written to the operator action log, and followed by a new
routing document (tenancy/routing.py), so the webhook and ingest functions route by it within
seconds. A document that cannot be published leaves the change stored and answers 503: publish
again with POST /admin/routing (each deploy publishes too).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mostrador.db import operations_repository as ops_repo
from mostrador.db import tenant_repository as repo
from mostrador.observability import logger
from mostrador.operations.errors import BadRequest, Conflict, NotFound, OperationsError
from mostrador.tenancy.budget import budget_status
from mostrador.tenancy.profile import TenantProfile
from mostrador.tenancy.routing import RoutingPublisher, build_document, key_hash, serialize

if TYPE_CHECKING:
    from mostrador.config import Settings
    from mostrador.db.connection import Connection
    from mostrador.operations.auth import Principal
    from mostrador.operations.tenant_requests import ChannelBody, KeyBody, NewTenantBody, TenantSettingsBody
    from mostrador.tenancy.secrets import TenantSecretStore

WIDGET_KEY_PREFIX = "wk_"
# Tenant fields that change where events go (the routing document), beside channel ids and keys.
ROUTING_FIELDS = frozenset({"active", "claims_unrouted"})
KEY_PREFIXES = {"ingest": "mik_", "support_board": "msb_"}


class RoutingNotPublished(OperationsError):
    status = 503


def _camel(column: str) -> str:
    head, *rest = column.split("_")
    return head + "".join(part.capitalize() for part in rest)


def tenant_json(row: Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for column, value in row.items():
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, list | tuple):
            value = list(value)
        body["tenantId" if column == "tenant_id" else _camel(column)] = value
    return body


def _key_json(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "keyId": row["key_id"],
        "kind": row["kind"],
        "hint": f"…{row['hint']}",
        "label": row["label"],
        "createdAt": row["created_at"].isoformat(),
        "revokedAt": row["revoked_at"].isoformat() if row["revoked_at"] else None,
    }


def _audit(conn: Connection, tenant_id: str, action: str, principal: Principal, detail: dict[str, Any]) -> None:
    ops_repo.record_operator_action(
        conn, tenant_id, action=action, actor=principal.subject, role=str(principal.role), detail=detail
    )


# -- the routing document ------------------------------------------------------------------------


def publish_routing(conn: Connection, publisher: RoutingPublisher | None) -> dict[str, Any]:
    """Build the document from the database and publish it; what was published (no key hashes)."""
    if publisher is None:
        raise RoutingNotPublished(
            "this deployment has no routing document (MOSTRADOR_ROUTING_SECRET_ARN on AWS, MOSTRADOR_ROUTING_FILE "
            "locally): it serves its one tenant (TENANT_ID) only"
        )
    tenants, channels, keys = repo.routing_rows(conn)
    document = build_document(tenants, channels, keys)
    try:
        text = serialize(document)
        publisher.publish(text)
    except Exception as exc:
        logger.exception("routing document not published", extra={"where": publisher.where})
        raise RoutingNotPublished(
            f"saved, but the routing document could not be published ({type(exc).__name__}: {str(exc)[:200]}); "
            "publish it again with POST /admin/routing"
        ) from exc
    return {
        "publishedTo": publisher.where,
        "generatedAt": document["generatedAt"],
        "bytes": len(text.encode("utf-8")),
        "tenants": sorted(document["tenants"]),
        "unroutedTenant": document["unroutedTenant"],
    }


def _require_routing_document(publisher: RoutingPublisher | None, what: str) -> None:
    """Refuse, before anything is stored, a change only the routing document could put into effect."""
    if publisher is None:
        raise Conflict(
            f"{what} needs the routing document, and this is a single-tenant deployment: set "
            "MOSTRADOR_ROUTING_SECRET_ARN (AWS; the stack's RoutingSecretName output) or MOSTRADOR_ROUTING_FILE "
            "(locally) on the admin, webhook, web chat and ingest functions first. Until then TENANT_ID owns "
            "every channel id, INGEST_API_KEY and SUPPORT_BOARD_WEBHOOK_SECRET. Nothing was stored."
        )


def _publish_stored_change(conn: Connection, publisher: RoutingPublisher | None) -> dict[str, Any]:
    """Publish after a change was committed: a failure then still leaves the change stored (and audited)."""
    try:
        return publish_routing(conn, publisher)
    except RoutingNotPublished as exc:
        exc.committed = True
        raise


# -- tenants -------------------------------------------------------------------------------------


def tenant_budget(conn: Connection, tenant_id: str, now: datetime) -> dict[str, Any]:
    """This month's LLM tokens against the tenant's budget (analytics shows it; docs/tenants.md)."""
    row = repo.get_tenant(conn, tenant_id)
    profile = TenantProfile.from_row(row) if row else TenantProfile.deployment_default(tenant_id)
    return budget_status(conn, profile, now).as_json()


def list_tenants(conn: Connection) -> dict[str, Any]:
    rows = repo.list_tenants(conn)
    return {"tenants": [tenant_json(row) for row in rows], "total": len(rows)}


def _tenant_row(conn: Connection, tenant_id: str) -> dict[str, Any]:
    row = repo.get_tenant(conn, tenant_id)
    if row is None:
        raise NotFound(f"No tenant {tenant_id!r}: GET /admin/tenants lists them.")
    return row


def tenant_view(conn: Connection, store: TenantSecretStore, tenant_id: str, *, now: datetime) -> dict[str, Any]:
    """A tenant's settings, channel ids, keys (never the keys themselves), secret names set, and budget."""
    row = _tenant_row(conn, tenant_id)
    try:
        secret_names: list[str] | None = sorted(store.read(tenant_id))
    except Exception as exc:  # the store unreachable must not hide the rest
        logger.warning("tenant secret names unavailable", extra={"error": type(exc).__name__})
        secret_names = None
    return {
        **tenant_json(row),
        "channels": [
            {"channel": c["channel"], "id": c["channel_key"], "createdAt": c["created_at"].isoformat()}
            for c in repo.tenant_channels(conn, tenant_id)
        ],
        "keys": [_key_json(k) for k in repo.list_keys(conn, tenant_id)],
        "secretsSet": secret_names,
        "tokenBudget": budget_status(conn, TenantProfile.from_row(row), now).as_json(),
    }


def _check_unrouted_claim(conn: Connection, tenant_id: str, claims: bool | None) -> None:
    if claims and repo.count_tenants(conn) > 1:
        raise Conflict(
            "claimsUnrouted is only for a deployment's one tenant (an upgraded single-tenant deployment): "
            "with two tenants an unclaimed id could be either's. Register the channel ids instead."
        )


def _support_board_bot_taken(tenant_id: str, principal: Principal, owner: str | None = None) -> Conflict:
    # One bot answers for one tenant (its echo and its agents are told apart by that user). Only the
    # operator, who sees every tenant, is told whose it is.
    whose = f"tenant {owner!r}" if owner and principal.tenant_id is None else "another tenant"
    return Conflict(
        f"{whose} has this Support Board URL and bot user (supportBoardApiUrl, supportBoardDmBotUserId) "
        f"already: one bot answers for one tenant. Give {tenant_id!r} its own bot user in that installation."
    )


def _check_support_board_bot(
    conn: Connection, tenant_id: str, api_url: str | None, bot_user_id: str | None, principal: Principal
) -> None:
    if api_url and bot_user_id:
        owner = repo.support_board_bot_owner(conn, api_url, bot_user_id)
        if owner is not None and owner != tenant_id:
            raise _support_board_bot_taken(tenant_id, principal, owner)


def _with_warnings(answer: dict[str, Any], row: Mapping[str, Any]) -> dict[str, Any]:
    """Settings stored as asked that will not do what they seem to (a 200, and what to add)."""
    from mostrador.config import get_settings

    settings = get_settings()
    warnings = []
    if row.get("escalation_email") and not (settings.escalation_email_from or settings.escalation_email_outbox_dir):
        warnings.append(
            "escalationEmail: this deployment sends no e-mail (ESCALATION_EMAIL_FROM, a sender address verified "
            "in Amazon SES, is not set: docs/deploy.md), so nobody is mailed; the address only travels in the "
            "notice POSTed to escalationWebhookUrl, when set."
        )
    own_board = row.get("support_board_api_url") or (
        settings.support_board_api_url if row.get("tenant_id") == settings.tenant_id else None
    )
    if row.get("escalation_agent_ids") and not own_board:
        warnings.append(
            "escalationAgentIds: escalated Support Board conversations are assigned to these agents through the "
            "tenant's Support Board, and this tenant has none (set supportBoardApiUrl and its "
            "SUPPORT_BOARD_API_TOKEN secret); the ids only travel in the notice POSTed to escalationWebhookUrl."
        )
    if warnings:
        answer["warnings"] = warnings
    return answer


def create_tenant(
    conn: Connection, body: NewTenantBody, principal: Principal, publisher: RoutingPublisher | None
) -> dict[str, Any]:
    """A new tenant with a generated web chat widget key (its channel ids and keys are added next)."""
    _require_routing_document(publisher, "Creating a tenant")
    claiming = [row["tenant_id"] for row in repo.list_tenants(conn) if row["claims_unrouted"]]
    if claiming:
        raise Conflict(
            f"tenant {claiming[0]!r} still answers channel ids nobody claims (an upgraded single-tenant "
            "deployment). Switch that off first, which registers the ids its conversations use: "
            f'PATCH /admin/tenants/{claiming[0]} {{"claimsUnrouted": false}} '
            f"(mostrador tenant set {claiming[0]} --no-claim-unrouted)."
        )
    if body.claimsUnrouted and repo.count_tenants(conn) > 0:
        raise Conflict(
            "claimsUnrouted is only for a deployment's one tenant (an upgraded single-tenant deployment); "
            "register the new tenant's channel ids instead."
        )
    from psycopg.errors import UniqueViolation

    values = body.columns()
    _check_support_board_bot(
        conn, body.tenantId, values.get("support_board_api_url"), values.get("support_board_dm_bot_user_id"), principal
    )
    widget_key = WIDGET_KEY_PREFIX + secrets.token_urlsafe(18)
    with conn.transaction():
        try:
            row = repo.create_tenant(conn, body.tenantId, values)
        except UniqueViolation as exc:  # tenants_support_board_bot, taken since the check above
            raise _support_board_bot_taken(body.tenantId, principal) from exc
        if row is None:
            raise Conflict(f"A tenant {body.tenantId!r} exists already: PATCH /admin/tenants/{body.tenantId}.")
        repo.claim_channel(conn, body.tenantId, "webchat", widget_key)
        _audit(conn, body.tenantId, "tenant_created", principal, {"fields": sorted(values)})
    published = _publish_stored_change(conn, publisher)
    return _with_warnings({**tenant_json(row), "webchatKey": widget_key, "routing": published}, row)


def update_tenant(
    conn: Connection,
    tenant_id: str,
    body: TenantSettingsBody,
    principal: Principal,
    publisher: RoutingPublisher | None,
) -> dict[str, Any]:
    from psycopg.errors import UniqueViolation

    changes = body.columns()
    if ROUTING_FIELDS & set(changes):
        _require_routing_document(publisher, "active and claimsUnrouted")
    current = _tenant_row(conn, tenant_id)
    merged = {**current, **changes}
    _check_support_board_bot(
        conn, tenant_id, merged["support_board_api_url"], merged["support_board_dm_bot_user_id"], principal
    )
    claimed_now = 0
    widget: tuple[str, bool] | None = None
    with conn.transaction():
        if changes.get("claims_unrouted"):
            _check_unrouted_claim(conn, tenant_id, True)
        if changes.get("claims_unrouted") is False and current["claims_unrouted"]:
            # What it answered as the one tenant keeps reaching it once it answers only what it claims.
            claimed_now = repo.claim_conversation_channels(conn, tenant_id)
            # Its chat pages without a key are answered 400 from now on: they need one (an upgraded
            # deployment on AWS has none until now).
            widget = _webchat_key(conn, tenant_id)
        try:
            row = repo.update_tenant(conn, tenant_id, changes)
        except UniqueViolation as exc:  # tenants_support_board_bot, taken since the check above
            raise _support_board_bot_taken(tenant_id, principal) from exc
        assert row is not None
        _audit(conn, tenant_id, "tenant_updated", principal, {"fields": sorted(changes)})
    answer = tenant_json(row)
    if claimed_now:
        answer["channelsClaimedFromConversations"] = claimed_now
    if widget is not None:
        answer["webchatKey"], answer["webchatKeyCreated"] = widget
    if ROUTING_FIELDS & set(changes):
        answer["routing"] = _publish_stored_change(conn, publisher)
    return _with_warnings(answer, row)


# -- channel ids ---------------------------------------------------------------------------------


def add_channel(
    conn: Connection, tenant_id: str, body: ChannelBody, principal: Principal, publisher: RoutingPublisher | None
) -> dict[str, Any]:
    _require_routing_document(publisher, "Claiming a channel id")
    _tenant_row(conn, tenant_id)
    channel_id = body.id or WIDGET_KEY_PREFIX + secrets.token_urlsafe(18)
    with conn.transaction():
        owner = repo.claim_channel(conn, tenant_id, body.channel, channel_id)
        if owner != tenant_id:
            raise Conflict(f"{body.channel} id {channel_id} belongs to tenant {owner!r}; it must release it first.")
        _audit(conn, tenant_id, "channel_added", principal, {"channel": body.channel, "id": channel_id})
    return {"channel": body.channel, "id": channel_id, "routing": _publish_stored_change(conn, publisher)}


def remove_channel(
    conn: Connection,
    tenant_id: str,
    channel: str,
    channel_id: str,
    principal: Principal,
    publisher: RoutingPublisher | None,
) -> dict[str, Any]:
    _require_routing_document(publisher, "Releasing a channel id")
    with conn.transaction():
        if not repo.release_channel(conn, tenant_id, channel, channel_id):
            raise NotFound(f"Tenant {tenant_id!r} has no {channel} id {channel_id}.")
        _audit(conn, tenant_id, "channel_removed", principal, {"channel": channel, "id": channel_id})
    return {"removed": {"channel": channel, "id": channel_id}, "routing": _publish_stored_change(conn, publisher)}


# -- keys ------------------------------------------------------------------------------------------


def create_key(
    conn: Connection, tenant_id: str, body: KeyBody, principal: Principal, publisher: RoutingPublisher | None
) -> dict[str, Any]:
    """A new key for the tenant: shown once in this answer, stored only as its SHA-256."""
    _require_routing_document(publisher, "A tenant key")
    _tenant_row(conn, tenant_id)
    key = body.key or KEY_PREFIXES[body.kind] + secrets.token_urlsafe(30)
    key_id = "key_" + secrets.token_hex(6)
    with conn.transaction():
        row = repo.add_key(
            conn, tenant_id, key_id=key_id, kind=body.kind, key_hash=key_hash(key), hint=key[-4:], label=body.label
        )
        if row is None:
            raise Conflict("That key is registered already (to this or another tenant); use another.")
        _audit(conn, tenant_id, "key_created", principal, {"kind": body.kind, "keyId": key_id})
    return {**_key_json(row), "key": key, "routing": _publish_stored_change(conn, publisher)}


def list_keys(conn: Connection, tenant_id: str) -> dict[str, Any]:
    _tenant_row(conn, tenant_id)
    return {"keys": [_key_json(row) for row in repo.list_keys(conn, tenant_id)]}


def revoke_key(
    conn: Connection,
    tenant_id: str,
    key_id: str,
    principal: Principal,
    publisher: RoutingPublisher | None,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    _require_routing_document(publisher, "Revoking a tenant key")
    with conn.transaction():
        row = repo.revoke_key(conn, tenant_id, key_id, now or datetime.now(UTC))
        if row is None:
            raise NotFound(f"Tenant {tenant_id!r} has no key {key_id}.")
        _audit(conn, tenant_id, "key_revoked", principal, {"keyId": key_id})
    return {**_key_json(row), "routing": _publish_stored_change(conn, publisher)}


# -- secrets ---------------------------------------------------------------------------------------


def set_secrets(
    conn: Connection,
    store: TenantSecretStore,
    tenant_id: str,
    changes: Mapping[str, str | None],
    principal: Principal,
) -> dict[str, Any]:
    _tenant_row(conn, tenant_id)
    if not changes:
        raise BadRequest("Send at least one secret name with a value (or null to remove it).")
    try:
        names = store.write(tenant_id, changes)
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc
    _audit(conn, tenant_id, "secrets_set", principal, {"names": sorted(changes)})
    return {"secretsSet": names}


# -- first start -----------------------------------------------------------------------------------


def ensure_default_tenant(conn: Connection, settings: Settings) -> list[str]:
    """The deployment's own tenant (TENANT_ID) from its single-tenant settings, on every deploy and local
    start: created when missing, its channel id (WHATSAPP_PHONE_NUMBER_ID) and keys (INGEST_API_KEY,
    SUPPORT_BOARD_WEBHOOK_SECRET) registered when nobody has them. Never overwrites what an operator
    changed, and a key revoked through the API stays revoked. What it did, for the deploy log."""
    tenant_id = settings.tenant_id
    done: list[str] = []
    values: dict[str, Any] = {
        "display_name": tenant_id,
        "support_board_api_url": settings.support_board_api_url,
        "support_board_dm_bot_user_id": settings.support_board_dm_bot_user_id,
        "support_board_agent_ids": sorted(settings.support_board_agent_ids),
        "comment_bot_proxy_user_id": settings.comment_bot_proxy_user_id,
        "comment_bot_initiation_tag": settings.comment_bot_initiation_tag,
    }
    bot_owner = (
        repo.support_board_bot_owner(conn, settings.support_board_api_url, settings.support_board_dm_bot_user_id)
        if settings.support_board_api_url and settings.support_board_dm_bot_user_id
        else None
    )
    if bot_owner is not None and bot_owner != tenant_id:
        # A deploy must not fail on it (TENANT_ID changed, or the bot handed to a tenant): the new default
        # tenant is created without that installation, and the log says whose it is.
        values["support_board_api_url"] = values["support_board_dm_bot_user_id"] = None
        logger.warning("the deployment's Support Board bot belongs to another tenant", extra={"owner": bot_owner})
    with conn.transaction():
        created = repo.create_tenant(conn, tenant_id, values)
        if created is not None:
            done.append(f"created tenant {tenant_id}")
            if bot_owner is not None and bot_owner != tenant_id:
                done.append(f"Support Board bot left to tenant {bot_owner} (SUPPORT_BOARD_DM_BOT_USER_ID)")
        if settings.whatsapp_phone_number_id:
            owner = repo.claim_channel(conn, tenant_id, "whatsapp", settings.whatsapp_phone_number_id)
            if owner != tenant_id:
                logger.warning("WHATSAPP_PHONE_NUMBER_ID belongs to another tenant", extra={"owner": owner})
        for kind, name, label in (
            ("ingest", "ingest_api_key", "INGEST_API_KEY (deployment)"),
            ("support_board", "support_board_webhook_secret", "SUPPORT_BOARD_WEBHOOK_SECRET (deployment)"),
        ):
            value = settings.secret(name)
            if value and repo.add_key(
                conn,
                tenant_id,
                key_id="key_" + key_hash(f"{tenant_id}:{kind}:{value}")[:12],
                kind=kind,
                key_hash=key_hash(value),
                hint=value[-4:],
                label=label,
            ):
                done.append(f"registered {label}")
    return done


def webchat_key(conn: Connection, tenant_id: str) -> str:
    """The tenant's first web chat widget key, generated when it has none."""
    return _webchat_key(conn, tenant_id)[0]


def _webchat_key(conn: Connection, tenant_id: str) -> tuple[str, bool]:
    """(the tenant's first web chat widget key, whether it was generated now because it had none)."""
    keys = [c["channel_key"] for c in repo.tenant_channels(conn, tenant_id) if c["channel"] == "webchat"]
    if keys:
        return str(keys[0]), False
    key = WIDGET_KEY_PREFIX + secrets.token_urlsafe(18)
    repo.claim_channel(conn, tenant_id, "webchat", key)
    return key, True
