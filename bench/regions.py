"""Region quality and speed on the hand-labelled set (`tests/data/labels/`).

For every labelled photo: `compute_regions`, hard argmax at the analysis size, IoU per region
against the rasterised polygons (pixels labelled ``ignore`` left out). A region counts for a photo
when it covers at least 0.5 % of the scored pixels in the label or in the prediction, so a missed
region and a hallucinated one both count as failures. ``person`` is the body, clothes and hair
without the skin (the strict taxonomy); ``person+skin`` scores the whole person silhouette. Prints the per-photo table, the mean IoU per
region against the targets, and timings (analysis of a ~1 MP input, model load excluded) as a
ratio to the floor of any people-aware analysis measured in the same run: one selfie-segmenter
call at the analysis size.

Photos labelled ``"split": "heldout"`` were labelled after the rules were frozen and never used to
tune them; their means are printed separately (the development-set means are optimistic: the
rules' constants were chosen while looking at those photos).

    .venv/bin/python bench/regions.py [--overlays DIR] [--only kodim13 astronaut]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout without installing

from silverprint.params import SEMANTIC_REGIONS  # noqa: E402
from silverprint.regions import compute_regions  # noqa: E402
from silverprint.regions.analysis import analysis_image  # noqa: E402
from silverprint.regions.labelset import IGNORE, iou, load_labels, load_source_rgb, rasterize  # noqa: E402

SILHOUETTE = "person+skin"
TARGETS = {"sky": 0.85, "person": 0.80, SILHOUETTE: 0.80, "vegetation": 0.70}
PRESENT = 0.005
COLOURS = np.array([[40, 120, 255], [255, 40, 40], [255, 200, 0], [0, 210, 0], [0, 0, 0]], np.float32) / 255


def overlay(rgb: np.ndarray, index: np.ndarray) -> np.ndarray:
    alpha = np.where(index == 4, 0.0, 0.45)[..., None]
    colour = COLOURS[np.minimum(index, 4)]
    return rgb * (1 - alpha) + colour * alpha


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", type=Path, default=REPO / "tests" / "data" / "labels")
    ap.add_argument("--kodak", type=Path, default=REPO.parent / "shared" / "data" / "photos" / "kodak")
    ap.add_argument("--overlays", type=Path, help="write prediction | label overlays here")
    ap.add_argument("--only", nargs="*", help="photo names to run")
    ap.add_argument("--timing-runs", type=int, default=3)
    args = ap.parse_args()

    labels = [lab for lab in load_labels(args.labels) if not args.only or lab.photo in args.only]
    t = time.perf_counter()
    compute_regions(np.zeros((64, 64, 3), np.float32))
    load_s = time.perf_counter() - t

    per_region: dict[str, dict[str, list[float]]] = {
        split: {r: [] for r in SEMANTIC_REGIONS + (SILHOUETTE,)} for split in ("dev", "heldout")}
    rows = []
    analysis_ms, floor_ms, cpu_ms = [], [], []
    import cv2

    from silverprint.regions.people import _LOCK, _models

    for lab in labels:
        rgb = load_source_rgb(lab.source, args.kodak)
        result = compute_regions(rgb)
        pred = result.hard()
        truth = rasterize(lab, pred.shape)
        scored = int(np.count_nonzero(truth != IGNORE))
        cells = {}
        for i, region in enumerate(SEMANTIC_REGIONS):
            value, n_pred, n_true = iou(pred, truth, i)
            if region != "other" and max(n_pred, n_true) >= PRESENT * scored:
                per_region[lab.split][region].append(value)
                cells[region] = value
        # The whole person (body, clothes, hair and skin) as one silhouette.
        merge = lambda m: np.where(m == SEMANTIC_REGIONS.index("skin"), SEMANTIC_REGIONS.index("person"), m)  # noqa: E731
        value, n_pred, n_true = iou(merge(pred), merge(truth), SEMANTIC_REGIONS.index("person"))
        if max(n_pred, n_true) >= PRESENT * scored:
            per_region[lab.split][SILHOUETTE].append(value)
            cells[SILHOUETTE] = value
        rows.append((lab.photo + ("*" if lab.split == "heldout" else ""), cells, len(result.faces),
                     result.person_found))
        # Timing on a ~1 MP version of the photo (the preview size), models warm.
        h, w = rgb.shape[:2]
        scale = 1224 / max(h, w)
        big = cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_CUBIC)
        small_u8 = (analysis_image(big) * 255).astype(np.uint8)
        for _ in range(args.timing_runs):
            t, c = time.perf_counter(), time.process_time()
            compute_regions(big)
            analysis_ms.append((time.perf_counter() - t) * 1000)
            cpu_ms.append((time.process_time() - c) * 1000)
            with _LOCK:
                t = time.perf_counter()
                _models().segmenter.process(small_u8)
                floor_ms.append((time.perf_counter() - t) * 1000)
        if args.overlays:
            from PIL import Image

            args.overlays.mkdir(parents=True, exist_ok=True)
            small = analysis_image(rgb)
            shown_truth = np.where(truth == IGNORE, 4, truth)
            panel = np.concatenate([overlay(small, pred), overlay(small, shown_truth)], axis=1)
            Image.fromarray((np.clip(panel, 0, 1) * 255).astype(np.uint8)).save(
                args.overlays / f"{lab.photo}.png")

    shown = ["sky", "person", "skin", SILHOUETTE, "vegetation"]
    print(f"{'photo':14s}" + "".join(f"{r:>12s}" for r in shown) + "   faces  person_found")
    for photo, cells, n_faces, found in rows:
        line = f"{photo:14s}" + "".join(f"{cells[r]:12.3f}" if r in cells else f"{'-':>12s}" for r in shown)
        print(line + f"   {n_faces:5d}  {found}")
    for split, title in (("dev", "development set (rules tuned while looking at these photos)"),
                         ("heldout", "held-out photos (* above; labelled after the rules were frozen)")):
        if not any(per_region[split].values()):
            continue
        print()
        print(title)
        print(f"{'region':12s} {'mean IoU':>9s} {'photos':>7s} {'target':>7s}")
        for region in shown:
            values = per_region[split][region]
            mean = float(np.mean(values)) if values else float("nan")
            target = TARGETS.get(region)
            verdict = "" if target is None else ("  met" if mean >= target else "  NOT met")
            print(f"{region:12s} {mean:9.3f} {len(values):7d} {target if target else '':>7}{verdict}")
    print()
    if not analysis_ms:
        return 0
    med, flo = statistics.median(analysis_ms), statistics.median(floor_ms)
    print(f"model load + first call: {load_s * 1000:.0f} ms (once per process)")
    print(f"analysis of a ~1 MP photo: median {med:.1f} ms, max {max(analysis_ms):.1f} ms "
          f"({len(analysis_ms)} runs; target < 150 ms)")
    print(f"CPU time per analysis (all threads; robust to other load): median {statistics.median(cpu_ms):.1f} ms")
    print(f"floor (one selfie-segmenter call at {analysis_image(np.zeros((816, 1224, 3), np.float32)).shape[1]} px): "
          f"median {flo:.1f} ms; ratio analysis / floor = {med / flo:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
