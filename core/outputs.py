"""Where each rendering goes: one planner maps every input to its output before anything is written.

A photographer's originals are the one thing Silverprint must never destroy, and a per-file check
("is this output my own source?") misses the cases that bite: ``photo.jpg`` rendered to
``photo.png`` when ``photo.png`` is another original, a folder rendered into itself, two inputs
named ``img`` from two folders landing on one ``img.png``. So every front end that writes files
(the CLI's ``render``, `silverprint.pipeline.render_file`) first plans the whole batch here, and
the plan is refused as a whole, before any file is written, when any output

- is one of the inputs (by path or by identity: a hard link or a symlink counts),
- already exists and was not written by Silverprint (an original, or anybody else's file), or
- would be written by two inputs.

An existing file that Silverprint wrote earlier is replaced: re-rendering into the same folder with
another style is the normal workflow. Silverprint's outputs are recognised by the ``Software``
mark the writers put in every file (`is_silverprint_output`): an image's Software tag, a video's
comment.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from .errors import BadInputError

#: The text of the mark `silverprint.imagewrite` puts in every output (PNG tEXt ``Software``,
#: TIFF tag 305, a JPEG comment); a file whose mark starts with it is Silverprint's to replace.
SOFTWARE_MARK = "Silverprint"


def software_mark() -> str:
    """The text the writers put in each output: ``Silverprint <version>``."""
    from . import __version__

    return f"{SOFTWARE_MARK} {__version__}"


class OutputConflictError(BadInputError):
    """A planned output would overwrite an input, an original or another output: nothing written.

    A BadInputError (exit code 2) whose path is the first conflicting output."""


@dataclass(frozen=True)
class Planned:
    """One input and the file its rendering goes to."""

    source: Path
    target: Path


def _identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of an existing file, following links; None if it does not exist."""
    try:
        st = path.stat()
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def _key(path: Path) -> str:
    """A comparable spelling of a path that may not exist yet (never raises, even on a link loop)."""
    try:
        return os.path.normcase(os.path.realpath(path))
    except (OSError, ValueError, RuntimeError):
        return os.path.normcase(os.path.abspath(path))


def is_silverprint_output(path: Path) -> bool:
    """True when ``path`` carries the mark Silverprint's writer puts in its outputs.

    Reads only the header (Pillow opens lazily). Outputs written before the mark existed are
    recognised by the grey ICC profile Silverprint builds, whose name is its own.
    """
    from PIL import Image

    from .icc import GREY_PROFILE_NAME

    try:
        with Image.open(path) as im:
            marks = [im.info.get("Software"), im.info.get("comment")]
            tags = getattr(im, "tag_v2", None)
            if tags is not None:
                marks.append(tags.get(305))
            profile = im.info.get("icc_profile") or b""
    except Exception:  # not an image Pillow can open: perhaps a video
        marks, profile = [_video_comment(path)], b""
    for mark in marks:
        if isinstance(mark, bytes):
            mark = mark.decode("latin-1", "replace")
        if isinstance(mark, str) and mark.startswith(SOFTWARE_MARK):
            return True
    return GREY_PROFILE_NAME.encode("ascii") in profile


def _video_comment(path: Path) -> str | None:
    """The container's ``comment`` tag (where the video writer puts the mark), or None."""
    try:
        import av

        with av.open(str(path), "r") as container:
            return container.metadata.get("comment")
    except Exception:  # not a video either
        return None


def output_name(source: Path, out_dir: Path, suffix: str, *, add: str = "",
                base: Path | None = None) -> Path:
    """``out_dir/<stem><add><suffix>``; with ``base``, under the source's sub-folder relative to it."""
    folder = out_dir
    if base is not None:
        folder = out_dir / Path(os.path.relpath(source.parent, base))
    return folder / f"{source.stem}{add}{suffix}"


def common_base(sources: Sequence[Path]) -> Path:
    """The deepest folder holding every source: the root of a sub-folder-keeping plan."""
    parents = [os.path.abspath(s.parent) for s in sources]
    return Path(os.path.commonpath(parents)) if parents else Path(".")


def plan_outputs(sources: Sequence[Path], out_dir: Path, suffix: str, *, add: str = "",
                 keep_folders: bool = False) -> list[Planned]:
    """Plan a folder batch: each source to ``out_dir`` (see `output_name`), then `check_plan`.

    ``add`` is the user's ``--suffix`` (``_bw``; added anyway to an output that would be its own
    source, as ``photo.png`` into its own folder); ``keep_folders`` mirrors each source's folder
    relative to the sources' common folder, so equal names from different folders stay apart.
    """
    base = common_base(sources) if keep_folders else None
    plan = []
    for source in sources:
        target = output_name(source, out_dir, suffix, add=add, base=base)
        if _key(target) == _key(source):  # photo.png into its own folder: photo_bw.png
            target = output_name(source, out_dir, suffix, add=add + "_bw", base=base)
        plan.append(Planned(source, target))
    check_plan(plan, hint=_HINT_BATCH)
    return plan


_HINT_BATCH = "choose another --out-dir, add --suffix _bw, or keep the sub-folders with --keep-folders"
_HINT_SINGLE = "choose another output name"


def check_plan(plan: Sequence[Planned], *, hint: str = _HINT_SINGLE,
               is_ours: Callable[[Path], bool] = is_silverprint_output) -> None:
    """Refuse the whole plan (`OutputConflictError`, one line) if any output is an input, an
    existing file Silverprint did not write, or the output of two inputs."""
    input_keys: dict[str, Path] = {}
    input_ids: dict[tuple[int, int], Path] = {}
    for item in plan:
        input_keys[_key(item.source)] = item.source
        ident = _identity(item.source)
        if ident is not None:
            input_ids[ident] = item.source
    conflicts: list[tuple[Path, str]] = []
    claimed: dict[str, Path] = {}
    for item in plan:
        key = _key(item.target)
        ident = _identity(item.target)
        other = input_keys.get(key) or (input_ids.get(ident) if ident else None)
        if other is not None:
            what = "its own original" if other == item.source else f"the input {other}"
            conflicts.append((item.target, f"the output of {item.source} would overwrite {what}"))
        elif key in claimed:
            conflicts.append((item.target, f"both {claimed[key]} and {item.source} would be "
                                           "written there"))
        elif ident is not None and not is_ours(item.target):
            conflicts.append((item.target, f"the output of {item.source} would overwrite an "
                                           "existing file that Silverprint did not write"))
        claimed.setdefault(key, item.source)
    if conflicts:
        target, reason = conflicts[0]
        more = f" (and {len(conflicts) - 1} more)" if len(conflicts) > 1 else ""
        raise OutputConflictError(target, f"{reason}{more}; nothing was written: {hint}")


def check_single(source: Path, target: Path) -> None:
    """`check_plan` for one file (``-o``, `pipeline.render_file`)."""
    check_plan([Planned(Path(source), Path(target))])


def prepare_out_dir(out_dir: Path) -> None:
    """Create the output folder (a clear one-line error when that is impossible) and remove the
    temporary files that a killed earlier run left in it (`fileio.sweep_stale_temps`)."""
    from .fileio import sweep_stale_temps

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInputError(out_dir, f"cannot create the output folder "
                                     f"({exc.strerror or exc})") from None
    if not out_dir.is_dir():
        raise BadInputError(out_dir, "the output folder is not a folder")
    sweep_stale_temps(out_dir)


def folders_of(plan: Iterable[Planned]) -> list[Path]:
    """The distinct folders a plan writes into, parents first (to create before writing)."""
    return sorted({p.target.parent for p in plan}, key=lambda p: len(p.parts))
