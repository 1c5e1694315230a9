"""Why does a learned style lose to one global recipe on a content-adaptive portfolio? A probe.

For one style of ../shared/data/pairs (README split: first 12 of the permuted names train) it
learns from the training pairs and prints, on sampled full-resolution pixels (fast, no full-size
render; mean per-pair PSNR as the benchmark averages):

- the per-pair error of the base (the style proxy) and of each pair's own fit (base + the pair's
  fitted per-photo sliders): how much per-photo sliders could gain at all;
- the leave-one-out error of subjects and the decoder's cross-validation (what `learn_model`
  measures and keeps);
- with ``--heldout``: the same on the held-out pairs (own fits made on them: the oracle of a
  perfect decoder), and the held-out error of each decoder. Use only for analysis, never to
  choose a rule (the issue's "do not tune to adaptive-a").

Prepared pairs are cached under ``--cache`` (pickle) so repeated probes cost only the learning.

    .venv/bin/python bench/adaptive_probe.py --style adaptive-a [--heldout] [--n-train 12]
"""
from __future__ import annotations

import argparse
import math
import os
import pickle
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def db(mse: float) -> float:
    return 10 * math.log10(1.0 / max(mse, 1e-12))


def mean_db(errors) -> float:
    """Mean per-pair PSNR, as the benchmark averages (not the PSNR of the pooled error)."""
    return float(np.mean([db(e) for e in errors]))


def cached_items(style: str, names: list[str], cache: Path):
    import imitation

    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"{style}-{'-'.join(names)}.pkl"
    if path.exists():
        with path.open("rb") as f:
            return pickle.load(f)
    items = imitation.items_of(style, names)
    with path.open("wb") as f:
        pickle.dump(items, f)
    return items


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--style", default="adaptive-a")
    parser.add_argument("--n-train", type=int, default=12)
    parser.add_argument("--heldout", action="store_true")
    parser.add_argument("--cache", default="bench-out/probe-cache")
    args = parser.parse_args()
    os.environ.setdefault("SILVERPRINT_HOME", tempfile.mkdtemp(prefix="silverprint-probe-"))

    import imitation
    from silverprint.learn import fit, model
    from silverprint.learn.learner import learn_items, split

    names = sorted(p.stem for p in (imitation.DATA / args.style / "originals").glob("*.jpg"))
    train, test = split(names, 12)
    train = train[:args.n_train]
    items = cached_items(args.style, train, Path(args.cache))
    start = time.monotonic()
    fitted = learn_items(items, components="auto")
    print(f"learned from {len(items)} pairs in {time.monotonic() - start:.1f} s; "
          f"kept {'+'.join(fitted.learned.ablation['kept'])}; prior {fitted.prior}")
    loo = fitted.learned.ablation["loo_mse"]
    print("training LOO (fit previews, PSNR of the pooled error): "
          + ", ".join(f"{k} {db(v):.2f} dB" for k, v in loo.items()))
    print(f"decoder cross-validation: {fitted.learned.ablation.get('decoder_cv')}")
    base = fitted.learned.params
    err_base = [model._pair_error(base, s.data) for s in fitted.states]
    err_own = [model._pair_error(model.add_vector(base, s.delta), s.data) for s in fitted.states]
    print(f"train: base {mean_db(err_base):.2f} dB, base + own per-pair fit {mean_db(err_own):.2f} dB")
    keys = model.VECTOR_KEYS
    deltas = np.array([s.delta for s in fitted.states])
    moved = np.where(np.abs(deltas).max(0) > 1e-6)[0]
    print("per-pair deltas that move (slider: mean, sd over pairs):")
    for j in moved:
        if keys[j].startswith("sky."):  # regions move alike in the pair fit: show one
            print(f"  {keys[j].split('.', 1)[1]:<12} {deltas[:, j].mean():+8.3f} {deltas[:, j].std():7.3f}")
    if not args.heldout:
        return 0
    tests = cached_items(args.style, test, Path(args.cache))
    states = [model.PairState(t.data) for t in tests]
    with fit.single_thread():
        model.fit_pairs(states, base)
    e_base = [model._pair_error(base, s.data) for s in states]
    e_own = [model._pair_error(model.add_vector(base, s.delta), s.data) for s in states]
    style = model.build_style(fitted.learned, "probe", description="probe", provenance={})
    from silverprint.styles import decode

    e_style = [model._pair_error(decode(style, s.data.descriptors), s.data) for s in states]
    print(f"held out: base {mean_db(e_base):.2f} dB, learned style {mean_db(e_style):.2f} dB, "
          f"base + own per-pair fit (oracle) {mean_db(e_own):.2f} dB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
