"""Schemathesis against the running API: every check and every phase (examples, coverage, fuzzing, stateful), as an
operator and as a marketplace. Bounded by FUZZ_SECONDS per role (default 55 s in `make test`; `make fuzz` runs
longer) with the seed FUZZ_SEED (default 1). Settings and hooks: tests/integration/fuzz.toml (every check is on
unless it turns one off; a `--checks` option would override its per-operation settings)."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.stack import token

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("fuzz.toml")
SECONDS = int(os.environ.get("FUZZ_SECONDS", "55"))


@pytest.mark.parametrize("role, sub", [("operator", "fuzz_ops"), ("marketplace", "market_a")])
async def test_the_api_keeps_its_openapi_contract(services, role, sub, tmp_path):
    schemathesis = Path(sys.executable).with_name("schemathesis")
    command = [
        str(schemathesis),
        "--config-file",
        str(CONFIG),
        "run",
        f"{services.api_url}/openapi.json",
        "--max-time",
        str(SECONDS),
        "--header",
        f"Authorization: {token(role, sub)['Authorization']}",
        "--seed",
        os.environ.get("FUZZ_SEED", "1"),
        "--generation-deterministic" if os.environ.get("FUZZ_DETERMINISTIC") else "--workers=1",
        "--no-color",
        "--report-dir",
        str(tmp_path),
        "--request-timeout",
        "30",
    ]
    env = {**os.environ, "FUZZ_MARKETPLACE": sub if role == "marketplace" else ""}  # read by fuzz_hooks.py
    done = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=SECONDS * 3 + 120, cwd=ROOT, env=env)
    print(done.stdout[-20000:])
    assert done.returncode == 0, done.stdout[-8000:] + done.stderr[-2000:]
