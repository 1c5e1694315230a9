"""Content-adaptive photographers of our own (issue 14, item 6): does the learner imitate per-photo
decisions on photos and rules that the shared benchmark pack does not hold?

Photos: scikit-image's bundled colour photos (astronaut, chelsea, coffee, rocket, the two
motorcycle views; BSD-licensed, shipped inside the wheel, so nothing is downloaded), each cut into
several framings and given its own exposure, so that every "photo" differs in brightness, contrast,
sky and faces. Two photographers, each deciding per photo from what it shows:

- **keeper**: brings every photo to a preferred median brightness (exposure from the median),
  gives flat photos more contrast, always through a red filter;
- **recipes**: a portrait recipe where there is a face (orange filter, lifted, softer), a landscape
  recipe where there is sky (red filter, sky burnt, harder), a green filter for the rest, and
  exposure toward its own preferred brightness (clipped, as a photographer never pushes far).

Both are rendered by Silverprint's own renderer: the sliders they set are ones the learner can
express, so these are easier than `adaptive-a` (RawTherapee, a different engine); they test the
per-photo model, not the renderer. Split: the data README's (names sorted, rng(0) permutation,
first half learns); framings of one photo can fall on both sides, which the printout says.

    .venv/bin/python bench/own_photographers.py [--pairs 24] [--n-train 12]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SOURCES = ("astronaut", "chelsea", "coffee", "rocket", "motorcycle_left", "motorcycle_right")
#: Framings (top, bottom, left, right as fractions): the whole photo, its halves, its centre.
FRAMINGS = ((0, 1, 0, 1), (0, 0.6, 0, 1), (0.4, 1, 0, 1), (0, 1, 0, 0.6), (0, 1, 0.4, 1),
            (0.2, 0.8, 0.2, 0.8))
SIDE = 384


def log(text: str = "") -> None:
    print(text, flush=True)


def source(name: str) -> np.ndarray:
    import skimage.data
    import skimage.io

    path = Path(skimage.data.__file__).parent / (f"{name}.jpg" if name == "rocket" else f"{name}.png")
    return np.asarray(skimage.io.imread(path))[..., :3]


def variant(rgb: np.ndarray, framing: tuple, ev: float) -> np.ndarray:
    """A framing of ``rgb``, long side `SIDE`, its exposure shifted by ``ev`` (uint8)."""
    from PIL import Image

    h, w = rgb.shape[:2]
    t, b, l, r = framing
    crop = rgb[int(t * h):int(b * h), int(l * w):int(r * w)]
    im = Image.fromarray(crop)
    im.thumbnail((SIDE, SIDE), Image.LANCZOS)
    x = np.asarray(im).astype(np.float32) / 255
    lin = np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4) * 2.0 ** ev
    out = np.where(lin <= 0.0031308, lin * 12.92, 1.055 * np.clip(lin, 0.0031308, 1) ** (1 / 2.4) - 0.055)
    return (np.clip(out, 0, 1) * 255 + 0.5).astype(np.uint8)


def keeper(d: dict):
    from silverprint.params import Params

    p = Params()
    for k, v in {"global.mix_red": 70.0, "global.mix_green": 30.0, "global.mix_blue": 0.0}.items():
        p.set(k, v)
    p.set("all.exposure", float(np.clip(-2.5 * (d["lum_p50"] - 0.42), -2.0, 2.0)))
    p.set("all.contrast", float(np.clip(200.0 * (0.24 - d["contrast"]), -40.0, 40.0)))
    return p


def recipes(d: dict):
    from silverprint.params import Params

    p = Params()
    if d["face_count"] >= 1 and d["skin_area"] + d["person_area"] > 0.04:
        mix, tone = (55.0, 35.0, 10.0), {"all.contrast": -15.0, "skin.exposure": 0.3, "global.vignette": -20.0}
        target = 0.50
    elif d["sky_area"] > 0.08:
        mix, tone = (75.0, 25.0, 0.0), {"all.contrast": 20.0, "sky.exposure": -0.8}
        target = 0.40
    else:
        mix, tone = (20.0, 70.0, 10.0), {"all.contrast": float(np.clip(150 * (0.22 - d["contrast"]), -25, 35))}
        target = 0.45
    for k, v in zip(("global.mix_red", "global.mix_green", "global.mix_blue"), mix):
        p.set(k, v)
    for k, v in tone.items():
        p.set(k, v)
    p.set("all.exposure", float(np.clip(-3.0 * (d["lum_p50"] - target), -1.0, 1.0)))
    return p


PHOTOGRAPHERS = {"keeper": keeper, "recipes": recipes}


def make_portfolio(folder: Path, rule, n_pairs: int) -> list[str]:
    """Write ``n_pairs`` (original, edit) PNG pairs decided by ``rule``; returns their names."""
    from PIL import Image

    from silverprint.descriptors import as_dict
    from silverprint.pipeline import analyse, render_with

    rng = np.random.default_rng(7)
    names = []
    combos = [(s, f) for f in range(len(FRAMINGS)) for s in SOURCES]
    for i in range(n_pairs):
        src, f = combos[i % len(combos)]
        rgb = variant(source(src), FRAMINGS[f], float(rng.uniform(-1.5, 1.2)))
        x = rgb.astype(np.float32) / 255
        analysis = analyse(x)
        grey = render_with(x, analysis, rule(as_dict(analysis.descriptors)), device="cpu")
        name = f"{src}-f{f}"
        for sub, image in (("originals", rgb), ("edits", (np.clip(grey, 0, 1) * 255 + 0.5).astype(np.uint8))):
            (folder / sub).mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(folder / sub / f"{name}.png")
        names.append(name)
    return names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=24)
    parser.add_argument("--n-train", type=int, default=12)
    parser.add_argument("--photographers", default=",".join(PHOTOGRAPHERS))
    args = parser.parse_args()
    os.environ["SILVERPRINT_HOME"] = tempfile.mkdtemp(prefix="silverprint-own-")
    sys.path.insert(0, str(Path(__file__).resolve().parent))

    from silverprint.learn import baselines, model
    from silverprint.learn.learner import Item, learn_items, prepare_item, split
    from silverprint.learn.metrics import mean_scores, score
    from silverprint.learn.pairing import Pair, prepare_pair
    from silverprint.pipeline import analyse, render_photo

    root = Path(tempfile.mkdtemp(prefix="silverprint-own-pairs-"))
    for who in args.photographers.split(","):
        folder = root / who
        names = make_portfolio(folder, PHOTOGRAPHERS[who], args.pairs)
        train, test = split(names, args.n_train)
        shared = sorted({n.split("-f")[0] for n in train} & {n.split("-f")[0] for n in test})
        log(f"== {who}: {len(train)} train, {len(test)} held out "
            f"(source photos on both sides, other framings and exposures: {', '.join(shared) or 'none'})")
        pairs = {n: Pair(n, folder / "originals" / f"{n}.png", folder / "edits" / f"{n}.png", "folders")
                 for n in names}
        items = [Item(pairs[n], prepare_item(pairs[n])) for n in train]
        tests = []
        for n in test:
            p = prepare_pair(pairs[n], keep_full=True)
            tests.append((p.full_rgb, p.full_edit, analyse(p.full_rgb)))
        gfit = baselines.fit_global([i.data.s_rgb.numpy().T for i in items], [i.data.s_edit.numpy()[0] for i in items])
        for label, fn in (("rec709", baselines.rec709), ("global fit", gfit.apply)):
            s = mean_scores([score(fn(rgb), edit) for rgb, edit, _ in tests])
            log(f"  baseline {label:<10} PSNR {s['psnr']:6.2f} dB  SSIM {s['ssim']:.4f}")
        start = time.monotonic()
        fitted = learn_items(items, components="auto")
        seconds = time.monotonic() - start
        for components in ("global", "subjects", "decoder", "auto"):
            learned = fitted.learned if components == "auto" else model.learn_model(
                fitted.states, fitted.learned.params, components=components)
            style = model.build_style(learned, f"own-{who}", description="bench", provenance={})
            s = mean_scores([score(render_photo(rgb, style, analysis=an, device="cpu"), edit)
                             for rgb, edit, an in tests])
            label = {"global": "global", "subjects": "+ subjects", "decoder": "+ per-photo decoder",
                     "auto": "auto"}[components]
            log(f"  learned {label:<20} (kept {'+'.join(learned.ablation['kept']):<24}) "
                f"PSNR {s['psnr']:6.2f} dB  SSIM {s['ssim']:.4f}")
        log(f"  learning {len(items)} pairs took {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
