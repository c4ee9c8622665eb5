"""Orders shipped through Amazon's network, end to end: a second API and worker (their own task queue) on the same
Temporal, PostgreSQL and simulators, configured with SETTLEMENT_FULFILLMENT_NETWORK=amazon against the simulators'
SP-API. The carrier reports through the simulated SP-API's driver; the worker learns of it only by reading Amazon."""

import asyncio
import uuid

import httpx
import pytest

from runtime.services import ServiceProcesses
from tests.integration.stack import Engine, free_port, new_order, token

ADDRESS = {
    "country": "US",
    "subdivision": "US-WA",
    "name": "Ada Buyer",
    "address_line1": "410 Terry Ave N",
    "city": "Seattle",
    "postal_code": "98109",
}


@pytest.fixture(scope="module")
async def amazon(services, tmp_path_factory):
    env = {
        **services.env,
        "TEMPORAL_TASK_QUEUE": "settlement-it-amazon",
        "SETTLEMENT_WORKER_METRICS_PORT": str(free_port()),
        "SETTLEMENT_FULFILLMENT_NETWORK": "amazon",
        "SETTLEMENT_AMAZON_ENDPOINT": f"{services.sim_url}/amazon",
        "SETTLEMENT_AMAZON_LWA_TOKEN_URL": f"{services.sim_url}/amazon/auth/o2/token",
        "SETTLEMENT_AMAZON_LWA_CLIENT_ID": "amzn1.application-oa2-client.it",
        "SETTLEMENT_AMAZON_LWA_CLIENT_SECRET": "it-client-secret",
        "SETTLEMENT_AMAZON_LWA_REFRESH_TOKEN": "Atzr|it",
        "SETTLEMENT_AMAZON_POLL_INTERVAL": "PT1S",
        "SETTLEMENT_AMAZON_READS_PER_SECOND": "20",
    }
    processes = ServiceProcesses(env=env, api_port=free_port(), sim_port=services.sim_port, log_dir=tmp_path_factory.mktemp("amazon-logs"))
    try:
        await asyncio.to_thread(processes.start, simulators=False)  # the simulators of the main stack
        async with (
            httpx.AsyncClient(base_url=processes.api_url, timeout=30) as api,
            httpx.AsyncClient(base_url=services.sim_url, timeout=30) as sim,
        ):
            yield Engine(api, sim)
    finally:
        await asyncio.to_thread(processes.stop)


async def carrier(engine: Engine, order_id: str, kind: str, tracking: str | None = None) -> None:
    body = {"type": kind, **({"tracking": tracking} if tracking else {})}
    response = await engine.sim.post(f"/amazon/_sim/orders/{order_id}/events", json=body)
    assert response.status_code in (200, 202), response.text


async def amazons_order(sim: httpx.AsyncClient, order_id: str) -> dict:
    """The fulfillment order as Amazon holds it, read through the simulated SP-API as any client would."""
    form = {"grant_type": "refresh_token", "refresh_token": "Atzr|it", "client_id": "it", "client_secret": "it"}
    access = (await sim.post("/amazon/auth/o2/token", data=form)).json()["access_token"]
    held = await sim.get(f"/amazon/fba/outbound/2020-07-01/fulfillmentOrders/{order_id}", headers={"x-amz-access-token": access})
    assert held.status_code == 200, held.text
    return held.json()["payload"]


async def test_an_order_without_a_street_address_is_refused(amazon):
    for ship_to, missing in ((None, "country, name"), ({"country": "US", "subdivision": "US-WA"}, "name, address_line1")):
        body = {"order_id": f"amz-{uuid.uuid4().hex[:10]}", **({"ship_to": ship_to} if ship_to else {})}
        response = await amazon.api.post("/v1/orders", json=new_order(**body), headers=token("marketplace", "market_a"))

        assert response.status_code == 422, response.text
        (error,) = response.json()["errors"]
        assert error["field"] == "ship_to" and missing in error["message"]


async def test_a_parcel_amazon_ships_and_delivers_settles_the_order(amazon):
    order = await amazon.create(order_id=f"amz-{uuid.uuid4().hex[:10]}", ship_to=ADDRESS)
    order_id = order["order_id"]
    assert order["ship_to"] == {**ADDRESS, "address_line2": None, "phone": None}

    await amazon.wait_for(order_id, "awaiting_shipment")
    held = await amazons_order(amazon.sim, order_id)
    assert held["fulfillmentOrder"]["destinationAddress"] == {
        "name": "Ada Buyer",
        "addressLine1": "410 Terry Ave N",
        "city": "Seattle",
        "stateOrRegion": "WA",
        "postalCode": "98109",
        "countryCode": "US",
    }
    assert [(i["sellerSku"], i["quantity"]) for i in held["fulfillmentOrderItems"]] == [("mug", 2)]
    await carrier(amazon, order_id, "shipped", "1ZAMAZONIT1")
    in_transit = await amazon.wait_for(order_id, "in_transit")
    assert in_transit["tracking"] == "1ZAMAZONIT1"
    await carrier(amazon, order_id, "delivered")
    await amazon.wait_for(order_id, "awaiting_confirmation")
    confirmed = await amazon.api.post(f"/v1/orders/{order_id}/confirm-receipt", headers=token("buyer", "buyer_a"))
    assert confirmed.status_code == 200, confirmed.text

    settled = await amazon.wait_for(order_id, "settled")
    statuses = [step["status"] for step in settled["timeline"]]
    assert statuses.count("in_transit") == 1 and statuses.count("awaiting_confirmation") == 1  # each event told once


async def test_a_cancelled_order_is_cancelled_at_amazon(amazon):
    order = await amazon.create(order_id=f"amz-{uuid.uuid4().hex[:10]}", ship_to=ADDRESS)
    order_id = order["order_id"]
    await amazon.wait_for(order_id, "awaiting_shipment")

    cancelled = await amazon.api.post(
        f"/v1/orders/{order_id}/cancel", json={"reason": "changed my mind"}, headers=token("buyer", "buyer_a")
    )
    assert cancelled.status_code == 200, cancelled.text
    await amazon.wait_for(order_id, "cancelled")

    held = await amazons_order(amazon.sim, order_id)
    assert held["fulfillmentOrder"]["fulfillmentOrderStatus"] == "Cancelled"


async def test_a_parcel_amazon_loses_refunds_the_buyer(amazon):
    order = await amazon.create(order_id=f"amz-{uuid.uuid4().hex[:10]}", ship_to=ADDRESS)
    order_id = order["order_id"]
    await amazon.wait_for(order_id, "awaiting_shipment")

    await carrier(amazon, order_id, "shipped")
    await amazon.wait_for(order_id, "in_transit")
    await carrier(amazon, order_id, "lost")

    refunded = await amazon.wait_for(order_id, "refunded")
    assert refunded["amounts"]["refunded"] == refunded["amounts"]["total"]


async def test_a_return_goes_back_through_amazon_and_refunds_the_buyer(amazon):
    order = await amazon.create(order_id=f"amz-{uuid.uuid4().hex[:10]}", ship_to=ADDRESS)
    order_id = order["order_id"]
    await amazon.wait_for(order_id, "awaiting_shipment")
    await carrier(amazon, order_id, "shipped")
    await carrier(amazon, order_id, "delivered")
    await amazon.wait_for(order_id, "awaiting_confirmation")
    dispute = {"reason": "not_as_described", "description": "not what the listing showed"}
    assert (await amazon.api.post(f"/v1/orders/{order_id}/disputes", json=dispute, headers=token("buyer", "buyer_a"))).status_code == 201
    resolution = {"outcome": "return_and_refund", "note": "send it back"}
    resolved = await amazon.api.post(f"/v1/orders/{order_id}/disputes/resolution", json=resolution, headers=token("operator", "ops"))
    assert resolved.status_code in (200, 202), resolved.text
    await amazon.wait_for(order_id, "awaiting_return")

    held = await amazons_order(amazon.sim, order_id)
    assert len(held["returnAuthorizations"]) == 1 and [i["status"] for i in held["returnItems"]] == ["New", "New"]
    await carrier(amazon, order_id, "return_shipped")
    await carrier(amazon, order_id, "return_received")

    refunded = await amazon.wait_for(order_id, "refunded")
    assert refunded["amounts"]["refunded"] == refunded["amounts"]["total"]
