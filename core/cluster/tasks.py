"""What one worker does for one photo: plain functions, no Ray, so Ray ships them by reference.

The worker reads the input's bytes once: their digest is part of the content key (`manifest`), and
the photo is decoded from those same bytes, so what is recorded is exactly what was rendered. The
render and the save are the desktop's own (`silverprint.pipeline`, `silverprint.imageio`): the
output is written atomically, so a worker killed mid-file leaves no partial output, and the retry
that Ray runs writes the whole file once.
"""
from __future__ import annotations

import hashlib
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import BadInputError, SilverprintError


@dataclass
class FileResult:
    """A worker's answer for one file: done, skipped (unchanged) or failed (with the reason)."""

    source: str
    target: str
    status: str  # "done" | "skipped" | "failed"
    reason: str = ""
    key: str = ""
    output_digest: str = ""
    seconds: float = 0.0
    host: str = ""
    pid: int = 0


def job_key(input_digest: str, style_json: str, overrides: list[str], fmt: str) -> str:
    """The content key of one output: what it was made from, and by which Silverprint."""
    from .. import __version__
    from .manifest import content_key

    style_digest = hashlib.sha256(style_json.encode("utf-8")).hexdigest()
    return content_key("photo", __version__, input_digest, style_digest, list(overrides), fmt)


def render_one(source: str, target: str, style_json: str, overrides: list[str], fmt: str,
               device: str, recorded: dict | None) -> FileResult:
    """Render ``source`` to ``target`` unless ``recorded`` shows the same work is already there."""
    start = time.monotonic()
    where = {"host": socket.gethostname(), "pid": os.getpid()}
    try:
        data = Path(source).read_bytes()
    except OSError as exc:
        return FileResult(source, target, "failed", f"{source}: cannot be read ({exc.strerror or exc})",
                          **where)
    key = job_key(hashlib.sha256(data).hexdigest(), style_json, overrides, fmt)
    if recorded and recorded.get("key") == key and _digest_or_none(target) == recorded.get("output"):
        return FileResult(source, target, "skipped", key=key, output_digest=recorded["output"], **where)
    try:
        from ..imageio import load_image_bytes, save_image
        from ..pipeline import render_photo
        from ..styles import style_from_bytes

        style = style_from_bytes(style_json, "the job's style")
        photo = load_image_bytes(data, source)
        del data
        image = render_photo(photo, style, overrides, device=device)
        try:
            save_image(target, image, fmt, exif=photo.exif, source=source)
        except OSError as exc:
            raise BadInputError(target, f"cannot write: {exc.strerror or exc}") from None
    except SilverprintError as exc:
        return FileResult(source, target, "failed", str(exc), key=key, **where)
    from .manifest import file_digest

    return FileResult(source, target, "done", key=key, output_digest=file_digest(target),
                      seconds=time.monotonic() - start, **where)


def _digest_or_none(path: str) -> str | None:
    from .manifest import file_digest

    try:
        return file_digest(path)
    except OSError:
        return None
