"""Admission of renders by the pixels they will hold, so that memory is bounded by concurrency.

A render's memory grows with its pixels (about 20 bytes per pixel at its peak), not with its file
size, and a count of render slots alone let two 225 MP renders take 5.9 GB. `PixelBudget` admits a
job only while the pixels of the jobs running plus its own stay within ``pixels``, and at most
``slots`` jobs at once. A job bigger than the whole budget runs alone. The others wait in a queue:

- in arrival order, except that a job that fits may pass one that does not (a small render does not
  wait behind a huge one for budget it does not need), but only until the passed job has waited
  `OVERTAKE_S`; from then on nobody passes it, so it cannot be starved;
- at most ``max_queue`` waiting and for at most ``max_wait_s``; beyond either, `Busy` (503 with
  Retry-After) instead of piling up requests;
- at shutdown (`close`) every waiting job gets `Busy` at once.

It lives in the event loop: no locks, futures resolved by `_dispatch`.
"""
from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import AsyncIterator

#: How long a job that does not fit may be passed by smaller ones before they queue behind it.
OVERTAKE_S = 10.0


class Busy(Exception):
    """No room now: the answer is 503 with ``Retry-After: retry_after_s``."""

    def __init__(self, reason: str, retry_after_s: int) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s


@dataclass
class _Waiter:
    cost: int
    future: asyncio.Future
    since: float = field(default_factory=time.monotonic)


class PixelBudget:
    def __init__(self, pixels: int, slots: int, *, max_queue: int, max_wait_s: float) -> None:
        self.pixels = max(1, int(pixels))
        self.slots = max(1, int(slots))
        self.max_queue = max_queue
        self.max_wait_s = max_wait_s
        self.in_use = 0        # pixels of the running jobs
        self.running = 0
        self._waiters: list[_Waiter] = []
        self._closed = False

    @property
    def queued(self) -> int:
        return len(self._waiters)

    def cost(self, pixels: int | None) -> int:
        """What a job reserves: its pixels, the whole budget at most (unknown size: the whole)."""
        return self.pixels if pixels is None else min(max(1, int(pixels)), self.pixels)

    def _fits(self, cost: int) -> bool:
        return self.running < self.slots and self.in_use + cost <= self.pixels

    def _take(self, cost: int) -> None:
        self.in_use += cost
        self.running += 1

    def _release(self, cost: int) -> None:
        self.in_use -= cost
        self.running -= 1
        self._dispatch()

    def _dispatch(self) -> None:
        """Admit waiting jobs in order; one that does not fit may be passed until `OVERTAKE_S`."""
        now = time.monotonic()
        for waiter in list(self._waiters):
            if self.running >= self.slots:
                return
            if self._fits(waiter.cost):
                self._waiters.remove(waiter)
                self._take(waiter.cost)
                waiter.future.set_result(None)
            elif now - waiter.since >= OVERTAKE_S:
                return  # it has been passed long enough: the next free budget is its

    @asynccontextmanager
    async def admit(self, pixels: int | None) -> AsyncIterator[None]:
        """Hold room for a job of ``pixels`` (None: unknown) for the block; waits in the queue."""
        if self._closed:
            raise Busy("the service is shutting down; try again when it is back", 5)
        cost = self.cost(pixels)
        if not self._waiters and self._fits(cost):
            self._take(cost)
        else:
            if len(self._waiters) >= self.max_queue:
                raise Busy("busy: too many renders waiting; try again shortly", 5)
            waiter = _Waiter(cost, asyncio.get_running_loop().create_future())
            self._waiters.append(waiter)
            self._dispatch()
            try:
                async with asyncio.timeout(self.max_wait_s):
                    await waiter.future
            except BaseException as exc:
                if waiter.future.done() and not waiter.future.cancelled() and waiter.future.exception() is None:
                    self._release(cost)  # admitted just as the wait ended: give the room back
                elif waiter in self._waiters:
                    self._waiters.remove(waiter)
                    self._dispatch()  # it may have been blocking smaller jobs behind it
                if isinstance(exc, TimeoutError):
                    raise Busy(f"busy: no room to render within {self.max_wait_s:g} s "
                               f"({self.running} rendering, {self.queued} waiting); try again shortly",
                               max(5, int(self.max_wait_s / 4))) from None
                raise
        try:
            yield
        finally:
            self._release(cost)

    def close(self) -> None:
        """Shutdown: refuse new jobs and turn every waiting one away (503)."""
        self._closed = True
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.future.done():
                waiter.future.set_exception(Busy("the service is shutting down; try again when it is back", 5))
