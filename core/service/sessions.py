"""Bridge sessions: a plug-in hands over an image and waits; the companion answers.

Life of a session::

    plug-in  POST /v1/sessions ───────────────► pending ──companion GET …/image──► open
                                                   │                                 │
             (no companion attached, or            │ apply (result or style)         │ cancel
              mode=render: rendered at once) ──────┴──────────► applied / cancelled ◄┘
    plug-in  GET /v1/sessions/{id}?wait=S  (long-poll until not pending/open)
    plug-in  GET /v1/sessions/{id}/result  (the image) then DELETE /v1/sessions/{id}

The store lives in the event loop (no locks needed); images live as files in the service's private
work folder and are deleted with their session. Sessions expire ``session_ttl_s`` after their last
change, and at most ``max_sessions`` exist at once, so a forgotten plug-in cannot fill the disk.
"""
from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from .schemas import Overridden
from .settings import ServiceSettings

WAITING = ("pending", "open")
FINAL = ("applied", "cancelled", "failed")


@dataclass
class Session:
    id: str
    host: str
    name: str
    format: str
    style: str | None
    overrides: dict[str, Overridden]
    image: Path
    #: mode=auto: render with the default style if the companion goes away while this waits.
    auto: bool = True
    state: str = "pending"
    #: a render for this session is under way (so two waiting plug-in polls never render twice)
    busy: bool = False
    result: Path | None = None
    message: str | None = None
    width: int | None = None
    height: int | None = None
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)

    def public(self) -> dict:
        return {"id": self.id, "host": self.host, "name": self.name, "state": self.state,
                "style": self.style, "format": self.format, "overrides": dict(self.overrides),
                "width": self.width, "height": self.height, "message": self.message,
                "created": self.created, "updated": self.updated}

    def remove_files(self) -> None:
        self.image.unlink(missing_ok=True)
        if self.result is not None:
            self.result.unlink(missing_ok=True)


class SessionStore:
    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self._sessions: dict[str, Session] = {}
        self._changed = asyncio.Condition()
        self._companion_seen = 0.0

    # -- companion presence ---------------------------------------------------------------------
    def companion_seen(self) -> None:
        self._companion_seen = time.monotonic()

    @property
    def companion_attached(self) -> bool:
        return time.monotonic() - self._companion_seen < self.settings.companion_timeout_s

    # -- bookkeeping ----------------------------------------------------------------------------
    def expire(self) -> None:
        cutoff = time.time() - self.settings.session_ttl_s
        for sid in [s.id for s in self._sessions.values() if s.updated < cutoff]:
            self._sessions.pop(sid).remove_files()

    def full(self) -> bool:
        self.expire()
        return len(self._sessions) >= self.settings.max_sessions

    def add(self, session: Session) -> Session:
        self._sessions[session.id] = session
        return session

    @staticmethod
    def new_id() -> str:
        return secrets.token_urlsafe(12)

    def get(self, sid: str) -> Session | None:
        self.expire()
        return self._sessions.get(sid)

    def all(self, states: tuple[str, ...] | None = None) -> list[Session]:
        self.expire()
        items = sorted(self._sessions.values(), key=lambda s: s.created)
        return [s for s in items if states is None or s.state in states]

    async def update(self, session: Session, **changes: object) -> None:
        """Change a session and wake every long-poll waiting on the store."""
        for key, value in changes.items():
            setattr(session, key, value)
        session.updated = time.time()
        async with self._changed:
            self._changed.notify_all()

    async def notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def remove(self, sid: str) -> Session | None:
        session = self._sessions.pop(sid, None)
        if session is not None:
            session.remove_files()
        return session

    def clear(self) -> None:
        for sid in list(self._sessions):
            self.remove(sid)

    # -- long-polls -----------------------------------------------------------------------------
    async def wait_until(self, predicate, timeout: float) -> bool:  # noqa: ANN001
        """Wait up to ``timeout`` seconds for ``predicate()`` to hold; returns whether it does."""
        deadline = time.monotonic() + max(0.0, timeout)
        async with self._changed:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                try:
                    await asyncio.wait_for(self._changed.wait(), timeout=min(left, 1.0))
                except asyncio.TimeoutError:
                    pass
        return True
