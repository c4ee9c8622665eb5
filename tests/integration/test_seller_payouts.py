"""Money after the sale through the HTTP API, the dev server, PostgreSQL and the simulators: a weekly seller with a
reserve paid off-cycle by an operator, a chargeback after the payout taken from the next one, settlement reports in
JSON and CSV, an on-demand seller paying themselves, and the payments webhook refusing what it must."""

import asyncio
import csv
import io
import time
import uuid
from datetime import UTC, datetime

from tests.integration.stack import signed, token

OPERATOR = token("operator", "ops")
SHARE = 3000 - 240 - 500  # 2 mugs at 12.50 + 5.00 shipping, less 8 % referral and 2 x 2.50 fulfillment
HOLD = SHARE * 10 // 100


def seller_id() -> str:
    return f"pool-{uuid.uuid4().hex[:8]}"


async def settle_order(engine, seller: str) -> dict:
    created = await engine.create(seller_id=seller)
    await engine.ship_and_deliver(created["order_id"])
    confirmed = await engine.api.post(f"/v1/orders/{created['order_id']}/confirm-receipt", headers=token("buyer", "buyer_a"))
    assert confirmed.status_code == 200, confirmed.text
    return await engine.wait_for(created["order_id"], "settled")


async def balance(engine, seller: str) -> dict:
    response = await engine.api.get(f"/v1/sellers/{seller}/balance", headers=OPERATOR)
    assert response.status_code == 200, response.text
    (usd,) = response.json()["balances"]
    return usd


async def until_balance(engine, seller: str, **expected) -> dict:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        current = await balance(engine, seller)
        if all(current[k] == v for k, v in expected.items()):
            return current
        await asyncio.sleep(0.2)
    raise AssertionError(f"seller {seller} never held {expected}: {current}")


def dispute(order_id: str, amount: int, dispute_id: str, type_: str = "charge.dispute.created", **overrides) -> dict:
    event = {
        "event_id": f"evt-{uuid.uuid4().hex}",
        "type": type_,
        "dispute_id": dispute_id,
        "order_id": order_id,
        "amount": amount,
        "currency": "USD",
        "occurred_at": datetime.now(UTC).isoformat(),
    }
    return event | overrides


async def report(engine, seller: str, event: dict, **kwargs):
    body, headers = signed(event, **kwargs)
    return await engine.api.post("/v1/webhooks/payments", content=body, headers=headers)


async def test_a_weekly_seller_with_a_reserve_has_a_chargeback_after_payout_taken_from_the_next_payout(engine, pool):
    seller = seller_id()
    settings = {"schedule": "weekly", "reserve_percent": 10, "reserve_days": 7}
    put = await engine.api.put(f"/v1/sellers/{seller}/payout-settings", json=settings, headers=OPERATOR)
    assert put.status_code == 200, put.text
    assert (
        await engine.api.put(f"/v1/sellers/{seller}/payout-settings", json=settings, headers=token("seller", seller))
    ).status_code == 403
    mine = await engine.api.get(f"/v1/sellers/{seller}/payout-settings", headers=token("seller", seller))
    assert mine.json() == {"seller_id": seller, "minimum_payout": 0, "write_off_after_days": 90, **settings}

    first = await settle_order(engine, seller)
    assert first["payout"] == settings and first["amounts"]["paid_out"] == SHARE
    assert "paid out weekly" in first["timeline"][-1]["detail"]
    assert await balance(engine, seller) == {
        "currency": "USD",
        "in_escrow": 0,
        "available": SHARE - HOLD,
        "reserved": HOLD,
        "owed": 0,
        "paid_out": 0,
    }

    asked = await engine.api.post(f"/v1/sellers/{seller}/payouts", headers=token("seller", seller))
    assert asked.status_code == 409 and "not on demand" in asked.json()["detail"]
    paid = await engine.api.post(f"/v1/sellers/{seller}/payouts", headers=OPERATOR)
    assert paid.status_code == 200, paid.text
    (payout,) = paid.json()["payouts"]
    assert payout["amount"] == SHARE - HOLD
    await until_balance(engine, seller, available=0, paid_out=SHARE - HOLD)

    chargeback = dispute(first["order_id"], 1000, f"dp-{seller}")
    accepted = await report(engine, seller, chargeback)
    assert accepted.status_code == 202, accepted.text
    assert (await report(engine, seller, chargeback)).status_code == 202  # delivered twice
    await until_balance(engine, seller, owed=-1000)
    conflicting = await report(engine, seller, dispute(first["order_id"], 999, f"dp-{seller}"))
    assert conflicting.status_code == 409

    await settle_order(engine, seller)
    next_paid = await engine.api.post(f"/v1/sellers/{seller}/payouts", headers=OPERATOR)
    (recovering,) = next_paid.json()["payouts"]
    assert recovering["amount"] == SHARE - HOLD - 1000
    await until_balance(engine, seller, available=0, owed=0, reserved=2 * HOLD)

    listed = (await engine.api.get(f"/v1/sellers/{seller}/settlements", headers=token("seller", seller))).json()["settlements"]
    assert [s["settlement_id"] for s in listed] == [recovering["payout_id"], payout["payout_id"]]
    page = await engine.api.get(
        f"/v1/sellers/{seller}/settlements", params={"limit": 1, "after": listed[0]["settlement_id"]}, headers=OPERATOR
    )
    assert [s["settlement_id"] for s in page.json()["settlements"]] == [payout["payout_id"]]
    detail = await engine.api.get(f"/v1/sellers/{seller}/settlements/{recovering['payout_id']}", headers=token("seller", seller))
    settlement = detail.json()
    assert settlement["total"] == SHARE - HOLD - 1000 and settlement["status"] == "paid" and settlement["deposit_date"]
    lines = [(line["transaction_type"], line["amount"]) for line in settlement["lines"]]
    assert ("chargeback", -1000) in lines and ("reserve_held", -HOLD) in lines and ("sale", 3000) in lines
    assert sum(amount for _, amount in lines) == settlement["total"]

    as_csv = await engine.api.get(f"/v1/sellers/{seller}/settlements/{recovering['payout_id']}", headers={**OPERATOR, "Accept": "text/csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert rows[0]["total-amount"] == str(settlement["total"]) and rows[0]["transaction-type"] == ""
    assert sorted((r["transaction-type"], int(r["amount"])) for r in rows[1:]) == sorted(lines)

    statement = (await engine.api.get(f"/v1/sellers/{seller}/statement", headers=OPERATOR)).json()
    kinds = {line["kind"] for line in statement["lines"]}
    assert {"sale", "reserve_held", "chargeback", "debt_recovered", "payout"} <= kinds
    other = await engine.api.get(f"/v1/sellers/{seller}/settlements", headers=token("seller", "someone_else"))
    assert other.status_code == 404
    missing = await engine.api.get(f"/v1/sellers/{seller}/settlements/po:{seller}:USD:nope", headers=OPERATOR)
    assert missing.status_code == 404


async def test_an_on_demand_seller_is_paid_when_they_ask(engine):
    seller = seller_id()
    put = await engine.api.put(f"/v1/sellers/{seller}/payout-settings", json={"schedule": "on_demand"}, headers=OPERATOR)
    assert put.status_code == 200
    await settle_order(engine, seller)
    paid = await engine.api.post(f"/v1/sellers/{seller}/payouts", headers=token("seller", seller))
    assert paid.status_code == 200, paid.text
    assert [p["amount"] for p in paid.json()["payouts"]] == [SHARE]
    await until_balance(engine, seller, available=0, paid_out=SHARE)
    nothing = await engine.api.post(f"/v1/sellers/{seller}/payouts", headers=token("seller", seller))
    assert nothing.status_code == 200 and nothing.json()["payouts"] == []


async def test_a_per_order_seller_who_owes_has_their_next_order_credited_to_their_balance(engine):
    seller = seller_id()
    first = await settle_order(engine, seller)
    assert first["payout"]["schedule"] == "per_order" and first["amounts"]["paid_out"] == SHARE
    assert (await report(engine, seller, dispute(first["order_id"], 700, f"dp-{seller}"))).status_code == 202
    await until_balance(engine, seller, owed=-700)
    second = await settle_order(engine, seller)
    assert second["payout"]["schedule"] == "daily"  # credited to the balance, from which the next cut recovers the debt
    await until_balance(engine, seller, available=SHARE, owed=-700)


async def test_the_payments_webhook_refuses_what_it_must(engine, pool):
    seller = seller_id()
    order = await settle_order(engine, seller)
    order_id = order["order_id"]
    bad = await report(engine, seller, dispute(order_id, 100, "dp-x"), secret="not-the-secret")
    assert bad.status_code == 401 and bad.headers["content-type"] == "application/problem+json"
    assert (await report(engine, seller, dispute("no-such-order", 100, "dp-x"))).status_code == 404
    too_much = await report(engine, seller, dispute(order_id, 3001, "dp-x"))
    assert too_much.status_code == 422 and too_much.json()["errors"][0]["field"] == "amount"
    wrong_currency = await report(engine, seller, dispute(order_id, 100, "dp-x", currency="EUR"))
    assert wrong_currency.status_code == 422
    unknown = await report(engine, seller, dispute(order_id, 100, "dp-x", type="charge.refunded"))
    assert unknown.status_code == 422
    extra = await report(engine, seller, dispute(order_id, 100, "dp-x", note="hi"))
    assert extra.status_code == 422
    won = await report(engine, seller, dispute(order_id, 100, "dp-won", type_="charge.dispute.won"))
    assert won.status_code == 202  # a won notice before the opened one comes to the same books
    deadline = time.monotonic() + 30
    while await pool.fetchval("SELECT count(*) FROM ledger_entries WHERE idempotency_key LIKE 'chargeback:dp-won%'") < 2:
        assert time.monotonic() < deadline, "the won chargeback was never recorded"
        await asyncio.sleep(0.2)
    assert (await balance(engine, seller))["owed"] == 0


async def test_a_claim_after_payout_refunds_the_buyer_and_the_seller_at_fault_owes_it(engine, pool):
    seller = seller_id()
    put = await engine.api.put(f"/v1/sellers/{seller}/payout-settings", json={"schedule": "on_demand"}, headers=OPERATOR)
    assert put.status_code == 200
    order = await settle_order(engine, seller)
    order_id = order["order_id"]
    assert (await engine.api.post(f"/v1/sellers/{seller}/payouts", headers=token("seller", seller))).status_code == 200
    claim = {"claim_id": f"cl-{seller}", "amount": 1200, "fault": "seller", "reason": "arrived broken, reported after payout"}

    assert (await engine.api.post(f"/v1/orders/{order_id}/claims", json=claim, headers=token("seller", seller))).status_code == 403
    open_order = await engine.create(seller_id=seller)
    refused = await engine.api.post(f"/v1/orders/{open_order['order_id']}/claims", json=claim, headers=OPERATOR)
    assert refused.status_code == 409 and "settled order" in refused.json()["detail"]
    too_much = await engine.api.post(f"/v1/orders/{order_id}/claims", json={**claim, "amount": 3001}, headers=OPERATOR)
    assert too_much.status_code == 409 and "exceeds" in too_much.json()["detail"]

    accepted = await engine.api.post(f"/v1/orders/{order_id}/claims", json=claim, headers=OPERATOR)
    assert accepted.status_code == 202, accepted.text
    network = {"claim_id": f"cl-net-{seller}", "amount": 300, "fault": "fulfillment_network", "reason": "lost in the return"}
    assert (await engine.api.post(f"/v1/orders/{order_id}/claims", json=network, headers=OPERATOR)).status_code == 202
    await until_balance(engine, seller, owed=-1200)
    deadline = time.monotonic() + 30
    while True:
        operations = (await engine.sim.get("/psp/operations", params={"order_id": order_id})).json()["data"]
        refunds = sorted(op["amount"] for op in operations if op["operation"] == "refund")
        if refunds == [300, 1200]:
            break
        assert time.monotonic() < deadline, f"the claims were never refunded: {refunds}"
        await asyncio.sleep(0.2)
    again = await engine.api.post(f"/v1/orders/{order_id}/claims", json={**claim, "amount": 1100}, headers=OPERATOR)
    assert again.status_code == 409
    statement = (await engine.api.get(f"/v1/sellers/{seller}/statement", headers=OPERATOR)).json()
    claimed = sorted((line["amount"], line["seller_effect"]) for line in statement["lines"] if line["kind"] == "claim_refund")
    assert claimed == [(300, 0), (1200, -1200)]


async def until(fetch, done, what: str, timeout: float = 30.0):
    """Poll `fetch` until `done` holds of its answer."""
    deadline = time.monotonic() + timeout
    while True:
        answer = await fetch()
        if done(answer):
            return answer
        assert time.monotonic() < deadline, f"never {what}: {answer}"
        await asyncio.sleep(0.2)


async def test_a_seller_gives_evidence_for_a_chargeback_and_the_order_shows_what_went_back(engine):
    seller = seller_id()
    order_id = (await settle_order(engine, seller))["order_id"]
    dispute_id = f"dp-{seller}"
    opened = await engine.sim.post("/psp/disputes", json={"order_id": order_id, "amount": 800, "dispute_id": dispute_id})
    assert opened.status_code == 201, opened.text
    mine = token("seller", seller)
    chargebacks = f"/v1/sellers/{seller}/chargebacks"

    async def listed():
        return (await engine.api.get(chargebacks, headers=mine)).json()["chargebacks"]

    (chargeback,) = await until(listed, lambda found: len(found) == 1, "saw the provider's chargeback")
    assert (chargeback["dispute_id"], chargeback["amount"], chargeback["status"], chargeback["evidence"]) == (
        dispute_id,
        800,
        "opened",
        None,
    )
    assert (await engine.api.get(chargebacks, headers=token("seller", "someone-else"))).status_code == 404
    assert (await engine.api.get(f"{chargebacks}?after=dp-none", headers=mine)).status_code == 404

    evidence_url = f"{chargebacks}/{dispute_id}/evidence"
    evidence = {"explanation": "Signed for at the door.\r\nThe buyer thanked us by message.", "documents": ["invoice INV-1"]}
    for bad in ({}, {"explanation": ""}, {**evidence, "note": 1}, {"explanation": "a\x00b"}, {**evidence, "documents": ["x"] * 11}):
        refused = await engine.api.post(evidence_url, json=bad, headers=mine)
        assert refused.status_code == 422, (bad, refused.text)
    assert (await engine.api.post(evidence_url, json=evidence, headers=token("seller", "someone-else"))).status_code == 404
    assert (await engine.api.post(evidence_url, json=evidence, headers=token("buyer", "buyer_a"))).status_code == 403
    assert (await engine.api.post(f"{chargebacks}/dp-none/evidence", json=evidence, headers=mine)).status_code == 404
    given = await engine.api.post(evidence_url, json=evidence, headers=mine)
    assert given.status_code == 202, given.text
    assert given.json()["evidence_status"] == "pending" and given.json()["evidence"] == evidence

    async def chargeback_now():
        return (await engine.api.get(f"{chargebacks}/{dispute_id}", headers=mine)).json()

    await until(chargeback_now, lambda c: c["evidence_status"] == "submitted", "gave the provider the evidence")
    at_provider = (await engine.sim.get(f"/psp/disputes/{dispute_id}")).json()["evidence"]
    assert at_provider["explanation"] == evidence["explanation"] and at_provider["documents"] == evidence["documents"]
    assert at_provider["tracking_number"] == "TRACK1" and at_provider["delivered_at"] is not None  # the order's own proof

    claim = {"claim_id": f"cl-{seller}", "amount": 500, "fault": "seller", "reason": "a second item arrived broken"}
    assert (await engine.api.post(f"/v1/orders/{order_id}/claims", json=claim, headers=OPERATOR)).status_code == 202

    async def order_view():
        return (await engine.api.get(f"/v1/orders/{order_id}", headers=token("buyer", "buyer_a"))).json()

    seen = await until(order_view, lambda o: [c["status"] for c in o["after_the_sale"]["claims"]] == ["refunded"], "refunded the claim")
    after = seen["after_the_sale"]
    assert [(c["dispute_id"], c["amount"], c["status"], c["evidence_status"]) for c in after["chargebacks"]] == [
        (dispute_id, 800, "opened", "submitted")
    ]
    assert "evidence" not in after["chargebacks"][0]  # the seller's case is theirs and the operators'
    assert [(c["claim_id"], c["amount"], c["paid_by"]) for c in after["claims"]] == [(claim["claim_id"], 500, "seller")]
    assert after["left_to_give_back"] == 3000 - 800 - 500 and after["reconciliation"] == []
    too_much = await engine.api.post(
        f"/v1/orders/{order_id}/claims", json={**claim, "claim_id": f"cl2-{seller}", "amount": 1701}, headers=OPERATOR
    )
    assert too_much.status_code == 409 and "(1700)" in too_much.json()["detail"]

    assert (await engine.sim.post(f"/psp/disputes/{dispute_id}/close", json={"outcome": "lost"})).status_code == 200
    await until(chargeback_now, lambda c: c["status"] == "lost", "heard the dispute was lost")
    late = await engine.api.post(evidence_url, json=evidence, headers=mine)
    assert late.status_code == 409 and "lost" in late.json()["detail"]
    await until_balance(engine, seller, owed=-1300)
