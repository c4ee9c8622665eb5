"""Multi-currency end to end: presentment and settlement currencies, exact rounding, locked FX rates."""

from decimal import Decimal

from domain import order_steps as steps
from domain.fx import convert
from domain.ledger import entry_key
from domain.order_state import workflow_id_for
from tests.integration.stack import token
from tests.ledger_reads import entries_for_order

BUYER, OPERATOR = token("buyer", "buyer_a"), token("operator", "ops")


async def _settle(engine, order_id: str) -> dict:
    await engine.ship_and_deliver(order_id)
    assert (await engine.api.post(f"/v1/orders/{order_id}/confirm-receipt", headers=BUYER)).status_code == 200
    return await engine.wait_for(order_id, "settled")


def _sums_by_currency(entry: dict) -> dict[str, int]:
    sums: dict[str, int] = {}
    for p in entry["postings"]:
        sums[p["currency"]] = sums.get(p["currency"], 0) + p["amount"]
    return sums


async def test_eur_order_settled_to_a_usd_seller(engine, pool):
    created = await engine.create(
        currency="EUR",
        settlement_currency="USD",
        seller_id="seller_usd",
        items=[{"sku": "lamp", "quantity": 1, "unit_price": 4999}],
        shipping_fee=0,
    )
    order_id = created["order_id"]
    assert created["settlement"] == {"currency": "USD", "paid_out": 0, "reimbursed": 0}
    settled = await _settle(engine, order_id)
    fx = settled["fx"]
    assert (fx["base"], fx["quote"], fx["spread_bps"]) == ("EUR", "USD", 50)
    assert Decimal(fx["rate"]) < Decimal(fx["mid_rate"])
    fees = settled["amounts"]["fees"]
    share_eur = 4999 - fees
    assert settled["amounts"]["paid_out"] == share_eur
    assert settled["settlement"]["paid_out"] == convert(share_eur, "EUR", "USD", Decimal(fx["rate"]))

    entries = {e["kind"]: e for e in await entries_for_order(pool, order_id)}
    assert set(entries) == {"capture", "release", "payout"}
    assert entries["capture"]["memo"]["fx"]["rate"] == fx["rate"]
    for entry in entries.values():
        assert all(total == 0 for total in _sums_by_currency(entry).values())
    release = {p["account"]: p["amount"] for p in entries["release"]["postings"]}
    assert release["fx:position:EUR"] == share_eur
    assert release["seller:seller_usd:USD"] == settled["settlement"]["paid_out"]
    assert release["platform:fx_gain_loss:USD"] == -release["fx:position:USD"] - settled["settlement"]["paid_out"]
    assert release["platform:fx_gain_loss:USD"] > 0
    assert entries["payout"]["postings"][0]["currency"] == "USD"
    payout = await pool.fetchrow("SELECT amount, currency FROM sim.psp_operations WHERE order_id = $1 AND operation = 'payout'", order_id)
    assert (payout["amount"], payout["currency"].strip()) == (settled["settlement"]["paid_out"], "USD")
    balance = (await engine.api.get("/v1/sellers/seller_usd/balance", headers=token("seller", "seller_usd"))).json()
    assert {
        "currency": "USD",
        "in_escrow": 0,
        "available": 0,
        "reserved": 0,
        "owed": 0,
        "paid_out": settled["settlement"]["paid_out"],
    } in balance["balances"]
    statement = (await engine.api.get("/v1/sellers/seller_usd/statement", headers=token("seller", "seller_usd"))).json()
    assert [(line["kind"], line["currency"]) for line in statement["lines"]] == [
        ("sale", "EUR"),
        ("referral_fee", "EUR"),
        ("fulfillment_fee", "EUR"),
        ("fx_conversion", "EUR"),
        ("fx_conversion", "USD"),
        ("payout", "USD"),
    ]
    assert statement["net_by_currency"] == {"EUR": 0, "USD": 0}


async def test_jpy_order_partly_refunded(engine, pool):
    created = await engine.create(currency="JPY", items=[{"sku": "tea", "quantity": 3, "unit_price": 1234}], shipping_fee=500)
    order_id = created["order_id"]
    assert created["amounts"]["total"] == 4202
    await engine.ship_and_deliver(order_id)
    await engine.api.post(
        f"/v1/orders/{order_id}/disputes", json={"reason": "missing_items", "description": "one tin missing"}, headers=BUYER
    )
    resolved = await engine.api.post(
        f"/v1/orders/{order_id}/disputes/resolution", json={"outcome": "partial_refund", "refund_amount": 1234}, headers=OPERATOR
    )
    assert resolved.status_code == 200, resolved.text
    settled = await engine.wait_for(order_id, "settled")
    a = settled["amounts"]
    # Remainder 2968 yen: referral 8 % = 237.44 -> 237; fulfillment 3 x 350 = 1050.
    assert (a["refunded"], a["fees"], a["paid_out"]) == (1234, 237 + 1050, 2968 - 1287)
    assert settled["fx"] is None
    refund = await pool.fetchrow("SELECT amount, currency FROM sim.psp_operations WHERE order_id = $1 AND operation = 'refund'", order_id)
    assert (refund["amount"], refund["currency"].strip()) == (1234, "JPY")


async def test_kwd_order_whose_fees_need_rounding(engine, pool):
    created = await engine.create(currency="KWD", items=[{"sku": "oud", "quantity": 1, "unit_price": 12345}], shipping_fee=0)
    # 8 % of 12.345 KWD is 0.9876 KWD: 987.6 fils, rounded half up to 988; fulfillment 0.750 KWD.
    assert created["fees"] == {"referral": 988, "fulfillment": 750}
    settled = await _settle(engine, created["order_id"])
    assert settled["amounts"]["paid_out"] == 12345 - 988 - 750
    release = next(e for e in await entries_for_order(pool, created["order_id"]) if e["kind"] == "release")
    assert sorted(p["amount"] for p in release["postings"]) == [-12345, 750, 988, 12345 - 988 - 750]


async def test_same_currency_order_is_unchanged(engine, pool):
    created = await engine.create(settlement_currency="USD")
    settled = await _settle(engine, created["order_id"])
    assert settled["fx"] is None
    assert settled["settlement"]["paid_out"] == settled["amounts"]["paid_out"]
    accounts = [p["account"] for e in await entries_for_order(pool, created["order_id"]) for p in e["postings"]]
    assert not any(a.startswith("fx:") or "fx_gain_loss" in a for a in accounts)


async def test_an_fx_quote_is_locked_once_per_key(engine):
    body = {"idempotency_key": entry_key(workflow_id_for("fx-probe"), steps.LOCK_FX.key), "base": "GBP", "quote": "JPY"}
    first = await engine.sim.post("/fx/quotes", json=body)
    again = await engine.sim.post("/fx/quotes", json=body)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert Decimal(first.json()["rate"]) < Decimal(first.json()["mid_rate"])
    other_pair = await engine.sim.post("/fx/quotes", json={**body, "quote": "USD"})
    assert other_pair.status_code == 400  # a definite refusal: a 409 would tell the engine to ask again
    unknown = await engine.sim.post("/fx/quotes", json={**body, "idempotency_key": "k2", "quote": "NGN"})
    assert unknown.status_code == 422
