"""The knowledge base's own infrastructure (docs/knowledge.md): the bucket for raw uploaded files, and
the knowledge and admin functions' access to it. The function, its queue (+DLQ) and event source are
declared with the others (infra/functions.py, infra/queues.py).

Bucket: private (all public access blocked, bucket-owner-enforced), encrypted at rest (S3-managed
keys), TLS only, versioned. Lifecycle: a replaced or deleted file's previous versions are kept 90
days (time to recover a document deleted by mistake) and then expire; expired delete markers and
incomplete multipart uploads (after 1 day) are cleaned up. Current files never expire: they are the
knowledge base's sources of truth.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from cdk_nag import NagSuppressions
from constructs import Construct

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
            removal_policy=RemovalPolicy.RETAIN if settings.stage == "prod" else RemovalPolicy.DESTROY,
        )
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
        # worker reads objects (ListBucket so that a deleted file reads as NoSuchKey, not AccessDenied), the
        # admin function writes and deletes them.
        objects = self.bucket.arn_for_objects("*")
        worker.add_to_role_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[objects]))
        worker.add_to_role_policy(iam.PolicyStatement(actions=["s3:ListBucket"], resources=[self.bucket.bucket_arn]))
        admin.add_to_role_policy(iam.PolicyStatement(actions=["s3:PutObject", "s3:DeleteObject"], resources=[objects]))

        # Placed on the two policies that hold the object statements, for that resource only (the X-Ray
        # suppression on the same policies is infra/functions.py's).
        object_keys = {
            "id": "AwsSolutions-IAM5",
            "reason": "Object-level S3 actions on this bucket's keys (each document is its own object, named "
            "by tenant and id when it is uploaded), so the resource is the bucket's objects.",
            "appliesTo": [{"regex": "/^Resource::<KnowledgeFiles[A-Za-z0-9]*\\.Arn>\\/\\*$/g"}],
        }
        for function in (worker, admin):
            policy = function.role.node.try_find_child("DefaultPolicy") if function.role is not None else None
            if policy is not None:
                NagSuppressions.add_resource_suppressions(policy, [object_keys])
