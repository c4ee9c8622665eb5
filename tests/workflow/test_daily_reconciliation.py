"""The daily reconciliation's workflow: it reports what its activity found, and fails when the books differ so the
schedule's recent runs show it."""

import pytest
from temporalio import activity
from temporalio.client import WorkflowFailureError
from temporalio.worker import Worker

from domain import activity_names as act
from domain import failures
from domain.reconciliation import ReconciliationReport
from tests.workflow.conftest import env_now
from workflows.reconciliation import DailyReconciliationWorkflow


def reconciling(differences: list[str], until):
    @activity.defn(name=act.RECONCILE_BOOKS)
    async def reconcile_books() -> ReconciliationReport:
        return ReconciliationReport(run_id=activity.info().workflow_run_id, until=until, checked=3, differences=differences)

    return reconcile_books


@pytest.mark.parametrize("differences", [[], ["order o-1: provider payout 100 but the ledger reserved 0 and settled 0"]])
async def test_the_run_reports_what_it_found_and_fails_when_the_books_differ(env, differences):
    until = await env_now(env)
    async with Worker(
        env.client, task_queue="recon", workflows=[DailyReconciliationWorkflow], activities=[reconciling(differences, until)]
    ):
        handle = await env.client.start_workflow(DailyReconciliationWorkflow.run, id="daily-reconciliation-run", task_queue="recon")
        if not differences:
            report = await handle.result()
            assert report.differences == [] and report.checked == 3 and report.run_id == handle.result_run_id
            return
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
        assert failed.value.cause.type == failures.BOOKS_DIFFER and "differ (1 found)" in failed.value.cause.message
