"""What the order's buyer, operators and story have asked for and not yet seen through: the only mutable
state the workflow's parts share besides the OrderState itself."""

from dataclasses import dataclass

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.order_actions import BooksDiffer, CancelRequest


@dataclass
class Requests:
    cancel: CancelRequest | None = None
    # Why the pending cancel was refused (the goods had already left); it answers the cancel update.
    cancel_refused: str | None = None
    confirmed: bool = False
    retry: bool = False
    # From here on the fulfillment network may hold an order, even if its answer never reached us.
    fulfillment_requested: bool = False
    # The daily reconciliation found the order's books wrong: an operator looks before more money leaves.
    books_differ: BooksDiffer | None = None
