"""`make demo`: a few minutes of a marketplace's business against the engine `make run` started, through its API and
its simulators only. Orders stream in from several regions and currencies; one region surges for the last part of
the run; some buyers dispute, some parcels arrive late or get lost, and one settled order is charged back. At the
end it prints what happened and where to see it. Every run uses order ids of its own, so it is safe to run twice.

DEMO_SECONDS (default 300) sets how long orders are placed; DEMO_RATE (default 1.2) how many a second, before the
surge. The surge is judged over one-minute intervals (the dashboard's address below asks for them)."""

import asyncio
import os
import random
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from db.ledger_summary import credited_by_account_kind
from domain.order_actions import Role
from operations.local import local_database_url, local_settings
from runtime.settings import Settings
from runtime.tokens import mint_token

MARKETPLACE = "demo_market"
SELLERS = ("seller_lumen", "seller_tidewater", "seller_oakline", "seller_kiso")
# (ship_to, currency, share of the orders)
REGIONS = (
    ({"country": "DE", "subdivision": "DE-BE"}, "EUR", 0.22),
    ({"country": "FR", "subdivision": "FR-75C"}, "EUR", 0.18),
    ({"country": "GB", "subdivision": "GB-LND"}, "GBP", 0.16),
    ({"country": "US", "subdivision": "US-CA"}, "USD", 0.18),
    ({"country": "US", "subdivision": "US-NY"}, "USD", 0.14),
    ({"country": "JP", "subdivision": "JP-13"}, "JPY", 0.12),
)
SURGING = "FR-75C"
SURGE_FACTOR = 5.0
SURGE_FROM = 0.6  # of the run
POLL_SECONDS = 2.0  # how often a story looks at its order
SURGE_WATCH_SECONDS = 10.0
# What the buyer, the carrier and the operator do (and how often)
STORIES = (("confirm", 0.62), ("window lapses", 0.12), ("dispute", 0.1), ("late", 0.08), ("lost", 0.06), ("cancel", 0.02))
FINISH_WITHIN = 120.0  # seconds after the last order for the stories to end
TERMINAL = {"settled", "refunded", "cancelled", "payment_failed"}


@dataclass
class Demo:
    api: httpx.AsyncClient
    sim: httpx.AsyncClient
    settings: Settings
    tokens: dict[str, dict[str, str]]
    run: str
    rng: random.Random
    outcomes: Counter
    surges_seen: dict[str, dict]  # region: the engine's judgement when first seen surging
    chargeback: str | None = None

    def headers(self, role: str) -> dict[str, str]:
        return self.tokens[role]

    def buyer(self, buyer_id: str) -> dict[str, str]:
        """The token of the order's own buyer: only they may confirm receipt or dispute."""
        if buyer_id not in self.tokens:
            self.tokens[buyer_id] = {"Authorization": f"Bearer {mint_token(self.settings, buyer_id, Role.BUYER)}"}
        return self.tokens[buyer_id]


def _pick(rng: random.Random, weighted):
    return rng.choices([w[0] for w in weighted], weights=[w[-1] for w in weighted])[0]


async def _status(demo: Demo, order_id: str) -> dict:
    return (await demo.api.get(f"/v1/orders/{order_id}", headers=demo.headers("operator"))).json()


async def _until(demo: Demo, order_id: str, statuses: set[str], deadline: float) -> dict:
    while True:
        view = await _status(demo, order_id)
        if view.get("status") in statuses or view.get("status") in TERMINAL or time.monotonic() > deadline:
            return view
        await asyncio.sleep(POLL_SECONDS)


async def one_order(demo: Demo, n: int, ship_to: dict, currency: str, story: str, deadline: float) -> None:
    rng, now = demo.rng, datetime.now(UTC)
    order = {
        "order_id": f"demo-{demo.run}-{n:05d}",
        "buyer_id": f"buyer_{rng.randrange(500)}",
        "seller_id": rng.choice(SELLERS),
        "marketplace": MARKETPLACE,
        "currency": currency,
        "items": [
            {
                "sku": f"sku-{rng.randrange(40)}",
                "quantity": rng.randint(1, 3),
                "unit_price": rng.randint(900, 9000) * (100 if currency == "JPY" else 1),
            }
        ],
        "shipping_fee": 499 if currency != "JPY" else 500,
        "payment_method": "pm_card_visa",
        "ship_to": ship_to,
    }
    if story == "window lapses":
        order["confirmation_window"] = "PT40S"
    if story == "late":  # the simulated carrier delivers 10 s after the order: deliver_by is before that
        order["ship_by"], order["deliver_by"] = (now + timedelta(seconds=8)).isoformat(), (now + timedelta(seconds=9)).isoformat()
    placed = await demo.api.post("/v1/orders", json=order, headers={**demo.headers("marketplace"), "Idempotency-Key": order["order_id"]})
    if placed.status_code != 201:
        demo.outcomes[f"refused at placement ({placed.status_code})"] += 1
        return
    order_id, buyer = order["order_id"], demo.buyer(order["buyer_id"])
    if story == "cancel":
        await _until(demo, order_id, {"awaiting_shipment"}, deadline)
        await demo.api.post(f"/v1/orders/{order_id}/cancel", json={"reason": "changed my mind"}, headers=demo.headers("operator"))
    elif story == "lost":
        await _until(demo, order_id, {"in_transit"}, deadline)
        await demo.sim.post(f"/fulfillment/orders/{order_id}/events", json={"type": "lost"})
    else:
        view = await _until(demo, order_id, {"awaiting_confirmation"}, deadline)
        if view.get("status") == "awaiting_confirmation" and story in ("confirm", "late"):
            await demo.api.post(f"/v1/orders/{order_id}/confirm-receipt", headers=buyer)
        elif view.get("status") == "awaiting_confirmation" and story == "dispute":
            reason = rng.choice(["not_as_described", "damaged", "missing_items"])
            await demo.api.post(
                f"/v1/orders/{order_id}/disputes", json={"reason": reason, "description": "not what I ordered"}, headers=buyer
            )
            outcome = rng.choice(["refund", "release"])
            await demo.api.post(
                f"/v1/orders/{order_id}/disputes/resolution",
                json={"outcome": outcome, "note": "decided in the demo"},
                headers=demo.headers("operator"),
            )
    final = await _until(demo, order_id, TERMINAL, deadline)
    demo.outcomes[final.get("status", "unknown") if final.get("status") in TERMINAL else "still open"] += 1
    if final.get("status") == "settled" and demo.chargeback is None:
        demo.chargeback = order_id
        await demo.sim.post("/psp/disputes", json={"order_id": order_id, "amount": final["amounts"]["total"] // 2})


def _tokens(settings: Settings) -> dict[str, dict[str, str]]:
    subjects = {"marketplace": MARKETPLACE, "operator": "ops_demo"}
    return {role: {"Authorization": f"Bearer {mint_token(settings, sub, Role(role))}"} for role, sub in subjects.items()}


async def main(seconds: float, rate: float) -> int:
    console, settings = Console(), local_settings()
    api_url = f"http://127.0.0.1:{settings.settlement_api_port}"
    async with (
        httpx.AsyncClient(base_url=api_url, timeout=30) as api,
        httpx.AsyncClient(base_url=settings.settlement_sim_url, timeout=30) as sim,
    ):
        try:
            ready = (await api.get("/readyz")).status_code == 200
        except httpx.TransportError:
            ready = False
        if not ready:
            console.print(f"[red]The engine does not answer at {api_url}: start `make run` in another terminal first.[/red]")
            return 1
        demo = Demo(api, sim, settings, _tokens(settings), uuid.uuid4().hex[:6], random.Random(), Counter(), {})
        started = time.monotonic()
        deadline = started + seconds + FINISH_WITHIN
        tasks, n, next_at = [], 0, started
        watching = asyncio.create_task(watch_surges(demo))
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:.0f}/{task.total:.0f}"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=console) as bar:
            placing = bar.add_task("placing orders (seconds)", total=seconds)
            while (elapsed := time.monotonic() - started) < seconds:
                surging = elapsed >= seconds * SURGE_FROM
                weights = [(r, c, w * (SURGE_FACTOR if surging and r["subdivision"] == SURGING else 1)) for r, c, w in REGIONS]
                ship_to, currency, _ = demo.rng.choices(weights, weights=[w for *_, w in weights])[0]
                tasks.append(asyncio.create_task(one_order(demo, n, ship_to, currency, _pick(demo.rng, STORIES), deadline)))
                n += 1
                described = f"placing orders ({n}{', surge in ' + SURGING if surging else ''})"
                bar.update(placing, completed=min(elapsed, seconds), description=described)
                # A Poisson stream's arrivals at their own times, however long the stories' work holds this loop up.
                next_at += demo.rng.expovariate(rate * sum(w for *_, w in weights))
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            bar.update(placing, completed=seconds)
            finishing = bar.add_task("letting the stories end (orders)", total=len(tasks))
            for done in asyncio.as_completed(tasks):
                await done
                bar.advance(finishing)
        watching.cancel()
        await summary(console, demo, n, api_url)
    return 0


async def watch_surges(demo: Demo) -> None:
    """Asks the engine for surges over one-minute intervals while the orders stream in, and keeps what it says."""
    params = {"interval": "PT1M", "marketplace": MARKETPLACE}
    while True:
        await asyncio.sleep(SURGE_WATCH_SECONDS)
        answer = await demo.api.get("/v1/insights/surges", params=params, headers=demo.headers("operator"))
        if answer.status_code == 200:
            for region in answer.json()["regions"]:
                if region["surging"]:
                    demo.surges_seen.setdefault(region["region"], {**region, "interval_start": answer.json()["interval_start"]})


async def money_moved(run: str) -> list[asyncpg.Record]:
    """What went into each kind of ledger account for this run's orders."""
    conn = await asyncpg.connect(local_database_url() or os.environ["DATABASE_URL"])
    try:
        return await credited_by_account_kind(conn, f"demo-{run}-")
    finally:
        await conn.close()


async def summary(console: Console, demo: Demo, placed: int, api_url: str) -> None:
    console.print(f"\n[bold]{placed} orders placed[/bold] (run {demo.run}, marketplace {MARKETPLACE})")
    for outcome, count in demo.outcomes.most_common():
        console.print(f"  {outcome:<28} {count}")
    console.print("\n[bold]Money moved, by kind of ledger account[/bold] (minor units credited)")
    for row in await money_moved(demo.run):
        console.print(f"  {row['kind']:<14} {row['currency'].strip()} {row['credited'] or 0:>14,}")
    console.print("\n[bold]Surges the engine detected[/bold] (one-minute intervals)")
    for region, judged in demo.surges_seen.items():
        console.print(
            f"  {region} in the minute from {judged['interval_start']}: {judged['orders']} orders against a baseline of "
            f"{judged['baseline']:.1f} ({judged['score']} deviations)"
        )
    if not demo.surges_seen:
        console.print("  none")
    if demo.chargeback:
        console.print(f"\nA chargeback was opened on {demo.chargeback}: its seller can give evidence (README: money after the sale).")
    console.print(f"\nThe dashboard: {api_url}/dashboard?surge_interval=PT1M  (log in with `settlement token --role operator --sub ops`)")


if __name__ == "__main__":
    sys.exit(asyncio.run(main(float(os.environ.get("DEMO_SECONDS", "300")), float(os.environ.get("DEMO_RATE", "1.2")))))
