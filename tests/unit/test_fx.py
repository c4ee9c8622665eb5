"""domain/fx.py and the FX postings of domain/ledger.py: exact conversion, balanced in every currency (sample
quotes from the simulated source's rates)."""

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.fees import compute_fees
from domain.fx import FxQuote, convert
from domain.ledger import reimbursement_entry, release_entry, settled_amount
from domain.order_state import workflow_id_for
from simulators import reference_rates

CURRENCIES = sorted(reference_rates.UNITS_PER_USD)
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def quote(base: str, target: str, spread_bps: int = 50) -> FxQuote:
    mid = reference_rates.mid_rate(base, target)
    return FxQuote(
        base=base,
        quote=target,
        mid_rate=mid,
        rate=reference_rates.client_rate(mid, spread_bps),
        spread_bps=spread_bps,
        source="test",
        locked_at=NOW,
    )


@pytest.mark.parametrize(
    ("amount", "source", "target", "rate", "expected"),
    [
        (4999, "EUR", "USD", Decimal("1.0869565217"), 5434),  # 54.3369... USD -> 5434 cents
        (1000, "USD", "JPY", Decimal("151.20"), 1512),  # 10.00 USD -> 1512 yen
        (1512, "JPY", "USD", Decimal("0.0066137566"), 1000),
        (1000, "USD", "KWD", Decimal("0.3075"), 3075),  # 10.00 USD -> 3.075 KWD = 3075 fils
        (5, "USD", "JPY", Decimal("151.20"), 8),  # 7.56 yen rounds half up to 8
        (0, "EUR", "USD", Decimal("1.1"), 0),
    ],
)
def test_convert_examples(amount, source, target, rate, expected):
    assert convert(amount, source, target, rate) == expected


@settings(deadline=None, max_examples=400)
@given(amount=st.integers(0, 10**12), base=st.sampled_from(CURRENCIES), target=st.sampled_from(CURRENCIES))
def test_convert_rounds_the_exact_product_half_up_once(amount, base, target):
    fx = quote(base, target)
    from domain.currency import exponent

    exact = Fraction(amount) * Fraction(fx.rate) * Fraction(10) ** (exponent(target) - exponent(base))
    converted = convert(amount, base, target, fx.rate)
    assert abs(Fraction(converted) - exact) <= Fraction(1, 2)
    assert converted == convert(amount, base, target, fx.rate)


@settings(deadline=None, max_examples=300)
@given(
    total=st.integers(1, 10**11),
    units=st.integers(1, 50),
    base=st.sampled_from(CURRENCIES),
    target=st.sampled_from(CURRENCIES),
    spread=st.integers(0, 500),
)
def test_release_balances_in_each_currency_and_pays_the_seller_the_converted_share(total, units, base, target, spread):
    fx = quote(base, target, spread)
    fees = compute_fees(total, units, base)
    entry = release_entry(workflow_id_for("x"), "x", "s1", total, fees, base, fx)
    sums: dict[str, int] = defaultdict(int)
    for p in entry.postings:
        sums[p.account.currency] += p.amount
    assert all(v == 0 for v in sums.values())
    seller = sum(p.amount for p in entry.postings if p.account.code.startswith("seller:"))
    assert seller == settled_amount(total - fees.total, fx)
    gain = sum(p.amount for p in entry.postings if "fx_gain_loss" in p.account.code)
    assert gain >= 0  # the client rate never beats the mid rate
    assert all(p.amount != 0 for p in entry.postings)


@settings(deadline=None, max_examples=200)
@given(amount=st.integers(1, 10**11), base=st.sampled_from(CURRENCIES), target=st.sampled_from(CURRENCIES))
def test_reimbursement_balances_in_each_currency(amount, base, target):
    entry = reimbursement_entry(workflow_id_for("x"), "x", "s1", amount, base, quote(base, target))
    sums: dict[str, int] = defaultdict(int)
    for p in entry.postings:
        sums[p.account.currency] += p.amount
    assert all(v == 0 for v in sums.values())


def test_same_currency_needs_no_fx_accounts():
    fees = compute_fees(3000, 2, "USD")
    entry = release_entry(workflow_id_for("x"), "x", "s1", 3000, fees, "USD", None)
    assert not any(p.account.code.startswith("fx:") for p in entry.postings)
    assert entry.memo is None
