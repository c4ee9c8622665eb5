"""How a provider call failed: worth retrying, or not."""

from datetime import timedelta


class ProviderUnavailable(Exception):
    """The outcome is unknown or the provider is away (a timeout, a 5xx, a 408, a 409 for a request still in progress,
    a 429): ask again, under the same key, after `retry_after` when the provider said when."""

    def __init__(self, message: str, retry_after: timedelta | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class ProviderRejected(Exception):
    """The provider said for certain the operation did not happen (refused capture, rejected payout, key reuse)."""
