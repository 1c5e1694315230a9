"""``/v1/sessions``: the bridge between a host-app plug-in and the companion (see `..sessions`)."""
from __future__ import annotations

import mimetypes
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path as PathParam, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response

from ...errors import SilverprintError
from ..deps import read_upload
from ..engine import Engine
from ..schemas import (OutputFormat, Overridden, SessionMode, SessionPublic, SessionsPublic,
                       SessionState)
from ..sessions import FINAL, WAITING, Session, SessionStore
from .common import (AUTH, ERRORS, IMAGE_BODY, IMAGE_RESPONSE, OPTIONAL_IMAGE_BODY, EngineDep, SessionsDep,
                     SliderSets, Wait, image_response, overrides_dict)
from .render import NameQuery, StyleQuery, _upload

router = APIRouter(prefix="/sessions", tags=["bridge sessions"], dependencies=AUTH, responses=ERRORS)

SessionId = Annotated[str, PathParam(max_length=64)]
CONFLICT = {409: {"description": "the session is not in a state that allows this"}}


def _get(store: SessionStore, sid: str) -> Session:
    session = store.get(sid)
    if session is None:
        raise HTTPException(404, f"no bridge session {sid!r} (finished, expired or never created)")
    return session


def _check_overrides(overrides: dict[str, str], style: str | None) -> dict[str, Overridden]:
    """The sliders in their types (a number, or the curve's knots), checked against the style
    that will render (400 naming a bad one, 404 for an unknown style)."""
    from ...params import parse_value
    from ...pipeline import check_overrides
    from ..engine import style_by_name

    if overrides:
        check_overrides(style_by_name(style), overrides)
    return {k: parse_value(k, v) for k, v in overrides.items()}


async def _render(engine: Engine, store: SessionStore, session: Session, style: str | None,
                  overrides: dict[str, Overridden], note: str | None = None) -> None:
    """Render a session's image with a style and mark it applied (or failed, with the reason)."""
    session.busy = True
    try:
        done = await engine.run(engine.render_file, session.image, session.name, style, overrides,
                                session.format)
    except SilverprintError as exc:
        await store.update(session, state="failed", message=str(exc))
        return
    except Exception as exc:  # an engine bug: the plug-in gets a reason, not an endless wait
        await store.update(session, state="failed", message=f"internal error: {type(exc).__name__}")
        raise
    finally:
        session.busy = False
    if store.get(session.id) is not session or session.state not in WAITING:  # deleted / cancelled meanwhile
        done.path.unlink(missing_ok=True)
        return
    await store.update(session, state="applied", result=done.path, style=done.style,
                       width=done.width, height=done.height, message=note)


@router.post("", status_code=201, response_model=SessionPublic, openapi_extra=IMAGE_BODY,
             summary="a plug-in hands over an image (rendered at once unless the companion takes it)")
async def create(request: Request, engine: EngineDep, store: SessionsDep,
                 host: Annotated[str, Query(max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")] = "other",
                 name: NameQuery = None, style: StyleQuery = None, format: OutputFormat = "png16",
                 mode: SessionMode = "auto", sliders: SliderSets = []):  # noqa: B006
    overrides = await run_in_threadpool(_check_overrides, overrides_dict(sliders), style)
    if style:
        from ..engine import style_by_name

        await run_in_threadpool(style_by_name, style)  # 404 now, not after the user waited
    if store.full():
        raise HTTPException(503, "too many open bridge sessions; finish or cancel some first",
                            headers={"Retry-After": "5"})
    upload = await _upload(request, name)
    display = name or "image"
    try:  # decoded once to check it, within the render budget like any decode
        w, h = await engine.run(engine.measure, upload.path, display)
    except BaseException:
        upload.remove()
        raise
    interactive = mode == "interactive" or (mode == "auto" and store.companion_attached)
    session = store.add(Session(id=store.new_id(), host=host, name=display, format=format, style=style,
                                overrides=overrides, image=upload.path, auto=mode == "auto",
                                width=int(w), height=int(h)))
    if interactive:
        await store.notify()
    else:
        try:
            await _render(engine, store, session, style, overrides)
        except Exception:
            store.remove(session.id)
            raise
        if session.state == "failed":
            message = session.message or "render failed"
            store.remove(session.id)
            raise HTTPException(400, message)
    return session.public()


@router.get("", response_model=SessionsPublic,
            summary="the companion lists sessions (long-polls with wait; marks it attached)")
async def list_sessions(store: SessionsDep, state: SessionState | None = None, wait: Wait = 0.0,
                        companion: Annotated[bool, Query(description="the caller is the companion")] = True):
    if companion:
        store.companion_seen()
    wanted = (state,) if state else None
    if wait > 0:
        await store.wait_until(lambda: bool(store.all(wanted)), min(wait, store.settings.max_wait_s))
    if companion:
        store.companion_seen()
    return {"sessions": [s.public() for s in store.all(wanted)],
            "companion_attached": store.companion_attached}


@router.get("/{sid}", response_model=SessionPublic,
            summary="a session's state; the plug-in long-polls with wait until it is applied or cancelled")
async def read(sid: SessionId, engine: EngineDep, store: SessionsDep, wait: Wait = 0.0):
    session = _get(store, sid)

    def orphaned() -> bool:  # an auto session whose companion went away: render it here
        return session.auto and session.state in WAITING and not session.busy and not store.companion_attached

    if wait > 0:
        await store.wait_until(lambda: session.state in FINAL or orphaned() or store.get(sid) is None,
                               min(wait, store.settings.max_wait_s))
    if orphaned():
        await _render(engine, store, session, session.style, session.overrides,
                      note="the companion is not open: rendered with the requested or default style")
    return session.public()


@router.get("/{sid}/image", responses=IMAGE_RESPONSE,
            summary="the companion fetches the image the plug-in sent (marks the session open)")
async def image(sid: SessionId, store: SessionsDep) -> FileResponse:
    session = _get(store, sid)
    store.companion_seen()
    if session.state == "pending":
        await store.update(session, state="open")
    media = mimetypes.guess_type(session.image.name)[0] or "application/octet-stream"
    return FileResponse(session.image, media_type=media)


@router.get("/{sid}/result", responses={**IMAGE_RESPONSE, **CONFLICT},
            summary="the plug-in fetches the applied result")
async def result(sid: SessionId, store: SessionsDep) -> Response:
    session = _get(store, sid)
    if session.state != "applied" or session.result is None:
        raise HTTPException(409, f"session is {session.state}, there is no result"
                                 + (f": {session.message}" if session.message else ""))
    return image_response(session.result, session.format, delete=False,
                          headers={"X-Silverprint-Style": (session.style or "").encode("ascii", "replace").decode()})


@router.post("/{sid}/apply", response_model=SessionPublic, openapi_extra=OPTIONAL_IMAGE_BODY,
             responses=CONFLICT,
             summary="the companion answers Apply: with the result image as body, or empty to render here")
async def apply(request: Request, sid: SessionId, engine: EngineDep, store: SessionsDep,
                style: StyleQuery = None, sliders: SliderSets = []):  # noqa: B006
    session = _get(store, sid)
    store.companion_seen()
    if session.state not in WAITING or session.busy:
        raise HTTPException(409, f"session is {session.state}{' (rendering)' if session.busy else ''}; "
                                 "it can no longer be applied")
    overrides = await run_in_threadpool(_check_overrides, overrides_dict(sliders), style or session.style)
    upload = await read_upload(request, required=False)
    if upload is None:
        await _render(engine, store, session, style or session.style, overrides)
        if session.state == "failed":
            raise HTTPException(400, session.message or "render failed")
        return session.public()
    session.busy = True
    try:
        done = await engine.run(engine.reencode, upload.path, "result image", session.format)
    finally:
        session.busy = False
        upload.remove()
    if session.state not in WAITING:  # cancelled by the plug-in while the result was checked
        done.path.unlink(missing_ok=True)
        raise HTTPException(409, f"session is {session.state}; it can no longer be applied")
    await store.update(session, state="applied", result=done.path, style=style or session.style,
                       width=done.width, height=done.height, message=None)
    return session.public()


@router.post("/{sid}/cancel", response_model=SessionPublic, responses=CONFLICT,
             summary="the companion (or the plug-in) answers Cancel: nothing is returned to the host")
async def cancel(sid: SessionId, store: SessionsDep):
    session = _get(store, sid)
    if session.state not in WAITING:
        raise HTTPException(409, f"session is already {session.state}")
    await store.update(session, state="cancelled", message="cancelled")
    return session.public()


@router.delete("/{sid}", status_code=204, summary="the plug-in is done with a session (files deleted)")
async def delete(sid: SessionId, store: SessionsDep) -> Response:
    _get(store, sid)
    store.remove(sid)
    await store.notify()
    return Response(status_code=204)
