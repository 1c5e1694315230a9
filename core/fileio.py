"""Atomic file replacement: the one way Silverprint writes a file a user or another program reads.

A writer fills a temporary file beside the destination (same folder, so same file system and the
rename is atomic), which is flushed to disk and then renamed over the destination. A crash, a full
disk or Ctrl-C therefore leaves either the old file or the new one, never half of one, and no
temporary file behind. The temporary name starts with a dot and ends in ``.tmp`` (or the caller's
suffix), which is what folder watchers and the pairing scan skip.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: Opening flags for the fsync before the rename (Windows' FlushFileBuffers needs write access).
_SYNC_FLAGS = os.O_RDONLY if os.name == "posix" else os.O_RDWR


def temp_name(dst: Path, suffix: str = ".tmp") -> Path:
    """A hidden, unique name beside ``dst``: ``.NAME.PID.RANDOM`` + ``suffix``."""
    return dst.with_name(f".{dst.name}.{os.getpid()}.{secrets.token_hex(4)}{suffix}")


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
