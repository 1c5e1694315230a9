"""Contact sheet of every built-in style on a few photos: `docs/contact_sheet.png`.

Usage: ``.venv/bin/python bench/contact_sheet.py [--photos DIR] [--names kodim04 ...] [--out FILE]
[--size PX]``. One row per style (name and description on the left), one column per photo, the
colour originals on the first row. Every rendering goes through `silverprint.pipeline` exactly as
`silverprint render` does (regions and descriptors per photo, the style decoded per photo), at
preview size. Also prints, per style, the mean absolute difference from the neutral rendering so a
reader can see how far each style moves from plain luminance.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PHOTOS = Path("/work/shared/data/photos/kodak")
#: A portrait, a darker-skinned portrait, a mountain landscape with sky and foliage, a lighthouse
#: (architecture, blue sky and sea): faces, skies and foliage are where styles differ most.
DEFAULT_NAMES = ("kodim04", "kodim15", "kodim13", "kodim21")
LABEL_W = 230
PAD = 6


def _font(size: int) -> ImageFont.ImageFont:
    for name in ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def _wrap(text: str, font: ImageFont.ImageFont, width: int, draw: ImageDraw.ImageDraw) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if draw.textlength(trial, font=font) <= width or not line:
            line = trial
        else:
            lines.append(line)
            line = word
    return lines + ([line] if line else [])


def _to_rgb8(image: np.ndarray) -> np.ndarray:
    image = np.clip(np.asarray(image, dtype=np.float32), 0, 1)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return np.rint(image * 255).astype(np.uint8)


def _fit(image: np.ndarray, cell_w: int, cell_h: int) -> Image.Image:
    """Resize to exactly one cell (cells already have the photo's aspect ratio)."""
    return Image.fromarray(_to_rgb8(image)).resize((cell_w, cell_h), Image.LANCZOS)


def build(photos: list[Path], size: int) -> tuple[Image.Image, dict[str, float]]:
    from silverprint.imageio import load_image
    from silverprint.pipeline import analyse, params_for, render_with
    from silverprint.styles import list_styles

    styles = [s for s in list_styles() if s.builtin]
    loaded = []
    for path in photos:
        photo = load_image(path)
        rgb = photo.rgb if hasattr(photo, "rgb") else photo.pixels
        small = Image.fromarray(_to_rgb8(rgb))
        small.thumbnail((size * 2, size * 2), Image.LANCZOS)  # render at ~2x the cell, then shrink
        arr = np.asarray(small, dtype=np.float32) / 255.0
        loaded.append((path, arr, analyse(arr)))

    cell_h = size * 2 // 3  # one row height; each column as wide as its photo's aspect asks
    widths = [round(cell_h * arr.shape[1] / arr.shape[0]) for _, arr, _ in loaded]
    lefts = [LABEL_W + sum(widths[:i]) + i * PAD for i in range(len(widths))]
    rows = len(styles) + 1
    sheet = Image.new("RGB", (lefts[-1] + widths[-1] + PAD, rows * (cell_h + PAD) + PAD),
                      (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    title, body = _font(17), _font(13)
    neutral: list[np.ndarray] = []
    differences: dict[str, float] = {}

    def label(row: int, name: str, text: str) -> None:
        y = PAD + row * (cell_h + PAD) + 8
        draw.text((PAD + 4, y), name, fill=(0, 0, 0), font=title)
        for i, line in enumerate(_wrap(text, body, LABEL_W - 16, draw)[:6]):
            draw.text((PAD + 4, y + 24 + i * 16), line, fill=(70, 70, 70), font=body)

    label(0, "original", "colour photos (Kodak suite), for reference")
    for col, (_, arr, _) in enumerate(loaded):
        sheet.paste(_fit(arr, widths[col], cell_h), (lefts[col], PAD))
    ordered = sorted(styles, key=lambda s: s.name != "neutral")  # neutral first: the reference
    for row, style in enumerate(ordered, start=1):
        label(row, style.name, style.description)
        diffs = []
        for col, (_, arr, analysis) in enumerate(loaded):
            image = render_with(arr, analysis, params_for(style, analysis), device="cpu")
            grey = image if image.ndim == 2 else image.mean(axis=2)
            if style.name == "neutral":
                neutral.append(grey)
            else:
                diffs.append(float(np.abs(grey - neutral[col]).mean()))
            sheet.paste(_fit(image, widths[col], cell_h), (lefts[col], PAD + row * (cell_h + PAD)))
        differences[style.name] = float(np.mean(diffs)) if diffs else 0.0
    return sheet, differences


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--names", nargs="+", default=list(DEFAULT_NAMES))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "contact_sheet.png")
    parser.add_argument("--size", type=int, default=300, help="cell width of a 3:2 photo, pixels")
    args = parser.parse_args(argv)
    photos = []
    for name in args.names:
        matches = sorted(args.photos.glob(f"{name}.*"))
        if not matches:
            print(f"contact_sheet: no photo {name!r} in {args.photos}", file=sys.stderr)
            return 2
        photos.append(matches[0])
    start = time.perf_counter()
    sheet, differences = build(photos, args.size)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(f".{args.out.name}.tmp")
    sheet.save(tmp, format="PNG", optimize=True)
    tmp.replace(args.out)
    print(f"wrote {args.out} ({sheet.width}x{sheet.height}) in {time.perf_counter() - start:.1f} s")
    print("mean |style - neutral| over the photos (0..1 grey):")
    for name, value in differences.items():
        if name != "neutral":
            print(f"  {name:<22} {value:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
