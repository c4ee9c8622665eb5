"""Every change to the workflow's shape made after histories existed, each behind `workflow.patched(<id>)`: histories
recorded before it replay the old way, new runs take the new way. The ids are recorded as markers in histories:
they never change (tests/unit/test_wire_names.py). Retire one with `workflow.deprecate_patch` once no running
order predates it."""

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
