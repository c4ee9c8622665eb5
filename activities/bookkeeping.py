"""Ledger and read-model activities: our own database."""

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from db import ledger, read_model
from domain import activity_names as act
from domain import failures
from domain.ledger import EntryRequest
from domain.order_state import OrderState

# The database refuses the write itself (bad data, a constraint, a trigger, a privilege, a size limit):
# retrying cannot help, so the workflow parks the order instead of retrying forever.
PERMANENT_DATABASE_ERRORS = (
    asyncpg.DataError,
    asyncpg.IntegrityConstraintViolationError,
    asyncpg.RaiseError,
    asyncpg.InsufficientPrivilegeError,
    asyncpg.ProgramLimitExceededError,
    UnicodeEncodeError,
)


class BookkeepingActivities:
    def __init__(self, pool: asyncpg.Pool):
        self._pool = pool

    @activity.defn(name=act.POST_LEDGER_ENTRY)
    async def post_ledger_entry(self, entry: EntryRequest) -> int:
        try:
            entry_id, written = await ledger.post_entry_once(self._pool, entry)
        except ledger.LedgerRefused as err:
            raise ApplicationError(str(err), type=err.failure_type, non_retryable=True) from err
        except PERMANENT_DATABASE_ERRORS as err:
            raise ApplicationError(f"{entry.idempotency_key}: {err}", type=failures.LEDGER_REJECTED, non_retryable=True) from err
        if written:
            _count_money_moved(entry)
        activity.logger.info("ledger entry %s %s", entry.idempotency_key, "written" if written else "already written")
        return entry_id

    @activity.defn(name=act.RECORD_ORDER)
    async def record_order(self, state: OrderState) -> None:
        try:
            await read_model.record_order(self._pool, state, run_id=activity.info().workflow_run_id)
        except PERMANENT_DATABASE_ERRORS as err:
            raise ApplicationError(
                f"the read model refused order {state.order_id}: {err}", type=failures.READ_MODEL_REJECTED, non_retryable=True
            ) from err


def _count_money_moved(entry: EntryRequest) -> None:
    """settlement_money_moved{kind, currency}: minor units moved by new ledger entries (never by replays)."""
    counter = activity.metric_meter().create_counter("settlement_money_moved", "minor units moved by ledger entries", "minor units")
    moved: dict[str, int] = {}
    for posting in entry.postings:
        if posting.amount > 0:
            moved[posting.account.currency] = moved.get(posting.account.currency, 0) + posting.amount
    for currency, amount in moved.items():
        counter.add(amount, {"kind": entry.kind.value, "currency": currency})
