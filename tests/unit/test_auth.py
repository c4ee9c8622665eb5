"""api/auth.py (verification) and runtime/tokens.py (minting): required claims, issuer and audience, short-lived
operator tokens, RS256 against a JWKS, and refusals that never echo PyJWT's messages; the `settlement token`
command's limits."""

import json
import secrets
import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Depends, FastAPI
from typer.testing import CliRunner

from api import problems
from api.auth import Principal, require
from domain.order_actions import Role
from operations import cli
from runtime.settings import Settings
from runtime.tokens import TokenRefused, mint_token

SETTINGS = Settings(settlement_jwt_secret=secrets.token_hex(32), settlement_webhook_secret=secrets.token_hex(32))
SAFE_DETAILS = {
    f"invalid bearer token: {reason}"
    for reason in (
        "expired",
        "not valid yet",
        "wrong audience",
        "wrong issuer",
        "algorithm not allowed",
        "bad signature",
        "unknown signing key",
        "malformed",
        "invalid",
        "unknown role or subject",
        *(f"missing claim {claim}" for claim in ("sub", "role", "iat", "exp", "iss", "aud")),
    )
}


def make_app(settings: Settings = SETTINGS) -> FastAPI:
    app = FastAPI()
    problems.install(app)
    app.state.settings = settings

    @app.get("/whoami")
    def whoami(principal: Principal = Depends(require(*Role))) -> dict:
        return principal.model_dump()

    return app


async def call(token: str, settings: Settings = SETTINGS) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(make_app(settings)), base_url="http://test") as client:
        return await client.get("/whoami", headers={"Authorization": f"Bearer {token}"})


def claims(**changes) -> dict:
    now = int(time.time())
    base = {"sub": "ops_1", "role": "operator", "iat": now, "exp": now + 600, "iss": "settlement-local", "aud": "settlement-api"}
    return {key: value for key, value in {**base, **changes}.items() if value is not None}


def hs256(payload: dict, secret: str | None = None) -> str:
    return jwt.encode(payload, secret or SETTINGS.settlement_jwt_secret, algorithm="HS256")


async def test_a_minted_token_carries_every_claim_and_is_accepted():
    token = mint_token(SETTINGS, "seller_1", Role.SELLER)
    decoded = jwt.decode(token, options={"verify_signature": False})
    assert {"sub", "role", "iat", "exp", "iss", "aud"} <= set(decoded)
    assert (decoded["iss"], decoded["aud"]) == ("settlement-local", "settlement-api")
    answer = await call(token)
    assert answer.status_code == 200 and answer.json() == {"sub": "seller_1", "role": "seller"}


@pytest.mark.parametrize("missing", ["exp", "iat", "iss", "aud", "sub", "role"])
async def test_every_claim_is_required(missing):
    answer = await call(hs256(claims(**{missing: None})))
    assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
    assert answer.json()["detail"] == f"invalid bearer token: missing claim {missing}"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"iat": int(time.time()) + 3600}, "not valid yet"),
        ({"iss": "someone-else"}, "wrong issuer"),
        ({"aud": "another-api"}, "wrong audience"),
        ({"role": "admin"}, "unknown role or subject"),
    ],
)
async def test_refusals_give_our_reason_not_the_librarys(changes, reason):
    answer = await call(hs256(claims(**changes)))
    assert answer.status_code == 401
    assert answer.json()["detail"] == f"invalid bearer token: {reason}"


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        hs256(claims(), secret=secrets.token_hex(32)),
        jwt.encode(claims(), None, algorithm="none"),
    ],
)
async def test_forged_or_garbled_tokens_are_refused_with_a_safe_detail(token):
    answer = await call(token)
    assert answer.status_code == 401 and answer.json()["detail"] in SAFE_DETAILS


async def test_issuer_and_audience_are_settings():
    custom = Settings(**{**SETTINGS.model_dump(), "settlement_jwt_issuer": "https://idp.example", "settlement_jwt_audience": "payments"})
    token = mint_token(custom, "m_1", Role.MARKETPLACE)
    assert (await call(token, custom)).status_code == 200
    assert (await call(token)).json()["detail"] == "invalid bearer token: wrong issuer"


def lifetime(token: str) -> timedelta:
    decoded = jwt.decode(token, options={"verify_signature": False})
    return timedelta(seconds=decoded["exp"] - decoded["iat"])


def test_operator_tokens_live_at_most_12_hours_unless_explicitly_allowed():
    assert lifetime(mint_token(SETTINGS, "ops", Role.OPERATOR)) == timedelta(hours=12)
    with pytest.raises(TokenRefused, match="at most 12 h.*--allow-long-lived"):
        mint_token(SETTINGS, "ops", Role.OPERATOR, timedelta(hours=13))
    assert lifetime(mint_token(SETTINGS, "ops", Role.OPERATOR, timedelta(days=2), allow_long_lived=True)) == timedelta(days=2)
    shorter = Settings(**{**SETTINGS.model_dump(), "settlement_operator_token_max_ttl": timedelta(hours=1)})
    with pytest.raises(TokenRefused):
        mint_token(shorter, "ops", Role.OPERATOR, timedelta(hours=2))


def test_other_roles_default_to_a_day_and_may_be_given_longer():
    assert lifetime(mint_token(SETTINGS, "b", Role.BUYER)) == timedelta(hours=24)
    assert lifetime(mint_token(SETTINGS, "m", Role.MARKETPLACE, timedelta(days=30))) == timedelta(days=30)


@pytest.fixture
def cli_env(monkeypatch, tmp_path):
    monkeypatch.setenv("SETTLEMENT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SETTLEMENT_JWT_SECRET", SETTINGS.settlement_jwt_secret)
    monkeypatch.setenv("SETTLEMENT_WEBHOOK_SECRET", SETTINGS.settlement_webhook_secret)


def test_the_token_command_refuses_a_long_operator_token_without_the_flag(cli_env):
    runner = CliRunner()
    refused = runner.invoke(cli.app, ["token", "--role", "operator", "--sub", "ops", "--ttl-seconds", "86400"])
    assert refused.exit_code == 2 and "--allow-long-lived" in refused.output
    allowed = runner.invoke(cli.app, ["token", "--role", "operator", "--sub", "ops", "--ttl-seconds", "86400", "--allow-long-lived"])
    assert allowed.exit_code == 0 and lifetime(allowed.stdout.strip()) == timedelta(days=1)
    default = runner.invoke(cli.app, ["token", "--role", "operator", "--sub", "ops"])
    assert default.exit_code == 0 and lifetime(default.stdout.strip()) == timedelta(hours=12)


def test_the_token_command_signs_with_make_runs_secret(monkeypatch, tmp_path):
    for name in ("SETTLEMENT_JWT_SECRET", "SETTLEMENT_WEBHOOK_SECRET", "SETTLEMENT_PAYLOAD_KEYS", "SETTLEMENT_JWT_JWKS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SETTLEMENT_DATA_DIR", str(tmp_path))
    secret = secrets.token_hex(32)
    (tmp_path / "jwt-secret").write_text(secret)
    (tmp_path / "webhook-secret").write_text(secrets.token_hex(32))
    minted = CliRunner().invoke(cli.app, ["token", "--role", "buyer", "--sub", "b_1"])
    assert minted.exit_code == 0, minted.output
    assert jwt.decode(minted.stdout.strip(), secret, algorithms=["HS256"], audience="settlement-api")["sub"] == "b_1"


# ---- RS256 against an identity provider's JWKS, served on 127.0.0.1 ----------------------------------------------


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def idp():
    """A tiny identity provider: its private key, and its JWKS at http://127.0.0.1:<port>/jwks.json."""
    key = rsa_key()
    jwk = {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())), "kid": "idp-1", "use": "sig", "alg": "RS256"}
    body = json.dumps({"keys": [jwk]}).encode()

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/jwks.json" else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield key, f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    server.shutdown()
    thread.join()


def jwks_settings(url: str) -> Settings:
    return Settings(
        settlement_jwt_jwks_url=url,
        settlement_webhook_secret=secrets.token_hex(32),
        settlement_jwt_issuer="https://idp.example",
        settlement_jwt_audience="settlement-api",
    )


def rs256(key: rsa.RSAPrivateKey, kid: str = "idp-1", **changes) -> str:
    return jwt.encode(claims(iss="https://idp.example", **changes), key, algorithm="RS256", headers={"kid": kid})


async def test_jwks_mode_accepts_the_identity_providers_rs256_tokens(idp):
    key, url = idp
    answer = await call(rs256(key, sub="m_1", role="marketplace"), jwks_settings(url))
    assert answer.status_code == 200 and answer.json() == {"sub": "m_1", "role": "marketplace"}


async def test_jwks_mode_needs_no_hs256_secret_and_refuses_hs256_tokens(idp):
    _, url = idp
    settings = jwks_settings(url)
    assert settings.settlement_jwt_secret is None
    hs = jwt.encode(claims(iss="https://idp.example"), secrets.token_hex(32), algorithm="HS256", headers={"kid": "idp-1"})
    assert (await call(hs, settings)).json()["detail"] == "invalid bearer token: algorithm not allowed"
    with pytest.raises(TokenRefused, match="identity provider"):
        mint_token(settings, "ops", Role.OPERATOR)


async def test_jwks_mode_refuses_other_keys_and_unknown_key_ids(idp):
    key, url = idp
    settings = jwks_settings(url)
    assert (await call(rs256(rsa_key()), settings)).json()["detail"] == "invalid bearer token: bad signature"
    assert (await call(rs256(key, kid="idp-9"), settings)).json()["detail"] == "invalid bearer token: unknown signing key"
    assert (await call(rs256(key, aud="other"), settings)).json()["detail"] == "invalid bearer token: wrong audience"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_jwks_unreachable_is_a_503_not_a_401():
    answer = await call(rs256(rsa_key()), jwks_settings(f"http://127.0.0.1:{free_port()}/jwks.json"))
    assert answer.status_code == 503 and answer.headers["retry-after"]
    assert answer.json()["detail"] == "the identity provider's signing keys are unavailable; try again"


@pytest.mark.parametrize("sub", ["", "buyer\x00a", "line\nbreak", "x" * 256])
async def test_a_subject_that_cannot_be_stored_is_refused(sub):
    answer = await call(hs256(claims(sub=sub)))
    assert answer.status_code == 401 and answer.json()["detail"] in SAFE_DETAILS
