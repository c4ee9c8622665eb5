"""The payment gateway on Stripe Connect, with separate charges and transfers.

The buyer's card is authorized by a PaymentIntent that is captured later (manual capture); its `transfer_group`
is the order id, which ties the seller's money to the charge. A seller is paid in two steps: a Transfer to the
seller's connected account, then a Payout from that account to the seller's bank (the connected account must be
on manual payouts). Every call that creates or changes something sends the engine's idempotency key as Stripe's,
unchanged, and the SDK's own retries are off: Temporal retries the activity under the same key. Stripe keeps a
key's result for 24 hours only, so refunds, transfers and payouts also carry the key in their metadata, and each
is looked for (among the payment's refunds, the order's transfers, the connected account's payouts since the
transfer) before it is made: an operator's retry days later finds the money already moved.

Amounts are minor units, as Stripe takes them (Stripe's few currencies with special rules are not handled here).

Stripe cannot push a credit to a buyer's card, so `credit` is always refused for certain, and the engine parks
the order for an operator.

Failures: only an answer that says for certain that nothing happened is a ProviderRejected. Everything else is a
ProviderUnavailable and the call is made again: connection failures, timeouts, 5xx, 429 (after its Retry-After),
and 409 (another request under the same key is still in progress).
"""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from math import ceil, floor
from typing import Any, TypeVar

import httpx
import stripe

from adapters.errors import ProviderRejected, ProviderUnavailable
from adapters.http_client import retry_after
from domain.chargebacks import EvidenceSubmission
from domain.providers import (
    AuthorizationResult,
    AuthorizeRequest,
    CaptureRequest,
    CreditRequest,
    PayoutRequest,
    ProviderOperation,
    ProviderOutcome,
    ProviderRecord,
    ProviderRecordQuery,
    ProviderReference,
    RefundRequest,
    VoidRequest,
)

T = TypeVar("T")
Listed = TypeVar("Listed", stripe.Refund, stripe.Transfer, stripe.Payout)

# Stripe's errors that say for certain the request did nothing (unless the status is 409, see provider_error).
# A rejected or revoked key (401, 403) is not among them: it says nothing of the payment, and a capture refused for
# it must not look cancellable. It is asked again, and parks the order once the retries run out.
DEFINITE_REFUSALS = (
    stripe.CardError,
    stripe.InvalidRequestError,
    stripe.IdempotencyError,
)
# Money that leaves the platform carries the engine's key here too (below: why).
KEY_IN_METADATA = "idempotency_key"
# The largest page Stripe's list endpoints give.
LISTING_PAGE_SIZE = 100
# Refunds that moved the money or are on their way; failed, canceled and requires_action ones did not.
REFUND_MOVED = frozenset({"succeeded", "pending"})


def stripe_client(api_key: str, http_client: stripe.HTTPClient | None = None) -> stripe.StripeClient:
    """A client for StripePaymentGateway: asynchronous HTTP, and no retries of its own (Temporal retries)."""
    return stripe.StripeClient(api_key, http_client=http_client or stripe.HTTPXClient(), max_network_retries=0)


def provider_error(err: stripe.StripeError, operation: str) -> ProviderRejected | ProviderUnavailable:
    """Stripe's error as the engine's: a rejection only when Stripe said for certain that nothing happened."""
    message = f"Stripe {operation}: {type(err).__name__} (HTTP {err.http_status}): {err}"
    if err.http_status == 409 or not isinstance(err, DEFINITE_REFUSALS):
        return ProviderUnavailable(message, retry_after=retry_after(httpx.Response(err.http_status or 503, headers=err.headers)))
    return ProviderRejected(message)


async def _answer(operation: str, call: Awaitable[T]) -> T:
    try:
        return await call
    except stripe.StripeError as err:
        raise provider_error(err, operation) from err


def _key(idempotency_key: str) -> stripe.RequestOptions:
    return {"idempotency_key": idempotency_key}


class StripePaymentGateway:
    def __init__(self, client: stripe.StripeClient, connected_account: Callable[[str], Awaitable[str | None]]):
        self._stripe = client.v1
        self._connected_account = connected_account

    async def authorize(self, request: AuthorizeRequest) -> AuthorizationResult:
        params: stripe.params.PaymentIntentCreateParams = {
            "amount": request.amount,
            "currency": request.currency.lower(),
            "payment_method": request.payment_method,
            "payment_method_types": ["card"],  # no payment method that redirects the buyer
            "confirm": True,
            "capture_method": "manual",
            "transfer_group": request.order_id,
            "metadata": {"order_id": request.order_id},
        }
        try:
            intent = await self._stripe.payment_intents.create_async(params, _key(request.idempotency_key))
        except stripe.CardError as declined:
            reason = declined.error.decline_code if declined.error else None
            return AuthorizationResult(approved=False, decline_code=reason or declined.code)
        except stripe.StripeError as err:
            raise provider_error(err, "authorize") from err
        if intent.status != "requires_capture":
            return AuthorizationResult(approved=False, decline_code=intent.status)
        return AuthorizationResult(approved=True, authorization_id=intent.id)

    async def capture(self, request: CaptureRequest) -> ProviderReference:
        try:
            intent = await self._stripe.payment_intents.capture_async(
                request.authorization_id, {"amount_to_capture": request.amount}, _key(request.idempotency_key)
            )
        except stripe.InvalidRequestError as err:
            if err.code != "payment_intent_unexpected_state":
                raise provider_error(err, "capture") from err
            # Captured already? An earlier attempt's key may be forgotten (Stripe keeps keys for 24 hours), and
            # "already captured" must not read as a refusal: the money is in.
            intent = await _answer("capture (was it made?)", self._stripe.payment_intents.retrieve_async(request.authorization_id))
            if intent.status != "succeeded" or intent.amount_received != request.amount:
                raise provider_error(err, "capture") from err
        except stripe.StripeError as err:
            raise provider_error(err, "capture") from err
        return ProviderReference(id=intent.id)

    async def void(self, request: VoidRequest) -> ProviderReference:
        cancel = self._stripe.payment_intents.cancel_async(request.authorization_id, None, _key(request.idempotency_key))
        return ProviderReference(id=(await _answer("void", cancel)).id)

    async def refund(self, request: RefundRequest) -> ProviderReference:
        key = request.idempotency_key
        earlier = await _made_under(
            key, "refunds", self._stripe.refunds.list_async({"payment_intent": request.capture_id, "limit": LISTING_PAGE_SIZE})
        )
        if earlier is None:
            params: stripe.params.RefundCreateParams = {
                "payment_intent": request.capture_id,
                "amount": request.amount,
                "metadata": {"order_id": request.order_id, KEY_IN_METADATA: key},
            }
            earlier = await _answer("refund", self._stripe.refunds.create_async(params, _key(key)))
        return ProviderReference(id=earlier.id)

    async def payout(self, request: PayoutRequest) -> ProviderReference:
        account = await self._connected_account(request.seller_id)
        if account is None:
            raise ProviderRejected(f"Stripe payout: seller {request.seller_id} has no Stripe connected account")
        transfer = await self._transfer(request, account)
        key = f"{request.idempotency_key}:payout"
        on_the_account: stripe.RequestOptions = {"stripe_account": account}
        listing = self._stripe.payouts.list_async({"created": {"gte": transfer.created}, "limit": LISTING_PAGE_SIZE}, on_the_account)
        payout = await _made_under(key, "payouts of the connected account", listing)
        if payout is None:
            payout_params: stripe.params.PayoutCreateParams = {
                "amount": request.amount,
                "currency": request.currency.lower(),
                "metadata": {"order_id": request.order_id, "seller_id": request.seller_id, KEY_IN_METADATA: key},
            }
            try:
                payout = await self._stripe.payouts.create_async(payout_params, {**on_the_account, "idempotency_key": key})
            except stripe.StripeError as err:
                failure = provider_error(err, "payout (to the seller's bank)")
                if isinstance(failure, ProviderRejected):
                    # Not "nothing happened": the transfer has moved the money to the seller's account, and a rejection
                    # would have the engine hand it back to the seller's balance. Asked again, then parked.
                    failure = ProviderUnavailable(f"{failure}; transfer {transfer.id} to {account} was made")
                raise failure from err
        return ProviderReference(id=payout.id)

    async def _transfer(self, request: PayoutRequest, account: str) -> stripe.Transfer:
        """The transfer of this payout to the seller's connected account: the one made before, or a new one."""
        key = request.idempotency_key
        listing = self._stripe.transfers.list_async({"transfer_group": request.order_id, "limit": LISTING_PAGE_SIZE})
        if (earlier := await _made_under(key, "transfers of the order", listing)) is not None:
            return earlier
        params: stripe.params.TransferCreateParams = {
            "amount": request.amount,
            "currency": request.currency.lower(),
            "destination": account,
            "transfer_group": request.order_id,
            "metadata": {"order_id": request.order_id, "seller_id": request.seller_id, KEY_IN_METADATA: key},
        }
        return await _answer("payout (transfer)", self._stripe.transfers.create_async(params, _key(key)))

    async def credit(self, request: CreditRequest) -> ProviderReference:
        raise ProviderRejected(f"Stripe credit for order {request.order_id}: Stripe cannot push a credit to a card")

    async def submit_dispute_evidence(self, submission: EvidenceSubmission) -> ProviderReference:
        evidence: stripe.params.DisputeUpdateParamsEvidence = {"uncategorized_text": _evidence_text(submission)}
        if submission.tracking_number:
            evidence["shipping_tracking_number"] = submission.tracking_number
        if submission.delivered_at:
            evidence["shipping_date"] = submission.delivered_at.date().isoformat()
        update = self._stripe.disputes.update_async(
            submission.dispute_id, {"evidence": evidence, "submit": True}, _key(submission.idempotency_key)
        )
        return ProviderReference(id=(await _answer("dispute evidence", update)).id)

    async def records(self, query: ProviderRecordQuery) -> list[ProviderRecord]:
        """Authorizations, captures and voids (from PaymentIntents), refunds, and payouts (from Transfers), oldest
        first; what was made outside the engine has the order id Stripe gives, if any.

        Left out: the Payouts from connected accounts to their banks (the Transfer is what left the platform, so a
        payout record's id is the transfer's, not the payout id the engine keeps), transfer reversals, and credits
        (Stripe has none). The order filter is applied after listing: Stripe cannot list by metadata. Stripe stamps
        `created` in whole seconds, on its own clock: the second that `created_until` falls in is listed whole."""
        created: dict[str, int] = {}
        if query.created_from:
            created["gte"] = floor(query.created_from.timestamp())
        if query.created_until:
            created["lt"] = ceil(query.created_until.timestamp())
        params: dict[str, Any] = {"limit": LISTING_PAGE_SIZE, **({"created": created} if created else {})}
        intents = await _every("payment intents", self._stripe.payment_intents.list_async(params))
        refunds = await _every("refunds", self._stripe.refunds.list_async(params))
        transfers = await _every("transfers", self._stripe.transfers.list_async(params))
        # Stripe lists the newest first; reversed, what was created in the same second keeps its order too.
        listed = [
            *[record for intent in reversed(intents) for record in _payment_intent_records(intent)],
            *[_refund_record(refund) for refund in reversed(refunds)],
            *[_transfer_record(transfer) for transfer in reversed(transfers)],
        ]
        wanted = [record for record in listed if query.order_id is None or record.order_id == query.order_id]
        return sorted(wanted, key=lambda record: record.created_at)


async def _made_under(key: str, what: str, listing: Awaitable[stripe.ListObject[Listed]]) -> Listed | None:
    """What an earlier attempt made under this idempotency key, found by the key it wrote in the metadata: Stripe
    forgets a key after 24 hours, and an operator's retry of a parked order may come later than that."""
    for item in await _every(what, listing):
        if item.metadata and item.metadata.to_dict().get(KEY_IN_METADATA) == key:
            return item
    return None


async def _every(what: str, first_page: Awaitable[stripe.ListObject[T]]) -> list[T]:
    """Every item of a listing, all pages."""
    try:
        return [item async for item in (await first_page).auto_paging_iter()]
    except stripe.StripeError as err:
        raise provider_error(err, f"listing {what}") from err


def _evidence_text(submission: EvidenceSubmission) -> str:
    if not submission.documents:
        return submission.explanation
    documents = "\n".join(f"- {document}" for document in submission.documents)
    return f"{submission.explanation}\n\nDocuments the seller keeps:\n{documents}"


# Stripe does not list the idempotency key a request came with, so records have none: idempotency_key is "".


def _payment_intent_records(intent: stripe.PaymentIntent) -> list[ProviderRecord]:
    """The authorization a PaymentIntent holds, and its capture or void; nothing for one still under way
    (requires_action, processing...) or never confirmed. All stamped with the PaymentIntent's creation: Stripe
    does not list when it was captured or voided."""

    def record(operation: ProviderOperation, outcome: ProviderOutcome, amount: int, reference: str | None) -> ProviderRecord:
        return ProviderRecord(
            id=reference,
            idempotency_key="",
            operation=operation,
            order_id=_order_id(intent) or intent.transfer_group,
            outcome=outcome,
            amount=amount,
            currency=intent.currency.upper(),
            created_at=_moment(intent.created),
        )

    authorized = record(ProviderOperation.AUTHORIZE, ProviderOutcome.SUCCEEDED, intent.amount, intent.id)
    match intent.status:
        case "requires_capture":
            return [authorized]
        case "succeeded":
            return [authorized, record(ProviderOperation.CAPTURE, ProviderOutcome.SUCCEEDED, intent.amount_received, intent.id)]
        case "requires_payment_method" if intent.last_payment_error is not None:
            # Declined; the engine keeps no reference for a declined authorization.
            return [record(ProviderOperation.AUTHORIZE, ProviderOutcome.DECLINED, intent.amount, None)]
        case "canceled" if intent.latest_charge is not None and intent.last_payment_error is None:
            # A charge that did not fail, then cancelled: authorized, then voided.
            return [authorized, record(ProviderOperation.VOID, ProviderOutcome.SUCCEEDED, intent.amount, intent.id)]
    return []


def _refund_record(refund: stripe.Refund) -> ProviderRecord:
    return ProviderRecord(
        id=refund.id,
        idempotency_key="",
        operation=ProviderOperation.REFUND,
        order_id=_order_id(refund),
        outcome=ProviderOutcome.SUCCEEDED if refund.status in REFUND_MOVED else ProviderOutcome.DECLINED,
        amount=refund.amount,
        currency=refund.currency.upper(),
        created_at=_moment(refund.created),
    )


def _transfer_record(transfer: stripe.Transfer) -> ProviderRecord:
    return ProviderRecord(
        id=transfer.id,
        idempotency_key="",
        operation=ProviderOperation.PAYOUT,
        order_id=_order_id(transfer) or transfer.transfer_group,
        outcome=ProviderOutcome.SUCCEEDED,
        amount=transfer.amount,
        currency=transfer.currency.upper(),
        created_at=_moment(transfer.created),
    )


def _order_id(listed: stripe.PaymentIntent | stripe.Refund | stripe.Transfer) -> str | None:
    """The order id the engine put in the metadata (absent from what was made outside the engine)."""
    return listed.metadata.to_dict().get("order_id") if listed.metadata else None


def _moment(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)
