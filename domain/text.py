"""Text that comes from outside, held to what PostgreSQL can store and an operator can read.

PostgreSQL's `text` cannot hold NUL, nor an unpaired surrogate (which has no UTF-8 form; pydantic lets
one through some string fields), and other control characters only garble what people read. Both types
refuse unpaired surrogates and every control character (C0, DEL, C1) but a text's own whitespace.
"""

import re
from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic.fields import FieldInfo

# Multi-line text keeps tab, line feed and carriage return (browsers send a textarea's lines as CRLF).
_CONTROLS_IN_FREE_TEXT = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_CONTROLS_IN_LINE = r"\x00-\x1f\x7f-\x9f"
_UNFIT_IN_FREE_TEXT = re.compile(f"[{_CONTROLS_IN_FREE_TEXT}\ud800-\udfff]")
_UNFIT_IN_LINE = re.compile(f"[{_CONTROLS_IN_LINE}\ud800-\udfff]")


def _refusing(unfit: re.Pattern[str], allowed: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if found := unfit.search(value):
            what = "unpaired surrogate" if "\ud800" <= found.group() <= "\udfff" else "control character"
            raise ValueError(f"{what} U+{ord(found.group()):04X} at position {found.start()}; {allowed}")
        return value

    return check


def _documented(controls: str) -> FieldInfo:
    """The same rule in the JSON schema, for clients and fuzzers. The pattern leaves surrogates out: a JSON
    Schema string holds Unicode scalar values only (an unpaired surrogate is not one), and regex engines
    such as Rust's refuse surrogate escapes."""
    documented: FieldInfo = Field(json_schema_extra={"pattern": f"^[^{controls}]*$"})
    return documented


FreeText = Annotated[
    str,
    AfterValidator(_refusing(_UNFIT_IN_FREE_TEXT, "of the control characters only tab and line breaks are allowed")),
    _documented(_CONTROLS_IN_FREE_TEXT),
]
SingleLine = Annotated[str, AfterValidator(_refusing(_UNFIT_IN_LINE, "no control characters are allowed")), _documented(_CONTROLS_IN_LINE)]
