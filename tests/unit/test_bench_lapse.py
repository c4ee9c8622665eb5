"""bench/b6_lapse.py: each order's window is chosen so that it ends at the common lapse moment."""

import pytest

from bench.b6_lapse import DELIVERY_LAG, Lag, window_ending_at


def test_an_order_is_created_when_a_whole_second_window_ends_at_the_lapse():
    window, create_at = window_ending_at(lapse_at=100.0, lag=1.3, now=50.25)
    assert (window, create_at) == (48, pytest.approx(50.7))
    assert create_at >= 50.25 and create_at + 1.3 + window == pytest.approx(100.0)


def test_a_lapse_too_close_gets_the_shortest_window_now():
    assert window_ending_at(lapse_at=100.0, lag=1.3, now=98.0) == (1, 98.0)


def test_the_lag_is_the_median_of_the_latest_orders():
    lag = Lag()
    assert lag.estimate == DELIVERY_LAG
    for created_at, confirm_by in ((10.0, 21.2), (20.0, 31.4), (30.0, 41.1), (40.0, 59.0)):
        lag.observe(created_at, window=10, confirm_by=confirm_by)
    assert lag.estimate == pytest.approx(1.4)  # of 1.5 (the first guess), 1.2, 1.4, 1.1, 9.0
