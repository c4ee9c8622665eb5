"""Exact integer arithmetic for splitting money: parts always add up to the whole."""

from fractions import Fraction


def percentage_of(amount: int, basis_points: int) -> int:
    """amount * basis_points / 10_000, rounded half up to the minor unit (for non-negative amounts)."""
    if amount < 0 or basis_points < 0:
        raise ValueError("percentage_of takes non-negative amounts and rates")
    exact = Fraction(amount * basis_points, 10_000)
    return int(exact + Fraction(1, 2)) if exact.denominator != 1 else int(exact)


def allocate(amount: int, weights: list[int]) -> list[int]:
    """Split amount in proportion to weights (largest remainder, ties to the earliest part).

    The parts sum to amount exactly; the same inputs always give the same parts.
    """
    if not weights or any(w < 0 for w in weights) or sum(weights) == 0:
        raise ValueError("weights must be non-negative and not all zero")
    total = sum(weights)
    shares = [Fraction(amount * w, total) for w in weights]
    parts = [int(s // 1) for s in shares]
    leftover = amount - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-(shares[i] - parts[i]), i))
    for i in order[:leftover]:
        parts[i] += 1
    return parts
