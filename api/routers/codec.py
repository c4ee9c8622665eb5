"""Temporal's remote codec server protocol, so the Temporal UI can show decrypted payloads.

POST /codec/encode and /codec/decode take and answer `{"payloads": [...]}`, each payload in protobuf JSON form.
They answer operators only, and only once the Temporal UI's origin is configured (SETTLEMENT_CODEC_UI_ORIGIN):
the UI calls them from the browser, so that one origin is allowed by CORS. Under make run (local mode) the
origin is TEMPORAL_UI_URL's and SETTLEMENT_CODEC_ALLOW_ANONYMOUS lets the local UI in without a token.
Errors name no key ids.
"""

from fastapi import APIRouter, Depends, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from google.protobuf.json_format import MessageToDict, ParseDict, ParseError
from pydantic import BaseModel
from temporalio.api.common.v1 import Payload

from api.auth import Principal, current_principal, require
from api.openapi import problem, problems
from api.problems import Problem
from domain.order_actions import Role
from runtime.codec import PayloadDecryptionError

_bearer = HTTPBearer(auto_error=False)
_operator = require(Role.OPERATOR)


def _ui_origin(request: Request) -> str | None:
    return request.app.state.settings.codec_ui_origin


def _cors_headers(request: Request) -> dict[str, str]:
    """Access-Control-Allow-Origin when the request comes from the Temporal UI, else nothing."""
    origin = request.headers.get("origin")
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"} if origin and origin == _ui_origin(request) else {}


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
    """An operator's bearer token (or, under make run only, nobody's), and a configured UI origin."""
    principal = None if request.app.state.settings.codec_anonymous else _operator(current_principal(request, credentials))
    if _ui_origin(request) is None:
        raise Problem(404, "the codec endpoint is off: set SETTLEMENT_CODEC_UI_ORIGIN to the Temporal UI's origin")
    return principal


class PayloadsBody(BaseModel):
    payloads: list[dict]


def _codec(request: Request):
    codec = getattr(request.app.state, "codec", None)
    if codec is None:
        raise Problem(404, "payload encryption is not configured")
    return codec


def _parse(body: PayloadsBody) -> list[Payload]:
    parsed = []
    for n, payload in enumerate(body.payloads):
        try:
            parsed.append(ParseDict(payload, Payload()))
        except ParseError as err:
            raise Problem(400, f"payloads.{n}: not a Temporal Payload in protobuf JSON form") from err
    return parsed


def _answer(payloads: list[Payload]) -> PayloadsBody:
    return PayloadsBody(payloads=[MessageToDict(p) for p in payloads])


# 404: the endpoint is off (no UI origin) or payload encryption is not configured.
_CODEC_PROBLEMS = {
    **problems(403, 404),
    400: problem(400, "The body is not UTF-8 text, or a payload is not a Temporal Payload or cannot be decrypted"),
}


@router.post(
    "/encode", response_model=PayloadsBody, dependencies=[Depends(authorize)], operation_id="encodePayloads", responses=_CODEC_PROBLEMS
)
async def encode(body: PayloadsBody, request: Request) -> PayloadsBody:
    return _answer(await _codec(request).encode(_parse(body)))


@router.post(
    "/decode", response_model=PayloadsBody, dependencies=[Depends(authorize)], operation_id="decodePayloads", responses=_CODEC_PROBLEMS
)
async def decode(body: PayloadsBody, request: Request) -> PayloadsBody:
    codec = _codec(request)
    try:
        return _answer(await codec.decode(_parse(body)))
    except PayloadDecryptionError as err:
        raise Problem(400, f"a payload cannot be decrypted: it {err.reason}") from err


@router.options("/encode", include_in_schema=False)
@router.options("/decode", include_in_schema=False)
async def preflight(request: Request) -> Response:
    if not _cors_headers(request):
        raise Problem(403, "CORS origin not allowed; only the Temporal UI's (SETTLEMENT_CODEC_UI_ORIGIN) is")
    return Response(
        status_code=204,
        headers={
            "Access-Control-Allow-Methods": "POST, OPTIONS",
            "Access-Control-Allow-Headers": "Content-Type, X-Namespace, Authorization",
            "Access-Control-Allow-Credentials": "true",
            "Access-Control-Max-Age": "600",
        },
    )
