"""domain/fees.py: referral (8 %, at least a minimum) and per-unit fulfillment fees, never more than the total."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.currency import exponent
from domain.fees import DEFAULT_FEE_SCHEDULE, Fees, FeeSchedule, compute_fees

SAMPLE_CURRENCIES = ["USD", "EUR", "GBP", "JPY", "KRW", "CLP", "XOF", "KWD", "BHD", "TND", "CHF", "INR", "OMR"]


@pytest.mark.parametrize(
    ("total", "units", "currency", "referral", "fulfillment"),
    [
        # USD (exponent 2): 2.50 per unit = 250 cents, referral min 0.30 = 30 cents
        (3500, 2, "USD", 280, 500),
        (1000, 1, "USD", 80, 250),
        (100, 0, "USD", 30, 0),  # 8 % is 8 cents: the minimum applies
        (375, 0, "USD", 30, 0),  # 8 % is exactly 30 cents
        (500, 0, "USD", 40, 0),
        (20, 0, "USD", 20, 0),  # the minimum is capped at the total
        (600, 1, "USD", 48, 250),
        (270, 1, "USD", 20, 250),  # referral capped at what the fulfillment fee leaves
        (200, 1, "USD", 0, 200),  # fulfillment fee capped at the total
        (0, 3, "USD", 0, 0),
        # JPY (exponent 0): its own fixed amounts, 350 yen per unit and a 30 yen minimum
        (10_000, 2, "JPY", 800, 700),
        (100, 0, "JPY", 30, 0),  # 8 % is 8 yen: the minimum applies
        (1_007, 0, "JPY", 81, 0),  # 8 % is 80.56 -> 81
        (200, 1, "JPY", 0, 200),  # fulfillment fee capped at the total
        # KWD (exponent 3): its own fixed amounts, 0.750 = 750 fils per unit, 0.100 = 100 fils minimum
        (100_000, 3, "KWD", 8_000, 2_250),
        (1_000, 0, "KWD", 100, 0),  # 8 % is 80 fils: the minimum applies
        (12_345, 1, "KWD", 988, 750),  # 8 % is 987.6 fils -> 988
        (800, 1, "KWD", 50, 750),  # referral capped at what the fulfillment fee leaves
    ],
)
def test_compute_fees_examples(total, units, currency, referral, fulfillment):
    fees = compute_fees(total, units, currency)
    assert fees == Fees(referral=referral, fulfillment=fulfillment)
    assert fees.total == referral + fulfillment


@pytest.mark.parametrize(("currency", "minimum"), [("USD", 30), ("JPY", 30), ("KWD", 100), ("EUR", 30), ("BHD", 100)])
def test_referral_minimum_applies_for_small_totals(currency, minimum):
    # a total whose 8 % is well under the minimum, but large enough to pay it
    total = minimum * 2
    assert compute_fees(total, 0, currency).referral == minimum


@settings(deadline=None, max_examples=500)
@given(
    total=st.integers(min_value=0, max_value=10**13),
    units=st.integers(min_value=0, max_value=10**6),
    currency=st.sampled_from(SAMPLE_CURRENCIES),
)
def test_fees_never_exceed_the_total(total, units, currency):
    fees = compute_fees(total, units, currency)
    assert isinstance(fees.referral, int) and isinstance(fees.fulfillment, int)
    assert fees.referral >= 0
    assert fees.fulfillment >= 0
    assert fees.total <= total
    seller_share = total - fees.total
    assert seller_share >= 0


@settings(deadline=None, max_examples=300)
@given(
    total=st.integers(min_value=0, max_value=10**13),
    units=st.integers(min_value=0, max_value=10**4),
    currency=st.sampled_from(SAMPLE_CURRENCIES),
)
def test_fees_follow_the_schedule_when_the_total_can_pay_them(total, units, currency):
    scale = 10 ** exponent(currency)
    fixed = DEFAULT_FEE_SCHEDULE.fixed(currency)
    per_unit = math.ceil(fixed.fulfillment_fee_per_unit * scale)  # rounded up to the minor unit
    minimum = math.ceil(fixed.referral_minimum * scale)
    fees = compute_fees(total, units, currency)
    assert fees.fulfillment == min(total, units * per_unit)
    if total - fees.fulfillment >= max(minimum, (total * 800 + 9_999) // 10_000):
        # enough left: the referral is 8 % (half up) but at least the minimum
        assert fees.referral >= minimum
        assert fees.referral == max(minimum, (total * 800 * 2 + 10_000) // 20_000)


@settings(deadline=None, max_examples=200)
@given(
    total=st.integers(min_value=0, max_value=10**12),
    units=st.integers(min_value=0, max_value=1000),
    currency=st.sampled_from(SAMPLE_CURRENCIES),
    bps=st.integers(min_value=0, max_value=10_000),
    minimum=st.decimals(min_value=0, max_value=1000, places=3),
    per_unit=st.decimals(min_value=0, max_value=1000, places=3),
)
def test_any_schedule_leaves_the_seller_a_non_negative_share(total, units, currency, bps, minimum, per_unit):
    schedule = FeeSchedule(referral_basis_points=bps, referral_minimum=minimum, fulfillment_fee_per_unit=per_unit)
    fees = compute_fees(total, units, currency, schedule)
    assert 0 <= fees.referral and 0 <= fees.fulfillment
    assert total - fees.total >= 0


def test_compute_fees_is_deterministic():
    assert compute_fees(12_345, 3, "USD") == compute_fees(12_345, 3, "USD", DEFAULT_FEE_SCHEDULE)


@pytest.mark.parametrize(("total", "units"), [(-1, 1), (100, -1)])
def test_compute_fees_rejects_negative_inputs(total, units):
    with pytest.raises(ValueError):
        compute_fees(total, units, "USD")


def test_compute_fees_rejects_unknown_currency():
    with pytest.raises(ValueError):
        compute_fees(1000, 1, "ABC")
