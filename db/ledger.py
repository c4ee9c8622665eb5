"""Writing the double-entry ledger. Writing an entry is idempotent by its key."""

import asyncpg

from domain import failures
from domain.ledger import EntryRequest


class LedgerRefused(Exception):
    """The ledger refuses the entry for good; `failure_type` names the refusal to the workflow."""

    failure_type: str


class LedgerConflict(LedgerRefused):
    """The same idempotency key was used with different postings."""

    failure_type = failures.LEDGER_CONFLICT


class LedgerUnbalanced(LedgerRefused):
    """An entry whose postings do not sum to zero in each currency."""

    failure_type = failures.LEDGER_UNBALANCED


class LedgerOverdrawn(LedgerRefused):
    """An entry would take an account that may not go negative below zero."""

    failure_type = failures.LEDGER_OVERDRAWN


# The whole entry in one statement, so one round trip and one implicit transaction (the deferred balance check
# runs at its commit). A key already written inserts nothing: every later part selects from `entry`. The
# postings are inserted in account order, so the trigger that moves each balance locks the accounts' rows in
# that order, last, after every row of the entry is in; concurrent entries cannot deadlock on them.
WRITE_ENTRY = """
WITH entry AS (
    INSERT INTO ledger_entries (idempotency_key, order_id, kind, memo) VALUES ($1, $2, $3, $4)
    ON CONFLICT (idempotency_key) DO NOTHING RETURNING id
), leg AS (
    SELECT * FROM unnest($5::text[], $6::text[], $7::text[], $8::boolean[], $9::bigint[], $10::text[])
        WITH ORDINALITY AS leg (code, owner, currency, may_go_negative, amount, seller_id, n)
    WHERE EXISTS (SELECT FROM entry)
), accounts AS (
    INSERT INTO ledger_accounts (code, owner, currency, may_go_negative, seller_id)
    SELECT DISTINCT ON (code) code, owner, currency, may_go_negative, seller_id FROM leg ORDER BY code, n
    ON CONFLICT DO NOTHING
), postings AS (
    INSERT INTO ledger_postings (entry_id, account, amount, currency)
    SELECT entry.id, leg.code, leg.amount, leg.currency FROM entry, leg ORDER BY leg.code, leg.n
)
SELECT id FROM entry
"""


def _fingerprint(postings: list[tuple[str, int, str]]) -> list[tuple[str, int, str]]:
    return sorted((account, int(amount), currency.strip()) for account, amount, currency in postings)


async def post_entry(pool: asyncpg.Pool, entry: EntryRequest) -> int:
    """Write the entry once; the same key with the same postings returns the existing entry's id."""
    entry_id, _ = await post_entry_once(pool, entry)
    return entry_id


async def post_entry_once(pool: asyncpg.Pool, entry: EntryRequest) -> tuple[int, bool]:
    """post_entry, also telling whether this call wrote the entry (False: it existed already)."""
    async with pool.acquire() as conn:
        return await write_entry(conn, entry)


async def write_entry(conn: asyncpg.Connection, entry: EntryRequest) -> tuple[int, bool]:
    """post_entry_once on a connection, inside the caller's transaction when it has one."""
    if entry.unbalanced_currencies():
        raise LedgerUnbalanced(f"{entry.idempotency_key} does not balance in {entry.unbalanced_currencies()}")
    wanted = _fingerprint([(p.account.code, p.amount, p.account.currency) for p in entry.postings])
    accounts = [p.account for p in entry.postings]
    try:
        entry_id = await conn.fetchval(
            WRITE_ENTRY,
            entry.idempotency_key,
            entry.order_id,
            entry.kind.value,
            entry.memo,
            [a.code for a in accounts],
            [a.owner for a in accounts],
            [a.currency for a in accounts],
            [a.may_go_negative for a in accounts],
            [p.amount for p in entry.postings],
            [a.seller_id for a in accounts],
        )
    except asyncpg.CheckViolationError as err:
        raise LedgerOverdrawn(_overdraft(entry, err)) from err
    if entry_id is None:
        return await _existing_entry(conn, entry, wanted), False
    return entry_id, True


def _overdraft(entry: EntryRequest, err: asyncpg.CheckViolationError) -> str:
    """Name the account the database refused to take below zero (its failing row starts with the account's code)."""
    failing_row = err.detail or ""
    for posting in entry.postings:
        if posting.amount < 0 and failing_row.startswith(f"Failing row contains ({posting.account.code}, "):
            return f"{posting.account.code} holds less than the {-posting.amount} this entry takes out, and may not go negative"
    return f"{entry.idempotency_key} takes an account that may not go negative below zero"


async def _existing_entry(conn: asyncpg.Connection, entry: EntryRequest, wanted: list) -> int:
    row = await conn.fetchrow("SELECT id, order_id, kind FROM ledger_entries WHERE idempotency_key = $1", entry.idempotency_key)
    postings = await conn.fetch("SELECT account, amount, currency FROM ledger_postings WHERE entry_id = $1", row["id"])
    if (row["order_id"], row["kind"]) != (entry.order_id, entry.kind.value) or _fingerprint([tuple(p) for p in postings]) != wanted:
        raise LedgerConflict(f"ledger entry {entry.idempotency_key} exists with different postings")
    return row["id"]
