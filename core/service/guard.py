"""The ASGI guard in front of every route: who may talk, how much they may send, how slowly.

Everything here runs *before the first body byte is read*, so that no client without the token can
make the service hold anything: FastAPI reads (and parses) a JSON body before it resolves a route's
dependencies, so a token check in a dependency came too late (a 1.2 GB chunked body to
``/v1/jobs/learn`` was read in full before its 401). In order:

1. Host and Origin must be loopback (403): stops DNS rebinding, on every path, the schema included.
2. Every path but `OPEN_PATHS` needs ``Authorization: Bearer <token>`` (401, compared in constant
   time).
3. The body is capped: `body_limit(scope)` bytes (image routes: the upload limit; everything else,
   JSON included: a small one). A declared Content-Length over it is refused at once; bytes sent
   without one (chunked) are counted as they arrive in ``receive`` and refused the moment they go
   over (413), whatever the route does with them.
4. A body that stalls (no bytes for ``body_timeout_s``) gets 408; a client that stops reading the
   answer for ``send_timeout_s`` loses the connection.
5. A request still unanswered when the server shuts down (queued behind a render, long-polling) gets
   a JSON 503 instead of uvicorn's plain-text 500.

A refusal sent while the client is still sending a body must let the client read it: a client
such as a plug-in sends its whole body before it reads. So the connection stays open and the
server drops the rest of the body as it comes (memory stays flat) when that rest is bounded: the
client holds the token, or it declared a Content-Length within the limit (a plug-in with a stale
token then reads "wrong token", not a reset). A stranger's body of unknown or over-limit length
is read for at most `LINGER_BYTES` / `LINGER_S` after the answer, then the connection is closed.
"""
from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any, Awaitable, Callable, MutableMapping
from urllib.parse import urlsplit

from .endpoint import LOOPBACK_NAMES

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: Paths answered without the token: liveness, and the API description (it holds no secret).
OPEN_PATHS = frozenset({"/v1/health", "/v1/openapi.json"})
#: After refusing a stranger's unbounded body: read and drop at most this much, for at most this
#: long, so that the answer reaches the client before the connection closes.
LINGER_BYTES = 4 * 1024 * 1024
LINGER_S = 1.0
UNAUTHORIZED = ("missing or wrong token: send 'Authorization: Bearer <token>' with the token from "
                "silverprint's token file")


def _host_name(value: str) -> str:
    """Host part of a ``Host`` header value (``[::1]:8000`` → ``::1``)."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def is_loopback_host(value: str) -> bool:
    return _host_name(value) in LOOPBACK_NAMES


def is_loopback_origin(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and (parts.hostname or "") in LOOPBACK_NAMES


def token_matches(authorization: str | None, expected: str) -> bool:
    """Whether an ``Authorization`` header value is ``Bearer <expected>`` (constant-time compare)."""
    scheme, _, given = (authorization or "").strip().partition(" ")
    given = given.strip()
    if scheme.lower() != "bearer" or not given or not expected:
        return False
    return secrets.compare_digest(given.encode(), expected.encode())


def too_large_detail(limit: int) -> str:
    size = f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit // 1024} KiB"
    return f"request body is larger than the limit of {size}"


class _Exchange:
    """One request as the app sees it: counted ``receive``, guarded ``send``, and our own answers."""

    def __init__(self, receive: Receive, send: Send, *, limit: int, length: int | None, chunked: bool,
                 body_timeout_s: float, send_timeout_s: float, trusted: bool) -> None:
        self._receive = receive
        self._send = send
        self.limit = limit
        self.body_done = not chunked and not length
        self.body_timeout_s = body_timeout_s
        self.send_timeout_s = send_timeout_s
        #: the rest of the body may be dropped on an open connection (see the module docstring)
        self.bounded = trusted or (not chunked and length is not None and length <= limit)
        self.received = 0
        self.started = False   # a response has begun (the app's or ours)
        self.answered = False  # we answered: whatever the app sends next is dropped

    async def receive(self) -> Message:
        if self.answered:
            return {"type": "http.disconnect"}
        if self.body_done:  # only a disconnect can come now (FileResponse listens for it)
            return await self._receive()
        try:
            async with asyncio.timeout(self.body_timeout_s):
                message = await self._receive()
        except TimeoutError:
            await self.answer(408, f"the request body stalled: nothing arrived for "
                                   f"{self.body_timeout_s:g} s", close=True, linger=False)
            return {"type": "http.disconnect"}
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                await self.answer(413, too_large_detail(self.limit))
                return {"type": "http.disconnect"}
            if not message.get("more_body", False):
                self.body_done = True
        return message

    async def send(self, message: Message) -> None:
        if self.answered:
            return
        if message["type"] == "http.response.start":
            self.started = True
        async with asyncio.timeout(self.send_timeout_s):  # a client that stopped reading
            await self._send(message)

    async def answer(self, status: int, detail: str, headers: dict[str, str] | None = None, *,
                     close: bool = False, linger: bool = True) -> None:
        """Answer with ``{"detail": ...}`` ourselves, unless the app has already begun answering.

        While a body is still coming, the connection is closed (after a bounded drain when
        ``linger``) if ``close`` or if the rest of the body is not `bounded`; otherwise it stays
        open and the server drops the rest.
        """
        if self.answered:
            return
        self.answered = True
        if self.started:
            return  # too late for a status; the app now sees a disconnect and the connection ends
        self.started = True
        body = json.dumps({"detail": detail}).encode()
        raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
        close = not self.body_done and (close or not self.bounded)
        if close:
            raw.append((b"connection", b"close"))
        try:
            async with asyncio.timeout(self.send_timeout_s):
                await self._send({"type": "http.response.start", "status": status, "headers": raw})
                await self._send({"type": "http.response.body", "body": body, "more_body": close and linger})
                if close and linger:
                    await self._drain()
                    await self._send({"type": "http.response.body", "body": b"", "more_body": False})
        except TimeoutError:
            pass  # the client does not read: uvicorn closes the connection when the app returns

    async def _drain(self) -> None:
        """Read and drop what the client is still sending, boundedly, before the connection closes."""
        dropped = 0
        try:
            async with asyncio.timeout(LINGER_S):
                while dropped <= LINGER_BYTES:
                    message = await self._receive()
                    if message["type"] != "http.request":
                        return
                    dropped += len(message.get("body", b""))
                    if not message.get("more_body", False):
                        self.body_done = True
                        return
        except TimeoutError:
            pass


class ServiceGuard:
    """Plain ASGI middleware (it covers every path) doing the checks in the module docstring.

    ``token`` returns the expected token (the app's, set when its lifespan starts);
    ``body_limit`` returns the byte limit for a request's body from its scope.
    """

    def __init__(self, app, *, token: Callable[[Scope], str], body_limit: Callable[[Scope], int],  # noqa: ANN001
                 body_timeout_s: float = 30.0, send_timeout_s: float = 60.0) -> None:
        self.app = app
        self.token = token
        self.body_limit = body_limit
        self.body_timeout_s = body_timeout_s
        self.send_timeout_s = send_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: dict[str, str] = {}
        for key, value in scope.get("headers", []):
            headers[key.decode("latin-1").lower()] = value.decode("latin-1")
        declared = headers.get("content-length")
        length = int(declared) if declared is not None and declared.strip().isdigit() else None
        trusted = scope["path"] in OPEN_PATHS or token_matches(headers.get("authorization"), self.token(scope))
        limit = self.body_limit(scope)
        exchange = _Exchange(receive, send, limit=limit, length=length, chunked="transfer-encoding" in headers,
                             trusted=trusted, body_timeout_s=self.body_timeout_s,
                             send_timeout_s=self.send_timeout_s)

        host, origin = headers.get("host", ""), headers.get("origin")
        if not is_loopback_host(host):
            await exchange.answer(403, f"forbidden: Host {host!r} is not a loopback address")
            return
        if origin is not None and origin != "null" and not is_loopback_origin(origin):
            await exchange.answer(403, f"forbidden: Origin {origin!r} is not a loopback address")
            return
        if not trusted:
            await exchange.answer(401, UNAUTHORIZED, {"WWW-Authenticate": "Bearer"})
            return
        if declared is not None and length is None:
            await exchange.answer(400, "invalid Content-Length", close=True)
            return
        if length is not None and length > limit:
            await exchange.answer(413, too_large_detail(limit))
            return
        try:
            await self.app(scope, exchange.receive, exchange.send)
        except asyncio.CancelledError:  # the server is stopping and gave up waiting for this request
            await exchange.answer(503, "the service is shutting down; try again when it is back",
                                  {"Retry-After": "5"}, close=True, linger=False)
            raise
