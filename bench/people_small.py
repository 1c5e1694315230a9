"""Small people: does `detect_people` find and outline a person a few dozen pixels tall?

The labelled photos hold few small people, and those few (kodim09, kodim10) are held out. This
bench makes a development set that is neither held out nor drawn from the algorithm's output:
each labelled person of a development photo (their label polygons as the alpha) is shrunk 8, 12
and 16 times and pasted into development landscapes without people, at three places (two of
them straddling the small-people search's tile borders). Scored at the analysis size:

- found: the composites with a trusted person (a face or a pose found),
- IoU of the person mask (> 0.5) with the pasted silhouette (0 where nobody was found),
- false pixels: person mask outside the silhouette (summed). Caveat: the development people
  are portraits; a head and shoulders pasted into a landscape floats, and the segmenter tends
  to grow a body below it, so this count overstates what real small people cause.

Timing: CPU ms per `detect_people` call, and the ratio to one frame-level selfie-segmenter call
measured in the same run.

    .venv/bin/python bench/people_small.py [--verbose]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from silverprint.regions.analysis import analysis_image  # noqa: E402
from silverprint.regions.labelset import load_labels, load_source_rgb, paste_shrunk, rasterize  # noqa: E402
from silverprint.regions.people import _LOCK, _models, detect_people  # noqa: E402

PEOPLE = ("kodim04", "kodim15", "kodim18", "grace_hopper", "astronaut", "kodim12")
LANDSCAPES = ("kodim21", "kodim13", "kodim06", "kodim11")
SCALES = (8, 12, 16)
PLACES = ((2 / 3, 1 / 3), (0.5, None), (0.62, 0.55))  # (centre row, left column); None: on the 1/3 border


def composite(person: tuple[np.ndarray, np.ndarray], scale: int, back: np.ndarray,
              place: tuple[float, float | None]) -> tuple[np.ndarray, np.ndarray]:
    """``person`` (rgb, silhouette) shrunk ``scale`` times, pasted into ``back``; and where."""
    src, silhouette = person
    sw, sh = src.shape[1] // scale, src.shape[0] // scale
    bh, bw = back.shape[:2]
    row, col = place
    y0 = int(bh * row) - sh // 2
    x0 = int(bw / 3 - sw / 2) if col is None else int(bw * col)
    return paste_shrunk(src, silhouette, scale, back, y0, x0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", type=Path, default=REPO / "tests" / "data" / "labels")
    ap.add_argument("--kodak", type=Path, default=REPO.parent / "shared" / "data" / "photos" / "kodak")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    labels = {lab.photo: lab for lab in load_labels(args.labels)}
    if any(labels[name].split == "heldout" for name in PEOPLE + LANDSCAPES):
        raise SystemExit("a held-out photo is in the development composites")
    images = {}
    for name in PEOPLE + LANDSCAPES:
        rgb = analysis_image(load_source_rgb(labels[name].source, args.kodak))
        truth = rasterize(labels[name], rgb.shape[:2])
        images[name] = (rgb, ((truth == 1) | (truth == 2)).astype(np.float32))
    detect_people(np.zeros((64, 64, 3), np.float32))  # load the models

    found, ious, false_px, cpu, floor = 0, [], 0, [], []
    by_scale: dict[int, list[float]] = {s: [] for s in SCALES}
    for person in PEOPLE:
        for land in LANDSCAPES:
            for scale in SCALES:
                for place in PLACES:
                    rgb, where = composite(images[person], scale, images[land][0], place)
                    t = time.process_time()
                    result = detect_people(rgb)
                    cpu.append((time.process_time() - t) * 1000)
                    with _LOCK:
                        u8 = (rgb * 255 + 0.5).astype(np.uint8)
                        t = time.process_time()
                        _models().segmenter.process(u8)
                        floor.append((time.process_time() - t) * 1000)
                    mask = result.person > 0.5
                    iou = float((mask & where).sum() / max(1, (mask | where).sum()))
                    ious.append(iou)
                    by_scale[scale].append(iou)
                    found += result.person_found
                    false_px += int((mask & ~where).sum())
                    if args.verbose:
                        print(f"{person:13s} in {land}  1/{scale:<2d} at {place}: IoU {iou:.3f}  "
                              f"faces {len(result.faces)}  false px {int((mask & ~where).sum())}")
    n = len(ious)
    print(f"small people found: {found}/{n}; mean IoU {np.mean(ious):.3f} "
          + " ".join(f"(1/{s}: {np.mean(v):.3f})" for s, v in by_scale.items()))
    print(f"false person pixels (outside the pasted silhouettes, all composites): {false_px}")
    med, flo = statistics.median(cpu), statistics.median(floor)
    print(f"detect_people CPU median {med:.1f} ms; one frame segmenter call {flo:.1f} ms; ratio {med / flo:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
