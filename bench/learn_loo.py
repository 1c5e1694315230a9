"""Leave-one-out over a style's TRAINING pairs only: compare learner variants without held-out data.

Each of the 12 training pairs of the data README's split is scored (PSNR at full size) by a style
learned from the other 11, so variants of the learner can be chosen without looking at the
held-out pairs that `bench/imitation.py` reports. Variants patch the learner for this process only:

    .venv/bin/python bench/learn_loo.py --style rt-regional-sky-subject \
        [--local-sliders exposure,contrast] [--exposure-prior 1]

``--local-sliders``: the sliders fitted on the local-adjustment template (`fit.LOCAL_FIT_SLIDERS`);
``--exposure-prior``: weight of exposure in the per-region and local priors (`fit._Model.penalty`),
relative to the other sliders. Takes about 7 minutes per run on the 2-core machine.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--style", default="rt-regional-sky-subject")
    parser.add_argument("--local-sliders", default=None)
    parser.add_argument("--exposure-prior", type=float, default=1.0)
    args = parser.parse_args()
    os.environ["SILVERPRINT_HOME"] = tempfile.mkdtemp(prefix="silverprint-loo-")

    import torch

    import imitation
    from silverprint.learn import fit, model
    from silverprint.learn.learner import learn_items, split
    from silverprint.learn.metrics import score
    from silverprint.params import REGION_SLIDERS
    from silverprint.pipeline import render_photo

    if args.local_sliders:
        fit.LOCAL_FIT_SLIDERS = tuple(args.local_sliders.split(","))
    if args.exposure_prior != 1.0:
        weight = torch.tensor([args.exposure_prior if s == "exposure" else 1.0 for s in REGION_SLIDERS])
        plain = fit._Model.penalty

        def penalty(self):
            extra = fit.LOCAL_PRIOR * ((weight - 1.0) * self.local_region ** 2).sum()
            if self.regional:
                extra = extra + fit.REGION_PRIOR * ((weight - 1.0) * self.delta ** 2).sum()
            return plain(self) + extra

        fit._Model.penalty = penalty
    names = sorted(p.stem for p in (imitation.DATA / args.style / "originals").glob("*.jpg")
                   if (imitation.DATA / args.style / "edits" / p.name).exists())
    train, _ = split(names, 12)
    items = imitation.items_of(args.style, train)
    full = imitation.held_out(args.style, train)  # full-size copies of the training pairs
    start, scores = time.monotonic(), []
    for k in range(len(items)):
        fitted = learn_items([it for i, it in enumerate(items) if i != k], components="auto")
        style = model.build_style(fitted.learned, "loo", description="loo", provenance={})
        _, rgb, edit, analysis = full[k]
        scores.append(score(render_photo(rgb, style, analysis=analysis, device="cpu"), edit).psnr)
        print(f"  {train[k]}: {scores[-1]:.2f} dB", flush=True)
    print(f"{args.style} local sliders {','.join(fit.LOCAL_FIT_SLIDERS)}, exposure prior x{args.exposure_prior:g}: "
          f"training-pair LOO PSNR {sum(scores) / len(scores):.3f} dB ({time.monotonic() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
