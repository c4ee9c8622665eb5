"""Locking an FX rate, once per order: the quote is kept by the source under the order's key and recorded
in the workflow's history, so retries, replays and resets all convert at the same rate."""

from temporalio import activity

from activities.provider_errors import classified_provider_errors
from adapters.fx import FxRateSource
from domain import activity_names as act
from domain.fx import FxQuote
from domain.providers import FxLockRequest


class FxActivities:
    def __init__(self, source: FxRateSource):
        self._source = source

    @activity.defn(name=act.LOCK_FX_RATE)
    async def lock_fx_rate(self, request: FxLockRequest) -> FxQuote:
        async with classified_provider_errors():
            return await self._source.lock(request)
