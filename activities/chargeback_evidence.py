"""The seller's evidence for a chargeback, handed to the payment provider (the seller payouts workflow's activity)."""

import asyncpg
from temporalio import activity

from adapters.errors import ProviderRejected
from adapters.payments import PaymentGateway
from db import chargebacks, read_model
from domain import activity_names as act
from domain.chargebacks import EvidenceSubmission, evidence_key


class ChargebackEvidenceActivities:
    def __init__(self, pool: asyncpg.Pool, payments: PaymentGateway):
        self._pool, self._payments = pool, payments

    @activity.defn(name=act.SUBMIT_CHARGEBACK_EVIDENCE)
    async def submit_chargeback_evidence(self, dispute_id: str) -> None:
        """The evidence kept for the dispute, with the order's proof of delivery, under a key of its content; the
        provider's refusal is kept for the seller to read. Nothing pending (already given) is nothing to do."""
        pending = await chargebacks.pending_evidence(self._pool, dispute_id)
        if pending is None:
            return
        chargeback, given_at = pending
        assert chargeback.evidence is not None
        order = await read_model.get_order(self._pool, chargeback.order_id)
        submission = EvidenceSubmission(
            idempotency_key=evidence_key(dispute_id, chargeback.evidence),
            dispute_id=dispute_id,
            order_id=chargeback.order_id,
            explanation=chargeback.evidence.explanation,
            documents=chargeback.evidence.documents,
            tracking_number=order.tracking if order else None,
            delivered_at=order.delivered_at if order else None,
        )
        try:
            await self._payments.submit_dispute_evidence(submission)
            failure = None
        except ProviderRejected as err:  # anything else is retried, under the same key
            failure = str(err)
        await chargebacks.evidence_outcome(self._pool, dispute_id, given_at, failure)
