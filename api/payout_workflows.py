"""The API's side of the seller payouts workflows: start one when a seller needs it, tell it of chargebacks, the
seller's evidence, claims and new settings, and carry a seller's request for an on-demand payout."""

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError

from api.problems import Problem
from domain import failures
from domain.chargebacks import ChargebackNotice
from domain.claims import ClaimNotice
from domain.payouts import (
    CHARGEBACK_SIGNAL,
    CLAIM_SIGNAL,
    EVIDENCE_SIGNAL,
    PAYOUTS_WORKFLOW_TYPE,
    REQUEST_PAYOUT_UPDATE,
    SETTINGS_CHANGED_SIGNAL,
    PayoutAsk,
    PayoutRequested,
    PreparedPayout,
    SellerPayoutsInput,
    payouts_workflow_id,
)


class PayoutWorkflows:
    def __init__(self, client: Client, task_queue: str):
        self.client = client
        self.task_queue = task_queue

    async def _signal_with_start(self, seller_id: str, signal: str, args: list) -> None:
        await self.client.start_workflow(
            PAYOUTS_WORKFLOW_TYPE,
            SellerPayoutsInput(seller_id=seller_id),
            id=payouts_workflow_id(seller_id),
            task_queue=self.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            start_signal=signal,
            start_signal_args=args,
            static_summary=f"Payouts of seller {seller_id}",
        )

    async def settings_changed(self, seller_id: str) -> None:
        await self._signal_with_start(seller_id, SETTINGS_CHANGED_SIGNAL, [])

    async def chargeback(self, notice: ChargebackNotice) -> None:
        await self._signal_with_start(notice.seller_id, CHARGEBACK_SIGNAL, [notice])

    async def claim(self, claim: ClaimNotice) -> None:
        await self._signal_with_start(claim.seller_id, CLAIM_SIGNAL, [claim])

    async def evidence(self, seller_id: str, dispute_id: str) -> None:
        await self._signal_with_start(seller_id, EVIDENCE_SIGNAL, [dispute_id])

    async def request_payout(self, seller_id: str, off_cycle: bool) -> list[PreparedPayout]:
        """A payout now (`off_cycle`: an operator's, off the seller's schedule); the workflow's refusal is a 409."""
        await self.settings_changed(seller_id)  # starts the workflow if it is not running
        handle = self.client.get_workflow_handle(payouts_workflow_id(seller_id))
        try:
            answer = await handle.execute_update(REQUEST_PAYOUT_UPDATE, PayoutAsk(off_cycle=off_cycle), result_type=PayoutRequested)
        except WorkflowUpdateFailedError as err:
            if isinstance(err.cause, ApplicationError) and err.cause.type == failures.INVALID_TRANSITION:
                raise Problem(409, err.cause.message, kind="invalid-transition") from err
            raise
        return answer.payouts
