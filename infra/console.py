"""The admin console on the REST API: GET /console and its files, and GET /api/v1/export/conversations
(the route seed 003's tooling calls), all served by the admin function, same origin as /admin/*.

Why the admin function and not S3 + CloudFront: docs/console.md ("Where the page lives").
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_lambda as lambda_
from cdk_nag import NagSuppressions
from constructs import Construct

CONSOLE_ROUTES = ("/console", "/console/{proxy+}", "/api/v1/export/conversations")


class ConsoleRoutes(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, rest_api: apigateway.RestApi, admin: lambda_.IFunction
    ) -> None:
        super().__init__(scope, construct_id)
        integration = apigateway.LambdaIntegration(admin, proxy=True, allow_test_invoke=False)
        for path in CONSOLE_ROUTES:
            method = rest_api.root.resource_for_path(path).add_method("GET", integration)
            NagSuppressions.add_resource_suppressions(
                method,
                [
                    {
                        "id": "AwsSolutions-APIG4",
                        "reason": "The console's files hold no data and load before sign-in; the export checks the "
                        "admin bearer token in the function, like every /admin route.",
                    },
                    {
                        "id": "AwsSolutions-COG4",
                        "reason": "Staff sign in with the admin token (per-user access plugs into the function's "
                        "Authenticator, docs/admin.md), not with a Cognito user pool.",
                    },
                ],
            )
        self.url = rest_api.url_for_path("/console")
        CfnOutput(
            Stack.of(self), "ConsoleUrl", value=self.url, description="The admin console (sign in with ADMIN_TOKEN)"
        )
