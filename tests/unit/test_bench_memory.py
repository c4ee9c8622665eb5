"""bench/b4_memory.py: reading a process's memory, the growth per workflow, the plan and its windows."""

import os

import pytest

from bench.b4_memory import Plan, growth_per_item, process_kib, status_kib, windows

STATUS = """Name:\tpython
VmPeak:\t  812340 kB
VmHWM:\t  190212 kB
VmRSS:\t  181604 kB
Threads:\t13
"""


def test_fields_of_the_process_status_in_kib():
    assert status_kib(STATUS, "VmRSS") == 181604
    assert status_kib(STATUS, "VmHWM") == 190212


def test_a_missing_field_or_another_unit_is_an_error():
    with pytest.raises(ValueError, match="no VmSwap"):
        status_kib(STATUS, "VmSwap")
    with pytest.raises(ValueError, match="not kB"):
        status_kib("VmRSS:\t 12 MB\n", "VmRSS")


def test_this_process_has_a_resident_size():
    assert 0 < process_kib(os.getpid()) <= process_kib(os.getpid(), "VmHWM")


def test_growth_is_per_item_and_may_be_negative():
    assert growth_per_item(1000, 1800, 8) == 100
    assert growth_per_item(1000, 960, 8) == -5
    with pytest.raises(ValueError):
        growth_per_item(1000, 1800, 0)


def test_windows_cover_every_key_once_in_order():
    keys = [str(i) for i in range(11)]
    assert windows(keys, 4) == [keys[0:4], keys[4:8], keys[8:11]]


def test_the_plan_parks_more_than_the_cache_and_measures_well_within_it():
    full, quick = Plan.from_env(False, {}), Plan.from_env(True, {})
    assert (full.orders, full.cache, full.window, full.rounds) == (400, 200, 40, 3)
    assert (quick.orders, quick.cache, quick.window, quick.rounds) == (60, 30, 6, 1)
    for plan in (full, quick):
        assert (plan.rounds + 1) * plan.window < plan.cache < plan.orders
    assert Plan.from_env(False, {"B4_ORDERS": "10000", "B4_CACHE": "1000"}) == Plan(orders=10_000, cache=1000)


def test_a_plan_that_cannot_measure_is_refused():
    with pytest.raises(ValueError):
        Plan.from_env(False, {"B4_ORDERS": "100", "B4_CACHE": "100"})
    with pytest.raises(ValueError):
        Plan.from_env(False, {"B4_ORDERS": "100", "B4_CACHE": "10"})
