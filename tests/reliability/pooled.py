"""Money after the sale in the chaos run: the orders of one seller paid on demand with a reserve (path `pooled`),
a chargeback the simulated provider reports on one of them (the seller gives evidence for it), a claim an operator
accepts on another, and the seller's payouts, asked for while the engine is disrupted and once more at the end. Once it is over, what the provider paid
the seller equals the shares their orders released less the chargeback and the claim (less what the seller still
owes when no order was left to recover it from), each payout once, the claim refunded once, the evidence in the
provider's hands, and nothing is left available or in reserve."""

import asyncio
import time
from collections import Counter

import httpx

from domain.providers import ProviderOperation, ProviderOutcome, ProviderRecord
from tests.integration.stack import token
from tests.reliability.driver import OrderRun
from tests.reliability.paths import POOLED_SELLER

SETTINGS = {"schedule": "on_demand", "reserve_percent": 10, "reserve_days": 0}
CHARGEBACK = 1_000
CLAIM = 700  # accepted after the sale, the seller at fault
EVIDENCE = {"explanation": "Delivered and signed for; chaos run.", "documents": ["proof of delivery"]}
ASK_FOR = 120.0  # seconds a request is asked again (same Idempotency-Key) while the engine does not answer
SELLER = token("seller", POOLED_SELLER)
OPERATOR = token("operator", "ops_chaos")


async def _until_answered(call, what: str) -> httpx.Response:
    deadline = time.monotonic() + ASK_FOR
    while True:
        try:
            response = await call()
            if response.status_code < 500 and response.status_code != 409:
                return response
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: no answer within {ASK_FOR:.0f} s")
        await asyncio.sleep(1.0)


async def set_up(api: httpx.AsyncClient) -> None:
    put = await api.put(f"/v1/sellers/{POOLED_SELLER}/payout-settings", json=SETTINGS, headers=OPERATOR)
    assert put.status_code == 200, put.text


class PooledSeller:
    def __init__(self, api: httpx.AsyncClient, sim: httpx.AsyncClient, runs: list[OrderRun]):
        self.api, self.sim = api, sim
        self.runs = [r for r in runs if r.path.name == "pooled"]
        self.charged_back: str | None = None
        self.evidence_given: str | None = None
        self.claimed: str | None = None
        self.owed = 0  # what the seller still owes at the end
        self.payouts_asked = 0
        self.summary = "not checked"

    async def _pay_out(self, key: str) -> None:
        headers = {**SELLER, "Idempotency-Key": key}
        answer = await _until_answered(lambda: self.api.post(f"/v1/sellers/{POOLED_SELLER}/payouts", headers=headers), "payout")
        assert answer.status_code == 200, answer.text
        self.payouts_asked += 1

    async def during_the_run(self) -> None:
        """Once half the seller's orders are over: a chargeback on one of them, a claim on another, then a payout."""
        while sum(r.done for r in self.runs) < max(2, len(self.runs) // 2):
            await asyncio.sleep(1.0)
        settled = [r for r in self.runs if r.done and r.view and r.view["status"] == "settled"]
        body = {"order_id": settled[0].order_id, "amount": CHARGEBACK, "dispute_id": f"dp-{settled[0].order_id}"}
        reported = await _until_answered(lambda: self.sim.post("/psp/disputes", json=body), "chargeback")
        assert reported.status_code in (200, 201), reported.text
        self.charged_back = settled[0].order_id
        claim = {"claim_id": f"cl-{settled[1].order_id}", "amount": CLAIM, "fault": "seller", "reason": "broken, reported late"}
        headers = {**OPERATOR, "Idempotency-Key": "chaos-claim"}
        url = f"/v1/orders/{settled[1].order_id}/claims"
        accepted = await _until_answered(lambda: self.api.post(url, json=claim, headers=headers), "claim")
        assert accepted.status_code == 202, accepted.text
        self.claimed = settled[1].order_id
        await self._pay_out("chaos-payout-during")
        await self._give_evidence(body["dispute_id"])

    async def _give_evidence(self, dispute_id: str) -> None:
        """Once the provider's chargeback is on the seller's books (404 until then), the seller's case for it."""
        url = f"/v1/sellers/{POOLED_SELLER}/chargebacks/{dispute_id}"
        deadline = time.monotonic() + ASK_FOR
        while (await _until_answered(lambda: self.api.get(url, headers=SELLER), "chargeback")).status_code == 404:
            assert time.monotonic() < deadline, f"chargeback {dispute_id} never reached the seller"
            await asyncio.sleep(1.0)
        headers = {**SELLER, "Idempotency-Key": "chaos-evidence"}
        given = await _until_answered(lambda: self.api.post(f"{url}/evidence", json=EVIDENCE, headers=headers), "evidence")
        assert given.status_code == 202, given.text
        self.evidence_given = dispute_id

    async def at_the_end(self) -> None:
        """After every order is over, once the chargeback and the claim are on the seller's books (the provider's
        webhook may still be on its way): the last payout; then wait until nothing is left available or in reserve.
        What the seller still owes stays owed when no order of theirs is left to recover it from."""
        await self._until_booked({"chargeback", "claim_refund"})
        await self._until_evidence_submitted()
        await self._pay_out("chaos-payout-end")
        deadline = time.monotonic() + ASK_FOR
        while True:
            balances = (await self.api.get(f"/v1/sellers/{POOLED_SELLER}/balance", headers=SELLER)).json()["balances"]
            if all(b["available"] == b["reserved"] == 0 for b in balances):
                self.owed = -sum(b["owed"] for b in balances)
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"the pooled seller still holds {balances}")
            await asyncio.sleep(1.0)

    async def _until_evidence_submitted(self) -> None:
        url = f"/v1/sellers/{POOLED_SELLER}/chargebacks/{self.evidence_given}"
        deadline = time.monotonic() + ASK_FOR
        while (await self.api.get(url, headers=SELLER)).json().get("evidence_status") != "submitted":
            assert time.monotonic() < deadline, f"the evidence for {self.evidence_given} never reached the provider"
            await asyncio.sleep(1.0)

    async def _until_booked(self, kinds: set[str]) -> None:
        deadline = time.monotonic() + ASK_FOR
        while True:
            statement = (await self.api.get(f"/v1/sellers/{POOLED_SELLER}/statement", headers=SELLER)).json()
            if kinds <= {line["kind"] for line in statement["lines"]}:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{kinds} never reached the pooled seller's statement")
            await asyncio.sleep(1.0)

    async def evidence_problems(self) -> list[str]:
        """The provider holds the seller's evidence, as given."""
        if self.evidence_given is None:
            return ["the seller gave no evidence"]
        held = (await self.sim.get(f"/psp/disputes/{self.evidence_given}")).json().get("evidence") or {}
        given = {k: held.get(k) for k in EVIDENCE}
        return [] if given == EVIDENCE else [f"the provider holds evidence {held}, not {EVIDENCE}"]

    def problems(self, records: list[ProviderRecord]) -> list[str]:
        """What the provider paid the seller against what their orders released, less the chargeback and the claim;
        the claim refunded once."""
        paid = [r for r in records if r.operation == ProviderOperation.PAYOUT and r.outcome == ProviderOutcome.SUCCEEDED]
        paid = [r for r in paid if (r.order_id or "").startswith(f"po:{POOLED_SELLER}:")]
        released = sum(r.view["settlement"]["paid_out"] for r in self.runs if r.view and r.view["status"] == "settled")
        found = []
        if self.charged_back is None or self.claimed is None:
            found.append("no chargeback was reported or no claim accepted")
        refunds = [r for r in records if r.operation == ProviderOperation.REFUND and r.idempotency_key.startswith("claim:")]
        if [(r.order_id, r.amount) for r in refunds] != [(self.claimed, CLAIM)]:
            found.append(f"claim refunds at the provider: {[(r.order_id, r.amount) for r in refunds]}, expected one of {CLAIM}")
        twice = [key for key, n in Counter(r.order_id for r in paid).items() if n > 1]
        if twice:
            found.append(f"payouts made twice: {twice}")
        total = sum(r.amount or 0 for r in paid)
        if total != released - CHARGEBACK - CLAIM + self.owed:
            found.append(
                f"the provider paid {total}; the orders released {released}, less {CHARGEBACK} and {CLAIM}, {self.owed} still owed"
            )
        self.summary = (
            f"{len(self.runs)} orders released {released}; a chargeback of {CHARGEBACK} (evidence given) and a claim of {CLAIM} mid-run; "
            f"{self.payouts_asked} payouts asked for, {len(paid)} made, {total} paid, {self.owed} still owed"
        )
        return found
