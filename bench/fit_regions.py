"""Re-fit the shipped sky classifier (`silverprint.regions.learned`) from the hand-drawn labels.

The fit also chooses the clouds' outline share (`fitting.choose_cloud_share`) on the same photos
and saves it with the weights.

Reproducible: the same labels, seed and code give the same weights (seeded sampling and
initialisation, deterministic L-BFGS). Fits on every labelled photo in `tests/data/labels/`; the
quality that counts is the leave-one-photo-out number printed by ``bench/regions.py``, since this
model has seen every photo it would be scored on.

    .venv/bin/python bench/fit_regions.py [--out resources/regions/sky.npz] [--seed 0]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout without installing

from silverprint.regions import fitting, learned  # noqa: E402
from silverprint.regions.labelset import IGNORE, load_labels  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", type=Path, default=REPO / "tests" / "data" / "labels")
    ap.add_argument("--kodak", type=Path, default=REPO.parent / "shared" / "data" / "photos" / "kodak")
    ap.add_argument("--out", type=Path, default=learned.model_path())
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    t = time.perf_counter()
    photos = [fitting.prepare(label, args.kodak) for label in load_labels(args.labels)]
    model = fitting.fit_photos(photos, seed=args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    print(f"fitted on {len(photos)} photos in {time.perf_counter() - t:.1f} s -> {args.out} "
          f"(cloud share {model.cloud_share:.2f})")
    # Training-set agreement on the working grid (optimistic by construction: seen photos).
    for name in ("sky",):
        k = learned.CLASSES.index(name)
        inter = union = 0
        for photo in photos:
            pred = learned.class_probabilities(photo.features, model).argmax(axis=-1)
            valid = photo.classes != IGNORE
            p, t_ = (pred == k) & valid, (photo.classes == k) & valid
            inter += int((p & t_).sum())
            union += int((p | t_).sum())
        print(f"training-set {name} IoU of the classifier alone (before the photo adaptation), "
              f"pooled over pixels (seen photos, optimistic): "
              f"{inter / max(union, 1):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
