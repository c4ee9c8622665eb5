"""Every change to the workflow's shape made after histories existed, each behind `workflow.patched(<id>)`: histories
recorded before it replay the old way, new runs take the new way. The ids are recorded as markers in histories:
they never change (tests/unit/test_wire_names.py). Retire one with `workflow.deprecate_patch` once no running
order predates it. Workflow code asks `applies(<id>)`, never `workflow.patched` itself."""

from temporalio import workflow

# The authorization is written to the read model as soon as it succeeds.
RECORD_AUTHORIZATION = "record-authorization"

# A cancel asks the fulfillment network first and stands only if the goods have not left (or an operator insists);
# the cancel update answers once the order is cancelled, refused, or parked for an operator.
CANCEL_AT_NETWORK_FIRST = "cancel-at-network-first"

# Money out is reserved in the ledger before the provider is called (histories before this paid first).
LEDGER_BEFORE_PROVIDER = "ledger-before-provider"

# The buyer's confirmation window counts from no earlier than when the engine learns of the delivery, so a
# backdated `delivered` event cannot shorten it.
CONFIRM_WINDOW_FROM_LEARNING = "confirm-window-from-learning"

# A lost, damaged or return event that arrives before it can apply is kept and applied later, not dropped.
KEEP_EARLY_EVENTS = "keep-early-events"

# Bookkeeping rides with the provider call it belongs to (domain/books.py): a money step's ledger entries and the
# read-model row of the status it leads to are written by the step's own activity. Runs begun under it take every
# change above as made without recording their markers, so a new run records this one marker only.
BOOKS_RIDE_WITH_STEPS = "books-ride-with-steps"

# Patches from here on are asked on their own (`since_books_ride`): a run begun under books-ride-with-steps may
# have been started by a worker that predates them.

# An order whose seller is paid on a pooled schedule releases the seller's share to their balance (less any
# reserve) and is settled; the seller payouts workflow pays the balance. Asked only by such orders.
POOLED_PAYOUTS = "pooled-payouts"


def books_ride() -> bool:
    """Whether this run keeps its books in its provider steps. Asked first when the run starts, so the marker is in
    the run's first workflow task and a run recorded before it replays without."""
    return workflow.patched(BOOKS_RIDE_WITH_STEPS)


def applies(patch_id: str) -> bool:
    """Whether this run takes the change `patch_id` guards."""
    return books_ride() or workflow.patched(patch_id)


def since_books_ride(patch_id: str) -> bool:
    """Whether this run takes `patch_id`, a change made after books-ride-with-steps."""
    return workflow.patched(patch_id)
