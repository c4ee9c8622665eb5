"""Reference rates for reporting (runtime/reference_rates.py, db/reference_rates.py): every convertible currency's
mid rate to the reporting currency, one quote per pair and hour, the latest kept, a source that cannot quote a pair
now leaving the others alone."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from db.reference_rates import kept_rates
from domain.currency import CONVERTIBLE
from domain.fx import FxQuote, crossed_rates
from domain.providers import FxLockRequest
from runtime.reference_rates import refresh

NOW = datetime(2026, 11, 20, 12, 34, tzinfo=UTC)


class Source:
    def __init__(self, refuse: set[str] = frozenset(), mid: Decimal = Decimal("1.25"), at: datetime = NOW):
        self.asked: list[FxLockRequest] = []
        self.refuse, self.mid, self.at = refuse, mid, at

    async def lock(self, request: FxLockRequest) -> FxQuote:
        self.asked.append(request)
        if request.base in self.refuse:
            raise RuntimeError("no quote for this pair now")
        return FxQuote(
            base=request.base, quote=request.quote, mid_rate=self.mid, rate=self.mid, spread_bps=0, source="test", locked_at=self.at
        )


async def test_every_convertible_currency_is_quoted_once_an_hour_to_the_reporting_one(fresh_pool):
    source = Source(refuse={"KRW"})

    kept = await refresh(fresh_pool, source, "USD", NOW)

    others = CONVERTIBLE - {"USD"}
    assert kept == len(others) - 1
    assert {r.base for r in source.asked} == others and {r.quote for r in source.asked} == {"USD"}
    assert {r.idempotency_key for r in source.asked if r.base == "EUR"} == {"reference:EUR:USD:2026-11-20T12"}
    rates = await kept_rates(fresh_pool, "USD")
    assert set(rates) == others - {"KRW"} and rates["EUR"] == (Decimal("1.25"), NOW)


async def test_a_later_quote_replaces_an_earlier_one_and_never_the_other_way(fresh_pool):
    hour = timedelta(hours=1)
    await refresh(fresh_pool, Source(mid=Decimal("1.10"), at=NOW), "GBP", NOW)
    later = Source(mid=Decimal("1.20"), at=NOW + hour)
    await refresh(fresh_pool, later, "GBP", NOW + hour)
    await refresh(fresh_pool, Source(mid=Decimal("9.99"), at=NOW - hour), "GBP", NOW + hour)  # a late answer to an old ask

    assert (await kept_rates(fresh_pool, "GBP"))["EUR"] == (Decimal("1.20"), NOW + hour)
    assert later.asked[0].idempotency_key.endswith(":GBP:2026-11-20T13")


async def test_another_reporting_currency_is_crossed_through_the_kept_one(fresh_pool):
    await refresh(fresh_pool, Source(mid=Decimal("2")), "CHF", NOW)  # every currency at 2 francs

    kept = await kept_rates(fresh_pool, "CHF")
    in_euros = crossed_rates(kept, "CHF", "EUR")

    assert in_euros["GBP"] == (Decimal("1"), NOW) and in_euros["CHF"] == (Decimal("0.5"), NOW)
    assert "EUR" not in in_euros
    assert crossed_rates(kept, "CHF", "XYZ") == {}
