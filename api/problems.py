"""RFC 9457 problem documents for every error the API answers."""

import logging

import asyncpg
from asgi_correlation_id import correlation_id
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from temporalio.service import RPCError, RPCStatusCode

log = logging.getLogger("settlement.api")

PROBLEM_JSON = "application/problem+json"
TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    500: "Internal server error",
    503: "Service unavailable",
}


class FieldError(BaseModel):
    field: str = Field(description="the field, dotted (`items.0.quantity`); empty for the body as a whole (a rule between its fields)")
    message: str


class ProblemDocument(BaseModel):
    """The body of every error answer (the OpenAPI document's `Problem`)."""

    model_config = ConfigDict(title="Problem")

    type: str = Field(description="`/problems/<kind>` for problems of this API's own kinds, else `about:blank`")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    instance: str = Field(description="the request's path")
    request_id: str | None = Field(None, description="the request's id, as in the answer's `X-Request-ID` header and the API's log lines")
    errors: list[FieldError] | None = Field(None, description="validation problems (422): each field and what is wrong with it")


class Problem(Exception):
    def __init__(self, status: int, detail: str, *, kind: str | None = None, errors: list[dict] | None = None, headers: dict | None = None):
        super().__init__(detail)
        self.status, self.detail, self.kind, self.errors, self.headers = status, detail, kind, errors, headers


def problem_response(
    request: Request, status: int, detail: str, kind: str | None = None, errors: list[dict] | None = None, headers: dict | None = None
) -> JSONResponse:
    body = ProblemDocument(
        type=f"/problems/{kind}" if kind else "about:blank",
        title=TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        instance=request.url.path,
        request_id=correlation_id.get(),
        errors=errors or None,
    )
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, media_type=PROBLEM_JSON, headers=headers)


def validation_problem(errors: list[dict]) -> Problem:
    """422 listing each field and what is wrong with it."""
    return Problem(
        422,
        "; ".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors),
        kind="validation-error",
        errors=errors,
    )


def field_error(field: str, message: str) -> Problem:
    return validation_problem([{"field": field, "message": message}])


def pydantic_errors(errors: list[dict]) -> list[dict]:
    return [{"field": _location(e["loc"]), "message": e["msg"]} for e in errors]


def _location(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts)


def _allowed_methods(request: Request) -> str:
    routes = iter_route_contexts(request.app.routes)
    return ", ".join(
        sorted({method for route in routes if route.matches(request.scope)[0] != Match.NONE for method in route.methods or ()})
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem):
        return problem_response(request, exc.status, exc.detail, exc.kind, exc.errors, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        return await _problem(request, validation_problem(pydantic_errors(exc.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:  # Starlette names only the methods of the first route on the path
            headers = {**(headers or {}), "Allow": _allowed_methods(request)}
        return problem_response(request, exc.status_code, str(exc.detail), headers=headers)

    @app.exception_handler(RPCError)
    async def _temporal(request: Request, exc: RPCError):
        if exc.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.RESOURCE_EXHAUSTED):
            return problem_response(request, 503, "the workflow service is unavailable; try again", headers={"Retry-After": "5"})
        log.error("Temporal refused %s %s: %s", request.method, request.url.path, exc)
        return problem_response(request, 500, "an unexpected error occurred; it has been logged")

    async def _unavailable(request: Request, exc: Exception):
        log.error("backing service unavailable on %s %s: %s", request.method, request.url.path, exc)
        return problem_response(request, 503, "a backing service is unavailable; try again", headers={"Retry-After": "5"})

    # The database is away or restarting ("shutting down", "starting up"): the client should try again.
    restarting = (asyncpg.CannotConnectNowError, asyncpg.AdminShutdownError, asyncpg.CrashShutdownError)
    for unavailable in (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError, *restarting):
        app.add_exception_handler(unavailable, _unavailable)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        # Answered outside every middleware (Starlette's error middleware): the request id header is set here.
        request_id = correlation_id.get()
        return problem_response(
            request, 500, "an unexpected error occurred; it has been logged", headers={"X-Request-ID": request_id} if request_id else None
        )
