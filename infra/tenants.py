"""Tenants on AWS (docs/tenants.md): the routing document's secret and the per-tenant secrets, with each
function allowed exactly what it does with them.

- The routing document (`<prefix>/routing`): read by the functions that route (webhook, ingest, web chat),
  written by those that publish it (admin, on every tenant change; migrate, on every deploy).
- Escalation e-mail (`escalationEmailFrom`): the reply function may send with SES from that one address,
  its identity (the address, or its domain when the domain is what was verified) and nothing else.
- One secret per tenant (`<prefix>/tenants/<tenant id>`), created at runtime by the admin API, so not in
  the template: read by the reply function (it sends with the tenant's tokens) and by admin (which names
  the ones set), created and updated by admin only. A deleted stack leaves them (they are the tenants'
  credentials, not the stack's): list them by that prefix.
"""

from __future__ import annotations

import json

from aws_cdk import ArnFormat, RemovalPolicy, SecretValue, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from cdk_nag import NagSuppressions
from constructs import Construct

from infra.settings import DeploySettings

ROUTERS = ("webhook", "ingest", "webchat")
PUBLISHERS = ("admin", "migrate")
SECRET_READERS = ("reply", "admin")
SECRET_WRITERS = ("admin",)
# FROZEN like the app secret's first value (infra/stack.py): CloudFormation would overwrite the published
# document whenever this changed. Not a routing document yet: until the deploy's migrate function publishes
# one (it runs before any function is updated), nothing routes, and the readers say so in their logs.
UNPUBLISHED = json.dumps({"unpublished": True})


class TenantDirectory(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, settings: DeploySettings, functions: dict[str, lambda_.Function]
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.routing_secret = secretsmanager.Secret(
            self,
            "RoutingDocument",
            secret_name=f"{settings.prefix}/routing",
            description="Mostrador: which tenant owns each channel id and key (published from the database)",
            secret_string_value=SecretValue.unsafe_plain_text(UNPUBLISHED),
            # Derived data, published again by every deploy: it goes with the stack, whatever the stage.
            removal_policy=RemovalPolicy.DESTROY,
        )
        NagSuppressions.add_resource_suppressions(
            self.routing_secret,
            [
                {
                    "id": "AwsSolutions-SMG4",
                    "reason": "Not a credential: channel ids and truncated key hashes, rewritten by the admin API "
                    "on every tenant change.",
                }
            ],
        )
        self.tenant_secret_prefix = f"{settings.prefix}/tenants/"
        # The tenant id and Secrets Manager's six-character suffix are the only wildcard.
        tenant_secrets = stack.format_arn(
            service="secretsmanager",
            resource="secret",
            resource_name=f"{self.tenant_secret_prefix}*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        wildcard = {
            "id": "AwsSolutions-IAM5",
            "reason": "Per-tenant secrets are created at runtime under one name prefix; the wildcard stands for the "
            "tenant id (and Secrets Manager's random suffix) only.",
            "appliesTo": [
                "Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:"
                f"{self.tenant_secret_prefix}*"
            ],
        }

        for name in ROUTERS:
            self.routing_secret.grant_read(functions[name])
            functions[name].add_environment("MOSTRADOR_ROUTING_SECRET_ARN", self.routing_secret.secret_arn)
        for name in PUBLISHERS:
            self.routing_secret.grant_read(functions[name])
            self.routing_secret.grant_write(functions[name])
            functions[name].add_environment("MOSTRADOR_ROUTING_SECRET_ARN", self.routing_secret.secret_arn)
        for name in SECRET_READERS:
            actions = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
            if name in SECRET_WRITERS:
                actions += ["secretsmanager:CreateSecret", "secretsmanager:PutSecretValue"]
            functions[name].add_to_role_policy(iam.PolicyStatement(actions=actions, resources=[tenant_secrets]))
            functions[name].add_environment("MOSTRADOR_TENANT_SECRET_PREFIX", self.tenant_secret_prefix)
            assert functions[name].role is not None
            policy = functions[name].role.node.try_find_child("DefaultPolicy")
            NagSuppressions.add_resource_suppressions(
                policy or functions[name].role, [wildcard], apply_to_children=True
            )

        sender = settings.app_environment.get("ESCALATION_EMAIL_FROM")
        if sender:
            # SES authorizes against the verified identity the address belongs to: the address itself or its
            # domain. The condition keeps the function to this one From address either way.
            identities = [
                stack.format_arn(service="ses", resource="identity", resource_name=name)
                for name in (sender, sender.rsplit("@", 1)[1])
            ]
            functions["reply"].add_to_role_policy(
                iam.PolicyStatement(
                    actions=["ses:SendEmail"],
                    resources=identities,
                    conditions={"StringEquals": {"ses:FromAddress": sender}},
                )
            )
