"""The daily reconciliation's activity: the ledger's invariants and its reconciliation with the payment provider's
own records, listed through the provider's adapter, both as of one moment; the result is kept for operators
(`GET /v1/reconciliations`) and counted in a metric."""

import asyncpg
from temporalio import activity

from adapters.payments import PaymentGateway
from db.invariants import check_invariants, database_now
from db.reconciliations import record_run
from domain import activity_names as act
from domain.providers import ProviderListing, ProviderRecordQuery
from domain.reconciliation import RECONCILIATION_WORKFLOW_TYPE, ReconciliationReport


async def provider_listing(pool: asyncpg.Pool, payments: PaymentGateway) -> ProviderListing:
    """Every record the provider lists as created before now (on the ledger's clock): read after that moment, to be
    compared with the ledger as of it."""
    until = await database_now(pool)
    return ProviderListing(until=until, records=await payments.records(ProviderRecordQuery(created_until=until)))


class ReconciliationActivities:
    def __init__(self, pool: asyncpg.Pool, payments: PaymentGateway):
        self._pool, self._payments = pool, payments

    @activity.defn(name=act.RECONCILE_BOOKS)
    async def reconcile_books(self) -> ReconciliationReport:
        listing = await provider_listing(self._pool, self._payments)
        differences = await check_invariants(self._pool, listing)
        report = ReconciliationReport(
            run_id=activity.info().workflow_run_id or "", until=listing.until, checked=len(listing.records), differences=differences
        )
        await record_run(self._pool, report)
        gauge = activity.metric_meter().create_gauge(
            "settlement_reconciliation_differences", "differences the last daily reconciliation found", "differences"
        )
        gauge.set(len(differences), {"workflow": RECONCILIATION_WORKFLOW_TYPE})
        for difference in differences:
            activity.logger.error("reconciliation difference: %s", difference)
        return report
