"""Inbound events to their tenants: each part of a Meta delivery goes to the tenant owning its business
account; a part no tenant owns is left out (acknowledged, logged by its account id, counted), never
handed to another tenant. The account ids (phone_number_id, Page id, Instagram account id) are the
business's, not a customer's: they are what an operator needs to register a channel."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from mostrador.channels import messenger, whatsapp
from mostrador.channels.meta import split_by_account
from mostrador.messaging.model import ParsedDelivery
from mostrador.tenancy.routing import RoutedChannel, RoutingSource, channel_tenant

Parser = Callable[[Mapping[str, Any], str], ParsedDelivery]


@dataclass(frozen=True)
class Unrouted:
    channel: str
    account_id: str


def _parsed(parser: Parser, payload: Mapping[str, Any], tenant: str) -> ParsedDelivery:
    # A verified payload of a shape we do not expect is acknowledged, never a 5xx: Meta would redeliver
    # it for days. Only the exception's type is kept: its text may quote the payload.
    try:
        return parser(payload, tenant)
    except Exception as exc:
        return ParsedDelivery(skipped=[f"payload not understood ({type(exc).__name__})"])


def route_meta_delivery(payload: Mapping[str, Any], source: RoutingSource) -> tuple[ParsedDelivery, list[Unrouted]]:
    """The queue items of every part whose account has a tenant, and the accounts that have none."""
    parsed = ParsedDelivery()
    unrouted: list[Unrouted] = []
    parts = split_by_account(payload)
    if not parts:
        parsed.skipped.append(f"meta object {payload.get('object')!r}")
    for channel, account, part in parts:
        parser: Parser = whatsapp.parse_delivery if channel == "whatsapp" else messenger.parse_delivery
        tenant = channel_tenant(source, cast(RoutedChannel, channel), account)
        if tenant is None:
            unrouted.append(Unrouted(channel, account))
            continue
        parsed.extend(_parsed(parser, part, tenant))
    return parsed, unrouted
