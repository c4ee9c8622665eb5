"""The README's configuration table states the defaults the code has (they are written once, in the domain)."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from domain.order_request import DEFAULT_POLICY
from runtime.settings import Settings
from simulators.config import SimulatorSettings

README = Path(__file__).resolve().parents[2] / "README.md"
ROW = re.compile(r"^\| `(?P<names>[A-Z_]+)`(?: / `(?P<second>[A-Z_.]+)`)? \| `(?P<defaults>[^|]+?)` \|", re.M)
DURATION = TypeAdapter(timedelta)


def _documented_defaults() -> dict[str, str]:
    table = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = {}
    for row in ROW.finditer(table):
        names = [name for name in (row["names"], row["second"]) if name]
        values = [value.strip("` ") for value in row["defaults"].split(" / ")]
        if len(values) == len(names) and not any("." in name for name in names):
            documented.update(zip(names, values, strict=True))
    return documented


def _parse(value: str, like: object) -> object:
    if isinstance(like, timedelta):
        return DURATION.validate_python(value)
    return type(like)(value)


POLICY_SETTINGS = {
    "SETTLEMENT_DEFAULT_SHIP_WITHIN": DEFAULT_POLICY.ship_within,
    "SETTLEMENT_DEFAULT_DELIVER_WITHIN": DEFAULT_POLICY.deliver_within_after_ship_by,
    "SETTLEMENT_DEFAULT_CONFIRMATION_WINDOW": DEFAULT_POLICY.confirmation_window,
    "SETTLEMENT_SELLER_RESPONSE_WINDOW": DEFAULT_POLICY.after_sales.seller_response_window,
    "SETTLEMENT_RESOLUTION_WINDOW": DEFAULT_POLICY.after_sales.resolution_window,
    "SETTLEMENT_RETURN_WINDOW": DEFAULT_POLICY.after_sales.return_window,
    "SETTLEMENT_RETURN_TRANSIT_WINDOW": DEFAULT_POLICY.after_sales.return_transit_window,
    "SETTLEMENT_LATE_DELIVERY_COMPENSATION_BPS": DEFAULT_POLICY.after_sales.late_delivery_compensation_bps,
    "SETTLEMENT_LOST_AFTER_LATE": DEFAULT_POLICY.after_sales.lost_after_late,
    "SETTLEMENT_PROVIDER_MAX_ATTEMPTS": DEFAULT_POLICY.provider_retry.maximum_attempts,
    "SETTLEMENT_PROVIDER_MAX_BACKOFF": DEFAULT_POLICY.provider_retry.maximum_interval,
}


@pytest.mark.parametrize("variable", sorted(POLICY_SETTINGS))
def test_a_policy_setting_defaults_to_the_domain_s_value_and_the_readme_says_so(variable):
    default = Settings.model_fields[variable.lower()].default
    assert default == POLICY_SETTINGS[variable]
    documented = _documented_defaults()
    assert variable in documented, f"README's configuration table lacks {variable}"
    assert _parse(documented[variable], default) == default, f"README says {variable} defaults to {documented[variable]}"


def test_every_plain_default_in_the_readme_is_the_code_s():
    """The engine's settings, and the simulators' own (SETTLEMENT_SIM_*, SETTLEMENT_API_URL)."""
    checked = 0
    for variable, value in _documented_defaults().items():
        field = Settings.model_fields.get(variable.lower()) or SimulatorSettings.model_fields.get(variable.lower())
        if field is None or not isinstance(field.default, (int, float, timedelta, str)) or isinstance(field.default, bool):
            continue
        assert _parse(value, field.default) == field.default, f"README says {variable} defaults to {value}, the code {field.default}"
        checked += 1
    assert checked >= len(POLICY_SETTINGS) + 5
