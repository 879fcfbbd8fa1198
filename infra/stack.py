"""The Mostrador stack: network, secrets, database, queues, functions, API, monitoring, outputs."""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import CfnOutput, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from cdk_nag import NagSuppressions
from constructs import Construct

from infra.api import Api
from infra.database import Database
from infra.functions import FUNCTIONS_DIR, Functions, batching_window, consumer_timeout
from infra.knowledge import KnowledgeBase
from infra.logs import retention
from infra.monitoring import Monitoring
from infra.queues import Queues, visibility_timeout
from infra.settings import SECRET_KEYS, DeploySettings

# The key the deploy generates, so ingest works out of the box; every other value is filled in afterwards.
GENERATED_SECRET_KEY = "INGEST_API_KEY"  # noqa: S105 - a key name, not a value
VPC_CIDR = "10.40.0.0/16"


class MostradorStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: DeploySettings,
        functions_dir: Path = FUNCTIONS_DIR,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self.settings = settings
        prefix = settings.prefix

        self.vpc = self._network(settings)

        # One JSON secret for the app. The template only carries the key names with empty values; CloudFormation
        # generates the ingest key. Never change this template after the first deploy: CloudFormation would
        # generate a new secret value and wipe what you filled in.
        self.app_secret = secretsmanager.Secret(
            self,
            "AppSecret",
            secret_name=f"{prefix}/app",
            description="Mostrador API keys and tokens: fill in the empty values (docs/deploy.md)",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps({key: "" for key in SECRET_KEYS if key != GENERATED_SECRET_KEY}),
                generate_string_key=GENERATED_SECRET_KEY,
                exclude_punctuation=True,
                password_length=40,
            ),
            removal_policy=RemovalPolicy.RETAIN if settings.stage == "prod" else RemovalPolicy.DESTROY,
        )
        NagSuppressions.add_resource_suppressions(
            self.app_secret,
            [
                {
                    "id": "AwsSolutions-SMG4",
                    "reason": "Holds third-party credentials (OpenAI, Gemini, Meta, Support Board) that only their "
                    "issuers can rotate; rotation is done by the operator, who updates the secret.",
                }
            ],
        )

        self.database = Database(self, "Database", settings=settings, vpc=self.vpc)
        self.queues = Queues(
            self,
            "Queues",
            settings=settings,
            enrich_visibility=visibility_timeout(consumer_timeout("enrich"), batching_window("enrich")),
            reply_visibility=visibility_timeout(consumer_timeout("reply"), batching_window("reply")),
        )
        self.functions = Functions(
            self,
            "Functions",
            settings=settings,
            vpc=self.vpc,
            database=self.database,
            queues=self.queues,
            app_secret=self.app_secret,
            functions_dir=functions_dir,
        )
        self.knowledge = KnowledgeBase(self, "Knowledge", settings=settings, functions=self.functions.by_name)
        self.api = Api(self, "Api", settings=settings, routes=self.functions.route_table())

        self.monitoring = Monitoring(
            self,
            "Monitoring",
            settings=settings,
            functions=self.functions.by_name,
            queues={"enrich": self.queues.enrich, "reply": self.queues.reply},
            dead_letter_queues={**self.queues.dead_letter_queues, "knowledge": self.knowledge.dead_letters},
            database=self.database.instance,
            rest_api=self.api.rest_api,
        )
        self._outputs()

    def _network(self, settings: DeploySettings) -> ec2.Vpc:
        nat_provider: ec2.NatProvider | None = None
        if settings.nat_mode == "instance":
            nat_provider = ec2.NatProvider.instance_v2(
                instance_type=ec2.InstanceType("t4g.nano"),
                machine_image=ec2.MachineImage.latest_amazon_linux2023(cpu_type=ec2.AmazonLinuxCpuType.ARM_64),
                credit_specification=ec2.CpuCredits.STANDARD,
                default_allowed_traffic=ec2.NatTrafficDirection.OUTBOUND_ONLY,
            )
        vpc = ec2.Vpc(
            self,
            "Vpc",
            vpc_name=settings.prefix,
            ip_addresses=ec2.IpAddresses.cidr(VPC_CIDR),
            max_azs=2,  # RDS subnet groups need two AZs even for a single-AZ instance
            nat_gateways=1,
            nat_gateway_provider=nat_provider,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(name="functions", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22),
                ec2.SubnetConfiguration(name="database", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24),
            ],
        )
        if isinstance(nat_provider, ec2.NatInstanceProviderV2):
            # Only the VPC's own traffic may use the NAT instance; nothing from the internet gets in.
            nat_provider.connections.allow_from(
                ec2.Peer.ipv4(VPC_CIDR), ec2.Port.all_traffic(), "traffic from inside the VPC"
            )
            NagSuppressions.add_resource_suppressions(
                vpc,
                [
                    {
                        "id": "AwsSolutions-EC28",
                        "reason": "Cheap-NAT mode: basic 5-minute monitoring is enough for a NAT instance; detailed "
                        "monitoring would cost more than the instance.",
                    },
                    {
                        "id": "AwsSolutions-EC29",
                        "reason": "Cheap-NAT mode: the NAT instance is disposable, recreated by the stack; it holds "
                        "no data worth termination protection.",
                    },
                    {
                        "id": "AwsSolutions-EC26",
                        "reason": "Cheap-NAT mode: the NAT instance's root volume holds only the AMI, no data.",
                    },
                ],
                apply_to_children=True,
            )
        flow_logs = logs.LogGroup(
            self,
            "VpcFlowLogs",
            log_group_name=f"/aws/vpc/{settings.prefix}-flow-logs",
            retention=retention(settings.log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        # Rejected traffic only: what an investigation needs, at a fraction of the ingestion cost of ALL.
        vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )
        return vpc

    def _outputs(self) -> None:
        api = self.api
        outputs = {
            "WhatsAppWebhookUrl": (api.url_for("/webhooks/whatsapp"), "Callback URL for the WhatsApp Cloud API app"),
            "MetaWebhookUrl": (api.url_for("/webhooks/meta"), "Callback URL for Messenger and Instagram"),
            "SupportBoardWebhookUrl": (api.url_for("/webhooks/support-board"), "Support Board webhook URL"),
            "IngestUrl": (api.url_for("/ingest/products"), "The fetcher POSTs the catalog here (X-API-KEY)"),
            "ReceiveProductsUrl": (
                api.url_for("/api/receive-products"),
                "Alias of IngestUrl for existing NamDamasco fetchers",
            ),
            "HealthUrl": (api.url_for("/health"), "Liveness and database reachability"),
            "AppSecretName": (
                self.app_secret.secret_name,
                "Fill in this secret's empty values (INGEST_API_KEY is generated)",
            ),
            "DatabaseSecretName": (
                self.database.secret.secret_name,
                "Generated database credentials (no action needed)",
            ),
            "AlarmTopicArn": (self.monitoring.topic.topic_arn, "Subscribe to receive alarm notifications"),
            "KnowledgeBucketName": (self.knowledge.bucket.bucket_name, "Raw knowledge files (private, versioned)"),
            "DashboardName": (self.monitoring.dashboard.dashboard_name, "CloudWatch dashboard"),
        }
        for name, (value, description) in outputs.items():
            CfnOutput(self, name, value=value, description=description)
