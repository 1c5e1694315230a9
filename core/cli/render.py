"""`silverprint render`: files and folders to black-and-white files.

Bad inputs never stop a batch: each is reported on one line naming the file and the reason, the
other files are still rendered, and the exit code is 2. Loading the next photo and writing the
previous result run in background threads (Pillow releases the GIL) while torch renders.
"""
from __future__ import annotations

import argparse
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
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def collect_inputs(inputs: list[str], recursive: bool) -> tuple[list[Path], list[str]]:
    """Image files to render, and notes about folder entries that are clearly not photos."""
    from ..imageio import is_supported_input

    files: list[Path] = []
    notes: list[str] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            entries = sorted(path.rglob("*") if recursive else path.iterdir())
            for entry in entries:
                if not entry.is_file() or entry.name.startswith("."):
                    continue
                suffix = entry.suffix.lower()
                if is_supported_input(entry):
                    files.append(entry)
                elif suffix not in SIDECARS:
                    notes.append(f"{entry}: skipped, not a supported image type ({suffix or 'no suffix'})")
        else:
            files.append(path)  # explicit files are tried, and fail loudly if not images
    return files, notes


def run(args: argparse.Namespace) -> int:
    from ..imageio import FORMAT_SUFFIX
    from ..pipeline import check_overrides, default_output_name, resolve_style
    from ..progress import Progress

    from ..device import resolve_device

    device = str(resolve_device(args.device))  # a missing GPU is one clear error, not one per file
    style = resolve_style(args.style)
    check_overrides(style, args.overrides)  # every --set, before touching any file
    files, notes = collect_inputs(args.inputs, args.recursive)
    if args.output and len(files) != 1:
        raise SilverprintError(f"-o takes exactly one input image ({len(files)} given); use --out-dir")
    if args.output:
        fmt = args.format or _format_from_name(args.output)
        targets = [Path(args.output)]
    else:
        fmt = args.format or "png16"
        out_dir = Path(args.out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        targets = [default_output_name(f, out_dir, fmt) for f in files]
    assert fmt in FORMAT_SUFFIX

    failures = 0
    with Progress(len(files), "render", enabled=not args.quiet) as bar:
        for note in notes:
            bar.message(note)
        for src, dst, outcome in _render_all(files, targets, style, args.overrides, fmt, device):
            if isinstance(outcome, SilverprintError):
                failures += 1
                bar.message(f"silverprint: error: {outcome}")
                bar.step(f"{src.name}: failed")
            else:
                bar.step(f"{src.name} -> {dst} ({outcome:.1f}s)")
    if not args.quiet:
        ok = len(files) - failures
        print(f"rendered {ok} of {len(files)} file(s) with style '{style.name}'"
              + (f" into {args.out_dir}" if args.out_dir else f" to {args.output}"))
    return 2 if failures else 0


def _format_from_name(name: str) -> str:
    from ..imageio import format_for_path

    return format_for_path(name)


def _render_all(files, targets, style, overrides, fmt, device):
    """Yield (src, dst, seconds | error) per file, overlapping I/O with rendering."""
    from ..imageio import load_image, save_image
    from ..pipeline import render_photo

    def load(path: Path):
        if path.resolve() in resolved_targets:
            raise BadInputError(path, "the output would overwrite this original; choose another output name or folder")
        return load_image(path)

    resolved_targets = {t.resolve() for t in targets}
    with ThreadPoolExecutor(max_workers=2) as pool:
        pending_load: Future | None = pool.submit(load, files[0]) if files else None
        pending_save: tuple | None = None
        for i, (src, dst) in enumerate(zip(files, targets)):
            start = time.monotonic()
            future, pending_load = pending_load, None
            if i + 1 < len(files):
                pending_load = pool.submit(load, files[i + 1])
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
