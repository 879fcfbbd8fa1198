"""Channel webhooks: Meta's handshake and signed events, Support Board's events → the reply FIFO queue.

Verify, route to the tenant owning the channel id (mostrador.tenancy: a routing document, never the
database), normalize, enqueue, answer 200. An event for an id no tenant owns is acknowledged, logged
by that business id and counted (UnroutedEvents), never processed. Content we do not understand is
logged and acknowledged; a body that cannot be read within limits (not JSON, nested too deep) is a
400; the only 5xx is a failure to enqueue, so that Meta redelivers (the queue's dedup makes that
safe). An event too large for one queue message travels with its text cut (WebhookEventsTruncated).
No HTTP client, LLM SDK or database driver is imported here.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from mostrador.channels import support_board
from mostrador.channels.meta import SIGNATURE_HEADER, handshake_challenge, verify_signature
from mostrador.config import get_settings
from mostrador.conversations.reply_queue import TRUNCATED_METADATA, envelopes_for, fit_for_queue
from mostrador.messaging.model import InboundMessage, ParsedDelivery
from mostrador.observability import logger, metrics, redact, tracer
from mostrador.queues import send_messages
from mostrador.request_input import BadRequestBody, parse_json_body
from mostrador.tenancy.inbound import Unrouted, route_meta_delivery
from mostrador.tenancy.routing import RoutingSource, key_tenant, routing_source

app = APIGatewayRestResolver()


def _answer(status: int, message: str) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body={"message": message})


def _raw_body() -> bytes:
    event = app.current_event
    body = event.body or ""
    return base64.b64decode(body) if event.is_base64_encoded else body.encode("utf-8")


def _handshake() -> Response:
    challenge = handshake_challenge(
        app.current_event.query_string_parameters, get_settings().secret("meta_verify_token")
    )
    if challenge is None:
        if not get_settings().meta_verify_token:
            logger.error("META_VERIFY_TOKEN is not configured: refusing the webhook handshake")
        return Response(status_code=403, content_type=content_types.TEXT_PLAIN, body="Forbidden")
    return Response(status_code=200, content_type=content_types.TEXT_PLAIN, body=challenge)


@app.get("/webhooks/whatsapp")
@app.get("/webhooks/meta")
def meta_handshake() -> Response:
    return _handshake()


@app.post("/webhooks/whatsapp")
@app.post("/webhooks/meta")
@tracer.capture_method
def meta_event() -> Response:
    secret = get_settings().secret("meta_app_secret")
    if not secret:
        logger.error("META_APP_SECRET is not configured: Meta events cannot be verified and are refused")
        return _answer(401, "Signature cannot be verified on this deployment.")
    raw = _raw_body()
    signature = app.current_event.headers.get(SIGNATURE_HEADER) or app.current_event.headers.get("X-Hub-Signature-256")
    if not verify_signature(raw, signature, secret):
        logger.warning("Meta event refused: missing or wrong X-Hub-Signature-256", extra={"signed": bool(signature)})
        return _answer(401, "Missing or wrong X-Hub-Signature-256 header.")
    try:
        payload = parse_json_body(raw)
    except BadRequestBody as exc:
        logger.warning("signed Meta body refused", extra={"reason": exc.message})
        return _answer(400, exc.message)
    if not isinstance(payload, dict):
        return _enqueue(ParsedDelivery(skipped=["meta body is not a JSON object"]), source="meta")
    parsed, unrouted = route_meta_delivery(payload, _routing())
    _drop_unrouted(unrouted)
    return _enqueue(parsed, source="meta")


def _routing() -> RoutingSource:
    return routing_source(get_settings(), on_error=lambda problem: logger.error(problem))


def _drop_unrouted(unrouted: list[Unrouted]) -> None:
    for part in unrouted:
        logger.warning(
            "event for a channel id no tenant owns: acknowledged, not processed",
            extra={"channel": part.channel, "account_id": part.account_id or "-"},
        )
    if unrouted:
        metrics.add_metric(name="UnroutedEvents", unit=MetricUnit.Count, value=len(unrouted))


@app.post("/webhooks/support-board")
@tracer.capture_method
def support_board_event() -> Response:
    settings = get_settings()
    multi_tenant = settings.mostrador_routing_file or settings.mostrador_routing_secret_arn
    if not multi_tenant and not settings.secret("support_board_webhook_secret"):
        logger.error("SUPPORT_BOARD_WEBHOOK_SECRET is not configured: Support Board events are refused")
        return _answer(401, "Support Board events cannot be verified on this deployment.")
    raw = _raw_body()
    # The key is checked before the body is parsed: an unauthenticated body is never read further. Each
    # Support Board installation has its own key, so the key also names the tenant.
    try:
        key = support_board.webhook_key(raw)
    except BadRequestBody as exc:
        return _answer(400, f"{exc.message} Support Board posts JSON with function, key and data.")
    tenant = key_tenant(_routing(), "support_board", key if isinstance(key, str) else None)
    if tenant is None:
        # Counted with the other events no tenant owns (a Support Board whose key was revoked or never
        # registered shows there); the key and the body stay out of the log.
        logger.warning("Support Board event refused: missing or wrong key")
        metrics.add_metric(name="UnroutedEvents", unit=MetricUnit.Count, value=1)
        return _answer(401, "Missing or wrong key.")
    try:
        payload = parse_json_body(raw)
    except BadRequestBody as exc:
        return _answer(400, exc.message)
    return _enqueue(_parsed(support_board.parse_webhook, payload, tenant), source="support_board")


def _parsed(
    parser: Callable[[dict[str, Any], str], ParsedDelivery], payload: dict[str, Any], tenant: str
) -> ParsedDelivery:
    # A verified payload of a shape we do not expect is acknowledged, never a 5xx: Meta would
    # redeliver it for days, and Support Board does not retry at all.
    try:
        return parser(payload, tenant)
    except Exception as exc:
        logger.exception("webhook payload not understood", extra={"error": type(exc).__name__})
        return ParsedDelivery(skipped=[f"payload not understood ({type(exc).__name__})"])


def _enqueue(parsed: ParsedDelivery, *, source: str) -> Response:
    for reason in parsed.skipped:
        logger.info("webhook content acknowledged and ignored", extra={"source": source, "reason": reason})
    if not parsed.items:
        return _answer(200, "Nothing to process.")
    parsed.items = [fit_for_queue(item) for item in parsed.items]
    truncated = sum(1 for i in parsed.items if isinstance(i, InboundMessage) and TRUNCATED_METADATA in i.metadata)
    if truncated:
        logger.warning(
            "webhook events too large for the queue travel cut", extra={"source": source, "count": truncated}
        )
        metrics.add_metric(name="WebhookEventsTruncated", unit=MetricUnit.Count, value=truncated)
    queue_url = get_settings().reply_queue_url
    if not queue_url:
        logger.error("REPLY_QUEUE_URL is not configured: cannot enqueue webhook events")
        return _answer(500, "Events could not be queued; please redeliver.")
    try:
        failures = send_messages(queue_url, envelopes_for(parsed.items))
    except Exception:  # any SQS/botocore failure: make the platform redeliver
        logger.exception("reply queue send failed", extra={"source": source, "items": len(parsed.items)})
        return _answer(500, "Events could not be queued; please redeliver.")
    if any(not f.sender_fault for f in failures):
        logger.error("reply queue refused events", extra={"codes": sorted({f.code for f in failures})})
        return _answer(500, "Events could not be queued; please redeliver.")
    if failures:
        # SQS calls these messages themselves invalid: a redelivery would be refused the same way.
        logger.error("reply queue rejected events as invalid", extra={"codes": sorted({f.code for f in failures})})
        metrics.add_metric(name="WebhookEventsRejected", unit=MetricUnit.Count, value=len(failures))
    for item in parsed.items:
        conversation = getattr(item, "conversation_id", "")
        logger.info(
            "webhook event queued",
            extra={"source": source, "kind": type(item).__name__, "conversation": redact(conversation)},
        )
    queued = len(parsed.items) - len(failures)
    metrics.add_metric(name="WebhookEventsQueued", unit=MetricUnit.Count, value=queued)
    return _answer(200, f"Queued {queued} event(s).")


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
