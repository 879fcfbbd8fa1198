"""Alarms (into one SNS topic) and one CloudWatch dashboard."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_rds as rds
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from cdk_nag import NagSuppressions
from constructs import Construct

from infra.settings import DeploySettings

PERIOD = Duration.minutes(5)
FREE_STORAGE_ALARM_BYTES = 2 * 1024**3


def permanent_send_failures(stage: str) -> cloudwatch.Metric:
    """Emitted by the reply function; the stage dimension keeps dev and prod alarms apart."""
    return cloudwatch.Metric(
        namespace="Mostrador",
        metric_name="PermanentSendFailures",
        dimensions_map={"service": "mostrador", "stage": stage},
        statistic="Sum",
        period=PERIOD,
    )


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: DeploySettings,
        functions: dict[str, lambda_.Function],
        queues: dict[str, sqs.IQueue],
        dead_letter_queues: dict[str, sqs.IQueue],
        database: rds.DatabaseInstance,
        rest_api: apigateway.RestApi,
    ) -> None:
        super().__init__(scope, construct_id)
        prefix = settings.prefix
        self.topic = sns.Topic(self, "Alarms", topic_name=f"{prefix}-alarms", enforce_ssl=True)
        if settings.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(settings.alarm_email))
        NagSuppressions.add_resource_suppressions(
            self.topic,
            [
                {
                    "id": "AwsSolutions-SNS2",
                    "reason": "Alarm notifications carry alarm names and states, no customer data. CloudWatch cannot "
                    "publish to a topic encrypted with the AWS-managed SNS key, and a customer key costs $1/month.",
                }
            ],
        )
        self.alarms: list[cloudwatch.Alarm] = []

        for name, dlq in dead_letter_queues.items():
            self._alarm(
                f"{name.title()}DeadLetters",
                f"{prefix}-{name}-dlq-not-empty",
                f"A {name} message exhausted its retries and is waiting in the dead-letter queue",
                dlq.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
                threshold=1,
            )
        for name, function in functions.items():
            self._alarm(
                f"{name.title()}Errors",
                f"{prefix}-{name}-errors",
                f"The {name} function failed (unhandled errors or timeouts)",
                function.metric_errors(period=PERIOD, statistic="Sum"),
                threshold=1,
            )
        self._alarm(
            "ReplyOldestMessage",
            f"{prefix}-reply-oldest-message-age",
            f"A customer message has waited more than {settings.reply_age_alarm_seconds} s for a reply",
            queues["reply"].metric_approximate_age_of_oldest_message(period=Duration.minutes(1), statistic="Maximum"),
            threshold=settings.reply_age_alarm_seconds,
            evaluation_periods=3,
        )
        self._alarm(
            "DatabaseCpu",
            f"{prefix}-database-cpu",
            "Database CPU above 80% for 15 minutes",
            database.metric_cpu_utilization(period=PERIOD, statistic="Average"),
            threshold=80,
            evaluation_periods=3,
        )
        self._alarm(
            "DatabaseFreeStorage",
            f"{prefix}-database-free-storage",
            "Less than 2 GiB of database storage left (autoscaling may be at its maximum)",
            database.metric_free_storage_space(period=PERIOD, statistic="Minimum"),
            threshold=FREE_STORAGE_ALARM_BYTES,
            comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        )
        self._alarm(
            "PermanentSendFailures",
            f"{prefix}-permanent-send-failures",
            "A reply could not be delivered and will not be retried (closed 24-hour window, blocked user, bad token)",
            permanent_send_failures(settings.stage),
            threshold=1,
        )

        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=prefix)
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="API requests and errors",
                left=[rest_api.metric_count(period=PERIOD)],
                right=[rest_api.metric_client_error(period=PERIOD), rest_api.metric_server_error(period=PERIOD)],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="API latency (p99)",
                left=[rest_api.metric_latency(period=PERIOD, statistic="p99")],
                width=12,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Invocations",
                left=[f.metric_invocations(period=PERIOD, label=n) for n, f in functions.items()],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Errors and throttles",
                left=[f.metric_errors(period=PERIOD, label=f"{n} errors") for n, f in functions.items()],
                right=[f.metric_throttles(period=PERIOD, label=f"{n} throttles") for n, f in functions.items()],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Duration (p95)",
                left=[f.metric_duration(period=PERIOD, statistic="p95", label=n) for n, f in functions.items()],
                width=8,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Queue depth",
                left=[
                    q.metric_approximate_number_of_messages_visible(period=PERIOD, label=n) for n, q in queues.items()
                ],
                right=[
                    q.metric_approximate_number_of_messages_visible(period=PERIOD, label=f"{n} DLQ")
                    for n, q in dead_letter_queues.items()
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Oldest message age (s)",
                left=[
                    q.metric_approximate_age_of_oldest_message(period=PERIOD, statistic="Maximum", label=n)
                    for n, q in queues.items()
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Permanent send failures",
                left=[permanent_send_failures(settings.stage)],
                width=8,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Database CPU (%) and connections",
                left=[database.metric_cpu_utilization(period=PERIOD)],
                right=[database.metric_database_connections(period=PERIOD)],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Database free storage (bytes)",
                left=[database.metric_free_storage_space(period=PERIOD)],
                width=12,
            ),
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=24),
        )

    def _alarm(
        self,
        construct_id: str,
        name: str,
        description: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        evaluation_periods: int = 1,
        comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            alarm_name=name,
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            comparison_operator=comparison,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        alarm.add_ok_action(actions.SnsAction(self.topic))
        self.alarms.append(alarm)
        return alarm
