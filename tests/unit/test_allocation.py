"""domain/allocation.py: exact percentages, rounded half up once."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.allocation import percentage_of


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
