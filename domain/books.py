"""The bookkeeping a provider call carries in its own activity (one Action instead of up to five): ledger entries
posted before the call (money reserved) and after it (money settled or captured), and the order's read-model row
written before the call (the step under way) and after it (the status the step leads to, with the provider's
reference in it). Every part is keyed and idempotent, so the activity as a whole is: a retry after a crash at any
point repeats the provider call under its key and writes nothing twice."""

from typing import Generic, Literal, TypeVar

from pydantic import BaseModel

from domain.ledger import EntryRequest
from domain.order_state import OrderState

Request = TypeVar("Request", bound=BaseModel)

# The OrderState field a provider's reference fills in when a step succeeds.
ReferenceField = Literal["fulfillment_order_id", "capture_id", "payout_id"]


class Books(BaseModel):
    before: list[EntryRequest] = []
    after: list[EntryRequest] = []
    record_before: OrderState | None = None
    record_after: OrderState | None = None
    reference_field: ReferenceField | None = None

    def recorded_after(self, reference_id: str | None) -> OrderState | None:
        """The row to write once the provider has answered: `record_after` with the provider's reference in it."""
        if self.record_after is None or self.reference_field is None or reference_id is None:
            return self.record_after
        return self.record_after.model_copy(update={self.reference_field: reference_id})


class Booked(BaseModel, Generic[Request]):
    """A provider request and the bookkeeping that rides with it (activity types named by activity_names.booked)."""

    request: Request
    books: Books = Books()
