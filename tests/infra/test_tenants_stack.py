"""The synthesized stack's part for tenants (infra/tenants.py): the routing document's secret, who may read
and write it, and who may read or create the per-tenant secrets (IAM scoped to their name prefix)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.tenants import UNPUBLISHED
from tests.infra.conftest import Synth

pytestmark = pytest.mark.infra


def _ref(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("Ref") or (value.get("Fn::GetAtt") or [None])[0]
    return None


def _routing_secret(synth: Synth) -> tuple[str, dict[str, Any]]:
    for logical_id, secret in synth.resources("AWS::SecretsManager::Secret").items():
        if secret["Properties"]["Name"] == f"mostrador-{synth.stack.settings.stage}/routing":
            return logical_id, secret
    raise AssertionError("no routing secret")


def _statements(synth: Synth, function: str) -> list[dict[str, Any]]:
    role = _ref(synth.functions()[function]["Properties"]["Role"])
    found = []
    for policy in synth.resources("AWS::IAM::Policy").values():
        if any(_ref(r) == role for r in policy["Properties"]["Roles"]):
            found.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return found


def _actions(statement: dict[str, Any]) -> set[str]:
    actions = statement["Action"]
    return {actions} if isinstance(actions, str) else set(actions)


def _allowed(synth: Synth, function: str, action: str, resource: str) -> bool:
    """Whether the function's policies allow `action` on a resource whose template text contains `resource`."""
    for statement in _statements(synth, function):
        if statement["Effect"] == "Allow" and action in _actions(statement):
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            if any(resource in json.dumps(r) for r in resources):
                return True
    return False


def test_the_routing_secret_starts_unpublished_and_frozen(dev: Synth) -> None:
    _, secret = _routing_secret(dev)
    assert secret["Properties"]["SecretString"] == UNPUBLISHED
    assert "GenerateSecretString" not in secret["Properties"]


def test_the_routing_functions_read_the_document_and_only_publishers_write_it(dev: Synth) -> None:
    routing_id, _ = _routing_secret(dev)
    functions = dev.functions()
    for name in ("webhook", "ingest", "webchat", "admin", "migrate"):
        env = functions[name]["Properties"]["Environment"]["Variables"]
        assert _ref(env["MOSTRADOR_ROUTING_SECRET_ARN"]) == routing_id, name
        assert _allowed(dev, name, "secretsmanager:GetSecretValue", routing_id), name
    for name in ("webhook", "ingest", "webchat", "reply", "enrich"):
        assert not _allowed(dev, name, "secretsmanager:PutSecretValue", routing_id), name
    for name in ("admin", "migrate"):
        assert _allowed(dev, name, "secretsmanager:PutSecretValue", routing_id), name
    for name in ("reply", "enrich"):
        assert "MOSTRADOR_ROUTING_SECRET_ARN" not in functions[name]["Properties"]["Environment"]["Variables"]


def test_tenant_secrets_are_read_by_reply_and_admin_and_created_by_admin_only(dev: Synth) -> None:
    prefix = "mostrador-dev/tenants/*"
    functions = dev.functions()
    for name in ("reply", "admin"):
        assert functions[name]["Properties"]["Environment"]["Variables"]["MOSTRADOR_TENANT_SECRET_PREFIX"] == (
            "mostrador-dev/tenants/"
        )
        assert _allowed(dev, name, "secretsmanager:GetSecretValue", prefix), name
    assert _allowed(dev, "admin", "secretsmanager:CreateSecret", prefix)
    assert _allowed(dev, "admin", "secretsmanager:PutSecretValue", prefix)
    for name in ("reply", "webhook", "ingest", "webchat", "enrich", "migrate"):
        assert not _allowed(dev, name, "secretsmanager:CreateSecret", prefix), name
        assert not _allowed(dev, name, "secretsmanager:PutSecretValue", prefix), name
    for name in ("webhook", "ingest", "webchat", "enrich", "migrate"):
        assert not _allowed(dev, name, "secretsmanager:GetSecretValue", prefix), name
        assert "MOSTRADOR_TENANT_SECRET_PREFIX" not in functions[name]["Properties"]["Environment"]["Variables"]
    # The wildcard is the tenant id only: no other secret of the account matches.
    for name in ("reply", "admin"):
        tenant_statements = [st for st in _statements(dev, name) if "tenants/" in json.dumps(st["Resource"])]
        assert tenant_statements, name
        for statement in tenant_statements:
            assert json.dumps(statement["Resource"]).count("*") == 1, statement


def test_the_deploy_registers_the_default_tenant_with_the_settings_and_keys_it_reads(dev: Synth) -> None:
    env = dev.functions()["migrate"]["Properties"]["Environment"]["Variables"]
    secrets = dev.resources("AWS::SecretsManager::Secret")
    assert secrets[_ref(env["MOSTRADOR_SECRET_ARN"])]["Properties"]["Name"] == "mostrador-dev/app"
    assert secrets[_ref(env["MOSTRADOR_INGEST_KEY_SECRET_ARN"])]["Properties"]["Name"] == "mostrador-dev/ingest-key"
    assert env["TENANT_ID"] and "HUMAN_TAKEOVER_PAUSE_MINUTES" in env
    for secret in ("MOSTRADOR_SECRET_ARN", "MOSTRADOR_INGEST_KEY_SECRET_ARN"):
        assert _allowed(dev, "migrate", "secretsmanager:GetSecretValue", _ref(env[secret]) or "?"), secret


def test_outputs_name_the_routing_secret_and_the_tenant_secret_prefix(dev: Synth) -> None:
    outputs = dev.template["Outputs"]
    assert outputs["TenantSecretPrefix"]["Value"] == "mostrador-dev/tenants/"
    assert "RoutingSecretName" in outputs


def _ses_statements(synth: Synth, function: str) -> list[dict[str, Any]]:
    return [s for s in _statements(synth, function) if any(a.startswith("ses:") for a in _actions(s))]


def test_escalation_mail_lets_only_the_reply_function_send_from_the_configured_sender(prod: Synth) -> None:
    functions = prod.functions()
    assert functions["reply"]["Properties"]["Environment"]["Variables"]["ESCALATION_EMAIL_FROM"] == (
        "avisos@tienda.example"
    )
    [statement] = _ses_statements(prod, "reply")
    assert statement["Effect"] == "Allow" and _actions(statement) == {"ses:SendEmail"}
    resources = json.dumps(statement["Resource"])
    assert ":identity/avisos@tienda.example" in resources and ":identity/tienda.example" in resources
    assert "*" not in resources
    assert statement["Condition"] == {"StringEquals": {"ses:FromAddress": "avisos@tienda.example"}}
    for name in functions:
        if name != "reply":
            assert _ses_statements(prod, name) == [], name


def test_without_a_sender_no_function_may_send_mail(dev: Synth) -> None:
    for name, function in dev.functions().items():
        assert _ses_statements(dev, name) == [], name
        assert "ESCALATION_EMAIL_FROM" not in function["Properties"].get("Environment", {}).get("Variables", {})


def test_a_sender_that_is_not_an_address_is_refused_before_synth() -> None:
    from infra.settings import SettingsError, settings_from_context

    with pytest.raises(SettingsError, match="escalationEmailFrom='Tienda <avisos@tienda.example>'"):
        settings_from_context({"stage": "dev", "escalationEmailFrom": "Tienda <avisos@tienda.example>"})
    assert (
        settings_from_context({"stage": "dev", "escalationEmailFrom": "avisos@tienda.example"}).app_environment[
            "ESCALATION_EMAIL_FROM"
        ]
        == "avisos@tienda.example"
    )
