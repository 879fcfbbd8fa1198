"""Conversation handles and masked customer ids (mostrador.operations.console_privacy): what the admin API
gives principals without view_customer_contact."""

from __future__ import annotations

from mostrador.operations.auth import ROLE_PERMISSIONS, Permission
from mostrador.operations.console_privacy import ConversationHandles, masked_customer, redacted

CONVERSATION = "wa:109876543210:584140009002"


def test_a_handle_opens_its_conversation_in_its_tenant_only_and_tells_nothing_of_the_number() -> None:
    handles = ConversationHandles("key-one")
    handle = handles.handle("default", CONVERSATION)
    assert handle.startswith("h.") and "584140009002" not in handle and "9002" not in handle
    assert handle == handles.handle("default", CONVERSATION)  # deterministic: the page compares them
    assert handles.conversation("default", handle) == CONVERSATION
    assert handles.conversation("other-shop", handle) is None
    assert ConversationHandles("key-two").conversation("default", handle) is None
    assert handles.handle("default", "wa:109876543210:584140009003") != handle
    for forged in (handle[:-1] + ("A" if handle[-1] != "A" else "B"), handle[:10], "h.", "h.!!!", CONVERSATION):
        assert handles.conversation("default", forged) is None, forged


def test_customer_ids_keep_their_last_four_characters() -> None:
    assert masked_customer("584140009002") == "••••9002"
    assert masked_customer("1234") == "••••"
    assert masked_customer(None) is None


def test_every_conversation_and_customer_id_is_replaced_at_any_depth() -> None:
    body = {
        "conversations": [{"conversationId": CONVERSATION, "customerId": "584140009002", "text": "hola"}],
        "suggestion": {"conversationId": CONVERSATION, "escalation": {"customerId": "584140009002", "id": 3}},
        "rows": [{"conversation_id": CONVERSATION, "customer_id": "584140009002"}],
        "customerId": None,
        "nextCursor": "WyIyMDI2Il0",
        "page": {"nextCursor": None},
    }
    shown = redacted(body, lambda conversation_id: "h.x", lambda cursor: "c.sealed-" + cursor)
    assert shown == {
        "conversations": [{"conversationId": "h.x", "customerId": "••••9002", "text": "hola"}],
        "suggestion": {"conversationId": "h.x", "escalation": {"customerId": "••••9002", "id": 3}},
        "rows": [{"conversation_id": "h.x", "customer_id": "••••9002"}],
        "customerId": None,
        "nextCursor": "c.sealed-WyIyMDI2Il0",
        "page": {"nextCursor": None},
    }


def test_sealed_cursors_and_handles_never_open_as_each_other() -> None:
    handles = ConversationHandles("key-one")
    cursors = ConversationHandles("key-one", purpose="list cursor", prefix="c.")
    sealed = cursors.handle("default", CONVERSATION)
    assert sealed.startswith("c.") and cursors.conversation("default", sealed) == CONVERSATION
    assert handles.conversation("default", sealed) is None
    assert cursors.conversation("default", handles.handle("default", CONVERSATION)) is None
    assert cursors.conversation("default", "c." + handles.handle("default", CONVERSATION)[2:]) is None


def test_whoever_may_export_may_see_customer_contacts() -> None:
    """Exports are files with every customer id (not redacted): the export permission comes only with
    view_customer_contact (docs/console.md, "Customer numbers")."""
    for role, permissions in ROLE_PERMISSIONS.items():
        if Permission.EXPORT in permissions:
            assert Permission.VIEW_CUSTOMER_CONTACT in permissions, role
