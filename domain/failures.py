"""Failure types: the `type` of the ApplicationError an activity or the order workflow raises. Retry
policies stop on them, the workflow parks on them and the API answers by them; they are recorded in
workflow histories, so they never change."""

# The workflow refuses an update in the order's current status (the API answers 409).
INVALID_TRANSITION = "InvalidTransition"
# The workflow refuses an update whose arguments are not its input model: the caller's mistake, not the order's
# status (the API always sends the model).
INVALID_UPDATE_INPUT = "InvalidUpdateInput"

# A provider refused the request for good (nothing happened there); retrying cannot help.
PROVIDER_REJECTED = "ProviderRejected"
# A provider is unreachable or overloaded for now: retried with backoff.
PROVIDER_UNAVAILABLE = "ProviderUnavailable"

# The ledger refuses an entry for good: its key exists with other postings, it does not balance, it would
# take an account that may not go negative below zero, or the database refused the write itself.
LEDGER_CONFLICT = "LedgerConflict"
LEDGER_UNBALANCED = "LedgerUnbalanced"
LEDGER_OVERDRAWN = "LedgerOverdrawn"
LEDGER_REJECTED = "LedgerRejected"

# The database refuses the order's read-model row for good.
READ_MODEL_REJECTED = "ReadModelRejected"

# A provider call made with its bookkeeping (domain/books.py) succeeded but the bookkeeping after it did not: the
# failure carries the provider's answer, and the workflow finishes the books in activities of their own, so the
# provider is never asked again.
BOOKS_UNFINISHED = "BooksUnfinished"

# The bookkeeping due before such a provider call failed, so the provider was not asked: the workflow does the step
# in activities of its own (each retried while the database is away, parking under its own label when refused).
BOOKS_UNSTARTED = "BooksUnstarted"

# The daily reconciliation found differences between the ledger and the payment provider's records.
BOOKS_DIFFER = "BooksDiffer"
