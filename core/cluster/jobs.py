"""A photo batch on a Ray cluster: one task per file, a bounded submission window, Ray's retries.

The driver (the machine running ``silverprint render --cluster``) plans the outputs exactly as the
local command does, then hands each (input, output) pair to a worker (`tasks.render_one`), at most
a few per free slot at a time so that a batch of 100 000 files does not flood the scheduler.

Faults: a task whose worker process or machine dies is run again by Ray on another worker
(``max_retries``); its output is written atomically, so the dead attempt leaves no partial file
and the retry writes the one output. A bad input is an ordinary answer (``failed``, with the
reason), not an exception: it is never retried and never stops the rest. A task that kills its
worker every time (a decoder crash) fails after the retries with the reason Ray gives.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import SilverprintError
from ..fileio import sweep_stale_temps
from .connect import connect, placement, slots
from .manifest import Manifest
from .tasks import FileResult, render_one

#: How often Ray runs a task again after its worker died (a bad input is never retried).
RETRIES = 3
#: Tasks in flight per slot the cluster has (keeps every worker busy, bounds the driver's memory).
WINDOW_PER_SLOT = 2


def render_files(address: str, files: Sequence[Path], targets: Sequence[Path], style: Any,
                 overrides: Sequence[str], fmt: str, device: str = "auto"
                 ) -> Iterator[tuple[Path, Path, str | SilverprintError]]:
    """Render ``files`` to ``targets`` (planned by `silverprint.outputs`) on the cluster.

    Yields, in completion order, (source, target, a progress line | the error of a failed file).
    """
    from ..styles import style_to_json

    ray = connect(address)
    folders = sorted({Path(t).resolve().parent for t in targets})
    try:
        options, device_name = placement(ray, device)
        style_ref = ray.put(style_to_json(style))  # the style travels with the job, stored once
        task = ray.remote(render_one).options(max_retries=RETRIES, retry_exceptions=False, **options)
        window = WINDOW_PER_SLOT * slots(ray, options)
        manifest = Manifest(folders)
        todo = iter(zip(files, targets))
        pending: dict[Any, tuple[Path, Path]] = {}
        counts = {"done": 0, "skipped": 0, "failed": 0}
        overrides = list(overrides)
        try:
            while True:
                for src, dst in todo:
                    src_abs, dst_abs = Path(src).resolve(), Path(dst).resolve()
                    ref = task.remote(str(src_abs), str(dst_abs), style_ref, overrides, fmt,
                                      device_name, manifest.get(dst_abs))
                    pending[ref] = (Path(src), Path(dst))
                    if len(pending) >= window:
                        break
                if not pending:
                    break
                ready, _ = ray.wait(list(pending), num_returns=1)
                for ref in ready:
                    src, dst = pending.pop(ref)
                    result = _result(ray, ref, src, dst)
                    counts[result.status] += 1
                    if result.status != "failed":
                        manifest.put(Path(result.target), result.key, result.output_digest)
                        manifest.save(every=2.0)
                    yield src, dst, _line(result, src, dst, counts, len(pending))
        except BaseException:
            for ref in pending:  # a graceful cancel: the workers' atomic writes clean up
                ray.cancel(ref, force=False)
            raise
        finally:
            manifest.save()
    finally:
        for folder in folders:  # temporary files of workers that were killed mid-write
            sweep_stale_temps(folder)
        ray.shutdown()


def _result(ray: Any, ref: Any, src: Path, dst: Path) -> FileResult:
    """The task's answer, or a failure naming why Ray gave up on it (worker lost every time)."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayError as exc:
        text = str(exc).strip().splitlines()
        reason = text[0] if text else exc.__class__.__name__
        return FileResult(str(src), str(dst), "failed",
                          f"{src}: the cluster gave up after {RETRIES} retries ({exc.__class__.__name__}: "
                          f"{reason[:200]})")


def _line(result: FileResult, src: Path, dst: Path, counts: dict[str, int], running: int
          ) -> str | SilverprintError:
    if result.status == "failed":
        return SilverprintError(result.reason)
    state = (f"[done {counts['done'] + counts['skipped']} | running {running} | "
             f"failed {counts['failed']}]")
    if result.status == "skipped":
        return f"{src.name}: unchanged since the last run, skipped {state}"
    return f"{src.name} -> {dst} ({result.seconds:.1f}s on {result.host} pid {result.pid}) {state}"
