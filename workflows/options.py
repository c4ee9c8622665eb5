"""Activity options used by the workflows: timeouts and retry budgets."""

from datetime import timedelta
from typing import TypedDict

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain import failures
    from domain.order_request import RetryBudget


class ActivityOptions(TypedDict):
    start_to_close_timeout: timedelta
    retry_policy: RetryPolicy


def provider_call(budget: RetryBudget) -> ActivityOptions:
    """A provider call: retried with backoff within the order's budget (by default 10 attempts, about five
    minutes), then the order needs attention."""
    return ActivityOptions(
        start_to_close_timeout=timedelta(seconds=30),
        retry_policy=RetryPolicy(
            initial_interval=budget.initial_interval,
            backoff_coefficient=2.0,
            maximum_interval=budget.maximum_interval,
            maximum_attempts=budget.maximum_attempts,
            non_retryable_error_types=[failures.PROVIDER_REJECTED],
        ),
    )


# Our own database: retried while it is away, never when it refuses the write itself (a ledger conflict, data
# it cannot store): then the workflow parks the order for an operator.
BOOKKEEPING = ActivityOptions(
    start_to_close_timeout=timedelta(seconds=20),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(milliseconds=500),
        maximum_interval=timedelta(seconds=30),
        non_retryable_error_types=[
            failures.LEDGER_CONFLICT,
            failures.LEDGER_UNBALANCED,
            failures.LEDGER_OVERDRAWN,
            failures.LEDGER_REJECTED,
            failures.READ_MODEL_REJECTED,
        ],
    ),
)
