"""api/routers/codec.py: Temporal's remote codec protocol for the Temporal UI, with auth and CORS."""

from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI
from google.protobuf.json_format import MessageToDict
from temporalio.api.common.v1 import Payload

from api import problems
from api.auth import Role, mint_token
from api.routers import codec as codec_router
from codec import EncryptionCodec

SECRET = "test-jwt-secret-0123456789abcdef0123456789"
UI = "http://127.0.0.1:8233"
PAYLOADS = [MessageToDict(Payload(metadata={"encoding": b"json/plain"}, data=b'{"order_id":"o-1"}')),
            MessageToDict(Payload(metadata={"encoding": b"binary/null"}))]


def make_app(*, anonymous: bool = False, codec: EncryptionCodec | None = EncryptionCodec("kid1", {"kid1": b"\x07" * 32})) -> FastAPI:
    app = FastAPI()
    problems.install(app)
    app.include_router(codec_router.router)
    app.state.settings = SimpleNamespace(settlement_jwt_secret=SECRET, settlement_codec_allow_anonymous=anonymous,
                                         temporal_ui_url=UI + "/")
    app.state.codec = codec
    return app


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test")


def bearer(role: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(SECRET, 'someone', role)}"}


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


async def test_anonymous_when_allowed():
    async with client(make_app(anonymous=True)) as c:
        encoded = await c.post("/codec/encode", json={"payloads": PAYLOADS})
        decoded = await c.post("/codec/decode", json=encoded.json())
    assert decoded.status_code == 200 and decoded.json() == {"payloads": PAYLOADS}


async def test_404_when_no_codec():
    async with client(make_app(codec=None)) as c:
        response = await c.post("/codec/decode", json={"payloads": PAYLOADS}, headers=bearer(Role.OPERATOR))
    assert response.status_code == 404
    assert response.json()["detail"] == "payload encryption is not configured"


async def test_undecryptable_payload_is_a_400():
    other = EncryptionCodec("kid9", {"kid9": b"\x09" * 32})
    foreign = [MessageToDict(p) for p in await other.encode([Payload(data=b"x")])]
    async with client(make_app(anonymous=True)) as c:
        response = await c.post("/codec/decode", json={"payloads": foreign})
    assert response.status_code == 400 and "'kid9'" in response.json()["detail"]


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
        other = await c.post("/codec/encode", json={"payloads": PAYLOADS}, headers=bearer(Role.OPERATOR) | {"Origin": "http://evil.example"})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == UI
    assert denied.status_code == 401 and denied.headers["access-control-allow-origin"] == UI
    assert other.status_code == 200 and "access-control-allow-origin" not in other.headers
