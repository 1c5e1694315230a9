"""``GET /v1/health``: is the service up, on which device, is the companion attached (no token)."""
from __future__ import annotations

from fastapi import APIRouter, Request

from ... import __version__
from ..schemas import Health

router = APIRouter(tags=["service"])


@router.get("/health", response_model=Health, summary="service status (no token needed)")
async def health(request: Request) -> Health:
    state = request.app.state
    return Health(version=__version__, device=state.engine.device,
                  companion_attached=state.sessions.companion_attached,
                  renders_in_flight=state.engine.in_flight, renders_queued=state.engine.queued)
