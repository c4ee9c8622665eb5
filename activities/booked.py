"""Provider calls with the bookkeeping that rides on them (domain/books.py). Each bookable provider activity has a
booked twin, made here from the plain one and the bookkeeping activities: it posts the ledger entries and writes the
read model around the very same provider call, in that order, so a money step is one activity.

Order matters and is the plain steps' order: entries `before` (a disbursement's reserve, refused before any money
leaves when it conflicts), the row `record_before`, the provider call, entries `after`, the row `record_after`.
A failure before the provider call is BooksUnstarted: the provider was not asked, and the workflow does the step in
activities of its own (a database that is away is then waited for, not charged to the provider's retry budget). The
provider's own failures keep their type and are retried on its budget. Once the provider has answered, any failure
is BooksUnfinished, not retried, carrying the answer: the workflow finishes the books without asking it again.
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, get_type_hints

from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain import activity_names as act
from domain import failures
from domain.books import Booked
from domain.ledger import EntryRequest
from domain.order_state import OrderState

ProviderCall = Callable[[Any], Awaitable[Any]]
PostEntry = Callable[[EntryRequest], Awaitable[int]]
RecordOrder = Callable[[OrderState], Awaitable[None]]


def booked_activities(providers: Mapping[str, ProviderCall], post_entry: PostEntry, record_order: RecordOrder) -> list[Callable]:
    """The booked twin of every bookable provider activity in `providers` (activity type → plain activity)."""
    return [_booked(name, providers[name], post_entry, record_order) for name in act.BOOKABLE]


def _booked(name: str, provider: ProviderCall, post_entry: PostEntry, record_order: RecordOrder) -> Callable:
    hints = get_type_hints(provider)  # the booked twin takes and returns what the plain activity does
    result_type = hints.pop("return")
    [request_type] = hints.values()

    async def run(booked: Any) -> Any:
        books = booked.books
        try:
            for entry in books.before:
                await post_entry(entry)
            if books.record_before is not None:
                await record_order(books.record_before)
        except Exception as err:
            raise ApplicationError(
                f"{name} not asked; its bookkeeping failed: {err}", type=failures.BOOKS_UNSTARTED, non_retryable=True
            ) from err
        result = await provider(booked.request)
        try:
            for entry in books.after:
                await post_entry(entry)
            after = books.recorded_after(getattr(result, "id", None))
            if after is not None:
                await record_order(after)
        except (Exception, asyncio.CancelledError) as err:  # cancelled too: a worker stopping must not ask again
            message = f"{name} done; its bookkeeping failed: {err}"
            raise ApplicationError(message, result, type=failures.BOOKS_UNFINISHED, non_retryable=True) from err
        return result

    run.__name__ = act.booked(name)
    run.__annotations__ = {"booked": Booked[request_type], "return": result_type}  # type: ignore[valid-type]
    return activity.defn(name=act.booked(name))(run)
