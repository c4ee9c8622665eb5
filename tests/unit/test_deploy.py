"""The production-shaped stack (docker-compose.yml), checked without a Docker engine (the image: test_dockerfile.py).

Reads the compose file as data (PyYAML) and holds it to what the application expects: settings that exist, secrets
that must be given, services that wait for what they need.
"""

import json
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from temporalio.common import SearchAttributeIndexedValueType
from typer.testing import CliRunner

from db.migrate import ENGINE_GROUP
from domain.search_attributes import ALL as SEARCH_ATTRIBUTES
from operations.cli import app
from runtime.settings import Settings
from runtime.worker_process import GRACEFUL_SHUTDOWN
from simulators.config import SimulatorSettings

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("migrate", "api", "worker", "simulators")
EXPECTED_SERVICES = {"postgresql", "temporal", "temporal-admin-tools", "temporal-ui", "migrate", "api", "worker", "simulators"}
SECRETS = {name: ("SETTLEMENT_JWT_SECRET", "SETTLEMENT_WEBHOOK_SECRET", "SETTLEMENT_PAYLOAD_KEYS") for name in ("api", "worker")}
REQUIRED_VALUE = re.compile(r"^\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*):\?[^}]+\}$")
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}


# ---- the compose file -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def environment(service: dict) -> dict[str, str | None]:
    """A service's environment as a mapping (compose also allows a list of KEY=VALUE or KEY)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return {key: (value if sep else None) for key, sep, value in (item.partition("=") for item in env)}
    return {key: None if value is None else str(value) for key, value in env.items()}


def depends_on(service: dict) -> dict[str, str]:
    """{service: condition}; the short (list) form means service_started."""
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def has_healthcheck(service: dict) -> bool:
    check = service.get("healthcheck")
    return bool(check) and not check.get("disable") and bool(check.get("test"))


def healthcheck_command(service: dict) -> str:
    test = service["healthcheck"]["test"]
    return test if isinstance(test, str) else " ".join(test)


def published(service: dict, container_port: int) -> str:
    """The host side of the port published for container_port, e.g. '${SETTLEMENT_API_PORT:-8000}'."""
    for port in service.get("ports", []):
        if isinstance(port, dict) and int(port["target"]) == container_port:
            return str(port["published"])
        if isinstance(port, str) and port.startswith("127.0.0.1:") and port.endswith(f":{container_port}"):
            return port.removeprefix("127.0.0.1:").removesuffix(f":{container_port}")
    raise AssertionError(f"container port {container_port} is not published on 127.0.0.1")


def split_dsn(url: str) -> tuple:
    """urlsplit of a DSN whose parts may be ${...} interpolations (their `?` and `:` would confuse urlsplit).

    Returns the split URL, with each interpolation replaced by a placeholder, and {placeholder: interpolation}."""
    found = {}

    def placeholder(match: re.Match) -> str:
        found[f"interpolation{len(found)}"] = match.group(0)
        return f"interpolation{len(found) - 1}"

    return urlsplit(re.sub(r"\$\{[^}]*\}", placeholder, url)), found


def duration(text: str) -> timedelta:
    parts = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", str(text))
    assert parts and any(parts.groups()), f"not a compose duration: {text!r}"
    h, m, s = (int(g or 0) for g in parts.groups())
    return timedelta(hours=h, minutes=m, seconds=s)


def test_the_expected_services_exist_and_only_one_runs_the_simulators(services):
    assert EXPECTED_SERVICES <= set(services), f"missing: {EXPECTED_SERVICES - set(services)}"
    running = [name for name, service in services.items() if "simulators" in json.dumps(service.get("command", ""))]
    assert running == ["simulators"]


def test_api_worker_and_migrate_run_one_image_built_from_the_dockerfile(services):
    images = {name: (services[name].get("image"), json.dumps(services[name].get("build"), sort_keys=True)) for name in APP_SERVICES}
    assert len(set(images.values())) == 1, images
    image, build = services["api"]["image"], services["api"]["build"]
    assert image
    context = ROOT / build["context"]
    assert context.resolve() == ROOT
    assert (context / build.get("dockerfile", "Dockerfile")).is_file()


def test_each_app_service_runs_its_own_settlement_command(services):
    assert services["worker"]["command"] == ["settlement", "worker"]
    assert services["migrate"]["command"] == ["settlement", "migrate"]
    assert services["simulators"]["command"] == ["settlement", "simulators", "--host", "0.0.0.0", "--port", "8100"]
    assert ":8100/healthz" in healthcheck_command(services["simulators"])
    api = services["api"]["command"]
    assert api == ["settlement", "api", "--host", "0.0.0.0", "--port", "8000"], "every interface of the container"
    assert published(services["api"], int(api[api.index("--port") + 1]))
    assert f":{api[api.index('--port') + 1]}/healthz" in healthcheck_command(services["api"])
    for name in APP_SERVICES:
        command = services[name]["command"]
        help_ = CliRunner().invoke(app, [command[1], "--help"], prog_name="settlement")
        assert help_.exit_code == 0 and f"Usage: settlement {command[1]} " in help_.output, name


def test_the_worker_scales(services):
    worker = services["worker"]
    assert "container_name" not in worker
    assert not worker.get("ports"), "a fixed host port would stop `--scale worker=N`"
    assert not has_healthcheck(worker), "the worker has no HTTP port: the image's API healthcheck must be disabled"


def test_every_published_port_binds_loopback(services):
    seen = 0
    for name, service in services.items():
        for port in service.get("ports", []):
            seen += 1
            if isinstance(port, dict):
                assert port.get("host_ip") == "127.0.0.1", f"{name}: {port}"
            else:
                assert str(port).startswith("127.0.0.1:"), f"{name}: {port} is published on every interface"
    assert seen >= 2  # the API and the Temporal UI at least


def test_depends_on_names_existing_services_with_conditions_that_can_be_met(services):
    for name, service in services.items():
        for dependency, condition in depends_on(service).items():
            assert dependency in services, f"{name} depends on unknown service {dependency}"
            assert condition in CONDITIONS, f"{name} -> {dependency}: {condition}"
            if condition == "service_healthy":
                assert has_healthcheck(services[dependency]), f"{name} waits for {dependency} to be healthy, it has no check"
            if condition == "service_completed_successfully":
                assert services[dependency].get("restart", "no") == "no", f"{dependency} is waited for as a one-shot"


def test_the_app_waits_for_migrations_temporal_and_search_attributes(services):
    for name in ("api", "worker"):
        deps = depends_on(services[name])
        assert deps.get("migrate") == "service_completed_successfully", name
        assert deps.get("temporal") == "service_healthy", name
        assert deps.get("temporal-admin-tools") == "service_completed_successfully", name
    assert depends_on(services["migrate"]) == {"postgresql": "service_healthy"}
    assert depends_on(services["temporal"]).get("postgresql") == "service_healthy"
    assert depends_on(services["temporal-admin-tools"]).get("temporal") == "service_healthy"


def test_healthchecks(services):
    for name in ("postgresql", "temporal", "api"):
        assert has_healthcheck(services[name]), name
    assert "pg_isready" in healthcheck_command(services["postgresql"])
    assert "127.0.0.1" in healthcheck_command(services["postgresql"]), "over TCP, not the init-time Unix socket"
    assert "cluster health" in healthcheck_command(services["temporal"])
    api_check = healthcheck_command(services["api"])
    assert "/healthz" in api_check and "curl" not in api_check and "wget" not in api_check


def test_every_application_variable_is_a_setting(services):
    fields = {name.lower() for name in Settings.model_fields}
    simulator_fields = {name.lower() for name in SimulatorSettings.model_fields} | {"settlement_sim_database_url"}
    assert {key.lower() for key in environment(services["simulators"])} <= simulator_fields
    for name in ("migrate", "api", "worker"):
        env = environment(services[name])
        assert env, name
        unknown = sorted(key for key in env if key.lower() not in fields)
        assert not unknown, f"{name} passes variables that settings.Settings does not read: {unknown}"


RAIL_SECRETS = {
    "SETTLEMENT_STRIPE_API_KEY",
    "SETTLEMENT_STRIPE_WEBHOOK_SECRET",
    "SETTLEMENT_AMAZON_LWA_CLIENT_SECRET",
    "SETTLEMENT_AMAZON_LWA_REFRESH_TOKEN",
}


def test_secrets_must_be_given(services):
    for name, secrets in SECRETS.items():
        env = environment(services[name])
        for secret in secrets:
            match = REQUIRED_VALUE.match(env.get(secret) or "")
            assert match and match["name"] == secret, f"{name}: {secret} must be ${{{secret}:?...}}, is {env.get(secret)!r}"
    for name, service in services.items():
        for key, value in environment(service).items():
            if key in RAIL_SECRETS:  # needed only on that rail, where the settings refuse to start without them
                assert value is None, f"{name}: {key} must be passed through only when set, is {value!r}"
            elif re.search(r"PASSWORD|PWD|SECRET|_KEYS$", key):
                assert REQUIRED_VALUE.match(value or ""), f"{name}: {key} has a default or no value: {value!r}"


def ledger_urls(services) -> tuple:
    """(owner, engine): the migrations' address and the one the API and the worker share."""
    engine = {name: environment(services[name])["DATABASE_URL"] for name in ("api", "worker")}
    assert len(set(engine.values())) == 1, engine
    return split_dsn(environment(services["migrate"])["DATABASE_OWNER_URL"])[0], split_dsn(engine["api"])[0]


def test_one_ledger_database_separate_from_temporals(services):
    for name in ("migrate", "api"):
        key = "DATABASE_OWNER_URL" if name == "migrate" else "DATABASE_URL"
        url, interpolations = split_dsn(environment(services[name])[key])
        assert url.scheme in ("postgresql", "postgres")
        assert url.hostname == "postgresql" and url.hostname in services
        password = interpolations.get(url.password or "", "")
        assert REQUIRED_VALUE.match(password), f"{name}: the ledger's password must be required, not defaulted"
        assert "${" not in url.username and url.username not in interpolations
    owner, engine = ledger_urls(services)
    assert (owner.hostname, owner.port, owner.path) == (engine.hostname, engine.port, engine.path)
    database = owner.path.lstrip("/")
    temporal = environment(services["temporal"])
    temporal_databases = {temporal.get("DBNAME", "temporal"), temporal.get("VISIBILITY_DBNAME", "temporal_visibility")}
    assert database and database not in temporal_databases
    assert temporal["POSTGRES_USER"] not in (owner.username, engine.username), "the ledger and Temporal use separate roles"


def test_migrations_run_as_the_owner_and_the_engine_as_a_restricted_role(services):
    owner, engine = ledger_urls(services)
    assert owner.username != engine.username
    passwords = [
        split_dsn(environment(services[name])[key])[1] for name, key in (("migrate", "DATABASE_OWNER_URL"), ("api", "DATABASE_URL"))
    ]
    assert passwords[0] != passwords[1], "each role its own password"
    assert "DATABASE_URL" not in environment(services["migrate"])
    for name in ("api", "worker"):
        assert "DATABASE_OWNER_URL" not in environment(services[name]), f"{name} must not know the owner's address"


def test_the_databases_are_created_by_the_init_script(compose, services):
    mounts = services["postgresql"]["configs"]
    assert any(m["target"].startswith("/docker-entrypoint-initdb.d/") and m["target"].endswith(".sh") for m in mounts)
    script = compose["configs"][mounts[0]["source"]]["content"]
    owner, engine = ledger_urls(services)
    database = owner.path.lstrip("/")
    temporal = environment(services["temporal"])
    assert f"CREATE ROLE {owner.username} LOGIN" in script
    assert f"CREATE DATABASE {database} OWNER {owner.username}" in script
    # The owner may not create roles, so the group the migrations grant to exists before them, with the engine's login in it.
    assert f"CREATE ROLE {ENGINE_GROUP} NOLOGIN;" in script
    engine_role = re.search(rf"CREATE ROLE {engine.username} LOGIN PASSWORD :'\w+' IN ROLE {ENGINE_GROUP};", script)
    assert engine_role, f"{engine.username} must be a plain login in {ENGINE_GROUP}"
    assert f"GRANT CONNECT ON DATABASE {database} TO {ENGINE_GROUP}" in script
    assert f"CREATE ROLE {temporal['POSTGRES_USER']} LOGIN" in script
    if temporal.get("SKIP_DB_CREATE") == "true":
        for database in ("temporal", "temporal_visibility"):
            assert f"CREATE DATABASE {database} OWNER {temporal['POSTGRES_USER']}" in script
    assert "ON_ERROR_STOP=1" in script
    # Compose interpolates $VAR itself: the script's own variables must be escaped as $$VAR.
    assert not re.search(r"(?<!\$)\$(?!\$)[A-Za-z{]", script), "unescaped $ in the init script"


def test_temporal_persists_in_the_postgresql_service(services):
    temporal = environment(services["temporal"])
    assert services["temporal"]["image"].startswith("temporalio/auto-setup:")
    assert temporal["DB"] == "postgres12"
    assert temporal["POSTGRES_SEEDS"] in services
    assert temporal["DB_PORT"] == "5432"
    assert REQUIRED_VALUE.match(temporal["POSTGRES_PWD"])
    assert temporal.get("SKIP_ADD_CUSTOM_SEARCH_ATTRIBUTES") == "true"


def test_api_and_worker_agree_on_temporal(services):
    api, worker = environment(services["api"]), environment(services["worker"])
    for key in ("TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_TASK_QUEUE", "SETTLEMENT_PAYLOAD_KEYS"):
        assert key in api and api[key] == worker.get(key), key
    host = api["TEMPORAL_ADDRESS"].rsplit(":", 1)[0]
    assert host in services
    namespace = api["TEMPORAL_NAMESPACE"]
    assert environment(services["temporal"])["DEFAULT_NAMESPACE"] == namespace
    assert environment(services["temporal-admin-tools"])["TEMPORAL_NAMESPACE"] == namespace
    assert environment(services["temporal-ui"])["TEMPORAL_DEFAULT_NAMESPACE"] == namespace


def test_the_search_attributes_of_the_workflow_are_registered_as_keywords(services):
    script = "\n".join(services["temporal-admin-tools"]["command"])
    loop = re.search(r"for name in ([^;]+); do", script)
    assert loop, "the admin-tools job registers the attributes in a `for name in ...` loop"
    assert set(loop.group(1).split()) == {key.name for key in SEARCH_ATTRIBUTES}
    assert all(key.indexed_value_type == SearchAttributeIndexedValueType.KEYWORD for key in SEARCH_ATTRIBUTES)
    assert 'search-attribute create --address "$$TEMPORAL_ADDRESS" --namespace "$$ns" --name "$$name" --type Keyword' in script


def test_the_ui_decodes_through_the_api_and_the_api_allows_the_ui(services):
    api_port, ui_port = published(services["api"], 8000), published(services["temporal-ui"], 8080)
    ui = environment(services["temporal-ui"])
    assert ui["TEMPORAL_CODEC_ENDPOINT"] == f"http://127.0.0.1:{api_port}/codec", "the browser calls it: the published API"
    assert environment(services["api"])["TEMPORAL_UI_URL"] == f"http://127.0.0.1:{ui_port}", "links to the UI"
    assert environment(services["api"])["SETTLEMENT_CODEC_UI_ORIGIN"] == f"http://127.0.0.1:{ui_port}", "the codec's CORS origin"
    assert ui["TEMPORAL_CODEC_PASS_ACCESS_TOKEN"] == "true", "the codec answers operators' tokens only"


def test_nothing_runs_in_make_runs_local_mode(services):
    for name, service in services.items():
        env = environment(service)
        assert "SETTLEMENT_LOCAL_MODE" not in env, name
        assert "SETTLEMENT_CODEC_ALLOW_ANONYMOUS" not in env, f"{name}: the settings refuse it outside make run"


def test_the_worker_talks_to_the_simulators_service_unless_told_otherwise(services):
    url = environment(services["worker"])["SETTLEMENT_SIM_URL"]
    default = re.fullmatch(r"\$\{SETTLEMENT_SIM_URL:-(?P<url>[^}]+)\}", url)
    assert default, url
    parts = urlsplit(default["url"])
    assert parts.hostname == "simulators" and parts.port == 8100
    assert depends_on(services["worker"]).get("simulators") == "service_healthy"
    simulators = environment(services["simulators"])
    assert urlsplit(simulators["SETTLEMENT_API_URL"]).hostname == "api"  # where its signed webhooks go


def test_api_and_worker_are_given_the_same_rails_when_they_are_set(services):
    api, worker = environment(services["api"]), environment(services["worker"])
    rails = {
        "SETTLEMENT_PAYMENTS_PROVIDER",
        "SETTLEMENT_STRIPE_API_KEY",
        "SETTLEMENT_FULFILLMENT_NETWORK",
        "SETTLEMENT_AMAZON_LWA_REFRESH_TOKEN",
    }
    for key in rails:
        assert key in api and key in worker and api[key] is None and worker[key] is None, f"{key}: passed through only when set"


def test_the_worker_is_given_time_to_drain(services):
    assert duration(services["worker"]["stop_grace_period"]) > GRACEFUL_SHUTDOWN


def test_the_app_containers_are_locked_down(services):
    for name in APP_SERVICES:
        service = services[name]
        assert service.get("read_only") is True, name
        assert "ALL" in service.get("cap_drop", []), name
        assert "no-new-privileges:true" in service.get("security_opt", []), name
