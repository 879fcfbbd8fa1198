"""The REST API: every route of the contract, each a Lambda proxy integration of its function.

Why REST (v1) and not HTTP API: docs/deploy.md ("REST API or HTTP API").
"""

from __future__ import annotations

from aws_cdk import Fn, RemovalPolicy
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from cdk_nag import NagSuppressions
from constructs import Construct

from infra.functions import Throttle
from infra.logs import retention
from infra.settings import DeploySettings

# A stage's method settings apply by the request's own HTTP method (a setting's HttpMethod is a method or
# "*"): one keyed on ANY, the admin route's method, matches no request, so that route would silently keep
# the stage default. An ANY route is throttled as each concrete method (each method its own bucket).
ANY_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def throttled_methods(method: str) -> tuple[str, ...]:
    return ANY_METHODS if method == "ANY" else (method,)


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: DeploySettings,
        routes: list[tuple[str, str, lambda_.IFunction, Throttle | None]],
    ) -> None:
        super().__init__(scope, construct_id)
        prefix = settings.prefix
        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            log_group_name=f"/aws/apigateway/{prefix}-access",
            retention=retention(settings.log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.rest_api = apigateway.RestApi(
            self,
            "RestApi",
            rest_api_name=prefix,
            description="Mostrador: catalog ingest and messaging webhooks",
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            # Everything is JSON or text except the admin API's XLSX export, which the admin function
            # returns base64-encoded: API Gateway sends it as bytes to callers that Accept it.
            binary_media_types=["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"],
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,  # account-wide setting shared by stages
            deploy_options=apigateway.StageOptions(
                stage_name=settings.stage,
                access_log_destination=apigateway.LogGroupLogDestination(access_logs),
                # Standard fields only: no request bodies, no query strings (the Meta handshake's verify token).
                access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
                logging_level=apigateway.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # would log full requests: customer messages and tokens
                metrics_enabled=False,  # per-method detailed metrics cost extra; the stage metrics suffice
                tracing_enabled=True,
                # The default for every method; the routes of a function with a Throttle get their own below.
                # API Gateway keeps one bucket per method, so what one route shares with another is Lambda's
                # concurrency: the web chat's lower limit keeps open chats from crowding out Meta's webhooks.
                throttling_rate_limit=settings.api_throttle_rate,
                throttling_burst_limit=settings.api_throttle_burst,
                method_options={
                    f"{path}/{concrete}": apigateway.MethodDeploymentOptions(
                        throttling_rate_limit=throttle.rate, throttling_burst_limit=throttle.burst
                    )
                    for method, path, _, throttle in routes
                    if throttle is not None
                    for concrete in throttled_methods(method)
                },
            ),
        )
        # API Gateway creates the execution log group on first use, kept forever, unless it already exists.
        stage = self.rest_api.deployment_stage
        execution_logs = logs.LogGroup(
            self,
            "ExecutionLogs",
            log_group_name=Fn.join(
                "", ["API-Gateway-Execution-Logs_", self.rest_api.rest_api_id, f"/{settings.stage}"]
            ),
            retention=retention(settings.log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        stage.node.add_dependency(execution_logs)

        integrations: dict[str, apigateway.LambdaIntegration] = {}
        methods: list[apigateway.Method] = []
        for method, path, function, _ in routes:
            key = function.node.path
            if key not in integrations:
                integrations[key] = apigateway.LambdaIntegration(function, proxy=True, allow_test_invoke=False)
            methods.append(self.rest_api.root.resource_for_path(path).add_method(method, integrations[key]))
        self._suppress_findings(methods)

    def _suppress_findings(self, methods: list[apigateway.Method]) -> None:
        """cdk-nag findings accepted on purpose, each on the resources that raise it and nowhere else."""
        NagSuppressions.add_resource_suppressions(
            self.rest_api,
            [
                {
                    "id": "AwsSolutions-APIG2",
                    "reason": "Requests are validated by the functions (pydantic), which answer 4xx saying what to "
                    "fix; API Gateway models would duplicate the schemas and answer with generic messages.",
                }
            ],
        )
        NagSuppressions.add_resource_suppressions(
            self.rest_api.deployment_stage,
            [
                {
                    "id": "AwsSolutions-APIG3",
                    "reason": "A web ACL costs at least $5/month plus $1 per rule; per-route throttling bounds abuse "
                    "and every route authenticates its caller. Attach a WAF in front for high-traffic tenants.",
                }
            ],
        )
        for method in methods:
            NagSuppressions.add_resource_suppressions(
                method,
                [
                    {
                        "id": "AwsSolutions-APIG4",
                        "reason": "Callers cannot sign AWS requests: Meta signs bodies (X-Hub-Signature-256), "
                        "Support Board sends a shared secret, the fetcher an X-API-KEY, staff a bearer token, web chat "
                        "a widget key; each is verified in the function.",
                    },
                ],
            )
            if method.http_method != "OPTIONS":  # CORS preflights are not checked for an authorizer
                NagSuppressions.add_resource_suppressions(
                    method,
                    [
                        {
                            "id": "AwsSolutions-COG4",
                            "reason": "No Cognito users: the callers are Meta, Support Board, the fetcher, staff and "
                            "shop visitors, authenticated by signature, shared secret or token in the function.",
                        }
                    ],
                )
        role = self.rest_api.node.try_find_child("CloudWatchRole")
        assert role is not None
        NagSuppressions.add_resource_suppressions(
            role,
            [
                {
                    "id": "AwsSolutions-IAM4",
                    "reason": "AmazonAPIGatewayPushToCloudWatchLogs is the AWS-maintained policy for API Gateway's "
                    "account-level logging role.",
                    "appliesTo": [
                        "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
                    ],
                }
            ],
        )

    def url_for(self, path: str) -> str:
        return self.rest_api.url_for_path(path)
