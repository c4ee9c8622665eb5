"""The rules every shared secret follows (the engine's and the simulators' alike), and how a refused setting is
reported: one line, never the values given."""

from pydantic import ValidationError

MIN_SECRET_BYTES = 32
# Every secret value this repository has ever printed (old defaults, test fixtures): public, so never accepted.
PUBLISHED_SECRETS = frozenset(
    {
        "dev-only-jwt-secret-change-me-0123456789",
        "dev-only-webhook-secret-change-me",
        "integration-jwt-secret-0123456789abcdef",
        "integration-webhook-secret",
        "test-jwt-secret-0123456789abcdef0123456789",
    }
)
GENERATE = "generate one with `openssl rand -hex 32`"


def check_secret(name: str, value: str) -> str:
    """A secret's rules: at least 32 bytes, and not a value printed in the repository."""
    if value.strip() in PUBLISHED_SECRETS:
        raise ValueError(f"{name} is a value published in the source repository; {GENERATE}")
    if len(value.encode()) < MIN_SECRET_BYTES:
        raise ValueError(f"{name} must be at least {MIN_SECRET_BYTES} bytes; {GENERATE}")
    return value


def check_secret_list(name: str, value: str) -> str:
    """`new,old` during a rotation: each listed secret must pass the rules."""
    listed = [s.strip() for s in value.split(",")]
    for n, secret in enumerate(listed, start=1):
        check_secret(name if len(listed) == 1 else f"{name} (secret #{n})", secret)
    return value


def configuration_error(err: ValidationError) -> str:
    """One line naming each invalid setting and what to do, never the values given."""
    problems = []
    for error in err.errors():
        message = error["msg"].removeprefix("Value error, ")
        field = ".".join(str(part) for part in error["loc"]).upper()
        problems.append(message if not field or field in message else f"{field}: {message}")
    return "settlement: refusing to start: " + "; ".join(problems)
