"""A seller's payout settings, and the payout cut: what a period's end does to the seller's money.

A cut, per currency the seller has accounts in, in one REPEATABLE READ transaction (so what it reads and the
entries it claims are one snapshot; a concurrent entry on the same accounts makes it fail and be retried):
1. releases the reserves that have come due;
2. a chargeback won back first repays what was written off of the seller's debts, and the rest is theirs again;
3. recovers what they owe from what is available, then writes off what is still owed after their write-off period;
4. when asked to pay and the available balance reaches the minimum: opens a payout for all of it (keyed by its
   own id), claims every entry of the seller's accounts no payout has settled yet as its lines, and reserves the
   money in the payout's pending account.
Every entry is keyed by the cut (or by the reserve it releases), and a cut that wrote anything is not made again, so
a retried or repeated cut moves nothing twice.
"""

from datetime import datetime, timedelta

import asyncpg

from db.ledger import write_entry
from db.outbound_webhooks import publish
from domain import seller_ledger as books
from domain.ledger import seller_available, seller_owed, seller_reserve
from domain.outbound_webhooks import EventType, seller_event
from domain.payouts import CutResult, PayoutSchedule, PayoutSettings, PayoutTerms, PreparedPayout, payout_id


async def payout_settings(pool: asyncpg.Pool, seller_id: str) -> PayoutSettings | None:
    row = await pool.fetchrow(
        "SELECT schedule, minimum_payout, reserve_percent, reserve_days, write_off_after_days FROM seller_payout_settings "
        "WHERE seller_id = $1",
        seller_id,
    )
    return PayoutSettings(**dict(row)) if row else None


async def put_payout_settings(pool: asyncpg.Pool, seller_id: str, settings: PayoutSettings) -> None:
    await pool.execute(
        """
        INSERT INTO seller_payout_settings (seller_id, schedule, minimum_payout, reserve_percent, reserve_days, write_off_after_days)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (seller_id) DO UPDATE SET schedule = $2, minimum_payout = $3, reserve_percent = $4, reserve_days = $5,
            write_off_after_days = $6, updated_at = now()
        """,
        seller_id,
        settings.schedule.value,
        settings.minimum_payout,
        settings.reserve_percent,
        settings.reserve_days,
        settings.write_off_after_days,
    )


async def placement_terms(pool: asyncpg.Pool, seller_id: str) -> PayoutTerms:
    """The payout terms an order of the seller is placed under: their settings, except that a per-order seller who
    owes the platform money has their new orders credited to their balance (paid daily) until the debt is recovered."""
    row = await pool.fetchrow(
        """
        SELECT s.schedule, s.reserve_percent, s.reserve_days,
               EXISTS (SELECT FROM ledger_accounts WHERE seller_id = $1 AND code LIKE 'owed:%' AND balance < 0) AS owes
        FROM (SELECT 1) one LEFT JOIN seller_payout_settings s ON s.seller_id = $1
        """,
        seller_id,
    )
    terms = PayoutTerms(**{k: row[k] for k in ("schedule", "reserve_percent", "reserve_days")}) if row["schedule"] else PayoutTerms()
    if row["owes"] and not terms.pooled:
        return PayoutTerms(schedule=PayoutSchedule.DAILY)
    return terms


async def cut(pool: asyncpg.Pool, seller_id: str, cut_at: datetime, pay: bool) -> CutResult:
    """The seller's cut at `cut_at` (see the module's story); also every payout of theirs still pending, so the caller
    finishes payouts a crash or a reset left behind."""
    settings = await payout_settings(pool, seller_id) or PayoutSettings()
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        currencies = await conn.fetch(
            "SELECT DISTINCT trim(currency) AS currency FROM ledger_accounts WHERE seller_id = $1 AND code NOT LIKE 'escrow:%' ORDER BY 1",
            seller_id,
        )
        for row in currencies:
            await _cut_currency(conn, seller_id, row["currency"], cut_at, pay, settings)
        pending = await conn.fetch(
            "SELECT payout_id, seller_id, trim(currency) AS currency, amount FROM seller_payouts "
            "WHERE seller_id = $1 AND status = 'pending' ORDER BY period_end, payout_id",
            seller_id,
        )
        holds = await conn.fetchval(
            "SELECT EXISTS (SELECT FROM ledger_accounts WHERE seller_id = $1 AND code NOT LIKE 'escrow:%' AND balance <> 0) "
            "OR EXISTS (SELECT FROM seller_balances WHERE seller_id = $1 AND in_escrow <> 0)",
            seller_id,
        )
    return CutResult(payouts=[PreparedPayout(**dict(r)) for r in pending], holds_money=bool(holds or pending))


async def _balance(conn: asyncpg.Connection, code: str) -> int:
    return int(await conn.fetchval("SELECT coalesce((SELECT balance FROM ledger_accounts WHERE code = $1), 0)", code))


async def _cut_currency(
    conn: asyncpg.Connection, seller_id: str, currency: str, cut_at: datetime, pay: bool, settings: PayoutSettings
) -> None:
    cut_id = payout_id(seller_id, currency, cut_at)
    due = await conn.fetch(
        """
        SELECT e.idempotency_key, e.order_id, p.amount FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id
        WHERE p.account = $1 AND e.kind = 'release' AND (e.memo->'reserve'->>'until')::timestamptz <= $2
          AND NOT EXISTS (SELECT FROM ledger_entries r WHERE r.idempotency_key = e.idempotency_key || ':reserve-released')
        ORDER BY e.id
        """,
        seller_reserve(seller_id, currency).code,
        cut_at,
    )
    for hold in due:
        await write_entry(conn, books.reserve_release_entry(hold["idempotency_key"], hold["order_id"], seller_id, hold["amount"], currency))
        told = {"order_id": hold["order_id"], "amount": hold["amount"], "currency": currency}
        await publish(conn, seller_event(EventType.RESERVE_RELEASED, hold["idempotency_key"], seller_id, told, cut_at))

    if await _already_cut(conn, cut_id):
        return  # a retry of a cut that was made: what came since waits for the next cut
    owed_code = seller_owed(seller_id, currency).code
    owed = await _balance(conn, owed_code)
    if owed > 0:  # a chargeback won: first it repays what was written off of the seller's debts, then it is theirs
        repaid = min(owed, await _written_off(conn, owed_code))
        if repaid:
            await write_entry(conn, books.loss_recovered_entry(cut_id, seller_id, repaid, currency))
            owed -= repaid
    available = await _balance(conn, seller_available(seller_id, currency).code) - await _held_by_order_payouts(conn, seller_id, currency)
    recovered = min(available, -owed) if owed < 0 else -owed
    if recovered:
        await write_entry(conn, books.recovery_entry(cut_id, seller_id, recovered, currency))
        available, owed = available - recovered, owed + recovered
    if owed < 0:
        recent = await conn.fetchval(
            "SELECT coalesce(-sum(p.amount), 0) FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id "
            "WHERE p.account = $1 AND e.kind = 'chargeback' AND e.created_at > $2",
            owed_code,
            cut_at - timedelta(days=settings.write_off_after_days),
        )
        overdue = -owed - int(recent)
        if overdue > 0:
            await write_entry(conn, books.write_off_entry(cut_id, seller_id, overdue, currency))

    if pay and available > 0 and available >= settings.minimum_payout:
        await _open_payout(conn, cut_id, seller_id, currency, cut_at, available)


async def _already_cut(conn: asyncpg.Connection, cut_id: str) -> bool:
    """Whether the cut wrote anything already (its keys are the cut's id and its suffixes)."""
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT FROM seller_payouts WHERE payout_id = $1) OR EXISTS (SELECT FROM ledger_entries WHERE idempotency_key = ANY($2))",
            cut_id,
            [cut_id + suffix for suffix in books.CUT_SUFFIXES],
        )
    )


async def _written_off(conn: asyncpg.Connection, owed_code: str) -> int:
    """What was written off of the seller's debts and not repaid since."""
    return int(
        await conn.fetchval(
            "SELECT coalesce(sum(p.amount) FILTER (WHERE e.kind = 'write_off'), 0) + coalesce(sum(p.amount) FILTER (WHERE e.kind = 'loss_recovered'), 0) "
            "FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id WHERE p.account = $1 AND e.kind IN ('write_off', 'loss_recovered')",
            owed_code,
        )
    )


async def _held_by_order_payouts(conn: asyncpg.Connection, seller_id: str, currency: str) -> int:
    """What orders paid out one by one (per_order) hold in the available balance until their own payout takes it: a
    cut leaves it to them."""
    held = await conn.fetchval(
        """
        SELECT coalesce(sum(p.amount), 0) FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id
        JOIN orders o ON o.order_id = e.order_id
        WHERE p.account = $1 AND coalesce(o.state->'payout'->>'schedule', 'per_order') = 'per_order'
        """,
        seller_available(seller_id, currency).code,
    )
    return int(held)


async def _open_payout(conn: asyncpg.Connection, payout: str, seller_id: str, currency: str, cut_at: datetime, amount: int) -> None:
    previous = await conn.fetchval(
        "SELECT max(period_end) FROM seller_payouts WHERE seller_id = $1 AND currency = $2 AND period_end < $3", seller_id, currency, cut_at
    )
    await conn.execute(
        "INSERT INTO seller_payouts (payout_id, seller_id, currency, period_start, period_end, amount) VALUES ($1, $2, $3, $4, $5, $6)",
        payout,
        seller_id,
        currency,
        previous,
        cut_at,
        amount,
    )
    await write_entry(conn, books.pooled_payout(payout, seller_id, amount, currency).reserve)
    await conn.execute(
        """
        INSERT INTO settlement_lines (entry_id, payout_id)
        SELECT DISTINCT p.entry_id, $1 FROM ledger_postings p JOIN ledger_accounts a ON a.code = p.account
        WHERE a.seller_id = $2 AND a.currency = $3 AND a.code NOT LIKE 'escrow:%'
          AND NOT EXISTS (SELECT FROM settlement_lines l JOIN seller_payouts s ON s.payout_id = l.payout_id
                          WHERE l.entry_id = p.entry_id AND s.seller_id = $2 AND s.currency = $3)
        """,
        payout,
        seller_id,
        currency,
    )


async def finish_payout(pool: asyncpg.Pool, payout: str, provider_reference: str) -> None:
    """The provider paid: settle the payout's pending account and mark it paid (idempotent)."""
    async with pool.acquire() as conn, conn.transaction():
        row = await _payout_for_update(conn, payout)
        await write_entry(conn, books.pooled_payout(payout, row["seller_id"], row["amount"], row["currency"].strip()).settle)
        paid_at = await conn.fetchval(
            "UPDATE seller_payouts SET status = 'paid', provider_reference = $2, updated_at = statement_timestamp() "
            "WHERE payout_id = $1 AND status = 'pending' RETURNING updated_at",
            payout,
            provider_reference,
        )
        if paid_at is not None:
            told = {
                "payout_id": payout,
                "amount": row["amount"],
                "currency": row["currency"].strip(),
                "provider_reference": provider_reference,
            }
            await publish(conn, seller_event(EventType.PAYOUT_PAID, payout, row["seller_id"], told, paid_at))


async def return_payout(pool: asyncpg.Pool, payout: str, reason: str) -> None:
    """The provider refused the payout for certain: its money goes back to the seller's available balance."""
    async with pool.acquire() as conn, conn.transaction():
        row = await _payout_for_update(conn, payout)
        await write_entry(conn, books.pooled_payout(payout, row["seller_id"], row["amount"], row["currency"].strip()).returned())
        returned_at = await conn.fetchval(
            "UPDATE seller_payouts SET status = 'returned', failure = $2, updated_at = statement_timestamp() "
            "WHERE payout_id = $1 AND status = 'pending' RETURNING updated_at",
            payout,
            reason[:500],
        )
        if returned_at is not None:
            told = {"payout_id": payout, "amount": row["amount"], "currency": row["currency"].strip(), "reason": reason[:500]}
            await publish(conn, seller_event(EventType.PAYOUT_RETURNED, payout, row["seller_id"], told, returned_at))


async def _payout_for_update(conn: asyncpg.Connection, payout: str) -> asyncpg.Record:
    row = await conn.fetchrow("SELECT seller_id, currency, amount, status FROM seller_payouts WHERE payout_id = $1 FOR UPDATE", payout)
    if row is None:
        raise LookupError(f"no payout {payout}")
    return row
