"""What a request's JSON schema says, made exact: rules between fields, and JSON's integers.

`variants` states a rule between fields: each variant is the whole object with some properties narrowed
and some required, closed to unknown properties like the object itself, so that a client or a fuzzer can
judge a branch on its own.
"""

from collections.abc import Callable
from typing import Any

from pydantic import BeforeValidator

Variant = tuple[dict[str, dict[str, Any]], set[str]]  # narrowed properties, required properties


def variants(combinator: str, *choices: Variant) -> Callable[[dict[str, Any]], None]:
    """A `json_schema_extra` adding `oneOf` (exactly one variant holds) or `anyOf` (at least one) to the object."""

    def extra(schema: dict[str, Any]) -> None:
        schema[combinator] = [
            {
                "type": "object",
                "properties": {
                    name: {"allOf": [spec, narrowed[name]]} if name in narrowed else spec for name, spec in schema["properties"].items()
                },
                "required": sorted({*schema.get("required", ()), *required}),
                "additionalProperties": False,
            }
            for narrowed, required in choices
        ]

    return extra


EXACT_IN_A_FLOAT = 2**53  # JSON numbers are read as floats when written with a fraction or an exponent


def _whole(value: Any) -> Any:
    exact = isinstance(value, float) and value.is_integer() and abs(value) <= EXACT_IN_A_FLOAT
    return int(value) if exact else value


# A JSON Schema `integer`: any number without a fraction (2.0 and 2e3 are integers), never a string or a boolean.
# Written `Annotated[StrictInt, Field(..., le=...), WHOLE_NUMBER]`: the constraints before it stay on the integer,
# where its schema shows them; every upper bound must keep the number exact in a float (EXACT_IN_A_FLOAT).
WHOLE_NUMBER = BeforeValidator(_whole)
