"""The mechanics an order workflow is made of: transitions, waiting with deadlines, the read model, and
money steps that park in needs_attention when they fail for good. Each money movement is a provider call
and a ledger entry, both keyed `order-<id>:<step key>` (domain/order_steps.py). In runs where the books ride with
the steps (workflows/patches.py BOOKS_RIDE_WITH_STEPS), a provider call carries its ledger entries and the read-model
row of the status it leads to in its own activity (`booked_step`); older runs post and record in activities of
their own."""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import TypeAdapter

    from domain import activity_names as act
    from domain import failures, ledger
    from domain import order_steps as steps
    from domain.books import Booked, Books, ReferenceField
    from domain.fees import compute_fees
    from domain.fx import FxQuote
    from domain.order_state import Attention, OrderInput, OrderState, TimelineEntry
    from domain.providers import FxLockRequest, PayoutRequest, ProviderReference, RefundRequest
    from domain.search_attributes import ORDER_STATUS
    from domain.statuses import OrderStatus
    from workflows import patches
    from workflows.options import BOOKKEEPING, provider_call
    from workflows.requests import Requests

T = TypeVar("T")


# Failures that say for certain the provider did nothing (as opposed to a timeout or an outage).
DEFINITE_REFUSALS = {failures.PROVIDER_REJECTED}
# The step an order found at fault by the daily reconciliation waits at (Attention.step).
BOOKS_DIFFER_STEP = "daily reconciliation"


class OrderCancelled(Exception):
    def __init__(self, reason: str, even_if_shipped: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.even_if_shipped = even_if_shipped  # an operator's decision stands even if the goods have left


def rejected(message: str) -> ApplicationError:
    return ApplicationError(message, type=failures.INVALID_TRANSITION, non_retryable=True)


def no_change(state: OrderState) -> None:
    pass


@dataclass(frozen=True)
class Posting:
    """A ledger entry of a booked step: the label it parks under when posted on its own, and what it changes in the
    order's state once posted."""

    label: str
    entry: ledger.EntryRequest
    change: Callable[[OrderState], None] = no_change


@dataclass(frozen=True)
class Then:
    """The transition a booked step leads to when it succeeds: foreseen, so the step's activity records it, then
    made by the workflow with the same timeline entry. `change` is what the step changes in the state besides the
    provider's reference; it is applied to the foreseen copy and to the state alike."""

    status: OrderStatus
    detail: str
    change: Callable[[OrderState], None] = no_change


class OrderSteps:
    def __init__(self, order: OrderInput, state: OrderState, requests: Requests, on_transition: Callable[[], None]):
        self.order = order
        self.state = state
        self.requests = requests
        self._on_transition = on_transition  # the workflow applies the events kept for a later status
        self.books_ride = False  # set when the run starts: patches.books_ride()

    def key(self, step: str) -> str:
        return ledger.entry_key(self.state.workflow_id, step)

    def raise_if_cancelled(self) -> None:
        if self.requests.cancel is not None:
            raise OrderCancelled(self.requests.cancel.reason)

    async def wait_until(self, condition: Callable[[], bool], deadline: datetime) -> bool:
        """Wait for condition until the deadline (a durable timer); True when it holds."""
        remaining = deadline - workflow.now()
        if remaining <= timedelta(0):
            return condition()
        try:
            await workflow.wait_condition(condition, timeout=remaining)
        except TimeoutError:
            pass
        return condition()

    async def money_step(self, label: str, call: Callable[[], Awaitable[T]]) -> T:
        """Run a money step; when it fails for good, park in needs_attention until an operator acts."""
        while True:
            try:
                return await call()
            except ActivityError as err:
                await self._park_for(label, err)

    async def _park_for(self, label: str, err: ActivityError) -> None:
        definite = isinstance(err.cause, ApplicationError) and err.cause.type in DEFINITE_REFUSALS
        await self._park(label, str(err.cause or err), cancellable=definite and label in steps.CANCELLABLE)

    async def provider_step(self, step: steps.Step, request: Any, result_type: type[T]) -> T:
        """A provider call as a money step."""
        return await self.money_step(step.label, lambda: self._provider(step.activity, request, result_type))

    async def booked_step(
        self,
        step: steps.Step,
        request: Any,
        result_type: type[T],
        before: Sequence[Posting] = (),
        after: Sequence[Posting] = (),
        record_before: bool = False,
        reference_field: ReferenceField | None = None,
        then: Then | None = None,
    ) -> T:
        """A provider call as a money step with its bookkeeping in the same activity: entries posted `before` and
        `after` it, the read model written before it (`record_before`, with what the entries before change) and, when
        `then` is given, with the status the step leads to (that transition is made here once the step succeeds);
        `reference_field` takes the provider's reference. When the books fail before the call, the step is done the
        plain way, each part waiting for the database and parking under its own label when refused; after it, the
        books are finished that way, and the provider is never asked again."""

        def posted(state: OrderState) -> None:
            for p in before:
                p.change(state)

        while True:
            entry = TimelineEntry(at=workflow.now(), status=then.status, detail=then.detail) if then else None
            books = Books(
                before=[p.entry for p in before],
                after=[p.entry for p in after],
                record_before=self._changed(posted) if record_before else None,
                record_after=self._foreseen(then, entry, posted) if then and entry else None,
                reference_field=reference_field,
            )
            try:
                result: T = await workflow.execute_activity(
                    act.booked(step.activity),
                    Booked(request=request, books=books),
                    result_type=result_type,
                    **provider_call(self.order.provider_retry),
                )
                books_kept = True
                break
            except ActivityError as err:
                failure = err.cause.type if isinstance(err.cause, ApplicationError) else None
                if failure == failures.BOOKS_UNFINISHED and isinstance(err.cause, ApplicationError):
                    result = TypeAdapter(result_type).validate_python(err.cause.details[0])
                    books_kept = False
                    break
                if failure == failures.BOOKS_UNSTARTED:
                    for posting in before:
                        await self.ledger_step(posting.label, posting.entry)
                        posting.change(self.state)
                    if record_before:
                        await self.record()
                    result = await self.provider_step(step, request, result_type)
                    books_kept = False
                    break
                posted(self.state)  # the entries before the call were posted: the provider failed after them
                await self._park_for(step.label, err)
        posted(self.state)
        if reference_field and isinstance(result, ProviderReference):
            setattr(self.state, reference_field, result.id)
        if not books_kept:
            for posting in after:
                await self.ledger_step(posting.label, posting.entry)
                posting.change(self.state)
        if then:
            then.change(self.state)
            await self.transition(then.status, then.detail, record=not books_kept, entry=entry if books_kept else None)
            reference = result.id if isinstance(result, ProviderReference) else None
            if books_kept and self.state != books.recorded_after(reference):
                await self.record()  # signals or kept events changed the order while the step ran
        return result

    def _changed(self, change: Callable[[OrderState], None]) -> OrderState:
        state = self.state.model_copy(deep=True)
        change(state)
        return state

    def _foreseen(self, then: Then, entry: TimelineEntry, posted: Callable[[OrderState], None]) -> OrderState:
        state = self._changed(posted)
        then.change(state)
        state.status = then.status
        state.timeline.append(entry)
        return state

    async def ledger_step(self, label: str, entry: ledger.EntryRequest) -> int:
        """A ledger entry as a money step."""
        return await self.money_step(label, lambda: self._post(entry))

    async def _park(self, label: str, reason: str, cancellable: bool = False, record: bool = True) -> None:
        """Wait in needs_attention for an operator: returns when they retry, raises OrderCancelled when they cancel."""
        requests, resume = self.requests, self.state.status
        attention = Attention(step=label, reason=reason, resume_status=resume, cancellable=cancellable)
        self.state.attention = attention
        await self.transition(OrderStatus.NEEDS_ATTENTION, f"{label} failed: {reason}", record=record)
        await workflow.wait_condition(lambda: requests.retry or (requests.cancel is not None and attention.cancellable))
        self.state.attention = None
        if not requests.retry:
            await self.transition(resume, f"operator cancelled instead of retrying {label}")
            raise OrderCancelled(requests.cancel.reason if requests.cancel else "", even_if_shipped=True)
        requests.retry = False
        await self.transition(resume, f"operator retried {label}", record=record)

    async def wait_for_books(self) -> None:
        """When the daily reconciliation found the order's books and the provider's apart, wait for an operator
        before more of its money leaves (the differences are on the order's view, for operators only)."""
        if finding := self.requests.books_differ:
            self.requests.books_differ = None
            await self._park(BOOKS_DIFFER_STEP, f"run {finding.run_id} found the order's books and the provider's apart")

    async def disburse(
        self,
        step: steps.MoneyOut,
        request: Any,
        disbursement: ledger.Disbursement,
        legacy: ledger.EntryRequest,
        released: ledger.EntryRequest | None = None,
        on_release: Callable[[OrderState], None] = no_change,
        reference_field: ReferenceField | None = None,
        then: Then | None = None,
    ) -> None:
        """Money out: reserved in the ledger before the provider is called, settled once it has paid (its reference
        goes to `reference_field` at once). A second, different disbursement of money already gone (a reset
        that decides otherwise) is refused by the ledger here, before any provider call, and parks the order.
        With the books riding: `released`, the release of escrow this money comes from, is posted first in the same
        activity (`on_release`: what it changes in the state), which also records the order before the call when it
        does, and `then` after it. When the daily reconciliation found the order's books wrong, the order waits for an
        operator first."""
        await self.wait_for_books()
        if self.books_ride:
            reserve = Posting(step.reserve.label, disbursement.reserve)
            await self.booked_step(
                step.pay,
                request,
                ProviderReference,
                before=[Posting(steps.RELEASE.label, released, on_release), reserve] if released else [reserve],
                after=[Posting(step.settle.label, disbursement.settle)],
                record_before=released is not None,
                reference_field=reference_field,
                then=then,
            )
            return
        reserved = patches.applies(patches.LEDGER_BEFORE_PROVIDER)
        if reserved:
            await self.ledger_step(step.reserve.label, disbursement.reserve)
        ref = await self.provider_step(step.pay, request, ProviderReference)
        if reference_field:
            setattr(self.state, reference_field, ref.id)
        await self.ledger_step(step.settle.label, disbursement.settle if reserved else legacy)

    async def _provider(self, activity: str, request: Any, result_type: type[T]) -> T:
        result: T = await workflow.execute_activity(activity, request, result_type=result_type, **provider_call(self.order.provider_retry))
        return result

    async def _post(self, entry: ledger.EntryRequest) -> int:
        entry_id: int = await workflow.execute_activity(act.POST_LEDGER_ENTRY, entry, result_type=int, **BOOKKEEPING)
        return entry_id

    async def transition(
        self, status: OrderStatus, detail: str, record: bool = True, upsert: bool = True, entry: TimelineEntry | None = None
    ) -> None:
        """Move to `status`: the timeline (`entry` when a booked step foresaw it), the OrderStatus search attribute
        unless `upsert` is False, and the read model unless `record` is False."""
        self.state.status = status
        self.state.timeline.append(entry or TimelineEntry(at=workflow.now(), status=status, detail=detail))
        if upsert:
            workflow.upsert_search_attributes([ORDER_STATUS.value_set(status.value)])
        workflow.set_current_details(
            f"Order {self.state.order_id}: {self.state.amounts.total} {self.state.currency}, {status.value} ({detail})"
        )
        self._on_transition()
        if record:
            await self.record()

    async def record(self) -> None:
        """Write the read model. It retries while the database is away; a write the database refuses for good
        parks the order (it never retries forever, and never moves money)."""
        while True:
            try:
                await workflow.execute_activity(act.RECORD_ORDER, self.state, **BOOKKEEPING)
                return
            except ActivityError as err:
                await self._park(steps.RECORD_ORDER.label, str(err.cause or err), record=False)

    # ---- money movements after capture ----------------------------------------------------------

    async def refund(self, amount: int, step: steps.MoneyOut) -> None:
        o, s = self.order, self.state
        request = RefundRequest(
            idempotency_key=self.key(step.key), order_id=o.order_id, capture_id=s.capture_id or "", amount=amount, currency=o.currency
        )
        await self.disburse(
            step,
            request,
            ledger.refund_disbursement(s.workflow_id, o.order_id, amount, o.currency, step=step.key),
            legacy=ledger.refund_entry(s.workflow_id, o.order_id, amount, o.currency, step=step.key),
        )
        s.amounts.refunded += amount

    async def lock_fx(self) -> FxQuote | None:
        """Lock the order-to-settlement rate once (at capture), when the seller settles in another currency."""
        o, s = self.order, self.state
        if s.fx is None and o.currency != o.settlement_currency:
            request = FxLockRequest(
                idempotency_key=self.key(steps.LOCK_FX.key), order_id=o.order_id, base=o.currency, quote=o.settlement_currency
            )
            s.fx = await self.provider_step(steps.LOCK_FX, request, FxQuote)
        return s.fx

    async def pay_out(
        self,
        amount: int,
        step: steps.MoneyOut,
        released: ledger.EntryRequest | None = None,
        on_release: Callable[[OrderState], None] = no_change,
        then: Then | None = None,
    ) -> None:
        """Pay the seller `amount` of their settlement currency (`released`, `on_release` and `then` as in `disburse`)."""
        o, s = self.order, self.state
        currency = o.settlement_currency
        request = PayoutRequest(
            idempotency_key=self.key(step.key), order_id=o.order_id, seller_id=o.seller_id, amount=amount, currency=currency
        )

        await self.disburse(
            step,
            request,
            ledger.payout_disbursement(s.workflow_id, o.order_id, o.seller_id, amount, currency, step=step.key),
            legacy=ledger.payout_entry(s.workflow_id, o.order_id, o.seller_id, amount, currency, step=step.key),
            released=released,
            on_release=on_release,
            reference_field="payout_id" if s.payout_id is None else None,  # the first payout's reference stays
            then=then,
        )

    async def release_to_seller(self, detail: str) -> None:
        """payout_pending, then release what escrow holds: fees (on that amount) to their accounts, the rest paid to
        the seller. With the books riding, the payout's own activity records payout_pending; the search attribute
        skips it (the order waits in it only if the payout parks, and then needs_attention is upserted)."""
        await self.transition(OrderStatus.PAYOUT_PENDING, detail, record=not self.books_ride, upsert=not self.books_ride)
        o, s = self.order, self.state
        held = s.amounts.captured - s.amounts.refunded
        fees = o.fees if s.amounts.refunded == 0 else compute_fees(held, sum(i.quantity for i in o.items), o.currency)
        fx = await self.lock_fx()
        seller_share = held - fees.total
        settled = ledger.settled_amount(seller_share, fx)
        pooled = o.payout.pooled and patches.since_books_ride(patches.POOLED_PAYOUTS)
        hold = self._reserve_hold(settled) if pooled else None
        release = ledger.release_entry(s.workflow_id, o.order_id, o.seller_id, held, fees, o.currency, fx, hold)

        def fees_taken(state: OrderState) -> None:
            state.amounts.fees = fees.total

        def paid_out(state: OrderState) -> None:
            state.amounts.paid_out = seller_share
            state.settlement.paid_out = settled

        if pooled:
            await self.wait_for_books()  # the balance it goes to is paid out by the seller's workflow
            await self._release_to_balance(release, settled, fees_taken, paid_out)
            return
        if self.books_ride and settled > 0:
            then = Then(OrderStatus.SETTLED, "seller paid out", change=paid_out)
            await self.pay_out(settled, steps.PAYOUT, released=release, on_release=fees_taken, then=then)
            return
        await self.ledger_step(steps.RELEASE.label, release)
        fees_taken(s)
        if settled > 0:
            await self.pay_out(settled, steps.PAYOUT)
        paid_out(s)
        await self.transition(OrderStatus.SETTLED, "seller paid out" if settled > 0 else "fees took the whole amount; nothing to pay out")

    def _reserve_hold(self, settled: int) -> ledger.ReserveHold | None:
        terms = self.order.payout
        if not terms.hold(settled):
            return None
        until = workflow.now() + timedelta(days=terms.reserve_days)
        return ledger.ReserveHold(amount=terms.hold(settled), currency=self.order.settlement_currency, until=until)

    async def _release_to_balance(self, release: ledger.EntryRequest, settled: int, *changes: Callable[[OrderState], None]) -> None:
        """A pooled seller's share goes to their balance (its reserve held back); their payouts workflow pays it."""
        await self.ledger_step(steps.RELEASE.label, release)
        for change in changes:
            change(self.state)
        schedule = self.order.payout.schedule.value
        detail = f"released to the seller's balance, paid out {schedule}" if settled > 0 else "fees took the whole amount"
        await self.transition(OrderStatus.SETTLED, detail)
