"""Atomic file replacement: the one way Silverprint writes a file a user or another program reads.

A writer fills a temporary file beside the destination (same folder, so same file system and the
rename is atomic), which is flushed to disk and then renamed over the destination. A crash, a full
disk or Ctrl-C therefore leaves either the old file or the new one, never half of one, and no
temporary file behind. The temporary name starts with a dot and ends in ``.tmp`` (or the caller's
suffix), which is what folder watchers and the pairing scan skip.

A process killed outright (SIGKILL, power loss) cannot clean up, so the name carries the writer's
PID: `sweep_stale_temps` removes, at the next run into the same folder, the temporary files whose
writer is gone. SIGTERM is turned into Ctrl-C by the CLI (`sigterm_as_interrupt`), which also drops the
temporary files that worker threads hold at that moment.
"""
from __future__ import annotations

import os
import re
import secrets
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: Opening flags for the fsync before the rename (Windows' FlushFileBuffers needs write access).
_SYNC_FLAGS = os.O_RDONLY if os.name == "posix" else os.O_RDWR


#: ``.NAME.PID.RANDOM`` + a suffix of ``.tmp`` or ``.part`` (``.tmp.npz``, ``.part.mp4``).
_TEMP_RE = re.compile(r"^\..+\.(?P<pid>\d+)\.[0-9a-f]{8}\.(tmp|part)(\.[A-Za-z0-9]{1,8})?$")

_live: set[Path] = set()
_live_lock = threading.Lock()


def temp_name(dst: Path, suffix: str = ".tmp") -> Path:
    """A hidden, unique name beside ``dst``: ``.NAME.PID.RANDOM`` + ``suffix``."""
    return dst.with_name(f".{dst.name}.{os.getpid()}.{secrets.token_hex(4)}{suffix}")


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists. Unsure (a permission error) counts as alive: callers
    only remove or ignore what a dead process left."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: alive, somebody else's
        return True
    return True


def sweep_stale_temps(folder: Path) -> list[Path]:
    """Remove the temporary files in ``folder`` that a writer which no longer runs left behind.

    Only names of our own pattern whose PID is not a live process are touched: a live writer (this
    or another Silverprint) keeps its file, and a user's file never matches. Returns what was removed.
    """
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP_RE.match(entry.name)
        if not match or not entry.is_file(follow_symlinks=False):
            continue
        if pid_alive(int(match["pid"])):
            continue
        try:
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            pass
    return removed


def remove_live_temps() -> None:
    """Delete every temporary file this process is writing right now (on termination)."""
    with _live_lock:
        live = list(_live)
        _live.clear()
    for path in live:
        try:
            path.unlink()
        except OSError:
            pass


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM (``kill PID``) unwinds like Ctrl-C instead of killing the process
    on the spot, which left half-written temporary files behind: the main thread gets
    KeyboardInterrupt (so ``finally`` blocks and `atomic_path` clean up, and a watcher stops
    gracefully), and the temporary files of worker threads are removed at once. The previous
    handler comes back afterwards; outside the main thread this does nothing."""
    def _raise(signum: int, frame: object) -> None:
        remove_live_temps()
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def atomic_path(dst: str | os.PathLike, *, mode: int | None = None,
                suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a fresh temporary path beside ``dst``; on a clean exit fsync it and rename it to ``dst``.

    The temporary file is created empty (exclusively, so it is ours) with ``mode`` when given,
    else with a new file's usual permissions; the body may write it by path or open it again.
    ``mode`` is applied again before the rename (the umask may have narrowed it), so a secret
    such as the service token is never readable by others, not even for a moment. ``suffix``
    keeps a file type for writers that infer the format from the name (``.part.mp4`` for video).
    On any exception, KeyboardInterrupt included, the temporary file is removed and ``dst`` is
    left as it was. OSError passes through unchanged: callers turn it into their own one-line
    error.
    """
    dst = Path(dst)
    tmp = temp_name(dst, suffix)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                 0o666 if mode is None else mode)
    os.close(fd)
    with _live_lock:
        _live.add(tmp)
    try:
        yield tmp
        fd = os.open(tmp, _SYNC_FLAGS)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, dst)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        with _live_lock:
            _live.discard(tmp)
