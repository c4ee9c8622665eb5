"""domain/text.py and the models that use it: text from outside must be storable in PostgreSQL (no NUL, no
unpaired surrogates, no control characters but a line's whitespace), and request bodies refuse unknown
properties."""

import pytest
from pydantic import BaseModel, ValidationError

from api.routers.orders import CancelBody
from api.routers.webhooks import FulfillmentEventBody
from domain.after_sales import DisputeRequest, Resolution, SellerResponse
from domain.order_actions import Actor, CancelRequest, Role
from domain.text import FreeText, SingleLine

NEVER = ["a\x00b", "\x00", "bell\x07", "esc\x1b[31m", "del\x7f", "c1\x85", "c1\x9f", "\x0b", "\x0c", "lone \ud800", "lone \udfff"]
EVENT = {"event_id": "evt-1", "order_id": "ord-1", "type": "delivered", "occurred_at": "2026-01-01T00:00:00Z", "tracking": "T1"}


class Free(BaseModel):
    text: FreeText


class Line(BaseModel):
    text: SingleLine


@pytest.mark.parametrize("value", NEVER)
@pytest.mark.parametrize("model", [Free, Line])
def test_control_characters_and_lone_surrogates_are_refused(model, value):
    with pytest.raises(ValidationError) as exc:
        model.model_validate({"text": value})
    assert [e["loc"] for e in exc.value.errors()] == [("text",)]


def test_the_message_names_the_character_without_echoing_it():
    with pytest.raises(ValidationError) as exc:
        Free.model_validate({"text": "ab\x00"})
    message = exc.value.errors()[0]["msg"]
    assert "U+0000 at position 2" in message and "\x00" not in message


@pytest.mark.parametrize("value", ["tab\there", "two\nlines", "crlf\r\nlines", "ünïcødé ✓ 日本", "emoji 👍", ""])
def test_free_text_keeps_whitespace_and_any_printable_character(value):
    assert Free.model_validate({"text": value}).text == value


@pytest.mark.parametrize("value", ["tab\there", "two\nlines", "cr\r"])
def test_a_single_line_has_no_line_breaks_or_tabs(value):
    with pytest.raises(ValidationError):
        Line.model_validate({"text": value})


@pytest.mark.parametrize(
    ("model", "data", "field"),
    [
        (DisputeRequest, {"reason": "damaged", "description": "{}"}, "description"),
        (SellerResponse, {"evidence": "{}"}, "evidence"),
        (Resolution, {"outcome": "refund", "note": "{}"}, "note"),
        (CancelBody, {"reason": "{}"}, "reason"),
        (CancelRequest, {"actor": {"role": "buyer", "sub": "b"}, "reason": "{}"}, "reason"),
        (FulfillmentEventBody, {**EVENT, "event_id": "{}"}, "event_id"),
        (FulfillmentEventBody, {**EVENT, "tracking": "{}"}, "tracking"),
        (FulfillmentEventBody, {**EVENT, "order_id": "{}"}, "order_id"),
    ],
)
@pytest.mark.parametrize("bad", ["nul \x00 here", "lone \udc00 surrogate", "escape \x1b"])
def test_every_text_field_from_outside_refuses_unstorable_text(model, data, field, bad):
    data = {k: v.replace("{}", bad) if isinstance(v, str) else v for k, v in data.items()}
    with pytest.raises(ValidationError) as exc:
        model.model_validate(data)
    assert (field,) in [e["loc"] for e in exc.value.errors()]


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (DisputeRequest, {"reason": "damaged", "description": "broken"}),
        (SellerResponse, {"accept_refund": True}),
        (Resolution, {"outcome": "refund"}),
        (CancelBody, {"reason": "changed my mind"}),
        (FulfillmentEventBody, EVENT),
    ],
)
def test_request_bodies_refuse_unknown_properties(model, data):
    model.model_validate(data)
    with pytest.raises(ValidationError) as exc:
        model.model_validate({**data, "surprise": 1})
    assert exc.value.errors()[0]["loc"] == ("surprise",)


def test_multi_line_free_text_is_accepted_where_people_write():
    assert DisputeRequest(reason="damaged", description="box crushed\r\n\tlid missing").description.endswith("lid missing")
    assert CancelRequest(actor=Actor(role=Role.BUYER, sub="b"), reason="line one\nline two").reason == "line one\nline two"
