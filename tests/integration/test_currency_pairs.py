"""Placement takes any pair of tradeable ISO 4217 currencies; a pair the FX source cannot quote is the FX
step's problem: the order parks in needs_attention at lock_fx_rate (it does not fail)."""


from domain import order_steps as steps

async def test_a_pair_the_simulated_source_cannot_quote_is_placed_then_parks_at_the_fx_step(engine):
    created = await engine.create(settlement_currency="NGN", seller_id="seller_ngn")  # the simulated rate table has no NGN
    order_id = created["order_id"]
    assert created["settlement_currency"] == "NGN"
    await engine.wait_for(order_id, "awaiting_shipment")
    await engine.carrier(order_id, "shipped")
    parked = await engine.wait_for(order_id, "needs_attention")
    assert parked["attention"]["step"] == steps.LOCK_FX.label
    assert "no reference rate for USD/NGN" in parked["attention"]["reason"]
    assert parked["fx"] is None
