"""domain/ledger.py: the entries each money movement writes balance per currency and carry stable keys."""

from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from domain import order_steps as steps
from domain.fees import Fees, compute_fees
from domain.ledger import (
    EntryKind,
    EntryRequest,
    Posting,
    capture_entry,
    entry_key,
    escrow,
    external_buyers,
    payout_entry,
    release_entry,
)
from domain.order_state import workflow_id_for

CURRENCIES = ["USD", "JPY", "KWD", "EUR", "XOF"]


def sums_per_currency(entry: EntryRequest) -> dict[str, int]:
    sums: dict[str, int] = defaultdict(int)
    for p in entry.postings:
        sums[p.account.currency] += p.amount
    return dict(sums)


def by_account(entry: EntryRequest) -> dict[str, int]:
    return {p.account.code: p.amount for p in entry.postings}


def test_keys_derive_from_the_workflow_id_and_step():
    """The keys' spelling is pinned in test_wire_names.py; here each builder uses its step's key."""
    wf = workflow_id_for("123")
    assert capture_entry(wf, "123", 100, "USD").idempotency_key == entry_key(wf, steps.CAPTURE.key)
    assert release_entry(wf, "123", "s1", 100, Fees(referral=10, fulfillment=0), "USD").idempotency_key == entry_key(wf, steps.RELEASE.key)
    assert payout_entry(wf, "123", "s1", 90, "USD").idempotency_key == entry_key(wf, steps.PAYOUT.key)


def test_builders_are_deterministic():
    fees = Fees(referral=280, fulfillment=500)
    assert release_entry(workflow_id_for("9"), "9", "s", 3500, fees, "USD") == release_entry(
        workflow_id_for("9"), "9", "s", 3500, fees, "USD"
    )


def test_capture_moves_the_amount_from_buyers_into_escrow():
    entry = capture_entry(workflow_id_for("1"), "1", 3500, "USD")
    assert entry.kind is EntryKind.CAPTURE and entry.order_id == "1"
    assert by_account(entry) == {"external:buyers:USD": -3500, "escrow:1:USD": 3500}
    assert sums_per_currency(entry) == {"USD": 0}
    assert entry.unbalanced_currencies() == []


def test_release_splits_escrow_into_fees_and_seller_share():
    entry = release_entry(workflow_id_for("1"), "1", "seller_1", 3500, Fees(referral=280, fulfillment=500), "USD")
    assert entry.kind is EntryKind.RELEASE
    assert by_account(entry) == {
        "escrow:1:USD": -3500,
        "platform:marketplace_fees:USD": 280,
        "fulfillment:fees_payable:USD": 500,
        "seller:seller_1:USD": 2720,
    }
    assert entry.unbalanced_currencies() == []


def test_release_with_zero_fees_omits_the_fee_postings():
    entry = release_entry(workflow_id_for("1"), "1", "seller_1", 3500, Fees(referral=0, fulfillment=0), "USD")
    assert by_account(entry) == {"escrow:1:USD": -3500, "seller:seller_1:USD": 3500}


def test_release_with_one_zero_fee_omits_only_that_posting():
    entry = release_entry(workflow_id_for("1"), "1", "s", 1000, Fees(referral=80, fulfillment=0), "JPY")
    assert set(by_account(entry)) == {"escrow:1:JPY", "platform:marketplace_fees:JPY", "seller:s:JPY"}


def test_release_where_fees_take_everything_omits_the_seller_posting():
    entry = release_entry(workflow_id_for("1"), "1", "s", 200, Fees(referral=0, fulfillment=200), "USD")
    assert by_account(entry) == {"escrow:1:USD": -200, "fulfillment:fees_payable:USD": 200}


def test_payout_moves_the_seller_balance_out():
    entry = payout_entry(workflow_id_for("1"), "1", "seller_1", 2720, "KWD")
    assert entry.kind is EntryKind.PAYOUT
    assert by_account(entry) == {"seller:seller_1:KWD": -2720, "external:payouts:KWD": 2720}
    assert entry.unbalanced_currencies() == []


def test_only_external_accounts_may_go_negative():
    capture = capture_entry(workflow_id_for("1"), "1", 100, "USD")
    release = release_entry(workflow_id_for("1"), "1", "s", 100, Fees(referral=30, fulfillment=0), "USD")
    payout = payout_entry(workflow_id_for("1"), "1", "s", 70, "USD")
    flags = {p.account.code: p.account.may_go_negative for e in (capture, release, payout) for p in e.postings}
    assert flags == {
        "external:buyers:USD": True,
        "escrow:1:USD": False,
        "platform:marketplace_fees:USD": False,
        "seller:s:USD": False,
        "external:payouts:USD": True,
    }
    assert escrow("1", "USD").owner == "order:1"


@settings(deadline=None, max_examples=300)
@given(
    amount=st.integers(min_value=1, max_value=10**13),
    units=st.integers(min_value=0, max_value=10**4),
    currency=st.sampled_from(CURRENCIES),
)
def test_capture_release_payout_balance_and_empty_escrow(amount, units, currency):
    fees = compute_fees(amount, units, currency)
    capture = capture_entry(workflow_id_for("p"), "p", amount, currency)
    release = release_entry(workflow_id_for("p"), "p", "s", amount, fees, currency)
    payout = payout_entry(workflow_id_for("p"), "p", "s", amount - fees.total, currency) if amount > fees.total else None
    entries = [e for e in (capture, release, payout) if e is not None]
    balances: dict[str, int] = defaultdict(int)
    for e in entries:
        assert sums_per_currency(e) == {currency: 0}
        assert all(p.amount != 0 for p in e.postings), "a zero posting would violate the schema's amount <> 0"
        for p in e.postings:
            balances[p.account.code] += p.amount
    assert balances[f"escrow:p:{currency}"] == 0
    assert balances[f"seller:s:{currency}"] == 0
    assert balances[f"platform:marketplace_fees:{currency}"] == fees.referral
    assert balances[f"external:buyers:{currency}"] == -amount
    assert balances[f"external:payouts:{currency}"] == amount - fees.total


def test_unbalanced_currencies_reports_each_offending_currency():
    entry = EntryRequest(
        idempotency_key="k",
        order_id="1",
        kind=EntryKind.CAPTURE,
        postings=[
            Posting(account=external_buyers("USD"), amount=-100),
            Posting(account=escrow("1", "USD"), amount=99),
            Posting(account=external_buyers("EUR"), amount=-5),
            Posting(account=escrow("1", "EUR"), amount=5),
            Posting(account=escrow("1", "JPY"), amount=1),
        ],
    )
    assert entry.unbalanced_currencies() == ["JPY", "USD"]


def test_entry_needs_a_key_and_two_postings():
    with pytest.raises(ValidationError):
        EntryRequest(
            idempotency_key="", order_id="1", kind=EntryKind.CAPTURE, postings=capture_entry(workflow_id_for("1"), "1", 1, "USD").postings
        )
    with pytest.raises(ValidationError):
        EntryRequest(idempotency_key="k", order_id="1", kind=EntryKind.CAPTURE, postings=[Posting(account=escrow("1", "USD"), amount=0)])
