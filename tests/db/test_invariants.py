"""db/invariants.py check_invariants on a database of its own: sound books give [], each corruption is reported.

The payment provider's side is a listing of its records (what the payment adapter's `records` returns), kept
here in memory: the check reads no provider's tables. On a live system the listing and the ledger are read at
different moments; the last tests replay such races and show that the comparison as of the listing's cut
reports none of them, and still reports a real drift.
"""

from datetime import UTC, datetime

import asyncpg
import pytest

from db.invariants import check_invariants, database_now
from db.ledger import post_entry
from db.read_model import record_order
from domain.fees import compute_fees
from domain.ledger import capture_entry, payout_disbursement, payout_entry, refund_disbursement, release_entry
from domain.order_state import Amounts, workflow_id_for
from domain.providers import ProviderListing, ProviderOperation, ProviderOutcome, ProviderRecord
from tests.db.factories import order_state

TOTAL = 3500
FEES = compute_fees(TOTAL, 2, "USD")
SHARE = TOTAL - FEES.total


AUTHORIZE, CAPTURE, PAYOUT, REFUND = (
    ProviderOperation.AUTHORIZE,
    ProviderOperation.CAPTURE,
    ProviderOperation.PAYOUT,
    ProviderOperation.REFUND,
)


class Provider:
    """The payment provider's own records, by idempotency key, each stamped when added."""

    def __init__(self) -> None:
        self.by_key: dict[str, ProviderRecord] = {}

    def add(
        self, key: str, operation: ProviderOperation, order_id: str, amount: int, outcome: ProviderOutcome = ProviderOutcome.SUCCEEDED
    ) -> None:
        self.by_key[key] = ProviderRecord(
            id=f"ref_{key}",
            idempotency_key=key,
            operation=operation,
            order_id=order_id,
            outcome=outcome,
            amount=amount,
            currency="USD",
            created_at=datetime.now(UTC),
        )

    def remove(self, key: str) -> None:
        del self.by_key[key]

    def set_outcome(self, key: str, outcome: ProviderOutcome) -> None:
        self.by_key[key] = self.by_key[key].model_copy(update={"outcome": outcome})

    def records(self) -> list[ProviderRecord]:
        return list(self.by_key.values())


async def check(pool, provider: Provider) -> list[str]:
    """The books reconciled as of now with every record the provider holds."""
    return await check_invariants(pool, ProviderListing(until=await database_now(pool), records=provider.records()))


async def settle(pool, provider: Provider, order: str, seller: str) -> None:
    """A whole happy path as the workflow would leave it: ledger, provider records and a settled read model."""
    wf = workflow_id_for(order)
    provider.add(f"{wf}:authorize", AUTHORIZE, order, TOTAL)
    provider.add(f"{wf}:capture", CAPTURE, order, TOTAL)
    await post_entry(pool, capture_entry(wf, order, TOTAL, "USD", seller_id=seller))
    await post_entry(pool, release_entry(wf, order, seller, TOTAL, FEES, "USD"))
    provider.add(f"{wf}:payout", PAYOUT, order, SHARE)
    await post_entry(pool, payout_entry(wf, order, seller, SHARE, "USD"))
    amounts = Amounts(total=TOTAL, authorized=TOTAL, captured=TOTAL, fees=FEES.total, paid_out=SHARE)
    await record_order(pool, order_state(order, seller_id=seller, steps=6, amounts=amounts))


@pytest.fixture(scope="module")
def provider() -> Provider:
    return Provider()


@pytest.fixture(scope="module")
async def books(fresh_pool, provider):
    """Two settled orders and one still in escrow (not terminal, so it may hold money)."""
    assert await check(fresh_pool, provider) == []  # an empty database is sound
    await settle(fresh_pool, provider, "settled-1", "seller-a")
    await settle(fresh_pool, provider, "settled-2", "seller-b")
    await record_order(
        fresh_pool, order_state("open-1", seller_id="seller-a", steps=3, amounts=Amounts(total=TOTAL, authorized=TOTAL, captured=TOTAL))
    )
    provider.add("order-open-1:capture", CAPTURE, "open-1", TOTAL)
    await post_entry(fresh_pool, capture_entry("order-open-1", "open-1", TOTAL, "USD", seller_id="seller-a"))
    return fresh_pool


async def test_sound_books_have_no_violations(books, provider):
    assert await check(books, provider) == []


async def test_without_the_provider_s_records_the_ledger_alone_is_checked(books, provider):
    """`settlement check-invariants --no-simulator`: no listing, no reconciliation (and no drift reported)."""
    provider.add("order-settled-2:capture:retry-7", CAPTURE, "settled-2", TOTAL)
    try:
        assert await check(books, provider) != []
        assert await check_invariants(books) == []
    finally:
        provider.remove("order-settled-2:capture:retry-7")


async def test_terminal_order_holding_escrow_is_reported(books, provider):
    # a settled orders row for an order whose money is still in escrow (written by SQL, as a buggy writer might)
    provider.add("order-bad-1:capture", CAPTURE, "bad-1", TOTAL)
    await post_entry(books, capture_entry("order-bad-1", "bad-1", TOTAL, "USD", seller_id="s"))
    state = order_state("bad-1", steps=6, amounts=Amounts(total=TOTAL, captured=TOTAL, fees=FEES.total, paid_out=SHARE))
    await books.execute(
        "INSERT INTO orders (order_id, workflow_id, status, buyer_id, seller_id, marketplace, currency, total, version, placed_at, state) "
        "VALUES ($1, $2, 'settled', 'b', 's', 'm', 'USD', $3, 6, $4, $5)",
        "bad-1",
        "order-bad-1",
        TOTAL,
        state.placed_at,
        state.model_dump(mode="json"),
    )
    try:
        violations = await check(books, provider)
        assert f"order bad-1 is settled but holds {TOTAL} in escrow" in violations
        assert all("bad-1" in v for v in violations), violations
    finally:
        await books.execute("DELETE FROM orders WHERE order_id = 'bad-1'")
    assert await check(books, provider) == []


async def test_amounts_that_do_not_add_up_are_reported(books, provider):
    amounts = Amounts(total=TOTAL, captured=TOTAL, fees=FEES.total, paid_out=SHARE - 1)
    state = order_state("settled-1", seller_id="seller-a", steps=6, amounts=amounts).model_dump(mode="json")
    original = await books.fetchval("SELECT state FROM orders WHERE order_id = 'settled-1'")
    await books.execute("UPDATE orders SET state = $1 WHERE order_id = 'settled-1'", state)
    try:
        violations = await check(books, provider)
        assert violations == [f"order settled-1 captured {TOTAL} but paid out, took as fees and refunded {TOTAL - 1}"]
    finally:
        await books.execute("UPDATE orders SET state = $1 WHERE order_id = 'settled-1'", original)
    assert await check(books, provider) == []


async def test_balance_that_differs_from_its_postings_is_reported(books, provider):
    # balances are the one ledger column the immutability triggers do not guard
    await books.execute("UPDATE ledger_accounts SET balance = balance + 5 WHERE code = 'platform:marketplace_fees:USD'")
    try:
        violations = await check(books, provider)
        assert "account platform:marketplace_fees:USD balance 565 differs from its postings 560" in violations
        assert "balances in USD sum to 5" in violations
    finally:
        await books.execute("UPDATE ledger_accounts SET balance = balance - 5 WHERE code = 'platform:marketplace_fees:USD'")
    assert await check(books, provider) == []


async def test_negative_balance_of_a_non_negative_account_is_reported(books, provider):
    code = "seller:seller-a:USD"
    with pytest.raises(asyncpg.CheckViolationError):
        await books.execute("UPDATE ledger_accounts SET balance = -1 WHERE code = $1", code)
    # this module owns its database: lift the CHECK constraint to plant the corruption the check must see
    await books.execute("ALTER TABLE ledger_accounts DROP CONSTRAINT balance_not_negative")
    try:
        await books.execute("UPDATE ledger_accounts SET balance = -1 WHERE code = $1", code)
        violations = await check(books, provider)
        assert f"account {code} is negative (-1)" in violations
        assert f"account {code} balance -1 differs from its postings 0" in violations
        assert "balances in USD sum to -1" in violations
    finally:
        await books.execute("UPDATE ledger_accounts SET balance = 0 WHERE code = $1", code)
        await books.execute("ALTER TABLE ledger_accounts ADD CONSTRAINT balance_not_negative CHECK (may_go_negative OR balance >= 0)")
    assert await check(books, provider) == []


async def test_duplicate_provider_capture_is_reported(books, provider):
    provider.add("order-settled-2:capture:retry-7", CAPTURE, "settled-2", TOTAL)
    try:
        violations = await check(books, provider)
        assert "order settled-2: 2 successful capture operations at the provider" in violations
        assert f"order settled-2: provider captured {2 * TOTAL} but the ledger holds {TOTAL} as captured" in violations
    finally:
        provider.remove("order-settled-2:capture:retry-7")
    assert await check(books, provider) == []


async def test_unsuccessful_provider_operations_do_not_count(books, provider):
    provider.add("order-settled-2:capture:declined", CAPTURE, "settled-2", TOTAL, outcome=ProviderOutcome.DECLINED)
    try:
        assert await check(books, provider) == []
    finally:
        provider.remove("order-settled-2:capture:declined")


async def test_ledger_capture_without_provider_capture_is_reported(books, provider):
    provider.set_outcome("order-settled-1:capture", ProviderOutcome.DECLINED)
    try:
        violations = await check(books, provider)
        assert violations == [f"order settled-1: provider captured 0 but the ledger holds {TOTAL} as captured"]
    finally:
        provider.set_outcome("order-settled-1:capture", ProviderOutcome.SUCCEEDED)
    assert await check(books, provider) == []


async def test_an_open_order_refunded_at_the_provider_without_the_ledger_is_reported(books, provider):
    """Reconciliation covers open orders: a refund the ledger never reserved is a drift while the order is open."""
    provider.add("order-open-1:refund", REFUND, "open-1", 1000)
    try:
        assert await check(books, provider) == ["order open-1: provider refund 1000 but the ledger reserved 0 and settled 0"]
    finally:
        provider.remove("order-open-1:refund")
    assert await check(books, provider) == []


async def test_money_in_flight_on_an_open_order_is_not_a_drift(fresh_pool, provider):
    """Captured at the provider before the ledger records it, or reserved before the provider refunds: in flight."""
    wf = workflow_id_for("open-2")
    await record_order(fresh_pool, order_state("open-2", steps=3, amounts=Amounts(total=TOTAL, authorized=TOTAL, captured=TOTAL)))
    provider.add(f"{wf}:capture", CAPTURE, "open-2", TOTAL)
    assert await check(fresh_pool, provider) == []
    await post_entry(fresh_pool, capture_entry(wf, "open-2", TOTAL, "USD", seller_id="seller_1"))
    refund = refund_disbursement(wf, "open-2", TOTAL, "USD")
    await post_entry(fresh_pool, refund.reserve)
    assert await check(fresh_pool, provider) == []
    provider.add(f"{wf}:refund", REFUND, "open-2", TOTAL)
    assert await check(fresh_pool, provider) == []
    await post_entry(fresh_pool, refund.settle)
    assert await check(fresh_pool, provider) == []
    provider.add(f"{wf}:refund:again", REFUND, "open-2", TOTAL)  # the provider refunded twice
    try:
        assert await check(fresh_pool, provider) == [
            f"order open-2: provider refund {2 * TOTAL} but the ledger reserved {TOTAL} and settled {TOTAL}"
        ]
    finally:
        provider.remove(f"{wf}:refund:again")
    assert await check(fresh_pool, provider) == []


async def test_a_payout_between_the_two_reads_is_no_drift(books, provider):
    """The cut is taken and the listing read; meanwhile the provider pays the seller out (its record committing too
    late for the listing), the ledger settles the payout and the order is settled; then the ledger is read."""
    order, wf = "race-1", workflow_id_for("race-1")
    provider.add(f"{wf}:authorize", AUTHORIZE, order, TOTAL)
    provider.add(f"{wf}:capture", CAPTURE, order, TOTAL)
    await post_entry(books, capture_entry(wf, order, TOTAL, "USD", seller_id="seller-r"))
    await post_entry(books, release_entry(wf, order, "seller-r", TOTAL, FEES, "USD"))
    payout = payout_disbursement(wf, order, "seller-r", SHARE, "USD")
    await post_entry(books, payout.reserve)
    paying = Amounts(total=TOTAL, authorized=TOTAL, captured=TOTAL, fees=FEES.total)
    await record_order(books, order_state(order, seller_id="seller-r", steps=5, amounts=paying))
    provider.add(f"{wf}:payout", PAYOUT, order, SHARE)  # its transaction starts (and stamps it) before the cut...
    until = await database_now(books)
    listed = [r for r in provider.records() if r.idempotency_key != f"{wf}:payout"]  # ...and commits after the listing is read
    await post_entry(books, payout.settle)
    settled = paying.model_copy(update={"paid_out": SHARE})
    await record_order(books, order_state(order, seller_id="seller-r", steps=6, amounts=settled))

    assert await check_invariants(books, ProviderListing(until=until, records=listed)) == []
    assert await check_invariants(books, ProviderListing(until=until, records=provider.records())) == []
    # without the cut (as of after the ledger's read) the listing would be behind: the race is real
    assert await check_invariants(books, ProviderListing(until=await database_now(books), records=listed)) == [
        f"order {order}: provider payout 0 but the ledger reserved {SHARE} and settled {SHARE}"
    ]
    assert await check(books, provider) == []


async def test_a_refund_between_the_two_reads_is_no_drift_and_a_real_drift_shows_at_the_next_check(books, provider):
    """The ledger side is cut, then the ledger reserves a refund and the provider makes it, and a refund the ledger
    never reserved is made too; the listing, read after all that, holds both."""
    order, wf = "race-2", workflow_id_for("race-2")
    provider.add(f"{wf}:authorize", AUTHORIZE, order, TOTAL)
    provider.add(f"{wf}:capture", CAPTURE, order, TOTAL)
    await post_entry(books, capture_entry(wf, order, TOTAL, "USD", seller_id="seller_1"))
    await record_order(books, order_state(order, steps=3, amounts=Amounts(total=TOTAL, authorized=TOTAL, captured=TOTAL)))
    until = await database_now(books)
    refund = refund_disbursement(wf, order, 1000, "USD")
    await post_entry(books, refund.reserve)
    provider.add(f"{wf}:refund", REFUND, order, 1000)
    provider.add(f"{wf}:refund:rogue", REFUND, order, 500)

    assert await check_invariants(books, ProviderListing(until=until, records=provider.records())) == []
    try:
        assert await check(books, provider) == [f"order {order}: provider refund 1500 but the ledger reserved 1000 and settled 0"]
    finally:
        provider.remove(f"{wf}:refund:rogue")
    assert await check(books, provider) == []
