"""Signed outbound webhooks (the Standard Webhooks scheme): what the engine tells marketplaces and sellers, and the
endpoints they register to hear it (docs/webhooks.md).

Each event has a stable id made from what it tells of, so the same change written twice is one event; each is
delivered at least once to every endpoint of its owners that takes its type, retried on the schedule below.
"""

import hashlib
import ipaddress
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator

from domain.order_request import IDENTIFIER_PATTERN


class EventType(StrEnum):
    ORDER_STATUS_CHANGED = "order.status_changed"
    PAYOUT_PAID = "payout.paid"
    PAYOUT_RETURNED = "payout.returned"
    CHARGEBACK_OPENED = "chargeback.opened"
    CHARGEBACK_WON = "chargeback.won"
    CHARGEBACK_LOST = "chargeback.lost"
    RESERVE_RELEASED = "reserve.released"
    REGION_SURGE = "region.surge"


# After the n-th failed attempt the next waits RETRY_SCHEDULE[n - 1]; after the last, the delivery has failed.
RETRY_SCHEDULE = (
    timedelta(seconds=5),
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
OWNER_PATTERN = r"^(marketplace|seller):" + IDENTIFIER_PATTERN.removeprefix("^")


def private_host(url: str) -> bool:
    """Whether the URL names this machine or a private network by its address or as localhost (a hostname is not
    resolved: an endpoint whose name resolves to a private address is not caught here)."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    return host == "localhost" or host.endswith(".localhost") or private_address(host)


def private_address(host: str) -> bool:
    """Whether `host` is an IP address outside the public internet (a name is not an address: False)."""
    try:
        return not ipaddress.ip_address(host).is_global
    except ValueError:
        return False


def owner_of(role: str, sub: str) -> str:
    return f"{role}:{sub}"


def event_id(*parts: str) -> str:
    """A stable id for what the parts name: the same change told twice is the same event."""
    return "evt_" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


class OutboundEvent(BaseModel):
    event_id: str
    type: EventType
    owners: list[str] = Field(description="who hears of it: `marketplace:<id>`, `seller:<id>`")
    data: dict[str, Any]
    occurred_at: datetime

    def body(self) -> str:
        """The payload sent, in the Standard Webhooks shape: type, timestamp, data."""
        return _Payload(type=self.type, timestamp=self.occurred_at, data=self.data).model_dump_json()


class _Payload(BaseModel):
    type: EventType
    timestamp: datetime
    data: dict[str, Any]


class EndpointRequest(BaseModel):
    """`POST /v1/webhook-endpoints`."""

    model_config = ConfigDict(extra="forbid")

    url: Annotated[AnyHttpUrl, Field(description="where events are POSTed (http or https)")]
    event_types: list[EventType] = Field([], max_length=len(EventType), description="the types to send; empty: all")
    owner: Annotated[str, Field(pattern=OWNER_PATTERN)] | None = Field(
        None, description="operators only: whose endpoint it is (`marketplace:<id>` or `seller:<id>`); others register their own"
    )

    @field_validator("url")
    @classmethod
    def _plain(cls, url: AnyHttpUrl) -> AnyHttpUrl:
        if url.username or url.password:
            raise ValueError("a URL with credentials in it")
        if len(str(url)) > 2000:
            raise ValueError("a URL longer than 2000 characters")
        return url

    @field_validator("event_types")
    @classmethod
    def _once_each(cls, types: list[EventType]) -> list[EventType]:
        return list(dict.fromkeys(types))  # a type listed twice is the same choice


class Endpoint(BaseModel):
    endpoint_id: str
    owner: str
    url: str
    event_types: list[EventType]
    created_at: datetime
    disabled_at: datetime | None


class NewEndpoint(Endpoint):
    secret: str = Field(description="the Standard Webhooks secret (`whsec_…`) that signs what this endpoint receives; shown once")


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class Delivery(BaseModel):
    endpoint_id: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None = Field(description="when it is tried next; null once delivered or failed")
    last_status: int | None = Field(description="the endpoint's last HTTP status; null when it never answered")
    last_error: str | None
    delivered_at: datetime | None


class EventRecord(BaseModel):
    event_id: str
    type: EventType
    occurred_at: datetime
    data: dict[str, Any]
    deliveries: list[Delivery]


def order_status_changed(order_id: str, seq: int, status: str, detail: str, at: datetime, order: dict[str, Any]) -> OutboundEvent:
    """A step of the order's timeline; `order` the order's own fields told with it."""
    data = {"order_id": order_id, "status": status, "detail": detail, "at": at.isoformat(), **order}
    owners = [owner_of("marketplace", order["marketplace"]), owner_of("seller", order["seller_id"])]
    return OutboundEvent(
        event_id=event_id("order", order_id, str(seq), status, at.isoformat()),
        type=EventType.ORDER_STATUS_CHANGED,
        owners=owners,
        data=data,
        occurred_at=at,
    )


def surge_event(marketplace: str, region: str, started: datetime, data: dict[str, Any]) -> OutboundEvent:
    """A region of the marketplace surging in the interval that started then: told once per region and interval."""
    return OutboundEvent(
        event_id=event_id(EventType.REGION_SURGE.value, marketplace, region, started.isoformat()),
        type=EventType.REGION_SURGE,
        owners=[owner_of("marketplace", marketplace)],
        data={"marketplace": marketplace, "region": region, "interval_start": started.isoformat(), **data},
        occurred_at=started,
    )


def seller_event(type_: EventType, key: str, seller_id: str, data: dict[str, Any], at: datetime) -> OutboundEvent:
    """A seller's own money (a payout, a chargeback, a reserve released), told once per `key` and type."""
    return OutboundEvent(
        event_id=event_id(type_.value, key),
        type=type_,
        owners=[owner_of("seller", seller_id)],
        data={"seller_id": seller_id, **data},
        occurred_at=at,
    )
