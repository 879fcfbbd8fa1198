"""The knowledge base's own infrastructure (docs/knowledge.md): the bucket for raw uploaded files, and
the knowledge and admin functions' access to it. The function, its queue (+DLQ) and event source are
declared with the others (infra/functions.py, infra/queues.py).

Bucket: private (all public access blocked, bucket-owner-enforced), encrypted at rest (S3-managed
keys), TLS only, versioned. One object per document version (mostrador.knowledge.files), deleted once
a newer version has been processed. Lifecycle: a deleted object's content is kept 90 days as a
noncurrent version (time to recover a document deleted by mistake) and then expires; expired delete
markers and incomplete multipart uploads (after 1 day) are cleaned up. Current files never expire: they are the
knowledge base's sources of truth.
"""

from __future__ import annotations

from aws_cdk import CfnResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from cdk_nag import NagSuppressions
from constructs import Construct

from infra.logs import retention
from infra.settings import DeploySettings

NONCURRENT_VERSIONS_DAYS = 90


class KnowledgeBase(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: DeploySettings,
        functions: dict[str, lambda_.Function],
    ) -> None:
        super().__init__(scope, construct_id)
        worker, admin = functions["knowledge"], functions["admin"]

        self.bucket = s3.Bucket(
            self,
            "Files",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="previous-versions",
                    noncurrent_version_expiration=Duration.days(NONCURRENT_VERSIONS_DAYS),
                    expired_object_delete_marker=True,
                ),
                s3.LifecycleRule(id="incomplete-uploads", abort_incomplete_multipart_upload_after=Duration.days(1)),
            ],
            # prod: kept when the stack is deleted or the bucket replaced, but deleted when a failed first
            # create rolls back (no orphan bucket in the way of the retry). dev: emptied and deleted with the
            # stack, so `cdk destroy` does not fail on a versioned bucket that holds documents.
            removal_policy=(
                RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE if settings.stage == "prod" else RemovalPolicy.DESTROY
            ),
            auto_delete_objects=settings.stage != "prod",
        )
        if settings.stage != "prod":
            self._auto_delete_provider_logs(settings)
        NagSuppressions.add_resource_suppressions(
            self.bucket,
            [
                {
                    "id": "AwsSolutions-S1",
                    "reason": "Only the admin and knowledge functions read or write it (IAM), and every upload and "
                    "delete is recorded in operator_actions with who did it; server access logs would need a "
                    "second bucket for no extra answer.",
                }
            ],
        )

        for function in (worker, admin):
            function.add_environment("KNOWLEDGE_BUCKET", self.bucket.bucket_name)
        # Exactly the calls each makes (mostrador.knowledge.files), not CDK's grant_* action groups: the
        # worker reads objects (ListBucket also so that a deleted file reads as NoSuchKey, not AccessDenied)
        # and removes a document's other versions once it has processed one; the admin function writes
        # them and lists and deletes a deleted document's.
        objects = self.bucket.arn_for_objects("*")
        listing = iam.PolicyStatement(actions=["s3:ListBucket"], resources=[self.bucket.bucket_arn])
        worker.add_to_role_policy(iam.PolicyStatement(actions=["s3:GetObject", "s3:DeleteObject"], resources=[objects]))
        worker.add_to_role_policy(listing)
        admin.add_to_role_policy(iam.PolicyStatement(actions=["s3:PutObject", "s3:DeleteObject"], resources=[objects]))
        admin.add_to_role_policy(listing)

        # Placed on the two policies that hold the object statements, for that resource only (the X-Ray
        # suppression on the same policies is infra/functions.py's).
        object_keys = {
            "id": "AwsSolutions-IAM5",
            "reason": "Object-level S3 actions on this bucket's keys (each document version is its own object, "
            "named by tenant, document id and content when it is uploaded), so the resource is the bucket's objects.",
            "appliesTo": [{"regex": "/^Resource::<KnowledgeFiles[A-Za-z0-9]*\\.Arn>\\/\\*$/g"}],
        }
        for function in (worker, admin):
            policy = function.role.node.try_find_child("DefaultPolicy") if function.role is not None else None
            if policy is not None:
                NagSuppressions.add_resource_suppressions(policy, [object_keys])

    def _auto_delete_provider_logs(self, settings: DeploySettings) -> None:
        """CDK's object-emptying provider is a bare CloudFormation function whose log group Lambda would create
        on first use, kept forever: give it a log group of ours, with the stack's retention."""
        log_group = logs.LogGroup(
            self,
            "AutoDeleteProviderLogs",
            log_group_name=f"/aws/lambda/{settings.prefix}-bucket-auto-delete",
            retention=retention(settings.log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        for child in Stack.of(self).node.find_all():
            if (
                isinstance(child, CfnResource)
                and child.cfn_resource_type == "AWS::Lambda::Function"
                and "S3AutoDeleteObjectsCustomResourceProvider" in child.node.path
            ):
                child.add_property_override("LoggingConfig", {"LogGroup": log_group.log_group_name})
                child.node.add_dependency(log_group)
