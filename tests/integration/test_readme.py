"""The README's commands cannot drift from the code: every shell block of the Walkthrough and the Runbook runs
with bash (`set -euo pipefail`) against the test stack, as a reader would paste it under `make run`, and what
its comments promise is checked. A placeholder (`<order_id>`, `<seller_id>`, an event id) is filled with a
real order prepared in the state the block is about. The stack's carrier is manual, so where the README
waits for the simulated carrier the test plays it."""

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from temporalio.client import WorkflowExecutionStatus

from domain import activity_names as act
from domain import order_steps as steps
from domain.order_state import workflow_id_for
from domain.search_attributes import ORDER_STATUS
from runtime import codec
from tests.integration.readme_shell import Terminal, refused_curls, shell_blocks
from tests.integration.stack import PAYLOAD_KEYS, Engine, token

REPOSITORY = Path(__file__).resolve().parents[2]
README_WALK = "walk-1"  # the walkthrough's order, as the README names it
WALK = f"walk-{uuid.uuid4().hex[:8]}"  # as this run names it: other tests of the session may have used walk-1
# The second walkthrough's orders and seller, as the README names them and as this run does.
SALE_AFTER = {"walk-2": f"walk-{uuid.uuid4().hex[:8]}", "walk-3": f"walk-{uuid.uuid4().hex[:8]}"}
README_WEEKLY, WEEKLY = "seller_weekly", f"weekly_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
async def terminal(services, database_url, temporal, tmp_path_factory) -> Terminal:
    """A reader's terminal beside a `make run`: `.venv` of the checkout, the payload key in `.data`, and the
    environment the CLIs find there (make run's CLI uses the database owner's address)."""
    cwd = tmp_path_factory.mktemp("readme")
    (cwd / ".venv").symlink_to(REPOSITORY / ".venv")
    (cwd / ".data").mkdir()
    (cwd / ".data" / "payload-keys").write_text(PAYLOAD_KEYS)
    env = {**services.child_env(), "DATABASE_URL": database_url, "SETTLEMENT_DATA_DIR": str(cwd / ".data")}
    rewrites = {
        "http://127.0.0.1:8000": services.api_url,
        "http://127.0.0.1:8100": services.sim_url,
        "127.0.0.1:7233": temporal.client.service_client.config.target_host,
        README_WALK: WALK,
        README_WEEKLY: WEEKLY,
        **SALE_AFTER,
    }
    return Terminal(cwd, env, rewrites)


@dataclass
class Step:
    """What the test does around the README block that contains `marker`: bring an order into the state the
    block is about (returning the placeholders' values), then check what the block's comments promise."""

    marker: str
    prepare: Callable[[], Awaitable[dict[str, str]]] | None = None
    check: Callable[[str, dict[str, str]], Awaitable[None]] | None = None
    ran: int = field(default=0)


async def run_section(terminal: Terminal, section: str, steps: list[Step]) -> None:
    blocks = shell_blocks(section)
    assert blocks, f"no shell block in the README's {section} section"
    for block in blocks:
        assert not refused_curls(block), f"a curl without --fail-with-body (or -f) exits 0 when refused: {refused_curls(block)}"
        step = next((s for s in steps if s.marker in block.text), Step(marker=""))
        fill = await step.prepare() if step.prepare else {}
        out = await terminal.run(block, fill)
        if step.check:
            await step.check(out, fill)
        step.ran += 1
    assert [s.marker for s in steps if s.ran != 1] == [], "each checked step is one README block"


def documents(out: str) -> list:
    """The JSON documents in a block's output (curl prints them back to back), skipping other lines."""
    decoder, found, i = json.JSONDecoder(), [], 0
    while i < len(out):
        if out[i] in "{[":
            value, i = decoder.raw_decode(out, i)
            found.append(value)
        else:
            i += 1
    return found


async def delivered(engine: Engine, order_id: str) -> dict[str, str]:
    """What make run's carrier does by itself within 10 s of an order's creation."""
    await engine.wait_for(order_id, "awaiting_shipment")
    await engine.carrier(order_id, "shipped")
    await engine.wait_for(order_id, "in_transit")
    await engine.carrier(order_id, "delivered")
    await engine.wait_for(order_id, "awaiting_confirmation")
    return {}


async def run_walkthrough(terminal: Terminal, engine: Engine) -> None:
    async def created(out, _):
        assert documents(out)[0]["order_id"] == WALK
        engine.created.append(WALK)

    async def carrier_delivers():
        return await delivered(engine, WALK)

    def status_is(expected):
        async def check(out, _):
            assert documents(out)[0]["status"] == expected, out

        return check

    async def settled():
        await engine.wait_for(WALK, "settled")
        return {}

    async def paid_and_balanced(out, _):
        order, balance = documents(out)[:2]
        assert order["status"] == "settled"
        assert balance["balances"] == [{"currency": "USD", "in_escrow": 0, "available": 0, "reserved": 0, "owed": 0, "paid_out": 2260}]
        assert out.rstrip().endswith("ledger invariants hold")

    await run_section(
        terminal,
        "Walkthrough: from order to payout",
        [
            Step("token --role marketplace"),
            Step(f'"order_id": "{README_WALK}"', check=created),
            Step('# "status": "awaiting_confirmation"', prepare=carrier_delivers, check=status_is("awaiting_confirmation")),
            Step("confirm-receipt", check=status_is("payout_pending")),
            Step('# "status": "settled"', prepare=settled, check=paid_and_balanced),
        ],
    )


async def test_walkthrough_takes_an_order_to_payout(terminal, engine):
    await run_walkthrough(terminal, engine)


async def test_walkthrough_money_after_the_sale(terminal, engine):
    if (await engine.get(WALK)).status_code == 404:  # its tokens are the first walkthrough's
        await run_walkthrough(terminal, engine)
    second, third = SALE_AFTER["walk-2"], SALE_AFTER["walk-3"]
    ops = token("operator", "ops")

    async def weekly(out, _):
        assert documents(out)[0] == {
            "seller_id": WEEKLY,
            "schedule": "weekly",
            "minimum_payout": 0,
            "reserve_percent": 10,
            "reserve_days": 7,
            "write_off_after_days": 90,
        }

    def created(order_id):
        async def check(out, _):
            assert documents(out)[0]["order_id"] == order_id and documents(out)[0]["payout"]["schedule"] == "weekly"
            engine.created.append(order_id)

        return check

    def carrier_delivers(order_id):
        async def prepare():
            return await delivered(engine, order_id)

        return prepare

    async def balance_held(out, _):
        (usd,) = documents(out)[-1]["balances"]
        assert (usd["available"], usd["reserved"], usd["owed"]) == (2034, 226, 0)

    async def paid_then_owed(out, _):
        assert [p["amount"] for p in documents(out)[0]["payouts"]] == [2034]
        for _ in range(100):  # the provider's webhook reaches the engine within moments
            (usd,) = (await engine.api.get(f"/v1/sellers/{WEEKLY}/balance", headers=ops)).json()["balances"]
            if usd["owed"] == -1000:
                return
            await asyncio.sleep(0.2)
        raise AssertionError(f"the chargeback was never owed: {usd}")

    async def evidence_given(out, _):
        given, order = documents(out)[:2]
        assert (given["dispute_id"], given["evidence_status"]) == (f"dp-{second}", "pending")
        ((chargeback,), claims) = order["after_the_sale"]["chargebacks"], order["after_the_sale"]["claims"]
        assert (chargeback["amount"], chargeback["status"], claims) == (1000, "opened", [])
        for _ in range(100):  # the seller's workflow hands it to the provider within moments
            held = (await engine.sim.get(f"/psp/disputes/dp-{second}")).json()["evidence"]
            if held:
                assert held["tracking_number"] and held["documents"] == [f"invoice {second}"]
                return
            await asyncio.sleep(0.2)
        raise AssertionError("the provider never received the evidence")

    async def recovered(out, fill):
        payout, listing = documents(out)[:2]
        assert [p["amount"] for p in payout["payouts"]] == [1034]
        assert [s["total"] for s in listing["settlements"]] == [1034, 2034]
        fill_csv["<settlement_id>"] = listing["settlements"][0]["settlement_id"]

    fill_csv: dict[str, str] = {}

    async def csv_settlement():
        return fill_csv

    async def flat_file(out, _):
        rows = out.strip().splitlines()
        assert rows[0].startswith("settlement-id,settlement-start-date") and ",1034,USD," in rows[1]
        lines = sorted(row.split(",")[6:9] for row in rows[2:])
        assert lines == sorted(
            [["chargeback", second, "-1000"], ["sale", third, "3000"], ["referral_fee", third, "-240"]]
            + [["fulfillment_fee", third, "-500"], ["reserve_held", third, "-226"]]
        )

    await run_section(
        terminal,
        "Walkthrough: money after the sale",
        [
            Step("payout-settings", check=weekly),
            Step("/psp/disputes", check=paid_then_owed),  # before walk-2's: its body names the order too
            Step("/evidence", check=evidence_given),
            Step('"order_id": "walk-2"', check=created(second)),
            Step("walk-2/confirm-receipt", prepare=carrier_delivers(second), check=balance_held),
            Step('"order_id": "walk-3"', check=created(third)),
            Step("walk-3/confirm-receipt", prepare=carrier_delivers(third), check=recovered),
            Step("<settlement_id>", prepare=csv_settlement, check=flat_file),
        ],
    )


async def test_runbook(terminal, engine, temporal, pool):
    if (await engine.get(WALK)).status_code == 404:  # the runbook replays the walkthrough's order
        await run_walkthrough(terminal, engine)
    orders = Orders(engine, temporal)
    stuck = {}

    async def stuck_order():
        stuck["id"] = await orders.parked_at_capture(seller_id="seller_demo", buyer_id="buyer_demo", marketplace="demo_market")
        return {}

    async def stuck_order_found(out, _):
        assert out.count(f"{workflow_id_for(stuck['id'])}\tneeds_attention") == 2, out  # by both `find`s
        assert stuck["id"] in [o["order_id"] for o in documents(out)[-1]["orders"]]

    async def rejecting_seller():
        seller = f"sim_payout_reject_{uuid.uuid4().hex[:6]}"
        stuck["payout"] = await orders.parked_at_payout(seller)
        return {"<seller_id>": seller}

    async def account_fixed(out, fill):
        assert documents(out)[0] == {"seller_id": fill["<seller_id>"], "rejects": False}
        assert (await engine.api.post(f"/v1/orders/{stuck['payout']}/retry", headers=token("operator", "ops"))).status_code == 200
        await engine.wait_for(stuck["payout"], "settled")  # the payout now goes through

    async def fixed_payout():
        seller = f"sim_payout_reject_{uuid.uuid4().hex[:6]}"
        order_id = await orders.parked_at_payout(seller)
        assert (await engine.sim.put(f"/psp/payout-accounts/{seller}", json={"rejects": False})).status_code == 200
        return {"<order_id>": order_id}

    def ends(status):
        async def check(_, fill):
            await engine.wait_for(fill["<order_id>"], status)

        return check

    async def retried(out, fill):
        assert out.startswith(f"{fill['<order_id>']}: "), out  # its status once the step runs again
        await engine.wait_for(fill["<order_id>"], "settled")

    async def refused_capture():
        return {"<order_id>": await orders.parked_at_capture()}

    async def settled_order():
        order_id = await orders.settled()
        orders.moved[order_id] = await orders.money_moved(pool, order_id)
        orders.runs[order_id] = (await temporal.client.get_workflow_handle(workflow_id_for(order_id)).describe()).run_id
        return {"<order_id>": order_id, "<WorkflowTaskCompleted id>": str(await orders.before_payout(order_id))}

    async def history_shown(out, _):
        assert "WorkflowTaskCompleted" in out and "WorkflowExecutionCompleted" in out

    async def reset_moved_nothing(_, fill):
        order_id = orders.last_reset = fill["<order_id>"]
        assert await orders.wait_closed(order_id) == WorkflowExecutionStatus.COMPLETED
        assert (await temporal.client.get_workflow_handle(workflow_id_for(order_id)).describe()).run_id != orders.runs[
            order_id
        ]  # a new run
        assert await orders.money_moved(pool, order_id) == orders.moved[order_id]

    async def last_reset():
        return {"<order_id>": orders.last_reset}

    async def refreshed(out, fill):
        assert out.strip() == f"{fill['<order_id>']}: settled"
        assert (await engine.get(fill["<order_id>"])).json()["status"] == "settled"

    async def replayed(out, _):
        assert f"ok   {workflow_id_for(WALK)}" in out and f"ok   {workflow_id_for(stuck['id'])}" in out
        assert out.count(" 0 nondeterministic") == 2, out
        assert (terminal.cwd / "tests" / "histories" / f"{workflow_id_for(WALK)}.json").exists()

    async def rotated(_, __):
        active, keys = codec.parse_keys(await terminal.value("SETTLEMENT_PAYLOAD_KEYS"))
        assert active == "k2" and set(keys) == {"k2", *codec.parse_keys(PAYLOAD_KEYS)[1]}
        history = await temporal.client.get_workflow_handle(workflow_id_for(WALK)).fetch_history()
        started = history.events[0].workflow_execution_started_event_attributes.input.payloads[0]
        [decoded] = await codec.data_converter(await terminal.value("SETTLEMENT_PAYLOAD_KEYS")).payload_codec.decode([started])
        assert json.loads(decoded.data)["order_id"] == WALK  # histories written under the old key still decode

    await run_section(
        terminal,
        "Runbook",
        [
            Step("token --role operator"),
            Step("settlement find", prepare=stuck_order, check=stuck_order_found),
            Step("payout-accounts/<seller_id>", prepare=rejecting_seller, check=account_fixed),
            Step("settlement retry <order_id>", prepare=fixed_payout, check=retried),
            Step("/<order_id>/retry", prepare=fixed_payout, check=ends("settled")),
            Step("/<order_id>/cancel", prepare=refused_capture, check=ends("cancelled")),
            Step("temporal workflow show", prepare=settled_order, check=history_shown),
            Step('<WorkflowTaskCompleted id> --reason "why"', prepare=settled_order, check=reset_moved_nothing),
            Step("LastWorkflowTask", prepare=settled_order, check=reset_moved_nothing),
            Step("--reapply-exclude Update", prepare=settled_order, check=reset_moved_nothing),
            Step("settlement refresh", prepare=last_reset, check=refreshed),
            Step("settlement replay", check=replayed),
            Step("generate_key", check=rotated),
        ],
    )
    await engine.api.post(f"/v1/orders/{stuck['id']}/cancel", headers=token("operator", "ops"), json={"reason": "readme test done"})
    await engine.wait_for(stuck["id"], "cancelled")


@dataclass
class Orders:
    """Orders in the states the runbook's blocks are about."""

    engine: Engine
    temporal: object
    moved: dict = field(default_factory=dict)
    runs: dict = field(default_factory=dict)
    last_reset: str = ""

    async def parked_at_capture(self, **overrides) -> str:
        order_id = (await self.engine.create(payment_method="pm_card_capture_fails", **overrides))["order_id"]
        await self.engine.wait_for(order_id, "awaiting_shipment")
        assert (await self.engine.webhook(order_id, "shipped")).status_code == 202
        await self.engine.wait_for(order_id, "needs_attention")
        await self._visible(order_id, "needs_attention")
        return order_id

    async def parked_at_payout(self, seller_id: str) -> str:
        order_id = (await self.engine.create(seller_id=seller_id))["order_id"]
        await self.engine.ship_and_deliver(order_id)
        assert (await self.engine.api.post(f"/v1/orders/{order_id}/confirm-receipt", headers=token("buyer", "buyer_a"))).status_code == 200
        assert (await self.engine.wait_for(order_id, "needs_attention"))["attention"]["step"] == steps.PAYOUT.pay.label
        return order_id

    async def settled(self) -> str:
        """Released when its window lapsed: the payout is scheduled in the task the timer wakes, so a reset to before it
        re-runs the release and the payout, with or without the updates received after that point (there are none)."""
        order_id = (await self.engine.create(confirmation_window="PT2S"))["order_id"]
        await self.engine.ship_and_deliver(order_id)
        await self.engine.wait_for(order_id, "settled")
        await self.wait_closed(order_id)
        return order_id

    async def before_payout(self, order_id: str) -> int:
        """The last workflow task completed before the payout was scheduled: a reset point that re-runs it."""
        history = await self.temporal.client.get_workflow_handle(workflow_id_for(order_id)).fetch_history()
        payout = next(
            e.event_id
            for e in history.events
            if e.HasField("activity_task_scheduled_event_attributes")
            and e.activity_task_scheduled_event_attributes.activity_type.name == act.booked(act.PAYOUT_SELLER)
        )
        return max(e.event_id for e in history.events if e.HasField("workflow_task_completed_event_attributes") and e.event_id < payout)

    async def money_moved(self, pool, order_id: str) -> tuple:
        provider = (await self.engine.sim.get("/psp/operations", params={"order_id": order_id})).json()["data"]
        entries = await pool.fetch("SELECT idempotency_key FROM ledger_entries WHERE order_id = $1 ORDER BY id", order_id)
        return sorted((o["idempotency_key"], o["amount"]) for o in provider), [r[0] for r in entries]

    async def wait_closed(self, order_id: str) -> WorkflowExecutionStatus:
        handle = self.temporal.client.get_workflow_handle(workflow_id_for(order_id))
        for _ in range(300):
            description = await handle.describe()
            if description.close_time is not None:
                return description.status
            await asyncio.sleep(0.2)
        raise AssertionError(f"{workflow_id_for(order_id)} did not finish")

    async def _visible(self, order_id: str, status: str) -> None:
        """Temporal's visibility (what `settlement find` searches) follows the workflow within moments."""
        query = f'WorkflowId = "{workflow_id_for(order_id)}" AND {ORDER_STATUS.name} = "{status}"'
        for _ in range(100):
            if [e async for e in self.temporal.client.list_workflows(query)]:
                return
            await asyncio.sleep(0.2)
        raise AssertionError(f"{workflow_id_for(order_id)} never visible as {status}")
