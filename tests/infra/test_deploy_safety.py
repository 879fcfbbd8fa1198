"""What a first deploy into a fresh account, and every deploy after it, depends on (issue 14, items 16-22)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.infra.conftest import PROD_CONTEXT, REPO_ROOT, Synth

pytestmark = pytest.mark.infra


def _ref(value: Any) -> str | None:
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            return value["Fn::GetAtt"][0]
    return None


def _secret(synth: Synth, suffix: str) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (logical_id, secret)
        for logical_id, secret in synth.resources("AWS::SecretsManager::Secret").items()
        if secret["Properties"]["Name"] == f"mostrador-{synth.stack.settings.stage}/{suffix}"
    ]
    return found


def _alarms(synth: Synth) -> dict[str, dict[str, Any]]:
    return {a["Properties"]["AlarmName"]: a["Properties"] for a in synth.resources("AWS::CloudWatch::Alarm").values()}


# --- 16: alarm e-mails can arrive -------------------------------------------------------------------------


def test_cloudwatch_may_publish_this_stages_alarms_to_the_topic(dev: Synth) -> None:
    (topic_id,) = dev.resources("AWS::SNS::Topic")
    (policy,) = dev.resources("AWS::SNS::TopicPolicy").values()
    assert [_ref(t) for t in policy["Properties"]["Topics"]] == [topic_id]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    allows = [s for s in statements if s["Effect"] == "Allow"]
    (allow,) = [s for s in allows if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
    assert allow["Action"] == "sns:Publish"
    assert _ref(allow["Resource"]) == topic_id
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    source_arn = json.dumps(allow["Condition"]["ArnLike"]["aws:SourceArn"])
    assert ":cloudwatch:" in source_arn and '":alarm:mostrador-dev-*"' in source_arn
    # The ARN pattern covers every alarm of the stack, so none is left unable to notify.
    assert all(name.startswith("mostrador-dev-") for name in _alarms(dev))
    # The plain-HTTP Deny stays.
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
    )


# --- 17: the app secret's first value is frozen; the generated ingest key lives apart ----------------------

# Snapshot of what CloudFormation writes into mostrador-<stage>/app on create. If this test fails, do NOT
# update the snapshot: a changed SecretString overwrites every credential an operator filled in. Leave the
# value alone; a new key is added to the secret by hand (docs/deploy.md, "Fill in the secrets").
APP_SECRET_SNAPSHOT = (
    '{"ADMIN_TOKEN": "", "GEMINI_API_KEY": "", "MESSENGER_PAGE_TOKEN": "", "META_APP_SECRET": "", '
    '"META_VERIFY_TOKEN": "", "OPENAI_API_KEY": "", "SUPPORT_BOARD_API_TOKEN": "", '
    '"SUPPORT_BOARD_WEBHOOK_SECRET": "", "WHATSAPP_TOKEN": ""}'
)
INGEST_KEY_SNAPSHOT = {
    "ExcludePunctuation": True,
    "GenerateStringKey": "INGEST_API_KEY",
    "PasswordLength": 40,
    "SecretStringTemplate": "{}",
}
# Frozen like the ingest key: a new generated value would void every admin token made through the API.
ADMIN_TOKEN_KEY_SNAPSHOT = {
    "ExcludePunctuation": True,
    "GenerateStringKey": "ADMIN_TOKEN_HASH_KEY",
    "PasswordLength": 64,
    "SecretStringTemplate": "{}",
}


def test_the_app_secrets_first_value_is_frozen(dev: Synth, prod: Synth) -> None:
    for synth in (dev, prod):
        _, app = _secret(synth, "app")
        assert app["Properties"]["SecretString"] == APP_SECRET_SNAPSHOT
        assert "GenerateSecretString" not in app["Properties"], "a generator would rewrite the operator's values"
        _, ingest = _secret(synth, "ingest-key")
        assert ingest["Properties"]["GenerateSecretString"] == INGEST_KEY_SNAPSHOT
        _, admin_token_key = _secret(synth, "admin-token-key")
        assert admin_token_key["Properties"]["GenerateSecretString"] == ADMIN_TOKEN_KEY_SNAPSHOT


def test_a_key_added_to_config_later_does_not_change_the_secret(
    monkeypatch: pytest.MonkeyPatch, functions_dir: Path, tmp_path: Path
) -> None:
    """mostrador.config.SECRET_NAMES grows over time; the deployed secret's first value must not follow it."""
    import aws_cdk as cdk

    import mostrador.config
    from infra import settings as infra_settings
    from infra.app import build_app

    grown = ("NEW_PROVIDER_API_KEY", *mostrador.config.SECRET_NAMES)
    monkeypatch.setattr(mostrador.config, "SECRET_NAMES", grown)
    monkeypatch.setattr(infra_settings, "SECRET_KEYS", tuple(k for k in grown if k != "DATABASE_URL"))
    flags = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    app = cdk.App(context={**flags, "aws:cdk:disable-asset-staging": True, "stage": "dev"}, outdir=str(tmp_path))
    stack = build_app(app, functions_dir=functions_dir)
    assembly = app.synth()
    template = assembly.get_stack_by_name(stack.stack_name).template
    (app_secret,) = [
        r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::SecretsManager::Secret" and r["Properties"]["Name"] == "mostrador-dev/app"
    ]
    assert app_secret["Properties"]["SecretString"] == APP_SECRET_SNAPSHOT


def test_keys_config_reads_but_the_frozen_secret_lacks_are_documented_for_operators() -> None:
    from infra.stack import ADMIN_TOKEN_KEY_NAME, APP_SECRET_INITIAL_KEYS, INGEST_KEY_NAME
    from mostrador.config import SECRET_NAMES

    assert set(APP_SECRET_INITIAL_KEYS) <= set(SECRET_NAMES)
    generated = {INGEST_KEY_NAME, ADMIN_TOKEN_KEY_NAME, "DATABASE_URL"}
    added_later = set(SECRET_NAMES) - set(APP_SECRET_INITIAL_KEYS) - generated
    deploy_doc = (REPO_ROOT / "docs" / "deploy.md").read_text()
    assert not [key for key in added_later if f"`{key}`" not in deploy_doc]


# --- 18: a failed first prod deploy can be retried ----------------------------------------------------------


def test_prod_secrets_are_kept_on_update_and_delete_but_removed_when_the_first_create_fails(prod: Synth) -> None:
    secrets = prod.resources("AWS::SecretsManager::Secret")
    # The routing document is derived from the database and published again by every deploy: it goes with the
    # stack (kept, it would block the stack's re-creation under the same name).
    routing = [k for k, v in secrets.items() if v["Properties"]["Name"] == "mostrador-prod/routing"]
    assert [secrets.pop(k)["DeletionPolicy"] for k in routing] == ["Delete"]
    assert len(secrets) == 5  # app, ingest key, admin token key, database master, database app role
    for secret in secrets.values():
        assert secret["DeletionPolicy"] == "RetainExceptOnCreate", secret["Properties"]["Name"]
        assert secret["UpdateReplacePolicy"] == "Retain"


def test_dev_secrets_go_with_the_stack(dev: Synth) -> None:
    for secret in dev.resources("AWS::SecretsManager::Secret").values():
        assert secret["DeletionPolicy"] == "Delete"


def test_the_first_deploy_path_is_documented() -> None:
    text = (REPO_ROOT / "docs" / "deploy.md").read_text()
    assert "## First deploy of a stage" in text
    assert "-c dbDeletionProtection=false" in text
    assert "ROLLBACK_FAILED" in text


# --- 19: per-stage settings files -------------------------------------------------------------------------


def test_the_committed_prod_file_keeps_what_a_forgotten_flag_used_to_revert() -> None:
    from infra.settings import settings_from_context

    required_only = {key: PROD_CONTEXT[key] for key in ("stage", "alarmEmail", "whatsappPhoneNumberId")}
    settings = settings_from_context(
        {**required_only, "metaAppId": "", "supportBoardApiUrl": "", "webchatAllowedOrigins": ""}
    )
    assert settings.db_multi_az is True
    assert settings.db_deletion_protection is True
    assert settings.log_retention_days == 90
    assert settings.alarm_email == "ops@example.com"
    assert settings.app_environment["WHATSAPP_PHONE_NUMBER_ID"] == "1098765"
    assert settings.settings_file.endswith("infra/stages/prod.toml")


def test_a_cli_value_wins_over_the_stage_file(tmp_path: Path) -> None:
    from infra.settings import settings_from_context

    (tmp_path / "dev.toml").write_text('dbMultiAz = true\nlogRetentionDays = 14\nllmProvider = "gemini"\n')
    settings = settings_from_context({"stage": "dev", "logRetentionDays": "7"}, stages_dir=tmp_path)
    assert settings.db_multi_az is True
    assert settings.log_retention_days == 7
    assert settings.app_environment["LLM_PROVIDER"] == "gemini"


def test_a_media_hosts_value_that_is_not_host_names_stops_the_synth_naming_it() -> None:
    """SUPPORT_BOARD_MEDIA_HOSTS would otherwise fail every function's cold start after the deploy."""
    from infra.settings import SettingsError, settings_from_context

    with pytest.raises(SettingsError, match=r"supportBoardMediaHosts: .*'https://uploads.example.com'"):
        settings_from_context({"stage": "dev", "supportBoardMediaHosts": "https://uploads.example.com"})
    settings = settings_from_context({"stage": "dev", "supportBoardMediaHosts": "a.example.com, d1.cloudfront.net"})
    assert settings.app_environment["SUPPORT_BOARD_MEDIA_HOSTS"] == "a.example.com, d1.cloudfront.net"
    assert "SUPPORT_BOARD_MEDIA_HOSTS" not in settings_from_context({"stage": "dev"}).app_environment


def test_a_prod_synth_without_a_required_key_names_the_key_and_the_file(tmp_path: Path) -> None:
    from infra.settings import SettingsError, settings_from_context

    committed = REPO_ROOT / "infra" / "stages" / "prod.toml"
    with pytest.raises(SettingsError) as refused:
        settings_from_context({"stage": "prod"})
    assert "alarmEmail" in str(refused.value) and str(committed) in str(refused.value)

    (tmp_path / "prod.toml").write_text(
        'alarmEmail = "ops@example.com"\ndbMultiAz = true\ndbDeletionProtection = true\nnatMode = "gateway"\n'
        'llmProvider = "openai"\ntenantId = "shop"\nmetaAppId = ""\nsupportBoardApiUrl = ""\n'
        'webchatAllowedOrigins = ""\n'
    )  # whatsappPhoneNumberId forgotten
    with pytest.raises(SettingsError, match=r"whatsappPhoneNumberId in .*prod\.toml"):
        settings_from_context({"stage": "prod"}, stages_dir=tmp_path)
    assert settings_from_context({"stage": "prod", "whatsappPhoneNumberId": ""}, stages_dir=tmp_path).db_multi_az

    with pytest.raises(SettingsError, match="alarmEmail"):  # present but empty: nobody would get the alarms
        settings_from_context({"stage": "prod", "whatsappPhoneNumberId": "", "alarmEmail": ""}, stages_dir=tmp_path)
    (tmp_path / "prod.toml").unlink()
    with pytest.raises(SettingsError, match=r"needs its settings file .*prod\.toml"):
        settings_from_context({**PROD_CONTEXT}, stages_dir=tmp_path)


def test_a_stage_file_refuses_unknown_keys_and_secrets(tmp_path: Path) -> None:
    from infra.settings import SettingsError, settings_from_context

    (tmp_path / "dev.toml").write_text("dbMultiAZ = true\n")  # a typo must not pass silently
    with pytest.raises(SettingsError, match="unknown settings dbMultiAZ"):
        settings_from_context({"stage": "dev"}, stages_dir=tmp_path)
    (tmp_path / "dev.toml").write_text('openaiApiKey = "sk-live"\n')
    with pytest.raises(SettingsError, match="looks like a secret"):
        settings_from_context({"stage": "dev"}, stages_dir=tmp_path)


def test_every_committed_stage_file_is_valid() -> None:
    from infra.settings import settings_from_context

    files = sorted((REPO_ROOT / "infra" / "stages").glob("*.toml"))
    assert {f.stem for f in files} >= {"dev", "prod"}
    for path in files:
        extra = {key: PROD_CONTEXT[key] for key in PROD_CONTEXT if key != "stage"} if path.stem == "prod" else {}
        assert settings_from_context({"stage": path.stem, **extra}).settings_file == str(path)


# --- 21: the account's Lambda concurrency quota -------------------------------------------------------------


def test_the_deploy_checks_the_concurrency_quota_before_the_app_functions(dev: Synth) -> None:
    check = dev.functions()["concurrency-check"]
    env = check["Properties"]["Environment"]["Variables"]
    settings = dev.stack.settings
    assert env["REQUIRED_CONCURRENCY"] == str(
        settings.reply_max_concurrency
        + settings.enrich_max_concurrency
        + settings.knowledge_max_concurrency
        + 2 * settings.dead_letter_max_concurrency
        + settings.api_concurrency_headroom
    )
    # reply 10 + enrich 4 + knowledge 2 + enrich and reply dead letters 2 each + API 10: above a new account's 10
    assert env["REQUIRED_CONCURRENCY"] == "30"
    assert "knowledge 2" in env["CONCURRENCY_BREAKDOWN"] and "reply dead letters 2" in env["CONCURRENCY_BREAKDOWN"]
    policy = next(
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in dev.resources("AWS::IAM::Policy").values()
        if check["Properties"]["Role"]["Fn::GetAtt"][0] in [_ref(r) for r in p["Properties"]["Roles"]]
    )
    assert {"Action": "lambda:GetAccountSettings", "Effect": "Allow", "Resource": "*"} in policy
    trigger_id = None
    for logical_id, trigger in dev.resources("Custom::Trigger").items():
        version = dev.template["Resources"][_ref(trigger["Properties"]["HandlerArn"])]
        if _ref(version["Properties"]["FunctionName"]) == check["logical_id"]:
            trigger_id = logical_id
            assert trigger["Properties"]["ExecuteOnHandlerChange"] is True
    assert trigger_id is not None
    for name in ("webhook", "ingest", "webchat", "admin", "enrich", "reply", "knowledge"):
        assert trigger_id in dev.functions()[name].get("DependsOn", []), name
    # Before the database instance too: a failed check rolls back before there is an instance to delete.
    (db,) = dev.resources("AWS::RDS::DBInstance").values()
    assert trigger_id in db["DependsOn"]


def test_throttles_raise_an_alarm(dev: Synth) -> None:
    throttles = _alarms(dev)["mostrador-dev-lambda-throttles"]
    metrics = {m["Id"]: m for m in throttles["Metrics"]}
    (expression,) = [m for m in metrics.values() if "Expression" in m]
    assert expression["Expression"].startswith("SUM(")
    watched = {
        _ref(d["Value"])
        for m in metrics.values()
        if "MetricStat" in m
        for d in m["MetricStat"]["Metric"]["Dimensions"]
        if m["MetricStat"]["Metric"]["MetricName"] == "Throttles"
    }
    assert watched == {
        dev.functions()[n]["logical_id"]
        for n in ("webhook", "ingest", "webchat", "admin", "enrich", "reply", "knowledge")
    }
    assert throttles["Threshold"] == 1


# --- 22: alarms, database logging and users, network, throttles, log retention, lint, nag -----------------


def test_api_and_database_alarms(dev: Synth) -> None:
    alarms = _alarms(dev)
    five_xx = alarms["mostrador-dev-api-5xx"]
    assert five_xx["MetricName"] == "5XXError" and five_xx["Namespace"] == "AWS/ApiGateway"
    latency = alarms["mostrador-dev-api-latency"]
    assert latency["MetricName"] == "Latency" and latency["ExtendedStatistic"] == "p95"
    assert alarms["mostrador-dev-database-connections"]["MetricName"] == "DatabaseConnections"
    memory = alarms["mostrador-dev-database-freeable-memory"]
    assert memory["MetricName"] == "FreeableMemory" and memory["ComparisonOperator"] == "LessThanThreshold"
    credits = alarms["mostrador-dev-database-cpu-credits"]  # db.t4g.micro is burstable
    assert credits["MetricName"] == "CPUCreditBalance" and credits["ComparisonOperator"] == "LessThanThreshold"
    (topic_id,) = dev.resources("AWS::SNS::Topic")
    for name, alarm in alarms.items():
        assert [_ref(a) for a in alarm["AlarmActions"]] == [topic_id], name


def test_postgres_logs_carry_no_customer_text(dev: Synth) -> None:
    (db,) = dev.resources("AWS::RDS::DBInstance").values()
    params = dev.template["Resources"][_ref(db["Properties"]["DBParameterGroupName"])]["Properties"]["Parameters"]
    assert params["log_parameter_max_length"] == "0"  # bind parameter values of logged (slow) statements
    assert params["log_parameter_max_length_on_error"] == "0"
    assert params["log_error_verbosity"] == "terse"  # DETAIL lines quote row values (duplicate keys)
    assert params["log_statement"] == "none"
    assert params["idle_session_timeout"] == "900000"  # stays: the app reconnects after it


def test_functions_connect_as_the_app_role_and_only_migrate_reads_the_master_secret(dev: Synth) -> None:
    from infra.database import APP_ROLE

    master_id = next(
        logical_id
        for logical_id, secret in dev.resources("AWS::SecretsManager::Secret").items()
        if secret["Properties"]["Name"] == "mostrador-dev/database"
    )
    # The instance's attachment stands for the master secret (it adds host and port to it).
    attachments = {
        logical_id: _ref(a["Properties"]["SecretId"])
        for logical_id, a in dev.resources("AWS::SecretsManager::SecretTargetAttachment").items()
    }
    app_role_id, app_role = _secret(dev, "database-app")
    assert json.loads(app_role["Properties"]["GenerateSecretString"]["SecretStringTemplate"]) == {"username": APP_ROLE}
    for name, function in dev.functions().items():
        env = function["Properties"]["Environment"]["Variables"]
        if name == "migrate":
            assert _ref(env["DATABASE_SECRET_ARN"]) == master_id
            assert _ref(env["DATABASE_APP_SECRET_ARN"]) == app_role_id
        elif "DATABASE_SECRET_ARN" in env:
            assert _ref(env["DATABASE_SECRET_ARN"]) == app_role_id, name
    # Which policies may read the master secret: the migrate function's only.
    readers = [
        _ref(role)
        for policy in dev.resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if {master_id, *(a for a, secret in attachments.items() if secret == master_id)}
        & {
            _ref(r)
            for r in (statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]])
        }
        and "secretsmanager:GetSecretValue" in statement["Action"]
        for role in policy["Properties"]["Roles"]
    ]
    assert readers == [dev.functions()["migrate"]["Properties"]["Role"]["Fn::GetAtt"][0]]


def test_each_route_has_its_own_throttle_and_web_chat_stays_below_the_webhooks(dev: Synth) -> None:
    (stage,) = dev.resources("AWS::ApiGateway::Stage").values()
    # ResourcePath escapes the path's slashes: "/~1webhooks~1whatsapp"; the stage default is "/*".
    limits = {
        (s["HttpMethod"], s["ResourcePath"].replace("/~1", "/").replace("~1", "/")): (
            s["ThrottlingRateLimit"],
            s["ThrottlingBurstLimit"],
        )
        for s in stage["Properties"]["MethodSettings"]
    }
    webhook = limits[("POST", "/webhooks/whatsapp")]
    assert limits[("POST", "/webhooks/meta")] == webhook
    webchat = limits[("GET", "/webchat/messages")]
    assert limits[("POST", "/webchat/messages")] == webchat
    assert webchat[0] < webhook[0] and webchat[1] < webhook[1]
    assert limits[("POST", "/ingest/products")][0] <= webchat[0]
    assert ("*", "/*") in limits  # the stage default for anything else
    # The admin route is ANY /admin/{proxy+}: a setting keyed on ANY matches no request's method.
    assert not any(method == "ANY" for method, _ in limits)
    admin = {method: limit for (method, path), limit in limits.items() if path == "/admin/{proxy+}"}
    assert set(admin) == {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
    assert set(admin.values()) == {(10, 20)}


def test_every_log_group_has_a_retention_and_every_function_logs_into_one(dev: Synth, prod: Synth) -> None:
    for synth in (dev, prod):
        groups = synth.resources("AWS::Logs::LogGroup")
        assert all(g["Properties"]["RetentionInDays"] > 0 for g in groups.values())
        functions = synth.resources("AWS::Lambda::Function")
        assert len(functions) >= 9  # ours and CDK's trigger provider
        for logical_id, function in functions.items():
            target = _ref(function["Properties"].get("LoggingConfig", {}).get("LogGroup"))
            assert target in groups, f"{logical_id} would log into a group Lambda creates, kept forever"
        # API Gateway's execution log group exists before the stage, so API Gateway does not create its own.
        (rest_api_id,) = synth.resources("AWS::ApiGateway::RestApi")
        (stage_id, stage) = next(iter(synth.resources("AWS::ApiGateway::Stage").items()))
        (execution,) = [
            (logical_id, g)
            for logical_id, g in groups.items()
            if "API-Gateway-Execution-Logs_" in json.dumps(g["Properties"]["LogGroupName"])
        ]
        assert rest_api_id in json.dumps(execution[1]["Properties"]["LogGroupName"])
        assert json.dumps(execution[1]["Properties"]["LogGroupName"]).endswith(
            f'/{stage["Properties"]["StageName"]}"]]}}'
        )
        assert execution[0] in stage.get("DependsOn", [])


def test_ingest_limit_fits_lambdas_payload_after_json_escaping() -> None:
    from mostrador.config import Settings

    lambda_payload_limit = 6 * 1024 * 1024
    limit = Settings().ingest_max_body_bytes
    # A catalog body at the limit, quote-heavy like real ones, inside API Gateway's proxy event.
    item = {
        "itemCode": "NEV-RT38",
        "itemName": 'Nevera "No Frost" 380 L',
        "description": '<p class="x">Refrigerador de dos puertas</p>',
        "brand": "Samsung",
        "stock": 3,
        "price": 899.0,
    }
    one = json.dumps(item)
    body = "[" + ",".join([one] * (limit // (len(one) + 1))) + "]"
    assert len(body.encode()) <= limit
    event = {"body": body, "headers": {"Content-Type": "application/json", "X-API-KEY": "k" * 40}, "path": "/x"}
    assert len(json.dumps(event).encode()) < lambda_payload_limit


def test_cdk_nag_suppressions_sit_only_where_their_rule_fires(dev: Synth, prod: Synth) -> None:
    """A suppression a rule never needed hides nothing today and everything tomorrow: each one must be used."""
    for synth in (dev, prod):
        paths = synth.construct_paths()
        suppressed = {
            (row["Resource ID"], row["Rule ID"]) for row in synth.nag_report if row["Compliance"] == "Suppressed"
        }
        declared = set()
        for logical_id, resource in synth.template["Resources"].items():
            for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
                declared.add((paths[logical_id], rule["id"]))
        assert declared, "no suppressions found"
        assert sorted(declared - suppressed) == []


def test_iam5_wildcards_are_accepted_only_for_x_ray_the_quota_read_knowledge_files_and_tenant_secrets(
    dev: Synth,
) -> None:
    iam5 = {
        row["Resource ID"]
        for row in dev.nag_report
        if row["Rule ID"] == "AwsSolutions-IAM5" and row["Compliance"] == "Suppressed"
    }
    traced = [n for n in ("ingest", "webchat", "admin", "enrich", "reply", "knowledge", "migrate")]
    expected = {f"Mostrador-dev/Functions/{n.title()}/ServiceRole/DefaultPolicy/Resource" for n in traced}
    expected.add("Mostrador-dev/Functions/ConcurrencyCheck/ServiceRole/DefaultPolicy/Resource")
    assert iam5 == expected
    paths = dev.construct_paths()
    # The objects of the knowledge bucket (one per document), on the two functions that touch them only.
    knowledge_files = [{"regex": "/^Resource::<KnowledgeFiles[A-Za-z0-9]*\\.Arn>\\/\\*$/g"}]
    files_policies = {f"Mostrador-dev/Functions/{n}/ServiceRole/DefaultPolicy/Resource" for n in ("Admin", "Knowledge")}
    tenant_secrets = (
        "Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:mostrador-dev/tenants/*"
    )
    tenant_secret_policies = {
        f"Mostrador-dev/Functions/{n}/ServiceRole/{child}"
        for n in ("Admin", "Reply")
        for child in ("Resource", "DefaultPolicy/Resource")
    }
    for logical_id, resource in dev.template["Resources"].items():
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
            if rule["id"] == "AwsSolutions-IAM5":
                # X-Ray and the quota read take no narrower resource; per-tenant secrets (reply and admin roles,
                # infra/tenants.py) are created at runtime under one prefix, the tenant id the only wildcard.
                if rule["applies_to"] == knowledge_files:
                    assert paths[logical_id] in files_policies
                elif rule["applies_to"] == [tenant_secrets]:
                    assert paths[logical_id] in tenant_secret_policies
                else:
                    assert rule["applies_to"] == ["Resource::*"]


def test_cfn_lint_passes_on_both_stacks(dev: Synth, prod: Synth) -> None:
    import subprocess
    import sys

    config = (REPO_ROOT / ".cfnlintrc.yaml").read_text()
    ignored = re.findall(r"^\s+- ([EWI]\d{4})", config, re.MULTILINE)
    for rule in ignored:  # every ignored rule is explained right above it
        assert re.search(rf"#[^\n]*{rule}[^\n]*\n(\s*#[^\n]*\n)*\s+- {rule}", config), rule
    templates = [str(next(s.outdir.glob(f"{s.stack.stack_name}.template.json"))) for s in (dev, prod)]
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), *templates],
        cwd=REPO_ROOT,  # where .cfnlintrc.yaml is read from
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_make_synth_and_cdk_json_run_the_app(tmp_path: Path) -> None:
    """`make synth` calls the CDK CLI from npm (it once called a .venv/bin/npx that never exists), and the CLI
    runs cdk.json's app command: run that command the way the CLI does and get a template."""
    import os
    import shlex
    import shutil
    import subprocess

    dry_run = subprocess.run(
        ["make", "-n", "synth"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    (command,) = [line for line in dry_run if "aws-cdk" in line]
    program = shlex.split(command)[0]
    assert shutil.which(program) or (REPO_ROOT / program).is_file(), f"make synth runs {program}, which is missing"

    app_command = shlex.split(json.loads((REPO_ROOT / "cdk.json").read_text())["app"])
    result = subprocess.run(
        app_command,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "CDK_OUTDIR": str(tmp_path), "CDK_CONTEXT_JSON": json.dumps({"stage": "dev"})},
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    template = json.loads((tmp_path / "Mostrador-dev.template.json").read_text())
    assert template["Resources"]


def test_docs_state_the_default_concurrency_the_deploy_checks(dev: Synth) -> None:
    import re
    from pathlib import Path

    deploy_md = (Path(__file__).resolve().parents[2] / "docs" / "deploy.md").read_text(encoding="utf-8")
    stated = {int(n) for n in re.findall(r"\((\d+) by default\)", deploy_md)}
    assert stated == {dev.stack.settings.required_concurrency}, stated
