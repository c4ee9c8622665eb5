"""The SellerPayouts workflow on the time-skipping test server, with its real database activities and a scripted
payment provider: a weekly seller with a reserve, a chargeback after payout recovered from the next payout, an
on-demand payout, a refused payout paid at the next cut, and a per-order seller's workflow ending once their debt is
settled. The invariants hold after each."""

import asyncio
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio import activity
from temporalio.client import WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

import workflows.seller_payouts
from activities.bookkeeping import BookkeepingActivities
from activities.chargeback_evidence import ChargebackEvidenceActivities
from activities.seller_payouts import SellerPayoutActivities, seller_payout_activities
from adapters.errors import ProviderRejected, ProviderUnavailable
from db import chargebacks
from db.balances import seller_balance
from db.invariants import check_invariants
from db.ledger import post_entry
from db.seller_payouts import put_payout_settings
from db.settlements import settlement_report
from domain import activity_names as act
from domain import failures
from domain.chargebacks import ChargebackEvidence, ChargebackNotice, ChargebackStatus, EvidenceStatus, EvidenceSubmission
from domain.claims import ClaimFault, ClaimNotice
from domain.ledger import payout_disbursement
from domain.order_state import workflow_id_for
from domain.payouts import (
    CHARGEBACK_SIGNAL,
    CLAIM_SIGNAL,
    EVIDENCE_SIGNAL,
    PAYOUTS_QUERY,
    PAYOUTS_WORKFLOW_TYPE,
    REQUEST_PAYOUT_UPDATE,
    SETTINGS_CHANGED_SIGNAL,
    PayoutAsk,
    PayoutRequested,
    PayoutSchedule,
    PayoutSettings,
    SellerPayoutsInput,
    SellerPayoutsState,
    payouts_workflow_id,
)
from domain.providers import PayoutRequest, ProviderReference, RefundRequest
from operations.tools import export_history
from runtime.binaries import executable
from tests.db.test_seller_payouts import SHARE, release
from workflows.seller_payouts import SellerPayoutsWorkflow

QUEUE = "payouts-test"
STARTED: list[str] = []  # the workflow ids the running test started


class Provider:
    def __init__(self) -> None:
        self.paid: dict[str, PayoutRequest] = {}
        self.refunded: dict[str, RefundRequest] = {}
        self.rejects = False
        self.paying = asyncio.Event()  # set while a payout is being made
        self.release = asyncio.Event()  # a payout waits for it to be set
        self.release.set()
        self.evidence: dict[str, EvidenceSubmission] = {}
        self.evidence_refused: str | None = None
        self.evidence_away = 0  # submissions that fail as if the provider were away
        self.evidence_sending = asyncio.Event()  # set while evidence is being given
        self.evidence_gate = asyncio.Event()  # evidence waits for it to be set
        self.evidence_gate.set()

    async def submit_dispute_evidence(self, submission: EvidenceSubmission) -> ProviderReference:
        """The gateway's call (the evidence activity's own bookkeeping is under test)."""
        if self.evidence_away:
            self.evidence_away -= 1
            raise ProviderUnavailable("provider away")
        if self.evidence_refused:
            raise ProviderRejected(self.evidence_refused)
        self.evidence_sending.set()
        await self.evidence_gate.wait()
        self.evidence.setdefault(submission.idempotency_key, submission)
        return ProviderReference(id=submission.idempotency_key)

    @activity.defn(name=act.REFUND_PAYMENT)
    async def refund(self, request: RefundRequest) -> ProviderReference:
        self.refunded.setdefault(request.idempotency_key, request)
        return ProviderReference(id="re-" + request.idempotency_key)

    @activity.defn(name=act.PAYOUT_SELLER)
    async def payout(self, request: PayoutRequest) -> ProviderReference:
        self.paying.set()
        await self.release.wait()
        if self.rejects:
            raise ApplicationError("the payout account rejects payouts", type=failures.PROVIDER_REJECTED, non_retryable=True)
        self.paid.setdefault(request.idempotency_key, request)
        return ProviderReference(id="ref-" + request.idempotency_key)


@pytest.fixture
async def env():
    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=executable("temporal-test-server"), data_converter=pydantic_data_converter
    ) as env:
        yield env


@pytest.fixture
def provider() -> Provider:
    return Provider()


@pytest.fixture
async def worker(env, fresh_pool, provider):
    """The workflow's worker; with SETTLEMENT_RECORD_HISTORIES=<dir>, each test's history is saved there (as far as it
    went) for tests/histories."""
    activities = [
        *seller_payout_activities(SellerPayoutActivities(fresh_pool)),
        BookkeepingActivities(fresh_pool).post_ledger_entry,
        ChargebackEvidenceActivities(fresh_pool, provider).submit_chargeback_evidence,
        provider.payout,
        provider.refund,
    ]
    STARTED.clear()
    async with Worker(env.client, task_queue=QUEUE, workflows=[SellerPayoutsWorkflow], activities=activities):
        yield
        directory = os.environ.get("SETTLEMENT_RECORD_HISTORIES")
        for workflow_id in STARTED if directory else []:
            export_history(await env.client.get_workflow_handle(workflow_id).fetch_history(), Path(directory))


def seller() -> str:
    return f"seller-{uuid.uuid4().hex[:8]}"


async def start(env, seller_id: str, signal: str = SETTINGS_CHANGED_SIGNAL, args: list | None = None):
    STARTED.append(payouts_workflow_id(seller_id))
    return await env.client.start_workflow(
        PAYOUTS_WORKFLOW_TYPE,
        SellerPayoutsInput(seller_id=seller_id),
        id=payouts_workflow_id(seller_id),
        task_queue=QUEUE,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        start_signal=signal,
        start_signal_args=args or [],
    )


async def state(handle) -> SellerPayoutsState:
    return await handle.query(PAYOUTS_QUERY, result_type=SellerPayoutsState)


async def scheduled(handle) -> SellerPayoutsState:
    """The workflow's state once it has read the seller's settings and knows its next cut."""
    for _ in range(200):
        current = await state(handle)
        if current.next_cut_at is not None:
            return current
        await asyncio.sleep(0.05)
    raise AssertionError(f"the workflow never read its settings: {current}")


async def until_cut(env, handle, after: datetime) -> SellerPayoutsState:
    """Let time pass to the workflow's next cut, and past it."""
    current = await scheduled(handle)
    now = await env.get_current_time()
    await env.sleep(current.next_cut_at - now + timedelta(minutes=1))
    for _ in range(100):
        current = await state(handle)
        if current.last_cut_at is not None and current.last_cut_at > after:
            return current
        await env.sleep(timedelta(seconds=1))
    raise AssertionError(f"no cut after {after}: {current}")


async def test_a_weekly_seller_with_a_reserve_and_a_chargeback_after_payout_recovered_from_the_next_payout(
    env, worker, fresh_pool, provider
):
    seller_id = seller()
    await put_payout_settings(fresh_pool, seller_id, PayoutSettings(schedule=PayoutSchedule.WEEKLY, reserve_percent=10, reserve_days=7))
    now = await env.get_current_time()
    await release(fresh_pool, f"{seller_id}-a", seller_id, hold=272, until=now + timedelta(days=7))
    handle = await start(env, seller_id)

    first = await until_cut(env, handle, now)
    assert first.schedule == PayoutSchedule.WEEKLY and first.last_cut_at.weekday() == 0
    (payout,) = first.payouts
    assert payout.amount == SHARE - 272 and provider.paid[payout.payout_id].amount == SHARE - 272
    assert (await settlement_report(fresh_pool, seller_id, payout.payout_id)).status == "paid"

    notice = ChargebackNotice(
        dispute_id=f"dp-{seller_id}",
        order_id=f"{seller_id}-a",
        seller_id=seller_id,
        status=ChargebackStatus.OPENED,
        amount=1000,
        currency="USD",
        occurred_at=datetime.now(UTC),
    )
    await handle.signal(CHARGEBACK_SIGNAL, notice)
    await handle.signal(CHARGEBACK_SIGNAL, notice)  # delivered twice
    await release(fresh_pool, f"{seller_id}-b", seller_id, hold=272, until=now + timedelta(days=30))
    second = await until_cut(env, handle, first.last_cut_at)
    (recovered,) = second.payouts
    assert recovered.amount == SHARE - 272 + 272 - 1000  # b's share less its reserve, a's reserve come due, less the debt
    (row,) = await seller_balance(fresh_pool, seller_id)
    assert (row["available"], row["reserved"], row["owed"]) == (0, 272, 0)
    report = await settlement_report(fresh_pool, seller_id, recovered.payout_id)
    assert sum(line.amount for line in report.lines) == report.total
    assert {"chargeback", "reserve_released", "sale", "reserve_held"} <= {line.transaction_type for line in report.lines}
    assert len(provider.paid) == 2
    assert await check_invariants(fresh_pool) == []


async def test_an_on_demand_seller_is_paid_when_they_ask_and_only_then(env, worker, fresh_pool, provider):
    seller_id = seller()
    await put_payout_settings(fresh_pool, seller_id, PayoutSettings(schedule=PayoutSchedule.ON_DEMAND))
    now = await env.get_current_time()
    await release(fresh_pool, f"{seller_id}-a", seller_id)
    handle = await start(env, seller_id)
    await until_cut(env, handle, now)
    assert provider.paid == {}  # a day passed: the cut paid nothing
    answer = await handle.execute_update(REQUEST_PAYOUT_UPDATE, PayoutAsk(), result_type=PayoutRequested)
    (payout,) = answer.payouts
    assert payout.amount == SHARE and provider.paid[payout.payout_id].amount == SHARE
    assert (await settlement_report(fresh_pool, seller_id, payout.payout_id)).status == "paid"
    assert await check_invariants(fresh_pool) == []


async def test_a_seller_on_a_schedule_may_not_ask_for_a_payout_but_an_operator_may(env, worker, fresh_pool):
    seller_id = seller()
    await put_payout_settings(fresh_pool, seller_id, PayoutSettings(schedule=PayoutSchedule.WEEKLY))
    handle = await start(env, seller_id)
    await scheduled(handle)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(REQUEST_PAYOUT_UPDATE, PayoutAsk(), result_type=PayoutRequested)
    assert "not on demand" in str(refused.value.cause)
    off_cycle = await handle.execute_update(REQUEST_PAYOUT_UPDATE, PayoutAsk(off_cycle=True), result_type=PayoutRequested)
    assert off_cycle.payouts == []  # an operator may: nothing was available


async def test_a_refused_payout_goes_back_to_the_balance_and_is_paid_at_the_next_cut(env, worker, fresh_pool, provider):
    seller_id = seller()
    await put_payout_settings(fresh_pool, seller_id, PayoutSettings(schedule=PayoutSchedule.DAILY))
    now = await env.get_current_time()
    await release(fresh_pool, f"{seller_id}-a", seller_id)
    provider.rejects = True
    handle = await start(env, seller_id)
    first = await until_cut(env, handle, now)
    (refused,) = first.payouts
    assert (await settlement_report(fresh_pool, seller_id, refused.payout_id)).status == "returned"
    provider.rejects = False
    second = await until_cut(env, handle, first.last_cut_at)
    (paid,) = second.payouts
    assert paid.payout_id != refused.payout_id and provider.paid[paid.payout_id].amount == SHARE
    assert await check_invariants(fresh_pool) == []


async def test_a_per_order_sellers_workflow_ends_once_their_debt_is_settled(env, worker, fresh_pool, provider):
    seller_id = seller()
    order = f"{seller_id}-a"
    await release(fresh_pool, order, seller_id, pooled=False)
    paid = payout_disbursement(workflow_id_for(order), order, seller_id, SHARE, "USD")
    await post_entry(fresh_pool, paid.reserve)
    await post_entry(fresh_pool, paid.settle)
    notice = ChargebackNotice(
        dispute_id=f"dp-{seller_id}",
        order_id=order,
        seller_id=seller_id,
        status=ChargebackStatus.WON,
        amount=500,
        currency="USD",
        occurred_at=datetime.now(UTC),
    )
    handle = await start(env, seller_id, CHARGEBACK_SIGNAL, [notice])
    await handle.result()  # a won chargeback leaves nothing owed: the next cut finds nothing and the workflow ends
    (row,) = await seller_balance(fresh_pool, seller_id)
    assert row["owed"] == 0 and provider.paid == {}
    assert await check_invariants(fresh_pool) == []


async def test_a_payout_request_made_while_the_runs_last_cut_pays_is_answered_before_it_continues_as_new(
    env, fresh_pool, provider, monkeypatch
):
    monkeypatch.setattr(workflows.seller_payouts, "CUTS_PER_RUN", 1)
    activities = [*seller_payout_activities(SellerPayoutActivities(fresh_pool)), provider.payout]
    seller_id = seller()
    await put_payout_settings(fresh_pool, seller_id, PayoutSettings(schedule=PayoutSchedule.ON_DEMAND))
    await release(fresh_pool, f"{seller_id}-a", seller_id)
    async with Worker(
        env.client,
        task_queue=QUEUE,
        workflows=[SellerPayoutsWorkflow],
        activities=activities,
        workflow_runner=UnsandboxedWorkflowRunner(),  # so the run takes the patched CUTS_PER_RUN
    ):
        handle = await start(env, seller_id)
        await scheduled(handle)
        provider.release.clear()
        first = asyncio.create_task(handle.execute_update(REQUEST_PAYOUT_UPDATE, PayoutAsk(), result_type=PayoutRequested))
        await asyncio.wait_for(provider.paying.wait(), 10)  # the run's one cut is paying
        second = asyncio.create_task(handle.execute_update(REQUEST_PAYOUT_UPDATE, PayoutAsk(), result_type=PayoutRequested))
        await asyncio.sleep(0.5)
        provider.release.set()
        answers = await asyncio.wait_for(asyncio.gather(first, second), 20)
    assert [p.amount for p in answers[0].payouts] == [SHARE] and answers[1].payouts == []
    assert await check_invariants(fresh_pool) == []


async def test_claims_after_the_sale_refund_the_buyer_and_are_taken_from_whoever_was_at_fault(env, worker, fresh_pool, provider):
    seller_id = seller()
    await put_payout_settings(fresh_pool, seller_id, PayoutSettings(schedule=PayoutSchedule.DAILY))
    order = f"{seller_id}-a"
    await release(fresh_pool, order, seller_id)
    now = await env.get_current_time()
    handle = await start(env, seller_id)
    first = await until_cut(env, handle, now)
    assert [p.amount for p in first.payouts] == [SHARE]

    claims = [
        ClaimNotice(
            claim_id=f"cl-s-{seller_id}",
            order_id=order,
            seller_id=seller_id,
            capture_id="cap-1",
            amount=1500,
            currency="USD",
            fault=ClaimFault.SELLER,
        ),
        ClaimNotice(
            claim_id=f"cl-n-{seller_id}",
            order_id=order,
            seller_id=seller_id,
            capture_id="cap-1",
            amount=500,
            currency="USD",
            fault=ClaimFault.FULFILLMENT_NETWORK,
        ),
    ]
    for claim in claims:
        await handle.signal(CLAIM_SIGNAL, claim)
    for _ in range(100):
        if len(provider.refunded) == 2 and (await seller_balance(fresh_pool, seller_id))[0]["owed"] == -1500:
            break
        await asyncio.sleep(0.1)
    assert {key: r.amount for key, r in provider.refunded.items()} == {f"claim:cl-s-{seller_id}": 1500, f"claim:cl-n-{seller_id}": 500}
    assert all(r.capture_id == "cap-1" and r.order_id == order for r in provider.refunded.values())
    (row,) = await seller_balance(fresh_pool, seller_id)
    assert row["owed"] == -1500  # the network's fault is the network's to pay
    await release(fresh_pool, f"{seller_id}-b", seller_id)
    second = await until_cut(env, handle, first.last_cut_at)
    assert [p.amount for p in second.payouts] == [SHARE - 1500]
    assert await check_invariants(fresh_pool) == []


async def evidence_status(pool, dispute_id: str, wanted: EvidenceStatus):
    for _ in range(200):
        found = await chargebacks.get_chargeback(pool, dispute_id)
        if found is not None and found.evidence_status == wanted:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"chargeback {dispute_id} never reached evidence {wanted}: {found}")


async def test_the_sellers_evidence_goes_to_the_provider_once_per_version_with_the_orders_proof_of_delivery(
    env, worker, fresh_pool, provider
):
    seller_id = seller()
    order = f"{seller_id}-a"
    await release(fresh_pool, order, seller_id)
    dispute = f"dp-{seller_id}"
    now = await env.get_current_time()
    opened = ChargebackNotice(
        dispute_id=dispute,
        order_id=order,
        seller_id=seller_id,
        status=ChargebackStatus.OPENED,
        amount=1000,
        currency="USD",
        occurred_at=now,
    )
    handle = await start(env, seller_id, CHARGEBACK_SIGNAL, [opened])
    for _ in range(100):
        if await chargebacks.get_chargeback(fresh_pool, dispute):
            break
        await asyncio.sleep(0.05)
    first = ChargebackEvidence(explanation="signed for at the door", documents=["invoice INV-7"])
    await chargebacks.keep_evidence(fresh_pool, dispute, first)
    provider.evidence_away = 2  # the provider is away at first: the activity retries under the same key
    await handle.signal(EVIDENCE_SIGNAL, dispute)
    await evidence_status(fresh_pool, dispute, EvidenceStatus.SUBMITTED)
    (given,) = provider.evidence.values()
    assert (given.dispute_id, given.order_id, given.explanation, given.documents) == (dispute, order, first.explanation, first.documents)
    assert given.tracking_number is None and given.delivered_at is None  # the test's order never shipped

    await handle.signal(EVIDENCE_SIGNAL, dispute)  # told again with nothing new: nothing is sent again
    second = ChargebackEvidence(explanation="signed for at the door; photo of the parcel attached", documents=["photo P-1"])
    third = ChargebackEvidence(explanation="signed for at the door; photo and the buyer's thanks attached")
    provider.evidence_gate.clear()
    provider.evidence_sending.clear()
    await chargebacks.keep_evidence(fresh_pool, dispute, second)
    await handle.signal(EVIDENCE_SIGNAL, dispute)
    await asyncio.wait_for(provider.evidence_sending.wait(), 10)
    await chargebacks.keep_evidence(fresh_pool, dispute, third)  # given again while the second is on its way
    await handle.signal(EVIDENCE_SIGNAL, dispute)
    provider.evidence_gate.set()
    for _ in range(200):
        if len(provider.evidence) == 3:
            break
        await asyncio.sleep(0.05)
    await evidence_status(fresh_pool, dispute, EvidenceStatus.SUBMITTED)
    assert [e.explanation for e in provider.evidence.values()] == [first.explanation, second.explanation, third.explanation]

    provider.evidence_refused = "HTTP 409: dispute already lost"
    await chargebacks.keep_evidence(fresh_pool, dispute, ChargebackEvidence(explanation="one more thing"))
    await handle.signal(EVIDENCE_SIGNAL, dispute)
    refused = await evidence_status(fresh_pool, dispute, EvidenceStatus.REFUSED)
    assert refused.evidence_failure == "HTTP 409: dispute already lost" and len(provider.evidence) == 3
    assert (await state(handle)).refused == []
    assert await check_invariants(fresh_pool) == []
