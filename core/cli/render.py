"""`silverprint render`: files and folders to black-and-white files.

Bad inputs never stop a batch: each is reported on one line naming the file and the reason, the
other files are still rendered, and the exit code is 2. Where the outputs go is planned for the whole
batch before anything is written (`silverprint.outputs`): an output that would overwrite an input,
an original or another output refuses the run. Loading the next photo and writing the
previous result run in background threads (Pillow releases the GIL) while torch renders.
"""
from __future__ import annotations

import argparse
import errno
import os
import stat
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from ..errors import BadInputError, SilverprintError

SIDECARS = {".xmp", ".pp3", ".dop", ".thm", ".db", ".ini", ".json", ".txt", ".md", ".dtstyle"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("render", help="render photos or folders to black and white",
                       description="Render photos (files or folders) to black and white.")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files or folders")
    out = p.add_mutually_exclusive_group(required=True)
    out.add_argument("-o", "--output", metavar="FILE", help="output file (one input only)")
    out.add_argument("--out-dir", metavar="DIR", help="output folder (created if missing)")
    p.add_argument("--style", default=None, help="style name or style file (default: the default style)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="REGION.PARAM=VALUE",
                   help="override a slider, e.g. --set sky.exposure=-1 --set global.grain=30")
    p.add_argument("--format", choices=("png16", "tiff16", "jpeg"), default=None,
                   help="output format (default: from -o's suffix, else png16)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("-r", "--recursive", action="store_true", help="descend into sub-folders")
    p.add_argument("--suffix", default="", metavar="TEXT",
                   help="append TEXT to every output's name (e.g. _bw), with --out-dir")
    p.add_argument("--keep-folders", action="store_true",
                   help="with --out-dir, recreate the inputs' sub-folders instead of one flat folder")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    add_cluster_option(p)
    p.set_defaults(func=run)


def add_cluster_option(p: argparse.ArgumentParser) -> None:
    """``--cluster ADDRESS`` (default: $SILVERPRINT_CLUSTER): run on a Ray cluster (docs/cluster.md)."""
    p.add_argument("--cluster", metavar="ADDRESS", default=os.environ.get("SILVERPRINT_CLUSTER") or None,
                   help="spread the work over a Ray cluster's workers (the address `ray start --head` "
                        "printed, auto, or ray://HOST:PORT; default: $SILVERPRINT_CLUSTER); needs "
                        "silverprint[cluster]")


def _not_a_photo(entry: Path) -> str | None:
    """Why a folder entry cannot be a photo (a link loop, a dangling link, a fifo...), or None."""
    try:
        st = entry.stat()
    except RuntimeError:
        return "a symbolic link loop"
    except OSError as exc:
        if entry.is_symlink():
            return "a symbolic link loop" if exc.errno == errno.ELOOP else "a dangling symbolic link"
        return f"cannot be read ({exc.strerror or exc})"
    if stat.S_ISDIR(st.st_mode):
        return None
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file (a fifo, socket or device)"
    return None


def _walk(folder: Path, recursive: bool) -> list[Path]:
    """The entries of a folder (or its tree), sorted; sub-folders reached through links are not
    followed, so a link cycle cannot trap the walk."""
    if not recursive:
        return sorted(folder.iterdir())
    found: list[Path] = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(root, n) for n in names)
        found.extend(Path(root, d) for d in dirs if Path(root, d).is_symlink())
    return sorted(found)


def collect_inputs(inputs: list[str], recursive: bool) -> tuple[list[Path], list[str]]:
    """Image files to render, and a note for every folder entry that is skipped, with the reason."""
    from ..imageio import is_supported_input

    files: list[Path] = []
    notes: list[str] = []
    for item in inputs:
        path = Path(item)
        if not path.is_dir():
            files.append(path)  # explicit files are tried, and fail loudly if not images
            continue
        try:
            entries = _walk(path, recursive)
        except OSError as exc:
            notes.append(f"{path}: skipped, cannot list the folder ({exc.strerror or exc})")
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            reason = _not_a_photo(entry)
            suffix = entry.suffix.lower()
            if reason is None and entry.is_dir():
                if not recursive:
                    notes.append(f"{entry}: skipped, a sub-folder (use -r to include sub-folders)")
                elif entry.is_symlink():
                    notes.append(f"{entry}: skipped, a link to a folder (not followed)")
            elif reason is not None:
                if is_supported_input(entry) or suffix not in SIDECARS:
                    notes.append(f"{entry}: skipped, {reason}")
            elif is_supported_input(entry):
                files.append(entry)
            elif suffix not in SIDECARS:
                notes.append(f"{entry}: skipped, not a supported image type ({suffix or 'no suffix'})")
    return files, notes


def run(args: argparse.Namespace) -> int:
    from ..device import resolve_device
    from ..imageio import FORMAT_SUFFIX
    from ..outputs import check_single, folders_of, plan_outputs, prepare_out_dir
    from ..pipeline import check_overrides, resolve_style
    from ..progress import Progress

    # a missing GPU is one clear error, not one per file; on a cluster the workers' GPUs count
    device = args.device if args.cluster else str(resolve_device(args.device))
    style = resolve_style(args.style)
    check_overrides(style, args.overrides)  # every --set, before touching any file
    files, notes = collect_inputs(args.inputs, args.recursive)
    if args.output and len(files) != 1:
        raise SilverprintError(f"-o takes exactly one input image ({len(files)} given); use --out-dir")
    if args.output and (args.suffix or args.keep_folders):
        raise SilverprintError("--suffix and --keep-folders name the files in --out-dir; with -o, "
                               "the output's name is yours")
    _check_suffix(args.suffix)
    if args.output:
        fmt = args.format or _format_from_name(args.output)
        targets = [Path(args.output)]
        check_single(files[0], targets[0])
    else:
        fmt = args.format or "png16"
        out_dir = Path(args.out_dir)
        plan = plan_outputs(files, out_dir, FORMAT_SUFFIX[fmt], add=args.suffix,
                            keep_folders=args.keep_folders)  # refuses before anything is written
        for folder in dict.fromkeys([out_dir, *folders_of(plan)]):  # each once
            prepare_out_dir(folder)
        targets = [p.target for p in plan]
    assert fmt in FORMAT_SUFFIX

    failures = 0
    with Progress(len(files), "render", enabled=not args.quiet) as bar:
        for note in notes:
            bar.message(note)
        if args.cluster:  # Ray is imported only here
            from ..cluster.jobs import render_files

            results = render_files(args.cluster, files, targets, style, args.overrides, fmt, device)
        else:
            results = _render_all(files, targets, style, args.overrides, fmt, device)
        for src, dst, outcome in results:
            if isinstance(outcome, SilverprintError):
                failures += 1
                bar.message(f"silverprint: error: {outcome}")
                bar.step(f"{src.name}: failed")
            elif isinstance(outcome, str):  # the cluster's line: where it ran, done / running / failed
                bar.step(outcome)
            else:
                bar.step(f"{src.name} -> {dst} ({outcome:.1f}s)")
    if not args.quiet:
        ok = len(files) - failures
        print(f"rendered {ok} of {len(files)} file(s) with style '{style.name}'"
              + (f" into {args.out_dir}" if args.out_dir else f" to {args.output}"))
    return 2 if failures else 0


def _check_suffix(suffix: str) -> None:
    """``--suffix`` is part of a file name: no folders, no control characters."""
    if any(c in "/\\" for c in suffix) or any(ord(c) < 32 for c in suffix) or len(suffix) > 64:
        raise SilverprintError(f"--suffix {suffix!r}: use a short text without slashes or "
                               "control characters, e.g. _bw")


def _format_from_name(name: str) -> str:
    from ..imageio import format_for_path

    return format_for_path(name)


def _render_all(files, targets, style, overrides, fmt, device):
    """Yield (src, dst, seconds | error) per file, overlapping I/O with rendering."""
    from ..imageio import load_image, save_image
    from ..pipeline import render_photo

    with ThreadPoolExecutor(max_workers=2) as pool:
        pending_load: Future | None = pool.submit(load_image, files[0]) if files else None
        pending_save: tuple | None = None
        for i, (src, dst) in enumerate(zip(files, targets)):
            start = time.monotonic()
            future, pending_load = pending_load, None
            if i + 1 < len(files):
                pending_load = pool.submit(load_image, files[i + 1])
            try:
                photo = future.result()
                image = render_photo(photo, style, overrides, device=device)
            except SilverprintError as exc:
                yield src, dst, exc
                continue
            if pending_save is not None:
                yield _finish_save(*pending_save)
            pending_save = (src, dst, start, pool.submit(save_image, dst, image, fmt, exif=photo.exif, source=src))
            del image, photo
        if pending_save is not None:
            yield _finish_save(*pending_save)


def _finish_save(src: Path, dst: Path, start: float, future: Future):
    try:
        future.result()
    except SilverprintError as exc:
        return src, dst, exc
    except OSError as exc:
        return src, dst, BadInputError(dst, f"cannot write: {exc.strerror or exc}")
    return src, dst, time.monotonic() - start
