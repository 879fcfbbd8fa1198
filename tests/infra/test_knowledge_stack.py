"""The knowledge base's infrastructure (infra/knowledge.py) in the synthesized template."""

from __future__ import annotations

import json

import pytest

from tests.infra.conftest import Synth

pytestmark = pytest.mark.infra


def _bucket_id(synth: Synth) -> str:
    [logical_id] = [logical for logical in synth.resources("AWS::S3::Bucket") if logical.startswith("KnowledgeFiles")]
    return str(logical_id)


def _bucket(synth: Synth) -> dict:
    return dict(synth.resources("AWS::S3::Bucket")[_bucket_id(synth)])


def test_the_files_bucket_is_private_encrypted_versioned_with_a_lifecycle(dev: Synth, prod: Synth) -> None:
    bucket = _bucket(dev)
    props = bucket["Properties"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    encryption = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    rules = {r["Id"]: r for r in props["LifecycleConfiguration"]["Rules"]}
    assert rules["previous-versions"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 90
    assert rules["incomplete-uploads"]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 1
    policies = [p for p in dev.resources("AWS::S3::BucketPolicy").values() if "aws:SecureTransport" in json.dumps(p)]
    assert policies, "TLS only"
    # prod: kept on delete and on replacement, but not left behind by a failed first create.
    assert (_bucket(prod)["DeletionPolicy"], _bucket(prod)["UpdateReplacePolicy"]) == ("RetainExceptOnCreate", "Retain")
    assert not prod.resources("Custom::S3AutoDeleteObjects")


def test_the_dev_files_bucket_is_emptied_when_the_stage_is_removed(dev: Synth) -> None:
    # A versioned bucket holding a document cannot be deleted: `cdk destroy` would fail without this.
    assert _bucket(dev)["DeletionPolicy"] == "Delete"
    [auto_delete] = dev.resources("Custom::S3AutoDeleteObjects").values()
    assert auto_delete["Properties"]["BucketName"] == {"Ref": _bucket_id(dev)}
    groups = dev.resources("AWS::Logs::LogGroup")
    [provider] = [
        f for f in dev.resources("AWS::Lambda::Function").values() if "AutoDeleteObjects" in json.dumps(f["Properties"])
    ]
    target = provider["Properties"]["LoggingConfig"]["LogGroup"]
    assert target["Ref"] in groups, target  # a log group of ours, with the stack's retention


def test_the_worker_takes_one_document_at_a_time_and_the_admin_can_reach_bucket_and_queue(dev: Synth) -> None:
    functions = dev.functions()
    worker, admin = functions["knowledge"], functions["admin"]
    [mapping] = [
        m["Properties"]
        for m in dev.resources("AWS::Lambda::EventSourceMapping").values()
        if worker["logical_id"] in json.dumps(m["Properties"]["FunctionName"])
    ]
    assert mapping["BatchSize"] == 1 and mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # At most knowledgeMaxConcurrency (2) documents at once: each holds a database connection.
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 2}
    [queue] = [
        q["Properties"]
        for q in dev.resources("AWS::SQS::Queue").values()
        if q["Properties"].get("QueueName") == "mostrador-dev-knowledge"
    ]
    assert queue["VisibilityTimeout"] == 6 * 300
    assert json.loads(json.dumps(queue["RedrivePolicy"]))["maxReceiveCount"] == 5
    for function in (worker, admin):
        env = function["Properties"]["Environment"]["Variables"]
        assert {"KNOWLEDGE_BUCKET", "KNOWLEDGE_QUEUE_URL", "DATABASE_SECRET_ARN"} <= set(env)
    policies = json.dumps(dev.resources("AWS::IAM::Policy"))
    assert "sqs:SendMessage" in policies
    # The admin function stores files and lists and deletes a deleted document's; the worker reads them and
    # deletes a document's other versions once it has processed one (files are named by content).
    assert _s3_actions(dev, admin) == {"s3:PutObject", "s3:DeleteObject", "s3:ListBucket"}
    assert _s3_actions(dev, worker) == {"s3:GetObject", "s3:DeleteObject", "s3:ListBucket"}


def _s3_actions(synth: Synth, function: dict) -> set[str]:
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    actions: set[str] = set()
    for policy in synth.resources("AWS::IAM::Policy").values():
        if {"Ref": role} not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            listed = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            actions |= {action for action in listed if action.startswith("s3:")}
    return actions


def test_the_knowledge_dead_letter_queue_has_an_alarm(dev: Synth) -> None:
    alarms = [a["Properties"]["AlarmName"] for a in dev.resources("AWS::CloudWatch::Alarm").values()]
    assert "mostrador-dev-knowledge-dlq-not-empty" in alarms
    assert "mostrador-dev-knowledge-errors" in alarms
