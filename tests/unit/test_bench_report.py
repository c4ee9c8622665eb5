"""bench/report.py: ratios, goals and the table make bench prints."""

from bench.report import Figure, table


def _figure(**overrides) -> Figure:
    values = dict(
        id="B9", name="things per second", value=8.0, unit="/s", baseline_name="skeleton", baseline=10.0, goal="≥ 0.8×", goal_value=0.8
    )
    return Figure(**{**values, **overrides})


def test_a_ratio_goal_is_met_on_its_side():
    assert _figure().ratio == 0.8 and _figure().met is True
    assert _figure(value=7.9).met is False
    assert _figure(value=12.0, higher_is_better=False, goal_value=1.5).met is True
    assert _figure(value=16.0, higher_is_better=False, goal_value=1.5).met is False


def test_a_limit_goal_bounds_the_figure_itself():
    actions = _figure(value=16, baseline=12, goal="≤ 16", goal_value=16, higher_is_better=False, goal_on_value=True)
    assert actions.met is True
    assert _figure(value=17, baseline=12, goal_value=16, higher_is_better=False, goal_on_value=True).met is False


def test_no_goal_or_no_baseline_is_neither_met_nor_missed():
    assert _figure(goal_value=None).met is None
    assert _figure(baseline=0).ratio is None and _figure(baseline=0).met is None
    growth_lost_in_noise = _figure(value=353, baseline=-35.3, goal_value=1.5, higher_is_better=False)
    assert growth_lost_in_noise.ratio is None and growth_lost_in_noise.met is None


def test_the_table_shows_each_figure_and_what_could_not_run():
    printed = table([_figure(), _figure(id="B8", value=1.0)], {"B7": "RuntimeError: no server"})
    lines = printed.splitlines()
    assert lines[0].split()[:3] == ["id", "figure", "value"]
    assert any(line.startswith("B9") and line.rstrip().endswith("yes") for line in lines)
    assert any(line.startswith("B8") and line.rstrip().endswith("NO") for line in lines)
    assert lines[-1] == "B7  could not run: RuntimeError: no server"
