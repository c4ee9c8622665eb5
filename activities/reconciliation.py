"""The daily reconciliation's activity: the ledger's invariants and its reconciliation with the payment provider's
own records, listed through the provider's adapter, both as of one moment; the result is kept for operators
(`GET /v1/reconciliations`, and each order's view) and counted in a metric. An open order a difference is found
on is parked: it waits for an operator before any more of its money leaves."""

from collections import defaultdict

import asyncpg
from temporalio import activity
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from adapters.payments import PaymentGateway
from db.invariants import database_now, find_differences
from db.reconciliations import record_run
from domain import activity_names as act
from domain.order_actions import BOOKS_DIFFER_SIGNAL, BooksDiffer
from domain.order_state import workflow_id_for
from domain.providers import ProviderListing, ProviderRecordQuery
from domain.reconciliation import RECONCILIATION_WORKFLOW_TYPE, ReconciliationReport


async def provider_listing(pool: asyncpg.Pool, payments: PaymentGateway) -> ProviderListing:
    """Every record the provider lists as created before now (on the ledger's clock): read after that moment, to be
    compared with the ledger as of it."""
    until = await database_now(pool)
    return ProviderListing(until=until, records=await payments.records(ProviderRecordQuery(created_until=until)))


class ReconciliationActivities:
    def __init__(self, pool: asyncpg.Pool, payments: PaymentGateway, client: Client):
        self._pool, self._payments, self._client = pool, payments, client

    @activity.defn(name=act.RECONCILE_BOOKS)
    async def reconcile_books(self) -> ReconciliationReport:
        listing = await provider_listing(self._pool, self._payments)
        differences = await find_differences(self._pool, listing)
        at_fault: dict[str, list[str]] = defaultdict(list)
        for difference in differences:
            if difference.order_id is not None:
                at_fault[difference.order_id].append(difference.text)
        run_id = activity.info().workflow_run_id or ""
        parked = [order for order, found in at_fault.items() if await self._park(order, BooksDiffer(run_id=run_id, differences=found))]
        report = ReconciliationReport(
            run_id=run_id,
            until=listing.until,
            checked=len(listing.records),
            differences=[d.text for d in differences],
            orders_at_fault=at_fault,
            orders_parked=parked,
        )
        await record_run(self._pool, report)
        gauge = activity.metric_meter().create_gauge(
            "settlement_reconciliation_differences", "differences the last daily reconciliation found", "differences"
        )
        gauge.set(len(differences), {"workflow": RECONCILIATION_WORKFLOW_TYPE})
        for difference in report.differences:
            activity.logger.error("reconciliation difference: %s", difference)
        return report

    async def _park(self, order_id: str, finding: BooksDiffer) -> bool:
        """Tell the order's workflow; False when it has finished (its money has all moved)."""
        try:
            await self._client.get_workflow_handle(workflow_id_for(order_id)).signal(BOOKS_DIFFER_SIGNAL, finding)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return False
            raise
        return True
