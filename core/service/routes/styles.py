"""``/v1/styles``: the built-in and user styles, and one style's full file."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path as PathParam
from fastapi.concurrency import run_in_threadpool

from ..schemas import StylePublic, StylesPublic
from .common import AUTH, ERRORS

router = APIRouter(prefix="/styles", tags=["styles"], dependencies=AUTH, responses=ERRORS)


def _summary(style: Any) -> StylePublic:
    data = style.summary()
    return StylePublic(**{k: v for k, v in data.items() if k in StylePublic.model_fields and v is not None})


def _list() -> StylesPublic:
    from ...styles import DEFAULT_STYLE, list_styles

    return StylesPublic(default=DEFAULT_STYLE,
                        styles=[_summary(s) for s in list_styles()])


@router.get("", response_model=StylesPublic, summary="list styles")
async def list_all() -> StylesPublic:
    return await run_in_threadpool(_list)


@router.get("/{name}", summary="one style's full definition (same JSON as its file)")
async def read(name: str = PathParam(max_length=200)) -> dict[str, Any]:
    from ..engine import style_by_name

    def _read() -> dict[str, Any]:
        style = style_by_name(name) if name else None
        if style is None:
            from ...errors import UnknownStyleError

            raise UnknownStyleError("a style name is needed")
        data = style.to_dict()
        data["builtin"] = bool(style.builtin)
        return data

    return await run_in_threadpool(_read)
