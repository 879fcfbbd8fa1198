"""Applies pending database migrations, then creates or updates the database role the functions connect as;
the deploy runs it (a CDK trigger) after the database is up. Locally one user does everything (no role).

Then the deployment's own tenant (TENANT_ID, from its single-tenant settings) is made sure of, and the
routing document is published from the database (docs/tenants.md), before any new function code runs."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mostrador.config import database_app_role, get_settings
from mostrador.db.connection import connect
from mostrador.db.migrate import apply_migrations, grant_app_role
from mostrador.observability import logger, tracer
from mostrador.operations.tenants import ensure_default_tenant, publish_routing
from mostrador.tenancy.routing import routing_publisher


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = get_settings()
    url = settings.secret("database_url")
    if not url:
        # Raising fails the trigger, and with it the deploy, before any function runs on an old schema.
        raise RuntimeError("No database configured: set DATABASE_SECRET_ARN (AWS) or DATABASE_URL (local)")
    applied = apply_migrations(url)
    logger.info("migrations applied", extra={"applied": applied, "count": len(applied)})
    app_role = database_app_role()
    if app_role is not None:
        grant_app_role(url, *app_role)
        logger.info("application role granted", extra={"role": app_role[0]})
    answer: dict[str, Any] = {"applied": applied, **({"appRole": app_role[0]} if app_role else {})}
    with connect(url) as conn:
        done = ensure_default_tenant(conn, settings)
        publisher = routing_publisher(settings)
        if publisher is not None:
            answer["routing"] = publish_routing(conn, publisher)
    if done:
        logger.info("default tenant", extra={"done": done})
        answer["tenants"] = done
    return answer
