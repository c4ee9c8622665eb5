"""Ids in paths and query strings, held to the same rule as ids in request bodies."""

from typing import Annotated

from fastapi import Path, Query

from domain.order_request import IDENTIFIER_DESCRIPTION, IDENTIFIER_PATTERN

PathId = Annotated[str, Path(pattern=IDENTIFIER_PATTERN, description=IDENTIFIER_DESCRIPTION)]
QueryId = Annotated[str | None, Query(pattern=IDENTIFIER_PATTERN, description=IDENTIFIER_DESCRIPTION)]
