"""The daily reconciliation, started by the Temporal Schedule `daily-reconciliation` (runtime/schedules.py): one
activity compares the ledger with the payment provider's records and keeps the differences for operators. A run
that finds differences fails, so the schedule's recent actions show it in the Temporal UI."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain import activity_names as act
    from domain import failures
    from domain.reconciliation import RECONCILIATION_WORKFLOW_TYPE, ReconciliationReport


@workflow.defn(name=RECONCILIATION_WORKFLOW_TYPE)
class DailyReconciliationWorkflow:
    @workflow.run
    async def run(self) -> ReconciliationReport:
        report: ReconciliationReport = await workflow.execute_activity(
            act.RECONCILE_BOOKS,
            result_type=ReconciliationReport,
            start_to_close_timeout=timedelta(minutes=30),
            retry_policy=RetryPolicy(initial_interval=timedelta(seconds=5), maximum_interval=timedelta(minutes=5), maximum_attempts=20),
        )
        if report.differences:
            raise ApplicationError(f"the ledger and the provider differ ({len(report.differences)} found)", type=failures.BOOKS_DIFFER)
        return report
