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

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


def update_input(model: type[M], arguments: tuple[Any, ...]) -> M:
    """`model` from one argument, or from the legacy pair (actor, request): the request fills the model's
    one field besides `actor`."""
    if len(arguments) == 2:
        actor, request = arguments
        [field] = [name for name in model.model_fields if name != "actor"]
        return model.model_validate({"actor": actor, field: request})
    [document] = arguments
    return model.model_validate(document)
