"""The workflow modules take domain/ (and pydantic) through the sandbox as they are: imported inside
`workflow.unsafe.imports_passed_through()`. Imported outside it, the sandbox loads them again for every cached
order (make bench B4 measured about 1.1 MiB per open order instead of about 0.3)."""

import ast
from pathlib import Path

import pytest

WORKFLOWS = sorted((Path(__file__).resolve().parents[2] / "workflows").glob("*.py"))
PASSED_THROUGH = ("domain", "pydantic")


def _imports_outside_passthrough(tree: ast.Module) -> list[str]:
    outside = []
    for node in tree.body:  # module level only: a `with` block's body is not visited
        if isinstance(node, ast.ImportFrom) and node.module:
            outside.append(node.module)
        elif isinstance(node, ast.Import):
            outside += [alias.name for alias in node.names]
    return outside


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_domain_is_imported_only_through_the_sandbox_passthrough(path):
    outside = _imports_outside_passthrough(ast.parse(path.read_text()))
    assert not [m for m in outside if m.split(".")[0] in PASSED_THROUGH], f"{path.name} imports {outside}"
