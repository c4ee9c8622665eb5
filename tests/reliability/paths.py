"""The paths an order takes in the chaos run: what the runner does on the order's behalf at each status,
and what the order and the payment provider must show once it is over."""

import random
from dataclasses import dataclass, field
from fractions import Fraction

from domain import order_steps as steps

TERMINAL = {"settled", "refunded", "cancelled", "payment_failed"}

# Successful operations at the payment provider, by kind, once the order is over.
SALE = {"authorize": 1, "capture": 1, "payout": 1}
REFUND = {"authorize": 1, "capture": 1, "refund": 1}
PARTIAL_REFUND = {"authorize": 1, "capture": 1, "refund": 1, "payout": 1}
VOIDED = {"authorize": 1, "void": 1}
# An order of a seller paid on demand: the seller's own payouts pay it (tests/reliability/pooled.py).
POOLED = {"authorize": 1, "capture": 1}
POOLED_SELLER = "seller_pooled_chaos"


@dataclass(frozen=True)
class Path:
    name: str
    outcome: str
    provider: dict[str, int]
    order: dict = field(default_factory=dict)
    buyer: str | None = "confirm"  # once delivered: "confirm", "dispute", or None (the confirmation window lapses)
    seller_response: dict | None = None
    resolution: str | None = None  # the operator's decision of the dispute
    refund_share: Fraction | None = None  # of the total, for a partial refund
    cancel_before_shipment: bool = False
    attention: dict[str, str] = field(default_factory=dict)  # step it must park at → "cancel", "retry" or "fix-account-and-retry"

    def refund_amount(self, total: int) -> int | None:
        """What the operator refunds of a partial refund."""
        return max(1, int(total * self.refund_share)) if self.refund_share else None

    def refunded(self, total: int) -> int:
        """What the buyer has back once the order is over."""
        if self.refund_share:
            return self.refund_amount(total)
        return total if "refund" in self.provider else 0


# Street addresses, as Amazon's network needs them (the simulated network takes them too).
ADDRESSES = (
    {
        "country": "US",
        "subdivision": "US-WA",
        "name": "Chaos Buyer",
        "address_line1": "410 Terry Ave N",
        "city": "Seattle",
        "postal_code": "98109",
    },
    {
        "country": "US",
        "subdivision": "US-NY",
        "name": "Chaos Buyer",
        "address_line1": "1 Main St",
        "city": "Brooklyn",
        "postal_code": "11201",
    },
    {
        "country": "DE",
        "subdivision": "DE-BE",
        "name": "Chaos Buyer",
        "address_line1": "Unter den Linden 1",
        "city": "Berlin",
        "postal_code": "10117",
    },
)

EVIDENCE = {"evidence": "shipped as described; photos attached"}

PATHS = (
    Path("auto", "settled", SALE, order={"confirmation_window": "PT5S"}, buyer=None),
    Path("confirm", "settled", SALE),
    Path("disp-release", "settled", SALE, buyer="dispute", seller_response=EVIDENCE, resolution="release"),
    Path("disp-refund", "refunded", REFUND, buyer="dispute", resolution="refund"),
    Path("disp-partial", "settled", PARTIAL_REFUND, buyer="dispute", resolution="partial_refund", refund_share=Fraction(1, 3)),
    Path("disp-return", "refunded", REFUND, buyer="dispute", resolution="return_and_refund"),
    Path("seller-refund", "refunded", REFUND, buyer="dispute", seller_response={"accept_refund": True}),
    Path("cancel", "cancelled", VOIDED, cancel_before_shipment=True),
    Path("declined", "payment_failed", {}, order={"payment_method": "pm_card_declined"}),
    Path(
        "capture-refused", "cancelled", VOIDED, order={"payment_method": "pm_card_capture_fails"}, attention={steps.CAPTURE.label: "cancel"}
    ),
    Path(
        "payout-retry",
        "settled",
        SALE,
        order={"seller_id": "sim_payout_reject_{n}"},
        attention={steps.PAYOUT.pay.label: "fix-account-and-retry"},
    ),
    Path("pooled", "settled", POOLED, order={"seller_id": POOLED_SELLER}),
    Path("fx-eur-usd", "settled", SALE, order={"currency": "EUR", "settlement_currency": "USD", "seller_id": "seller_usd"}),
    Path(
        "fx-jpy-partial",
        "settled",
        PARTIAL_REFUND,
        order={"currency": "JPY", "settlement_currency": "EUR", "seller_id": "seller_eur"},
        buyer="dispute",
        resolution="partial_refund",
        refund_share=Fraction(2, 5),
    ),
)


def assign(count: int, rng: random.Random) -> list[Path]:
    """`count` orders spread evenly over every path, in a random order."""
    paths = [PATHS[i % len(PATHS)] for i in range(count)]
    rng.shuffle(paths)
    return paths


def order_body(order_id: str, n: int, path: Path, rng: random.Random) -> dict:
    """A create-order body; amounts large enough that a seller's share is left after fees in any currency."""
    items = [{"sku": f"sku-{k}", "quantity": rng.randint(1, 3), "unit_price": rng.randint(2_000, 30_000)} for k in range(rng.randint(1, 2))]
    body = {
        "order_id": order_id,
        "buyer_id": "buyer_chaos",
        "seller_id": "seller_chaos",
        "marketplace": "market_chaos",
        "currency": "USD",
        "items": items,
        "shipping_fee": rng.randint(0, 999),
        "payment_method": "pm_card_visa",
        "confirmation_window": "P1D",
        "ship_to": rng.choice(ADDRESSES),
    }
    body.update({key: value.format(n=n) if isinstance(value, str) else value for key, value in path.order.items()})
    return body
