"""What must hold once the chaos run is over: each order ended where its path ends, the payment provider
did each operation once (by its own listing, read through the payment adapter) and for the amounts the order
shows, and the books balance (db/invariants.py, given that listing: it also reconciles the ledger with it
for every order)."""

from collections import Counter, defaultdict

import httpx

from activities.reconciliation import provider_listing
from adapters.payments import SimulatedPaymentGateway
from db.invariants import check_invariants
from db.pool import create_pool
from domain.providers import ProviderOperation, ProviderOutcome, ProviderRecord
from tests.reliability.driver import OrderRun
from tests.reliability.paths import POOLED_SELLER
from tests.reliability.pooled import PooledSeller


def by_order(records: list[ProviderRecord], order_ids: list[str]) -> dict[str, list[ProviderRecord]]:
    """The provider's successful operations on the given orders, by order, but claims after the sale (the pooled
    seller's check counts those)."""
    wanted, grouped = set(order_ids), defaultdict(list)
    for record in records:
        after_the_sale = record.idempotency_key.startswith("claim:")
        if record.outcome == ProviderOutcome.SUCCEEDED and record.order_id in wanted and not after_the_sale:
            grouped[record.order_id].append(record)
    return grouped


def _moved(operations: list[ProviderRecord], kind: ProviderOperation) -> tuple[int, set[str | None]]:
    chosen = [op for op in operations if op.operation == kind]
    return sum(op.amount or 0 for op in chosen), {op.currency for op in chosen}


def order_problems(run: OrderRun, operations: list[ProviderRecord]) -> list[str]:
    """Why this order did not end as its path says, or []."""
    p, v = run.path, run.view
    problems = [run.failure] if run.failure else []
    if v is None:
        return problems + ["the API never showed the order"]
    if v["status"] != p.outcome:
        problems.append(f"ended {v['status']}, expected {p.outcome}")
    counts = dict(Counter(op.operation.value for op in operations))
    if counts != p.provider:
        keys = ", ".join(f"{op.operation} {op.idempotency_key}" for op in operations)
        problems.append(f"provider operations {counts}, expected {p.provider} ({keys})")
    if v["status"] != p.outcome:
        return problems
    a, total = v["amounts"], v["amounts"]["total"]
    expected = {
        ProviderOperation.AUTHORIZE: (total, v["currency"]),
        ProviderOperation.CAPTURE: (total, v["currency"]),
        ProviderOperation.REFUND: (a["refunded"], v["currency"]),
        ProviderOperation.PAYOUT: (v["settlement"]["paid_out"], v["settlement_currency"]),
    }
    for kind, (amount, currency) in expected.items():
        moved, currencies = _moved(operations, kind)
        if kind in p.provider and (moved, currencies) != (amount, {currency}):
            problems.append(f"provider {kind} {moved} {sorted(currencies)}, but the order shows {amount} {currency}")
    if a["refunded"] != p.refunded(total):
        problems.append(f"refunded {a['refunded']}, expected {p.refunded(total)}")
    if v["status"] == "settled" and a["captured"] != a["paid_out"] + a["fees"] + a["refunded"]:
        problems.append(f"captured {a['captured']} but paid out {a['paid_out']} + fees {a['fees']} + refunded {a['refunded']}")
    return problems


async def verify(
    database_url: str, provider: httpx.AsyncClient, runs: list[OrderRun], pooled: PooledSeller
) -> tuple[dict[str, list[str]], list[str], int]:
    """(problems by order id, and the pooled seller's; invariant violations, the provider's successful operations);
    `provider` is a client of the simulators' HTTP service."""
    pool = await create_pool(database_url)
    try:
        listing = await provider_listing(pool, SimulatedPaymentGateway(provider))  # the run is over: every record
        operations = by_order(listing.records, [r.order_id for r in runs])
        problems = {r.order_id: found for r in runs if (found := order_problems(r, operations.get(r.order_id, [])))}
        if found := pooled.problems(listing.records) + await pooled.evidence_problems():
            problems[f"seller {POOLED_SELLER}"] = found
        return problems, await check_invariants(pool, listing), sum(len(ops) for ops in operations.values())
    finally:
        await pool.close()
