"""Ids in paths and query strings, held to the same rule as ids in request bodies, and the listing's cursor."""

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Path, Query

from domain.order_request import IDENTIFIER_DESCRIPTION, IDENTIFIER_PATTERN

PathId = Annotated[str, Path(pattern=IDENTIFIER_PATTERN, description=IDENTIFIER_DESCRIPTION)]
QueryId = Annotated[str | None, Query(pattern=IDENTIFIER_PATTERN, description=IDENTIFIER_DESCRIPTION)]

# A position in the listing (newest first): the placement time in microseconds since the epoch, `~`, the order id.
# Every string of this form is a position, so the pattern says exactly which cursors the API takes.
CURSOR_PATTERN = r"^[0-9]{1,16}~" + IDENTIFIER_PATTERN.removeprefix("^")
Cursor = Annotated[str | None, Query(pattern=CURSOR_PATTERN, description="`next_cursor` of the previous page")]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def cursor_of(placed_at: datetime, order_id: str) -> str:
    return f"{(placed_at - _EPOCH) // _MICROSECOND}~{order_id}"


def position_of(cursor: str) -> tuple[datetime, str]:
    """The position a cursor matching CURSOR_PATTERN names."""
    micros, _, order_id = cursor.partition("~")
    return _EPOCH + int(micros) * _MICROSECOND, order_id
