"""What an order's buyer, seller, operator and carrier do next on its path, seen from the order as the API
shows it (the read model changes with each status; a seller's answer or a return's progress alone does not
show, so those follow from the actions already taken)."""

from collections.abc import Callable
from dataclasses import dataclass

from tests.reliability.paths import TERMINAL, Path


@dataclass(frozen=True)
class Action:
    key: str
    by: str  # "marketplace", "buyer", "seller", "operator" (through the API) or "carrier" (through the simulated network)
    url: str
    body: dict | None = None


class Unexpected(Exception):
    """The order went where its path never goes."""


def next_action(path: Path, view: dict, took: Callable[[str], bool]) -> Action | None:
    """What the order's people do now, or None while they wait for the engine (took(action): it was answered
    with success)."""
    p, oid, status = path, view["order_id"], view["status"]
    if status == "awaiting_shipment":
        if p.cancel_before_shipment:
            return Action("cancel", "buyer", f"/v1/orders/{oid}/cancel", {"reason": "changed my mind"})
        return Action("shipped", "carrier", f"/fulfillment/orders/{oid}/events", {"type": "shipped", "tracking": "CHAOS1"})
    if status == "in_transit":
        return Action("delivered", "carrier", f"/fulfillment/orders/{oid}/events", {"type": "delivered", "tracking": "CHAOS1"})
    if status == "awaiting_confirmation" and p.buyer == "confirm":
        return Action("confirm", "buyer", f"/v1/orders/{oid}/confirm-receipt")
    if status == "awaiting_confirmation" and p.buyer == "dispute":
        return Action(
            "dispute", "buyer", f"/v1/orders/{oid}/disputes", {"reason": "not_as_described", "description": "not what the listing showed"}
        )
    if status == "disputed":  # the read model shows a seller's answer only once it changes the status
        if p.seller_response and not took("respond"):
            return Action("respond", "seller", f"/v1/orders/{oid}/disputes/response", p.seller_response)
        if p.resolution and (view.get("dispute") or {}).get("resolution") is None:
            body = {"outcome": p.resolution, "note": "decided by the chaos runner"}
            if p.refund_share:
                body["refund_amount"] = p.refund_amount(view["amounts"]["total"])
            return Action("resolve", "operator", f"/v1/orders/{oid}/disputes/resolution", body)
    if status == "awaiting_return":  # the return's progress shows only once it is received
        kind = "return_received" if took("return_shipped") else "return_shipped"
        return Action(kind, "carrier", f"/fulfillment/orders/{oid}/events", {"type": kind})
    if status == "needs_attention":
        step, reason = view["attention"]["step"], view["attention"]["reason"]
        answer = p.attention.get(step)
        if answer is None:
            raise Unexpected(f"parked at {step}, where this path never parks: {reason}")
        if answer == "cancel":
            return Action(f"cancel-{step}", "operator", f"/v1/orders/{oid}/cancel", {"reason": f"{step} refused for good"})
        return Action(f"{answer}-{step}", "operator", f"/v1/orders/{oid}/retry")
    if status not in ("payment_pending", "payout_pending", "awaiting_confirmation", "disputed", *TERMINAL):
        raise Unexpected(f"status {status}, which this path never takes")
    return None
