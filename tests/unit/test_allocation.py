"""domain/allocation.py: exact splits whose parts always add up to the whole."""

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.allocation import allocate, percentage_of

amounts = st.integers(min_value=-10**15, max_value=10**15)
weight_lists = st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=20).filter(lambda ws: sum(ws) > 0)


@settings(deadline=None, max_examples=300)
@given(amounts, weight_lists)
def test_allocate_parts_sum_to_the_amount(amount, weights):
    parts = allocate(amount, weights)
    assert len(parts) == len(weights)
    assert sum(parts) == amount
    assert all(isinstance(p, int) for p in parts)


@settings(deadline=None, max_examples=200)
@given(amounts, weight_lists)
def test_allocate_is_deterministic(amount, weights):
    assert allocate(amount, list(weights)) == allocate(amount, list(weights))


@settings(deadline=None, max_examples=300)
@given(amounts, weight_lists)
def test_allocate_each_part_is_within_one_of_its_exact_share(amount, weights):
    total = sum(weights)
    for part, weight in zip(allocate(amount, weights), weights):
        exact = Fraction(amount * weight, total)
        assert abs(part - exact) < 1
        # the remainder goes up, never down: each part is its exact share floored or ceiled
        assert part in (exact.__floor__(), exact.__ceil__())


@settings(deadline=None, max_examples=200)
@given(amounts, weight_lists)
def test_allocate_gives_nothing_to_zero_weights(amount, weights):
    for part, weight in zip(allocate(amount, weights), weights):
        if weight == 0:
            assert part == 0


def test_allocate_ties_go_to_the_earliest_parts():
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(101, [1, 1, 1]) == [34, 34, 33]
    assert allocate(2, [1, 1, 1]) == [1, 1, 0]


def test_allocate_largest_remainder_wins():
    # exact shares 1.2 / 2.1 / 0.7 (of 4): floors 1 + 2 + 0 = 3, the leftover 1 goes to the 0.7
    assert allocate(4, [12, 21, 7]) == [1, 2, 1]


def test_allocate_exact_split_has_no_rounding():
    assert allocate(1000, [1, 3]) == [250, 750]
    assert allocate(0, [5, 5]) == [0, 0]


@pytest.mark.parametrize("weights", [[], [0, 0], [1, -1], [-3]])
def test_allocate_rejects_bad_weights(weights):
    with pytest.raises(ValueError):
        allocate(100, weights)


@pytest.mark.parametrize(
    ("amount", "basis_points", "expected"),
    [
        (5, 1000, 1),  # 0.5 -> 1 (half up)
        (15, 1000, 2),  # 1.5 -> 2
        (25, 1000, 3),  # 2.5 -> 3 (banker's rounding would give 2)
        (14, 1000, 1),  # 1.4 -> 1
        (16, 1000, 2),  # 1.6 -> 2
        (100, 800, 8),  # exact
        (3500, 800, 280),  # exact
        (1, 4999, 0),  # 0.4999 -> 0
        (2, 2500, 1),  # 0.5 -> 1
        (0, 800, 0),
        (12345, 0, 0),
    ],
)
def test_percentage_of_rounds_half_up(amount, basis_points, expected):
    assert percentage_of(amount, basis_points) == expected


@settings(deadline=None, max_examples=300)
@given(st.integers(min_value=0, max_value=10**15), st.integers(min_value=0, max_value=100_000))
def test_percentage_of_matches_decimal_half_up(amount, basis_points):
    reference = (Decimal(amount) * Decimal(basis_points) / Decimal(10_000)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    # Decimal's default 28-digit context is enough for these magnitudes
    assert percentage_of(amount, basis_points) == int(reference)


@pytest.mark.parametrize(("amount", "basis_points"), [(-1, 800), (100, -1)])
def test_percentage_of_rejects_negatives(amount, basis_points):
    with pytest.raises(ValueError):
        percentage_of(amount, basis_points)
