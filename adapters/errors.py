"""How a provider call failed: worth retrying, or not."""


class ProviderUnavailable(Exception):
    """A transient failure (timeout, 5xx, rate limit): retry with backoff."""


class ProviderRejected(Exception):
    """The provider refused the request for good (refused capture, rejected payout, key reuse)."""
