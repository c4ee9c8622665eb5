"""One workflow per seller (`seller-payouts-{seller_id}`) for their money after the sale (README: Money after the sale).

It records the chargebacks the payment provider reports on the seller's orders, gives the provider the seller's
evidence for them, refunds the claims operators accept after an order settled (workflows/claims.py), and at the end of each period
of their schedule it cuts: reserves come due, debts are recovered or written off, and the available balance in
each currency is paid out as one payout keyed by its own id (db/seller_payouts.py). `on_demand` sellers are
paid when they ask (`request_payout`); their period is a day, for reserves and debts only. An operator may ask for
an off-cycle payout of a seller on any pooled schedule. A per-order seller
has this workflow only while they owe something or hold pooled money: it ends once nothing is left.

A payout the provider refuses for certain goes back to the available balance, to be paid at the next cut; one
the provider cannot be reached for stays pending and is paid, under the same key, by the next cut. After a
number of cuts the workflow continues as new, carrying the notices it has not recorded yet.
"""

from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain import activity_names as act
    from domain import failures
    from domain.chargebacks import ChargebackNotice
    from domain.claims import ClaimNotice
    from domain.order_request import RetryBudget
    from domain.payouts import (
        CHARGEBACK_SIGNAL,
        CLAIM_SIGNAL,
        EVIDENCE_SIGNAL,
        PAYOUTS_QUERY,
        PAYOUTS_WORKFLOW_TYPE,
        REQUEST_PAYOUT_UPDATE,
        SETTINGS_CHANGED_SIGNAL,
        CutRequest,
        CutResult,
        PayoutAsk,
        PayoutOutcome,
        PayoutRequested,
        PayoutSchedule,
        PayoutSettings,
        PreparedPayout,
        SellerPayoutsInput,
        SellerPayoutsState,
        period_end,
    )
    from domain.providers import PayoutRequest, ProviderReference
    from workflows.claims import ProviderAway, settle_claim
    from workflows.options import BOOKKEEPING, provider_call
    from workflows.steps import rejected

# Cuts in one run before it continues as new (its history stays short).
CUTS_PER_RUN = 30


@workflow.defn(name=PAYOUTS_WORKFLOW_TYPE)
class SellerPayoutsWorkflow:
    @workflow.init
    def __init__(self, start: SellerPayoutsInput) -> None:
        self.state = SellerPayoutsState(seller_id=start.seller_id)
        self.notices: list[ChargebackNotice] = list(start.notices)
        self.claims: list[ClaimNotice] = list(start.claims)
        self.evidence: list[str] = list(start.evidence)
        self.asked = 0  # payout requests received
        self.answered = 0  # payout requests a cut has answered
        self.settings_changed = False
        self.settings_read = False

    @workflow.run
    async def run(self, start: SellerPayoutsInput) -> None:
        ended = False
        for _ in range(CUTS_PER_RUN):
            settings: PayoutSettings = await workflow.execute_activity(
                act.READ_PAYOUT_SETTINGS, self.state.seller_id, result_type=PayoutSettings, **BOOKKEEPING
            )
            self.settings_changed, self.settings_read = False, True
            self.state.schedule = settings.schedule
            cut_at = period_end(workflow.now(), settings.schedule) or period_end(workflow.now(), PayoutSchedule.DAILY)
            assert cut_at is not None
            self.state.next_cut_at = cut_at
            await self._wait(lambda: self._has_work() or self.asked > self.answered or self.settings_changed, cut_at)
            await self._record_notices()
            await self._settle_claims()
            await self._submit_evidence()
            asked = self.asked
            if asked == self.answered and workflow.now() < cut_at:
                continue  # a notice or new settings: nothing is due yet
            pay = settings.schedule != PayoutSchedule.ON_DEMAND or asked > self.answered
            result = await self._cut(workflow.now() if asked > self.answered else cut_at, pay)
            self.answered = asked
            if settings.schedule == PayoutSchedule.PER_ORDER and not result.holds_money and not self._has_work():
                ended = True
                break
        await self._answer_requests()
        if ended and not self._has_work():
            return
        workflow.continue_as_new(
            SellerPayoutsInput(seller_id=self.state.seller_id, notices=self.notices, claims=self.claims, evidence=self.evidence)
        )

    def _has_work(self) -> bool:
        return bool(self.notices or self.claims or self.evidence)

    async def _answer_requests(self) -> None:
        """Before the run ends: a cut for the payout requests that came while the last one ran, until every request
        is answered and its handler has returned (a request left waiting would hold the run open for good)."""
        while True:
            while self.asked > self.answered:
                asked = self.asked
                await self._cut(workflow.now(), pay=True)
                self.answered = asked
            await workflow.wait_condition(lambda: workflow.all_handlers_finished() or self.asked > self.answered)
            if self.asked == self.answered:
                return

    async def _wait(self, condition: Callable[[], bool], until: datetime) -> None:
        remaining = until - workflow.now()
        if remaining <= timedelta(0):
            return
        try:
            await workflow.wait_condition(condition, timeout=remaining)
        except TimeoutError:
            pass

    async def _record_notices(self) -> None:
        while self.notices:
            notice = self.notices[0]
            try:
                await workflow.execute_activity(act.RECORD_CHARGEBACK, notice, **BOOKKEEPING)
            except ActivityError as err:
                self._refused(f"chargeback {notice.dispute_id} ({notice.status})", err)
            self.notices.pop(0)

    async def _settle_claims(self) -> None:
        while self.claims:
            claim = self.claims[0]
            try:
                refused = await settle_claim(claim)
            except ProviderAway:
                return  # tried again at the next turn, under the same key
            except ActivityError as err:
                self._refused(f"claim {claim.claim_id}", err)
            else:
                if refused:
                    self.state.refused = [*self.state.refused[-19:], f"claim {claim.claim_id}: the provider refused the refund: {refused}"]
            self.claims.pop(0)

    async def _submit_evidence(self) -> None:
        """Taken off the list before it is sent, so evidence given again while it is on its way is sent after it."""
        while self.evidence:
            dispute_id = self.evidence.pop(0)
            try:
                await workflow.execute_activity(act.SUBMIT_CHARGEBACK_EVIDENCE, dispute_id, **provider_call(RetryBudget()))
            except ActivityError:
                if dispute_id not in self.evidence:
                    self.evidence.insert(0, dispute_id)
                return  # the provider is away: given at the next turn, under the same key

    async def _cut(self, cut_at: datetime, pay: bool) -> CutResult:
        request = CutRequest(seller_id=self.state.seller_id, cut_at=cut_at, pay=pay)
        try:
            result: CutResult = await workflow.execute_activity(act.CUT_SELLER_PAYOUTS, request, result_type=CutResult, **BOOKKEEPING)
        except ActivityError as err:
            self._refused(f"the cut at {cut_at.isoformat()}", err)
            return CutResult(payouts=[], holds_money=True)
        self.state.payouts = result.payouts
        for payout in result.payouts:
            await self._pay(payout)
        self.state.last_cut_at = cut_at
        return result

    async def _pay(self, payout: PreparedPayout) -> None:
        request = PayoutRequest(
            idempotency_key=payout.payout_id,
            order_id=payout.payout_id,
            seller_id=payout.seller_id,
            amount=payout.amount,
            currency=payout.currency,
        )
        try:
            ref: ProviderReference = await workflow.execute_activity(
                act.PAYOUT_SELLER, request, result_type=ProviderReference, **provider_call(RetryBudget())
            )
            outcome = PayoutOutcome(payout_id=payout.payout_id, provider_reference=ref.id)
        except ActivityError as err:
            if not (isinstance(err.cause, ApplicationError) and err.cause.type == failures.PROVIDER_REJECTED):
                return  # the provider is away: the payout stays pending, and the next cut pays it under the same key
            outcome = PayoutOutcome(payout_id=payout.payout_id, refusal=err.cause.message)
        try:
            await workflow.execute_activity(act.FINISH_SELLER_PAYOUT, outcome, **BOOKKEEPING)
        except ActivityError as err:
            self._refused(f"payout {payout.payout_id}", err)

    def _refused(self, what: str, err: ActivityError) -> None:
        reason = f"{what}: {err.cause or err}"
        workflow.logger.error("the ledger refused %s", reason)
        self.state.refused = [*self.state.refused[-19:], reason]

    @workflow.signal(name=CHARGEBACK_SIGNAL)
    def on_chargeback(self, notice: ChargebackNotice) -> None:
        self.notices.append(notice)

    @workflow.signal(name=CLAIM_SIGNAL)
    def on_claim(self, claim: ClaimNotice) -> None:
        self.claims.append(claim)

    @workflow.signal(name=EVIDENCE_SIGNAL)
    def on_evidence(self, dispute_id: str) -> None:
        if dispute_id not in self.evidence:
            self.evidence.append(dispute_id)

    @workflow.signal(name=SETTINGS_CHANGED_SIGNAL)
    def on_settings_changed(self) -> None:
        self.settings_changed = True

    @workflow.update(name=REQUEST_PAYOUT_UPDATE)
    async def request_payout(self, ask: PayoutAsk) -> PayoutRequested:
        self.asked += 1
        ticket = self.asked
        await workflow.wait_condition(lambda: self.answered >= ticket)
        return PayoutRequested(payouts=self.state.payouts)

    @request_payout.validator
    def _validate_request_payout(self, ask: PayoutAsk) -> None:
        schedule = self.state.schedule
        if not self.settings_read:
            return
        if schedule == PayoutSchedule.PER_ORDER:
            raise rejected("the seller is paid per order: each order pays itself out")
        if schedule != PayoutSchedule.ON_DEMAND and not ask.off_cycle:
            raise rejected(f"the seller is paid {schedule.value}, not on demand")

    @workflow.query(name=PAYOUTS_QUERY)
    def get_state(self) -> SellerPayoutsState:
        return self.state
