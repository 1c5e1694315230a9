"""Image I/O speed at photo sizes, as ratios against plain library calls measured in the same run.

    .venv/bin/python bench/io_speed.py [--mp 24] [--repeat 3]

Builds a JPEG of the requested size from a Kodak photo (upscaled), then times, best of --repeat:
  load_image (JPEG -> oriented sRGB uint8 with every safety check) vs Pillow decode + numpy array;
  load_preview(1024) vs load_image; Photo.rgb (uint8 -> float32);
  save_image jpeg / png16 / tiff16 of the grey rendering vs Pillow 'L' JPEG, OpenCV 16-bit PNG and
  tifffile 16-bit deflate TIFF writing the same codes (no ICC, no EXIF, not atomic).
Prints seconds, the ratio to the baseline and output sizes. The machine is shared: compare only
numbers from one run.
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
KODAK = Path("/work/shared/data/photos/kodak/kodim05.png")


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mp", type=float, default=24.0, help="megapixels of the test photo")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    import cv2
    import tifffile
    from PIL import Image

    from silverprint import imageio

    src = KODAK if KODAK.is_file() else ROOT / "tests" / "data" / "kodim05.png"
    base = np.asarray(Image.open(src).convert("RGB"))
    w = int(round((args.mp * 1e6 * 1.5) ** 0.5))
    h = int(round(w / 1.5))
    big = cv2.resize(base, (w, h), interpolation=cv2.INTER_CUBIC)
    rows: list[tuple[str, float, float | None, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        jpg = d / "in.jpg"
        Image.fromarray(big).save(jpg, quality=92)
        del big

        t_pil = best(lambda: np.asarray(Image.open(jpg).convert("RGB")), args.repeat)
        t_load = best(lambda: imageio.load_image(jpg), args.repeat)
        rows.append(("load_image JPEG", t_load, t_pil, "vs Pillow decode"))
        t_prev = best(lambda: imageio.load_preview(jpg, 1024), args.repeat)
        rows.append(("load_preview 1024", t_prev, t_load, "vs load_image"))
        photo = imageio.load_image(jpg)
        t_rgb = best(lambda: photo.rgb, args.repeat)
        rows.append(("Photo.rgb float32", t_rgb, None, ""))
        grey = photo.rgb.mean(axis=2, dtype=np.float32)
        codes8 = np.rint(grey * 255).astype(np.uint8)
        codes16 = np.rint(grey * 65535).astype(np.uint16)

        def pil_jpeg():
            Image.fromarray(codes8, "L").save(d / "b.jpg", quality=95)

        def cv_png():
            cv2.imwrite(str(d / "b.png"), codes16)

        def tf_tiff():
            tifffile.imwrite(d / "b.tif", codes16, compression="zlib", predictor=True)

        for fmt, baseline, what in (("jpeg", pil_jpeg, "Pillow L JPEG q95"),
                                    ("png16", cv_png, "OpenCV 16-bit PNG"),
                                    ("tiff16", tf_tiff, "tifffile deflate TIFF")):
            out = d / f"o{imageio.FORMAT_SUFFIX[fmt]}"
            t_ours = best(lambda: imageio.save_image(out, grey, fmt, exif=photo.exif), args.repeat)
            t_base = best(baseline, args.repeat)
            other = next(d.glob(f"b{imageio.FORMAT_SUFFIX[fmt]}"))
            rows.append((f"save_image {fmt} (grey)", t_ours, t_base,
                         f"vs {what}; {out.stat().st_size / 1e6:.1f} MB vs "
                         f"{other.stat().st_size / 1e6:.1f} MB"))

    print(f"image I/O at {w}x{h} ({w * h / 1e6:.1f} MP), best of {args.repeat}")
    for name, t, ref, note in rows:
        ratio = f"{t / ref:5.2f}x" if ref else "      "
        print(f"  {name:26s} {t:7.3f} s  {ratio}  {note}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak RSS {rss:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
