"""Every request body is capped: 413 problem document before the body is read whole.

A declared `Content-Length` over the cap is answered at once, before the application runs; a body
without one (chunked) is counted as it streams and refused at the chunk that crosses the cap.
(Starlette's own limit checks `Content-Length` only once the endpoint reads the body or answers, so an
action without a body would run first, and it answers in plain text.)
"""

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem_response

# Candidate for a setting (`settlement_max_body_bytes`): the largest order (100 items) is about 10 KiB.
MAX_BODY_BYTES = 64 * 1024


class BodyTooLarge(HTTPException):
    """Raised from `receive` while the app reads a streamed body; the problem handlers answer it."""

    def __init__(self, limit: int):
        super().__init__(413, _detail(limit))


def _detail(limit: int) -> str:
    return f"the request body exceeds {limit} bytes"


def _declared_over(content_length: str | None, limit: int) -> bool:
    """A Content-Length that is not a number is the server's to refuse; the streamed count still applies."""
    if content_length is None or not (content_length.isascii() and content_length.isdigit()):
        return False
    return len(content_length) > 18 or int(content_length) > limit  # past 18 digits it exceeds any limit


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _declared_over(Request(scope).headers.get("content-length"), self.max_bytes):
            await problem_response(Request(scope), 413, _detail(self.max_bytes))(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, counted, send)
