"""A tenant's settings: business hours in its time zone, and the Settings it runs with."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mostrador.config import load_settings
from mostrador.tenancy.budget import month_start
from mostrador.tenancy.profile import TenantProfile, check_business_hours, parse_interval, tenant_settings

BASE = load_settings(
    {
        "TENANT_ID": "main",
        "LLM_PROVIDER": "openai",
        "OPENAI_API_KEY": "deployment-openai-key",
        "OPENAI_CHAT_MODEL": "gpt-4o-mini",
        "WHATSAPP_TOKEN": "deployment-wa-token",
        "MESSENGER_PAGE_TOKEN": "deployment-page-token",
        "SUPPORT_BOARD_API_URL": "https://main.example/include/api.php",
        "SUPPORT_BOARD_API_TOKEN": "deployment-sb-token",
        "SUPPORT_BOARD_DM_BOT_USER_ID": "2",
        "SUPPORT_BOARD_AGENT_IDS": "3,4",
        "HUMAN_TAKEOVER_PAUSE_MINUTES": "60",
    }
)


def test_business_hours_are_read_in_the_tenant_time_zone() -> None:
    shop = TenantProfile(
        tenant_id="t",
        display_name="Shop",
        time_zone="America/Caracas",  # UTC-4
        business_hours={"mon": ["09:00-13:00", "15:00-19:00"], "sat": ["09:00-24:00"]},
    )
    monday = datetime(2026, 11, 23, tzinfo=UTC)  # a Monday
    assert shop.is_open(monday.replace(hour=13, minute=0))  # 09:00 in Caracas
    assert not shop.is_open(monday.replace(hour=12, minute=59))  # 08:59
    assert not shop.is_open(monday.replace(hour=17, minute=30))  # 13:30, the lunch break
    assert shop.is_open(monday.replace(hour=22, minute=59))  # 18:59
    assert not shop.is_open(monday.replace(hour=23, minute=0))  # 19:00: closed
    saturday_night = datetime(2026, 11, 29, 3, 59, tzinfo=UTC)  # Saturday 23:59 in Caracas
    assert shop.is_open(saturday_night)
    assert not shop.is_open(datetime(2026, 11, 25, 15, tzinfo=UTC))  # Wednesday: not listed, closed
    assert TenantProfile(tenant_id="t", display_name="x").is_open(monday)  # no hours: always open


@pytest.mark.parametrize(
    ("hours", "problem"),
    [
        ({"monday": ["09:00-18:00"]}, "not one of"),
        ({"mon": ["9-18"]}, "not an interval"),
        ({"mon": ["18:00-09:00"]}, "ends before it starts"),
        ({"mon": "09:00-18:00"}, "must be a list"),
        ({"mon": ["09:00-24:30"]}, "latest end is 24:00"),
    ],
)
def test_malformed_business_hours_say_what_is_wrong(hours: dict, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        check_business_hours(hours)


def test_an_interval_may_run_until_midnight() -> None:
    assert parse_interval("20:00-24:00")[1] is None


def test_another_tenant_never_sends_with_the_deployment_channel_tokens() -> None:
    other = tenant_settings(BASE, TenantProfile(tenant_id="acme", display_name="Acme"), {})
    assert other.tenant_id == "acme"
    assert other.whatsapp_token is None and other.messenger_page_token is None
    assert other.support_board_api_token is None and other.support_board_api_url is None
    assert other.support_board_dm_bot_user_id is None and other.support_board_agent_ids == frozenset()
    # LLM keys do fall back: a tenant that brings none uses the deployment's account.
    assert other.secret("openai_api_key") == "deployment-openai-key"


def test_support_board_whatsapp_relays_go_from_the_tenants_single_number() -> None:
    # A relayed conversation names no number: the tenant's own if it has one, never the deployment's.
    one = TenantProfile(tenant_id="acme", display_name="Acme", whatsapp_numbers=("1001",))
    assert tenant_settings(BASE, one, {}).whatsapp_phone_number_id == "1001"
    several = TenantProfile(tenant_id="acme", display_name="Acme", whatsapp_numbers=("1001", "1002"))
    assert tenant_settings(BASE, several, {}).whatsapp_phone_number_id is None
    # With several, the one Support Board's conversation names, if it is one of them (channels/support_board.py).
    assert tenant_settings(BASE, several, {}).tenant_whatsapp_numbers == frozenset({"1001", "1002"})
    assert load_settings({"TENANT_WHATSAPP_NUMBERS": "1003"}).tenant_whatsapp_numbers == frozenset()  # data only


def test_the_deployment_tenant_keeps_its_single_tenant_settings() -> None:
    main = tenant_settings(BASE, TenantProfile.deployment_default("main"), {})
    assert main.secret("whatsapp_token") == "deployment-wa-token"
    assert main.support_board_api_url == BASE.support_board_api_url
    assert main.support_board_agent_ids == frozenset({"3", "4"})
    assert main.human_takeover_pause_minutes == 60


def test_a_tenant_runs_with_its_own_secrets_and_settings() -> None:
    profile = TenantProfile(
        tenant_id="acme",
        display_name="Acme",
        chat_model="gpt-4o",
        takeover_pause_minutes=15,
        support_board_api_url="https://acme.example/include/api.php",
        support_board_dm_bot_user_id="9",
        support_board_agent_ids=("11",),
    )
    secrets = {"WHATSAPP_TOKEN": "acme-wa", "OPENAI_API_KEY": "acme-openai", "SUPPORT_BOARD_API_TOKEN": "acme-sb"}
    acme = tenant_settings(BASE, profile, secrets)
    assert acme.secret("whatsapp_token") == "acme-wa"
    assert acme.secret("openai_api_key") == "acme-openai"
    assert acme.secret("support_board_api_token") == "acme-sb"
    assert acme.openai_chat_model == "gpt-4o"
    assert acme.human_takeover_pause_minutes == 15
    assert (acme.support_board_dm_bot_user_id, acme.support_board_agent_ids) == ("9", frozenset({"11"}))
    assert BASE.openai_chat_model == "gpt-4o-mini"  # the base is untouched


def test_past_the_budget_the_cheaper_model_is_used() -> None:
    profile = TenantProfile(tenant_id="acme", display_name="Acme", chat_model="gpt-4o", budget_model="gpt-4.1-nano")
    assert tenant_settings(BASE, profile, {}, over_budget=True).openai_chat_model == "gpt-4.1-nano"
    no_budget_model = TenantProfile(tenant_id="acme", display_name="Acme", chat_model="gpt-4o")
    # Without a cheaper model of its own, the deployment's choice for the provider.
    assert tenant_settings(BASE, no_budget_model, {}, over_budget=True).openai_chat_model == "gpt-4o-mini"


def test_the_budget_month_starts_in_the_tenant_time_zone() -> None:
    now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # still November 30th in Caracas
    assert month_start(now, "America/Caracas") == datetime(2026, 11, 1, 4, 0, tzinfo=UTC)
    assert month_start(now, "UTC") == datetime(2026, 12, 1, tzinfo=UTC)
