"""The evaluation report: one HTML page a photographer can read to judge a learned style.

Per held-out pair: the original, their own edit, Silverprint's rendering, an error map, and the
same for the baselines, with PSNR / SSIM under each; a table of means; and, when given, the
learning curve (held-out PSNR against the number of training pairs) as a PNG.
"""
from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np

from ..fileio import atomic_path
from .metrics import luminance, resize_to, to_u8

THUMB = 320
#: Error-map scale: |difference| of this many 8-bit levels is full red.
ERROR_FULL_SCALE = 32


def _save_png(path: Path, image: np.ndarray) -> None:
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    array = image if image.ndim == 2 else image[..., ::-1]  # RGB -> BGR for OpenCV
    ok, png = cv2.imencode(".png", array)
    if not ok:
        raise ValueError(f"{path}: OpenCV could not encode this image as PNG")
    with atomic_path(path) as tmp:
        tmp.write_bytes(png)


def _thumb(image: np.ndarray) -> np.ndarray:
    import cv2

    h, w = image.shape[:2]
    scale = THUMB / max(h, w)
    if scale < 1:
        image = cv2.resize(image.astype(np.float32), (round(w * scale), round(h * scale)),
                           interpolation=cv2.INTER_AREA)
    return to_u8(np.clip(image, 0, 1))


def error_map(rendering: np.ndarray, edit: np.ndarray) -> np.ndarray:
    """RGB uint8: black where the rendering matches the edit, red where it is darker, blue where
    it is lighter, full at `ERROR_FULL_SCALE` levels."""
    grey = resize_to(luminance(rendering), edit.shape[:2])
    diff = (to_u8(grey).astype(np.float32) - to_u8(luminance(edit)).astype(np.float32)) / ERROR_FULL_SCALE
    out = np.zeros(edit.shape[:2] + (3,), np.float32)
    out[..., 0] = np.clip(-diff, 0, 1)
    out[..., 2] = np.clip(diff, 0, 1)
    return out


def learning_curve_png(path: Path, curve: list[dict[str, Any]]) -> Path:
    """Held-out PSNR against training pairs, one line per style (matplotlib, no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    styles = sorted({row["style"] for row in curve})
    for style in styles:
        rows = sorted((r for r in curve if r["style"] == style), key=lambda r: r["pairs"])
        ax.plot([r["pairs"] for r in rows], [r["psnr"] for r in rows], marker="o", label=style)
    ax.set_xlabel("training pairs")
    ax.set_ylabel("held-out PSNR (dB)")
    ax.set_title("Learning curve")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png")
    finally:
        plt.close(fig)
    return path


def write_report(directory: str | Path, style_name: str, scores: list, summary: dict[str, Any], *,
                 curve: list[dict[str, Any]] | None = None) -> Path:
    """Write ``index.html`` and its images into ``directory``; returns the page's path."""
    out = Path(directory)
    img = out / "images"
    img.mkdir(parents=True, exist_ok=True)
    esc = html.escape
    rows = []
    for s in scores:
        if not s.images:
            continue
        edit = s.images["edit"]
        cells = []
        for label, key, score in [("original", "original", None), ("your edit", "edit", None),
                                  ("Silverprint", "rendering", s.style)] + [
                                      (k, k, s.baselines[k]) for k in s.baselines]:
            image = s.images[key]
            if key not in ("original",):
                image = resize_to(luminance(image), edit.shape[:2]) if key != "edit" else edit
            name = f"{s.name}-{key}.png"
            _save_png(img / name, _thumb(image))
            caption = esc(label)
            if score is not None:
                caption += f"<br>{score.psnr:.2f} dB, SSIM {score.ssim:.4f}"
                err = f"{s.name}-{key}-error.png"
                _save_png(img / err, _thumb(error_map(s.images[key], edit)))
                caption += f'<br><img src="images/{esc(err)}" alt="error map {caption}" width="160">'
            cells.append(f'<td><img src="images/{esc(name)}" width="{THUMB // 2 * 1}"><br>{caption}</td>')
        rows.append(f"<tr><th>{esc(s.name)}</th>{''.join(cells)}</tr>")
    means = [("Silverprint", summary["style"])] + list(summary["baselines"].items())
    table = "".join(f"<tr><td>{esc(k)}</td><td>{v['psnr']:.2f}</td><td>{v['ssim']:.4f}</td>"
                    f"<td>{v['mae_lstar']:.2f}</td></tr>" for k, v in means)
    curve_html = ""
    if curve:
        learning_curve_png(img / "learning-curve.png", curve)
        points = ", ".join(f"{r['style']} {r['pairs']}: {r['psnr']:.2f} dB" for r in curve)
        curve_html = (f'<h2>Learning curve</h2><img src="images/learning-curve.png" alt="learning curve">'
                      f"<p>{esc(points)}</p>")
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Silverprint: {esc(style_name)}</title>
<style>body{{font-family:sans-serif;margin:2em}} td,th{{padding:4px;vertical-align:top;font-size:12px}}
table.m td{{border-bottom:1px solid #ddd}}</style></head><body>
<h1>Style {esc(style_name)}: held-out evaluation</h1>
<p>{summary['style']['n']} pairs the style did not learn from. PSNR and SSIM on 8-bit luminance at
the edit's size; error maps: red = rendering darker than your edit, blue = lighter
(full colour at {ERROR_FULL_SCALE} levels).</p>
<table class="m"><tr><th>method</th><th>PSNR (dB)</th><th>SSIM</th><th>mean |&Delta;L*|</th></tr>{table}</table>
{curve_html}
<h2>Pairs</h2><table>{''.join(rows)}</table>
</body></html>
"""
    path = out / "index.html"
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path
