"""Catalog ingest API: POST /ingest/products (and the NamDamasco alias), sync progress, health.

The X-API-KEY names the tenant (mostrador.tenancy.routing: a hash looked up in the routing document;
several keys per tenant, for rotation). The POST path validates, enqueues, then records the sync's
receipt under that tenant within a short deadline (never failing the 202 over it). psycopg is imported
at the first receipt write or GET, never at module import.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from mostrador.catalog.ingest import CatalogRequestError, accept_catalog
from mostrador.config import get_settings
from mostrador.db.connection import DatabaseUnavailable, database_deadline
from mostrador.db.receipt_writer import ReceiptWriter
from mostrador.observability import logger, metrics, tracer
from mostrador.tenancy.routing import key_tenant, routing_source

app = APIGatewayRestResolver()
receipts = ReceiptWriter(lambda: get_settings().secret("database_url"))


def _error(status: int, message: str) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body={"error": message})


def _tenant() -> str | None:
    """The tenant whose ingest key the request carries; None for a missing, wrong or revoked key."""
    settings = get_settings()
    multi_tenant = settings.mostrador_routing_file or settings.mostrador_routing_secret_arn
    if not multi_tenant and not settings.secret("ingest_api_key"):
        logger.error("INGEST_API_KEY is not configured; refusing every ingest request")
        return None
    given = app.current_event.headers.get("x-api-key") or app.current_event.headers.get("X-API-KEY") or ""
    source = routing_source(settings, on_error=lambda problem: logger.error(problem))
    return key_tenant(source, "ingest", given)


def _raw_body() -> bytes:
    event = app.current_event
    body = event.body or ""
    return base64.b64decode(body) if event.is_base64_encoded else body.encode("utf-8")


@app.post("/ingest/products")
@app.post("/api/receive-products")
@tracer.capture_method
def receive_products() -> Response:
    tenant = _tenant()
    if tenant is None:
        return _error(401, "Missing or wrong X-API-KEY header.")
    settings = get_settings()
    if not settings.enrich_queue_url:
        logger.error("ENRICH_QUEUE_URL is not configured")
        return _error(503, "Ingest is not configured on this deployment (no enrich queue).")
    try:
        result = accept_catalog(
            _raw_body(),
            tenant_id=tenant,
            queue_url=settings.enrich_queue_url,
            max_bytes=settings.ingest_max_body_bytes,
            record_receipt=receipts,
        )
    except CatalogRequestError as exc:
        logger.info("catalog push refused", extra={"status": exc.status, "reason": exc.message})
        return _error(exc.status, exc.message)
    metrics.add_metric(name="ProductsAccepted", unit=MetricUnit.Count, value=result.accepted)
    metrics.add_metric(name="ProductsRejected", unit=MetricUnit.Count, value=len(result.rejected))
    if result.receipt_recorded is False:
        metrics.add_metric(name="SyncReceiptsDeferred", unit=MetricUnit.Count, value=1)
    logger.info(
        "catalog push accepted", extra={"tenant": tenant, "sync_id": result.sync_id, "accepted": result.accepted}
    )
    status = 202 if result.accepted else 422
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=result.as_json())


@app.get("/ingest/syncs/<sync_id>")
@tracer.capture_method
def sync_progress(sync_id: str) -> Response:
    tenant = _tenant()
    if tenant is None:
        return _error(401, "Missing or wrong X-API-KEY header.")
    from mostrador.db.catalog_repository import CatalogRepository
    from mostrador.db.connection import get_connection

    status = CatalogRepository(get_connection()).sync_status(tenant, sync_id)
    if status is None:
        return _error(
            404,
            f"No sync {sync_id!r}: a sync is known once a POST for it has been answered 202 "
            "(or once enrichment starts on it, if the database was unavailable then).",
        )
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=status)


@app.get("/health")
def health() -> Response:
    from mostrador.db.connection import database_reachable

    ok = database_reachable()
    body = {"status": "ok" if ok else "degraded", "database": "reachable" if ok else "unreachable"}
    return Response(status_code=200 if ok else 503, content_type=content_types.APPLICATION_JSON, body=body)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        with database_deadline():
            return app.resolve(event, context)
    except DatabaseUnavailable as unavailable:
        logger.error("database unavailable", extra={"reason": str(unavailable)})
        headers = {"Content-Type": content_types.APPLICATION_JSON, "Retry-After": str(unavailable.retry_after_seconds)}
        body = json.dumps({"error": unavailable.answer})
        return {"statusCode": 503, "headers": headers, "body": body, "isBase64Encoded": False}
