"""Deploy-time check (a CDK trigger): does the account's Lambda concurrency quota fit this stage?

New AWS accounts often get 10 concurrent executions. Mostrador's consumers alone may run reply + enrich
maximum concurrency at once, and the API functions need room next to them; past the quota Lambda throttles,
and every throttled SQS receive counts toward maxReceiveCount, so customer messages end in the dead-letter
queue. Failing the deploy early, with what to do, beats finding that out in production.

Runs on the plain Lambda runtime (boto3 is built in); no layer, no VPC.
"""

from __future__ import annotations

import os
from typing import Any, Protocol


class LambdaAccount(Protocol):
    def get_account_settings(self) -> dict[str, Any]: ...


class InsufficientConcurrency(RuntimeError):
    """The quota is below what the stage needs; the message says how to fix it."""


def check_concurrency(account: LambdaAccount, required: int, breakdown: str, stage: str) -> dict[str, int]:
    limits = account.get_account_settings()["AccountLimit"]
    total = int(limits["ConcurrentExecutions"])
    unreserved = int(limits.get("UnreservedConcurrentExecutions", total))
    if unreserved < required:
        raise InsufficientConcurrency(
            f"This account's Lambda concurrency quota is {total} ({unreserved} not reserved by other functions); "
            f"Mostrador stage {stage} needs {required} ({breakdown}). Past the quota Lambda throttles, and "
            "throttled queue receives push customer messages into the dead-letter queue. Ask AWS for more "
            "(Service Quotas > AWS Lambda > Concurrent executions; 1000 is the usual default), or lower "
            "replyMaxConcurrency, enrichMaxConcurrency, knowledgeMaxConcurrency or apiConcurrencyHeadroom in "
            f"infra/stages/{stage}.toml. "
            "See docs/deploy.md, 'Lambda concurrency quota'."
        )
    return {"quota": total, "unreserved": unreserved, "required": required}


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    import boto3

    result = check_concurrency(
        boto3.client("lambda"),
        required=int(os.environ["REQUIRED_CONCURRENCY"]),
        breakdown=os.environ.get("CONCURRENCY_BREAKDOWN", ""),
        stage=os.environ.get("MOSTRADOR_STAGE", "?"),
    )
    print(f"Lambda concurrency quota fits: {result}")  # noqa: T201 - the trigger's log line
    return result
