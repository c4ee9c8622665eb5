"""api/routers/codec.py: Temporal's remote codec protocol for the Temporal UI, with auth and CORS."""

import secrets

import httpx
import pytest
from fastapi import FastAPI
from google.protobuf.json_format import MessageToDict
from pydantic import ValidationError
from temporalio.api.common.v1 import Payload

from api import problems
from api.routers import codec as codec_router
from domain.order_actions import Role
from runtime.codec import EncryptionCodec
from runtime.settings import Settings
from runtime.tokens import mint_token

UI = "http://127.0.0.1:8233"
SETTINGS = Settings(
    settlement_jwt_secret=secrets.token_hex(32), settlement_webhook_secret=secrets.token_hex(32), settlement_codec_ui_origin=UI + "/"
)
PAYLOADS = [
    MessageToDict(Payload(metadata={"encoding": b"json/plain"}, data=b'{"order_id":"o-1"}')),
    MessageToDict(Payload(metadata={"encoding": b"binary/null"})),
]


def make_app(settings: Settings = SETTINGS, codec: EncryptionCodec | None = EncryptionCodec("kid1", {"kid1": b"\x07" * 32})) -> FastAPI:
    app = FastAPI()
    problems.install(app)
    app.include_router(codec_router.router)
    app.state.settings = settings
    app.state.codec = codec
    return app


def local(**changes) -> Settings:
    """make run's settings: local mode, the UI origin from TEMPORAL_UI_URL, anonymous decoding allowed."""
    return Settings(
        **{
            **SETTINGS.model_dump(),
            "settlement_codec_ui_origin": None,
            "settlement_local_mode": True,
            "settlement_codec_allow_anonymous": True,
            "temporal_ui_url": UI + "/",
            **changes,
        }
    )


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test")


def bearer(role: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(SETTINGS, 'someone', role)}"}


async def test_encode_then_decode_gives_the_original_payloads():
    async with client(make_app()) as c:
        encoded = await c.post("/codec/encode", json={"payloads": PAYLOADS}, headers=bearer(Role.OPERATOR))
        assert encoded.status_code == 200
        assert all(p["metadata"]["encoding"] == "YmluYXJ5L2VuY3J5cHRlZA==" for p in encoded.json()["payloads"])  # binary/encrypted
        decoded = await c.post("/codec/decode", json=encoded.json(), headers=bearer(Role.OPERATOR) | {"X-Namespace": "default"})
    assert decoded.status_code == 200
    assert decoded.json() == {"payloads": PAYLOADS}


@pytest.mark.parametrize("path", ["/codec/encode", "/codec/decode"])
async def test_needs_an_operator_token(path):
    async with client(make_app()) as c:
        missing = await c.post(path, json={"payloads": PAYLOADS})
        buyer = await c.post(path, json={"payloads": PAYLOADS}, headers=bearer(Role.BUYER))
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert buyer.status_code == 403 and buyer.headers["content-type"] == "application/problem+json"


async def test_anonymous_under_make_run_only():
    async with client(make_app(local())) as c:
        encoded = await c.post("/codec/encode", json={"payloads": PAYLOADS}, headers={"Origin": UI})
        decoded = await c.post("/codec/decode", json=encoded.json())
    assert decoded.status_code == 200 and decoded.json() == {"payloads": PAYLOADS}
    assert encoded.headers["access-control-allow-origin"] == UI, "make run's UI origin comes from TEMPORAL_UI_URL"


def test_anonymous_outside_make_run_refuses_to_start():
    with pytest.raises(ValidationError, match="SETTLEMENT_CODEC_ALLOW_ANONYMOUS works only under make run"):
        Settings(**{**SETTINGS.model_dump(), "settlement_codec_allow_anonymous": True})


async def test_anonymous_is_ignored_if_local_mode_is_taken_away():
    """A settings object copied without validation still needs a token outside local mode."""
    unvalidated = local().model_copy(update={"settlement_local_mode": False, "settlement_codec_ui_origin": UI})
    async with client(make_app(unvalidated)) as c:
        response = await c.post("/codec/decode", json={"payloads": PAYLOADS})
    assert response.status_code == 401


@pytest.mark.parametrize("path", ["/codec/encode", "/codec/decode"])
async def test_off_until_the_ui_origin_is_configured(path):
    unconfigured = Settings(**{**SETTINGS.model_dump(), "settlement_codec_ui_origin": None})
    async with client(make_app(unconfigured)) as c:
        anonymous = await c.post(path, json={"payloads": PAYLOADS})
        operator = await c.post(path, json={"payloads": PAYLOADS}, headers=bearer(Role.OPERATOR))
        preflight = await c.options(path, headers={"Origin": UI, "Access-Control-Request-Method": "POST"})
    assert anonymous.status_code == 401
    assert operator.status_code == 404 and "SETTLEMENT_CODEC_UI_ORIGIN" in operator.json()["detail"]
    assert preflight.status_code == 403 and "access-control-allow-origin" not in preflight.headers


async def test_404_when_no_codec():
    async with client(make_app(codec=None)) as c:
        response = await c.post("/codec/decode", json={"payloads": PAYLOADS}, headers=bearer(Role.OPERATOR))
    assert response.status_code == 404
    assert response.json()["detail"] == "payload encryption is not configured"


async def test_undecryptable_payloads_are_a_400_naming_no_key_id():
    codec = EncryptionCodec("kid1", {"kid1": b"\x07" * 32, "kid2": b"\x08" * 32})
    foreign = (await EncryptionCodec("kid9", {"kid9": b"\x09" * 32}).encode([Payload(data=b"x")]))[0]
    tampered = (await codec.encode([Payload(data=b"x")]))[0]
    tampered.data = tampered.data[:-1] + bytes([tampered.data[-1] ^ 1])
    truncated = Payload(metadata=tampered.metadata, data=tampered.data[:10])
    async with client(make_app(codec=codec)) as c:
        answers = [
            await c.post("/codec/decode", json={"payloads": [MessageToDict(p)]}, headers=bearer(Role.OPERATOR))
            for p in (foreign, tampered, truncated)
        ]
    for answer in answers:
        assert answer.status_code == 400
        assert "kid" not in answer.text, answer.text
    assert [a.json()["detail"] for a in answers] == [
        "a payload cannot be decrypted: it uses a key that is not configured",
        "a payload cannot be decrypted: it failed authentication: tampered or wrong key",
        "a payload cannot be decrypted: it is truncated",
    ]


async def test_a_payload_that_is_not_protobuf_json_is_a_400_without_parser_text():
    async with client(make_app()) as c:
        response = await c.post("/codec/decode", json={"payloads": [PAYLOADS[0], {"metadata": 5}]}, headers=bearer(Role.OPERATOR))
    assert response.status_code == 400
    assert response.json()["detail"] == "payloads.1: not a Temporal Payload in protobuf JSON form"


@pytest.mark.parametrize("path", ["/codec/encode", "/codec/decode"])
async def test_cors_preflight_for_the_ui_origin_only(path):
    request = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type,x-namespace"}
    async with client(make_app()) as c:
        ok = await c.options(path, headers={"Origin": UI, **request})
        other = await c.options(path, headers={"Origin": "http://evil.example", **request})
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-origin"] == UI
    assert "POST" in ok.headers["access-control-allow-methods"]
    allowed = {h.strip().lower() for h in ok.headers["access-control-allow-headers"].split(",")}
    assert {"content-type", "x-namespace"} <= allowed
    assert other.status_code == 403 and "access-control-allow-origin" not in other.headers


async def test_post_answers_carry_the_ui_origin():
    async with client(make_app()) as c:
        ok = await c.post("/codec/encode", json={"payloads": PAYLOADS}, headers=bearer(Role.OPERATOR) | {"Origin": UI})
        denied = await c.post("/codec/encode", json={"payloads": PAYLOADS}, headers={"Origin": UI})
        other = await c.post(
            "/codec/encode", json={"payloads": PAYLOADS}, headers=bearer(Role.OPERATOR) | {"Origin": "http://evil.example"}
        )
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == UI
    assert denied.status_code == 401 and denied.headers["access-control-allow-origin"] == UI
    assert other.status_code == 200 and "access-control-allow-origin" not in other.headers
