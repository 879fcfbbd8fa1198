"""Applies pending database migrations; the deploy runs it (a CDK trigger) after the database is up."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from mostrador.config import get_settings
from mostrador.db.migrate import apply_migrations
from mostrador.observability import logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    url = get_settings().secret("database_url")
    if not url:
        # Raising fails the trigger, and with it the deploy, before any function runs on an old schema.
        raise RuntimeError("No database configured: set DATABASE_SECRET_ARN (AWS) or DATABASE_URL (local)")
    applied = apply_migrations(url)
    logger.info("migrations applied", extra={"applied": applied, "count": len(applied)})
    return {"applied": applied}
