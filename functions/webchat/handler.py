"""Web chat API: POST /webchat/messages puts a customer's text on the reply FIFO queue; GET polls the
conversation's messages after a given id. psycopg is imported only by the GET route.

The page's widget key (header X-Widget-Key, public) names the tenant through the routing document. A
key no tenant owns is refused with 403 (a browser, unlike Meta, does not redeliver; counted as
UnroutedEvents); no key at all means the tenant answering unclaimed ids, when there is one."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from mostrador.channels.webchat import (
    WebChatRequestError,
    conversation_key,
    cors_headers,
    parse_poll,
    parse_post,
    public_messages,
)
from mostrador.config import get_settings
from mostrador.conversations.reply_queue import envelopes_for
from mostrador.db.connection import DatabaseUnavailable, database_deadline
from mostrador.observability import logger, metrics, redact, tracer
from mostrador.queues import send_messages
from mostrador.tenancy.routing import channel_tenant, routing_source

app = APIGatewayRestResolver()


def _answer(status: int, body: dict[str, Any]) -> Response:
    origin = app.current_event.headers.get("origin") or app.current_event.headers.get("Origin")
    headers = cors_headers(origin, get_settings().webchat_allowed_origins)
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers)


@app.route("/webchat/messages", method="OPTIONS")
def preflight() -> Response:
    return _answer(204, {})


def _tenant() -> str:
    """The tenant of the page's widget key; WebChatRequestError(4xx) when there is none."""
    headers = app.current_event.headers
    key = (headers.get("x-widget-key") or headers.get("X-Widget-Key") or "").strip()
    source = routing_source(get_settings(), on_error=lambda problem: logger.error(problem))
    if not key:
        unrouted = source.table().unrouted_tenant
        if unrouted is None:
            raise WebChatRequestError(400, "Send the page's widget key in the X-Widget-Key header.")
        return unrouted
    tenant = channel_tenant(source, "webchat", key)
    if tenant is None:
        logger.warning("web chat request with a widget key no tenant owns")
        metrics.add_metric(name="UnroutedEvents", unit=MetricUnit.Count, value=1)
        raise WebChatRequestError(403, "Unknown widget key: copy the key the shop's tenant was given.")
    return tenant


@app.post("/webchat/messages")
@tracer.capture_method
def post_message() -> Response:
    settings = get_settings()
    event = app.current_event
    # The raw bytes, not decoded_body: that decodes a base64 body as UTF-8 unguarded (a 502 otherwise).
    body = base64.b64decode(event.body) if event.body and event.is_base64_encoded else event.body
    try:
        message = parse_post(body, _tenant(), datetime.now(UTC))
    except WebChatRequestError as exc:
        return _answer(exc.status, {"error": exc.message})
    if not settings.reply_queue_url:
        logger.error("REPLY_QUEUE_URL is not configured")
        return _answer(503, {"error": "Web chat is not configured on this deployment (no reply queue)."})
    failures = send_messages(settings.reply_queue_url, envelopes_for([message]))
    if failures:
        logger.error("web chat message not enqueued", extra={"code": failures[0].code})
        return _answer(503, {"error": "Could not accept the message right now; send it again."})
    metrics.add_metric(name="WebChatMessages", unit=MetricUnit.Count, value=1)
    logger.info("web chat message enqueued", extra={"conversation": redact(message.conversation_id)})
    return _answer(202, {"conversationId": message.sender_id, "messageId": message.platform_message_id})


@app.get("/webchat/messages")
@tracer.capture_method
def poll_messages() -> Response:
    try:
        conversation_id, after = parse_poll(app.current_event.query_string_parameters)
        tenant = _tenant()
    except WebChatRequestError as exc:
        return _answer(exc.status, {"error": exc.message})
    from mostrador.db.connection import get_connection
    from mostrador.db.conversation_repository import messages_after

    rows = messages_after(get_connection(), tenant, conversation_key(conversation_id), after)
    messages = public_messages(rows)
    last = messages[-1]["id"] if messages else after
    return _answer(200, {"conversationId": conversation_id, "messages": messages, "next": last})


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        with database_deadline():
            return app.resolve(event, context)
    except DatabaseUnavailable as unavailable:
        logger.error("database unavailable", extra={"reason": str(unavailable)})
        headers = dict(event.get("headers") or {})
        origin = headers.get("origin") or headers.get("Origin")
        answer = {
            **cors_headers(origin, get_settings().webchat_allowed_origins),
            "Content-Type": content_types.APPLICATION_JSON,
            "Retry-After": str(unavailable.retry_after_seconds),
        }
        body = json.dumps({"error": unavailable.answer})
        return {"statusCode": 503, "headers": answer, "body": body, "isBase64Encoded": False}
