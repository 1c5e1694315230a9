"""Which running service owns what: advisory file locks the operating system drops with the process.

A pid in a file cannot say that its owner is alive (pids are reused, and a service killed with
SIGKILL runs no clean-up), but a lock held on an open file is released by the kernel the moment
its process ends, however it ends. So:

- the live service holds ``service.lock`` in the config folder: a second one sees it held and
  refuses to start instead of replacing the first's ``service.json``;
- each service's work folder (uploads, results) sits beside a ``.lock`` file it holds; at start-up
  every folder whose lock nobody holds is left over from a killed service and is removed.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]
    import msvcrt


class Held:
    """A lock held on an open file until `release` (or until the process ends)."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the lock
            self._fd = None


def _try_lock(fd: int) -> bool:
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError:
        return False
    return True


def hold(path: Path) -> Held | None:
    """Take the lock on ``path`` (created 0600 if missing), or None when a live process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0), 0o600)
    if _try_lock(fd):
        return Held(path, fd)
    os.close(fd)
    return None


class WorkDir:
    """A private folder (mode 0700) under ``root``, named ``PID-RANDOM``, locked while it is in use."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, lock_name = tempfile.mkstemp(prefix=f"{os.getpid()}-", suffix=".lock", dir=root)
        os.close(fd)
        lock = hold(Path(lock_name))
        if lock is None:  # a name mkstemp just made for us: nobody else can hold it
            raise RuntimeError(f"cannot lock {lock_name}")
        self.lock = lock
        self.path = Path(lock_name).with_suffix("")
        self.path.mkdir(mode=0o700)

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        self.lock.path.unlink(missing_ok=True)
        self.lock.release()


def sweep(root: Path) -> list[Path]:
    """Remove the work folders under ``root`` whose service is gone (their lock is free); returns them.

    Only this user's plain folders and lock files are touched (never through a link).
    """
    removed: list[Path] = []
    if not root.is_dir():
        return removed
    uid = os.getuid() if hasattr(os, "getuid") else None
    for entry in sorted(root.iterdir()):
        try:
            info = entry.lstat()
        except OSError:
            continue
        if uid is not None and info.st_uid != uid:
            continue
        if entry.suffix == ".lock" and entry.is_file() and not entry.is_symlink():
            lock = hold(entry)
            if lock is None:
                continue  # a live service's
            folder = entry.with_suffix("")
            if folder.is_dir() and not folder.is_symlink():
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
            entry.unlink(missing_ok=True)
            lock.release()
        elif entry.is_dir() and not entry.is_symlink() and not entry.with_suffix(".lock").exists():
            shutil.rmtree(entry, ignore_errors=True)  # its lock file is made first: a half-removed leftover
            removed.append(entry)
    return removed
