"""Ledger and read-model activities: our own database."""

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from db import ledger, read_model
from domain import activity_names as act
from domain.ledger import EntryRequest
from domain.order_state import OrderState


class BookkeepingActivities:
    def __init__(self, pool: asyncpg.Pool):
        self._pool = pool

    @activity.defn(name=act.POST_LEDGER_ENTRY)
    async def post_ledger_entry(self, entry: EntryRequest) -> int:
        try:
            return await ledger.post_entry(self._pool, entry)
        except (ledger.LedgerConflict, ledger.LedgerUnbalanced, ledger.LedgerOverdrawn) as err:
            raise ApplicationError(str(err), type=type(err).__name__, non_retryable=True) from err

    @activity.defn(name=act.RECORD_ORDER)
    async def record_order(self, state: OrderState) -> None:
        await read_model.record_order(self._pool, state)
