"""Fake activities for workflow tests: same names and types as the real ones, recording every call.

Scripting the outside world:
- `*_fails` flags (authorize, fulfillment, capture, void, cancel_fulfillment, payout, refund, credit,
  return) make a provider step fail for good (non-retryable `ProviderRejected`); flip them back
  before an operator retry.
- Calls are recorded by activity type (domain/activity_names.py): `steps(act.CAPTURE_PAYMENT)`; a provider call made
  with its bookkeeping (activities/booked.py, the real composition over these fakes) is recorded under its plain type.
- `transient[activity] = n` makes the next n calls of an activity fail with a retryable `ProviderUnavailable`
  (`post_ledger_entry`: as if the database went away).
- `ledger_conflicts` holds ledger idempotency keys whose posting fails for good (`LedgerConflict`).
- `read_model_rejects` makes every read-model write fail for good (`ReadModelRejected`).
- `hold(activity)` blocks an activity until the returned event is set; `arrived(activity)` waits until it is running.
"""

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.booked import booked_activities
from domain import activity_names as act
from domain import failures
from domain.fx import FxQuote
from domain.ledger import EntryRequest
from domain.order_state import OrderState
from domain.providers import (
    AuthorizationResult,
    AuthorizeRequest,
    CancelFulfillmentRequest,
    CancelFulfillmentResult,
    CaptureRequest,
    CreditRequest,
    FulfillmentOrderRequest,
    FxLockRequest,
    PayoutRequest,
    ProviderReference,
    RefundRequest,
    ReturnRequest,
    VoidRequest,
)


@dataclass
class FakeProviders:
    """Scripted outside world. Set the *_fails flags to make a step fail for good."""

    authorize_fails: bool = False
    fulfillment_fails: bool = False
    capture_fails: bool = False
    void_fails: bool = False
    cancel_fulfillment_fails: bool = False
    payout_fails: bool = False
    refund_fails: bool = False
    credit_fails: bool = False
    return_fails: bool = False
    network_already_shipped: bool = False  # the fulfillment network answers a cancel with "too late, shipped"
    transient: dict[str, int] = field(default_factory=dict)
    ledger_conflicts: set[str] = field(default_factory=set)
    read_model_rejects: bool = False
    # every attempt, successful or not: (step, idempotency key)
    calls: list[tuple[str, str]] = field(default_factory=list)
    # the request of every attempt: (step, request)
    requests: list[tuple[str, Any]] = field(default_factory=list)
    # ledger entries by key and the key of every posting that wrote one, in order (a repeat writes nothing)
    entries: dict[str, EntryRequest] = field(default_factory=dict)
    posted: list[str] = field(default_factory=list)
    recorded: list[OrderState] = field(default_factory=list)
    _gates: dict[str, asyncio.Event] = field(default_factory=dict)
    _arrivals: dict[str, asyncio.Event] = field(default_factory=dict)

    def hold(self, step: str) -> asyncio.Event:
        """Block `step` until the returned event is set."""
        self._gates[step] = asyncio.Event()
        self._arrivals[step] = asyncio.Event()
        return self._gates[step]

    async def arrived(self, step: str, timeout: float = 10.0) -> None:
        await asyncio.wait_for(self._arrivals[step].wait(), timeout)

    async def _enter(self, step: str, key: str, request: Any, fails: bool, message: str) -> None:
        self.calls.append((step, key))
        self.requests.append((step, request))
        if step in self._gates:
            self._arrivals[step].set()
            await self._gates[step].wait()
        if self.transient.get(step, 0) > 0:
            self.transient[step] -= 1
            raise ApplicationError(f"{step}: provider unavailable", type=failures.PROVIDER_UNAVAILABLE)
        if fails:
            raise ApplicationError(message, type=failures.PROVIDER_REJECTED, non_retryable=True)

    def activities(self) -> list:
        @activity.defn(name=act.AUTHORIZE_PAYMENT)
        async def authorize(request: AuthorizeRequest) -> AuthorizationResult:
            await self._enter(
                act.AUTHORIZE_PAYMENT, request.idempotency_key, request, self.authorize_fails, "payment processor rejects the request"
            )
            if request.payment_method == "pm_card_declined":
                return AuthorizationResult(approved=False, decline_code="card_declined")
            return AuthorizationResult(approved=True, authorization_id=f"auth_{request.order_id}")

        @activity.defn(name=act.CAPTURE_PAYMENT)
        async def capture(request: CaptureRequest) -> ProviderReference:
            await self._enter(act.CAPTURE_PAYMENT, request.idempotency_key, request, self.capture_fails, "capture refused")
            return ProviderReference(id=f"cap_{request.authorization_id}")

        @activity.defn(name=act.VOID_AUTHORIZATION)
        async def void(request: VoidRequest) -> ProviderReference:
            await self._enter(act.VOID_AUTHORIZATION, request.idempotency_key, request, self.void_fails, "void refused")
            return ProviderReference(id=f"void_{request.authorization_id}")

        @activity.defn(name=act.PAYOUT_SELLER)
        async def payout(request: PayoutRequest) -> ProviderReference:
            await self._enter(act.PAYOUT_SELLER, request.idempotency_key, request, self.payout_fails, "payout account rejects payouts")
            return ProviderReference(id=f"po_{request.order_id}")

        @activity.defn(name=act.REFUND_PAYMENT)
        async def refund(request: RefundRequest) -> ProviderReference:
            await self._enter(act.REFUND_PAYMENT, request.idempotency_key, request, self.refund_fails, "refund refused")
            return ProviderReference(id=f"re_{request.capture_id}_{request.amount}")

        @activity.defn(name=act.CREDIT_BUYER)
        async def credit(request: CreditRequest) -> ProviderReference:
            await self._enter(act.CREDIT_BUYER, request.idempotency_key, request, self.credit_fails, "credit refused")
            return ProviderReference(id=f"cr_{request.order_id}")

        @activity.defn(name=act.REQUEST_RETURN)
        async def request_return(request: ReturnRequest) -> ProviderReference:
            await self._enter(act.REQUEST_RETURN, request.idempotency_key, request, self.return_fails, "return refused")
            return ProviderReference(id=f"rma_{request.order_id}")

        @activity.defn(name=act.CREATE_FULFILLMENT_ORDER)
        async def create_fulfillment(request: FulfillmentOrderRequest) -> ProviderReference:
            await self._enter(
                act.CREATE_FULFILLMENT_ORDER,
                request.idempotency_key,
                request,
                self.fulfillment_fails,
                "fulfillment network rejects the order",
            )
            return ProviderReference(id=f"fo_{request.order_id}")

        @activity.defn(name=act.CANCEL_FULFILLMENT_ORDER)
        async def cancel_fulfillment(request: CancelFulfillmentRequest) -> CancelFulfillmentResult:
            await self._enter(
                act.CANCEL_FULFILLMENT_ORDER, request.idempotency_key, request, self.cancel_fulfillment_fails, "cannot cancel"
            )
            if self.network_already_shipped:
                return CancelFulfillmentResult(cancelled=False, shipped=True, detail="already shipped")
            return CancelFulfillmentResult(cancelled=True)

        @activity.defn(name=act.POST_LEDGER_ENTRY)
        async def post_ledger_entry(entry: EntryRequest) -> int:
            self.calls.append((act.POST_LEDGER_ENTRY, entry.idempotency_key))
            if self.transient.get(act.POST_LEDGER_ENTRY, 0) > 0:
                self.transient[act.POST_LEDGER_ENTRY] -= 1
                raise ApplicationError(f"{entry.idempotency_key}: the database went away", type="ConnectionDoesNotExistError")
            if entry.idempotency_key in self.ledger_conflicts:
                raise ApplicationError(f"{entry.idempotency_key}: conflicting postings", type=failures.LEDGER_CONFLICT, non_retryable=True)
            written = self.entries.get(entry.idempotency_key)
            if written is None:
                self.entries[entry.idempotency_key] = entry
                self.posted.append(entry.idempotency_key)
            elif written != entry:  # as db/ledger.py: a repeat writes nothing, a different entry under its key is refused
                raise ApplicationError(f"{entry.idempotency_key}: conflicting postings", type=failures.LEDGER_CONFLICT, non_retryable=True)
            return list(self.entries).index(entry.idempotency_key) + 1

        @activity.defn(name=act.RECORD_ORDER)
        async def record_order(state: OrderState) -> None:
            if self.read_model_rejects:
                raise ApplicationError(
                    "the read model refused the order: invalid byte sequence", type=failures.READ_MODEL_REJECTED, non_retryable=True
                )
            self.recorded.append(state)

        @activity.defn(name=act.LOCK_FX_RATE)
        async def lock_fx_rate(request: FxLockRequest) -> FxQuote:
            self.calls.append((act.LOCK_FX_RATE, request.order_id))
            return FxQuote(
                base=request.base,
                quote=request.quote,
                mid_rate=Decimal("1.10"),
                rate=Decimal("1.09"),
                spread_bps=91,
                source="fake",
                locked_at=datetime(2026, 1, 1, tzinfo=UTC),
            )

        bookable = {
            act.AUTHORIZE_PAYMENT: authorize,
            act.CAPTURE_PAYMENT: capture,
            act.PAYOUT_SELLER: payout,
            act.REFUND_PAYMENT: refund,
            act.CREDIT_BUYER: credit,
            act.CREATE_FULFILLMENT_ORDER: create_fulfillment,
        }
        return [
            *bookable.values(),
            *booked_activities(bookable, post_ledger_entry, record_order),
            void,
            request_return,
            cancel_fulfillment,
            post_ledger_entry,
            record_order,
            lock_fx_rate,
        ]

    def steps(self, name: str) -> list[str]:
        """Idempotency keys of every attempt of a step, in order."""
        return [key for step, key in self.calls if step == name]

    def request(self, name: str) -> Any:
        """The request of the last attempt of a step."""
        return [r for step, r in self.requests if step == name][-1]

    def balances(self) -> Counter:
        """Account code -> balance over every entry posted (postings flow into the account when positive)."""
        totals: Counter = Counter()
        for entry in self.entries.values():
            for p in entry.postings:
                totals[p.account.code] += p.amount
        return totals

    def recorded_statuses(self) -> list[str]:
        """Statuses written to the read model, consecutive repeats collapsed."""
        out: list[str] = []
        for s in self.recorded:
            if not out or out[-1] != s.status:
                out.append(s.status)
        return out
