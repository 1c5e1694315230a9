"""`silverprint regions`: write the soft region masks of photos as 8-bit grey PNGs.

One PNG per region (`<stem>_<region>.png`: sky, person, skin, vegetation, other; white = fully
that region), at the photo's own size by default so they can be laid over it in an editor, or at
the analysis size with ``--size analysis``. Files are written atomically; a bad input is reported
on one line and the other inputs are still processed (exit code 2).
"""
from __future__ import annotations

import argparse
import io
import os
import secrets
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
    out_dir = Path(args.out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise SilverprintError(f"{out_dir}: --out-dir is a file, not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    failures = 0
    stems: set[str] = set()
    for item in args.inputs:
        try:
            stem = Path(item).stem
            if stem in stems:
                raise BadInputError(item, f"another input is also named '{stem}'; its masks would be "
                                          "overwritten (use separate --out-dir runs)")
            written, summary = write_regions(Path(item), out_dir, full_size=args.size == "full")
            stems.add(stem)
        except SilverprintError as exc:
            failures += 1
            print(f"silverprint: error: {exc}", file=sys.stderr, flush=True)
            continue
        if not args.quiet:
            print(f"{item}: {summary} -> {len(written)} masks in {out_dir}", flush=True)
    return 2 if failures else 0


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
    for name, mask in zip(SEMANTIC_REGIONS, result.masks):
        if full_size and mask.shape != (photo.height, photo.width):
            mask = cv2.resize(mask, (photo.width, photo.height), interpolation=cv2.INTER_LINEAR)
        codes = (np.clip(mask, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
        dst = out_dir / f"{src.stem}_{name}.png"
        if dst.resolve() == src.resolve():
            raise BadInputError(dst, "refusing to overwrite the input file")
        _write_png8(dst, codes)
        written.append(dst)
    cover = ", ".join(f"{n} {float(m.mean()) * 100:.0f}%" for n, m in zip(SEMANTIC_REGIONS, result.masks))
    faces = f"; {len(result.faces)} face(s)" if result.faces else ""
    return written, cover + faces


def _write_png8(dst: Path, codes) -> None:  # noqa: ANN001 - uint8 (h, w)
    """Encode first, then temp file + fsync + rename: a failure never leaves a partial file."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(codes, mode="L").save(buf, format="PNG", compress_level=6)
    tmp = dst.with_name(f".{dst.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(buf.getbuffer())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, dst)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BadInputError(dst, f"cannot write the mask ({exc.strerror or exc})") from None
