"""Logger, tracer and metrics, created once per execution environment and shared by every handler."""

from __future__ import annotations

import hashlib

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "mostrador"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace="Mostrador", service=SERVICE)


def redact(value: str | None) -> str:
    """A stable, non-reversible tag for a customer identifier (phone numbers never reach logs)."""
    if not value:
        return "-"
    return "id:" + hashlib.sha256(value.encode()).hexdigest()[:12]
