"""The Lambda functions: one table entry per function (its routes, its queues, its size), one shared layer.

Adding a function behind the API is one `FunctionSpec` in `FUNCTIONS` plus functions/<name>/handler.py.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import AssetHashType, CfnResource, Duration, RemovalPolicy, Stack, triggers
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from cdk_nag import NagSuppressions
from constructs import Construct

from infra.database import Database
from infra.layer_build import REPO_ROOT, BuiltLayer, LayerTarget, build_layer
from infra.logs import retention
from infra.queues import Queues
from infra.settings import CONSUMED_DEAD_LETTERS, DeploySettings
from mostrador.config import REPLY_FUNCTION_TIMEOUT_SECONDS

# The newest Python the test suite runs on (the embedded PostgreSQL, pgserver, has wheels up to 3.12), so
# what is deployed is what is tested: docs/deploy.md ("Python version"). arm64 is ~20% cheaper per GB-s.
RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64
LAYER_TARGET = LayerTarget(python_version=RUNTIME.name.removeprefix("python"), machine="aarch64")
FUNCTIONS_DIR = REPO_ROOT / "functions"
CONCURRENCY_CHECK_DIR = REPO_ROOT / "infra" / "concurrency_check"
MIGRATIONS_DIR = REPO_ROOT / "layers" / "shared" / "python" / "mostrador" / "db" / "migrations"


@dataclass(frozen=True)
class Consumer:
    """An SQS event source: which queue, how many messages per invocation, how long to gather them."""

    queue: str  # "enrich", "reply" or "knowledge" (a name in Queues)
    batch_size: int
    batching_window_seconds: int = 0


@dataclass(frozen=True)
class Throttle:
    """API Gateway limits for each of a function's routes (requests per second and burst, per method)."""

    rate: int
    burst: int


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
    # A function that never touches the database runs outside the VPC: no ENI, and no dependence on the NAT.
    uses_database: bool = True
    reads_ingest_key: bool = False
    reads_admin_token_key: bool = False
    throttle: Throttle | None = None  # None: the stage's default (apiThrottleRate / apiThrottleBurst)


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
        uses_database=False,
        # Meta delivers in bursts (statuses of a broadcast) and redelivers for days what it could not hand over.
        throttle=Throttle(rate=100, burst=200),
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
        reads_ingest_key=True,
        throttle=Throttle(rate=10, burst=20),
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
        # Open chats poll; this bounds their share of the account's Lambda concurrency next to the webhooks.
        throttle=Throttle(rate=20, burst=40),
    ),
    FunctionSpec(
        name="admin",
        memory_mb=1024,  # exports build CSV/XLSX pages in memory (a few MB at most per page)
        timeout_seconds=28,
        routes=(("ANY", "/admin/{proxy+}"),),
        sends_to=("knowledge",),
        description="Admin API: conversations, takeover, escalations, analytics, export, knowledge, tokens, audit",
        reads_admin_token_key=True,
        throttle=Throttle(rate=10, burst=20),
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
        # Shared with the stale-reply check (docs/conversations.md, the burst quiet window).
        timeout_seconds=REPLY_FUNCTION_TIMEOUT_SECONDS,
        consumer=Consumer(queue="reply", batch_size=1),
        # Its own burst timers go on the reply queue (docs/conversations.md, the burst quiet window).
        sends_to=("reply",),
        description="Answers customers: takeover rules, LLM with catalog tools, channel send",
    ),
    # Its files bucket is in infra/knowledge.py (docs/knowledge.md).
    FunctionSpec(
        name="knowledge",
        memory_mb=1536,  # a 200-page PDF parsed by pure-Python pypdf and ~1,000 vectors in memory
        timeout_seconds=300,
        consumer=Consumer(queue="knowledge", batch_size=1),  # one document = one embedding call
        description="Knowledge base: extracts, chunks and embeds uploaded documents and FAQ entries",
    ),
)

MIGRATE = FunctionSpec(
    name="migrate",
    memory_mb=512,
    timeout_seconds=300,
    description="Applies pending SQL migrations and grants the functions' database role; run by the deploy",
)
CONCURRENCY_CHECK = FunctionSpec(
    name="concurrency-check",
    memory_mb=128,
    timeout_seconds=30,
    uses_database=False,
    traced=False,
    description="Fails the deploy when the account's Lambda concurrency quota is below what the stage needs",
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
        ingest_key_secret: secretsmanager.ISecret,
        admin_token_key_secret: secretsmanager.ISecret,
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
            description="mostrador package and its runtime dependencies (from uv.lock)",
            removal_policy=RemovalPolicy.RETAIN,  # old versions stay usable until every function moved on
        )
        self.built_layer: BuiltLayer = built
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
            "ENRICH_QUEUE_URL": queues.enrich.queue_url,
            "REPLY_QUEUE_URL": queues.reply.queue_url,
            "KNOWLEDGE_QUEUE_URL": queues.knowledge.queue_url,
            "ENRICH_MAX_RECEIVES": str(queues.max_receive_count),
            "REPLY_MAX_RECEIVES": str(queues.max_receive_count),
            "KNOWLEDGE_MAX_RECEIVES": str(queues.max_receive_count),
        }
        # The functions connect as the application role (DML only), never as the master user.
        database_environment = {
            "DATABASE_SECRET_ARN": database.app_role_secret.secret_arn,
            "DATABASE_HOST": database.host,
        }

        self.by_name: dict[str, lambda_.Function] = {}
        self.specs: dict[str, FunctionSpec] = {}
        for spec in FUNCTIONS:
            environment = dict(common)
            if spec.uses_database:
                environment.update(database_environment)
            if spec.reads_ingest_key:
                environment["MOSTRADOR_INGEST_KEY_SECRET_ARN"] = ingest_key_secret.secret_arn
            if spec.reads_admin_token_key:
                environment["MOSTRADOR_ADMIN_TOKEN_KEY_SECRET_ARN"] = admin_token_key_secret.secret_arn
            function = self._function(spec, environment)
            app_secret.grant_read(function)
            if spec.uses_database:
                database.app_role_secret.grant_read(function)
            if spec.reads_ingest_key:
                ingest_key_secret.grant_read(function)
            if spec.reads_admin_token_key:
                admin_token_key_secret.grant_read(function)
            for queue_name in spec.sends_to:
                queues.by_name(queue_name).grant_send_messages(function)
            if spec.consumer:
                consumer = spec.consumer
                queue = queues.by_name(consumer.queue)
                max_concurrency = {
                    "enrich": settings.enrich_max_concurrency,
                    "reply": settings.reply_max_concurrency,
                    "knowledge": settings.knowledge_max_concurrency,
                }[consumer.queue]
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
                if consumer.queue in CONSUMED_DEAD_LETTERS:
                    # What the enrich queue gave up on is counted as failed in its sync (docs/catalog.md); what
                    # the reply queue gave up on is settled: a message failed, the ones waiting behind it
                    # answered (docs/conversations.md). A failure to record leaves them in the dead-letter queue
                    # for the next receive (its own retry, until the 14-day retention), watched by the
                    # <queue>-dlq-not-recorded alarm.
                    function.add_event_source(
                        event_sources.SqsEventSource(
                            queues.dead_letter_queues[consumer.queue],
                            batch_size=10,
                            report_batch_item_failures=True,
                            max_concurrency=settings.dead_letter_max_concurrency,
                        )
                    )
            self.by_name[spec.name] = function
            self.specs[spec.name] = spec

        # Fail the deploy when the account's Lambda concurrency quota is below what this stage may use, before
        # the database instance (15 minutes, and a protected instance would block the rollback) and the app
        # functions (and their queue consumers) are created or updated.
        self.concurrency_check = self._function(
            CONCURRENCY_CHECK,
            {
                "MOSTRADOR_STAGE": settings.stage,
                "REQUIRED_CONCURRENCY": str(settings.required_concurrency),
                "CONCURRENCY_BREAKDOWN": (
                    f"reply {settings.reply_max_concurrency} + enrich {settings.enrich_max_concurrency} + knowledge "
                    f"{settings.knowledge_max_concurrency} + enrich dead letters "
                    f"{settings.dead_letter_max_concurrency} + reply dead letters "
                    f"{settings.dead_letter_max_concurrency} + API headroom {settings.api_concurrency_headroom}"
                ),
            },
            code_dir=CONCURRENCY_CHECK_DIR,
            layers=[],
        )
        self.concurrency_check.add_to_role_policy(
            iam.PolicyStatement(actions=["lambda:GetAccountSettings"], resources=["*"])
        )
        self.concurrency_check_trigger = triggers.Trigger(
            self,
            "ConcurrencyCheckOnDeploy",
            handler=self.concurrency_check,
            timeout=Duration.seconds(CONCURRENCY_CHECK.timeout_seconds + 30),
            # The instance resource only: its construct also holds the master secret, which the migrate function reads.
            execute_before=[database.instance.node.default_child],
            execute_on_handler_change=True,
        )

        # Migrations: the migrate function connects as the master user and creates the functions' role. It reads
        # the instance's address from the master secret, so it does not depend on the instance: CDK's one trigger
        # provider invokes both triggers, and the quota check must be able to run before the instance exists.
        # After migrating it makes sure of the deployment's own tenant from the single-tenant settings (its
        # WhatsApp number, its ingest key and Support Board secret, registered hashed) and publishes the routing
        # document (infra/tenants.py): so it reads the settings and both secrets.
        self.migrate = self._function(
            MIGRATE,
            {
                **settings.app_environment,
                "TENANT_ID": settings.app_environment.get("TENANT_ID", "default"),
                "POWERTOOLS_LOG_LEVEL": settings.app_environment.get("POWERTOOLS_LOG_LEVEL", "INFO"),
                "MOSTRADOR_SECRET_ARN": app_secret.secret_arn,
                "MOSTRADOR_INGEST_KEY_SECRET_ARN": ingest_key_secret.secret_arn,
                "DATABASE_SECRET_ARN": database.master_secret.secret_arn,
                "DATABASE_APP_SECRET_ARN": database.app_role_secret.secret_arn,
                # Changes with every new migration file, so the function gets a new version and the trigger re-runs.
                "MIGRATIONS_DIGEST": _digest(MIGRATIONS_DIR),
            },
        )
        database.master_secret.grant_read(self.migrate)
        database.app_role_secret.grant_read(self.migrate)
        app_secret.grant_read(self.migrate)
        ingest_key_secret.grant_read(self.migrate)
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
            function.node.add_dependency(self.migrate_trigger, self.concurrency_check_trigger)

        self._trigger_provider_logs(settings)
        self._suppress_findings()

    def _trigger_provider_logs(self, settings: DeploySettings) -> None:
        """CDK's trigger provider is a bare CloudFormation function whose log group Lambda would create on first
        use, kept forever: give it a log group of ours, with the stack's retention."""
        providers = [
            child
            for child in Stack.of(self).node.find_all()
            if isinstance(child, CfnResource)
            and child.cfn_resource_type == "AWS::Lambda::Function"
            and "TriggerCustomResourceProvider" in child.node.path
        ]
        log_group = logs.LogGroup(
            self,
            "TriggerProviderLogs",
            log_group_name=f"/aws/lambda/{settings.prefix}-trigger-provider",
            retention=retention(settings.log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        for provider in providers:
            provider.add_property_override("LoggingConfig", {"LogGroup": log_group.log_group_name})
            provider.node.add_dependency(log_group)

    def _suppress_findings(self) -> None:
        """cdk-nag findings accepted on purpose, each on the resources that raise it and nowhere else."""
        managed_policies = {
            "id": "AwsSolutions-IAM4",
            "reason": "AWSLambdaBasicExecutionRole (and AWSLambdaVPCAccessExecutionRole for functions in the VPC) "
            "are the AWS-maintained minimum for writing logs and attaching network interfaces.",
            "appliesTo": [
                "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
            ],
        }
        xray = {
            "id": "AwsSolutions-IAM5",
            "reason": "X-Ray PutTraceSegments/PutTelemetryRecords accept no resource narrower than '*' "
            "(traced functions only).",
            "appliesTo": ["Resource::*"],
        }
        account_settings = {
            "id": "AwsSolutions-IAM5",
            "reason": "lambda:GetAccountSettings reads the account's quota and accepts no resource but '*'.",
            "appliesTo": ["Resource::*"],
        }
        runtime = {
            "id": "AwsSolutions-L1",
            "reason": "Python 3.12 is the newest version the test suite runs on (the embedded PostgreSQL has "
            "wheels up to 3.12); deploying a newer runtime would deploy what is not tested (docs/deploy.md).",
        }
        specs = {**self.specs, MIGRATE.name: MIGRATE, CONCURRENCY_CHECK.name: CONCURRENCY_CHECK}
        functions = {**self.by_name, MIGRATE.name: self.migrate, CONCURRENCY_CHECK.name: self.concurrency_check}
        for name, function in functions.items():
            NagSuppressions.add_resource_suppressions(function, [runtime])
            assert function.role is not None
            NagSuppressions.add_resource_suppressions(function.role, [managed_policies])
            policy = function.role.node.try_find_child("DefaultPolicy")
            wildcard = [xray] if specs[name].traced else []
            if function is self.concurrency_check:
                wildcard.append(account_settings)
            if policy is not None and wildcard:
                NagSuppressions.add_resource_suppressions(policy, wildcard)

    def _function(
        self,
        spec: FunctionSpec,
        environment: dict[str, str],
        *,
        code_dir: Path | None = None,
        layers: list[lambda_.ILayerVersion] | None = None,
    ) -> lambda_.Function:
        settings = self._settings
        name = f"{settings.prefix}-{spec.name}"
        log_group = logs.LogGroup(
            self,
            f"{_construct_name(spec.name)}Logs",
            log_group_name=f"/aws/lambda/{name}",
            retention=retention(settings.log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        network: dict[str, object] = {}
        if spec.uses_database:
            network = {
                "vpc": self._vpc,
                "vpc_subnets": ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
                "security_groups": [self.security_group],
            }
        return lambda_.Function(
            self,
            _construct_name(spec.name),
            function_name=name,
            description=spec.description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler="handler.handler",
            code=lambda_.Code.from_asset(
                str(code_dir or self._functions_dir / spec.name), exclude=["__pycache__", "*.pyc", "tests"]
            ),
            layers=[self.layer] if layers is None else layers,
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_seconds),
            environment={
                **environment,
                **POWERTOOLS_ENVIRONMENT,
                **({} if spec.traced else {"POWERTOOLS_TRACE_DISABLED": "true"}),
            },
            tracing=lambda_.Tracing.ACTIVE if spec.traced else lambda_.Tracing.DISABLED,
            log_group=log_group,
            **network,  # type: ignore[arg-type]
        )

    def route_table(self) -> list[tuple[str, str, lambda_.Function, Throttle | None]]:
        return [
            (method, path, self.by_name[spec.name], spec.throttle) for spec in FUNCTIONS for method, path in spec.routes
        ]


def _construct_name(function_name: str) -> str:
    return "".join(part.title() for part in function_name.split("-"))


POWERTOOLS_ENVIRONMENT = {
    "POWERTOOLS_SERVICE_NAME": "mostrador",
    "POWERTOOLS_METRICS_NAMESPACE": "Mostrador",
    # Events and responses carry customer messages and phone numbers: never log or trace them whole.
    "POWERTOOLS_LOGGER_LOG_EVENT": "false",
    "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
    "POWERTOOLS_TRACER_CAPTURE_ERROR": "true",
    "POWERTOOLS_PARAMETERS_MAX_AGE": "3600",
}
