"""The evaluation report: one HTML page a photographer can read to judge a learned style.

Per held-out pair: the original, their own edit, Silverprint's rendering, an error map, and the
same for the baselines, with PSNR / SSIM under each, and what the style decided for that photo and
why (`explain.explain_photo`: "+0.45 EV exposure: darker than your usual"); a table of means; one
plot per learned dependence (a decoded slider against its strongest input, with the training pairs
on it: `explain.dependences`); and, when given, the learning curve (held-out PSNR against the
number of training pairs) as a PNG. The explanations are also written as ``explanations.json``.
"""
from __future__ import annotations

import html
import json
import logging
import re
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import SilverprintError
from ..fileio import atomic_path
from . import explain
from .metrics import luminance, resize_to, to_u8

log = logging.getLogger("silverprint.learn")

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
    return _save_figure(fig, path)


def _save_figure(fig, path: Path) -> Path:
    """Lay out, write atomically as PNG and close a matplotlib figure (closed even on failure)."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png")
    finally:
        plt.close(fig)
    return path


#: Dependence plots on one page at most (the strongest first): beyond that they stop being read.
MAX_DEPENDENCE_PLOTS = 8


def _axis(unit: str) -> tuple[float, str]:
    """Scale and suffix of a descriptor's axis: areas and weights in percent."""
    return (100.0, " (%)") if unit in ("percent", "weight") else (1.0, " (EV)" if unit == "ev" else "")


def _slider_axis(key: str) -> tuple[float, str]:
    unit = explain.slider_unit(key)
    return (100.0, " (levels)") if unit == "levels" else (1.0, f" ({unit})" if unit else "")


def dependence_png(path: Path, dep: explain.Dependence,
                   heldout: Sequence[tuple[str, float, float]] = ()) -> Path:
    """One learned dependence (matplotlib, no display): the decoder's line over its strongest input
    with the other inputs at their centre; the training pairs as dots at what the style gives them
    and rings at what the photographer's own edit did; held-out photos as crosses."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sx, xunit = _axis(dep.input_unit)
    sy, yunit = _slider_axis(dep.output)
    fig, ax = plt.subplots(figsize=(5, 3.4), dpi=100)
    ax.plot(np.asarray(dep.line_x) * sx, np.asarray(dep.line_y) * sy, color="#444", lw=2,
            label="what the style learned")
    ax.axvline(dep.center * sx, color="#999", lw=1, ls=":", label="your usual")
    if dep.points:
        xs = np.array([p.x for p in dep.points]) * sx
        ax.scatter(xs, [p.decoded * sy for p in dep.points], color="#c07a1c", zorder=3, s=28,
                   label="photos it learned from")
        own = [(x, p.own * sy) for x, p in zip(xs, dep.points) if p.own is not None]
        if own:
            for (x, y), p in zip(own, [p for p in dep.points if p.own is not None]):
                ax.plot([x, x], [p.decoded * sy, y], color="#c07a1c", lw=0.6, alpha=0.6)
            ax.scatter([x for x, _ in own], [y for _, y in own], facecolors="none", edgecolors="#c07a1c",
                       zorder=3, s=36, label="what you did on them")
    if heldout:
        ax.scatter([x * sx for _, x, _ in heldout], [y * sy for _, _, y in heldout], marker="x",
                   color="#2a6fb0", zorder=4, s=36, label="held-out photos")
    ax.axhline(0, color="#ccc", lw=0.8)
    ax.set_xlabel(dep.input_label + xunit)
    ax.set_ylabel(f"{dep.output_label}: change from your usual{yunit}")
    ax.set_title(f"{dep.output_label} against {dep.input_label}", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return _save_figure(fig, path)


def _resolve_style(style_name: str, style: Any) -> Any:
    """The style to explain: the one given, else the saved style of that name (None if unreadable:
    the scores still make a report)."""
    if style is not None:
        return style
    from ..styles import load_style

    try:
        return load_style(style_name)
    except SilverprintError as exc:
        log.warning("silverprint: the report cannot explain %s's decisions (%s)", style_name, exc)
        return None


def _explain_html(exp: explain.Explanation) -> str:
    esc = html.escape
    items = "".join(f"<li>{esc(text)}</li>" for text in exp.sentences())
    return f'<div class="why"><b>What the style decided for this photo, and why</b><ul>{items}</ul></div>'


def _file_stem(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "x"


def _dependences_html(img: Path, deps: list[explain.Dependence],
                      heldout: dict[str, np.ndarray], style: Any) -> str:
    from ..styles import decoder_deltas, decoder_inputs

    esc = html.escape
    if not deps:
        return ("<h2>What the style learned</h2><p>This style gives every photo the same sliders "
                "apart from its subject recipes: there is no learned dependence to plot.</p>")
    cells = []
    for i, dep in enumerate(deps[:MAX_DEPENDENCE_PLOTS]):
        j = style.decoder.inputs.index(dep.input)
        marks = [(name, float(decoder_inputs(style, d)[j]),
                  decoder_deltas(style, d).get(dep.output, 0.0) - dep.usual) for name, d in heldout.items()]
        name = f"dependence-{i + 1}-{_file_stem(dep.output)}.png"
        dependence_png(img / name, dep, marks)
        owns = sum(1 for p in dep.points if p.own is not None)
        note = (f"{len(dep.points)} photos it learned from"
                + (f" (rings: what you did on {owns} of them)" if owns else "") if dep.points
                else "no training pairs found in the portfolio index")
        cells.append(f'<figure><img src="images/{esc(name)}" alt="{esc(dep.output_label)} against '
                     f'{esc(dep.input_label)}"><figcaption>{esc(dep.output_label)} against '
                     f"{esc(dep.input_label)}: {esc(note)}</figcaption></figure>")
    return ("<h2>What the style learned</h2><p>Each plot shows one slider the style sets per photo, "
            "against what in the photo matters most for it, as a change from your usual setting. "
            "The line is what the style does on a photo that is otherwise like your usual one; dots "
            "are the photos it learned from (rings: what your own edit of each did, from the mean "
            "of your edits); crosses are the photos above.</p>" + "".join(cells))


def write_report(directory: str | Path, style_name: str, scores: list, summary: dict[str, Any], *,
                 curve: list[dict[str, Any]] | None = None, style: Any = None,
                 training: Sequence[explain.TrainingPair] | None = None) -> Path:
    """Write ``index.html`` and its images into ``directory``; returns the page's path.

    ``style``: the style evaluated (default: the saved style ``style_name``), whose decisions are
    explained per photo; ``training``: the pairs it learned from, plotted on its dependences
    (default: from the portfolio index, `explain.training_pairs`).
    """
    from ..pipeline import analyse

    out = Path(directory)
    img = out / "images"
    img.mkdir(parents=True, exist_ok=True)
    esc = html.escape
    style = _resolve_style(style_name, style)
    if style is not None and training is None:
        try:
            training = explain.training_pairs(style)
        except SilverprintError as exc:
            log.warning("silverprint: no training pairs for the report's plots (%s)", exc)
            training = []
    rows = []
    heldout: dict[str, np.ndarray] = {}
    explained: dict[str, Any] = {}
    for s in scores:
        if not s.images:
            continue
        why = ""
        if style is not None:
            descriptors = analyse(s.images["original"]).descriptors
            heldout[s.name] = descriptors
            exp = explain.explain_photo(style, descriptors)
            explained[s.name] = exp.as_dict()
            why = _explain_html(exp)
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
        if why:
            rows.append(f'<tr><td></td><td colspan="{len(cells)}">{why}</td></tr>')
    means = [("Silverprint", summary["style"])] + list(summary["baselines"].items())
    table = "".join(f"<tr><td>{esc(k)}</td><td>{v['psnr']:.2f}</td><td>{v['ssim']:.4f}</td>"
                    f"<td>{v['mae_lstar']:.2f}</td></tr>" for k, v in means)
    curve_html = ""
    if curve:
        learning_curve_png(img / "learning-curve.png", curve)
        points = ", ".join(f"{r['style']} {r['pairs']}: {r['psnr']:.2f} dB" for r in curve)
        curve_html = (f'<h2>Learning curve</h2><img src="images/learning-curve.png" alt="learning curve">'
                      f"<p>{esc(points)}</p>")
    learned_html = ""
    if style is not None:
        deps = explain.dependences(style, training or [])
        learned_html = _dependences_html(img, deps, heldout, style)
        data = {"style": style.name, "photos": explained, "dependences": [d.as_dict() for d in deps]}
        with atomic_path(out / "explanations.json") as tmp:
            tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Silverprint: {esc(style_name)}</title>
<style>body{{font-family:sans-serif;margin:2em}} td,th{{padding:4px;vertical-align:top;font-size:12px}}
table.m td{{border-bottom:1px solid #ddd}} div.why{{font-size:14px;max-width:60em}}
div.why li{{margin:2px 0}} figure{{display:inline-block;margin:0 1em 1em 0;vertical-align:top}}
figcaption{{font-size:12px;max-width:500px}}</style></head><body>
<h1>Style {esc(style_name)}: held-out evaluation</h1>
<p>{summary['style']['n']} pairs the style did not learn from. PSNR and SSIM on 8-bit luminance at
the edit's size; error maps: red = rendering darker than your edit, blue = lighter
(full colour at {ERROR_FULL_SCALE} levels).</p>
<table class="m"><tr><th>method</th><th>PSNR (dB)</th><th>SSIM</th><th>mean |&Delta;L*|</th></tr>{table}</table>
{curve_html}
<h2>Pairs</h2><table>{''.join(rows)}</table>
{learned_html}
</body></html>
"""
    path = out / "index.html"
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path
