"""Payloads of the workflow's updates (buyer, seller and operator actions)."""

from pydantic import BaseModel, Field


class Actor(BaseModel):
    role: str
    sub: str


class CancelRequest(BaseModel):
    actor: Actor
    reason: str = Field("cancelled on request", max_length=500)
