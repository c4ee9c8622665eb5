"""Exact integer percentages of money: no floats, rounded once."""

from fractions import Fraction


def percentage_of(amount: int, basis_points: int) -> int:
    """amount * basis_points / 10_000, rounded half up to the minor unit (for non-negative amounts)."""
    if amount < 0 or basis_points < 0:
        raise ValueError("percentage_of takes non-negative amounts and rates")
    exact = Fraction(amount * basis_points, 10_000)
    return int(exact + Fraction(1, 2)) if exact.denominator != 1 else int(exact)
