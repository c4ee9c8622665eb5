"""Activity options used by the workflows: timeouts and retry budgets."""

from datetime import timedelta

from temporalio.common import RetryPolicy

# A provider call: retried with backoff for about five minutes, then the order needs attention.
PROVIDER_CALL = dict(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=1),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(seconds=60),
        maximum_attempts=10,
        non_retryable_error_types=["ProviderRejected", "InvalidRequest"],
    ),
)

# Our own database: retried until it answers, unless the write itself is wrong (a ledger conflict).
BOOKKEEPING = dict(
    start_to_close_timeout=timedelta(seconds=20),
    retry_policy=RetryPolicy(
        initial_interval=timedelta(milliseconds=500),
        maximum_interval=timedelta(seconds=30),
        non_retryable_error_types=["LedgerConflict", "LedgerUnbalanced", "LedgerOverdrawn"],
    ),
)
