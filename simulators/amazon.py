"""Amazon's fulfillment network, simulated under /amazon: Login with Amazon's token endpoint and the Selling
Partner API's Fulfillment Outbound API (2020-07-01), in the API model's names and shapes, for
adapters/amazon_fulfillment.py to run against.

Every call under /amazon/fba needs an access token issued here, sent as `x-amz-access-token`; refusals come
in SP-API's `errors` list. Amazon pushes nothing: the engine reads orders and parcel tracking.

A parcel's progress is the carrier's events for it that are due, replayed in order whenever the order is read.
The test driver (`POST /amazon/_sim/orders/{id}/events`, with the body and answer of
`/fulfillment/orders/{id}/events`) queues one; in `auto` carrier mode a new order queues its shipping and
delivery, and a new return its way back, after the configured delays. An event reported before the parcel
shipped ships it first.
"""

import secrets
import string
import zlib
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import parse_qs

import asyncpg
from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from domain.ship_to import CITYLESS_COUNTRIES
from domain.statuses import FulfillmentEventType
from simulators.fulfillment import EventBody

ACCESS_TOKEN_LIFETIME = timedelta(hours=1)
ESTIMATED_TRANSIT = timedelta(days=3)
MAX_ORDER_ID_LENGTH = 40

CARRIER_CODE = "UPS"
CARRIER_PHONE = "1-800-742-5877"
CARRIER_URL = "https://www.ups.com"


@dataclass(frozen=True)
class FulfillmentCenter:
    id: str
    address_line1: str
    city: str
    state: str
    postal_code: str
    country: str = "US"

    def return_address(self) -> dict:
        return {
            "name": "Amazon Returns",
            "addressLine1": self.address_line1,
            "city": self.city,
            "stateOrRegion": self.state,
            "postalCode": self.postal_code,
            "countryCode": self.country,
        }

    def scan_address(self) -> dict:
        return {"city": self.city, "state": self.state, "country": self.country}


FULFILLMENT_CENTERS = (
    FulfillmentCenter("PHX7", "800 N 75th Ave", "Phoenix", "AZ", "85043"),
    FulfillmentCenter("ONT8", "24300 Nandina Ave", "Moreno Valley", "CA", "92551"),
    FulfillmentCenter("BFI4", "21005 64th Ave S", "Kent", "WA", "98032"),
    FulfillmentCenter("MDW2", "250 Emerald Dr", "Joliet", "IL", "60433"),
    FulfillmentCenter("ABE2", "705 Boulder Dr", "Breinigsville", "PA", "18031"),
)
CENTERS_BY_ID = {center.id: center for center in FULFILLMENT_CENTERS}


def fulfillment_center(order_id: str) -> FulfillmentCenter:
    """Where an order ships from and its returns go back to: always the same center for an order id."""
    return FULFILLMENT_CENTERS[zlib.crc32(order_id.encode()) % len(FULFILLMENT_CENTERS)]


# The model's EventCode descriptions, for the scans the simulated carrier makes.
SCAN_DESCRIPTIONS = {
    "EVENT_102": "Shipment picked up from seller's facility.",
    "EVENT_201": "Arrival scan.",
    "EVENT_301": "Delivered.",
    "EVENT_309": "Returned to seller.",
    "EVENT_405": "Shipment damaged.",
    "EVENT_408": "Returning to seller.",
    "EVENT_409": "Lost by carrier.",
}
PICKED_UP, RETURNED_TO_SELLER, DAMAGED = "EVENT_102", "EVENT_309", "EVENT_405"
SCANNED_AT_THE_CENTER = frozenset({PICKED_UP, RETURNED_TO_SELLER})
# A carrier event after shipping: the tracking status it moves the parcel to (None: unchanged) and its scan.
CARRIER_EVENTS = {
    FulfillmentEventType.IN_TRANSIT: ("IN_TRANSIT", "EVENT_201"),
    FulfillmentEventType.DELIVERED: ("DELIVERED", "EVENT_301"),
    FulfillmentEventType.LOST: ("UNDELIVERABLE", "EVENT_409"),
    FulfillmentEventType.DAMAGED: (None, DAMAGED),
    FulfillmentEventType.RETURN_SHIPPED: ("RETURNING", "EVENT_408"),
    FulfillmentEventType.RETURN_RECEIVED: ("RETURNED", RETURNED_TO_SELLER),
}
# A scan reported late is kept, but the parcel's status does not go back to an earlier stage.
STATUS_STAGE = {"IN_TRANSIT": 1, "DELIVERED": 2, "UNDELIVERABLE": 2, "RETURNING": 3, "RETURNED": 4}


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


# ---- requests ------------------------------------------------------------------------------------------


class SpApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    def in_camel_case(self) -> dict:
        """In the model's names, as the API answers it back."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class Address(SpApiModel):
    name: str = Field(min_length=1)
    address_line1: str = Field(min_length=1)
    address_line2: str | None = None
    address_line3: str | None = None
    city: str | None = Field(None, min_length=1)
    district_or_county: str | None = None
    state_or_region: str = Field(min_length=1)
    postal_code: str = Field(min_length=1)
    country_code: str = Field(pattern="^[A-Z]{2}$")
    phone: str | None = None

    @model_validator(mode="after")
    def _a_city_but_in_japan(self) -> "Address":
        if self.city is None and self.country_code not in CITYLESS_COUNTRIES:
            raise ValueError("city is required outside Japan")
        return self


class CreateFulfillmentOrderItem(SpApiModel):
    seller_sku: str = Field(min_length=1, max_length=50)
    seller_fulfillment_order_item_id: str = Field(min_length=1, max_length=50)
    quantity: int = Field(gt=0)


class CreateFulfillmentOrderRequest(SpApiModel):
    marketplace_id: str = Field(min_length=1)
    seller_fulfillment_order_id: str = Field(min_length=1, max_length=MAX_ORDER_ID_LENGTH)
    displayable_order_id: str = Field(min_length=1, max_length=MAX_ORDER_ID_LENGTH)
    displayable_order_date: datetime
    displayable_order_comment: str = Field(min_length=1, max_length=750)
    shipping_speed_category: Literal["Standard", "Expedited", "Priority", "ScheduledDelivery"]
    destination_address: Address
    fulfillment_action: Literal["Ship", "Hold"] = "Ship"
    fulfillment_policy: Literal["FillOrKill", "FillAll", "FillAllAvailable"] = "FillOrKill"
    items: list[CreateFulfillmentOrderItem] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct_item_ids(self) -> "CreateFulfillmentOrderRequest":
        ids = [item.seller_fulfillment_order_item_id for item in self.items]
        if len(set(ids)) != len(ids):
            raise ValueError("sellerFulfillmentOrderItemId repeats")
        return self


class CreateReturnItem(SpApiModel):
    seller_return_item_id: str = Field(min_length=1, max_length=80)
    seller_fulfillment_order_item_id: str = Field(min_length=1, max_length=80)
    amazon_shipment_id: str = Field(min_length=1)
    return_reason_code: str = Field(min_length=1)
    return_comment: str | None = Field(None, max_length=1000)


class CreateFulfillmentReturnRequest(SpApiModel):
    items: list[CreateReturnItem] = Field(min_length=1)


# ---- refusals in SP-API's shape ------------------------------------------------------------------------


class SpApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> JSONResponse:
        return JSONResponse({"errors": [{"code": self.code, "message": self.message, "details": ""}]}, self.status)


def _invalid_input(invalid: RequestValidationError) -> SpApiError:
    problems = "; ".join(f"{'.'.join(str(part) for part in e['loc'][1:]) or e['loc'][0]}: {e['msg']}" for e in invalid.errors())
    return SpApiError(400, "InvalidInput", problems[:500])


class SpApiRoute(APIRoute):
    """A route whose refusals and invalid requests are answered in SP-API's `errors` list."""

    def get_route_handler(self):
        handle = super().get_route_handler()

        async def answer(request: Request):
            try:
                return await handle(request)
            except SpApiError as refused:
                return refused.response()
            except RequestValidationError as invalid:
                return _invalid_input(invalid).response()

        return answer


async def _issued_access_token(request: Request, x_amz_access_token: str = Header("")) -> None:
    issued = x_amz_access_token and await request.app.state.pool.fetchval(
        "SELECT 1 FROM sim.amazon_access_tokens WHERE access_token = $1 AND expires_at > $2", x_amz_access_token, _now()
    )
    if not issued:
        raise SpApiError(403, "Unauthorized", "Access to requested resource is denied.")


router = APIRouter(prefix="/amazon")
fba = APIRouter(prefix="/fba/outbound/2020-07-01", route_class=SpApiRoute, dependencies=[Depends(_issued_access_token)])
driver = APIRouter(prefix="/_sim")


# ---- state: orders and their parcels ---------------------------------------------------------------------


@dataclass
class Parcel:
    """The order's one package, as the carrier's due events leave it; not shipped while `shipped_at` is None."""

    tracking_number: str
    shipped_at: datetime | None = None
    status: str = ""
    scans: list[tuple[str, datetime]] = field(default_factory=list)

    def report(self, kind: FulfillmentEventType, at: datetime, tracking_number: str | None) -> None:
        if self.shipped_at is None:  # whatever the carrier reports first, the parcel had left the center
            self.shipped_at, self.status = at, "IN_TRANSIT"
            self.tracking_number = tracking_number or self.tracking_number
            self.scans.append((PICKED_UP, at))
        if kind == FulfillmentEventType.SHIPPED:
            return
        status, code = CARRIER_EVENTS[kind]
        self.scans.append((code, at))
        if status and STATUS_STAGE[status] >= STATUS_STAGE[self.status]:
            self.status = status

    def back_at_the_center_since(self, moment: datetime) -> datetime | None:
        return min((at for code, at in self.scans if code == RETURNED_TO_SELLER and at >= moment), default=None)

    @property
    def damaged(self) -> bool:
        return any(code == DAMAGED for code, _ in self.scans)


@dataclass
class Order:
    row: asyncpg.Record
    request: dict  # the createFulfillmentOrder body taken, its names in the model's order (jsonb keeps no order)
    parcel: Parcel
    return_items: list[asyncpg.Record]
    authorizations: list[asyncpg.Record]

    @property
    def id(self) -> str:
        return self.row["seller_fulfillment_order_id"]

    @property
    def status(self) -> tuple[str, datetime]:
        """The order's FulfillmentOrderStatus and when it took it."""
        if self.row["cancelled_at"]:
            return "Cancelled", self.row["cancelled_at"]
        if self.parcel.shipped_at:
            return "Complete", self.parcel.shipped_at
        return "Received", self.row["received_at"]

    @property
    def shipped_quantities(self) -> dict[str, int]:
        if self.parcel.shipped_at is None:
            return {}
        return {item["sellerFulfillmentOrderItemId"]: item["quantity"] for item in self.request["items"]}


@asynccontextmanager
async def _reading(request: Request) -> AsyncIterator[asyncpg.Connection]:
    """One consistent view of an order, its events and its returns."""
    async with request.app.state.pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        yield conn


@asynccontextmanager
async def _writing(request: Request) -> AsyncIterator[asyncpg.Connection]:
    async with request.app.state.pool.acquire() as conn, conn.transaction():
        yield conn


async def _order(conn: asyncpg.Connection, order_id: str, now: datetime, lock: bool = False) -> Order:
    """The order as it is at `now`; `lock` holds it against other changes until the transaction ends."""
    row = await conn.fetchrow(
        f"SELECT * FROM sim.amazon_fulfillment_orders WHERE seller_fulfillment_order_id = $1{' FOR UPDATE' if lock else ''}", order_id
    )
    if row is None:
        raise SpApiError(404, "NotFound", f"No fulfillment order {order_id}.")
    parcel = Parcel(row["tracking_number"])
    events = await conn.fetch(
        "SELECT type, tracking_number, due_at FROM sim.amazon_carrier_events WHERE seller_fulfillment_order_id = $1 AND due_at <= $2 "
        "ORDER BY due_at, seq",
        order_id,
        now,
    )
    for event in events:
        parcel.report(FulfillmentEventType(event["type"]), event["due_at"], event["tracking_number"])
    return_items = await conn.fetch(
        "SELECT * FROM sim.amazon_return_items WHERE seller_fulfillment_order_id = $1 ORDER BY created_at, seller_return_item_id", order_id
    )
    authorizations = await conn.fetch(
        "SELECT * FROM sim.amazon_return_authorizations WHERE seller_fulfillment_order_id = $1 ORDER BY created_at", order_id
    )
    request = CreateFulfillmentOrderRequest.model_validate(row["request"]).in_camel_case()
    return Order(row, request, parcel, return_items, authorizations)


async def _queue(conn: asyncpg.Connection, order_id: str, kind: str, due_at: datetime, tracking_number: str | None = None) -> int:
    return await conn.fetchval(
        "INSERT INTO sim.amazon_carrier_events (seller_fulfillment_order_id, type, tracking_number, due_at) VALUES ($1, $2, $3, $4) "
        "RETURNING seq",
        order_id,
        kind,
        tracking_number,
        due_at,
    )


# ---- answers in the model's shapes --------------------------------------------------------------------


def _fulfillment_order(order: Order) -> dict:
    status, updated_at = order.status
    cancelled = status == "Cancelled"
    header = {name: value for name, value in order.request.items() if name != "items"}
    return {
        "payload": {
            "fulfillmentOrder": {
                **header,
                "receivedDate": _stamp(order.row["received_at"]),
                "fulfillmentOrderStatus": status,
                "statusUpdatedDate": _stamp(updated_at),
            },
            "fulfillmentOrderItems": [
                {**item, "cancelledQuantity": item["quantity"] if cancelled else 0, "unfulfillableQuantity": 0}
                for item in order.request["items"]
            ],
            "fulfillmentShipments": [] if order.parcel.shipped_at is None else [_shipment(order)],
            "returnItems": [_return_item(order, item) for item in order.return_items],
            "returnAuthorizations": [_authorization(a) for a in order.authorizations],
        }
    }


def _shipment(order: Order) -> dict:
    parcel, package_number = order.parcel, order.row["package_number"]
    assert parcel.shipped_at is not None
    arrival = _stamp(parcel.shipped_at + ESTIMATED_TRANSIT)
    return {
        "amazonShipmentId": order.row["amazon_shipment_id"],
        "fulfillmentCenterId": fulfillment_center(order.id).id,
        "fulfillmentShipmentStatus": "SHIPPED",
        "shippingDate": _stamp(parcel.shipped_at),
        "estimatedArrivalDate": arrival,
        "fulfillmentShipmentItem": [
            {
                "sellerSku": item["sellerSku"],
                "sellerFulfillmentOrderItemId": item["sellerFulfillmentOrderItemId"],
                "quantity": item["quantity"],
                "packageNumber": package_number,
            }
            for item in order.request["items"]
        ],
        "fulfillmentShipmentPackage": [
            {
                "packageNumber": package_number,
                "carrierCode": CARRIER_CODE,
                "trackingNumber": parcel.tracking_number,
                "estimatedArrivalDate": arrival,
            }
        ],
    }


def _return_item(order: Order, item: asyncpg.Record) -> dict:
    """A return item is Processed once the parcel is back at the center after it was asked for."""
    processed_at = order.parcel.back_at_the_center_since(item["created_at"])
    answer = {
        "sellerReturnItemId": item["seller_return_item_id"],
        "sellerFulfillmentOrderItemId": item["seller_fulfillment_order_item_id"],
        "amazonShipmentId": item["amazon_shipment_id"],
        "sellerReturnReasonCode": item["seller_return_reason_code"],
        "returnAuthorizationId": item["return_authorization_id"],
        "status": "Processed" if processed_at else "New",
        "statusChangedDate": _stamp(processed_at or item["created_at"]),
    }
    if item["return_comment"]:
        answer["returnComment"] = item["return_comment"]
    if processed_at:
        answer["returnReceivedCondition"] = "CarrierDamaged" if order.parcel.damaged else "Sellable"
        answer["fulfillmentCenterId"] = fulfillment_center(order.id).id
    return answer


def _authorization(row: asyncpg.Record) -> dict:
    center = CENTERS_BY_ID[row["fulfillment_center_id"]]
    return {
        "returnAuthorizationId": row["return_authorization_id"],
        "fulfillmentCenterId": center.id,
        "returnToAddress": center.return_address(),
        "amazonRmaId": row["amazon_rma_id"],
        "rmaPageURL": f"https://www.amazon.com/gp/orc/rml/{row['amazon_rma_id']}",
    }


def _tracking(order: Order) -> dict:
    parcel, destination = order.parcel, order.request["destinationAddress"]
    assert parcel.shipped_at is not None
    near_the_buyer = {"city": destination.get("city", ""), "state": destination["stateOrRegion"], "country": destination["countryCode"]}
    at_the_center = fulfillment_center(order.id).scan_address()
    details = {
        "packageNumber": order.row["package_number"],
        "trackingNumber": parcel.tracking_number,
        "customerTrackingLink": f"{CARRIER_URL}/track?tracknum={parcel.tracking_number}",
        "carrierCode": CARRIER_CODE,
        "carrierPhoneNumber": CARRIER_PHONE,
        "carrierURL": CARRIER_URL,
        "shipDate": _stamp(parcel.shipped_at),
        "estimatedArrivalDate": _stamp(parcel.shipped_at + ESTIMATED_TRANSIT),
        "shipToAddress": near_the_buyer,
        "currentStatus": parcel.status,
        "currentStatusDescription": SCAN_DESCRIPTIONS[parcel.scans[-1][0]],
        "trackingEvents": [
            {
                "eventDate": _stamp(at),
                "eventAddress": at_the_center if code in SCANNED_AT_THE_CENTER else near_the_buyer,
                "eventCode": code,
                "eventDescription": SCAN_DESCRIPTIONS[code],
            }
            for code, at in reversed(parcel.scans)  # the latest first
        ],
    }
    if parcel.status == "DELIVERED":
        details |= {"signedForBy": destination["name"], "additionalLocationInfo": "FRONT_DOOR"}
    return {"payload": details}


def _invalid_return(item: CreateReturnItem, code: str, description: str) -> dict:
    return {
        "sellerReturnItemId": item.seller_return_item_id,
        "sellerFulfillmentOrderItemId": item.seller_fulfillment_order_item_id,
        "invalidItemReason": {"invalidItemReasonCode": code, "description": description},
    }


def _judge_return(order: Order, asked: list[CreateReturnItem]) -> tuple[list[CreateReturnItem], list[dict]]:
    """The items Amazon takes back (one item is one unit), and the others with the model's reason why not."""
    shipped = order.shipped_quantities
    returning = Counter(item["seller_fulfillment_order_item_id"] for item in order.return_items)
    asked_before = {item["seller_return_item_id"] for item in order.return_items}
    accepted, invalid = [], []
    for item in asked:
        unit_of = item.seller_fulfillment_order_item_id
        if item.seller_return_item_id in asked_before:
            invalid.append(_invalid_return(item, "DuplicateRequest", "A return of this item was requested before."))
        elif not shipped:
            invalid.append(_invalid_return(item, "NoCompletedShipItems", "Nothing of this order has shipped."))
        elif item.amazon_shipment_id != order.row["amazon_shipment_id"] or unit_of not in shipped:
            invalid.append(_invalid_return(item, "InvalidValues", "No such item in that shipment."))
        elif returning[unit_of] >= shipped[unit_of]:
            invalid.append(_invalid_return(item, "NoReturnableQuantity", "Every unit shipped of this item is being returned."))
        else:
            accepted.append(item)
            asked_before.add(item.seller_return_item_id)
            returning[unit_of] += 1
    return accepted, invalid


# ---- Login with Amazon ----------------------------------------------------------------------------------


def _lwa_refusal(error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, 400)


@router.post("/auth/o2/token")
async def exchange_refresh_token(request: Request):
    """Any refresh token and client are taken; the access token is kept so that SP-API calls can be checked."""
    form = {name: values[0] for name, values in parse_qs((await request.body()).decode(errors="replace")).items()}
    missing = [name for name in ("grant_type", "refresh_token", "client_id", "client_secret") if not form.get(name)]
    if missing:
        return _lwa_refusal("invalid_request", f"missing {', '.join(missing)}")
    if form["grant_type"] != "refresh_token":
        return _lwa_refusal("unsupported_grant_type", f"grant_type {form['grant_type']} is not supported")
    token = f"Atza|{secrets.token_urlsafe(48)}"
    await request.app.state.pool.execute(
        "INSERT INTO sim.amazon_access_tokens (access_token, client_id, expires_at) VALUES ($1, $2, $3)",
        token,
        form["client_id"],
        _now() + ACCESS_TOKEN_LIFETIME,
    )
    return {"access_token": token, "token_type": "bearer", "expires_in": int(ACCESS_TOKEN_LIFETIME.total_seconds())}


# ---- Fulfillment Outbound ------------------------------------------------------------------------------


@fba.post("/fulfillmentOrders")
async def create_fulfillment_order(body: CreateFulfillmentOrderRequest, request: Request) -> dict:
    """A sellerFulfillmentOrderId taken before is refused, whatever the body (the caller reads the order to see
    whether it is the one it asked for)."""
    settings, order_id, now = request.app.state.settings, body.seller_fulfillment_order_id, _now()
    async with _writing(request) as conn:
        created = await conn.fetchval(
            "INSERT INTO sim.amazon_fulfillment_orders (seller_fulfillment_order_id, request, amazon_shipment_id, tracking_number, received_at) "
            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (seller_fulfillment_order_id) DO NOTHING RETURNING true",
            order_id,
            body.in_camel_case(),
            "D" + _random(string.ascii_letters + string.digits, 8),
            "1Z" + _random(string.ascii_uppercase + string.digits, 16),
            now,
        )
        if not created:
            raise SpApiError(400, "InvalidInput", f"A fulfillment order with sellerFulfillmentOrderId {order_id} already exists.")
        if settings.settlement_sim_carrier == "auto":
            await _queue(conn, order_id, "shipped", now + timedelta(seconds=settings.settlement_sim_ship_after_seconds))
            await _queue(conn, order_id, "delivered", now + timedelta(seconds=settings.settlement_sim_deliver_after_seconds))
    return {}


@fba.get("/fulfillmentOrders/{order_id}")
async def get_fulfillment_order(order_id: str, request: Request) -> dict:
    async with _reading(request) as conn:
        return _fulfillment_order(await _order(conn, order_id, _now()))


@fba.put("/fulfillmentOrders/{order_id}/cancel")
async def cancel_fulfillment_order(order_id: str, request: Request) -> dict:
    """Cancelled until it ships (again: the same answer); refused once it has."""
    now = _now()
    async with _writing(request) as conn:
        order = await _order(conn, order_id, now, lock=True)
        status, _ = order.status
        if status == "Received":
            await conn.execute(
                "UPDATE sim.amazon_fulfillment_orders SET cancelled_at = $2 WHERE seller_fulfillment_order_id = $1", order_id, now
            )
            await conn.execute("DELETE FROM sim.amazon_carrier_events WHERE seller_fulfillment_order_id = $1", order_id)  # none due yet
        elif status != "Cancelled":
            raise SpApiError(400, "InvalidInput", f"The fulfillment order is {status} and can no longer be cancelled.")
    return {}


@fba.put("/fulfillmentOrders/{order_id}/return")
async def create_fulfillment_return(order_id: str, body: CreateFulfillmentReturnRequest, request: Request) -> dict:
    """The items taken back share one new return authorization; an item asked for before is a DuplicateRequest,
    so a return asked again resolves to the authorization the order keeps."""
    settings, now = request.app.state.settings, _now()
    async with _writing(request) as conn:
        order = await _order(conn, order_id, now, lock=True)
        accepted, invalid = _judge_return(order, body.items)
        if not accepted:
            return {"payload": {"returnItems": [], "invalidReturnItems": invalid, "returnAuthorizations": []}}
        authorization = await conn.fetchrow(
            "INSERT INTO sim.amazon_return_authorizations (return_authorization_id, seller_fulfillment_order_id, fulfillment_center_id, "
            "amazon_rma_id, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING *",
            "RMA" + _random(string.ascii_uppercase + string.digits, 13),
            order_id,
            fulfillment_center(order_id).id,
            _random(string.ascii_letters + string.digits, 12),
            now,
        )
        items = await conn.fetchmany(
            "INSERT INTO sim.amazon_return_items (seller_fulfillment_order_id, seller_return_item_id, seller_fulfillment_order_item_id, "
            "amazon_shipment_id, seller_return_reason_code, return_comment, return_authorization_id, created_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *",
            [
                (
                    order_id,
                    item.seller_return_item_id,
                    item.seller_fulfillment_order_item_id,
                    item.amazon_shipment_id,
                    item.return_reason_code,
                    item.return_comment,
                    authorization["return_authorization_id"],
                    now,
                )
                for item in accepted
            ],
        )
        if settings.settlement_sim_carrier == "auto":
            await _queue(conn, order_id, "return_shipped", now + timedelta(seconds=settings.settlement_sim_ship_after_seconds))
            await _queue(conn, order_id, "return_received", now + timedelta(seconds=settings.settlement_sim_deliver_after_seconds))
    return {
        "payload": {
            "returnItems": [_return_item(order, item) for item in items],
            "invalidReturnItems": invalid,
            "returnAuthorizations": [_authorization(authorization)],
        }
    }


@fba.get("/tracking")
async def get_package_tracking_details(request: Request, package_number: int = Query(alias="packageNumber", ge=1, lt=2**63)) -> dict:
    unknown = SpApiError(400, "InvalidInput", f"No tracking details for package {package_number}.")
    async with _reading(request) as conn:
        order_id = await conn.fetchval(
            "SELECT seller_fulfillment_order_id FROM sim.amazon_fulfillment_orders WHERE package_number = $1", package_number
        )
        if order_id is None:
            raise unknown
        order = await _order(conn, order_id, _now())
    if order.parcel.shipped_at is None:
        raise unknown
    return _tracking(order)


# ---- the carrier's test driver ----------------------------------------------------------------------------


@driver.post("/orders/{order_id}/events", status_code=202)
async def report_carrier_event(order_id: str, body: EventBody, request: Request) -> dict:
    """Make the carrier report an event now (or after delay_seconds)."""
    async with _writing(request) as conn:
        order = await conn.fetchrow(
            "SELECT cancelled_at FROM sim.amazon_fulfillment_orders WHERE seller_fulfillment_order_id = $1 FOR UPDATE", order_id
        )
        if order is None:
            raise HTTPException(404, detail="no such fulfillment order")
        if order["cancelled_at"]:
            raise HTTPException(409, detail="the fulfillment order was cancelled: nothing of it ships")
        seq = await _queue(conn, order_id, body.type.value, _now() + timedelta(seconds=body.delay_seconds), body.tracking)
    return {"event_id": f"evt_amzn_{seq}"}


router.include_router(fba)
router.include_router(driver)
