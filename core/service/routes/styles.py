"""``/v1/styles``: the built-in and user styles, and one style's full file."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path as PathParam
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from ..schemas import StylePublic, StylesPublic
from .common import AUTH, ERRORS

router = APIRouter(prefix="/styles", tags=["styles"], dependencies=AUTH, responses=ERRORS)


def _summary(style: Any) -> StylePublic:
    data = style.summary()
    return StylePublic(**{k: v for k, v in data.items() if k in StylePublic.model_fields and v is not None})


class StylesListing(StylesPublic):
    """The listing plus what was left out of it: a bad file in the styles folder is skipped, never
    fatal (existing clients read ``default`` and ``styles`` and ignore the rest)."""

    warnings: list[str] = Field(default_factory=list,
                                description="one line per style file skipped: the file and why")


def _list() -> StylesListing:
    from ...styles import DEFAULT_STYLE, list_styles

    warnings: list[str] = []
    styles = [_summary(s) for s in list_styles(warnings)]
    return StylesListing(default=DEFAULT_STYLE, styles=styles,
                         warnings=[f"skipped {message}" for message in warnings])


@router.get("", response_model=StylesListing, summary="list styles (bad style files are skipped, "
                                                      "with a warning each)")
async def list_all() -> StylesListing:
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
