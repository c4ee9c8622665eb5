"""What the API shows of an order."""

from typing import Annotated
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field

from api.params import CURSOR_PATTERN
from domain.chargebacks import ChargebackSummary
from domain.money_back import ClaimRefund, MoneyBack
from domain.order_state import OrderProgress, OrderState


class WorkflowLink(BaseModel):
    id: str
    ui_url: str


def _every_field_present(schema: dict) -> None:
    """An answer always carries every field: the state's defaults are not the client's to assume."""
    for field in schema["properties"].values():
        field.pop("default", None)


class OrderView(OrderProgress):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True, json_schema_extra=_every_field_present)

    workflow: WorkflowLink

    @classmethod
    def of(cls, state: OrderState, ui_url: str, namespace: str) -> "OrderView":
        fields = {name: getattr(state, name) for name in OrderProgress.model_fields}
        link = f"{ui_url.rstrip('/')}/namespaces/{quote(namespace)}/workflows/{quote(state.workflow_id)}"
        return cls(**fields, workflow=WorkflowLink(id=state.workflow_id, ui_url=link))


class AfterTheSale(BaseModel):
    """Money that went back to the buyer after the order settled, and what the books say of the order."""

    chargebacks: list[ChargebackSummary]
    claims: list[ClaimRefund]
    left_to_give_back: int = Field(description="captured and not yet refunded, charged back or claimed")
    reconciliation: list[str] = Field(
        description="operators: the differences the latest daily reconciliation found on this order; empty when it found none (and for others)"
    )


class OrderDetail(OrderView):
    after_the_sale: AfterTheSale

    @classmethod
    def with_after_sale(cls, view: OrderView, back: MoneyBack, reconciliation: list[str]) -> "OrderDetail":
        after = AfterTheSale(
            chargebacks=[ChargebackSummary(**c.model_dump()) for c in back.chargebacks],
            claims=back.claims,
            left_to_give_back=back.left_to_give_back(view.amounts),
            reconciliation=reconciliation,
        )
        return cls(**dict(view), after_the_sale=after)


class OrderPage(BaseModel):
    orders: list[OrderView]
    next_cursor: Annotated[str, Field(pattern=CURSOR_PATTERN)] | None = Field(description="the `cursor` of the next page; null on the last")
