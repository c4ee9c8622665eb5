"""Temporal's remote codec server protocol, so the Temporal UI can show decrypted payloads.

POST /codec/encode and /codec/decode take and answer `{"payloads": [...]}`, each payload in protobuf JSON form.
The UI calls them from the browser, so the UI's origin (settings.temporal_ui_url) is allowed by CORS.
"""

from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from google.protobuf.json_format import MessageToDict, ParseDict, ParseError
from pydantic import BaseModel
from temporalio.api.common.v1 import Payload

from api.auth import Principal, Role, current_principal, require
from api.problems import Problem
from codec import PayloadDecryptionError

_bearer = HTTPBearer(auto_error=False)
_operator = require(Role.OPERATOR)


def _ui_origin(request: Request) -> str:
    url = urlsplit(request.app.state.settings.temporal_ui_url)
    return f"{url.scheme}://{url.netloc}"


def _cors_headers(request: Request) -> dict[str, str]:
    """Access-Control-Allow-Origin when the request comes from the Temporal UI, else nothing."""
    origin = request.headers.get("origin")
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"} if origin == _ui_origin(request) else {}


class _UiCorsRoute(APIRoute):
    """Adds the UI's CORS header to every answer, errors included, so the UI can read them."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def with_cors(request: Request) -> Response:
            cors = _cors_headers(request)
            try:
                response = await handler(request)
            except Problem as problem:
                problem.headers = {**(problem.headers or {}), **cors}
                raise
            response.headers.update(cors)
            return response

        return with_cors


router = APIRouter(prefix="/codec", tags=["codec"], route_class=_UiCorsRoute)


def authorize(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Principal | None:
    """An operator's bearer token, unless anonymous use is allowed (the dev server's UI on loopback)."""
    if request.app.state.settings.settlement_codec_allow_anonymous:
        return None
    return _operator(current_principal(request, credentials))


class PayloadsBody(BaseModel):
    payloads: list[dict]


def _codec(request: Request):
    codec = getattr(request.app.state, "codec", None)
    if codec is None:
        raise Problem(404, "payload encryption is not configured")
    return codec


def _parse(body: PayloadsBody) -> list[Payload]:
    try:
        return [ParseDict(p, Payload()) for p in body.payloads]
    except ParseError as err:
        raise Problem(400, f"payloads: not a Temporal Payload in protobuf JSON form: {err}") from err


def _answer(payloads: list[Payload]) -> PayloadsBody:
    return PayloadsBody(payloads=[MessageToDict(p) for p in payloads])


@router.post("/encode", response_model=PayloadsBody, dependencies=[Depends(authorize)])
async def encode(body: PayloadsBody, request: Request) -> PayloadsBody:
    return _answer(await _codec(request).encode(_parse(body)))


@router.post("/decode", response_model=PayloadsBody, dependencies=[Depends(authorize)])
async def decode(body: PayloadsBody, request: Request) -> PayloadsBody:
    codec = _codec(request)
    try:
        return _answer(await codec.decode(_parse(body)))
    except PayloadDecryptionError as err:
        raise Problem(400, str(err)) from err


@router.options("/encode", include_in_schema=False)
@router.options("/decode", include_in_schema=False)
async def preflight(request: Request) -> Response:
    if not _cors_headers(request):
        raise Problem(403, f"CORS origin not allowed; only the Temporal UI at {_ui_origin(request)} is")
    return Response(status_code=204, headers={
        "Access-Control-Allow-Methods": "POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type, X-Namespace, Authorization",
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Max-Age": "600",
    })
