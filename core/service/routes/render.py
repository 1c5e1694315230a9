"""``POST /v1/render`` and ``POST /v1/analyse``: the image is the raw request body (streamed to disk)."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ..deps import read_upload
from ..engine import sniff_suffix
from ..schemas import AnalysisPublic, OutputFormat
from .common import AUTH, ERRORS, IMAGE_BODY, IMAGE_RESPONSE, EngineDep, SliderSets, image_response, overrides_dict

router = APIRouter(tags=["render"], dependencies=AUTH, responses=ERRORS)

StyleQuery = Annotated[str | None, Query(max_length=200, description="style name (default style if empty)")]
NameQuery = Annotated[str | None, Query(max_length=255, description="the file's name, for messages and type")]


async def _upload(request: Request, name: str | None):
    upload = await read_upload(request)
    with open(upload.path, "rb") as handle:
        head = handle.read(16)
    suffix = sniff_suffix(head, name)
    target = upload.path.with_suffix(suffix)
    upload.path.rename(target)
    upload.path = target
    return upload


@router.post("/render", summary="render an image with a style and slider overrides",
             openapi_extra=IMAGE_BODY, responses=IMAGE_RESPONSE, response_class=Response)
async def render(request: Request, engine: EngineDep, style: StyleQuery = None,
                 format: OutputFormat = "png16", sliders: SliderSets = [],  # noqa: B006 - FastAPI query list
                 name: NameQuery = None):
    overrides = overrides_dict(sliders)
    upload = await _upload(request, name)
    try:
        done = await engine.run(engine.render_file, upload.path, name or "image", style, overrides, format)
    finally:
        upload.remove()
    return image_response(done.path, format, delete=True,
                          headers={"X-Silverprint-Style": done.style, "X-Silverprint-Device": engine.device})


@router.post("/analyse", response_model=AnalysisPublic, openapi_extra=IMAGE_BODY,
             summary="regions of an image and the sliders the style's proxies give for it")
async def analyse(request: Request, engine: EngineDep, style: StyleQuery = None,
                  sliders: SliderSets = [], name: NameQuery = None,  # noqa: B006
                  masks: Annotated[bool, Query(description="include each mask as a base64 PNG")] = False):
    overrides = overrides_dict(sliders)
    upload = await _upload(request, name)
    try:
        return await engine.run(engine.analyse_file, upload.path, name or "image", style, overrides, masks)
    finally:
        upload.remove()
