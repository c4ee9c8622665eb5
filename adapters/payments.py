"""The payment gateway: its protocol, and the implementation that talks to the simulated provider."""

from typing import Protocol
from urllib.parse import quote

import httpx

from adapters.http_client import get_json, post_json
from domain.chargebacks import EvidenceSubmission
from domain.providers import (
    AuthorizationResult,
    AuthorizeRequest,
    CaptureRequest,
    CreditRequest,
    PayoutRequest,
    ProviderOutcome,
    ProviderRecord,
    ProviderRecordQuery,
    ProviderReference,
    RefundRequest,
    VoidRequest,
)


class PaymentGateway(Protocol):
    async def authorize(self, request: AuthorizeRequest) -> AuthorizationResult: ...
    async def capture(self, request: CaptureRequest) -> ProviderReference: ...
    async def void(self, request: VoidRequest) -> ProviderReference: ...
    async def payout(self, request: PayoutRequest) -> ProviderReference: ...
    async def refund(self, request: RefundRequest) -> ProviderReference: ...
    async def credit(self, request: CreditRequest) -> ProviderReference: ...
    async def submit_dispute_evidence(self, submission: EvidenceSubmission) -> ProviderReference:
        """Give the provider a seller's evidence for an open dispute (refused for certain once it has closed)."""
        ...

    async def records(self, query: ProviderRecordQuery) -> list[ProviderRecord]:
        """Every record of the provider's own that matches, in the order the provider recorded them (all pages)."""
        ...


# The most records GET /psp/operations gives in one page.
LISTING_PAGE_SIZE = 1000


class SimulatedPaymentGateway:
    """The simulator's HTTP API; a real provider's adapter has the same shape."""

    def __init__(self, client: httpx.AsyncClient):
        self._client = client

    async def authorize(self, request: AuthorizeRequest) -> AuthorizationResult:
        body = await post_json(self._client, "/psp/authorizations", request.model_dump())
        if body["outcome"] == ProviderOutcome.DECLINED:
            return AuthorizationResult(approved=False, decline_code=body.get("decline_code"))
        return AuthorizationResult(approved=True, authorization_id=body["reference"])

    async def capture(self, request: CaptureRequest) -> ProviderReference:
        return ProviderReference(id=(await post_json(self._client, "/psp/captures", request.model_dump()))["reference"])

    async def void(self, request: VoidRequest) -> ProviderReference:
        return ProviderReference(id=(await post_json(self._client, "/psp/voids", request.model_dump()))["reference"])

    async def payout(self, request: PayoutRequest) -> ProviderReference:
        return ProviderReference(id=(await post_json(self._client, "/psp/payouts", request.model_dump()))["reference"])

    async def refund(self, request: RefundRequest) -> ProviderReference:
        return ProviderReference(id=(await post_json(self._client, "/psp/refunds", request.model_dump()))["reference"])

    async def credit(self, request: CreditRequest) -> ProviderReference:
        return ProviderReference(id=(await post_json(self._client, "/psp/credits", request.model_dump()))["reference"])

    async def submit_dispute_evidence(self, submission: EvidenceSubmission) -> ProviderReference:
        path = f"/psp/disputes/{quote(submission.dispute_id, safe='')}/evidence"
        return ProviderReference(id=(await post_json(self._client, path, submission.model_dump(mode="json")))["reference"])

    async def records(self, query: ProviderRecordQuery) -> list[ProviderRecord]:
        params = {**query.model_dump(mode="json", exclude_none=True), "limit": LISTING_PAGE_SIZE}
        records: list[ProviderRecord] = []
        while True:
            after = {"starting_after": records[-1].idempotency_key} if records else {}
            page = await get_json(self._client, "/psp/operations", {**params, **after})
            records += [ProviderRecord.model_validate(record) for record in page["data"]]
            if not page["has_more"]:
                return records
