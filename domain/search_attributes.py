"""Search attributes operators filter orders by in the Temporal UI (README: Where to look in the Temporal UI)."""

from temporalio.common import SearchAttributeKey

ORDER_STATUS = SearchAttributeKey.for_keyword("OrderStatus")
SELLER_ID = SearchAttributeKey.for_keyword("SellerId")
BUYER_ID = SearchAttributeKey.for_keyword("BuyerId")
MARKETPLACE = SearchAttributeKey.for_keyword("Marketplace")

ALL = (ORDER_STATUS, SELLER_ID, BUYER_ID, MARKETPLACE)
