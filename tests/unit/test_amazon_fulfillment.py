"""The Amazon fulfillment network driven offline: one httpx MockTransport plays Login with Amazon (issuing
Atza|1, Atza|2, ...) and the SP-API (answering each 'METHOD path' from a queue, in the model's shapes), and keeps
every request it was sent."""

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import httpx
import pytest

from adapters.amazon_fulfillment import AmazonFulfillmentNetwork, LwaCredentials, events_of
from adapters.errors import ProviderRejected, ProviderUnavailable
from domain.order_request import Item
from domain.order_state import FulfillmentEvent
from domain.providers import CancelFulfillmentRequest, CancelFulfillmentResult, FulfillmentOrderRequest, ProviderReference, ReturnRequest
from domain.ship_to import ShipTo
from domain.statuses import FulfillmentEventType as Type

SP_API = "https://sellingpartnerapi-na.amazon.com"
TOKEN_URL = "https://lwa.test/auth/o2/token"
CREDENTIALS = LwaCredentials(
    client_id="amzn1.application-oa2-client.1", client_secret="s3cret", refresh_token="Atzr|refresh", token_url=TOKEN_URL
)
MARKETPLACE = "ATVPDKIKX0DER"
ORDERS = "/fba/outbound/2020-07-01/fulfillmentOrders"
ORDER = f"{ORDERS}/order-1"
NOW = datetime(2026, 3, 1, 12, 0, 30, 123456, tzinfo=UTC)
BUYER = ShipTo(country="US", subdivision="US-MI", name="Ada Buyer", address_line1="1 Main St", city="Troy", postal_code="48084")
PACKAGE = 212794778
TRACKING = "1Z50V7420354708051"


class FakeClock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class FakeAmazon:
    def __init__(self, answers: dict[str, list] | None = None, token_answers: list[httpx.Response] | None = None):
        self.answers = {call: list(queue) for call, queue in (answers or {}).items()}
        self.token_answers = list(token_answers or [])
        self.sent: list[httpx.Request] = []
        self.tokens_issued = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        if str(request.url) == TOKEN_URL:
            if self.token_answers:
                return self.token_answers.pop(0)
            self.tokens_issued += 1
            token = {
                "access_token": f"Atza|{self.tokens_issued}",
                "token_type": "bearer",
                "expires_in": 3600,
                "refresh_token": "Atzr|refresh",
            }
            return httpx.Response(200, json=token)
        answer = self.answers[_call(request)].pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def calls(self) -> list[str]:
        return ["LWA" if str(r.url) == TOKEN_URL else _call(r) for r in self.sent]

    def tokens_sent(self) -> list[str | None]:
        return [r.headers.get("x-amz-access-token") for r in self.sent if str(r.url) != TOKEN_URL]

    def body_of(self, call: str) -> dict:
        return json.loads(next(r for r in self.sent if _call(r) == call).content)


def _call(request: httpx.Request) -> str:
    return f"{request.method} {request.url.raw_path.decode()}"


def network(amazon: FakeAmazon, clock: FakeClock | None = None) -> AmazonFulfillmentNetwork:
    client = httpx.AsyncClient(transport=httpx.MockTransport(amazon), base_url=SP_API)
    return AmazonFulfillmentNetwork(client, CREDENTIALS, MARKETPLACE, clock=clock or FakeClock(NOW))


def ok(body: dict | None = None, **headers: str) -> httpx.Response:
    return httpx.Response(200, json=body if body is not None else {}, headers=headers)


def refused(status: int, code: str = "InvalidInput", message: str = "refused", **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"errors": [{"code": code, "message": message, "details": ""}]}, headers=headers)


# ---- the model's answers ----------------------------------------------------------------------------


def fulfillment_order(status: str = "Complete", shipments: list | None = None, return_items: list | None = None) -> dict:
    return {
        "payload": {
            "fulfillmentOrder": {
                "sellerFulfillmentOrderId": "order-1",
                "marketplaceId": MARKETPLACE,
                "displayableOrderId": "order-1",
                "displayableOrderDate": "2026-03-01T12:00:30Z",
                "displayableOrderComment": "Thank you for your order.",
                "shippingSpeedCategory": "Standard",
                "destinationAddress": BUYER.model_dump(by_alias=True, exclude_none=True),
                "fulfillmentAction": "Ship",
                "fulfillmentPolicy": "FillOrKill",
                "receivedDate": "2026-03-01T12:01:00Z",
                "fulfillmentOrderStatus": status,
                "statusUpdatedDate": "2026-03-02T08:00:00Z",
            },
            "fulfillmentOrderItems": [
                {
                    "sellerSku": "SKU-A",
                    "sellerFulfillmentOrderItemId": "order-1-1",
                    "quantity": 2,
                    "cancelledQuantity": 0,
                    "unfulfillableQuantity": 0,
                },
                {
                    "sellerSku": "SKU-B",
                    "sellerFulfillmentOrderItemId": "order-1-2",
                    "quantity": 1,
                    "cancelledQuantity": 0,
                    "unfulfillableQuantity": 0,
                },
            ],
            "fulfillmentShipments": shipments or [],
            "returnItems": return_items or [],
            "returnAuthorizations": [],
        }
    }


def shipment(status: str = "SHIPPED", packages: list | None = None, shipment_id: str = "DchKfcZ9N") -> dict:
    return {
        "amazonShipmentId": shipment_id,
        "fulfillmentCenterId": "RNO1",
        "fulfillmentShipmentStatus": status,
        "shippingDate": "2026-03-02T07:30:00Z",
        "estimatedArrivalDate": "2026-03-05T20:00:00Z",
        "fulfillmentShipmentItem": [
            {"sellerSku": "SKU-A", "sellerFulfillmentOrderItemId": "order-1-1", "quantity": 2, "packageNumber": PACKAGE},
            {"sellerSku": "SKU-B", "sellerFulfillmentOrderItemId": "order-1-2", "quantity": 1, "packageNumber": PACKAGE},
        ],
        "fulfillmentShipmentPackage": [package()] if packages is None else packages,
    }


def package(number: int = PACKAGE, tracking_number: str = TRACKING) -> dict:
    return {
        "packageNumber": number,
        "carrierCode": "UPS",
        "trackingNumber": tracking_number,
        "estimatedArrivalDate": "2026-03-05T20:00:00Z",
    }


def tracking(status: str, *events: tuple[str, str], number: int = PACKAGE) -> dict:
    return {
        "payload": {
            "packageNumber": number,
            "trackingNumber": TRACKING,
            "carrierCode": "UPS",
            "shipDate": "2026-03-02T07:45:00Z",
            "currentStatus": status,
            "currentStatusDescription": status.title(),
            "trackingEvents": [
                {
                    "eventDate": date,
                    "eventAddress": {"city": "Troy", "state": "MI", "country": "US"},
                    "eventCode": code,
                    "eventDescription": code,
                }
                for code, date in events
            ],
        }
    }


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def event(kind: Type, when: str, about: object = PACKAGE, tracking: str | None = TRACKING, center: str | None = "RNO1") -> FulfillmentEvent:
    return FulfillmentEvent(
        event_id=f"amzn:order-1:{about}:{kind.value}",
        order_id="order-1",
        type=kind,
        occurred_at=at(when),
        tracking=tracking,
        fulfillment_center=center,
    )


SHIPPED = event(Type.SHIPPED, "2026-03-02T07:30:00Z")
IN_TRANSIT_EVENTS = (("EVENT_202", "2026-03-03T01:00:00Z"), ("EVENT_201", "2026-03-02T18:00:00Z"))


# ---- Login with Amazon --------------------------------------------------------------------------------


async def test_a_refresh_token_is_exchanged_once_and_its_access_token_sent_with_every_call():
    amazon = FakeAmazon({f"PUT {ORDER}/cancel": [ok(), ok(), ok()]})
    fba = network(amazon)

    for _ in range(3):
        await fba.cancel_order(CancelFulfillmentRequest(idempotency_key="k", order_id="order-1"))

    assert amazon.calls() == ["LWA", f"PUT {ORDER}/cancel", f"PUT {ORDER}/cancel", f"PUT {ORDER}/cancel"]
    exchange = amazon.sent[0]
    assert exchange.method == "POST"
    assert exchange.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(exchange.content.decode()) == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["Atzr|refresh"],
        "client_id": ["amzn1.application-oa2-client.1"],
        "client_secret": ["s3cret"],
    }
    assert amazon.tokens_sent() == ["Atza|1", "Atza|1", "Atza|1"]


async def test_a_new_access_token_is_asked_for_shortly_before_the_old_one_expires():
    clock = FakeClock(NOW)
    amazon = FakeAmazon({f"PUT {ORDER}/cancel": [ok(), ok(), ok()]})
    fba = network(amazon, clock)
    cancel = CancelFulfillmentRequest(idempotency_key="k", order_id="order-1")

    await fba.cancel_order(cancel)
    clock.now = NOW + timedelta(minutes=58, seconds=59)  # expires at one hour; renewed from a minute before
    await fba.cancel_order(cancel)
    clock.now = NOW + timedelta(minutes=59)
    await fba.cancel_order(cancel)

    assert amazon.calls() == ["LWA", f"PUT {ORDER}/cancel", f"PUT {ORDER}/cancel", "LWA", f"PUT {ORDER}/cancel"]
    assert amazon.tokens_sent() == ["Atza|1", "Atza|1", "Atza|2"]


async def test_a_refused_access_token_is_replaced_once():
    amazon = FakeAmazon({f"PUT {ORDER}/cancel": [refused(401, "Unauthorized", "The access token you provided has expired."), ok()]})

    result = await network(amazon).cancel_order(CancelFulfillmentRequest(idempotency_key="k", order_id="order-1"))

    assert result == CancelFulfillmentResult(cancelled=True)
    assert amazon.calls() == ["LWA", f"PUT {ORDER}/cancel", "LWA", f"PUT {ORDER}/cancel"]
    assert amazon.tokens_sent() == ["Atza|1", "Atza|2"]


async def test_refused_credentials_are_a_rejection_and_an_unreachable_lwa_is_unavailable():
    bad_client = httpx.Response(401, json={"error": "invalid_client", "error_description": "Client authentication failed"})
    amazon = FakeAmazon(token_answers=[bad_client])
    with pytest.raises(ProviderRejected, match="LWA token exchange: HTTP 401: invalid_client: Client authentication failed"):
        await network(amazon).poll("order-1")
    assert amazon.calls() == ["LWA"]

    amazon = FakeAmazon(token_answers=[httpx.Response(503, text="busy", headers={"Retry-After": "30"})])
    with pytest.raises(ProviderUnavailable, match="LWA token exchange: HTTP 503: busy") as unavailable:
        await network(amazon).poll("order-1")
    assert unavailable.value.retry_after == timedelta(seconds=30)
    assert amazon.calls() == ["LWA"]


# ---- createFulfillmentOrder --------------------------------------------------------------------------

ORDER_REQUEST = FulfillmentOrderRequest(
    idempotency_key="order-1:fulfil",
    order_id="order-1",
    seller_id="seller-1",
    items=[Item(sku="SKU-A", quantity=2, unit_price=1250), Item(sku="SKU-B", quantity=1, unit_price=500)],
    ship_to=BUYER,
)
CREATE_BODY = {
    "marketplaceId": MARKETPLACE,
    "sellerFulfillmentOrderId": "order-1",
    "displayableOrderId": "order-1",
    "displayableOrderDate": "2026-03-01T12:00:30Z",
    "displayableOrderComment": "Thank you for your order.",
    "shippingSpeedCategory": "Standard",
    "destinationAddress": {
        "name": "Ada Buyer",
        "addressLine1": "1 Main St",
        "city": "Troy",
        "stateOrRegion": "MI",
        "postalCode": "48084",
        "countryCode": "US",
    },
    "items": [
        {"sellerSku": "SKU-A", "sellerFulfillmentOrderItemId": "order-1-1", "quantity": 2},
        {"sellerSku": "SKU-B", "sellerFulfillmentOrderItemId": "order-1-2", "quantity": 1},
    ],
}


async def test_an_order_is_created_under_the_engines_order_id():
    amazon = FakeAmazon({f"POST {ORDERS}": [ok()]})

    reference = await network(amazon).create_order(ORDER_REQUEST)

    assert reference == ProviderReference(id="order-1")
    assert amazon.calls() == ["LWA", f"POST {ORDERS}"]
    assert amazon.body_of(f"POST {ORDERS}") == CREATE_BODY


@pytest.mark.parametrize(
    "ship_to, missing",
    [(None, "ship_to"), (ShipTo(country="US", subdivision="US-MI", name="Ada Buyer"), "address_line1, city, postal_code")],
)
async def test_an_order_without_a_street_address_is_refused_before_amazon_is_asked(ship_to, missing):
    amazon = FakeAmazon()

    with pytest.raises(ProviderRejected, match=f"missing {missing}"):
        await network(amazon).create_order(ORDER_REQUEST.model_copy(update={"ship_to": ship_to}))

    assert amazon.calls() == []


async def test_an_address_in_japan_goes_without_a_city():
    amazon = FakeAmazon({f"POST {ORDERS}": [ok()]})
    tokyo = ShipTo(country="JP", subdivision="JP-13", name="Aiko", address_line1="1-1 Chiyoda", city="Tokyo", postal_code="100-0001")

    await network(amazon).create_order(ORDER_REQUEST.model_copy(update={"ship_to": tokyo}))

    address = amazon.body_of(f"POST {ORDERS}")["destinationAddress"]
    assert address == {"name": "Aiko", "addressLine1": "1-1 Chiyoda", "stateOrRegion": "13", "postalCode": "100-0001", "countryCode": "JP"}


async def test_a_duplicate_create_is_success_when_amazon_holds_the_same_order():
    amazon = FakeAmazon(
        {
            f"POST {ORDERS}": [refused(400, message="Duplicate sellerFulfillmentOrderId")],
            f"GET {ORDER}": [ok(fulfillment_order("Processing"))],
        }
    )

    assert await network(amazon).create_order(ORDER_REQUEST) == ProviderReference(id="order-1")
    assert amazon.calls() == ["LWA", f"POST {ORDERS}", f"GET {ORDER}"]


@pytest.mark.parametrize(
    "held",
    [
        refused(404, "NotFound", "The requested fulfillment order was not found"),
        ok(
            {
                "payload": {
                    **fulfillment_order()["payload"],
                    "fulfillmentOrderItems": [{"sellerSku": "SKU-Z", "sellerFulfillmentOrderItemId": "order-1-1", "quantity": 1}],
                }
            }
        ),
    ],
    ids=["no such order", "another order under that id"],
)
async def test_a_refused_create_is_a_rejection_unless_amazon_holds_the_same_order(held):
    amazon = FakeAmazon({f"POST {ORDERS}": [refused(400, message="Invalid sellerSku")], f"GET {ORDER}": [held]})

    with pytest.raises(ProviderRejected, match="HTTP 400: InvalidInput: Invalid sellerSku"):
        await network(amazon).create_order(ORDER_REQUEST)
    assert amazon.calls() == ["LWA", f"POST {ORDERS}", f"GET {ORDER}"]


async def test_an_order_id_longer_than_amazon_takes_is_refused_without_asking():
    amazon = FakeAmazon()
    with pytest.raises(ProviderRejected, match="at most 40 characters"):
        await network(amazon).create_order(ORDER_REQUEST.model_copy(update={"order_id": "o" * 41}))
    assert amazon.calls() == []


# ---- cancelFulfillmentOrder ----------------------------------------------------------------------------

CANCEL = CancelFulfillmentRequest(idempotency_key="order-1:cancel", order_id="order-1")


async def test_a_cancel_amazon_accepts_is_cancelled():
    amazon = FakeAmazon({f"PUT {ORDER}/cancel": [ok()]})

    assert await network(amazon).cancel_order(CANCEL) == CancelFulfillmentResult(cancelled=True)
    assert amazon.calls() == ["LWA", f"PUT {ORDER}/cancel"]
    assert amazon.sent[1].content == b""


@pytest.mark.parametrize(
    ("status", "result"),
    [
        ("PROCESSING", CancelFulfillmentResult(cancelled=False, shipped=True, detail="Amazon is past cancelling: the order is PROCESSING")),
        ("Complete", CancelFulfillmentResult(cancelled=False, shipped=True, detail="Amazon is past cancelling: the order is Complete")),
        ("Cancelled", CancelFulfillmentResult(cancelled=True, detail="Amazon will ship nothing: the order is Cancelled")),
    ],
)
async def test_a_refused_cancel_is_explained_by_the_orders_status(status, result):
    amazon = FakeAmazon({f"PUT {ORDER}/cancel": [refused(400)], f"GET {ORDER}": [ok(fulfillment_order(status, [shipment()]))]})

    assert await network(amazon).cancel_order(CANCEL) == result
    assert amazon.calls() == ["LWA", f"PUT {ORDER}/cancel", f"GET {ORDER}"]


async def test_a_refused_cancel_of_an_order_still_cancellable_stays_a_rejection():
    amazon = FakeAmazon({f"PUT {ORDER}/cancel": [refused(400, message="bad request")], f"GET {ORDER}": [ok(fulfillment_order("Received"))]})

    with pytest.raises(ProviderRejected, match="bad request"):
        await network(amazon).cancel_order(CANCEL)


# ---- createFulfillmentReturn ----------------------------------------------------------------------------

RETURN = ReturnRequest(idempotency_key="order-1:return", order_id="order-1")
RETURN_ITEMS = [
    {"sellerReturnItemId": f"order-1-1-DchKfcZ9N-{unit}", "sellerFulfillmentOrderItemId": "order-1-1", "amazonShipmentId": "DchKfcZ9N"}
    for unit in (1, 2)
] + [{"sellerReturnItemId": "order-1-2-DchKfcZ9N-1", "sellerFulfillmentOrderItemId": "order-1-2", "amazonShipmentId": "DchKfcZ9N"}]


def return_item(item: dict, status: str = "New", authorization: str = "RMA3JTIPBJM42UU6") -> dict:
    return {
        **item,
        "sellerReturnReasonCode": "CR-UNWANTED_ITEM",
        "status": status,
        "statusChangedDate": "2026-03-10T09:00:00Z",
        "returnAuthorizationId": authorization,
    }


RETURN_ANSWER = {
    "payload": {
        "returnItems": [return_item(i) for i in RETURN_ITEMS],
        "invalidReturnItems": [],
        "returnAuthorizations": [
            {
                "returnAuthorizationId": "RMA3JTIPBJM42UU6",
                "fulfillmentCenterId": "TUS1",
                "returnToAddress": {
                    "name": "Returns Department",
                    "addressLine1": "5333 W. Lower Buckeye Road",
                    "city": "Phoenix",
                    "countryCode": "US",
                    "postalCode": "85043",
                },
                "amazonRmaId": "D50WttPHRRMA",
                "rmaPageURL": "https://www.amazon.com/gp/orc/rml/D50WttPHRRMA",
            }
        ],
    }
}


async def test_a_return_asks_for_every_unit_shipped_and_answers_the_return_authorization():
    amazon = FakeAmazon({f"GET {ORDER}": [ok(fulfillment_order("Complete", [shipment()]))], f"PUT {ORDER}/return": [ok(RETURN_ANSWER)]})

    assert await network(amazon).request_return(RETURN) == ProviderReference(id="RMA3JTIPBJM42UU6")
    assert amazon.calls() == ["LWA", f"GET {ORDER}", f"PUT {ORDER}/return"]
    assert amazon.body_of(f"PUT {ORDER}/return") == {"items": [{**i, "returnReasonCode": "CR-UNWANTED_ITEM"} for i in RETURN_ITEMS]}


async def test_a_return_asked_again_answers_the_authorization_given_the_first_time():
    duplicates = {
        "payload": {
            "returnItems": [],
            "returnAuthorizations": [],
            "invalidReturnItems": [
                {**i, "invalidItemReason": {"invalidItemReasonCode": "DuplicateRequest", "description": "already requested"}}
                for i in RETURN_ITEMS
            ],
        }
    }
    returned = fulfillment_order("Complete", [shipment()], [return_item(i) for i in RETURN_ITEMS])
    amazon = FakeAmazon(
        {f"GET {ORDER}": [ok(fulfillment_order("Complete", [shipment()])), ok(returned)], f"PUT {ORDER}/return": [ok(duplicates)]}
    )

    assert await network(amazon).request_return(RETURN) == ProviderReference(id="RMA3JTIPBJM42UU6")
    assert amazon.calls() == ["LWA", f"GET {ORDER}", f"PUT {ORDER}/return", f"GET {ORDER}"]


async def test_a_return_of_an_order_not_shipped_is_refused():
    amazon = FakeAmazon({f"GET {ORDER}": [ok(fulfillment_order("Processing", [shipment("PENDING", packages=[])]))]})

    with pytest.raises(ProviderRejected, match="nothing was shipped"):
        await network(amazon).request_return(RETURN)
    assert amazon.calls() == ["LWA", f"GET {ORDER}"]


async def test_a_return_amazon_finds_invalid_is_refused():
    invalid = {
        "payload": {
            "returnItems": [],
            "returnAuthorizations": [],
            "invalidReturnItems": [
                {**RETURN_ITEMS[0], "invalidItemReason": {"invalidItemReasonCode": "NoReturnableQuantity", "description": "-"}}
            ],
        }
    }
    amazon = FakeAmazon({f"GET {ORDER}": [ok(fulfillment_order("Complete", [shipment()]))], f"PUT {ORDER}/return": [ok(invalid)]})

    with pytest.raises(ProviderRejected, match="refused: NoReturnableQuantity"):
        await network(amazon).request_return(RETURN)


# ---- answers: refused for certain, or to be asked again -------------------------------------------


@pytest.mark.parametrize("status", [400, 404])
async def test_a_client_error_is_a_rejection(status):
    amazon = FakeAmazon({f"GET {ORDER}": [refused(status, "InvalidInput", "no")]})

    with pytest.raises(ProviderRejected, match=f"Amazon GET {ORDER}: HTTP {status}: InvalidInput: no"):
        await network(amazon).poll("order-1")
    assert amazon.calls() == ["LWA", f"GET {ORDER}"]


async def test_forbidden_twice_is_a_rejection():
    amazon = FakeAmazon({f"GET {ORDER}": [refused(403, "Unauthorized", "Access to requested resource is denied.")] * 2})

    with pytest.raises(ProviderRejected, match="HTTP 403: Unauthorized"):
        await network(amazon).poll("order-1")
    assert amazon.calls() == ["LWA", f"GET {ORDER}", "LWA", f"GET {ORDER}"]


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"Retry-After": "7", "x-amzn-RateLimit-Limit": "2.0"}, timedelta(seconds=7)),
        ({"x-amzn-RateLimit-Limit": "0.5"}, timedelta(seconds=2)),
        ({"Retry-After": "86400"}, timedelta(hours=1)),
        ({}, None),
    ],
)
async def test_too_many_requests_is_asked_again_after_the_wait_amazon_gives(headers, wait):
    amazon = FakeAmazon({f"POST {ORDERS}": [refused(429, "QuotaExceeded", "You exceeded your quota", **headers)]})

    with pytest.raises(ProviderUnavailable, match="HTTP 429: QuotaExceeded") as unavailable:
        await network(amazon).create_order(ORDER_REQUEST)
    assert unavailable.value.retry_after == wait


@pytest.mark.parametrize(
    "answer",
    [refused(500, "InternalFailure", "oops"), refused(503, "ServiceUnavailable", "later"), httpx.ReadTimeout("timed out")],
    ids=["500", "503", "timeout"],
)
async def test_a_server_error_or_a_timeout_is_asked_again(answer):
    amazon = FakeAmazon({f"POST {ORDERS}": [answer]})

    with pytest.raises(ProviderUnavailable) as unavailable:
        await network(amazon).create_order(ORDER_REQUEST)
    assert unavailable.value.retry_after is None
    assert amazon.calls() == ["LWA", f"POST {ORDERS}"]


# ---- status → events ----------------------------------------------------------------------------


def test_a_new_order_tells_nothing():
    assert events_of("order-1", fulfillment_order("Received")) == []
    assert events_of("order-1", fulfillment_order("Processing", [shipment("PENDING", packages=[])])) == []


def test_a_shipped_package_is_shipped_with_its_tracking_number():
    assert events_of("order-1", fulfillment_order("Complete", [shipment()])) == [SHIPPED]


def test_a_package_on_its_way_is_in_transit_from_the_carriers_first_scan():
    events = events_of("order-1", fulfillment_order("Complete", [shipment()]), {str(PACKAGE): tracking("IN_TRANSIT", *IN_TRANSIT_EVENTS)})

    assert events == [SHIPPED, event(Type.IN_TRANSIT, "2026-03-02T18:00:00Z")]
    assert all(e.occurred_at.tzinfo is not None for e in events)


@pytest.mark.parametrize("status", ["OUT_FOR_DELIVERY", "DELAYED", "DELIVERY_ATTEMPTED", "AVAILABLE_FOR_PICKUP", "CUSTOMER_ACTION"])
def test_a_package_still_with_the_carrier_is_in_transit(status):
    events = events_of("order-1", fulfillment_order("Complete", [shipment()]), {str(PACKAGE): tracking(status, *IN_TRANSIT_EVENTS)})

    assert [e.type for e in events] == [Type.SHIPPED, Type.IN_TRANSIT]


def test_a_delivered_package_is_delivered_when_the_carrier_says_so():
    delivered = tracking("DELIVERED", ("EVENT_301", "2026-03-04T15:20:00Z"), *IN_TRANSIT_EVENTS)

    events = events_of("order-1", fulfillment_order("Complete", [shipment()]), {str(PACKAGE): delivered})

    assert events == [SHIPPED, event(Type.DELIVERED, "2026-03-04T15:20:00Z", about="order")]


def test_an_order_is_delivered_only_once_every_package_is():
    two_packages = fulfillment_order("Complete", [shipment(packages=[package(1, "TRK1"), package(2, "TRK2")])])
    first_delivered = {
        "1": tracking("DELIVERED", ("EVENT_301", "2026-03-04T15:20:00Z"), number=1),
        "2": tracking("IN_TRANSIT", *IN_TRANSIT_EVENTS, number=2),
    }
    both_delivered = {**first_delivered, "2": tracking("DELIVERED", ("EVENT_301", "2026-03-05T10:00:00Z"), number=2)}

    assert Type.DELIVERED not in [e.type for e in events_of("order-1", two_packages, first_delivered)]
    delivered = [e for e in events_of("order-1", two_packages, both_delivered) if e.type == Type.DELIVERED]
    assert delivered == [
        FulfillmentEvent(
            event_id="amzn:order-1:order:delivered",
            order_id="order-1",
            type=Type.DELIVERED,
            occurred_at=at("2026-03-05T10:00:00Z"),
            tracking="TRK2",
            fulfillment_center="RNO1",
        )
    ]


def test_an_order_still_processing_is_not_delivered_while_a_shipment_is_pending():
    order = fulfillment_order("Processing", [shipment(), shipment("PENDING", packages=[], shipment_id="DzzzNext")])
    delivered = tracking("DELIVERED", ("EVENT_301", "2026-03-04T15:20:00Z"))

    assert events_of("order-1", order, {str(PACKAGE): delivered}) == [SHIPPED]


def test_an_undeliverable_package_is_lost():
    gone = tracking("UNDELIVERABLE", ("EVENT_416", "2026-03-06T11:00:00Z"), *IN_TRANSIT_EVENTS)

    events = events_of("order-1", fulfillment_order("Complete", [shipment()]), {str(PACKAGE): gone})

    assert events == [SHIPPED, event(Type.LOST, "2026-03-06T11:00:00Z")]


def test_a_package_the_carrier_lost_is_lost_unless_it_was_delivered_after_all():
    lost = tracking("IN_TRANSIT", ("EVENT_409", "2026-03-06T11:00:00Z"), *IN_TRANSIT_EVENTS)
    found = tracking("DELIVERED", ("EVENT_301", "2026-03-08T11:00:00Z"), ("EVENT_409", "2026-03-06T11:00:00Z"))
    order = fulfillment_order("Complete", [shipment()])

    assert event(Type.LOST, "2026-03-06T11:00:00Z") in events_of("order-1", order, {str(PACKAGE): lost})
    assert Type.LOST not in [e.type for e in events_of("order-1", order, {str(PACKAGE): found})]


def test_a_package_the_carrier_reports_damaged_is_damaged():
    damaged = tracking("RETURNING", ("EVENT_405", "2026-03-03T09:00:00Z"), ("EVENT_408", "2026-03-03T10:00:00Z"), *IN_TRANSIT_EVENTS)

    events = events_of("order-1", fulfillment_order("Complete", [shipment()]), {str(PACKAGE): damaged})

    assert events == [SHIPPED, event(Type.DAMAGED, "2026-03-03T09:00:00Z"), event(Type.RETURN_SHIPPED, "2026-03-03T10:00:00Z")]


def test_a_package_back_at_amazon_is_a_return_received():
    back = tracking("RETURNED", ("EVENT_309", "2026-03-09T16:00:00Z"), ("EVENT_408", "2026-03-07T10:00:00Z"))

    events = events_of("order-1", fulfillment_order("Complete", [shipment()]), {str(PACKAGE): back})

    assert events == [SHIPPED, event(Type.RETURN_RECEIVED, "2026-03-09T16:00:00Z")]


def test_a_return_is_received_once_amazon_processed_every_returned_item():
    delivered = {str(PACKAGE): tracking("DELIVERED", ("EVENT_301", "2026-03-04T15:20:00Z"))}
    partly = [return_item(RETURN_ITEMS[0], "Processed"), return_item(RETURN_ITEMS[1], "New")]
    fully = [
        return_item(RETURN_ITEMS[0], "Processed"),
        {**return_item(RETURN_ITEMS[1], "Processed"), "statusChangedDate": "2026-03-12T08:00:00Z"},
    ]

    assert Type.RETURN_RECEIVED not in [
        e.type for e in events_of("order-1", fulfillment_order("Complete", [shipment()], partly), delivered)
    ]
    assert events_of("order-1", fulfillment_order("Complete", [shipment()], fully), delivered)[-1] == event(
        Type.RETURN_RECEIVED, "2026-03-12T08:00:00Z", about="returns", tracking=None, center=None
    )


# ---- polling ------------------------------------------------------------------------------------


async def test_a_poll_reads_the_order_then_each_shipped_packages_tracking():
    order = fulfillment_order("Complete", [shipment(packages=[package(1, "TRK1"), package(2, "TRK2")])])
    amazon = FakeAmazon(
        {
            f"GET {ORDER}": [ok(order)],
            "GET /fba/outbound/2020-07-01/tracking?packageNumber=1": [ok(tracking("IN_TRANSIT", *IN_TRANSIT_EVENTS, number=1))],
            "GET /fba/outbound/2020-07-01/tracking?packageNumber=2": [refused(400, message="Tracking details not available")],
        }
    )

    events = await network(amazon).poll("order-1")

    assert amazon.calls() == [
        "LWA",
        f"GET {ORDER}",
        "GET /fba/outbound/2020-07-01/tracking?packageNumber=1",
        "GET /fba/outbound/2020-07-01/tracking?packageNumber=2",
    ]
    assert [(e.event_id, e.tracking) for e in events] == [
        ("amzn:order-1:1:shipped", "TRK1"),
        ("amzn:order-1:1:in_transit", "TRK1"),
        ("amzn:order-1:2:shipped", "TRK2"),
    ]


async def test_polling_the_same_state_twice_gives_the_same_events():
    order = fulfillment_order("Complete", [shipment()])
    delivered = tracking("DELIVERED", ("EVENT_301", "2026-03-04T15:20:00Z"), *IN_TRANSIT_EVENTS)
    amazon = FakeAmazon(
        {
            f"GET {ORDER}": [ok(order), ok(order)],
            f"GET /fba/outbound/2020-07-01/tracking?packageNumber={PACKAGE}": [ok(delivered), ok(delivered)],
        }
    )
    fba = network(amazon)

    first, second = await fba.poll("order-1"), await fba.poll("order-1")

    assert [e.event_id for e in first] == ["amzn:order-1:212794778:shipped", "amzn:order-1:order:delivered"]
    assert second == first
