"""All of the companion's threads, in one place.

As in Anki's `aqt.taskman`: the UI thread never waits on the core. Torch work (analysis, preview and
full renders, learning steps) runs on one single-worker executor so that only one render uses the
CPU/GPU at a time and the core's objects are never touched from two threads at once; file and
network work runs on a small general pool. Results come back to the UI thread through a Qt signal.

`Op` is the one way widgets start background work (success / failure callbacks, errors go to
`errors.show_error` unless a failure callback is given). `LatestOnly` turns a stream of requests
(a slider being dragged) into renders of the newest request only: a request that is superseded
before it starts is never run, and results from an older document generation are dropped.
"""
from __future__ import annotations

import threading
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Generic, TypeVar

from .qt import QObject, QWidget, pyqtSignal

T = TypeVar("T")

RENDER = "render"
IO = "io"
LEARN = "learn"
EXPORT = "export"


class TaskManager(QObject):
    """Owns the executors; `run_on_main` is the only way back to the UI thread."""

    _closure = pyqtSignal(object)

    def __init__(self) -> None:
        super().__init__()
        self._lanes = {
            RENDER: ThreadPoolExecutor(1, thread_name_prefix="silverprint-render"),
            IO: ThreadPoolExecutor(3, thread_name_prefix="silverprint-io"),
            # learning takes minutes: its own lane, so previews never queue behind it
            LEARN: ThreadPoolExecutor(1, thread_name_prefix="silverprint-learn"),
            # full-resolution renders (export, bridge Apply) take seconds on big photos
            EXPORT: ThreadPoolExecutor(1, thread_name_prefix="silverprint-export"),
        }
        self._closure.connect(self._run_closure)
        self._closed = False

    def run_on_main(self, fn: Callable[[], None]) -> None:
        """Schedule ``fn`` on the UI thread (safe to call from any thread)."""
        if not self._closed:
            self._closure.emit(fn)

    def run_in_background(self, fn: Callable[[], T], on_done: Callable[[Future], None] | None = None,
                          *, lane: str = RENDER) -> Future:
        """Run ``fn`` on ``lane``; ``on_done(future)`` is then called on the UI thread."""
        future = self._lanes[lane].submit(fn)
        if on_done is not None:
            future.add_done_callback(lambda fut: self.run_on_main(lambda: on_done(fut)))
        return future

    def _run_closure(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception as exc:  # a bug in a callback must not kill the event loop silently
            traceback.print_exc()
            from .errors import show_error

            show_error(parent=None, exc=exc)

    def shutdown(self, wait: bool = True) -> None:
        self._closed = True
        for lane in self._lanes.values():
            lane.shutdown(wait=wait, cancel_futures=True)


_taskman: TaskManager | None = None


def taskman() -> TaskManager:
    """The application's task manager (created on first use, on the UI thread)."""
    global _taskman
    if _taskman is None:
        _taskman = TaskManager()
    return _taskman


class Op(Generic[T]):
    """A background call with callbacks, built by chaining (``Op(p, fn).success(cb).run()``)."""

    def __init__(self, parent: QWidget | None, fn: Callable[[], T]) -> None:
        self._parent = parent
        self._fn = fn
        self._success: Callable[[T], Any] | None = None
        self._failure: Callable[[Exception], Any] | None = None
        self._lane = RENDER

    def success(self, cb: Callable[[T], Any]) -> "Op[T]":
        self._success = cb
        return self

    def failure(self, cb: Callable[[Exception], Any]) -> "Op[T]":
        self._failure = cb
        return self

    def on_lane(self, lane: str) -> "Op[T]":
        self._lane = lane
        return self

    def run_in_background(self) -> Future:
        return taskman().run_in_background(self._fn, self._finish, lane=self._lane)

    def _finish(self, future: Future) -> None:
        try:
            result = future.result()
        except Exception as exc:  # noqa: BLE001 - every failure reaches the user or the callback
            if self._failure is not None:
                self._failure(exc)
            else:
                from .errors import show_error

                show_error(parent=self._parent, exc=exc)
            return
        if self._success is not None:
            self._success(result)


class LatestOnly(Generic[T]):
    """Coalesce requests so that at most one runs and one waits; the waiting one is the newest.

    ``request(fn)`` while a render runs replaces any request still waiting (that one is dropped, it
    never runs). ``invalidate()`` (a new photo) makes results of requests made before it stale; they
    are dropped instead of delivered.
    """

    def __init__(self, deliver: Callable[[T], None], fail: Callable[[Exception], None] | None = None,
                 *, lane: str = RENDER) -> None:
        self._deliver = deliver
        self._fail = fail
        self._lane = lane
        self._lock = threading.Lock()
        self._busy = False
        self._pending: tuple[int, Callable[[], T]] | None = None
        self._generation = 0
        self.dropped = 0  # requests superseded before they ran (for tests and the benchmark)

    def invalidate(self) -> None:
        self._generation += 1
        if self._pending is not None:
            self._pending = None
            self.dropped += 1

    @property
    def busy(self) -> bool:
        return self._busy or self._pending is not None

    def request(self, fn: Callable[[], T]) -> None:
        if self._busy:
            if self._pending is not None:
                self.dropped += 1
            self._pending = (self._generation, fn)
            return
        self._start(self._generation, fn)

    def _start(self, generation: int, fn: Callable[[], T]) -> None:
        self._busy = True
        taskman().run_in_background(fn, lambda fut: self._done(generation, fut), lane=self._lane)

    def _done(self, generation: int, future: Future) -> None:
        self._busy = False
        pending, self._pending = self._pending, None
        if pending is not None:
            self._start(*pending)  # start the newest request before handling this result
        if generation != self._generation:
            return  # stale: the document changed while this ran
        try:
            result = future.result()
        except Exception as exc:  # noqa: BLE001
            if self._fail is not None:
                self._fail(exc)
            else:
                from .errors import show_error

                show_error(parent=None, exc=exc)
            return
        self._deliver(result)
