"""Alarms (into one SNS topic) and one CloudWatch dashboard."""

from __future__ import annotations

from aws_cdk import Aws, Duration
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_rds as rds
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.settings import DeploySettings

PERIOD = Duration.minutes(5)
FREE_STORAGE_ALARM_BYTES = 2 * 1024**3
# A db.t4g.micro has about 1 GiB; below 100 MiB free, PostgreSQL starts swapping or is killed.
FREEABLE_MEMORY_ALARM_BYTES = 100 * 1024**2
# Burstable (db.t*) instances slow to their baseline when the credits run out; 20 is about an hour's notice.
CPU_CREDIT_ALARM = 20
API_5XX_ALARM = 5  # per 5 minutes: a single 5xx (a cold start timing out) is noise; five is a pattern
API_LATENCY_ALARM_MS = 5000  # p95 over 3 x 5 minutes; webhooks answer in well under a second when healthy


def _app_metric(name: str, stage: str) -> cloudwatch.Metric:
    """A sum our functions emit (Powertools metrics); the stage dimension keeps dev and prod alarms apart."""
    return cloudwatch.Metric(
        namespace="Mostrador",
        metric_name=name,
        dimensions_map={"service": "mostrador", "stage": stage},
        statistic="Sum",
        period=PERIOD,
    )


def permanent_send_failures(stage: str) -> cloudwatch.Metric:
    """Emitted by the reply function."""
    return _app_metric("PermanentSendFailures", stage)


def items_dead_lettered(stage: str) -> cloudwatch.Metric:
    """Emitted by the enrich function as it counts dead-lettered items as failed in their syncs."""
    return _app_metric("ItemsDeadLettered", stage)


def reply_items_dead_lettered(stage: str) -> cloudwatch.Metric:
    """Emitted by the reply function as it settles the items of the reply dead-letter queue."""
    return _app_metric("ReplyItemsDeadLettered", stage)


# The enrich and reply dead-letter queues are consumed (each item recorded); a message older than this there
# was not recorded: the recorder itself is failing.
DEAD_LETTER_RECORDING_ALARM_SECONDS = 900
# The consumed dead-letter queues (infra/settings.py CONSUMED_DEAD_LETTERS): the metric of the items recorded,
# what its alarm says, what the alarm on an item left unrecorded says.
DEAD_LETTER_ALARMS = {
    "enrich": (
        items_dead_lettered,
        "Catalog items exhausted their retries; each is counted as failed in its sync",
        "Dead-lettered catalog items wait unrecorded: the enrich function cannot count them",
    ),
    "reply": (
        reply_items_dead_lettered,
        "Reply queue items exhausted their retries; each customer message is recorded failed (dead_lettered)",
        "Dead-lettered reply items wait unsettled: the reply function cannot record them",
    ),
}


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
        # Unencrypted on purpose: notifications carry alarm names and states, no customer data; CloudWatch
        # cannot publish to a topic under the AWS-managed SNS key, and a customer key costs $1/month.
        self.topic = sns.Topic(self, "Alarms", topic_name=f"{prefix}-alarms", enforce_ssl=True)
        # enforce_ssl gives the topic a policy of its own, holding only the Deny of plain HTTP; that policy
        # replaces the default one, so without this Allow CloudWatch could not publish and no alarm would
        # ever arrive. Scoped to this account's alarms of this stage.
        alarm_arn_prefix = f"arn:{Aws.PARTITION}:cloudwatch:{Aws.REGION}:{Aws.ACCOUNT_ID}:alarm"
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsOfThisStage",
                effect=iam.Effect.ALLOW,
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                    "ArnLike": {"aws:SourceArn": f"{alarm_arn_prefix}:{prefix}-*"},
                },
            )
        )
        if settings.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(settings.alarm_email))
        self.alarms: list[cloudwatch.Alarm] = []

        for name, dlq in dead_letter_queues.items():
            if name in DEAD_LETTER_ALARMS:
                metric, recorded, unrecorded = DEAD_LETTER_ALARMS[name]
                self._alarm(
                    f"{name.title()}DeadLetters",
                    f"{prefix}-{name}-dead-lettered",
                    recorded,
                    metric(settings.stage),
                    threshold=1,
                )
                self._alarm(
                    f"{name.title()}DeadLettersNotRecorded",
                    f"{prefix}-{name}-dlq-not-recorded",
                    unrecorded,
                    dlq.metric_approximate_age_of_oldest_message(period=PERIOD, statistic="Maximum"),
                    threshold=DEAD_LETTER_RECORDING_ALARM_SECONDS,
                )
                continue
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
            "DatabaseConnections",
            f"{prefix}-database-connections",
            f"{settings.db_connections_alarm} or more database connections (a db.t4g.micro allows about 80)",
            database.metric_database_connections(period=PERIOD, statistic="Maximum"),
            threshold=settings.db_connections_alarm,
        )
        self._alarm(
            "DatabaseFreeableMemory",
            f"{prefix}-database-freeable-memory",
            "Less than 100 MiB of free database memory for 15 minutes",
            database.metric_freeable_memory(period=PERIOD, statistic="Minimum"),
            threshold=FREEABLE_MEMORY_ALARM_BYTES,
            evaluation_periods=3,
            comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        )
        if settings.db_instance_type.startswith("t"):
            self._alarm(
                "DatabaseCpuCredits",
                f"{prefix}-database-cpu-credits",
                f"Fewer than {CPU_CREDIT_ALARM} CPU credits left: the burstable instance is about to slow down",
                database.metric("CPUCreditBalance", period=PERIOD, statistic="Minimum"),
                threshold=CPU_CREDIT_ALARM,
                comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            )
        self._alarm(
            "ApiServerErrors",
            f"{prefix}-api-5xx",
            f"{API_5XX_ALARM} or more 5xx answers from the API in 5 minutes (Meta redelivers what it got 5xx for)",
            rest_api.metric_server_error(period=PERIOD, statistic="Sum"),
            threshold=API_5XX_ALARM,
        )
        self._alarm(
            "ApiLatency",
            f"{prefix}-api-latency",
            f"API p95 latency above {API_LATENCY_ALARM_MS} ms for 15 minutes",
            rest_api.metric_latency(period=PERIOD, statistic="p95"),
            threshold=API_LATENCY_ALARM_MS,
            evaluation_periods=3,
        )
        throttles = {
            f"t{i}": f.metric_throttles(period=PERIOD, statistic="Sum") for i, f in enumerate(functions.values())
        }
        self._alarm(
            "LambdaThrottles",
            f"{prefix}-lambda-throttles",
            "A function was throttled: the account's Lambda concurrency quota is exhausted (throttled queue "
            "receives count toward the dead-letter limit)",
            cloudwatch.MathExpression(
                expression=f"SUM([{', '.join(throttles)}])",
                using_metrics=throttles,
                label="throttles",
                period=PERIOD,
            ),
            threshold=1,
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
