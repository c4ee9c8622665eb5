"""The simulated Amazon fulfillment network (simulators/amazon.py), driven by the engine's real adapter
(adapters/amazon_fulfillment.py) in process over a real simulators' database: what the adapter reads back is
what the carrier was made to report, repeats are answered as Amazon answers them, tokens are checked, and the
fault knobs reach every call under /amazon but its test driver."""

import asyncio
import time
import uuid
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi import FastAPI

from adapters.amazon_fulfillment import AmazonFulfillmentNetwork, LwaCredentials
from adapters.errors import ProviderRejected, ProviderUnavailable
from domain.order_request import Item
from domain.providers import CancelFulfillmentRequest, CancelFulfillmentResult, FulfillmentOrderRequest, ProviderReference, ReturnRequest
from domain.ship_to import ShipTo
from domain.statuses import FulfillmentEventType as Type
from simulators import amazon, faults
from simulators.config import SimulatorSettings
from simulators.faults import AnswerLost, FaultInjection, Faults, InjectedFaults

MARKETPLACE = "ATVPDKIKX0DER"
ORDERS = "/fba/outbound/2020-07-01/fulfillmentOrders"
TRACKING = "/fba/outbound/2020-07-01/tracking"
BUYER = ShipTo(country="US", subdivision="US-MI", name="Ada Buyer", address_line1="1 Main St", city="Troy", postal_code="48084")


def carrier(mode: str = "manual", ship_after: float = 5.0, deliver_after: float = 10.0) -> SimulatorSettings:
    return SimulatorSettings.model_construct(
        settlement_sim_carrier=mode, settlement_sim_ship_after_seconds=ship_after, settlement_sim_deliver_after_seconds=deliver_after
    )


class Wire(httpx.ASGITransport):
    """The simulator in process. It keeps each call's answer; an answer the fault knobs drop mid-way breaks the
    connection, as it does over a socket."""

    def __init__(self, app: FastAPI):
        super().__init__(app=app)
        self.answers: list[tuple[str, str, int]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await super().handle_async_request(request)
        except AnswerLost as lost:
            raise httpx.RemoteProtocolError(str(lost), request=request) from lost
        self.answers.append((request.method, request.url.path.removeprefix("/amazon"), response.status_code))
        return response


@dataclass
class Sim:
    app: FastAPI
    client: httpx.AsyncClient
    wire: Wire
    credentials: LwaCredentials
    network: AmazonFulfillmentNetwork
    token: str | None = field(default=None, repr=False)

    async def report(self, order_id: str, kind: str, **body) -> httpx.Response:
        """The carrier's test driver."""
        return await self.client.post(f"/_sim/orders/{order_id}/events", json={"type": kind, **body})

    async def sp_api(self, method: str, path: str, **request) -> httpx.Response:
        """A call of our own, with an access token of our own."""
        if self.token is None:
            form = {"grant_type": "refresh_token", "refresh_token": "Atzr|test", "client_id": "test", "client_secret": "s"}
            self.token = (await self.client.post("/auth/o2/token", data=form)).json()["access_token"]
        return await self.client.request(method, path, headers={"x-amz-access-token": self.token}, **request)

    async def order(self, order_id: str) -> dict:
        answer = await self.sp_api("GET", f"{ORDERS}/{order_id}")
        assert answer.status_code == 200, answer.text
        return answer.json()["payload"]


@pytest.fixture
async def sim(sim_pool):
    app = FastAPI()
    app.include_router(amazon.router)
    app.include_router(faults.router)
    app.add_middleware(FaultInjection)
    app.state.pool, app.state.settings = sim_pool, carrier("manual")
    app.state.faults, app.state.injected_faults = Faults(), InjectedFaults()
    wire = Wire(app)
    credentials = LwaCredentials(
        client_id=f"amzn1.application-oa2-client.{uuid.uuid4().hex}",
        client_secret="s3cret",
        refresh_token="Atzr|refresh",
        token_url="http://sim/amazon/auth/o2/token",
    )
    async with httpx.AsyncClient(transport=wire, base_url="http://sim/amazon") as client:
        yield Sim(app, client, wire, credentials, AmazonFulfillmentNetwork(client, credentials, MARKETPLACE))


def order_request(order_id: str, items: tuple[tuple[str, int], ...] = (("SKU-A", 2), ("SKU-B", 1))) -> FulfillmentOrderRequest:
    return FulfillmentOrderRequest(
        idempotency_key=f"{order_id}:fulfil",
        order_id=order_id,
        seller_id="seller-1",
        items=[Item(sku=sku, quantity=quantity, unit_price=1000) for sku, quantity in items],
        ship_to=BUYER,
    )


async def placed(sim: Sim, *reported: str) -> str:
    """A new order, and the carrier events reported for it."""
    order_id = f"o-{uuid.uuid4().hex[:12]}"
    assert await sim.network.create_order(order_request(order_id)) == ProviderReference(id=order_id)
    for kind in reported:
        assert (await sim.report(order_id, kind)).status_code == 202
    return order_id


async def test_an_order_tells_nothing_until_shipped_then_its_tracking_and_its_delivery(sim):
    order_id = await placed(sim)
    assert await sim.network.poll(order_id) == []
    assert (await sim.order(order_id))["fulfillmentOrder"]["fulfillmentOrderStatus"] == "Received"

    reported = await sim.report(order_id, "shipped", tracking="1ZCARRIER0001")
    assert reported.status_code == 202 and reported.json()["event_id"].startswith("evt_")
    shipped = await sim.network.poll(order_id)
    assert [(e.type, e.tracking) for e in shipped] == [(Type.SHIPPED, "1ZCARRIER0001"), (Type.IN_TRANSIT, "1ZCARRIER0001")]
    assert await sim.network.poll(order_id) == shipped  # the same state, the same events
    order = await sim.order(order_id)
    assert order["fulfillmentOrder"]["fulfillmentOrderStatus"] == "Complete"
    [shipment] = order["fulfillmentShipments"]
    assert shipment["fulfillmentCenterId"] == amazon.fulfillment_center(order_id).id
    assert [(i["sellerFulfillmentOrderItemId"], i["quantity"]) for i in shipment["fulfillmentShipmentItem"]] == [
        (f"{order_id}-1", 2),
        (f"{order_id}-2", 1),
    ]

    await sim.report(order_id, "delivered")
    delivered = await sim.network.poll(order_id)
    assert [(e.event_id, e.tracking) for e in delivered] == [
        (shipped[0].event_id, "1ZCARRIER0001"),
        (f"amzn:{order_id}:order:delivered", "1ZCARRIER0001"),
    ]
    assert delivered[1].occurred_at >= delivered[0].occurred_at


@pytest.mark.parametrize(
    "reported, told",
    [
        (["shipped", "in_transit"], [Type.SHIPPED, Type.IN_TRANSIT]),
        (["shipped", "lost"], [Type.SHIPPED, Type.LOST]),
        (["shipped", "damaged"], [Type.SHIPPED, Type.IN_TRANSIT, Type.DAMAGED]),
        (["shipped", "return_shipped"], [Type.SHIPPED, Type.RETURN_SHIPPED]),
        (["shipped", "delivered", "return_shipped", "return_received"], [Type.SHIPPED, Type.RETURN_RECEIVED]),
        (["delivered"], [Type.SHIPPED, Type.DELIVERED]),  # reported out of order: it shipped first
        (["lost"], [Type.SHIPPED, Type.LOST]),
        (["shipped", "delivered", "in_transit"], [Type.SHIPPED, Type.DELIVERED]),  # a late scan does not undo the delivery
    ],
)
async def test_what_the_carrier_reports_is_what_the_adapter_tells(sim, reported, told):
    order_id = await placed(sim, *reported)
    assert [e.type for e in await sim.network.poll(order_id)] == told


async def test_a_tracking_number_reported_with_a_later_event_is_the_parcels(sim):
    order_id = await placed(sim)
    await sim.report(order_id, "delivered", tracking="TBA000111222")
    assert {e.tracking for e in await sim.network.poll(order_id)} == {"TBA000111222"}


async def test_a_create_repeated_with_the_same_items_is_success_and_with_other_items_a_rejection(sim):
    order_id = await placed(sim)

    assert await sim.network.create_order(order_request(order_id)) == ProviderReference(id=order_id)
    with pytest.raises(ProviderRejected, match="HTTP 400: InvalidInput: A fulfillment order with sellerFulfillmentOrderId"):
        await sim.network.create_order(order_request(order_id, (("SKU-Z", 1),)))
    creates = [status for method, path, status in sim.wire.answers if (method, path) == ("POST", ORDERS)]
    assert creates == [200, 400, 400]


async def test_an_order_is_cancelled_until_it_ships(sim):
    order_id = await placed(sim)
    cancel = CancelFulfillmentRequest(idempotency_key=f"{order_id}:cancel", order_id=order_id)
    assert await sim.network.cancel_order(cancel) == CancelFulfillmentResult(cancelled=True)
    assert await sim.network.cancel_order(cancel) == CancelFulfillmentResult(cancelled=True)  # asked again: the same
    order = await sim.order(order_id)
    assert order["fulfillmentOrder"]["fulfillmentOrderStatus"] == "Cancelled"
    assert [i["cancelledQuantity"] for i in order["fulfillmentOrderItems"]] == [2, 1]
    assert (await sim.report(order_id, "shipped")).status_code == 409  # nothing of it ships

    shipped_id = await placed(sim, "shipped")
    too_late = await sim.network.cancel_order(CancelFulfillmentRequest(idempotency_key="k", order_id=shipped_id))
    assert too_late == CancelFulfillmentResult(cancelled=False, shipped=True, detail="Amazon is past cancelling: the order is Complete")


async def test_a_return_is_authorized_once_and_received_when_the_parcel_is_back(sim):
    order_id = await placed(sim, "shipped", "delivered")
    ask = ReturnRequest(idempotency_key=f"{order_id}:return", order_id=order_id)

    authorization = await sim.network.request_return(ask)
    assert authorization.id.startswith("RMA")
    sim.wire.answers.clear()
    assert await sim.network.request_return(ask) == authorization  # every item a DuplicateRequest: the one on the order
    path = f"{ORDERS}/{order_id}"
    assert [(method, p) for method, p, _ in sim.wire.answers] == [("GET", path), ("PUT", f"{path}/return"), ("GET", path)]
    order = await sim.order(order_id)
    assert [(i["status"], i["returnAuthorizationId"]) for i in order["returnItems"]] == [("New", authorization.id)] * 3
    [held] = order["returnAuthorizations"]
    assert held["returnAuthorizationId"] == authorization.id
    assert held["fulfillmentCenterId"] == order["fulfillmentShipments"][0]["fulfillmentCenterId"]
    assert Type.RETURN_RECEIVED not in [e.type for e in await sim.network.poll(order_id)]

    await sim.report(order_id, "return_shipped")
    assert Type.RETURN_SHIPPED in [e.type for e in await sim.network.poll(order_id)]
    await sim.report(order_id, "return_received")
    received = {e.event_id for e in await sim.network.poll(order_id) if e.type == Type.RETURN_RECEIVED}
    assert f"amzn:{order_id}:returns:return_received" in received
    assert {i["status"] for i in (await sim.order(order_id))["returnItems"]} == {"Processed"}


async def test_a_return_of_what_did_not_ship_is_refused_for_its_reason(sim):
    order_id = await placed(sim)
    with pytest.raises(ProviderRejected, match="nothing was shipped"):
        await sim.network.request_return(ReturnRequest(idempotency_key="k", order_id=order_id))

    await sim.report(order_id, "shipped")
    shipment = (await sim.order(order_id))["fulfillmentShipments"][0]["amazonShipmentId"]
    unit = {
        "sellerReturnItemId": "r-1",
        "sellerFulfillmentOrderItemId": f"{order_id}-2",
        "amazonShipmentId": shipment,
        "returnReasonCode": "X",
    }
    items = [unit, {**unit, "sellerReturnItemId": "r-2"}, {**unit, "sellerReturnItemId": "r-3", "amazonShipmentId": "Dnone"}]
    answer = (await sim.sp_api("PUT", f"{ORDERS}/{order_id}/return", json={"items": items})).json()["payload"]
    assert [i["sellerReturnItemId"] for i in answer["returnItems"]] == ["r-1"]
    assert [(i["sellerReturnItemId"], i["invalidItemReason"]["invalidItemReasonCode"]) for i in answer["invalidReturnItems"]] == [
        ("r-2", "NoReturnableQuantity"),  # one unit shipped of that item
        ("r-3", "InvalidValues"),
    ]


async def test_in_auto_mode_the_order_ships_and_is_delivered_by_itself(sim):
    sim.app.state.settings = carrier("auto", ship_after=0.5, deliver_after=1.8)
    order_id = await placed(sim)
    started = time.monotonic()  # after the order was taken: it ships by started + 0.5 and is delivered by started + 1.8
    assert await sim.network.poll(order_id) == []

    await asyncio.sleep(max(0.0, started + 0.8 - time.monotonic()))
    assert [e.type for e in await sim.network.poll(order_id)] == [Type.SHIPPED, Type.IN_TRANSIT]
    await asyncio.sleep(max(0.0, started + 2.0 - time.monotonic()))
    delivered = await sim.network.poll(order_id)
    assert [e.type for e in delivered] == [Type.SHIPPED, Type.DELIVERED]
    assert delivered[1].occurred_at > delivered[0].occurred_at


async def test_calls_need_an_issued_access_token_and_a_refused_one_is_replaced(sim, sim_pool):
    for headers in ({"x-amz-access-token": "Atza|forged"}, {}):
        refused = await sim.client.get(f"{ORDERS}/any", headers=headers)
        assert refused.status_code == 403
        assert refused.json() == {"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied.", "details": ""}]}

    order_id = await placed(sim)
    await sim_pool.execute("UPDATE sim.amazon_access_tokens SET expires_at = now() WHERE client_id = $1", sim.credentials.client_id)
    sim.wire.answers.clear()
    assert await sim.network.poll(order_id) == []
    assert sim.wire.answers == [
        ("GET", f"{ORDERS}/{order_id}", 403),
        ("POST", "/auth/o2/token", 200),
        ("GET", f"{ORDERS}/{order_id}", 200),
    ]


async def test_login_with_amazon_refuses_an_incomplete_exchange(sim):
    form = {"grant_type": "refresh_token", "refresh_token": "Atzr|r", "client_id": "c", "client_secret": ""}
    incomplete = await sim.client.post("/auth/o2/token", data=form)
    assert incomplete.status_code == 400 and incomplete.json() == {"error": "invalid_request", "error_description": "missing client_secret"}
    other_grant = await sim.client.post("/auth/o2/token", data={**form, "client_secret": "s", "grant_type": "authorization_code"})
    assert other_grant.status_code == 400 and other_grant.json()["error"] == "unsupported_grant_type"
    issued = (await sim.client.post("/auth/o2/token", data={**form, "client_secret": "s"})).json()
    assert issued["access_token"].startswith("Atza|") and (issued["token_type"], issued["expires_in"]) == ("bearer", 3600)


async def test_unknown_orders_and_packages_are_refused_in_the_errors_shape(sim):
    unknown_order = await sim.sp_api("GET", f"{ORDERS}/o-never")
    assert unknown_order.status_code == 404 and unknown_order.json()["errors"][0]["code"] == "NotFound"
    for number in ("1", "abc"):
        unknown_package = await sim.sp_api("GET", TRACKING, params={"packageNumber": number})
        assert unknown_package.status_code == 400 and unknown_package.json()["errors"][0]["code"] == "InvalidInput"
    assert (await sim.sp_api("PUT", f"{ORDERS}/o-never/cancel")).status_code == 404
    assert (await sim.report("o-never", "shipped")).status_code == 404


async def test_a_package_s_tracking_is_in_the_models_shape(sim):
    order_id = await placed(sim, "shipped", "delivered")
    [package] = (await sim.order(order_id))["fulfillmentShipments"][0]["fulfillmentShipmentPackage"]
    details = (await sim.sp_api("GET", TRACKING, params={"packageNumber": package["packageNumber"]})).json()["payload"]
    assert (details["packageNumber"], details["trackingNumber"], details["carrierCode"]) == (
        package["packageNumber"],
        package["trackingNumber"],
        package["carrierCode"],
    )
    assert details["shipToAddress"] == {"city": "Troy", "state": "MI", "country": "US"}
    assert (details["currentStatus"], details["signedForBy"]) == ("DELIVERED", "Ada Buyer")
    assert [e["eventCode"] for e in details["trackingEvents"]] == ["EVENT_301", "EVENT_102"]  # the latest first


BODY = {
    "marketplaceId": MARKETPLACE,
    "sellerFulfillmentOrderId": "o-body",
    "displayableOrderId": "o-body",
    "displayableOrderDate": "2026-03-01T12:00:30Z",
    "displayableOrderComment": "Thank you for your order.",
    "shippingSpeedCategory": "Standard",
    "destinationAddress": {
        "name": "Ada",
        "addressLine1": "1 Main St",
        "city": "Troy",
        "stateOrRegion": "MI",
        "postalCode": "48084",
        "countryCode": "US",
    },
    "items": [{"sellerSku": "SKU-A", "sellerFulfillmentOrderItemId": "o-body-1", "quantity": 1}],
}


@pytest.mark.parametrize(
    "change",
    [
        {"sellerFulfillmentOrderId": "o" * 41},
        {"items": [{"sellerSku": "SKU-A", "sellerFulfillmentOrderItemId": "o-body-1", "quantity": 0}]},
        {"items": []},
        {"destinationAddress": {**BODY["destinationAddress"], "postalCode": ""}},
        {"destinationAddress": {k: v for k, v in BODY["destinationAddress"].items() if k != "city"}},
        {"shippingSpeedCategory": "Teleport"},
        {"displayableOrderDate": "yesterday"},
    ],
)
async def test_an_invalid_create_is_refused_as_invalid_input(sim, change):
    refused = await sim.sp_api("POST", ORDERS, json={**BODY, **change})
    assert refused.status_code == 400 and refused.json()["errors"][0]["code"] == "InvalidInput"


async def test_faults_reach_every_call_under_amazon_but_its_test_driver(sim):
    sim.app.state.faults = Faults(failure_rate=1.0)
    assert (await sim.client.post("/auth/o2/token", data={"grant_type": "refresh_token"})).status_code == 503
    assert (await sim.client.get(f"{ORDERS}/o-any")).status_code == 503
    assert (await sim.client.put(f"{ORDERS}/o-any/cancel")).status_code == 503
    assert (await sim.report("o-never", "shipped")).status_code == 404  # answered by the driver itself
    assert sim.app.state.injected_faults.transient == 3


async def test_a_create_whose_answer_was_lost_is_found_when_asked_again(sim):
    await placed(sim)  # the adapter holds its access token
    order_id = f"o-{uuid.uuid4().hex[:12]}"
    sim.app.state.faults = Faults(ambiguous_rate=1.0)
    with pytest.raises(ProviderUnavailable):
        await sim.network.create_order(order_request(order_id))
    injected = sim.app.state.injected_faults
    assert injected.performed_then_503 + injected.performed_then_dropped == 1

    sim.app.state.faults = Faults()
    assert await sim.network.create_order(order_request(order_id)) == ProviderReference(id=order_id)
    assert (await sim.order(order_id))["fulfillmentOrder"]["fulfillmentOrderStatus"] == "Received"
