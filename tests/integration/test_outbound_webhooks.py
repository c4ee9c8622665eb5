"""Outbound webhooks end to end: a marketplace and a seller register endpoints (a receiver on 127.0.0.1), an order's
steps reach both signed by the Standard Webhooks scheme from the worker's outbox, the marketplace reads its events
and replays one, nobody else sees them, and a disabled endpoint hears nothing more."""

import uuid

from tests.integration.stack import token
from tests.webhook_receiver import Receiver, verified


async def test_an_orders_steps_reach_its_marketplace_and_seller_signed_and_can_be_replayed(engine):
    async with Receiver() as receiver:  # in the test's own event loop
        await _orders_steps_are_told(engine, receiver)


async def _orders_steps_are_told(engine, receiver: Receiver) -> None:
    tag = uuid.uuid4().hex[:8]
    market, seller = f"mk-{tag}", f"seller-{tag}"
    mk, sl = token("marketplace", market), token("seller", seller)
    body = {"url": receiver.url("market"), "event_types": ["order.status_changed"]}
    created = await engine.api.post("/v1/webhook-endpoints", json=body, headers=mk)
    assert created.status_code == 201, created.text
    endpoint = created.json()
    assert endpoint["owner"] == f"marketplace:{market}" and endpoint["secret"].startswith("whsec_")
    seller_endpoint = (await engine.api.post("/v1/webhook-endpoints", json={"url": receiver.url("seller")}, headers=sl)).json()

    order_id = (await engine.create(marketplace=market, seller_id=seller))["order_id"]
    await engine.wait_for(order_id, "awaiting_shipment")
    deliveries = await receiver.until("market", 2)
    told = sorted((verified(endpoint["secret"], d) for d in deliveries), key=lambda e: e["timestamp"])  # sent side by side
    assert [(e["type"], e["data"]["order_id"], e["data"]["status"]) for e in told] == [
        ("order.status_changed", order_id, "payment_pending"),
        ("order.status_changed", order_id, "awaiting_shipment"),
    ]
    assert told[0]["data"]["marketplace"] == market and told[0]["data"]["seller_id"] == seller
    seller_told = sorted((verified(seller_endpoint["secret"], d) for d in await receiver.until("seller", 2)), key=lambda e: e["timestamp"])
    assert [e["data"]["status"] for e in seller_told] == ["payment_pending", "awaiting_shipment"]

    listed = (await engine.api.get("/v1/webhook-events", params={"limit": 200}, headers=mk)).json()["events"]
    ours = [e for e in listed if e["data"]["order_id"] == order_id]
    assert [e["data"]["status"] for e in ours] == ["awaiting_shipment", "payment_pending"]  # newest first
    assert all([(d["endpoint_id"], d["status"]) for d in e["deliveries"]] == [(endpoint["endpoint_id"], "delivered")] for e in ours)
    first_id = ours[-1]["event_id"]
    assert first_id in {headers["webhook-id"] for headers, _ in deliveries}

    replayed = await engine.api.post(f"/v1/webhook-events/{first_id}/replay", headers=mk)
    assert replayed.status_code == 202 and replayed.json()["deliveries"] == 1
    again = (await receiver.until("market", 3))[2]
    assert again[0]["webhook-id"] == first_id and verified(endpoint["secret"], again) == told[0]

    stranger = token("marketplace", "someone-else")
    assert (await engine.api.post(f"/v1/webhook-events/{first_id}/replay", headers=stranger)).status_code == 404
    others = (await engine.api.get("/v1/webhook-events", params={"limit": 200}, headers=stranger)).json()["events"]
    assert all(e["data"].get("order_id") != order_id for e in others)
    assert (await engine.api.delete(f"/v1/webhook-endpoints/{endpoint['endpoint_id']}", headers=stranger)).status_code == 404

    disabled = await engine.api.delete(f"/v1/webhook-endpoints/{endpoint['endpoint_id']}", headers=mk)
    assert disabled.status_code == 200 and disabled.json()["disabled_at"] is not None
    second = (await engine.create(marketplace=market, seller_id=seller))["order_id"]
    await engine.wait_for(second, "awaiting_shipment")
    await receiver.until("seller", 4)  # the seller's endpoint still hears of it
    assert len(receiver.got["market"]) == 3


async def test_registering_refuses_what_it_must(engine):
    mk = token("marketplace", "mk-refusals")
    for body in (
        {"url": "ftp://hooks.example.com/x"},
        {"url": "not a url"},
        {"url": "https://user:pass@hooks.example.com/x"},
        {"url": "https://hooks.example.com/x", "event_types": ["order.shipped"]},
        {"url": "https://hooks.example.com/x", "extra": 1},
    ):
        refused = await engine.api.post("/v1/webhook-endpoints", json=body, headers=mk)
        assert refused.status_code == 422, (body, refused.text)
    url = {"url": "https://hooks.example.com/x"}
    twice = {**url, "event_types": ["payout.paid", "payout.paid"]}
    assert (await engine.api.post("/v1/webhook-endpoints", json=twice, headers=mk)).json()["event_types"] == ["payout.paid"]
    assert (await engine.api.post("/v1/webhook-endpoints", json={**url, "owner": "marketplace:other"}, headers=mk)).status_code == 403
    assert (await engine.api.post("/v1/webhook-endpoints", json=url, headers=token("buyer", "b"))).status_code == 403
    ops = token("operator", "ops")
    assert (await engine.api.post("/v1/webhook-endpoints", json=url, headers=ops)).status_code == 403  # whose?
    made = await engine.api.post("/v1/webhook-endpoints", json={**url, "owner": "seller:s-ops"}, headers=ops)
    assert made.status_code == 201 and made.json()["owner"] == "seller:s-ops"
    listed = (await engine.api.get("/v1/webhook-endpoints", params={"owner": "seller:s-ops"}, headers=ops)).json()["endpoints"]
    assert [e["endpoint_id"] for e in listed] == [made.json()["endpoint_id"]] and "secret" not in listed[0]
