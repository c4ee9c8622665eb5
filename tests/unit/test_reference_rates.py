"""simulators/reference_rates.py: the simulated FX source's mid rates and the client rate it quotes."""

from decimal import Decimal

from domain.currency import CONVERTIBLE
from simulators.reference_rates import client_rate, has_rate, mid_rate


def test_client_rate_is_mid_less_the_spread():
    assert client_rate(Decimal("1.0869565217"), 50) == Decimal("1.0815217391")
    assert client_rate(Decimal("2"), 0) == Decimal("2")


def test_cross_rates_go_through_usd():
    assert mid_rate("EUR", "USD") == (Decimal(1) / Decimal("0.92")).quantize(Decimal("1e-10"))
    assert mid_rate("GBP", "JPY") == (Decimal("151.20") / Decimal("0.79")).quantize(Decimal("1e-10"))
    assert mid_rate("NGN", "NGN") == 1


def test_the_source_quotes_only_the_currencies_of_its_table():
    assert has_rate("EUR", "JPY") and has_rate("NGN", "NGN")
    assert not has_rate("USD", "NGN") and not has_rate("NGN", "USD")


def test_the_source_quotes_every_pair_the_engine_converts():
    assert all(has_rate(base, quote) for base in CONVERTIBLE for quote in CONVERTIBLE)
