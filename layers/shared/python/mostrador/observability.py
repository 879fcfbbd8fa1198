"""Logger, tracer and metrics, created once per execution environment and shared by every handler."""

from __future__ import annotations

import hashlib
import os

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "mostrador"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace="Mostrador", service=SERVICE)
# Two stages (dev, prod) in one account must not share metrics, or each stage's alarms fire on both.
if stage := os.environ.get("MOSTRADOR_STAGE"):
    metrics.set_default_dimensions(stage=stage)


def redact(value: str | None) -> str:
    """A stable, non-reversible tag for a customer identifier (phone numbers never reach logs)."""
    if not value:
        return "-"
    return "id:" + hashlib.sha256(value.encode()).hexdigest()[:12]
