"""RDS PostgreSQL with pgvector: private, encrypted, TLS-only, credentials generated into Secrets Manager.

Two database users: the master user (its generated secret is read by the migrate function only) owns the
schema and runs migrations; the functions connect as APP_ROLE, which the migrate function creates and
keeps in step with its own generated secret, with DML rights only (docs/deploy.md, "Database users").
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
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
APP_ROLE = "mostrador_app"
PORT = 5432

# What PostgreSQL writes to its log (exported to CloudWatch). Statements run with bind parameters, so their
# text carries no customer data; the parameter values and an error's DETAIL line (which quotes row values,
# e.g. a duplicate key) would, so neither is logged. idle_session_timeout reaps sessions that frozen or
# retired Lambda environments left behind; the app reconnects when it meets a reaped connection.
PARAMETERS = {
    "rds.force_ssl": "1",
    "idle_session_timeout": "900000",
    "log_min_duration_statement": "2000",
    "log_parameter_max_length": "0",
    "log_parameter_max_length_on_error": "0",
    "log_error_verbosity": "terse",
    "log_statement": "none",
}


# The characters CDK leaves out of RDS master passwords (quoting trouble in URLs and shells); same for the app role.
_EXCLUDED = " %+~`#$&*()|[]{}:;<>?!'/@\"\\"


def secret_removal_policy(settings: DeploySettings) -> RemovalPolicy:
    """prod keeps its secrets through updates and stack deletes, yet a failed first create removes them."""
    return RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE if settings.stage == "prod" else RemovalPolicy.DESTROY


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
            description=f"{prefix}: TLS required, no customer data in the log",
            parameters=PARAMETERS,
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
            # A final snapshot when the stack (or a failed first create) deletes the instance.
            removal_policy=RemovalPolicy.SNAPSHOT,
            auto_minor_version_upgrade=True,
            enable_performance_insights=False,  # not offered on the smallest classes; turn on for larger ones
            cloudwatch_logs_exports=["postgresql"],
            iam_authentication=False,
            ca_certificate=rds.CaCertificate.RDS_CA_RSA2048_G1,
        )
        self.instance.node.add_dependency(self.log_group)
        # cfn-lint W3691 reads the major-only EngineVersion "17" as a retired exact version; RDS takes a major
        # version and creates the instance on that major's current default minor (see ENGINE above).
        cfn_instance = self.instance.node.default_child
        assert isinstance(cfn_instance, rds.CfnDBInstance)
        cfn_instance.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3691"]}})
        assert self.instance.secret is not None
        self.secret = self.instance.secret  # master user: migrations only
        self.host = self.instance.db_instance_endpoint_address
        # Retained on stack updates and deletes (prod), deleted when a failed first create rolls back, so the
        # fixed name is free for the retry (docs/deploy.md, "First deploy of a stage").
        secret_removal = secret_removal_policy(settings)
        master_secret = self.instance.node.find_child("Secret")  # the DatabaseSecret behind the attachment
        assert isinstance(master_secret, secretsmanager.Secret)
        master_secret.apply_removal_policy(secret_removal)
        # The secret itself (not the attachment, which waits for the instance): the attachment writes the
        # instance's host and port into it, and whoever reads it after the instance exists finds them there.
        self.master_secret: secretsmanager.Secret = master_secret

        # The functions' user: its password is generated here; the migrate function creates the role with it.
        self.app_role_secret = secretsmanager.Secret(
            self,
            "AppRoleSecret",
            secret_name=f"{prefix}/database-app",
            description=f"{prefix}: password of the database user the functions connect as ({APP_ROLE})",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=f'{{"username": "{APP_ROLE}"}}',
                generate_string_key="password",
                exclude_characters=_EXCLUDED,
                password_length=32,
            ),
            removal_policy=secret_removal,
        )
        rotation = {
            "id": "AwsSolutions-SMG4",
            "reason": "Functions cache the database URL for the life of an execution environment, so a silent "
            "rotation would break warm functions. Rotate by hand with a deploy (docs/deploy.md).",
        }
        NagSuppressions.add_resource_suppressions(master_secret, [rotation])
        NagSuppressions.add_resource_suppressions(self.app_role_secret, [rotation])

        reasons = [
            {
                "id": "AwsSolutions-RDS11",
                "reason": "The port is not a secret: the instance sits in isolated subnets and only the functions' "
                "security group may reach it; a non-default port adds configuration without adding safety.",
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
        NagSuppressions.add_resource_suppressions(self.instance, reasons)

    def allow_from(self, peer: ec2.SecurityGroup) -> None:
        self.security_group.add_ingress_rule(peer, ec2.Port.tcp(PORT), "PostgreSQL from the functions (TLS enforced)")
