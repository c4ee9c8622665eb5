"""The input model of a dispute update, from the arguments it arrived with.

Since issue 9 `open_dispute`, `respond_to_dispute` and `resolve_dispute` each take one input model
(domain/order_actions.py). Before, they took two arguments, the Actor and the request, and the histories of
orders disputed then carry that pair: replaying them calls the handler with both. Temporal's Python SDK
(1.35) decodes an update's arguments by the handler's type hints only when their number matches, so the
handlers take `*arguments` and the model is built here. LEGACY: the two-argument form stays accepted only
while a recorded history needs it: every dispute history in tests/histories recorded before the change
(tests/histories/README.md; test_replay.py checks both forms are there) and any order disputed before it
that is still open. New callers send the model.
"""

from typing import Any, TypeVar

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ValidationError

    from domain import failures

M = TypeVar("M", bound=BaseModel)


def update_input(model: type[M], arguments: tuple[Any, ...]) -> M:
    """`model` from one argument, or from the legacy pair (actor, request): the request fills the model's
    one field besides `actor`. Any other shape raises an InvalidUpdateInput ApplicationError that says what
    was expected."""
    [field] = [name for name in model.model_fields if name != "actor"]
    expected = f"one {model.__name__} ({{actor, {field}}})"
    if len(arguments) == 2:
        document = {"actor": arguments[0], field: arguments[1]}
    elif len(arguments) == 1:
        [document] = arguments
    else:
        raise _invalid_input(f"expected {expected}, got {len(arguments)} arguments")
    try:
        return model.model_validate(document)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(str(part) for part in e['loc']) or 'the argument'}: {e['msg']}" for e in err.errors())
        raise _invalid_input(f"expected {expected}: {problems}") from None


def _invalid_input(message: str) -> ApplicationError:
    return ApplicationError(message, type=failures.INVALID_UPDATE_INPUT, non_retryable=True)
