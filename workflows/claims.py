"""A claim after the sale, settled by the seller payouts workflow: the refund reserved in the ledger, asked of the
payment provider against the order's capture (keyed `claim:<id>`), then settled to the buyer; or, when the provider
refuses for certain, returned to whoever was to pay."""

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain import activity_names as act
    from domain import failures
    from domain import seller_ledger as books
    from domain.claims import ClaimFault, ClaimNotice
    from domain.order_request import RetryBudget
    from domain.providers import ProviderReference, RefundRequest
    from workflows.options import BOOKKEEPING, provider_call


class ProviderAway(Exception):
    """The provider did not answer within its retry budget: the claim waits and is asked again, under the same key."""


async def settle_claim(claim: ClaimNotice) -> str | None:
    """Refund the claim; the provider's refusal, or None when the buyer was refunded. Raises ProviderAway, and
    ActivityError when the ledger refuses an entry for good."""
    c = claim
    seller_pays = c.fault == ClaimFault.SELLER
    refund = books.claim_refund(c.claim_id, c.order_id, c.seller_id, c.amount, c.currency, seller_pays)
    await workflow.execute_activity(act.POST_LEDGER_ENTRY, refund.reserve, result_type=int, **BOOKKEEPING)
    request = RefundRequest(
        idempotency_key=books.claim_key(c.claim_id), order_id=c.order_id, capture_id=c.capture_id, amount=c.amount, currency=c.currency
    )
    try:
        await workflow.execute_activity(act.REFUND_PAYMENT, request, result_type=ProviderReference, **provider_call(RetryBudget()))
    except ActivityError as err:
        if not (isinstance(err.cause, ApplicationError) and err.cause.type == failures.PROVIDER_REJECTED):
            raise ProviderAway(str(err.cause or err)) from err
        await workflow.execute_activity(act.POST_LEDGER_ENTRY, refund.returned(), result_type=int, **BOOKKEEPING)
        return err.cause.message
    await workflow.execute_activity(act.POST_LEDGER_ENTRY, refund.settle, result_type=int, **BOOKKEEPING)
    return None
