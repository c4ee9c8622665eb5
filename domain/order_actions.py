"""Payloads of the workflow's updates (buyer, seller and operator actions)."""

from pydantic import BaseModel, Field

from domain.text import FreeText


class Actor(BaseModel):
    role: str
    sub: str


class CancelRequest(BaseModel):
    actor: Actor
    reason: FreeText = Field("cancelled on request", max_length=500)
