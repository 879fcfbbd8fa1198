"""RDS PostgreSQL with pgvector: private, encrypted, TLS-only, credentials generated into Secrets Manager."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from cdk_nag import NagSuppressions
from constructs import Construct

from infra.logs import retention
from infra.settings import DeploySettings

# Major version only: RDS creates the instance on that major's current default minor (every PostgreSQL 17
# minor on RDS ships pgvector >= 0.8, which `CREATE EXTENSION vector` in 001_catalog.sql needs) and
# auto minor version upgrades keep it patched. A pinned minor would stop deploying once RDS retires it.
ENGINE = rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_17)
DATABASE_NAME = "mostrador"
USERNAME = "mostrador"
PORT = 5432


class Database(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, settings: DeploySettings, vpc: ec2.IVpc) -> None:
        super().__init__(scope, construct_id)
        prefix = settings.prefix

        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description=f"{prefix} database: PostgreSQL from the functions only",
            allow_all_outbound=False,
        )
        parameters = rds.ParameterGroup(
            self,
            "Parameters",
            engine=ENGINE,
            description=f"{prefix}: TLS required",
            parameters={
                "rds.force_ssl": "1",
                # Lambda environments come and go; reap sessions a frozen environment left behind.
                "idle_session_timeout": "900000",
                "log_min_duration_statement": "2000",
            },
        )
        # Created here (not by RDS on first write) so the export gets a retention instead of "never expire".
        self.log_group = logs.LogGroup(
            self,
            "PostgresLogs",
            log_group_name=f"/aws/rds/instance/{prefix}/postgresql",
            retention=retention(settings.log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.instance = rds.DatabaseInstance(
            self,
            "Instance",
            instance_identifier=prefix,
            engine=ENGINE,
            instance_type=ec2.InstanceType(settings.db_instance_type),
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            security_groups=[self.security_group],
            publicly_accessible=False,
            port=PORT,
            database_name=DATABASE_NAME,
            credentials=rds.Credentials.from_generated_secret(USERNAME, secret_name=f"{prefix}/database"),
            parameter_group=parameters,
            storage_encrypted=True,
            storage_type=rds.StorageType.GP3,
            allocated_storage=settings.db_allocated_storage_gib,
            max_allocated_storage=settings.db_max_allocated_storage_gib,
            multi_az=settings.db_multi_az,
            backup_retention=Duration.days(settings.db_backup_retention_days),
            deletion_protection=settings.db_deletion_protection,
            removal_policy=RemovalPolicy.SNAPSHOT,
            auto_minor_version_upgrade=True,
            enable_performance_insights=False,  # not offered on the smallest classes; turn on for larger ones
            cloudwatch_logs_exports=["postgresql"],
            iam_authentication=False,
            ca_certificate=rds.CaCertificate.RDS_CA_RSA2048_G1,
        )
        self.instance.node.add_dependency(self.log_group)
        assert self.instance.secret is not None
        self.secret = self.instance.secret
        self.host = self.instance.db_instance_endpoint_address

        reasons = [
            {
                "id": "AwsSolutions-RDS11",
                "reason": "The port is not a secret: the instance sits in isolated subnets and only the functions' "
                "security group may reach it; a non-default port adds configuration without adding safety.",
            },
            {
                "id": "AwsSolutions-SMG4",
                "reason": "Functions cache the database URL for the life of an execution environment, so a silent "
                "rotation would break warm functions. Rotate by hand with a deploy (docs/deploy.md).",
            },
            {
                "id": "AwsSolutions-RDS6",
                "reason": "Functions authenticate with the generated password from Secrets Manager over TLS; IAM "
                "database auth would add a token call per connection and a 200 connections/s cap.",
            },
        ]
        if not settings.db_multi_az:
            reasons.append(
                {
                    "id": "AwsSolutions-RDS3",
                    "reason": "Single-AZ by default to keep an idle stack cheap; set -c dbMultiAz=true for production "
                    "(doubles the instance cost). Backups and point-in-time recovery stay on.",
                }
            )
        if not settings.db_deletion_protection:
            reasons.append(
                {
                    "id": "AwsSolutions-RDS10",
                    "reason": "Deletion protection is on by default for stage prod only, so dev stacks can be torn "
                    "down; the removal policy still takes a final snapshot.",
                }
            )
        NagSuppressions.add_resource_suppressions(self.instance, reasons, apply_to_children=True)

    def allow_from(self, peer: ec2.SecurityGroup) -> None:
        self.security_group.add_ingress_rule(peer, ec2.Port.tcp(PORT), "PostgreSQL from the functions (TLS enforced)")
