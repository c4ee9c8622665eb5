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


def _fingerprint(postings: list[tuple[str, int, str]]) -> list[tuple[str, int, str]]:
    return sorted((account, int(amount), currency.strip()) for account, amount, currency in postings)


async def post_entry(pool: asyncpg.Pool, entry: EntryRequest) -> int:
    """Write the entry once; the same key with the same postings returns the existing entry's id."""
    entry_id, _ = await post_entry_once(pool, entry)
    return entry_id


async def post_entry_once(pool: asyncpg.Pool, entry: EntryRequest) -> tuple[int, bool]:
    """post_entry, also telling whether this call wrote the entry (False: it existed already)."""
    if entry.unbalanced_currencies():
        raise LedgerUnbalanced(f"{entry.idempotency_key} does not balance in {entry.unbalanced_currencies()}")
    wanted = _fingerprint([(p.account.code, p.amount, p.account.currency) for p in entry.postings])
    async with pool.acquire() as conn:
        async with conn.transaction():
            entry_id = await conn.fetchval(
                "INSERT INTO ledger_entries (idempotency_key, order_id, kind, memo) VALUES ($1, $2, $3, $4) "
                "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
                entry.idempotency_key,
                entry.order_id,
                entry.kind.value,
                entry.memo,
            )
            if entry_id is None:
                return await _existing_entry(conn, entry, wanted), False
            for posting in sorted(entry.postings, key=lambda p: p.account.code):
                await _apply_posting(conn, entry_id, posting.account, posting.amount)
            return entry_id, True


async def _existing_entry(conn: asyncpg.Connection, entry: EntryRequest, wanted: list) -> int:
    row = await conn.fetchrow("SELECT id, order_id, kind FROM ledger_entries WHERE idempotency_key = $1", entry.idempotency_key)
    postings = await conn.fetch("SELECT account, amount, currency FROM ledger_postings WHERE entry_id = $1", row["id"])
    if (row["order_id"], row["kind"]) != (entry.order_id, entry.kind.value) or _fingerprint([tuple(p) for p in postings]) != wanted:
        raise LedgerConflict(f"ledger entry {entry.idempotency_key} exists with different postings")
    return row["id"]


async def _apply_posting(conn: asyncpg.Connection, entry_id: int, account, amount: int) -> None:
    """Insert the posting; a trigger moves the account's balance (the engine's role cannot set balances)."""
    await conn.execute(
        "INSERT INTO ledger_accounts (code, owner, currency, may_go_negative) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        account.code,
        account.owner,
        account.currency,
        account.may_go_negative,
    )
    try:
        await conn.execute(
            "INSERT INTO ledger_postings (entry_id, account, amount, currency) VALUES ($1, $2, $3, $4)",
            entry_id,
            account.code,
            amount,
            account.currency,
        )
    except asyncpg.CheckViolationError as err:
        raise LedgerOverdrawn(f"{account.code} holds less than the {-amount} this entry takes out, and may not go negative") from err
