"""One WhatsApp customer, several forms of their number.

In Brazil, Mexico and Argentina a mobile number is written two ways (channels/whatsapp.py,
canonical_number). A customer's own messages carry their WhatsApp id; an echo of the WhatsApp
Business app (coexistence) carries the number as the business entered it, which may be the other
form. Conversation ids stay what the customer's own messages use: an echo is put into the
conversation the customer last wrote in under any form of the number, and a conversation the
customer writes in gets a pause that an echo set under another form (the owner wrote first from
the app, before the customer had a conversation to match).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from mostrador.channels.whatsapp import same_customer_conversation_ids
from mostrador.db import conversation_repository as repo
from mostrador.messaging.model import InboundMessage
from mostrador.observability import logger, redact

if TYPE_CHECKING:
    from mostrador.db.connection import Connection


def in_customers_conversation(conn: Connection, message: InboundMessage, now: datetime) -> InboundMessage:
    """`message`, moved into the customer's conversation when it is a business-app echo addressed to
    another form of the customer's number; a customer's message also takes up such an echo's pause.
    Anything that is not a WhatsApp number with several forms costs nothing."""
    if message.channel != "whatsapp":
        return message
    ids = same_customer_conversation_ids(message.conversation_id)
    if len(ids) == 1:
        return message
    if message.metadata.get("echo_source") == "business_app":
        found = repo.customers_conversation(conn, message.tenant_id, ids)
        if found is None or found == message.conversation_id:
            return message
        logger.info(
            "business app echo matched to the customer's conversation by another form of the number",
            extra={"conversation": redact(found), "addressed_to": redact(message.conversation_id)},
        )
        return message.model_copy(update={"conversation_id": found})
    if message.sender_role == "customer" and repo.share_pause(
        conn, message.tenant_id, message.conversation_id, ids[1:], now
    ):
        logger.info(
            "pause shared from another form of the customer's number",
            extra={"conversation": redact(message.conversation_id)},
        )
    return message
