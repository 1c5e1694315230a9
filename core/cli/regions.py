"""`silverprint regions`: write the soft region masks of photos as 8-bit grey PNGs.

One PNG per region (`<stem>_<region>.png`: sky, person, skin, vegetation, other; white = fully
that region), at the photo's own size by default so they can be laid over it in an editor, or at
the analysis size with ``--size analysis``. Files are written atomically, and the run is refused
before any is written when a mask would overwrite an input or a file Silverprint did not write
(`silverprint.outputs`); a bad input is reported on one line and the other inputs are still
processed (exit code 2).
"""
from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from ..errors import BadInputError, SilverprintError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("regions", help="write the region masks of photos (one grey PNG per region)",
                       description="Write the soft region masks (sky, person, skin, vegetation, "
                                   "other) of each photo as 8-bit grey PNGs named <stem>_<region>.png.")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files")
    p.add_argument("--out-dir", required=True, metavar="DIR", help="output folder (created if missing)")
    p.add_argument("--size", choices=("full", "analysis"), default="full",
                   help="mask size: the photo's (default) or the analysis size")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..outputs import Planned, check_plan, prepare_out_dir

    out_dir = Path(args.out_dir)
    prepare_out_dir(out_dir)
    sources = [Path(item) for item in args.inputs]
    check_plan([Planned(src, dst) for src in sources for dst in mask_paths(src, out_dir)],
               hint="choose another --out-dir, or run inputs with the same name separately")
    failures = 0
    for src in sources:
        try:
            written, summary = write_regions(src, out_dir, full_size=args.size == "full")
        except SilverprintError as exc:
            failures += 1
            print(f"silverprint: error: {exc}", file=sys.stderr, flush=True)
            continue
        if not args.quiet:
            print(f"{src}: {summary} -> {len(written)} masks in {out_dir}", flush=True)
    return 2 if failures else 0


def mask_paths(src: Path, out_dir: Path) -> list[Path]:
    """Where the masks of ``src`` go: ``<stem>_<region>.png``, one per region."""
    from ..params import SEMANTIC_REGIONS

    return [out_dir / f"{src.stem}_{name}.png" for name in SEMANTIC_REGIONS]


def write_regions(src: Path, out_dir: Path, *, full_size: bool = True) -> tuple[list[Path], str]:
    """Compute and write the masks of one photo; returns the files and a one-line summary."""
    import cv2
    import numpy as np

    from ..imageio import load_image
    from ..params import SEMANTIC_REGIONS
    from ..regions import compute_regions

    photo = load_image(src)
    result = compute_regions(photo.pixels)
    written = []
    for mask, dst in zip(result.masks, mask_paths(src, out_dir)):
        if full_size and mask.shape != (photo.height, photo.width):
            mask = cv2.resize(mask, (photo.width, photo.height), interpolation=cv2.INTER_LINEAR)
        codes = (np.clip(mask, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
        _write_png8(dst, codes)
        written.append(dst)
    cover = ", ".join(f"{n} {float(m.mean()) * 100:.0f}%" for n, m in zip(SEMANTIC_REGIONS, result.masks))
    faces = f"; {len(result.faces)} face(s)" if result.faces else ""
    return written, cover + faces


def _write_png8(dst: Path, codes) -> None:  # noqa: ANN001 - uint8 (h, w)
    """Encode first, then write atomically: a failure never leaves a partial file. The Software
    mark lets a later run into the same folder replace the masks (`silverprint.outputs`)."""
    from PIL import Image, PngImagePlugin

    from ..fileio import atomic_path
    from ..outputs import software_mark

    info = PngImagePlugin.PngInfo()
    info.add_text("Software", software_mark())
    buf = io.BytesIO()
    Image.fromarray(codes, mode="L").save(buf, format="PNG", compress_level=6, pnginfo=info)
    try:
        with atomic_path(dst) as tmp:
            tmp.write_bytes(buf.getbuffer())
    except OSError as exc:
        raise BadInputError(dst, f"cannot write the mask ({exc.strerror or exc})") from None
