"""Build the service app: routers under ``/v1``, the guard, error mapping and the lifespan.

The lifespan creates the token (first start), a private work folder for uploads and results (mode
0700, under the data folder's ``service-work``, removed at shutdown; folders left there by a
killed service are swept first, see `ownership`), the budgeted render engine on the CUDA device
when present, the bridge session store and the learning job store, and warms the engine up so that
the first plug-in call does not pay for importing torch and the region models.

The API is described at ``/v1/openapi.json``. There is no ``/v1/docs`` page: FastAPI's Swagger UI
loads its scripts from a CDN, which fails offline and would run third-party code in a page of the
service's own origin (the page a user pastes the token into); the schema is enough for any local
OpenAPI viewer.
"""
from __future__ import annotations

import logging
import re
from contextlib import asynccontextmanager
from typing import Any, Callable

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from starlette.requests import ClientDisconnect
from starlette.routing import compile_path

from .. import __version__, paths
from ..errors import SilverprintError
from .endpoint import ensure_token
from .guard import ServiceGuard
from .engine import Engine
from .jobs import JobStore
from .ownership import WorkDir, sweep
from .routes import health, jobs, render, sessions, styles
from .sessions import SessionStore
from .settings import ServiceSettings

log = logging.getLogger("silverprint.service")
#: The per-user folder (under the data folder) holding each running service's work folder.
WORK_FOLDER = "service-work"


def _warm_up() -> None:
    """Import the engine's heavy modules once, off the event loop."""
    try:
        from .. import pipeline  # noqa: F401
        from .. import imageio, styles  # noqa: F401
    except Exception as exc:  # the routes report a missing engine per request; keep serving
        log.warning("engine warm-up failed: %s", exc)


def _body_limit(app: FastAPI, settings: ServiceSettings) -> Callable[[dict], int]:
    """The byte limit for a request: the upload limit where the route's body is an image file (as
    its OpenAPI ``requestBody`` declares), the small JSON limit everywhere else."""
    image_routes: list[tuple[str, re.Pattern[str]]] = []

    def limit(scope: dict) -> int:
        if not image_routes:
            for path, operations in app.openapi()["paths"].items():
                for method, operation in operations.items():
                    if "application/octet-stream" in operation.get("requestBody", {}).get("content", {}):
                        image_routes.append((method.upper(), compile_path(path)[0]))
        for method, pattern in image_routes:
            if scope.get("method") == method and pattern.match(scope.get("path", "")):
                return settings.max_upload_bytes
        return settings.max_json_bytes

    return limit


def create_app(settings: ServiceSettings | None = None, *, token: str | None = None,
               learner: Callable[..., Any] | None = None, warm_up: bool = True) -> FastAPI:
    """The FastAPI app. ``token`` replaces the token file (tests); ``learner`` the learning function."""
    settings = settings or ServiceSettings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        root = paths.data_dir() / WORK_FOLDER
        swept = await run_in_threadpool(sweep, root)
        if swept:
            log.warning("removed %d work folder(s) left by a service that was killed", len(swept))
        work = WorkDir(root)
        app.state.settings = settings
        app.state.token = token or ensure_token()
        app.state.work_dir = work.path
        app.state.engine = await run_in_threadpool(Engine, settings, work.path)
        app.state.sessions = SessionStore(settings)
        app.state.jobs = JobStore(learner)
        if warm_up:
            await run_in_threadpool(_warm_up)
        try:
            yield
        finally:
            app.state.sessions.clear()
            app.state.jobs.shutdown()
            work.remove()

    app = FastAPI(title="Silverprint core service", version=__version__, lifespan=lifespan,
                  description="Local black-and-white rendering for the GIMP / darktable bridges and the "
                              "companion. Loopback only; every route but /v1/health and this schema needs "
                              "`Authorization: Bearer <token>` (the token file is in silverprint's "
                              "config folder, mode 0600), checked before any request body is read.",
                  openapi_url="/v1/openapi.json", docs_url=None, redoc_url=None)
    for module in (health, styles, render, sessions, jobs):
        app.include_router(module.router, prefix="/v1")

    @app.exception_handler(SilverprintError)
    async def _silverprint_error(request: Request, exc: SilverprintError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.http_status)

    @app.exception_handler(ClientDisconnect)
    async def _disconnected(request: Request, exc: ClientDisconnect) -> Response:
        return Response(status_code=400)  # nobody is listening; the upload file is already gone

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": f"internal error: {type(exc).__name__}"}, status_code=500)

    app.add_middleware(ServiceGuard, token=lambda scope: scope["app"].state.token,
                       body_limit=_body_limit(app, settings), body_timeout_s=settings.body_timeout_s,
                       send_timeout_s=settings.send_timeout_s)
    return app
