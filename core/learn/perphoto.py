"""The per-photo decoder: how a photographer's exposure and tone moves follow what a photo shows.

Why it is fitted in image space. Each training pair's own sliders (`model.fit_pairs`) are a poor
regression target: exposure, contrast, highlights, whites and the curve overlap, so two pairs given
the same look can land far apart in slider units, and averaging or regressing those numbers makes
sliders that fit neither (measured on a content-adaptive portfolio: the training pairs' mean
per-pair delta renders 0.7 dB *worse* than no delta, leave-one-out; see bench/adaptive_probe.py).
So the decoder is fitted the way the base is: through the renderer, on every pair's pixels at
once. Each pair's sliders are the style's (base + subject deltas) plus

    delta = b + W z,   z = standardised descriptors (a few photographic ones, `INPUTS`)

on the tone sliders of every region alike (`OUTPUTS`), minimising the mean over pairs of
log MSE (the mean per-photo PSNR the metric reports, so that a few hard photos do not decide
for all) plus ``lam |W|^2``: ridge shrinkage of every dependence toward the style's global value.
The fit is Gauss-Newton: the renderer is linearised around each pair's current sliders (one-sided
finite differences of `_JAC_STEP` normalised units: the fit's cost is its renders) and the
regularised normal equations are solved in closed form, a handful of iterations.

How strong the shrinkage is, and whether a dependence is kept at all, is decided by
cross-validation on the training pairs (`choose`): each fold's pairs are predicted by a decoder
fitted on the others, for every candidate ``lam`` and for "no decoder"; a decoder is kept only if
its cross-validated error beats no decoder by the bar every learned component meets.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import torch

from ..descriptors import DESCRIPTOR_INDEX
from ..params import REGION_SLIDER_SPECS, REGION_SLIDERS, Params
from . import fit

#: Sliders the decoder moves per photo (every region alike): the tone a photographer sets per
#: photo. Colour filters and geometry stay the style's (subjects carry those).
OUTPUTS: tuple[str, ...] = ("exposure", "contrast", "highlights", "shadows", "whites", "blacks")
#: What the decoder reads: the brightness distribution (median, dark and bright ends) and spread.
#: Few on purpose: with 6-24 pairs every input is a way to fit noise.
INPUTS: tuple[str, ...] = ("lum_p50", "lum_p05", "lum_p95", "contrast")
#: Pairs a style needs before it may keep a decoder: two per coefficient of one slider's line
#: (intercept + `INPUTS`). Fewer, and cross-validation itself is noise: on adaptive-a, 6 pairs
#: chose a decoder that scored 23.96 -> 22.63 dB on the held-out photos (12 pairs: a gain).
MIN_PAIRS = 2 * (1 + len(INPUTS))
#: Ridge strengths tried by cross-validation (in units of the mean per-pair Gauss-Newton
#: curvature, so that they mean the same for every style); inf = the intercept alone.
LAMBDAS: tuple[float, ...] = (0.3, 3.0, math.inf)
#: Pixels sampled per pair, Gauss-Newton iterations (full fit / each cross-validation fold's refit).
SAMPLES = 1200
ITERATIONS = 5
FOLD_ITERATIONS = 3
FOLDS = 4
_JAC_STEP = 0.02
#: Pull of the decoder's intercept (the push it gives every photo) toward the style's own sliders,
#: in the same curvature units as ``lam``: weak, but with few pairs the tone sliders overlap and an
#: unpulled intercept wanders to extremes that cancel out on the training pairs only (measured on
#: adaptive-a with 6 pairs: highlights -95, shadows -78).
INTERCEPT_RIDGE = 0.3
_COLS = [REGION_SLIDERS.index(s) for s in OUTPUTS]
_SCALE = np.array([(REGION_SLIDER_SPECS[s].hi - REGION_SLIDER_SPECS[s].lo) / 2 for s in OUTPUTS])
_LO = torch.tensor([REGION_SLIDER_SPECS[s].lo for s in OUTPUTS])
_HI = torch.tensor([REGION_SLIDER_SPECS[s].hi for s in OUTPUTS])


@dataclass
class _Pair:
    """One training pair, ready for many renders: its sampled pixels and its fixed sliders."""

    batch: object
    tensors: object


def prepare(data: list[fit.FitData], starts: list[Params]) -> list[_Pair]:
    out = []
    for item, params in zip(data, starts):
        batch = fit._sampled_batch([item], SAMPLES, seed=1, fixed_local=params)
        out.append(_Pair(batch, fit._tensors(params)))
    return out


def _render(pair: _Pair, delta: np.ndarray) -> np.ndarray:
    """The pair's rendered samples with ``delta`` (normalised units, `OUTPUTS`) on every region.

    Each slider is clamped to its range, as `styles.decode` clamps it when the style renders: a
    move past the end of a slider changes nothing here either, so the fit cannot rely on values
    (an exposure of +7 EV, highlights at -300) that the style file would never render.
    """
    t = pair.tensors
    region = t.region.clone()
    moved = t.region[:, _COLS] + torch.as_tensor(delta * _SCALE, dtype=t.region.dtype)
    region[:, _COLS] = torch.minimum(torch.maximum(moved, _LO.to(moved.dtype)), _HI.to(moved.dtype))
    with torch.no_grad():
        out = fit._render(replace(t, region=region), pair.batch)
    return (out - pair.batch.edit).reshape(-1).double().numpy()


def error(pair: _Pair, delta: np.ndarray) -> float:
    """Mean squared error of the pair's samples with ``delta``."""
    r = _render(pair, delta)
    return float(r @ r / r.size)


def _normal(pair: _Pair, delta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Newton curvature and gradient of the pair's log MSE at ``delta``."""
    r0 = _render(pair, delta)
    cols = []
    for j in range(len(OUTPUTS)):
        step = np.zeros(len(OUTPUTS))
        step[j] = _JAC_STEP
        cols.append((_render(pair, delta + step) - r0) / _JAC_STEP)  # one-sided: half the renders
    jac = np.array(cols).T
    mse = max(float(r0 @ r0 / r0.size), 1e-8)
    return jac.T @ jac / r0.size / mse, jac.T @ r0 / r0.size / mse


def fit_linear(pairs: list[_Pair], z: np.ndarray, lam: float, *,
               iterations: int = ITERATIONS, unit: float | None = None) -> tuple[np.ndarray, float]:
    """``A`` (outputs x (1 + inputs)) with delta_i = A @ [1, z_i], and the curvature unit used.

    ``lam`` = inf fits the intercept alone. Levenberg damping keeps each step where the
    linearisation holds.
    """
    m, k = len(OUTPUTS), z.shape[1]
    phi = np.hstack([np.ones((len(z), 1)), z])
    a = np.zeros((m, k + 1))
    if math.isinf(lam):
        a[:, 1:] = 0.0
    for _ in range(iterations):
        lhs = np.zeros((m * (k + 1), m * (k + 1)))
        rhs = np.zeros(m * (k + 1))
        for p, pair in zip(phi, pairs):
            d = a @ p
            h, g = _normal(pair, d)
            lhs += np.kron(np.outer(p, p), h)
            rhs += np.kron(p, h @ d - g)
        if unit is None:
            unit = max(float(np.trace(lhs[:m, :m])) / m / len(pairs), 1e-9)
        reg = np.full(k + 1, 1e12 * unit if math.isinf(lam) else lam * unit)
        reg[0] = INTERCEPT_RIDGE * unit
        damping = 1e-2 * unit
        lhs += np.kron(np.diag(reg), np.eye(m)) + damping * np.eye(m * (k + 1))
        rhs += damping * a.T.reshape(-1)
        a = np.linalg.solve(lhs, rhs).reshape(k + 1, m).T
    return a, unit if unit is not None else 1.0


def _log_error(pairs: list[_Pair], deltas: np.ndarray) -> np.ndarray:
    return np.array([math.log(max(error(p, d), 1e-10)) for p, d in zip(pairs, deltas)])


@dataclass
class Choice:
    """What cross-validation chose: ``lam`` (None: no decoder), each candidate's CV log error."""

    lam: float | None
    matrix: np.ndarray | None
    cv: dict[str, float]


def choose(pairs: list[_Pair], z: np.ndarray, min_gain: float, *, force: bool = False) -> Choice:
    """Cross-validate every ``lam`` of `LAMBDAS` against no decoder; fit the winner on all pairs.

    Errors are mean log MSE per pair (``min_gain`` is a relative MSE reduction, as elsewhere in
    the learner). Folds are contiguous in the training order, which the split already permuted.
    ``force``: keep the best decoder even if no decoder does better (the benchmark's ablation).
    """
    n = len(pairs)
    folds = np.array_split(np.arange(n), min(FOLDS, n))
    none = _log_error(pairs, np.zeros((n, len(OUTPUTS)))).mean()
    cv = {"none": float(none)}
    best: tuple[float, float | None] = (math.inf if force else none + math.log(1 - min_gain), None)
    fulls = {}
    for lam in LAMBDAS:
        full, unit = fit_linear(pairs, z, lam)
        fulls[lam] = full
        errs = np.zeros(n)
        for fold in folds:
            train = np.setdiff1d(np.arange(n), fold)
            # from zero, not from ``full``: a start fitted on every pair has seen this fold, and
            # a refit that barely moves from it scores the fold as if it had been trained on it
            a, _ = fit_linear([pairs[i] for i in train], z[train], lam, iterations=FOLD_ITERATIONS, unit=unit)
            phi = np.hstack([np.ones((len(fold), 1)), z[fold]])
            errs[fold] = _log_error([pairs[i] for i in fold], phi @ a.T)
        cv[f"{lam:g}"] = float(errs.mean())
        if errs.mean() < best[0]:
            best = (float(errs.mean()), lam)
    lam = best[1]
    return Choice(lam, None if lam is None else fulls[lam], cv)


def inputs_of(descriptors: np.ndarray) -> np.ndarray:
    """The decoder's raw inputs (pairs x `INPUTS`) from full descriptor vectors."""
    return np.asarray(descriptors, dtype=np.float64)[:, [DESCRIPTOR_INDEX[n] for n in INPUTS]]


def as_file(matrix: np.ndarray, center: np.ndarray, scale: np.ndarray,
            train_deltas: np.ndarray) -> dict:
    """The style file's linear decoder for ``matrix`` (fitted on standardised inputs).

    Outputs are ``all.<slider>`` in slider units; each is clipped to 1.5 times the largest move
    it made on a training photo (or its intercept), so an unusual photo is not pushed past what
    the photographer ever did.
    """
    weights = matrix[:, 1:] * _SCALE[:, None] / scale[None]
    bias = matrix[:, 0] * _SCALE
    reach = np.maximum(np.abs(train_deltas).max(0) * _SCALE * 1.5, np.abs(bias) * 1.5)
    return {"inputs": list(INPUTS), "center": center.tolist(),
            "outputs": [f"all.{s}" for s in OUTPUTS], "weights": weights.tolist(),
            "bias": bias.tolist(), "clip": [[-float(r), float(r)] for r in reach]}
