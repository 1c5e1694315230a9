"""Request guards and shared dependencies: loopback Host/Origin, bearer token, bounded uploads.

`LoopbackGuard` is plain ASGI middleware so that it covers every path, the OpenAPI schema and the
docs included (a DNS-rebinding page must not even read the schema). `require_token` is attached once
per router. `read_upload` streams a request body to a private temporary file, counting bytes, so a
big image never sits in memory twice and an over-limit body is refused as soon as it is seen.
"""
from __future__ import annotations

import json
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import ClientDisconnect

from .endpoint import LOOPBACK_NAMES
from .settings import ServiceSettings

CHUNK = 1024 * 1024


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


async def _send_json(send, status: int, detail: str) -> None:  # noqa: ANN001
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class LoopbackGuard:
    """403 for any request whose Host (or Origin, when sent) is not loopback: stops DNS rebinding.

    It also answers 413 at once to a declared Content-Length over the limit, on every route (image
    routes also count the bytes of bodies sent without a length, in `read_upload`).
    """

    def __init__(self, app, max_body: int | None = None) -> None:  # noqa: ANN001 - an ASGI app
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] == "http":
            headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                       for k, v in scope.get("headers", [])}
            host = headers.get("host", "")
            origin = headers.get("origin")
            reason = None
            if not is_loopback_host(host):
                reason = f"Host {host!r} is not a loopback address"
            elif origin is not None and origin != "null" and not is_loopback_origin(origin):
                reason = f"Origin {origin!r} is not a loopback address"
            if reason:
                await _send_json(send, 403, f"forbidden: {reason}")
                return
            length = headers.get("content-length", "")
            if self.max_body is not None and length.isdigit() and int(length) > self.max_body:
                await _send_json(send, 413, str(too_large(self.max_body).detail))
                return
        await self.app(scope, receive, send)


_bearer = HTTPBearer(auto_error=False, description="the token in silverprint's token file")


def require_token(request: Request,
                  credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> None:
    """401 unless ``Authorization: Bearer <token>`` matches (constant-time comparison)."""
    expected: str = request.app.state.token
    given = credentials.credentials if credentials and credentials.scheme.lower() == "bearer" else ""
    if not given or not secrets.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(401, "missing or wrong token: send 'Authorization: Bearer <token>' "
                                 "with the token from silverprint's token file",
                            headers={"WWW-Authenticate": "Bearer"})


def get_settings(request: Request) -> ServiceSettings:
    return request.app.state.settings


SettingsDep = Annotated[ServiceSettings, Depends(get_settings)]


@dataclass
class Upload:
    """A request body spooled to a private temporary file."""

    path: Path
    size: int

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def too_large(limit: int) -> HTTPException:
    return HTTPException(413, f"request body is larger than the limit of {limit // (1024 * 1024)} MiB")


async def read_upload(request: Request, *, suffix: str = ".bin", required: bool = True) -> Upload | None:
    """Stream the body to a file in the service's work folder.

    413 when Content-Length (or the bytes actually sent) exceed the limit, 400 when the body is
    empty and ``required``. A client that disconnects mid-upload leaves no file behind.
    """
    settings: ServiceSettings = request.app.state.settings
    limit = settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise too_large(limit)
        except ValueError:
            raise HTTPException(400, "invalid Content-Length") from None
    work: Path = request.app.state.work_dir
    fd, name = tempfile.mkstemp(prefix="up-", suffix=suffix, dir=work)
    path = Path(name)
    size = 0
    try:
        with os.fdopen(fd, "wb") as handle:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise too_large(limit)
                handle.write(chunk)
    except ClientDisconnect:
        path.unlink(missing_ok=True)
        raise
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if size == 0:
        path.unlink(missing_ok=True)
        if required:
            raise HTTPException(400, "the request body is empty: send the image file as the body")
        return None
    return Upload(path, size)
