"""The request body limit: a pure ASGI middleware that refuses a body over `max_bytes` with 413
before it is read whole (except under `exempt` path prefixes: routes that bound their own bodies).

A declared `Content-Length` over the limit is refused before the app runs. A body without one
(chunked) is counted as it arrives: the message that passes the limit never reaches the app, whose
read raises `BodyTooLarge` instead, and the refusal replaces whatever the app answers.

After a refusal the server reads and drops at most `LINGER_BYTES` more of the body (a client that
sends its whole body before reading the answer, as most do, then still gets the 413 rather than a
reset connection), then closes the connection: nothing of the body is kept, and an endless body
cannot keep the server reading.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Refusal = Callable[[Request, int], Awaitable[Response]]
LINGER_BYTES = 16 * 1024 * 1024


class BodyTooLarge(Exception):
    """Raised to the app from `receive` once the body passed the limit; the middleware answers instead."""


class BodyLimit:
    """Refuses HTTP request bodies over `max_bytes` with the response `refusal(request, max_bytes)`
    makes (413, in the route's convention: a JSON error or a page)."""

    def __init__(self, app: ASGIApp, max_bytes: int, refusal: Refusal, exempt: tuple[str, ...] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.refusal = refusal
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > self.max_bytes:
            # With `Expect: 100-continue` the body is not on its way: reading would invite it.
            await self._refuse(scope, receive if _header(scope, b"expect") != "100-continue" else None, send)
            return
        received = 0
        started = refused = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    refused = not started  # an answer already begun cannot be replaced: the error ends it
                    raise BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the app's own answer to a refused body is dropped
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not refused:
                raise
        if refused:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive | None, send: Send) -> None:
        """Send the refusal, drop what more of the body arrives (up to LINGER_BYTES; none when
        `receive` is None), then end the response, which closes the connection."""
        response = await self.refusal(Request(scope), self.max_bytes)
        response.headers["Connection"] = "close"
        await send({"type": "http.response.start", "status": response.status_code, "headers": response.raw_headers})
        await send({"type": "http.response.body", "body": response.body, "more_body": True})
        left = LINGER_BYTES
        while receive is not None and left > 0:
            message = await receive()
            if message["type"] != "http.request":
                break
            left -= len(message.get("body", b""))
            if not message.get("more_body", False):
                break
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1").strip().lower()
    return ""
