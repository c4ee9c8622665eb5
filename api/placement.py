"""Turn a create-order request into the workflow's input: defaults, deadlines, fees, and its fingerprint."""

import hashlib
import json
from datetime import datetime

from api.problems import field_error
from domain.after_sales import AfterSalesPolicy
from domain.currency import convertible
from domain.fees import compute_fees
from domain.order_request import DEFAULT_POLICY, OrderRequest, PlacementPolicy, RetryBudget, resolve_deadlines
from domain.order_state import OrderInput
from domain.payouts import PayoutTerms
from domain.ship_to import STREET_ADDRESS
from runtime.settings import Settings


def placement_policy(settings: Settings) -> PlacementPolicy:
    return PlacementPolicy(
        ship_within=settings.settlement_default_ship_within,
        deliver_within_after_ship_by=settings.settlement_default_deliver_within,
        confirmation_window=settings.settlement_default_confirmation_window,
        after_sales=AfterSalesPolicy(
            seller_response_window=settings.settlement_seller_response_window,
            resolution_window=settings.settlement_resolution_window,
            return_window=settings.settlement_return_window,
            return_transit_window=settings.settlement_return_transit_window,
            late_delivery_compensation_bps=settings.settlement_late_delivery_compensation_bps,
            lost_after_late=settings.settlement_lost_after_late,
        ),
        provider_retry=RetryBudget(
            maximum_attempts=settings.settlement_provider_max_attempts,
            initial_interval=min(DEFAULT_POLICY.provider_retry.initial_interval, settings.settlement_provider_max_backoff),
            maximum_interval=settings.settlement_provider_max_backoff,
        ),
        street_address_required=settings.settlement_fulfillment_network == "amazon",
    )


def request_fingerprint(request: OrderRequest) -> str:
    # Without `ship_to` when it is left out, as before it existed: a create repeated across the upgrade is a repeat.
    document = request.model_dump(mode="json", exclude={"ship_to"} if request.ship_to is None else None)
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def order_input(
    request: OrderRequest, placed_at: datetime, policy: PlacementPolicy, fingerprint: str, payout: PayoutTerms = PayoutTerms()
) -> OrderInput:
    settlement_currency = request.settlement_currency or request.currency
    if not convertible(request.currency, settlement_currency):
        raise field_error("settlement_currency", f"the engine does not convert {request.currency} to {settlement_currency}")
    if policy.street_address_required:
        missing = request.ship_to.missing_for_delivery if request.ship_to else ["country", *STREET_ADDRESS]
        if missing:
            raise field_error("ship_to", f"the fulfillment network delivers to a street address: give {', '.join(missing)}")
    try:
        ship_by, deliver_by, window = resolve_deadlines(request, placed_at, policy)
    except ValueError as err:
        field, _, message = str(err).partition(": ")
        raise field_error(field, message) from err
    return OrderInput(
        order_id=request.order_id,
        buyer_id=request.buyer_id,
        seller_id=request.seller_id,
        marketplace=request.marketplace,
        currency=request.currency,
        settlement_currency=settlement_currency,
        items=request.items,
        shipping_fee=request.shipping_fee,
        payment_method=request.payment_method,
        placed_at=placed_at,
        ship_by=ship_by,
        deliver_by=deliver_by,
        confirmation_window=window,
        fees=compute_fees(request.total, request.units, request.currency),
        after_sales=policy.after_sales,
        request_fingerprint=fingerprint,
        provider_retry=policy.provider_retry,
        payout=payout,
        ship_to=request.ship_to,
    )
