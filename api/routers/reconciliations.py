"""The daily reconciliations' results, for operators."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from api.auth import Principal, require
from api.openapi import problems
from db.reconciliations import recent_runs
from domain.order_actions import Role
from domain.order_request import Timestamp
from domain.reconciliation import ReconciliationReport

router = APIRouter(prefix="/v1/reconciliations", tags=["operations"])


class ReconciliationList(BaseModel):
    reconciliations: list[ReconciliationReport]


@router.get("", response_model=ReconciliationList, operation_id="listReconciliations", responses=problems(403))
async def list_reconciliations(
    request: Request,
    before: Annotated[Timestamp | None, Query(description="only runs that finished before this")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    principal: Principal = Depends(require(Role.OPERATOR)),
) -> ReconciliationList:
    """The daily reconciliations of the ledger with the payment provider's records, newest first, each with every
    difference it found (none when the books agree)."""
    return ReconciliationList(reconciliations=await recent_runs(request.app.state.pool, before, limit))
