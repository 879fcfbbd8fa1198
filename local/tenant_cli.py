"""`mostrador tenant add/list/show/set/keys`: the /admin/tenants API from a terminal, for any deployment URL.

The admin token is found as for `mostrador token` (local/admin_client.admin_token): --token, else
MOSTRADOR_ADMIN_TOKEN, else ADMIN_TOKEN, else the local stack's generated one (data folder). Listing and adding
tenants and claiming channel ids are the operator's; a tenant's owner may show, set and rotate keys of its own.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from local.admin_client import TOKEN_SOURCES, AdminApi, AdminCallFailed, admin_token
from local.running_stack import DATA_DIR_HELP

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SECRET_NAMES = ("WHATSAPP_TOKEN", "MESSENGER_PAGE_TOKEN", "SUPPORT_BOARD_API_TOKEN", "OPENAI_API_KEY", "GEMINI_API_KEY")


class TenantCommandError(Exception):
    pass


def parse_hours(text: str) -> dict[str, list[str]]:
    """ "mon-fri 09:00-13:00 15:00-19:00; sat 09:00-13:00" → {"mon": [...], ...}; "always" → {} (always open)."""
    text = text.strip()
    if text.lower() in ("always", "none", ""):
        return {}
    hours: dict[str, list[str]] = {}
    for group in text.split(";"):
        days_text, *intervals = group.split()
        if not intervals:
            raise TenantCommandError(
                f"--hours: {group.strip()!r} needs days and at least one interval like 09:00-18:00"
            )
        days: list[str] = []
        for part in days_text.lower().split(","):
            first, _, last = part.partition("-")
            if first not in WEEKDAYS or (last and last not in WEEKDAYS):
                raise TenantCommandError(f"--hours: {part!r} is not a day or a range like mon-fri")
            start, end = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
            days.extend(WEEKDAYS[start : end + 1])
        for day in days:
            hours.setdefault(day, []).extend(intervals)
    return hours


def _ids(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def settings_body(args: argparse.Namespace) -> dict[str, Any]:
    """The PATCH/POST body for the settings flags given on the command line (only those)."""
    body: dict[str, Any] = {}
    simple = {
        "name": "displayName",
        "time_zone": "timeZone",
        "language": "defaultLanguage",
        "currency": "currency",
        "prompt": "systemPrompt",
        "after_hours": "afterHoursMessage",
        "pause_minutes": "takeoverPauseMinutes",
        "provider": "llmProvider",
        "model": "chatModel",
        "token_budget": "monthlyTokenBudget",
        "over_budget": "overBudget",
        "budget_model": "budgetModel",
        "escalation_email": "escalationEmail",
        "escalation_webhook": "escalationWebhookUrl",
        "sb_url": "supportBoardApiUrl",
        "sb_bot_user": "supportBoardDmBotUserId",
        "active": "active",
        "claim_unrouted": "claimsUnrouted",
    }
    for option, field in simple.items():
        value = getattr(args, option, None)
        if value is not None:
            body[field] = None if value == "" else value
    if getattr(args, "prompt_file", None):
        body["systemPrompt"] = Path(args.prompt_file).read_text(encoding="utf-8")
    if getattr(args, "hours", None) is not None:
        body["businessHours"] = parse_hours(args.hours)
    if getattr(args, "escalation_agents", None) is not None:
        body["escalationAgentIds"] = _ids(args.escalation_agents)
    if getattr(args, "sb_agents", None) is not None:
        body["supportBoardAgentIds"] = _ids(args.sb_agents)
    return body


def add_settings_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", help="display name")
    parser.add_argument("--time-zone", help="IANA time zone, e.g. America/Caracas")
    parser.add_argument("--language", help="default language (es, en, pt, fr, it, de)")
    parser.add_argument("--currency", help="ISO 4217 code prices are shown in, e.g. USD")
    parser.add_argument("--prompt", help="system prompt (voice, store facts); '' clears it")
    parser.add_argument("--prompt-file", help="read the system prompt from this file")
    parser.add_argument("--hours", help="business hours: 'mon-fri 09:00-18:00; sat 09:00-13:00', or 'always'")
    parser.add_argument("--after-hours", help="told instead of the handoff notice when closed; '' clears it")
    parser.add_argument("--pause-minutes", type=int, help="takeover pause length")
    parser.add_argument("--provider", choices=("openai", "gemini", "offline"), help="LLM provider")
    parser.add_argument("--model", help="chat model")
    parser.add_argument("--token-budget", type=int, help="monthly LLM token budget (soft)")
    parser.add_argument("--over-budget", choices=("cheaper_model", "escalate"), help="what happens past the budget")
    parser.add_argument("--budget-model", help="the cheaper model used past the budget")
    parser.add_argument("--escalation-agents", help="Support Board agent ids escalations go to (comma-separated)")
    parser.add_argument("--escalation-email", help="e-mail mailed each escalation")
    parser.add_argument("--escalation-webhook", help="https URL POSTed a notice of each escalation")
    parser.add_argument("--sb-url", help="the tenant's Support Board API URL (…/include/api.php)")
    parser.add_argument("--sb-bot-user", help="the tenant's Support Board DM bot user id")
    parser.add_argument("--sb-agents", help="Support Board agent user ids (their messages pause the bot)")
    active = parser.add_mutually_exclusive_group()
    active.add_argument("--active", dest="active", action="store_true", default=None, help="route its ids")
    active.add_argument("--inactive", dest="active", action="store_false", help="stop routing its ids")
    claim = parser.add_mutually_exclusive_group()
    claim.add_argument("--claim-unrouted", dest="claim_unrouted", action="store_true", default=None)
    claim.add_argument(
        "--no-claim-unrouted",
        dest="claim_unrouted",
        action="store_false",
        help="stop answering ids nobody claims (registers the ids its conversations use first)",
    )


def add_channel_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--whatsapp", action="append", default=[], help="claim a WhatsApp phone_number_id")
    parser.add_argument("--messenger", action="append", default=[], help="claim a Facebook Page id")
    parser.add_argument("--instagram", action="append", default=[], help="claim an Instagram account id")


def _token(args: argparse.Namespace) -> str:
    token = admin_token(args.token, Path(args.data_dir))
    if not token:
        raise TenantCommandError("give --token (or set MOSTRADOR_ADMIN_TOKEN)")
    return token


def _path(tenant_id: str, *rest: str) -> str:
    return "/admin/tenants/" + "/".join(quote(part, safe="") for part in (tenant_id, *rest))


def _claim_channels(client: AdminApi, args: argparse.Namespace, out: list[str]) -> None:
    for channel in ("whatsapp", "messenger", "instagram"):
        for channel_id in getattr(args, channel, []) or []:
            client.call("POST", _path(args.tenant_id, "channels"), body={"channel": channel, "id": channel_id})
            out.append(f"{channel} {channel_id} → {args.tenant_id}")


def run(args: argparse.Namespace) -> int:
    try:
        client = AdminApi(args.url, _token(args))
        return _commands[args.tenant_command](client, args)
    except (TenantCommandError, AdminCallFailed, httpx.HTTPError, OSError) as error:
        print(f"mostrador tenant: {error}", file=sys.stderr)
        return 1


def _list(client: AdminApi, args: argparse.Namespace) -> int:
    answer = client.call("GET", "/admin/tenants")
    if args.json:
        print(json.dumps(answer, indent=2))
        return 0
    print(f"{'TENANT':<20} {'NAME':<28} {'ACTIVE':<7} {'CHANNELS':>8} {'KEYS':>5}  MODEL / BUDGET")
    for tenant in answer["tenants"]:
        model = tenant.get("chatModel") or "(deployment)"
        budget = tenant.get("monthlyTokenBudget")
        extra = f"{model}" + (f" / {budget} tokens" if budget else "")
        if tenant.get("claimsUnrouted"):
            extra += "  [answers unclaimed ids]"
        print(
            f"{tenant['tenantId']:<20} {tenant['displayName'][:28]:<28} {'yes' if tenant['active'] else 'no':<7} "
            f"{tenant['channelCount']:>8} {tenant['keyCount']:>5}  {extra}"
        )
    return 0


def _show(client: AdminApi, args: argparse.Namespace) -> int:
    print(json.dumps(client.call("GET", _path(args.tenant_id)), indent=2))
    return 0


def _add(client: AdminApi, args: argparse.Namespace) -> int:
    body = {"tenantId": args.tenant_id, "displayName": args.name or args.tenant_id, **settings_body(args)}
    created = client.call("POST", "/admin/tenants", body=body)
    done = [f"tenant {created['tenantId']} created", *(f"warning: {w}" for w in created.get("warnings", []))]
    _claim_channels(client, args, done)
    print("\n".join(done))
    print(f"web chat key: {created['webchatKey']}   (chat: {args.url.rstrip('/')}/chat?key={created['webchatKey']})")
    print(f"next: mostrador tenant keys {args.tenant_id} --new ingest   (the fetcher's X-API-KEY)")
    return 0


def _set(client: AdminApi, args: argparse.Namespace) -> int:
    done: list[str] = []
    body = settings_body(args)
    if body:
        answer = client.call("PATCH", _path(args.tenant_id), body=body)
        done.append(f"set {', '.join(sorted(body))}")
        done.extend(f"warning: {w}" for w in answer.get("warnings", []))
        if answer.get("channelsClaimedFromConversations"):
            done.append(f"claimed {answer['channelsClaimedFromConversations']} channel id(s) its conversations use")
        if answer.get("webchatKey"):
            made = "created: " if answer.get("webchatKeyCreated") else ""
            done.append(
                f"web chat key ({made}put it in the shop's chat pages, data-widget-key=…; a page without one "
                f"now gets 400): {answer['webchatKey']}"
            )
    _claim_channels(client, args, done)
    for spec in args.remove_channel:
        channel, _, channel_id = spec.partition(":")
        client.call("DELETE", _path(args.tenant_id, "channels", channel, channel_id))
        done.append(f"released {channel} {channel_id}")
    if args.new_webchat_key:
        added = client.call("POST", _path(args.tenant_id, "channels"), body={"channel": "webchat"})
        done.append(f"web chat key: {added['id']}")
    secrets: dict[str, str | None] = {}
    for spec in args.secret:
        name, sep, value = spec.partition("=")
        if not sep or name not in SECRET_NAMES:
            raise TenantCommandError(f"--secret takes NAME=VALUE with NAME one of {', '.join(SECRET_NAMES)}")
        secrets[name] = value or None
    for name in args.remove_secret:
        secrets[name] = None
    if secrets:
        answer = client.call("PUT", _path(args.tenant_id, "secrets"), body=secrets)
        done.append(f"secrets set now: {', '.join(answer['secretsSet']) or 'none'}")
    if not done:
        raise TenantCommandError("nothing to set: give at least one option (mostrador tenant set --help)")
    print("\n".join(done))
    return 0


def _keys(client: AdminApi, args: argparse.Namespace) -> int:
    if args.new:
        body: dict[str, Any] = {"kind": args.new.replace("-", "_"), "label": args.label}
        if args.key:
            body["key"] = args.key
        created = client.call("POST", _path(args.tenant_id, "keys"), body=body)
        print(f"{created['kind']} key {created['keyId']}: {created['key']}")
        print("  shown once: store it now (only its hash is kept)")
    if args.revoke:
        revoked = client.call("DELETE", _path(args.tenant_id, "keys", args.revoke))
        print(f"revoked {revoked['keyId']} ({revoked['kind']} …{revoked['hint'][-4:]})")
    if not (args.new or args.revoke):
        for key in client.call("GET", _path(args.tenant_id, "keys"))["keys"]:
            state = f"revoked {key['revokedAt']}" if key["revokedAt"] else "live"
            print(f"{key['keyId']:<18} {key['kind']:<14} {key['hint']:<8} {state:<34} {key['label'] or ''}")
    return 0


_commands = {"list": _list, "show": _show, "add": _add, "set": _set, "keys": _keys}


def add_parser(commands: Any, url_default: str, data_dir: str) -> None:
    """`url_default` says where commands go without --url (the caller resolves it after parsing);
    `data_dir` is the local stack's data folder without --data-dir."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", help=f"Mostrador base URL (default: {url_default})")
    common.add_argument("--token", help=f"admin token (default: {TOKEN_SOURCES.removeprefix('--token, ')})")
    common.add_argument("--data-dir", default=data_dir, help=DATA_DIR_HELP)
    tenant = commands.add_parser("tenant", help="manage tenants through the admin API (any deployment URL)")
    sub = tenant.add_subparsers(dest="tenant_command", required=True)

    listing = sub.add_parser("list", parents=[common], help="every tenant")
    listing.add_argument("--json", action="store_true")
    show = sub.add_parser("show", parents=[common], help="one tenant: settings, channel ids, keys, secrets, budget")
    show.add_argument("tenant_id")

    add = sub.add_parser("add", parents=[common], help="a new tenant (gets a web chat key)")
    add.add_argument("tenant_id", help="lowercase letters, digits, '-', '_'")
    add_settings_options(add)
    add_channel_options(add)

    change = sub.add_parser("set", parents=[common], help="change a tenant's settings, channel ids, secrets")
    change.add_argument("tenant_id")
    add_settings_options(change)
    add_channel_options(change)
    change.add_argument("--remove-channel", action="append", default=[], metavar="CHANNEL:ID")
    change.add_argument("--new-webchat-key", action="store_true", help="add another web chat widget key")
    change.add_argument("--secret", action="append", default=[], metavar="NAME=VALUE", help="set a tenant secret")
    change.add_argument("--remove-secret", action="append", default=[], metavar="NAME", choices=SECRET_NAMES)

    keys = sub.add_parser("keys", parents=[common], help="list, create or revoke its ingest / Support Board keys")
    keys.add_argument("tenant_id")
    keys.add_argument("--new", choices=("ingest", "support-board"), help="create a key (shown once)")
    keys.add_argument("--label", help="what the new key is for")
    keys.add_argument("--key", help="register this existing key instead of generating one")
    keys.add_argument("--revoke", metavar="KEY_ID", help="revoke a key")
    tenant.set_defaults(func=run)
