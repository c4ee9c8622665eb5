"""The order workflow's messages: its type, its query, its signal and its updates, each name beside its
payload. The names are on the wire (clients send them, histories record them): they never change."""

from enum import StrEnum

from pydantic import BaseModel, Field

from domain.after_sales import DisputeRequest, Resolution, SellerResponse
from domain.text import FreeText

# The workflow: started with a domain.order_state.OrderInput, ends with its OrderState.
WORKFLOW_TYPE = "OrderWorkflow"
# The query: the whole domain.order_state.OrderState.
STATE_QUERY = "state"
# The signal: a domain.order_state.FulfillmentEvent from the fulfillment network.
FULFILLMENT_EVENT_SIGNAL = "fulfillment_event"

# The signal: a BooksDiffer from the daily reconciliation, which found the order's books and the provider's apart.
BOOKS_DIFFER_SIGNAL = "books_differ"


class BooksDiffer(BaseModel):
    """The order waits for an operator (needs_attention) before any more of its money leaves."""

    run_id: str
    differences: list[str]


# Every update answers with the order's OrderState once it has taken effect.


class Role(StrEnum):
    """Who acts on an order: a token's role and an Actor's."""

    BUYER = "buyer"
    SELLER = "seller"
    OPERATOR = "operator"
    MARKETPLACE = "marketplace"


class Actor(BaseModel):
    role: Role
    sub: str


# The buyer confirms receipt; an operator retries a parked order. Input: the Actor.
CONFIRM_RECEIPT = "confirm_receipt"
RETRY = "retry"


class CancelRequest(BaseModel):
    actor: Actor
    reason: FreeText = Field("cancelled on request", max_length=500)


CANCEL = "cancel"


class OpenDispute(BaseModel):
    """The buyer disputes the order within the confirmation window."""

    actor: Actor
    dispute: DisputeRequest


OPEN_DISPUTE = "open_dispute"


class RespondToDispute(BaseModel):
    """The seller accepts the refund or answers with evidence."""

    actor: Actor
    response: SellerResponse


RESPOND_TO_DISPUTE = "respond_to_dispute"


class ResolveDispute(BaseModel):
    """An operator decides the dispute."""

    actor: Actor
    resolution: Resolution


RESOLVE_DISPUTE = "resolve_dispute"
