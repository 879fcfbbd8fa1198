"""The knowledge base's own infrastructure (docs/knowledge.md): the bucket for raw uploaded files, the
queue (+DLQ) the admin function sends document messages to, and the wiring of the knowledge function
(declared with the others in infra/functions.py) and the admin function to them.

Bucket: private (all public access blocked, bucket-owner-enforced), encrypted at rest (S3-managed
keys), TLS only, versioned. Lifecycle: a replaced or deleted file's previous versions are kept 90
days (time to recover a document deleted by mistake) and then expire; expired delete markers and
incomplete multipart uploads (after 1 day) are cleaned up. Current files never expire: they are the
knowledge base's sources of truth.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from cdk_nag import NagSuppressions
from constructs import Construct

from infra.queues import DLQ_RETENTION, MAX_RECEIVE_COUNT, VISIBILITY_FACTOR
from infra.settings import DeploySettings

NONCURRENT_VERSIONS_DAYS = 90
MAX_CONCURRENCY = 2  # each execution environment holds one database connection


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
        prefix = settings.prefix
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

        timeout = worker.timeout.to_seconds() if worker.timeout else 300
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            queue_name=f"{prefix}-knowledge-dlq",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DLQ_RETENTION,
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            queue_name=f"{prefix}-knowledge",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(timeout * VISIBILITY_FACTOR),
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dead_letters, max_receive_count=MAX_RECEIVE_COUNT),
        )

        worker.add_event_source(
            event_sources.SqsEventSource(
                self.queue, batch_size=1, report_batch_item_failures=True, max_concurrency=MAX_CONCURRENCY
            )
        )
        for function in (worker, admin):
            function.add_environment("KNOWLEDGE_BUCKET", self.bucket.bucket_name)
            function.add_environment("KNOWLEDGE_QUEUE_URL", self.queue.queue_url)
            function.add_environment("KNOWLEDGE_MAX_RECEIVES", str(MAX_RECEIVE_COUNT))
        self.bucket.grant_read(worker)
        self.bucket.grant_read_write(admin)
        self.bucket.grant_delete(admin)
        self.queue.grant_send_messages(admin)

        object_actions = {
            "id": "AwsSolutions-IAM5",
            "reason": "Object-level S3 actions on this bucket's keys only (each document is its own object); "
            "the actions are the read/write/delete groups CDK grants.",
            "appliesTo": [
                {"regex": "/^Action::s3:.*\\*$/g"},
                {"regex": "/^Resource::<KnowledgeFiles[A-Za-z0-9]*\\.Arn>\\/\\*$/g"},
            ],
        }
        for function in (worker, admin):
            if function.role is not None:
                NagSuppressions.add_resource_suppressions(function.role, [object_actions], apply_to_children=True)
