"""The daily reconciliation of the ledger with the payment provider's own records (a Temporal Schedule)."""

from datetime import datetime

from pydantic import BaseModel, Field

RECONCILIATION_WORKFLOW_TYPE = "DailyReconciliation"
RECONCILIATION_SCHEDULE_ID = "daily-reconciliation"
# Every day at 03:00 UTC.
RECONCILIATION_CRON = "0 3 * * *"


class ReconciliationReport(BaseModel):
    run_id: str = Field(description="the workflow run that made it: one report per run")
    until: datetime = Field(description="both sides were compared as of this moment (the ledger's clock)")
    finished_at: datetime | None = None
    checked: int = Field(description="provider records compared")
    differences: list[str] = Field(description="every difference found, and every ledger invariant broken; empty when the books agree")
    orders_at_fault: dict[str, list[str]] = Field({}, description="each order a difference was found on, with those differences")
    orders_parked: list[str] = Field(
        [], description="the orders at fault still open: each waits in needs_attention before any more of its money leaves"
    )
