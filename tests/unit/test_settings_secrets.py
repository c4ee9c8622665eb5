"""runtime/settings.py and domain/secrets.py: no process starts on a missing, published or short secret; make run generates its own once."""

import os
import re
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from adapters.payments import SimulatedPaymentGateway
from adapters.stripe_payments import StripePaymentGateway
from domain.secrets import PUBLISHED_SECRETS, check_secret
from runtime import launcher
from runtime.settings import LocalData, Settings, load_settings
from runtime.worker_process import payment_gateway

ROOT = Path(__file__).resolve().parents[2]
GOOD = secrets.token_hex(32)
OTHER = secrets.token_hex(32)
OLD_DEFAULTS = ("dev-only-jwt-secret-change-me-0123456789", "dev-only-webhook-secret-change-me")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """Only what a test sets: no SETTLEMENT_*, DATABASE_* or TEMPORAL_* from the shell."""
    for name in list(os.environ):
        if name.startswith(("SETTLEMENT_", "DATABASE_", "TEMPORAL_")):
            monkeypatch.delenv(name)


def refusal(**values) -> str:
    with pytest.raises(SystemExit) as exit_:
        load_settings(**values)
    return str(exit_.value.code)


@pytest.mark.parametrize("missing", ["settlement_jwt_secret", "settlement_webhook_secret"])
def test_a_missing_secret_is_refused_saying_what_to_set(missing):
    message = refusal(**{"settlement_jwt_secret": GOOD, "settlement_webhook_secret": OTHER, missing: None})
    assert message.startswith("settlement: refusing to start: set " + missing.upper())
    assert "openssl rand -hex 32" in message


@pytest.mark.parametrize("published", sorted(PUBLISHED_SECRETS))
@pytest.mark.parametrize("name", ["settlement_jwt_secret", "settlement_webhook_secret"])
def test_a_published_value_is_refused(name, published):
    message = refusal(**{"settlement_jwt_secret": GOOD, "settlement_webhook_secret": OTHER, name: published})
    assert f"{name.upper()} is a value published in the source repository" in message
    assert published not in message, "the refusal never echoes the value"


@pytest.mark.parametrize("name", ["settlement_jwt_secret", "settlement_webhook_secret"])
def test_a_secret_shorter_than_32_bytes_is_refused(name):
    short = "x" * 31
    message = refusal(**{"settlement_jwt_secret": GOOD, "settlement_webhook_secret": OTHER, name: short})
    assert f"{name.upper()} must be at least 32 bytes" in message and short not in message
    assert load_settings(**{"settlement_jwt_secret": GOOD, "settlement_webhook_secret": OTHER, name: "é" * 16})  # 32 bytes


def test_local_mode_relaxes_no_secret_rule():
    assert refusal(settlement_local_mode=True).startswith("settlement: refusing to start: set SETTLEMENT_JWT_SECRET")
    assert "published" in refusal(settlement_local_mode=True, settlement_jwt_secret=OLD_DEFAULTS[0], settlement_webhook_secret=OTHER)


def test_every_secret_of_a_rotation_must_pass():
    assert Settings(settlement_jwt_secret=GOOD, settlement_webhook_secret=f"{GOOD}, {OTHER}").settlement_webhook_secret
    assert "SETTLEMENT_WEBHOOK_SECRET (secret #2) must be at least 32 bytes" in refusal(
        settlement_jwt_secret=GOOD, settlement_webhook_secret=f"{GOOD},short"
    )
    assert "SETTLEMENT_WEBHOOK_SECRET (secret #1) is a value published" in refusal(
        settlement_jwt_secret=GOOD, settlement_webhook_secret=f"{OLD_DEFAULTS[1]},{OTHER}"
    )
    assert "secret #2" in refusal(settlement_jwt_secret=GOOD, settlement_webhook_secret=f"{GOOD},")


def test_the_environment_is_read(monkeypatch):
    monkeypatch.setenv("SETTLEMENT_JWT_SECRET", GOOD)
    monkeypatch.setenv("SETTLEMENT_WEBHOOK_SECRET", OLD_DEFAULTS[1])
    with pytest.raises(ValidationError, match="SETTLEMENT_WEBHOOK_SECRET is a value published"):
        Settings()


def test_jwks_mode_needs_no_jwt_secret():
    assert Settings(settlement_jwt_jwks_url="https://idp.example/.well-known/jwks.json", settlement_webhook_secret=OTHER)
    with pytest.raises(ValidationError, match="not an http"):
        Settings(settlement_jwt_jwks_url="file:///etc/jwks.json", settlement_webhook_secret=OTHER)


def sources():
    """The repository's code, configuration and documentation (no virtualenv, no hidden directories)."""
    for directory, subdirectories, files in os.walk(ROOT):
        subdirectories[:] = [d for d in subdirectories if not d.startswith(".") and not d.endswith(".egg-info")]
        yield from (Path(directory) / f for f in files if f.endswith((".py", ".yml", ".yaml", ".md", ".toml", ".ini")))


def test_no_secret_printed_in_the_repository_is_accepted():
    """Every literal assigned to a *SECRET* name in the sources must be refused (add it to PUBLISHED_SECRETS or
    generate the value at run time)."""
    literal = re.compile(r"""(?i)\b\w*secret\w*\b["']?\s*[:=][^"'\n]{0,40}?["']([^"'\s$]{8,})["']""")
    old_line = 'settlement_jwt_secret: str = Field("dev-only-jwt-secret-change-me-0123456789", min_length=32)'
    assert literal.findall(old_line) == [OLD_DEFAULTS[0]], "the scan finds a default like the old one"
    found = {}
    for path in sources():
        for value in literal.findall(path.read_text()):
            found.setdefault(value, path.relative_to(ROOT))
    assert set(OLD_DEFAULTS) <= PUBLISHED_SECRETS
    accepted = {}
    for value, path in found.items():
        try:
            check_secret("secret", value)
            accepted[value] = path
        except ValueError:
            pass
    assert not accepted, f"secrets printed in the repository pass the rules: {accepted}"


def start(command: list[str], **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SETTLEMENT_", "DATABASE_", "TEMPORAL_"))}
    return subprocess.run(command, cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    "command",
    [[sys.executable, "-m", "operations.cli", "worker"], [sys.executable, "-m", "operations.cli", "api", "--port", "1"]],
    ids=["worker", "api"],
)
def test_the_worker_and_the_api_refuse_to_start_with_one_line(command):
    result = start(command, SETTLEMENT_JWT_SECRET=GOOD, SETTLEMENT_WEBHOOK_SECRET=OLD_DEFAULTS[1])
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "settlement: refusing to start: SETTLEMENT_WEBHOOK_SECRET is a value published in the source repository; "
        "generate one with `openssl rand -hex 32`"
    )


def test_the_simulators_refuse_to_start_without_a_webhook_secret():
    result = start([sys.executable, "-m", "uvicorn", "simulators.main:app", "--port", "1"], DATABASE_URL="postgresql:///none")
    assert result.returncode != 0 and "settlement_webhook_secret" in result.stderr.lower()
    short = start(
        [sys.executable, "-m", "uvicorn", "simulators.main:app", "--port", "1"],
        DATABASE_URL="postgresql:///none",
        SETTLEMENT_WEBHOOK_SECRET=f"{GOOD},short",
    )
    assert short.returncode != 0 and "SETTLEMENT_WEBHOOK_SECRET (secret #2) must be at least 32 bytes" in short.stderr
    assert "Traceback" not in result.stderr + short.stderr


def test_the_simulated_network_signs_with_the_newest_secret(monkeypatch):
    from simulators.config import SimulatorSettings

    monkeypatch.setenv("SETTLEMENT_WEBHOOK_SECRET", f"{GOOD},{OTHER}")
    monkeypatch.setenv("DATABASE_URL", "postgresql:///engine")
    monkeypatch.setenv("SETTLEMENT_SIM_DATABASE_URL", "postgresql:///owner")
    settings = SimulatorSettings()
    assert settings.settlement_webhook_secret == GOOD
    assert settings.database_url == "postgresql:///owner", "the simulators keep their own access"


# ---- make run's generated secrets --------------------------------------------------------------------------------


def test_make_run_generates_its_secrets_once_readable_by_its_owner_only(monkeypatch, tmp_path):
    monkeypatch.setenv("SETTLEMENT_DATA_DIR", str(tmp_path))
    local = LocalData()
    first = launcher.local_secrets(local)
    assert set(first) == {"settlement_jwt_secret", "settlement_webhook_secret", "settlement_payload_keys"}
    for path in local.local_secret_files.values():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert launcher.local_secrets(local) == first == local.local_secrets()
    settings = load_settings(settlement_local_mode=True, **first)
    assert settings.settlement_jwt_secret == first["settlement_jwt_secret"]


def test_make_run_keeps_secrets_set_in_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SETTLEMENT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SETTLEMENT_JWT_SECRET", GOOD)
    generated = launcher.local_secrets(LocalData())
    assert "settlement_jwt_secret" not in generated and not (tmp_path / "jwt-secret").exists()


def test_make_run_hands_its_processes_local_mode_the_secrets_and_the_restricted_address(monkeypatch, tmp_path):
    monkeypatch.setenv("SETTLEMENT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_OWNER_URL", "postgresql://owner:pw@db/settlement")
    settings = load_settings(settlement_local_mode=True, **launcher.local_secrets(LocalData()))
    env = launcher.child_environment(settings, "postgresql://owner:pw@db/settlement", "postgresql://settlement_app:x@db/settlement")
    assert env["SETTLEMENT_LOCAL_MODE"] == "true"
    assert env["DATABASE_URL"] == "postgresql://settlement_app:x@db/settlement"
    assert "DATABASE_OWNER_URL" not in env, "the API and worker never see the owner's address"
    assert env["SETTLEMENT_SIM_DATABASE_URL"] == "postgresql://owner:pw@db/settlement"
    assert env["SETTLEMENT_JWT_SECRET"] == settings.settlement_jwt_secret
    assert env["SETTLEMENT_WEBHOOK_SECRET"] == settings.settlement_webhook_secret
    assert env["SETTLEMENT_CODEC_ALLOW_ANONYMOUS"] == "true"


@pytest.mark.parametrize("key", [None, "", "pk_test_123", "whsec_123"])
def test_stripe_as_the_provider_needs_a_secret_key(key):
    with pytest.raises(ValidationError, match="SETTLEMENT_STRIPE_API_KEY"):
        Settings(
            settlement_jwt_secret=GOOD,
            settlement_webhook_secret=OTHER,
            settlement_payments_provider="stripe",
            settlement_stripe_api_key=key,
        )


async def test_the_worker_pays_through_the_provider_its_settings_name():
    stripe_settings = Settings(
        settlement_jwt_secret=GOOD,
        settlement_webhook_secret=OTHER,
        settlement_payments_provider="stripe",
        settlement_stripe_api_key="sk_test_x",
    )
    simulated = Settings(settlement_jwt_secret=GOOD, settlement_webhook_secret=OTHER)
    async with httpx.AsyncClient() as provider_client:
        assert isinstance(payment_gateway(stripe_settings, None, provider_client), StripePaymentGateway)
        assert isinstance(payment_gateway(simulated, None, provider_client), SimulatedPaymentGateway)
