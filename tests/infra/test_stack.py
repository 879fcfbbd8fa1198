"""Synthesized-template assertions: the properties of the stack that matter for correctness and safety."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.infra.conftest import SECRET_VALUES, Synth

pytestmark = pytest.mark.infra

# The contract of DESIGN.md, written out here on purpose (not read from infra/functions.py).
CONTRACT_ROUTES = {
    ("POST", "/ingest/products"): "ingest",
    ("POST", "/api/receive-products"): "ingest",
    ("GET", "/ingest/syncs/{syncId}"): "ingest",
    ("GET", "/health"): "ingest",
    ("GET", "/webhooks/whatsapp"): "webhook",
    ("POST", "/webhooks/whatsapp"): "webhook",
    ("GET", "/webhooks/meta"): "webhook",
    ("POST", "/webhooks/meta"): "webhook",
    ("POST", "/webhooks/support-board"): "webhook",
    ("POST", "/webchat/messages"): "webchat",
    ("GET", "/webchat/messages"): "webchat",
    ("OPTIONS", "/webchat/messages"): "webchat",
    ("ANY", "/admin/{proxy+}"): "admin",
}


def _ref(value: Any) -> str | None:
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            return value["Fn::GetAtt"][0]
    return None


def _routes(synth: Synth) -> dict[tuple[str, str], str]:
    resources = synth.resources("AWS::ApiGateway::Resource")
    api_id = next(iter(synth.resources("AWS::ApiGateway::RestApi")))

    def path_of(logical_id: str | None) -> str:
        if logical_id not in resources:
            return ""
        props = resources[logical_id]["Properties"]
        parent = props["ParentId"]
        parent_id = None if "Fn::GetAtt" in parent and parent["Fn::GetAtt"][0] == api_id else _ref(parent)
        return path_of(parent_id) + "/" + props["PathPart"]

    by_logical = {f["logical_id"]: name for name, f in synth.functions().items()}
    routes = {}
    for method in synth.resources("AWS::ApiGateway::Method").values():
        props = method["Properties"]
        integration = props["Integration"]
        assert integration["Type"] == "AWS_PROXY", "every route is a Lambda proxy integration (v1 events)"
        uri = json.dumps(integration["Uri"])
        target = [name for logical, name in by_logical.items() if f'"{logical}"' in uri]
        assert len(target) == 1, uri
        routes[(props["HttpMethod"], path_of(_ref(props["ResourceId"])))] = target[0]
    return routes


def test_the_xlsx_export_is_delivered_as_bytes(dev: Synth) -> None:
    (api,) = dev.resources("AWS::ApiGateway::RestApi").values()
    assert api["Properties"]["BinaryMediaTypes"] == [
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ]


def test_every_contract_route_reaches_its_function(dev: Synth) -> None:
    routes = _routes(dev)
    assert {key: routes.get(key) for key in CONTRACT_ROUTES} == CONTRACT_ROUTES
    # Routes added later (admin, webchat) go to functions of their own, never to the contract's.
    assert not {k: v for k, v in routes.items() if k not in CONTRACT_ROUTES and v in ("ingest", "webhook")}


def test_adding_a_function_with_routes_is_one_table_entry() -> None:
    from infra.functions import FUNCTIONS

    table_routes = {(m, p): spec.name for spec in FUNCTIONS for m, p in spec.routes}
    assert {key: table_routes.get(key) for key in CONTRACT_ROUTES} == CONTRACT_ROUTES


def test_functions_share_one_layer_on_the_tested_python_arm64(dev: Synth) -> None:
    functions = dev.functions()
    assert set(functions) >= {"webhook", "ingest", "enrich", "reply", "migrate"}
    layers = dev.resources("AWS::Lambda::LayerVersion")
    assert len(layers) == 1
    layer_id = next(iter(layers))
    assert layers[layer_id]["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert layers[layer_id]["Properties"]["CompatibleRuntimes"] == ["python3.12"]
    for name, function in functions.items():
        props = function["Properties"]
        # 3.12: the newest Python the suite runs on (tests/infra/test_lock.py checks the suite's own version).
        assert props["Runtime"] == "python3.12", name
        assert props["Architectures"] == ["arm64"], name
        assert props["Handler"] == "handler.handler", name
        if name == "concurrency-check":  # plain runtime, boto3 only
            assert "Layers" not in props
            continue
        assert [_ref(layer) for layer in props["Layers"]] == [layer_id], name
        if name == "webhook":  # untraced on purpose: X-Ray's imports would double its cold start
            assert props.get("TracingConfig", {}).get("Mode") != "Active"
            assert props["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"] == "true"
        else:
            assert props["TracingConfig"] == {"Mode": "Active"}, name
            assert "POWERTOOLS_TRACE_DISABLED" not in props["Environment"]["Variables"], name
        env = props["Environment"]["Variables"]
        assert env["POWERTOOLS_SERVICE_NAME"] == "mostrador"
        assert env["POWERTOOLS_LOGGER_LOG_EVENT"] == "false", "events hold customer messages"


def test_only_functions_that_use_the_database_run_in_the_vpc(dev: Synth) -> None:
    """The webhook needs no database: outside the VPC it attaches no ENI and Meta's path does not hang on the NAT."""
    for name, function in dev.functions().items():
        props = function["Properties"]
        env = props["Environment"]["Variables"]
        if name in ("webhook", "concurrency-check"):
            assert "VpcConfig" not in props, name
            assert not {"DATABASE_SECRET_ARN", "DATABASE_HOST"} & set(env), name
        else:
            assert props["VpcConfig"]["SubnetIds"], f"{name} must run in the VPC to reach the database"
            assert env["DATABASE_SECRET_ARN"], name
            # The app role's secret holds no address; the master secret does (the migrate function's).
            assert ("DATABASE_HOST" in env) == (name != "migrate"), name


def test_app_functions_get_the_plain_settings_and_only_the_secret_arn(dev: Synth) -> None:
    reply_queue = _queue(dev, "reply")
    enrich_queue = _queue(dev, "enrich")
    secrets = dev.resources("AWS::SecretsManager::Secret")
    for name in ("webhook", "ingest", "enrich", "reply"):
        env = dev.functions()[name]["Properties"]["Environment"]["Variables"]
        assert secrets[_ref(env["MOSTRADOR_SECRET_ARN"])]["Properties"]["Name"] == "mostrador-dev/app"
        # The generated ingest key only where it is checked.
        if name == "ingest":
            assert (
                secrets[_ref(env["MOSTRADOR_INGEST_KEY_SECRET_ARN"])]["Properties"]["Name"]
                == "mostrador-dev/ingest-key"
            )
        else:
            assert "MOSTRADOR_INGEST_KEY_SECRET_ARN" not in env
        assert "MOSTRADOR_ADMIN_TOKEN_KEY_SECRET_ARN" not in env  # the admin function's alone
        assert _ref(env["ENRICH_QUEUE_URL"]) == enrich_queue[0]
        assert _ref(env["REPLY_QUEUE_URL"]) == reply_queue[0]
        assert env["ENRICH_MAX_RECEIVES"] == str(enrich_queue[1]["Properties"]["RedrivePolicy"]["maxReceiveCount"])
        assert env["REPLY_MAX_RECEIVES"] == str(reply_queue[1]["Properties"]["RedrivePolicy"]["maxReceiveCount"])
        for key in ("TENANT_ID", "LLM_PROVIDER", "OPENAI_CHAT_MODEL", "META_GRAPH_URL", "HUMAN_TAKEOVER_PAUSE_MINUTES"):
            assert env[key], key
    admin_env = dev.functions()["admin"]["Properties"]["Environment"]["Variables"]
    admin_key = secrets[_ref(admin_env["MOSTRADOR_ADMIN_TOKEN_KEY_SECRET_ARN"])]
    assert admin_key["Properties"]["Name"] == "mostrador-dev/admin-token-key"


def test_context_values_reach_the_environment(prod: Synth) -> None:
    env = prod.functions()["reply"]["Properties"]["Environment"]["Variables"]
    assert env["LLM_PROVIDER"] == "gemini"
    assert env["WHATSAPP_PHONE_NUMBER_ID"] == "1098765"
    assert env["TENANT_ID"] == "t1"
    assert env["SUPPORT_BOARD_MEDIA_HOSTS"] == "uploads-bucket.s3.amazonaws.com"  # read by the reply function


def _queue(synth: Synth, name: str) -> tuple[str, dict[str, Any]]:
    stage = synth.stack.settings.stage
    wanted = {"enrich": f"mostrador-{stage}-enrich", "reply": f"mostrador-{stage}-reply.fifo"}[name]
    for logical_id, queue in synth.resources("AWS::SQS::Queue").items():
        if queue["Properties"]["QueueName"] == wanted:
            return logical_id, queue
    raise AssertionError(f"no queue named {wanted}")


def test_each_work_queue_dead_letters_after_five_receives(dev: Synth) -> None:
    queues = dev.resources("AWS::SQS::Queue")
    for name in ("enrich", "reply"):
        _, queue = _queue(dev, name)
        redrive = queue["Properties"]["RedrivePolicy"]
        assert redrive["maxReceiveCount"] == 5
        dlq = queues[_ref(redrive["deadLetterTargetArn"])]
        assert dlq["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
        assert "RedrivePolicy" not in dlq["Properties"]


def test_reply_queue_is_fifo_deduplicated_by_the_webhooks_id(dev: Synth) -> None:
    _, reply = _queue(dev, "reply")
    props = reply["Properties"]
    assert props["FifoQueue"] is True
    assert props["ContentBasedDeduplication"] is False
    dlq = dev.template["Resources"][_ref(props["RedrivePolicy"]["deadLetterTargetArn"])]
    assert dlq["Properties"]["FifoQueue"] is True
    _, enrich = _queue(dev, "enrich")
    assert "FifoQueue" not in enrich["Properties"]


def test_event_sources_report_batch_item_failures(dev: Synth) -> None:
    mappings = list(dev.resources("AWS::Lambda::EventSourceMapping").values())
    assert len(mappings) == 5  # enrich, reply, knowledge (infra/knowledge.py), the enrich and reply dead letters
    by_queue = {_ref(m["Properties"]["EventSourceArn"]): m["Properties"] for m in mappings}
    for props in by_queue.values():
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert props["ScalingConfig"]["MaximumConcurrency"] >= 2  # bounds database connections
    reply = by_queue[_queue(dev, "reply")[0]]
    assert 1 <= reply["BatchSize"] <= 10
    assert "MaximumBatchingWindowInSeconds" not in reply  # FIFO sources take no window
    enrich = by_queue[_queue(dev, "enrich")[0]]
    assert enrich["MaximumBatchingWindowInSeconds"] > 0
    assert enrich["BatchSize"] > 1  # embeddings are requested per batch


@pytest.mark.parametrize(("queue", "metric"), [("enrich", "ItemsDeadLettered"), ("reply", "ReplyItemsDeadLettered")])
def test_the_function_of_a_queue_consumes_its_dead_letter_queue_with_its_own_alarms(
    dev: Synth, queue: str, metric: str
) -> None:
    """The enrich function counts its dead letters as failed in their syncs; the reply function settles its
    own (a message failed, the ones waiting behind it answered: docs/conversations.md)."""
    _, work_queue = _queue(dev, queue)
    dlq_id = _ref(work_queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
    (mapping,) = [
        m["Properties"]
        for m in dev.resources("AWS::Lambda::EventSourceMapping").values()
        if _ref(m["Properties"]["EventSourceArn"]) == dlq_id
    ]
    assert _ref(mapping["FunctionName"]) == dev.functions()[queue]["logical_id"]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] <= 10 and "MaximumBatchingWindowInSeconds" not in mapping  # FIFO allows no more
    assert mapping["ScalingConfig"]["MaximumConcurrency"] == dev.stack.settings.dead_letter_max_concurrency
    timeout = dev.functions()[queue]["Properties"]["Timeout"]
    assert dev.resources("AWS::SQS::Queue")[dlq_id]["Properties"]["VisibilityTimeout"] >= 6 * timeout
    alarms = {a["Properties"]["AlarmName"]: a["Properties"] for a in dev.resources("AWS::CloudWatch::Alarm").values()}
    recorded = alarms[f"mostrador-dev-{queue}-dead-lettered"]
    assert (recorded["MetricName"], recorded["Namespace"], recorded["Threshold"]) == (metric, "Mostrador", 1)
    assert {d["Name"]: d["Value"] for d in recorded["Dimensions"]} == {"service": "mostrador", "stage": "dev"}
    waiting = alarms[f"mostrador-dev-{queue}-dlq-not-recorded"]
    assert waiting["MetricName"] == "ApproximateAgeOfOldestMessage"
    assert _ref(waiting["Dimensions"][0]["Value"]) == dlq_id
    assert f"mostrador-dev-{queue}-dlq-not-empty" not in alarms  # consumed: its depth says nothing any more


def test_visibility_timeout_is_at_least_six_times_the_consumer_timeout(dev: Synth) -> None:
    functions = {f["logical_id"]: f for f in dev.functions().values()}
    queues = dev.resources("AWS::SQS::Queue")
    for mapping in dev.resources("AWS::Lambda::EventSourceMapping").values():
        props = mapping["Properties"]
        timeout = functions[_ref(props["FunctionName"])]["Properties"]["Timeout"]
        queue = queues[_ref(props["EventSourceArn"])]["Properties"]
        window = props.get("MaximumBatchingWindowInSeconds", 0)
        assert queue["VisibilityTimeout"] >= 6 * timeout + window


def test_api_functions_finish_within_api_gateways_timeout(dev: Synth) -> None:
    for name in ("webhook", "ingest"):
        assert dev.functions()[name]["Properties"]["Timeout"] <= 29


def test_queues_are_encrypted_and_refuse_plain_http(dev: Synth) -> None:
    queues = dev.resources("AWS::SQS::Queue")
    assert len(queues) == 6  # enrich, reply, knowledge and their dead-letter queues
    for queue in queues.values():
        props = queue["Properties"]
        assert props.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in props
    protected = set()
    for policy in dev.resources("AWS::SQS::QueuePolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}:
                protected.update(_ref(q) for q in policy["Properties"]["Queues"])
    assert protected == set(queues)


def test_database_is_private_encrypted_and_requires_tls(dev: Synth) -> None:
    (db,) = dev.resources("AWS::RDS::DBInstance").values()
    props = db["Properties"]
    assert props["Engine"] == "postgres"
    assert int(str(props["EngineVersion"]).split(".")[0]) >= 17  # every RDS 17.x ships pgvector >= 0.8
    assert props["PubliclyAccessible"] is False
    assert props["StorageEncrypted"] is True
    assert props["DeletionProtection"] is False  # dev can be torn down; prod is protected (below)
    params = dev.template["Resources"][_ref(props["DBParameterGroupName"])]["Properties"]["Parameters"]
    assert params["rds.force_ssl"] == "1"
    # Subnets: isolated ones (no route to the internet at all).
    (subnet_group,) = dev.resources("AWS::RDS::DBSubnetGroup").values()
    routes = dev.resources("AWS::EC2::Route").values()
    for subnet in subnet_group["Properties"]["SubnetIds"]:
        subnet_id = _ref(subnet)
        assert dev.template["Resources"][subnet_id]["Properties"]["MapPublicIpOnLaunch"] is False
        tables = [
            _ref(a["Properties"]["RouteTableId"])
            for a in dev.resources("AWS::EC2::SubnetRouteTableAssociation").values()
            if _ref(a["Properties"]["SubnetId"]) == subnet_id
        ]
        assert not [r for r in routes if _ref(r["Properties"]["RouteTableId"]) in tables]
    # Only the functions' security group may connect, on the PostgreSQL port.
    (db_sg,) = [_ref(sg) for sg in props["VPCSecurityGroups"]]
    ingress = [
        r["Properties"]
        for r in dev.resources("AWS::EC2::SecurityGroupIngress").values()
        if _ref(r["Properties"]["GroupId"]) == db_sg
    ]
    ingress += dev.template["Resources"][db_sg]["Properties"].get("SecurityGroupIngress", [])
    assert ingress and all("CidrIp" not in rule for rule in ingress)
    function_sgs = {
        _ref(sg)
        for f in dev.functions().values()
        for sg in f["Properties"].get("VpcConfig", {}).get("SecurityGroupIds", [])
    }
    assert {_ref(rule["SourceSecurityGroupId"]) for rule in ingress} == function_sgs
    assert all(rule["FromPort"] == 5432 for rule in ingress)


def test_prod_database_is_protected_and_multi_az_from_its_committed_settings(prod: Synth) -> None:
    from tests.infra.conftest import PROD_CONTEXT

    # Neither is passed as -c (PROD_CONTEXT): infra/stages/prod.toml holds them.
    assert not {"dbMultiAz", "dbDeletionProtection"} & set(PROD_CONTEXT)
    (db,) = prod.resources("AWS::RDS::DBInstance").values()
    assert db["Properties"]["DeletionProtection"] is True
    assert db["Properties"]["MultiAZ"] is True
    assert db["DeletionPolicy"] == "Snapshot"
    assert db["Properties"]["BackupRetentionPeriod"] == 14


def test_no_secret_value_anywhere_in_the_template(dev: Synth) -> None:
    from mostrador.config import SECRET_NAMES

    text = json.dumps(dev.template)
    for name, value in SECRET_VALUES.items():
        assert value not in text, f"the value of {name} leaked into the template"
    for function in dev.functions().values():
        env = function["Properties"]["Environment"]["Variables"]
        assert not set(env) & set(SECRET_NAMES), "secrets are read from Secrets Manager, never the environment"
        for key, value in env.items():
            if isinstance(value, str) and re.search(r"(TOKEN|SECRET|PASSWORD|API_KEY)$", key):
                pytest.fail(f"{key} holds a literal: {value}")
    # No password-like literals: generated secrets, and the app secret's first value holds only empty strings.
    for secret in dev.resources("AWS::SecretsManager::Secret").values():
        props = secret["Properties"]
        if props["Name"] == "mostrador-dev/app":
            assert "GenerateSecretString" not in props
            assert set(json.loads(props["SecretString"]).values()) == {""}
        elif props["Name"] == "mostrador-dev/routing":  # not a credential: a marker until the deploy publishes
            assert json.loads(props["SecretString"]) == {"unpublished": True}
        else:
            assert "SecretString" not in props
            assert "GenerateSecretString" in props
    (db,) = dev.resources("AWS::RDS::DBInstance").values()
    assert "resolve:secretsmanager" in json.dumps(db["Properties"]["MasterUserPassword"])
    assert not re.search(r"\b(sk-[A-Za-z0-9_-]{16,}|AIza[0-9A-Za-z_-]{20,}|EAA[A-Za-z0-9]{20,})", text)


def test_a_secret_passed_as_context_is_refused() -> None:
    from infra.settings import SettingsError, settings_from_context

    for key in ("openaiApiKey", "whatsappToken", "metaAppSecret", "dbPassword"):
        with pytest.raises(SettingsError, match="secret"):
            settings_from_context({key: "value"})
    with pytest.raises(SettingsError, match="natMode"):
        settings_from_context({"natMode": "none"})
    with pytest.raises(SettingsError, match="stage"):
        settings_from_context({"stage": "Prod!"})
    with pytest.raises(SettingsError, match="replyBatchSize"):
        settings_from_context({"replyBatchSize": "11"})  # FIFO sources take at most 10
    assert settings_from_context({"@aws-cdk/aws-secretsmanager:someFlag": True}).stage == "dev"


def _trigger_of(synth: Synth, function: str) -> tuple[str, dict[str, Any]]:
    target = synth.functions()[function]["logical_id"]
    for logical_id, trigger in synth.resources("Custom::Trigger").items():
        version = synth.template["Resources"][_ref(trigger["Properties"]["HandlerArn"])]
        if _ref(version["Properties"]["FunctionName"]) == target:
            return logical_id, trigger
    raise AssertionError(f"no trigger runs {function}")


def test_migrations_run_on_deploy_before_the_app_functions_update(dev: Synth) -> None:
    (trigger_id, trigger) = _trigger_of(dev, "migrate")
    migrate = dev.functions()["migrate"]
    version = dev.template["Resources"][_ref(trigger["Properties"]["HandlerArn"])]
    assert version["Type"] == "AWS::Lambda::Version"
    assert _ref(version["Properties"]["FunctionName"]) == migrate["logical_id"]
    assert trigger["Properties"]["ExecuteOnHandlerChange"] is True
    (db_id,) = dev.resources("AWS::RDS::DBInstance")
    assert db_id in trigger.get("DependsOn", [])
    env = migrate["Properties"]["Environment"]["Variables"]
    # Besides the database, the app secret: it registers the deployment's Support Board secret, hashed, for the
    # default tenant (tests/infra/test_tenants_stack.py).
    assert env["MOSTRADOR_SECRET_ARN"]
    assert env["MIGRATIONS_DIGEST"]
    for name in ("webhook", "ingest", "enrich", "reply"):
        assert trigger_id in dev.functions()[name].get("DependsOn", []), name


def test_alarms_cover_dead_letters_errors_reply_age_database_and_send_failures(dev: Synth) -> None:
    alarms = list(dev.resources("AWS::CloudWatch::Alarm").values())
    (topic_id,) = dev.resources("AWS::SNS::Topic")
    for alarm in alarms:
        assert [_ref(a) for a in alarm["Properties"]["AlarmActions"]] == [topic_id]

    def watched(metric: str) -> list[dict[str, Any]]:
        return [a["Properties"] for a in alarms if a["Properties"].get("MetricName") == metric]

    queues = dev.resources("AWS::SQS::Queue")
    consumed = {
        _ref(_queue(dev, name)[1]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]) for name in ("enrich", "reply")
    }
    dlq_names = {
        _ref(q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
        for q in queues.values()
        if "RedrivePolicy" in q["Properties"]
    } - consumed  # their alarms are in the test above
    dlq_alarms = {
        _ref(d["Value"])
        for a in watched("ApproximateNumberOfMessagesVisible")
        for d in a["Dimensions"]
        if d["Name"] == "QueueName"
    }
    assert dlq_alarms == dlq_names
    assert all(a["Threshold"] == 1 for a in watched("ApproximateNumberOfMessagesVisible"))
    errors = {_ref(d["Value"]) for a in watched("Errors") for d in a["Dimensions"]}
    assert errors >= {dev.functions()[n]["logical_id"] for n in ("webhook", "ingest", "enrich", "reply")}
    ages = {_ref(a["Dimensions"][0]["Value"]) for a in watched("ApproximateAgeOfOldestMessage")}
    assert ages == {_queue(dev, "reply")[0], *consumed}
    assert watched("CPUUtilization") and watched("FreeStorageSpace")
    (failures,) = watched("PermanentSendFailures")
    assert failures["Namespace"] == "Mostrador"
    assert len(dev.resources("AWS::CloudWatch::Dashboard")) == 1


def test_outputs_name_the_urls_and_the_secrets_to_fill(dev: Synth) -> None:
    outputs = dev.template["Outputs"]
    for name in (
        "WhatsAppWebhookUrl",
        "MetaWebhookUrl",
        "SupportBoardWebhookUrl",
        "IngestUrl",
        "AppSecretName",
        "IngestKeySecretName",
    ):
        assert name in outputs, name
    assert "/webhooks/whatsapp" in json.dumps(outputs["WhatsAppWebhookUrl"]["Value"])
    assert "/ingest/products" in json.dumps(outputs["IngestUrl"]["Value"])


def _physical_names(synth: Synth) -> list[str]:
    keys = ("FunctionName", "QueueName", "Name", "DBInstanceIdentifier", "DashboardName", "AlarmName", "TopicName")
    names = []
    for resource in synth.template["Resources"].values():
        for key in keys:
            value = resource.get("Properties", {}).get(key)
            if isinstance(value, str):
                names.append(value)
    return names


def test_every_name_carries_the_stage_so_dev_and_prod_coexist(dev: Synth, prod: Synth) -> None:
    dev_names, prod_names = _physical_names(dev), _physical_names(prod)
    assert len(dev_names) >= 20
    assert all("mostrador-dev" in n for n in dev_names), [n for n in dev_names if "mostrador-dev" not in n]
    assert all("mostrador-prod" in n for n in prod_names)
    assert not set(dev_names) & set(prod_names)
    assert dev.stack.stack_name != prod.stack.stack_name


def test_one_nat_gateway_by_default_and_a_nat_instance_when_asked(dev: Synth, prod: Synth) -> None:
    assert len(dev.resources("AWS::EC2::NatGateway")) == 1
    assert not dev.resources("AWS::EC2::Instance")
    assert not prod.resources("AWS::EC2::NatGateway")
    (instance,) = prod.resources("AWS::EC2::Instance").values()
    assert instance["Properties"]["InstanceType"] == "t4g.nano"
    assert instance["Properties"]["SourceDestCheck"] is False
    # Nothing from the internet may reach the NAT instance.
    for sg in prod.resources("AWS::EC2::SecurityGroup").values():
        for rule in sg["Properties"].get("SecurityGroupIngress", []):
            assert rule.get("CidrIp") != "0.0.0.0/0"


def test_api_logs_access_throttles_and_traces(dev: Synth) -> None:
    (stage,) = dev.resources("AWS::ApiGateway::Stage").values()
    props = stage["Properties"]
    assert props["StageName"] == "dev"
    assert props["AccessLogSetting"]["DestinationArn"]
    assert props["TracingEnabled"] is True
    (default,) = [s for s in props["MethodSettings"] if (s["HttpMethod"], s["ResourcePath"]) == ("*", "/*")]
    assert default["ThrottlingRateLimit"] > 0 and default["ThrottlingBurstLimit"] > 0
    for settings in props["MethodSettings"]:  # full request logging would capture customer messages
        assert settings["DataTraceEnabled"] is False


def test_storage_and_logs_have_retention(dev: Synth) -> None:
    for group in dev.resources("AWS::Logs::LogGroup").values():
        assert group["Properties"]["RetentionInDays"] > 0


def test_every_provider_setting_can_be_set_from_context() -> None:
    from infra.settings import APP_ENVIRONMENT

    for name in ("OPENAI_BASE_URL", "GEMINI_CHAT_MODEL", "GEMINI_EMBEDDING_MODEL", "GEMINI_BASE_URL"):
        assert name in APP_ENVIRONMENT, name
