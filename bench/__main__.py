"""`make bench`: the cost of writing ledger entries exactly once, as a ratio to plain inserts.

Both are measured in the same run on the same embedded PostgreSQL: the baseline writes the same rows
(one entry, its postings) with plain INSERTs and no checks; the ledger path adds idempotency, balance
updates with their constraints, and the deferred balance trigger. Reported: median seconds per 200
entries over 7 rounds, and the ratio of medians (lower is better; the shared 2-core machine is noisy,
so only the ratio means anything).
"""

import asyncio
import statistics
import time
import uuid

from db.ledger import post_entry
from db.migrate import upgrade
from db.pool import create_pool
from domain import ledger
from domain.fees import compute_fees
from tests.embedded_pg import embedded_postgres_server

ENTRIES = 200
ROUNDS = 7


async def _ledger_round(pool) -> float:
    started = time.perf_counter()
    for _ in range(ENTRIES // 2):
        order_id = uuid.uuid4().hex[:12]
        await post_entry(pool, ledger.capture_entry(f"order-{order_id}", order_id, 3000, "USD"))
        await post_entry(
            pool, ledger.release_entry(f"order-{order_id}", order_id, "bench_seller", 3000, compute_fees(3000, 2, "USD"), "USD")
        )
    return time.perf_counter() - started


async def _baseline_round(pool) -> float:
    started = time.perf_counter()
    for _ in range(ENTRIES):
        async with pool.acquire() as conn:
            async with conn.transaction():
                await conn.execute("INSERT INTO bench_entries (key) VALUES ($1)", uuid.uuid4().hex)
                await conn.executemany("INSERT INTO bench_postings (account, amount) VALUES ($1, $2)", [("a", 3000), ("b", -3000)])
    return time.perf_counter() - started


async def main(url: str) -> None:
    pool = await create_pool(url)
    await pool.execute("CREATE TABLE IF NOT EXISTS bench_entries (id bigserial PRIMARY KEY, key text)")
    await pool.execute("CREATE TABLE IF NOT EXISTS bench_postings (id bigserial PRIMARY KEY, account text, amount bigint)")
    baseline, measured = [], []
    await _baseline_round(pool), await _ledger_round(pool)  # warm up
    for _ in range(ROUNDS):
        baseline.append(await _baseline_round(pool))
        measured.append(await _ledger_round(pool))
    await pool.close()
    b, m = statistics.median(baseline), statistics.median(measured)
    print(f"baseline (plain inserts): median {b:.3f} s per {ENTRIES} entries")
    print(f"ledger post_entry:        median {m:.3f} s per {ENTRIES} entries")
    print(f"ratio ledger/baseline:    {m / b:.2f}")


if __name__ == "__main__":
    with embedded_postgres_server("settlement-bench-") as server:
        upgrade(server.get_uri())
        asyncio.run(main(server.get_uri()))
