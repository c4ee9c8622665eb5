"""Locking an FX rate: the quote becomes part of the workflow's history, so replays see the same rate."""

from temporalio import activity
from temporalio.exceptions import ApplicationError

from adapters.fx import FxRateSource, UnsupportedCurrencyPair
from domain import activity_names as act
from domain.fx import FxQuote
from domain.providers import FxLockRequest


class FxActivities:
    def __init__(self, source: FxRateSource):
        self._source = source

    @activity.defn(name=act.LOCK_FX_RATE)
    async def lock_fx_rate(self, request: FxLockRequest) -> FxQuote:
        try:
            return await self._source.quote(request.base, request.quote)
        except UnsupportedCurrencyPair as err:
            raise ApplicationError(str(err), type="InvalidRequest", non_retryable=True) from err
