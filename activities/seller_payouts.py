"""The seller payouts workflow's activities: our own database (db/seller_payouts.py)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.bookkeeping import PERMANENT_DATABASE_ERRORS
from db import chargebacks, ledger
from db import seller_payouts as payouts
from domain import activity_names as act
from domain import failures
from domain import seller_ledger as books
from domain.chargebacks import ChargebackNotice, ChargebackStatus
from domain.payouts import CutRequest, CutResult, PayoutOutcome, PayoutSettings


class SellerPayoutActivities:
    def __init__(self, pool: asyncpg.Pool):
        self._pool = pool

    @activity.defn(name=act.READ_PAYOUT_SETTINGS)
    async def read_payout_settings(self, seller_id: str) -> PayoutSettings:
        return await payouts.payout_settings(self._pool, seller_id) or PayoutSettings()

    @activity.defn(name=act.CUT_SELLER_PAYOUTS)
    async def cut_seller_payouts(self, request: CutRequest) -> CutResult:
        async with _refusals(request.seller_id):
            return await payouts.cut(self._pool, request.seller_id, request.cut_at, request.pay)

    @activity.defn(name=act.FINISH_SELLER_PAYOUT)
    async def finish_seller_payout(self, outcome: PayoutOutcome) -> None:
        async with _refusals(outcome.payout_id):
            if outcome.provider_reference is not None:
                await payouts.finish_payout(self._pool, outcome.payout_id, outcome.provider_reference)
            else:
                await payouts.return_payout(self._pool, outcome.payout_id, outcome.refusal or "refused")

    @activity.defn(name=act.RECORD_CHARGEBACK)
    async def record_chargeback(self, notice: ChargebackNotice) -> None:
        """The chargeback's entry, and its reversal when the seller won it (whatever order the notices came in), with the
        chargeback as the seller sees it."""
        n = notice
        entries = [books.chargeback_entry(n.dispute_id, n.order_id, n.seller_id, n.amount, n.currency)]
        if n.status == ChargebackStatus.WON:
            entries.append(books.chargeback_reversal_entry(n.dispute_id, n.order_id, n.seller_id, n.amount, n.currency))
        async with _refusals(n.dispute_id), self._pool.acquire() as conn, conn.transaction():
            for entry in entries:
                await ledger.write_entry(conn, entry)
            await chargebacks.record_notice(conn, n)


def seller_payout_activities(activities: SellerPayoutActivities) -> list:
    a = activities
    return [a.read_payout_settings, a.cut_seller_payouts, a.finish_seller_payout, a.record_chargeback]


@asynccontextmanager
async def _refusals(subject: str) -> AsyncIterator[None]:
    """A write the ledger or the database refuses for good is non-retryable, named for the workflow."""
    try:
        yield
    except ledger.LedgerRefused as err:
        raise ApplicationError(f"{subject}: {err}", type=err.failure_type, non_retryable=True) from err
    except (*PERMANENT_DATABASE_ERRORS, LookupError) as err:
        raise ApplicationError(f"{subject}: {err}", type=failures.LEDGER_REJECTED, non_retryable=True) from err
