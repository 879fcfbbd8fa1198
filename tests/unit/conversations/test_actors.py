from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from mostrador.conversations.actors import TakeoverPolicy
from mostrador.messaging.model import InboundMessage

DM_BOT, PROXY, AGENT, CUSTOMER = "2", "1", "3", "77"


def policy(tag: str | None = None, meta_app_id: str | None = "our-app") -> TakeoverPolicy:
    return TakeoverPolicy(
        dm_bot_user_id=DM_BOT,
        comment_bot_proxy_user_id=PROXY,
        agent_ids=frozenset({AGENT, "15"}),
        comment_bot_tag=tag,
        meta_app_id=meta_app_id,
        pause_minutes=60,
    )


def sb(sender: str, text: str = "hola", role: str = "unknown") -> InboundMessage:
    return InboundMessage(
        tenant_id="t",
        channel="support_board",
        conversation_id="sb:9",
        sender_id=sender,
        sender_role=role,  # type: ignore[arg-type]
        text=text,
        platform_message_id=f"sb:{sender}:{text}",
        timestamp=datetime.now(UTC),
        metadata={"sb_conversation_user_id": CUSTOMER},
    )


@dataclass(frozen=True)
class Entry:
    user_id: str
    text: str = ""
    created_at: datetime | None = None


def test_dm_bot_echo_is_ignored():
    assert (policy().classify(sb(DM_BOT)).action, policy().classify(sb(DM_BOT)).reason) == ("ignore", "dm_bot_echo")


def test_comment_bot_without_tag_configured_is_logged_not_paused():
    decision = policy(tag=None).classify(sb(PROXY, "Hola! Vimos tu comentario"))
    assert (decision.actor, decision.action) == ("comment_bot", "log")


def test_comment_bot_with_tag_is_logged_and_proxy_without_tag_is_a_human():
    tagged = policy(tag="[cb]").classify(sb(PROXY, "Hola [cb] vimos tu comentario"))
    untagged = policy(tag="[cb]").classify(sb(PROXY, "Soy la administradora, te ayudo"))
    assert (tagged.actor, tagged.action) == ("comment_bot", "log")
    assert (untagged.actor, untagged.action, untagged.reason) == ("agent", "pause", "proxy_account_without_tag")


def test_dedicated_agent_pauses():
    assert policy().classify(sb(AGENT)).action == "pause"
    assert policy().classify(sb("15")).actor == "agent"


def test_customer_is_recognised_by_role_or_by_conversation_user_id():
    assert policy().classify(sb(CUSTOMER, role="customer")).action == "reply"
    assert policy().classify(sb(CUSTOMER)).action == "reply"


def test_any_other_sender_pauses():
    decision = policy().classify(sb("999"))
    assert (decision.actor, decision.action, decision.reason) == ("unknown", "pause", "unclassified_sender")


def test_implicit_takeover_finds_a_person_after_the_bots():
    history = [Entry(CUSTOMER), Entry(DM_BOT), Entry(AGENT, "te atiendo yo"), Entry(CUSTOMER)]
    assert policy().human_took_over(history, CUSTOMER) == Entry(AGENT, "te atiendo yo")


def test_an_implicit_takeover_ends_with_the_pause_length_or_a_resume():
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    agent_yesterday = Entry(AGENT, "te atiendo yo", now - timedelta(days=1))
    history = [Entry(CUSTOMER, "", now - timedelta(days=1, minutes=5)), agent_yesterday, Entry(CUSTOMER, "", now)]
    assert policy().human_took_over(history, CUSTOMER, since=now - timedelta(hours=2)) is None
    assert policy().human_took_over(history, CUSTOMER, since=now - timedelta(days=2)) == agent_yesterday
    undated = [Entry(AGENT, "sin fecha"), Entry(CUSTOMER, "", now)]
    assert policy().human_took_over(undated, CUSTOMER, since=now) == Entry(AGENT, "sin fecha")


def test_no_takeover_when_only_the_bots_wrote():
    history = [Entry(PROXY, "[cb] hola"), Entry(CUSTOMER), Entry(DM_BOT), Entry(CUSTOMER)]
    assert policy(tag="[cb]").human_took_over(history, CUSTOMER) is None
    assert policy(tag=None).human_took_over([Entry(PROXY, "hola"), Entry(CUSTOMER)], CUSTOMER) is None


def test_proxy_account_without_tag_in_history_is_a_takeover():
    history = [Entry(PROXY, "[cb] hola"), Entry(CUSTOMER), Entry(PROXY, "soy humana"), Entry(CUSTOMER)]
    assert policy(tag="[cb]").human_took_over(history, CUSTOMER) == Entry(PROXY, "soy humana")


def meta(channel: str, role: str, **metadata: str) -> InboundMessage:
    return InboundMessage(
        tenant_id="t",
        channel=channel,  # type: ignore[arg-type]
        conversation_id="m:1",
        sender_id="page" if role != "customer" else "psid",
        sender_role=role,  # type: ignore[arg-type]
        text="hola",
        platform_message_id="mid.1",
        timestamp=datetime.now(UTC),
        metadata=metadata,
    )


@pytest.mark.parametrize("channel", ["messenger", "instagram"])
def test_echo_of_our_app_is_ignored_and_any_other_echo_pauses(channel):
    ours = policy().classify(meta(channel, "page", is_echo="true", app_id="our-app"))
    inbox = policy().classify(meta(channel, "page", is_echo="true", app_id="263902037430900"))
    assert (ours.action, ours.reason) == ("ignore", "own_echo")
    assert (inbox.action, inbox.reason) == ("pause", "page_inbox_echo")


def test_echo_of_a_message_we_sent_is_ours_even_without_an_app_id_setting():
    message = meta("messenger", "page", is_echo="true", app_id="whatever")
    assert policy(meta_app_id=None).classify(message, sent_by_us=True).action == "ignore"
    assert policy(meta_app_id=None).classify(message).action == "pause"


def test_a_whatsapp_business_app_echo_is_a_person_and_pauses():
    echo = meta("whatsapp", "agent", is_echo="true", echo_source="business_app")
    decision = policy().classify(echo)
    assert (decision.actor, decision.action, decision.reason) == ("agent", "pause", "business_app_echo")
    assert policy().classify(echo, sent_by_us=True).action == "ignore"


@pytest.mark.parametrize(
    ("role", "metadata", "actor"),
    [
        ("customer", {}, "customer"),
        ("page", {"is_echo": "true", "app_id": "263902037430900"}, "agent"),
        ("page", {"is_echo": "true", "app_id": "our-app"}, "bot"),
    ],
)
def test_standby_events_are_logged_never_answered_or_paused(role, metadata, actor):
    decision = policy().classify(meta("messenger", role, standby="true", **metadata))
    assert (decision.actor, decision.action, decision.reason) == (actor, "log", "standby")


def test_customers_on_meta_channels_get_replies():
    assert policy().classify(meta("whatsapp", "customer")).action == "reply"
    assert policy().classify(meta("messenger", "customer")).action == "reply"
