"""The Lambda functions: one table entry per function (its routes, its queues, its size), one shared layer.

Adding a function behind the API is one `FunctionSpec` in `FUNCTIONS` plus functions/<name>/handler.py.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import AssetHashType, Duration, RemovalPolicy, triggers
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from cdk_nag import NagSuppressions
from constructs import Construct

from infra.database import Database
from infra.layer_build import REPO_ROOT, LayerTarget, build_layer
from infra.logs import retention
from infra.queues import Queues
from infra.settings import DeploySettings

# Newest Python runtime in aws-cdk-lib 2.275 that Powertools 3.x supports; arm64 is ~20% cheaper per GB-s.
RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
LAYER_TARGET = LayerTarget(python_version=RUNTIME.name.removeprefix("python"), machine="aarch64")
FUNCTIONS_DIR = REPO_ROOT / "functions"
MIGRATIONS_DIR = REPO_ROOT / "layers" / "shared" / "python" / "mostrador" / "db" / "migrations"


@dataclass(frozen=True)
class Consumer:
    """An SQS event source: which queue, how many messages per invocation, how long to gather them."""

    queue: str  # "enrich" or "reply" (a name in Queues)
    batch_size: int
    batching_window_seconds: int = 0


@dataclass(frozen=True)
class FunctionSpec:
    name: str  # functions/<name>/handler.py
    memory_mb: int
    timeout_seconds: int
    routes: tuple[tuple[str, str], ...] = ()  # (HTTP method, path) on the REST API
    consumer: Consumer | None = None
    sends_to: tuple[str, ...] = ()  # queue names the function may send to
    description: str = ""
    # X-Ray costs about 0.3 s of imports at cold start; the webhook (verify + enqueue, Meta waits for
    # it) runs untraced and is watched through API Gateway access logs and its metrics instead.
    traced: bool = True


# Sizes are explained in docs/deploy.md ("Functions: memory and timeouts"). API functions stay under
# API Gateway's 29 s integration timeout; consumer timeouts set their queue's visibility timeout (6x).
FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        name="webhook",
        memory_mb=512,
        timeout_seconds=15,
        traced=False,
        routes=(
            ("GET", "/webhooks/whatsapp"),
            ("POST", "/webhooks/whatsapp"),
            ("GET", "/webhooks/meta"),
            ("POST", "/webhooks/meta"),
            ("POST", "/webhooks/support-board"),
        ),
        sends_to=("reply",),
        description="Verifies and normalizes Meta and Support Board webhooks, enqueues them for reply",
    ),
    FunctionSpec(
        name="ingest",
        memory_mb=1024,
        timeout_seconds=28,
        routes=(
            ("POST", "/ingest/products"),
            ("POST", "/api/receive-products"),
            ("GET", "/ingest/syncs/{syncId}"),
            ("GET", "/health"),
        ),
        sends_to=("enrich",),
        description="Accepts catalog pushes from the fetcher, tracks syncs, answers health checks",
    ),
    FunctionSpec(
        name="webchat",
        memory_mb=512,
        timeout_seconds=15,
        routes=(
            ("POST", "/webchat/messages"),
            ("GET", "/webchat/messages"),
            ("OPTIONS", "/webchat/messages"),
        ),
        sends_to=("reply",),
        description="Web chat channel: a shop's page posts customer messages and polls the bot's replies",
    ),
    FunctionSpec(
        name="admin",
        memory_mb=1024,  # exports build CSV/XLSX pages in memory (a few MB at most per page)
        timeout_seconds=28,
        routes=(("ANY", "/admin/{proxy+}"),),
        description="Admin API: conversations, takeover, escalations, analytics, export (bearer token)",
    ),
    FunctionSpec(
        name="enrich",
        memory_mb=1024,
        timeout_seconds=180,
        consumer=Consumer(queue="enrich", batch_size=10, batching_window_seconds=5),
        description="Cleans, summarizes and embeds changed products",
    ),
    FunctionSpec(
        name="reply",
        memory_mb=768,
        timeout_seconds=90,
        consumer=Consumer(queue="reply", batch_size=1),
        # Its own burst timers go on the reply queue (docs/conversations.md, the burst quiet window).
        sends_to=("reply",),
        description="Answers customers: takeover rules, LLM with catalog tools, channel send",
    ),
)

MIGRATE = FunctionSpec(
    name="migrate",
    memory_mb=512,
    timeout_seconds=300,
    description="Applies pending SQL migrations; run by the deploy",
)


def consumer_timeout(queue: str) -> Duration:
    """The timeout of the function consuming `queue` (its visibility timeout is derived from it)."""
    for spec in FUNCTIONS:
        if spec.consumer and spec.consumer.queue == queue:
            return Duration.seconds(spec.timeout_seconds)
    raise KeyError(queue)


def batching_window(queue: str) -> Duration:
    for spec in FUNCTIONS:
        if spec.consumer and spec.consumer.queue == queue:
            return Duration.seconds(spec.consumer.batching_window_seconds)
    raise KeyError(queue)


def _digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.sql")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


class Functions(Construct):
    """Every function of the app, the shared layer, the migrate-on-deploy trigger."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: DeploySettings,
        vpc: ec2.IVpc,
        database: Database,
        queues: Queues,
        app_secret: secretsmanager.ISecret,
        functions_dir: Path = FUNCTIONS_DIR,
    ) -> None:
        super().__init__(scope, construct_id)
        missing = [
            spec.name for spec in (*FUNCTIONS, MIGRATE) if not (functions_dir / spec.name / "handler.py").is_file()
        ]
        if missing:
            raise FileNotFoundError(
                f"No handler for {', '.join(missing)}: each function needs {functions_dir}/<name>/handler.py"
            )
        self._functions_dir = functions_dir
        self._settings = settings
        self._vpc = vpc
        self._database = database

        built = build_layer(LAYER_TARGET)
        self.layer = lambda_.LayerVersion(
            self,
            "SharedLayer",
            layer_version_name=f"{settings.prefix}-shared",
            code=lambda_.Code.from_asset(
                str(built.path),
                asset_hash=built.content_hash,
                asset_hash_type=AssetHashType.CUSTOM,
                exclude=[".complete"],
            ),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="mostrador package and its runtime dependencies",
            removal_policy=RemovalPolicy.RETAIN,  # old versions stay usable until every function moved on
        )
        self.layer_path = built.path

        self.security_group = ec2.SecurityGroup(
            self,
            "FunctionsSecurityGroup",
            vpc=vpc,
            description=f"{settings.prefix} functions: out to the database, AWS APIs and LLM/Meta HTTPS",
            allow_all_outbound=True,
        )
        database.allow_from(self.security_group)

        common = {
            **settings.app_environment,
            "MOSTRADOR_STAGE": settings.stage,
            "MOSTRADOR_SECRET_ARN": app_secret.secret_arn,
            "DATABASE_SECRET_ARN": database.secret.secret_arn,
            "DATABASE_HOST": database.host,
            "ENRICH_QUEUE_URL": queues.enrich.queue_url,
            "REPLY_QUEUE_URL": queues.reply.queue_url,
            "ENRICH_MAX_RECEIVES": str(queues.max_receive_count),
        }

        self.by_name: dict[str, lambda_.Function] = {}
        self.specs: dict[str, FunctionSpec] = {}
        for spec in FUNCTIONS:
            function = self._function(spec, common)
            app_secret.grant_read(function)
            database.secret.grant_read(function)
            for queue_name in spec.sends_to:
                queues.by_name(queue_name).grant_send_messages(function)
            if spec.consumer:
                consumer = spec.consumer
                queue = queues.by_name(consumer.queue)
                max_concurrency = (
                    settings.enrich_max_concurrency if consumer.queue == "enrich" else settings.reply_max_concurrency
                )
                batch_size = settings.reply_batch_size if consumer.queue == "reply" else consumer.batch_size
                function.add_event_source(
                    event_sources.SqsEventSource(
                        queue,
                        batch_size=batch_size,
                        max_batching_window=(
                            Duration.seconds(consumer.batching_window_seconds)
                            if consumer.batching_window_seconds
                            else None
                        ),
                        report_batch_item_failures=True,
                        max_concurrency=max_concurrency,
                    )
                )
            self.by_name[spec.name] = function
            self.specs[spec.name] = spec

        # Migrations: the migrate function needs only the database, never the app secret.
        self.migrate = self._function(
            MIGRATE,
            {
                "TENANT_ID": settings.app_environment.get("TENANT_ID", "default"),
                "POWERTOOLS_LOG_LEVEL": settings.app_environment.get("POWERTOOLS_LOG_LEVEL", "INFO"),
                "DATABASE_SECRET_ARN": database.secret.secret_arn,
                "DATABASE_HOST": database.host,
                # Changes with every new migration file, so the function gets a new version and the trigger re-runs.
                "MIGRATIONS_DIGEST": _digest(MIGRATIONS_DIR),
            },
        )
        database.secret.grant_read(self.migrate)
        self.migrate_trigger = triggers.Trigger(
            self,
            "MigrateOnDeploy",
            handler=self.migrate,
            timeout=Duration.seconds(MIGRATE.timeout_seconds + 60),
            execute_after=[database],
            execute_on_handler_change=True,
        )
        # New code never runs against an old schema: the app functions update after migrations succeed.
        for function in self.by_name.values():
            function.node.add_dependency(self.migrate_trigger)

        NagSuppressions.add_resource_suppressions(
            self,
            [
                {
                    "id": "AwsSolutions-IAM4",
                    "reason": "AWSLambdaBasicExecutionRole and AWSLambdaVPCAccessExecutionRole are the AWS-maintained "
                    "minimum for writing logs and attaching ENIs in the VPC.",
                    "appliesTo": [
                        "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                        "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
                    ],
                },
                {
                    "id": "AwsSolutions-IAM5",
                    "reason": "X-Ray PutTraceSegments/PutTelemetryRecords accept no resource narrower than '*'.",
                    "appliesTo": ["Resource::*"],
                },
            ],
            apply_to_children=True,
        )

    def _function(self, spec: FunctionSpec, environment: dict[str, str]) -> lambda_.Function:
        settings = self._settings
        name = f"{settings.prefix}-{spec.name}"
        log_group = logs.LogGroup(
            self,
            f"{spec.name.title()}Logs",
            log_group_name=f"/aws/lambda/{name}",
            retention=retention(settings.log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        return lambda_.Function(
            self,
            spec.name.title(),
            function_name=name,
            description=spec.description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler="handler.handler",
            code=lambda_.Code.from_asset(
                str(self._functions_dir / spec.name), exclude=["__pycache__", "*.pyc", "tests"]
            ),
            layers=[self.layer],
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_seconds),
            environment={
                **environment,
                **POWERTOOLS_ENVIRONMENT,
                **({} if spec.traced else {"POWERTOOLS_TRACE_DISABLED": "true"}),
            },
            tracing=lambda_.Tracing.ACTIVE if spec.traced else lambda_.Tracing.DISABLED,
            log_group=log_group,
            vpc=self._vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            security_groups=[self.security_group],
        )

    def route_table(self) -> list[tuple[str, str, lambda_.Function]]:
        return [(method, path, self.by_name[spec.name]) for spec in FUNCTIONS for method, path in spec.routes]


POWERTOOLS_ENVIRONMENT = {
    "POWERTOOLS_SERVICE_NAME": "mostrador",
    "POWERTOOLS_METRICS_NAMESPACE": "Mostrador",
    # Events and responses carry customer messages and phone numbers: never log or trace them whole.
    "POWERTOOLS_LOGGER_LOG_EVENT": "false",
    "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
    "POWERTOOLS_TRACER_CAPTURE_ERROR": "true",
    "POWERTOOLS_PARAMETERS_MAX_AGE": "3600",
}
