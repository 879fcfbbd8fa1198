"""Logger, tracer and metrics, created once per execution environment and shared by every handler."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics

SERVICE = "mostrador"


class UntracedTracer:
    """Stands in for Powertools' Tracer when tracing is off: the same decorators, and the X-Ray SDK
    (about a third of a second of imports) is never loaded. The webhook runs this way on AWS."""

    def capture_lambda_handler(self, handler: Callable[..., Any] | None = None, **_: Any) -> Any:
        return handler if handler is not None else (lambda fn: fn)

    def capture_method(self, method: Callable[..., Any] | None = None, **_: Any) -> Any:
        return method if method is not None else (lambda fn: fn)

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str | None = None) -> None:
        pass


def _tracer() -> Any:
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() in ("1", "true"):
        return UntracedTracer()
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE)


logger = Logger(service=SERVICE)
tracer = _tracer()
metrics = Metrics(namespace="Mostrador", service=SERVICE)
# Two stages (dev, prod) in one account must not share metrics, or each stage's alarms fire on both.
if stage := os.environ.get("MOSTRADOR_STAGE"):
    metrics.set_default_dimensions(stage=stage)


def redact(value: str | None) -> str:
    """A stable tag for a customer identifier, so logs can follow a conversation without holding it.

    Keyed with a deployment secret: phone numbers are few enough that a plain hash of them could be
    reversed by trying them all, a keyed one cannot without the key."""
    if not value:
        return "-"
    return "id:" + hmac.new(_redaction_key(), value.encode(), hashlib.sha256).hexdigest()[:12]


def _redaction_key() -> bytes:
    from mostrador.config import get_settings

    settings = get_settings()
    for name in ("meta_app_secret", "ingest_api_key", "admin_token", "support_board_webhook_secret"):
        if secret := settings.secret(name):
            return f"mostrador-log-tag:{secret}".encode()
    return b"mostrador-log-tag"  # nothing secret configured (a bare local run): nothing to protect
