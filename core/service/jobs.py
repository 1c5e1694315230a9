"""Portfolio learning jobs: started over HTTP, run one at a time in a worker thread, polled for progress.

The learner (`silverprint.learn.learner.learn_portfolio`) reports progress through a callback
``progress(stage, i, n)``; the job turns it into one overall fraction (stages weighted by their
usual share of the time) that the route reads. Cancelling sets a flag that the next progress call
turns into `JobCancelled`, so the learner stops at a safe point (it writes its style atomically).
"""
from __future__ import annotations

import secrets
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import BadInputError, SilverprintError


class JobCancelled(SilverprintError):
    """Raised inside the learner's progress callback once the job has been cancelled."""


#: Where each learner stage sits in the overall progress bar (its usual share of the time).
STAGES: dict[str, tuple[float, float]] = {
    "prepare": (0.0, 0.25), "fit style": (0.25, 0.6), "fit pairs": (0.6, 0.85), "evaluate": (0.85, 1.0),
}


@dataclass
class Job:
    id: str
    portfolio: str
    name: str
    state: str = "queued"
    progress: float = 0.0
    stage: str = "waiting"
    message: str | None = None
    result: dict[str, Any] | None = None
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    cancel: threading.Event = field(default_factory=threading.Event)

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "kind": "learn", "state": self.state, "progress": self.progress,
                "stage": self.stage, "message": self.message, "result": self.result,
                "created": self.created, "updated": self.updated}

    def report(self, stage: str, i: float = 0, n: float = 0) -> None:
        """The progress callback handed to the learner: ``(stage, i, n)``, i of n done in that stage."""
        if self.cancel.is_set():
            raise JobCancelled("cancelled")
        start, end = STAGES.get(stage, (self.progress, self.progress))
        within = min(1.0, max(0.0, i / n)) if n else 0.0
        self.progress = min(1.0, max(self.progress, start + (end - start) * within))
        self.stage = f"{stage} {int(i)}/{int(n)}" if n else stage
        self.updated = time.time()


def _default_learner() -> Callable[..., Any]:
    """The learner's public entry point, ``learn_portfolio(portfolio, name, progress=...)``."""
    from ..learn.learner import learn_portfolio  # imported on first use: it loads torch

    return learn_portfolio


def _jsonable(value: Any) -> Any:
    """A learner's result (dataclass, dict, Path, numpy numbers) as plain JSON values."""
    import dataclasses

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    elif hasattr(value, "to_dict"):
        value = value.to_dict()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item") and callable(value.item):
        return value.item()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


class JobStore:
    def __init__(self, learner: Callable[..., Any] | None = None, keep: int = 50) -> None:
        self._learner = learner
        self._jobs: dict[str, Job] = {}
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="silverprint-learn")
        self._keep = keep

    def start(self, portfolio: str, name: str) -> Job:
        folder = Path(portfolio).expanduser()
        if not folder.is_dir():
            raise BadInputError(portfolio, "not a folder")
        job = Job(secrets.token_urlsafe(9), str(folder), name)
        self._jobs[job.id] = job
        self._trim()
        self._pool.submit(self._run, job)
        return job

    def _run(self, job: Job) -> None:
        if job.cancel.is_set():
            job.state, job.updated = "cancelled", time.time()
            return
        job.state, job.stage, job.updated = "running", "starting", time.time()
        try:
            learner = self._learner or _default_learner()
            result = learner(job.portfolio, job.name, progress=job.report)
        except JobCancelled:
            job.state, job.message = "cancelled", "cancelled"
        except SilverprintError as exc:
            job.state, job.message = "failed", str(exc)
        except Exception as exc:  # a learner bug: report it, keep the service up
            traceback.print_exc()
            job.state, job.message = "failed", f"internal error: {type(exc).__name__}: {exc}"
        else:
            job.state, job.progress, job.stage = "done", 1.0, "done"
            job.result = _jsonable(result)
        job.updated = time.time()

    def get(self, jid: str) -> Job | None:
        return self._jobs.get(jid)

    def all(self) -> list[Job]:
        return sorted(self._jobs.values(), key=lambda j: j.created)

    def cancel(self, job: Job) -> None:
        job.cancel.set()
        if job.state == "queued":
            job.state, job.message, job.updated = "cancelled", "cancelled", time.time()

    def _trim(self) -> None:
        finished = [j for j in self.all() if j.state in ("done", "failed", "cancelled")]
        for job in finished[:max(0, len(self._jobs) - self._keep)]:
            self._jobs.pop(job.id, None)

    def shutdown(self) -> None:
        for job in self._jobs.values():
            job.cancel.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
