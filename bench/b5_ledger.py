"""B5: ledger entries per second with 16 concurrent writers, each taking its own sellers' orders through the ledger.

Each writer writes, order after order, the entries the engine writes for a settled order (capture, release, payout
reserve, payout settle) with db.ledger.post_entry. Three variants, interleaved round by round on one embedded
PostgreSQL, each round's order rotated:
- hot: one currency, so every entry moves the shared boundary (`external:buyers`, `external:payouts`) and fee
  (`platform:marketplace_fees`, `fulfillment:fees_payable`) balance rows;
- disjoint: each writer its own currency code, so no two writers share a balance row (every account code ends in
  its currency);
- plain: the hot variant's rows inserted into tables without keys, constraints or triggers, one transaction per
  entry (the previous single-threaded `make bench` baseline, now with 16 writers).
Entries are built before the clock starts; the figure is entries written / wall time of the round, median of rounds.
`*_client_cpu_share` (details): CPU seconds of this benchmark's process (the writers) per wall second, median: near 1,
the Python client rather than PostgreSQL bounds the variant.
"""

import asyncio
import time

import asyncpg

from bench.report import Figure, median
from db.ledger import post_entry
from db.migrate import upgrade
from db.pool import create_pool
from domain import ledger
from domain.fees import compute_fees
from domain.ledger import EntryRequest
from tests.embedded_pg import embedded_postgres_server

WRITERS = 16
AMOUNT = 3000
FEES = compute_fees(AMOUNT, 2, "USD")
PLAIN_TABLES = [
    "CREATE TABLE plain_entries (id bigserial, idempotency_key text, order_id text, kind text, memo jsonb, created_at timestamptz DEFAULT now())",
    "CREATE TABLE plain_postings (id bigserial, entry_id bigint, account text, amount bigint, currency char(3))",
]


def order_entries(order_id: str, seller_id: str, currency: str) -> list[EntryRequest]:
    """The entries of one order from capture to settled payout, in the order the workflow writes them."""
    workflow_id = f"order-{order_id}"
    payout = ledger.payout_disbursement(workflow_id, order_id, seller_id, AMOUNT - FEES.total, currency)
    return [
        ledger.capture_entry(workflow_id, order_id, AMOUNT, currency, seller_id=seller_id),
        ledger.release_entry(workflow_id, order_id, seller_id, AMOUNT, FEES, currency),
        payout.reserve,
        payout.settle,
    ]


def writer_entries(variant: str, round_: int, writer: int, orders: int) -> list[EntryRequest]:
    currency = f"X{writer:02d}" if variant == "disjoint" else "USD"
    return [e for k in range(orders) for e in order_entries(f"b5-{variant}-{round_}-{writer}-{k}", f"b5-seller-{writer}", currency)]


async def _post_all(pool: asyncpg.Pool, entries: list[EntryRequest]) -> None:
    for entry in entries:
        await post_entry(pool, entry)


async def _insert_all(pool: asyncpg.Pool, entries: list[EntryRequest]) -> None:
    for entry in entries:
        async with pool.acquire() as conn:
            async with conn.transaction():
                entry_id = await conn.fetchval(
                    "INSERT INTO plain_entries (idempotency_key, order_id, kind, memo) VALUES ($1, $2, $3, $4) RETURNING id",
                    entry.idempotency_key,
                    entry.order_id,
                    entry.kind.value,
                    entry.memo,
                )
                await conn.executemany(
                    "INSERT INTO plain_postings (entry_id, account, amount, currency) VALUES ($1, $2, $3, $4)",
                    [(entry_id, p.account.code, p.amount, p.account.currency) for p in entry.postings],
                )


async def _round(pool: asyncpg.Pool, variant: str, round_: int, orders: int) -> tuple[float, float]:
    """Entries per second of one round of WRITERS concurrent writers, and the share of it this process spent on CPU."""
    work = [writer_entries(variant, round_, w, orders) for w in range(WRITERS)]
    write = _insert_all if variant == "plain" else _post_all
    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(write(pool, entries) for entries in work))
    elapsed = time.perf_counter() - started
    return sum(map(len, work)) / elapsed, (time.process_time() - cpu) / elapsed


async def _measure(uri: str, rounds: int, orders: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    pool = await create_pool(uri, min_size=WRITERS, max_size=WRITERS)
    try:
        for statement in PLAIN_TABLES:
            await pool.execute(statement)
        variants = ["hot", "disjoint", "plain"]
        for variant in variants:  # warm up: accounts, caches, prepared statements
            await _round(pool, variant, -1, 1)
        rates: dict[str, list[float]] = {v: [] for v in variants}
        client_cpu: dict[str, list[float]] = {v: [] for v in variants}
        for round_ in range(rounds):
            for variant in variants[round_ % 3 :] + variants[: round_ % 3]:
                rate, cpu = await _round(pool, variant, round_, orders)
                rates[variant].append(rate)
                client_cpu[variant].append(cpu)
        return rates, client_cpu
    finally:
        await pool.close()


async def run(quick: bool) -> list[Figure]:
    rounds, orders = (5, 6) if quick else (9, 30)
    with embedded_postgres_server("settlement-bench-b5-") as server:
        uri = server.get_uri()
        await asyncio.to_thread(upgrade, uri)
        rates, client_cpu = await _measure(uri, rounds, orders)
    hot, disjoint, plain = (median(rates[v]) for v in ("hot", "disjoint", "plain"))
    details: dict[str, float | int | str] = {
        "writers": WRITERS,
        "rounds": rounds,
        "entries_per_round": WRITERS * orders * 4,
        **{f"{v}_rounds": " ".join(f"{r:.0f}" for r in rates[v]) for v in rates},
        **{f"{v}_client_cpu_share": round(median(client_cpu[v]), 2) for v in client_cpu},
        "disjoint_vs_plain": round(disjoint / plain, 3),
    }
    return [
        Figure(
            id="B5",
            name="ledger entries/s, 16 writers, shared accounts",
            value=hot,
            unit="entries/s",
            baseline_name="same writers, disjoint accounts",
            baseline=disjoint,
            goal="≥ 0.7× disjoint",
            goal_value=0.7,
            details=details,
        ),
        Figure(
            id="B5",
            name="ledger entries/s, 16 writers, shared accounts",
            value=hot,
            unit="entries/s",
            baseline_name="plain inserts of the same rows, 16 writers",
            baseline=plain,
            goal="≥ 0.5× plain",
            goal_value=0.5,
            details=details,
        ),
    ]
