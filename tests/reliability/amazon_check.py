"""What must hold at Amazon's (simulated) network once a chaos run on it is over: every order that got past its
authorization has exactly one fulfillment order there, one cancelled before shipment is cancelled there, and only
a returned order has a return authorization, exactly one, whatever the faults made the worker ask again."""

import asyncpg

from tests.reliability.driver import OrderRun

# Paths whose orders Amazon never hears of: the card was declined before any fulfillment order.
NEVER_SHIPPED = {"declined"}
CANCELLED_BEFORE_SHIPMENT = {"cancel"}
RETURNED = {"disp-return"}


async def amazon_problems(owner_url: str, runs: list[OrderRun]) -> dict[str, list[str]]:
    """Problems by order id; `owner_url` reaches the simulators' schema."""
    conn = await asyncpg.connect(owner_url)
    try:
        rows = await conn.fetch(
            """
            SELECT o.seller_fulfillment_order_id AS order_id, o.cancelled_at IS NOT NULL AS cancelled,
                   (SELECT count(*) FROM sim.amazon_return_authorizations r
                     WHERE r.seller_fulfillment_order_id = o.seller_fulfillment_order_id) AS returns
            FROM sim.amazon_fulfillment_orders o WHERE o.seller_fulfillment_order_id = ANY($1::text[])
            """,
            [r.order_id for r in runs],
        )
    finally:
        await conn.close()
    held = {row["order_id"]: row for row in rows}
    problems: dict[str, list[str]] = {}
    for run in runs:
        found = _problems(run.path.name, held.get(run.order_id))
        if found:
            problems[run.order_id] = found
    return problems


def _problems(path: str, held: asyncpg.Record | None) -> list[str]:
    if path in NEVER_SHIPPED:
        return [] if held is None else ["Amazon holds a fulfillment order for an order declined at authorization"]
    if held is None:
        return ["Amazon holds no fulfillment order"]
    found = []
    if held["cancelled"] != (path in CANCELLED_BEFORE_SHIPMENT):
        found.append(f"Amazon's order is {'cancelled' if held['cancelled'] else 'not cancelled'}")
    expected_returns = 1 if path in RETURNED else 0
    if held["returns"] != expected_returns:
        found.append(f"{held['returns']} return authorizations at Amazon, expected {expected_returns}")
    return found
