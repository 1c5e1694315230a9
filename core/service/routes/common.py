"""Bits shared by the routers: the raw-image request body in OpenAPI, image responses, state access."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from ..deps import require_token
from ..engine import Engine
from ..schemas import MEDIA_TYPES, Message
from ..sessions import SessionStore

AUTH = [Depends(require_token)]

#: OpenAPI description of a request whose body is the image file itself (streamed, any format).
IMAGE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "the image file (PNG, TIFF, JPEG, WebP or a RAW format), sent as the raw body",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}
OPTIONAL_IMAGE_BODY: dict[str, Any] = {
    "requestBody": {**IMAGE_BODY["requestBody"], "required": False,
                    "description": "the finished result image; leave empty to have the service render"}
}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Message, "description": "bad image, bad slider or bad request"},
    401: {"model": Message, "description": "missing or wrong token"},
    403: {"model": Message, "description": "Host or Origin is not loopback"},
    404: {"model": Message, "description": "unknown style, session or job"},
    413: {"model": Message, "description": "body over the size limit"},
}
IMAGE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"description": "the image", "content": {t: {"schema": {"type": "string", "format": "binary"}}
                                                  for t in sorted(set(MEDIA_TYPES.values()))}},
}

SliderSets = Annotated[list[str], Query(alias="set", max_length=400,
                                        description="slider override REGION.PARAM=VALUE, repeatable")]
Wait = Annotated[float, Query(ge=0, le=3600, description="seconds to long-poll (capped by the service)")]


def engine(request: Request) -> Engine:
    return request.app.state.engine


def sessions(request: Request) -> SessionStore:
    return request.app.state.sessions


EngineDep = Annotated[Engine, Depends(engine)]
SessionsDep = Annotated[SessionStore, Depends(sessions)]


def overrides_dict(items: list[str]) -> dict[str, str]:
    """``["sky.exposure=-1", …]`` → ``{"sky.exposure": "-1"}`` (validated later by params)."""
    from ...params import parse_override

    return dict(parse_override(item) for item in items)


def image_response(path: Path, fmt: str, *, delete: bool, headers: dict[str, str] | None = None,
                   filename: str | None = None) -> FileResponse:
    """Stream a file back in chunks (big images never sit in memory); delete it afterwards if asked."""
    task = BackgroundTask(os.unlink, path) if delete else None
    return FileResponse(path, media_type=MEDIA_TYPES[fmt], headers=headers, background=task,
                        filename=filename, content_disposition_type="inline")
