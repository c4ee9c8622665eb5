"""A benchmark's figures, each beside the baseline measured in the same run, printed as a table and kept as JSON."""

import json
import platform
import statistics
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Figure:
    """One measured figure and its baseline. `ratio` is figure / baseline; the goal is met when the ratio (or, for
    `limit` goals, the figure itself) is on the right side of `goal_value`."""

    id: str
    name: str
    value: float
    unit: str
    baseline_name: str
    baseline: float
    goal: str
    goal_value: float | None = None
    higher_is_better: bool = True
    goal_on_value: bool = False  # the goal bounds the figure itself (e.g. at most 16 actions), not the ratio
    details: dict[str, float | int | str] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        """None when the baseline is not positive: every baseline is a rate, a size or a time, so a zero or negative
        one (e.g. memory growth lost in the noise of a small run) says the run measured nothing to compare with."""
        return self.value / self.baseline if self.baseline > 0 else None

    @property
    def met(self) -> bool | None:
        measured = self.value if self.goal_on_value else self.ratio
        if self.goal_value is None or measured is None:
            return None
        return measured >= self.goal_value if self.higher_is_better else measured <= self.goal_value


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def table(figures: list[Figure], failures: dict[str, str]) -> str:
    rows = [("id", "figure", "value", "baseline", "baseline value", "ratio", "goal", "met")]
    for f in figures:
        met = {True: "yes", False: "NO", None: "-"}[f.met]
        rows.append((f.id, f.name, f"{_number(f.value)} {f.unit}", f.baseline_name, _number(f.baseline), _number(f.ratio), f.goal, met))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    lines += [f"{id_}  could not run: {reason}" for id_, reason in failures.items()]
    return "\n".join(lines)


def write_json(figures: list[Figure], failures: dict[str, str], quick: bool) -> Path:
    RESULTS.mkdir(exist_ok=True)
    at = datetime.now(UTC)
    path = RESULTS / f"bench-{at:%Y%m%dT%H%M%SZ}{'-quick' if quick else ''}.json"
    document = {
        "at": at.isoformat(),
        "quick": quick,
        "machine": {"python": platform.python_version(), "system": platform.platform(), "cpus": _cpus()},
        "figures": [{**asdict(f), "ratio": f.ratio, "met": f.met} for f in figures],
        "could_not_run": failures,
    }
    path.write_text(json.dumps(document, indent=2))
    return path


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))
