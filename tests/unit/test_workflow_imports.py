"""The workflow modules take domain/, pydantic and each other through the sandbox as they are: imported inside
`workflow.unsafe.imports_passed_through()`. Imported outside it, the sandbox loads them again for every cached
order (make bench B4 measured about 1.1 MiB per open order with domain/ reloaded, 0.34 with the workflow's own
modules reloaded, 0.09 with neither).

Passed through, the workflow's own modules run without the sandbox's import restrictions, so these tests hold them
to what the sandbox would: they import only pure modules, and call no clock, randomness or I/O of their own."""

import ast
import re
from pathlib import Path

import pytest

WORKFLOWS = sorted((Path(__file__).resolve().parents[2] / "workflows").glob("*.py"))
PASSED_THROUGH = ("domain", "pydantic", "workflows")
# What a workflow module may import at all: the workflow API, the engine's pure vocabulary, and pure standard modules.
ALLOWED = {"temporalio", "domain", "workflows", "pydantic", "typing", "collections", "dataclasses", "datetime"}
NONDETERMINISTIC = re.compile(r"\b(datetime\.now|datetime\.utcnow|date\.today|time\.time|time\.monotonic|random\.|uuid\.uuid|open\(|os\.)")


def _imports(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
    return found


def _imports_outside_passthrough(tree: ast.Module) -> list[str]:
    outside = []
    for node in tree.body:  # module level only: a `with` block's body is not visited
        if isinstance(node, ast.ImportFrom | ast.Import):
            outside += _imports(node)
    return outside


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_the_engines_modules_are_imported_only_through_the_sandbox_passthrough(path):
    outside = _imports_outside_passthrough(ast.parse(path.read_text()))
    assert not [m for m in outside if m.split(".")[0] in PASSED_THROUGH], f"{path.name} imports {outside}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_modules_import_only_pure_modules(path):
    imported = _imports(ast.parse(path.read_text()))
    assert not [m for m in imported if m.split(".")[0] not in ALLOWED], f"{path.name} imports {imported}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_modules_read_no_clock_randomness_or_files(path):
    assert not NONDETERMINISTIC.findall(path.read_text()), f"{path.name}: use workflow.now(), workflow.random(), activities"
