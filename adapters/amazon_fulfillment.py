"""The fulfillment network on Amazon's Multi-Channel Fulfillment: the Selling Partner API's Fulfillment Outbound
API, version 2020-07-01. Names below are the API model's (amzn/selling-partner-api-models,
models/fulfillment-outbound-api-model/fulfillmentOutbound_2020-07-01.json).

Access: a Login with Amazon (LWA) refresh token is exchanged for an access token, kept until a minute before it
expires and sent as `x-amz-access-token` (SP-API no longer asks for SigV4 signatures). An access token that
Amazon refuses (401/403) is dropped and the call is made once more with a new one.

Idempotency: the engine's order id is Amazon's `sellerFulfillmentOrderId`, which Amazon keeps unique. Creating it
twice is refused; the refusal's code is not documented, so any 400 to a create is followed by a read of that id,
and an order there with the same items is the one asked for: success.

Failures, as in adapters/http_client.py: transport errors, timeouts, 5xx, 408, 409, 425 and 429 leave the outcome
unknown (ProviderUnavailable, after Retry-After or, lacking it, one interval of `x-amzn-RateLimit-Limit`); any
other 4xx says for certain nothing happened (ProviderRejected).

Status: Amazon pushes nothing here. `poll` reads the order and its packages' tracking, and `events_of` turns them
into the engine's events, each with an id derived from what it tells, so that polling one state twice repeats ids.
"""

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from math import isfinite
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from adapters.errors import ProviderRejected, ProviderUnavailable
from adapters.http_client import LONGEST_RETRY_AFTER, outcome_unknown, retry_after
from domain.order_state import FulfillmentEvent
from domain.providers import CancelFulfillmentRequest, CancelFulfillmentResult, FulfillmentOrderRequest, ProviderReference, ReturnRequest
from domain.ship_to import CITYLESS_COUNTRIES, ShipTo
from domain.statuses import FulfillmentEventType

ORDERS = "/fba/outbound/2020-07-01/fulfillmentOrders"
TRACKING = "/fba/outbound/2020-07-01/tracking"
# An access token lives an hour (`expires_in`); it is renewed this long before it would expire.
TOKEN_RENEWAL_MARGIN = timedelta(minutes=1)
STALE_TOKEN_STATUSES = frozenset({401, 403})
# The model's maxLength of `sellerFulfillmentOrderId` and `displayableOrderId` (the engine's ids may be longer).
MAX_ORDER_ID_LENGTH = 40
# Reason codes are per SKU and marketplace (listReturnReasonCodes); this one is in the model's example answer.
DEFAULT_RETURN_REASON = "CR-UNWANTED_ITEM"
DEFAULT_PACKING_SLIP_COMMENT = "Thank you for your order."

# FulfillmentOrderStatus (compared in lower case: the model's own example answers "PROCESSING").
PAST_CANCELLING = frozenset({"processing", "complete", "completepartialled"})
NOTHING_WILL_SHIP = frozenset({"cancelled", "unfulfillable", "invalid"})
ALL_SHIPPED = frozenset({"complete", "completepartialled"})

# CurrentStatus of getPackageTrackingDetails. The parcel is with the carrier and not yet with the buyer:
MOVING = frozenset({"IN_TRANSIT", "OUT_FOR_DELIVERY", "DELAYED", "DELIVERY_ATTEMPTED", "AVAILABLE_FOR_PICKUP", "CUSTOMER_ACTION"})
# "Undeliverable because package was lost or destroyed." (the model's words). NOT_DELIVERED is not in the model.
GONE = frozenset({"UNDELIVERABLE"})
# "In the process of being returned to Amazon's fulfillment network."
RETURNING = frozenset({"RETURNING"})
# "Returned to Amazon's fulfillment network." and "Return Received In FC."
RETURNED = frozenset({"RETURNED", "RETURN_RECEIVED_IN_FC"})
# Left unmapped: UNKNOWN, and PICKUP_SCHEDULED, PICKUP_ATTEMPTED, PICKUP_SUCCESSFUL, PICKUP_CANCELLED,
# RETURN_REQUEST_ACCEPTED, REFUND_ISSUED, which the model describes by their names only.

# EventCode of a tracking event, as the model describes them. EVENT_416 ("Undeliverable.") is not taken as lost:
# unlike the status UNDELIVERABLE it does not say the parcel is gone, and an undeliverable parcel usually goes back.
LOST_BY_CARRIER = "EVENT_409"  # "Lost by carrier."
SHIPMENT_DAMAGED = "EVENT_405"  # "Shipment damaged."
DELIVERY_CODES = frozenset({"EVENT_301", "EVENT_801", "EVENT_804"})  # delivered; delivered to a locker; picked up from it
RETURNING_TO_SELLER = "EVENT_408"  # "Returning to seller."
RETURNED_TO_SELLER = "EVENT_309"  # "Returned to seller."

NO_TRACKING: Mapping[str, dict] = MappingProxyType({})


@dataclass(frozen=True)
class LwaCredentials:
    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)
    token_url: str  # Amazon's is https://api.amazon.com/auth/o2/token (SETTLEMENT_AMAZON_LWA_TOKEN_URL)


class Address(BaseModel):
    """The model's `Address`, written in its camelCase names."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    name: str
    address_line1: str
    address_line2: str | None = None
    address_line3: str | None = None
    city: str | None = None
    district_or_county: str | None = None
    state_or_region: str | None = None
    postal_code: str
    country_code: str
    phone: str | None = None


class AmazonRejected(ProviderRejected):
    """Amazon said for certain the call did nothing: its HTTP status and its `errors`."""

    def __init__(self, message: str, status: int, errors: list[dict]):
        super().__init__(message)
        self.status = status
        self.errors = errors


def destination_address(ship_to: ShipTo) -> Address:
    """`stateOrRegion` is the subdivision's own part (CA of US-CA); Japan's addresses go without a city."""
    assert ship_to.name and ship_to.address_line1 and ship_to.postal_code and ship_to.subdivision
    return Address(
        name=ship_to.name,
        address_line1=ship_to.address_line1,
        address_line2=ship_to.address_line2,
        city=None if ship_to.country in CITYLESS_COUNTRIES else ship_to.city,
        state_or_region=ship_to.subdivision.partition("-")[2],
        postal_code=ship_to.postal_code,
        country_code=ship_to.country,
        phone=ship_to.phone,
    )


def _utc_now() -> datetime:
    return datetime.now(UTC)


class AccessTokens:
    """LWA access tokens for one refresh token: exchanged once, reused until shortly before they expire."""

    def __init__(self, client: httpx.AsyncClient, credentials: LwaCredentials, clock: Callable[[], datetime] = _utc_now):
        self._client = client
        self._credentials = credentials
        self._clock = clock
        self._lock = asyncio.Lock()
        self._token: str | None = None
        self._renew_at = datetime.min.replace(tzinfo=UTC)

    async def current(self) -> str:
        async with self._lock:
            if self._token is None or self._clock() >= self._renew_at:
                self._token, self._renew_at = await self._exchange()
            return self._token

    def forget(self) -> None:
        self._token = None

    async def _exchange(self) -> tuple[str, datetime]:
        c = self._credentials
        form = {"grant_type": "refresh_token", "refresh_token": c.refresh_token, "client_id": c.client_id, "client_secret": c.client_secret}
        asked_at = self._clock()
        try:
            body = await _answer("LWA token exchange", self._client.post(c.token_url, data=form))
        except AmazonRejected as refused:
            raise ProviderRejected(str(refused)) from refused  # not an SP-API answer: keep it from the SP-API's handling
        try:
            return body["access_token"], asked_at + timedelta(seconds=int(body["expires_in"])) - TOKEN_RENEWAL_MARGIN
        except (KeyError, TypeError, ValueError) as err:
            raise ProviderUnavailable(f"LWA token exchange: unreadable answer ({type(err).__name__})") from err


class AmazonFulfillmentNetwork:
    """The FulfillmentNetwork on Amazon. `client` has the SP-API regional endpoint as its base_url."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        credentials: LwaCredentials,
        marketplace_id: str,
        *,
        return_reason_code: str = DEFAULT_RETURN_REASON,
        packing_slip_comment: str = DEFAULT_PACKING_SLIP_COMMENT,
        clock: Callable[[], datetime] = _utc_now,
    ):
        self._client = client
        self._tokens = AccessTokens(client, credentials, clock)
        self._marketplace_id = marketplace_id
        self._return_reason_code = return_reason_code
        self._packing_slip_comment = packing_slip_comment
        self._clock = clock

    async def create_order(self, request: FulfillmentOrderRequest) -> ProviderReference:
        order_id = request.order_id
        if len(order_id) > MAX_ORDER_ID_LENGTH:
            raise ProviderRejected(f"Amazon takes order ids of at most {MAX_ORDER_ID_LENGTH} characters: {order_id}")
        items = [
            {"sellerSku": item.sku, "sellerFulfillmentOrderItemId": f"{order_id}-{n}", "quantity": item.quantity}
            for n, item in enumerate(request.items, start=1)
        ]
        missing = request.ship_to.missing_for_delivery if request.ship_to else ["ship_to"]
        if request.ship_to is None or missing:
            raise ProviderRejected(f"Amazon needs a street address for {order_id}: missing {', '.join(missing)}")
        body = {
            "marketplaceId": self._marketplace_id,
            "sellerFulfillmentOrderId": order_id,
            "displayableOrderId": order_id,
            "displayableOrderDate": self._clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "displayableOrderComment": self._packing_slip_comment,
            "shippingSpeedCategory": "Standard",
            "destinationAddress": destination_address(request.ship_to).model_dump(by_alias=True, exclude_none=True),
            "items": items,
        }
        try:
            await self._call("POST", ORDERS, json=body)
        except AmazonRejected as refused:
            if refused.status != 400 or not await self._holds_order(order_id, items):
                raise
        return ProviderReference(id=order_id)

    async def cancel_order(self, request: CancelFulfillmentRequest) -> CancelFulfillmentResult:
        try:
            await self._call("PUT", f"{_order_path(request.order_id)}/cancel")
        except AmazonRejected as refused:
            if refused.status != 400:
                raise
            # Why Amazon refused is not documented; the order's status says whether it is too late.
            status = (await self._order(request.order_id))["payload"]["fulfillmentOrder"]["fulfillmentOrderStatus"]
            if status.lower() in PAST_CANCELLING:
                return CancelFulfillmentResult(cancelled=False, shipped=True, detail=f"Amazon is past cancelling: the order is {status}")
            if status.lower() in NOTHING_WILL_SHIP:
                return CancelFulfillmentResult(cancelled=True, detail=f"Amazon will ship nothing: the order is {status}")
            raise
        return CancelFulfillmentResult(cancelled=True)

    async def request_return(self, request: ReturnRequest) -> ProviderReference:
        """Return every unit shipped (the model's return items carry no quantity: one item is one unit)."""
        order = await self._order(request.order_id)
        items = [{**unit, "returnReasonCode": self._return_reason_code} for unit in _shipped_units(order["payload"])]
        if not items:
            raise ProviderRejected(f"Amazon return for {request.order_id}: nothing was shipped")
        ours = {item["sellerReturnItemId"] for item in items}
        answer = (await self._call("PUT", f"{_order_path(request.order_id)}/return", json={"items": items})).get("payload", {})
        authorizations = _authorization_ids(answer, ours)
        invalid = answer.get("invalidReturnItems", [])
        if not authorizations and invalid and all(_reason(i) == "DuplicateRequest" for i in invalid):
            # Asked before (a retry after an unknown outcome): the order holds the authorization given then.
            authorizations = _authorization_ids((await self._order(request.order_id))["payload"], ours)
        if not authorizations:
            reasons = ", ".join(sorted({_reason(i) for i in invalid})) or "no return authorization"
            raise ProviderRejected(f"Amazon return for {request.order_id} refused: {reasons}")
        return ProviderReference(id=",".join(authorizations))

    async def poll(self, order_id: str) -> list[FulfillmentEvent]:
        order = await self._order(order_id)
        tracking: dict[str, dict] = {}
        for package_number in _package_numbers(order["payload"]):
            try:
                tracking[str(package_number)] = await self._call("GET", TRACKING, params={"packageNumber": package_number})
            except AmazonRejected as refused:
                if refused.status not in (400, 404):
                    raise
                # No tracking for this package yet: its shipped event still comes from the order.
        return events_of(order_id, order, tracking)

    async def _order(self, order_id: str) -> dict:
        return await self._call("GET", _order_path(order_id))

    async def _holds_order(self, order_id: str, items: list[dict]) -> bool:
        """Whether Amazon already holds this order with these items (a create made before)."""
        try:
            held = (await self._order(order_id))["payload"]["fulfillmentOrderItems"]
        except AmazonRejected:
            return False
        return _item_lines(held) == _item_lines(items)

    async def _call(self, method: str, path: str, **request: Any) -> dict:
        try:
            return await self._call_once(method, path, **request)
        except AmazonRejected as refused:
            if refused.status not in STALE_TOKEN_STATUSES:
                raise
        self._tokens.forget()  # revoked or expired early, perhaps: once more with a new token
        return await self._call_once(method, path, **request)

    async def _call_once(self, method: str, path: str, **request: Any) -> dict:
        headers = {"x-amz-access-token": await self._tokens.current()}
        return await _answer(f"Amazon {method} {path}", self._client.request(method, path, headers=headers, **request))


async def _answer(what: str, sending: Awaitable[httpx.Response]) -> dict:
    try:
        response = await sending
    except httpx.TransportError as err:
        raise ProviderUnavailable(f"{what}: {type(err).__name__}: {err}") from err
    status = response.status_code
    if outcome_unknown(status):
        raise ProviderUnavailable(f"{what}: HTTP {status}: {_errors_text(response)}", retry_after=_wait_asked(response))
    if status >= 400:
        raise AmazonRejected(f"{what}: HTTP {status}: {_errors_text(response)}", status, _errors(response))
    if not response.content:
        return {}
    try:
        return response.json()
    except ValueError as err:
        raise ProviderUnavailable(f"{what}: HTTP {status} with an unreadable body") from err


def _wait_asked(response: httpx.Response) -> timedelta | None:
    """Retry-After; for a 429 without it, the interval between two requests at `x-amzn-RateLimit-Limit`."""
    asked = retry_after(response)
    if asked is not None or response.status_code != 429:
        return asked
    try:
        per_second = float(response.headers.get("x-amzn-ratelimit-limit", ""))
    except ValueError:
        return None
    if not (isfinite(per_second) and per_second > 0):
        return None
    return min(timedelta(seconds=1 / per_second), LONGEST_RETRY_AFTER)


def _errors(response: httpx.Response) -> list[dict]:
    try:
        errors = response.json().get("errors")
    except (ValueError, AttributeError):
        return []
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def _errors_text(response: httpx.Response) -> str:
    """SP-API's `errors`, or LWA's `error` and `error_description`, or the start of the body."""
    if errors := _errors(response):
        return "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors)[:500]
    try:
        body = response.json()
        return f"{body['error']}: {body.get('error_description', '')}"[:500]
    except (ValueError, KeyError, TypeError):
        return response.text[:200]


def _order_path(order_id: str) -> str:
    return f"{ORDERS}/{quote(order_id, safe='')}"


def _item_lines(items: Iterable[dict]) -> set[tuple[str, str, int]]:
    return {(i["sellerFulfillmentOrderItemId"], i["sellerSku"], int(i["quantity"])) for i in items}


def _shipped(payload: dict) -> list[dict]:
    return [s for s in payload.get("fulfillmentShipments") or [] if s.get("fulfillmentShipmentStatus", "").upper() == "SHIPPED"]


def _package_numbers(payload: dict) -> list[int]:
    return [p["packageNumber"] for s in _shipped(payload) for p in s.get("fulfillmentShipmentPackage") or []]


def _shipped_units(payload: dict) -> list[dict]:
    """One return item per unit shipped, with an id that is the same each time the return is asked for."""
    return [
        {
            "sellerReturnItemId": f"{item['sellerFulfillmentOrderItemId']}-{shipment['amazonShipmentId']}-{unit}",
            "sellerFulfillmentOrderItemId": item["sellerFulfillmentOrderItemId"],
            "amazonShipmentId": shipment["amazonShipmentId"],
        }
        for shipment in _shipped(payload)
        for item in shipment.get("fulfillmentShipmentItem") or []
        for unit in range(1, int(item["quantity"]) + 1)
    ]


def _authorization_ids(payload: dict, return_item_ids: set[str]) -> list[str]:
    """The return authorizations of our return items; all of the answer's when its items do not name theirs."""
    named = {i["returnAuthorizationId"] for i in payload.get("returnItems") or [] if i.get("sellerReturnItemId") in return_item_ids}
    named.discard(None)
    return sorted(named) or sorted({a["returnAuthorizationId"] for a in payload.get("returnAuthorizations") or []})


def _reason(invalid_item: dict) -> str:
    return (invalid_item.get("invalidItemReason") or {}).get("invalidItemReasonCode", "unknown")


# ---- status changes → the engine's events ---------------------------------------------------------


def events_of(order_id: str, fulfillment_order: dict, tracking: Mapping[str, dict] = NO_TRACKING) -> list[FulfillmentEvent]:
    """The engine's events in a getFulfillmentOrder answer and the getPackageTrackingDetails answers of its packages
    (keyed by packageNumber). Per package: shipped, in_transit, lost, damaged, return_shipped, return_received.
    Delivered is the order's, once every package is and the order is fully shipped (else the buyer's confirmation
    window would open with parcels still on the way). A return is received when every returned item is processed."""
    payload = fulfillment_order["payload"]
    order = payload["fulfillmentOrder"]
    updated_at = _time(order["statusUpdatedDate"])
    events: list[FulfillmentEvent] = []
    deliveries: list[FulfillmentEvent | None] = []
    for shipment in _shipped(payload):
        for package in shipment.get("fulfillmentShipmentPackage") or []:
            details = tracking.get(str(package["packageNumber"]), {}).get("payload", {})
            on_the_way, delivered = _package_events(order_id, shipment, package, details, updated_at)
            events += on_the_way
            deliveries.append(delivered)
    if deliveries and all(deliveries) and order["fulfillmentOrderStatus"].lower() in ALL_SHIPPED:
        last = max((d for d in deliveries if d), key=lambda d: d.occurred_at)
        events.append(_event(order_id, "order", FulfillmentEventType.DELIVERED, last.occurred_at, last.tracking, last.fulfillment_center))
    returned = payload.get("returnItems") or []
    if returned and all(i.get("status", "").lower() == "processed" for i in returned):
        received_at = max(_time(i.get("statusChangedDate")) or updated_at for i in returned)
        events.append(_event(order_id, "returns", FulfillmentEventType.RETURN_RECEIVED, received_at))
    return events


def _package_events(
    order_id: str, shipment: dict, package: dict, details: dict, fallback: datetime | None
) -> tuple[list[FulfillmentEvent], FulfillmentEvent | None]:
    """A package's events, and its delivery apart (None while it is not delivered)."""
    number = package["packageNumber"]
    tracking_number = package.get("trackingNumber") or details.get("trackingNumber")
    status = details.get("currentStatus")
    happened = [(e["eventCode"], _time(e["eventDate"])) for e in details.get("trackingEvents") or []]
    latest = max((when for _, when in happened), default=None)

    def at(codes: Iterable[str], pick: Callable[..., datetime] = min) -> datetime | None:
        return pick((when for code, when in happened if code in codes), default=None)

    def event(kind: FulfillmentEventType, when: datetime | None) -> FulfillmentEvent:
        return _event(order_id, number, kind, when or latest or fallback, tracking_number, shipment.get("fulfillmentCenterId"))

    shipped_at = _time(shipment.get("shippingDate")) or _time(details.get("shipDate"))
    lost_at, damaged_at = at({LOST_BY_CARRIER}), at({SHIPMENT_DAMAGED})
    events = [event(FulfillmentEventType.SHIPPED, shipped_at)]
    if status in MOVING:
        events.append(event(FulfillmentEventType.IN_TRANSIT, min((when for _, when in happened), default=shipped_at)))
    if status in GONE or (lost_at and status != "DELIVERED"):
        events.append(event(FulfillmentEventType.LOST, lost_at))
    if damaged_at:
        events.append(event(FulfillmentEventType.DAMAGED, damaged_at))
    if status in RETURNING:
        events.append(event(FulfillmentEventType.RETURN_SHIPPED, at({RETURNING_TO_SELLER})))
    if status in RETURNED:
        events.append(event(FulfillmentEventType.RETURN_RECEIVED, at({RETURNED_TO_SELLER})))
    delivered = event(FulfillmentEventType.DELIVERED, at(DELIVERY_CODES, max)) if status == "DELIVERED" else None
    return events, delivered


def _event(
    order_id: str, about: object, kind: FulfillmentEventType, when: datetime, tracking: str | None = None, center: str | None = None
) -> FulfillmentEvent:
    return FulfillmentEvent(
        event_id=f"amzn:{order_id}:{about}:{kind.value}",
        order_id=order_id,
        type=kind,
        occurred_at=when,
        tracking=tracking,
        fulfillment_center=center or None,
    )


def _time(value: str | None) -> datetime | None:
    """An SP-API timestamp (ISO 8601); one without an offset is taken as UTC."""
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
