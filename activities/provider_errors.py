"""Turn an adapter's failure into the activity failure Temporal acts on."""

from contextlib import asynccontextmanager

from temporalio.exceptions import ApplicationError

from adapters.errors import ProviderRejected, ProviderUnavailable
from domain import failures


@asynccontextmanager
async def classified_provider_errors():
    try:
        yield
    except ProviderRejected as err:
        raise ApplicationError(str(err), type=failures.PROVIDER_REJECTED, non_retryable=True) from err
    except ProviderUnavailable as err:
        raise ApplicationError(str(err), type=failures.PROVIDER_UNAVAILABLE, next_retry_delay=err.retry_after) from err
