"""A provider call with its bookkeeping (activities/booked.py): the parts run in the plain steps' order; any failure
before the call is BooksUnstarted and the provider is not asked; once the provider has answered, any failure comes back
as BooksUnfinished carrying that answer, so the workflow never asks the provider again."""

from datetime import UTC, datetime, timedelta

import pytest
from temporalio.exceptions import ApplicationError

from activities.booked import booked_activities
from domain import activity_names as act
from domain import failures
from domain.books import Booked, Books
from domain.fees import compute_fees
from domain.ledger import capture_entry, payout_disbursement
from domain.order_request import Item
from domain.order_state import OrderInput, OrderState
from domain.providers import CaptureRequest, ProviderReference

NOW = datetime(2026, 11, 27, tzinfo=UTC)
ORDER = OrderInput(
    order_id="o-1",
    buyer_id="b",
    seller_id="s",
    marketplace="mk",
    currency="USD",
    settlement_currency="USD",
    items=[Item(sku="x", quantity=1, unit_price=1000)],
    shipping_fee=0,
    fees=compute_fees(1000, 1, "USD"),
    confirmation_window=timedelta(days=1),
    placed_at=NOW,
    payment_method="pm_card_visa",
    ship_by=NOW + timedelta(days=1),
    deliver_by=NOW + timedelta(days=2),
)
STATE = OrderState.initial(ORDER)
CAPTURE = CaptureRequest(idempotency_key="order-o-1:capture", authorization_id="auth_1", amount=1000, currency="USD")
RESERVE = payout_disbursement("order-o-1", "o-1", "s", 900, "USD", step="payout")
CAPTURED = capture_entry("order-o-1", "o-1", 1000, "USD", None)


class World:
    """The plain activities the booked ones are made of, writing what happens into one log."""

    def __init__(self, refuse: str | None = None, provider_fails: bool = False):
        self.log: list[str] = []
        self.rows: list[OrderState] = []
        self.refuse = refuse
        self.provider_fails = provider_fails

    async def capture(self, request: CaptureRequest) -> ProviderReference:
        self.log.append(f"provider {request.idempotency_key}")
        if self.provider_fails:
            raise ApplicationError("capture refused", type=failures.PROVIDER_REJECTED, non_retryable=True)
        return ProviderReference(id="cap_1")

    async def post(self, entry) -> int:
        self.log.append(f"post {entry.idempotency_key}")
        if entry.idempotency_key == self.refuse:
            raise ApplicationError("conflicting postings", type=failures.LEDGER_CONFLICT, non_retryable=True)
        return 1

    async def record(self, state: OrderState) -> None:
        self.log.append(f"record {state.status}")
        if self.refuse == f"record {state.status}":
            raise ApplicationError("refused", type=failures.READ_MODEL_REJECTED, non_retryable=True)
        self.rows.append(state)

    def booked_capture(self):
        [booked] = [
            a for a in booked_activities({name: self.capture for name in act.BOOKABLE}, self.post, self.record) if _name(a) == "capture"
        ]
        return booked


def _name(activity) -> str:
    return activity.__name__.removesuffix("_payment_booked")


def after_capture() -> OrderState:
    state = STATE.model_copy(deep=True)
    state.status = "in_transit"
    return state


BOOKS = Books(before=[RESERVE.reserve], after=[CAPTURED], record_before=STATE, record_after=after_capture(), reference_field="capture_id")


async def test_every_part_runs_in_order_and_the_last_row_carries_the_providers_reference():
    world = World()
    result = await world.booked_capture()(Booked(request=CAPTURE, books=BOOKS))
    assert result == ProviderReference(id="cap_1")
    assert world.log == [
        "post order-o-1:payout",
        "record payment_pending",
        "provider order-o-1:capture",
        "post order-o-1:capture",
        "record in_transit",
    ]
    assert [row.capture_id for row in world.rows] == [None, "cap_1"]


@pytest.mark.parametrize("refuse, cause", [("order-o-1:payout", "conflicting postings"), ("record payment_pending", "refused")])
async def test_a_failure_before_the_call_is_books_unstarted_and_the_provider_is_not_asked(refuse, cause):
    world = World(refuse=refuse)
    with pytest.raises(ApplicationError) as unstarted:
        await world.booked_capture()(Booked(request=CAPTURE, books=BOOKS))
    assert unstarted.value.type == failures.BOOKS_UNSTARTED and unstarted.value.non_retryable
    assert cause in str(unstarted.value)
    assert world.log[-1] == refuse.replace("order-o-1", "post order-o-1") and not any(line.startswith("provider") for line in world.log)


async def test_a_database_away_before_the_call_is_books_unstarted_too():
    """Not charged to the provider's retry budget: the workflow waits for the database in activities of its own."""

    async def away(entry) -> int:
        raise ConnectionResetError("the database went away")

    world = World()
    [booked] = [a for a in booked_activities({name: world.capture for name in act.BOOKABLE}, away, world.record) if _name(a) == "capture"]
    with pytest.raises(ApplicationError) as unstarted:
        await booked(Booked(request=CAPTURE, books=BOOKS))
    assert unstarted.value.type == failures.BOOKS_UNSTARTED and "went away" in str(unstarted.value)
    assert world.log == []


async def test_a_provider_failure_keeps_its_type():
    world = World(provider_fails=True)
    with pytest.raises(ApplicationError) as refused:
        await world.booked_capture()(Booked(request=CAPTURE, books=BOOKS))
    assert refused.value.type == failures.PROVIDER_REJECTED and refused.value.non_retryable
    assert "post order-o-1:capture" not in world.log


@pytest.mark.parametrize("refuse", ["order-o-1:capture", "record in_transit"])
async def test_after_the_provider_answered_any_failure_is_books_unfinished_with_the_answer(refuse):
    world = World(refuse=refuse)
    with pytest.raises(ApplicationError) as unfinished:
        await world.booked_capture()(Booked(request=CAPTURE, books=BOOKS))
    assert unfinished.value.type == failures.BOOKS_UNFINISHED and unfinished.value.non_retryable
    assert unfinished.value.details == (ProviderReference(id="cap_1"),)
    assert world.log.count("provider order-o-1:capture") == 1


async def test_with_no_books_it_is_the_plain_call():
    world = World()
    assert await world.booked_capture()(Booked(request=CAPTURE)) == ProviderReference(id="cap_1")
    assert world.log == ["provider order-o-1:capture"]
