"""`make bench`: every benchmark against a baseline measured in the same run, on the same servers.

`make bench QUICK=1` is a small smoke version; `make bench BENCH=B1,B5` runs some. Prints the table, writes it as
JSON under bench/results/, and exits non-zero only when a benchmark could not run (a goal missed is reported, never a
failure: the machine is shared and noisy)."""

import asyncio
import importlib
import os
import sys
import time
import traceback

from bench.report import Figure, table, write_json

# id: the module whose `async def run(quick: bool) -> list[Figure]` measures it
BENCHMARKS = {
    "B1": "bench.b1_throughput",
    "B2": "bench.b2_actions",
    "B3": "bench.b3_api",
    "B4": "bench.b4_memory",
    "B5": "bench.b5_ledger",
    "B6": "bench.b6_lapse",
    "B7": "bench.b7_balances",
    "B8": "bench.b8_insights",
}


def _selected() -> list[str]:
    wanted = [b.strip().upper() for b in os.environ.get("BENCH", "").split(",") if b.strip()]
    unknown = [b for b in wanted if b not in BENCHMARKS]
    if unknown:
        raise SystemExit(f"bench: unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    return wanted or list(BENCHMARKS)


def main() -> int:
    quick = os.environ.get("QUICK", "") not in ("", "0")
    figures: list[Figure] = []
    failures: dict[str, str] = {}
    for id_ in _selected():
        started = time.monotonic()
        print(f"{id_}: running{' (quick)' if quick else ''}...", flush=True)
        try:
            module = importlib.import_module(BENCHMARKS[id_])
            figures += asyncio.run(module.run(quick))
        except Exception as err:  # one benchmark that cannot run does not stop the others
            traceback.print_exc()
            failures[id_] = f"{type(err).__name__}: {err}"
        print(f"{id_}: done in {time.monotonic() - started:.0f} s", flush=True)
    print()
    print(table(figures, failures))
    print(f"\nwritten to {write_json(figures, failures, quick)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
