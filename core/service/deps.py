"""Shared dependencies: the bearer token (for the OpenAPI schema), settings, streamed uploads.

The checks that must come before a body is read (loopback Host/Origin, the token, body limits,
stalls) live in `silverprint.service.guard`, which wraps every route. `require_token` repeats the
token check as a route dependency so that the OpenAPI schema declares the bearer scheme (and as a
second line should a route ever be mounted outside the guard). `read_upload` streams a request body
to a private temporary file, so a big image never sits in memory; the guard has already counted
its bytes against the limit.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import ClientDisconnect

from .guard import UNAUTHORIZED, token_matches
from .settings import ServiceSettings

CHUNK = 1024 * 1024

_bearer = HTTPBearer(auto_error=False, description="the token in silverprint's token file")


def require_token(request: Request,
                  credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> None:
    """401 unless ``Authorization: Bearer <token>`` matches (constant-time comparison)."""
    given = f"{credentials.scheme} {credentials.credentials}" if credentials else None
    if not token_matches(given, request.app.state.token):
        raise HTTPException(401, UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})


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


async def read_upload(request: Request, *, suffix: str = ".bin", required: bool = True) -> Upload | None:
    """Stream the body to a file in the service's work folder.

    400 when the body is empty and ``required``. A client that disconnects mid-upload, or whose
    body the guard refused (over the limit, stalled), leaves no file behind.
    """
    work: Path = request.app.state.work_dir
    fd, name = tempfile.mkstemp(prefix="up-", suffix=suffix, dir=work)
    path = Path(name)
    size = 0
    try:
        with os.fdopen(fd, "wb") as handle:
            async for chunk in request.stream():
                size += len(chunk)
                handle.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if size == 0:
        path.unlink(missing_ok=True)
        if required:
            raise HTTPException(400, "the request body is empty: send the image file as the body")
        return None
    return Upload(path, size)
