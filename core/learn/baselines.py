"""The baselines a learned style must beat, computed the same way for every portfolio.

- Rec.709: plain luminance (what a neutral conversion gives).
- ``cv2.decolor``: contrast-preserving decolourisation (Lu et al. 2012), a classic automatic method.
- Global fit: 3 channel weights (linear light or sRGB, whichever fits better) and a monotone tone
  curve, fitted on the training pairs: the ceiling of any method that treats every pixel alike.
  It also seeds the per-pair inverse fit, so it is kept as an explicit result type.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .metrics import luminance, srgb_to_linear

#: Resolution of the fitted tone curve (a dense lookup table over the mixed grey).
CURVE_BINS = 256


def rec709(rgb: np.ndarray) -> np.ndarray:
    return luminance(rgb)


def decolor(rgb: np.ndarray) -> np.ndarray:
    import cv2

    bgr = np.ascontiguousarray((np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8)[..., ::-1])
    grey, _ = cv2.decolor(bgr)
    return grey.astype(np.float32) / 255.0


def isotonic(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted non-decreasing least-squares fit (pool adjacent violators)."""
    values: list[float] = []
    weights: list[float] = []
    counts: list[int] = []
    for yi, wi in zip(y.tolist(), w.tolist()):
        values.append(yi)
        weights.append(wi)
        counts.append(1)
        while len(values) > 1 and values[-2] > values[-1]:
            wsum = weights[-2] + weights[-1]
            merged = (values[-2] * weights[-2] + values[-1] * weights[-1]) / wsum if wsum > 0 else values[-1]
            values[-2:] = [merged]
            weights[-2:] = [wsum]
            counts[-2:] = [counts[-2] + counts[-1]]
    return np.repeat(np.array(values), counts)


@dataclass
class GlobalFit:
    """Channel weights + monotone curve: grey = curve(weights . rgb) in the chosen space."""

    weights: np.ndarray  # (3,), sum 1
    space: str  # "linear" or "srgb"
    lo: float
    hi: float
    curve: np.ndarray  # (CURVE_BINS,) outputs in [0, 1] over [lo, hi] of the mixed value
    train_mse: float = field(default=0.0)

    def mixed(self, rgb: np.ndarray) -> np.ndarray:
        x = srgb_to_linear(rgb) if self.space == "linear" else np.asarray(rgb, np.float32)
        return x @ self.weights.astype(np.float32)

    def apply(self, rgb: np.ndarray) -> np.ndarray:
        m = self.mixed(rgb)
        grid = np.linspace(self.lo, self.hi, CURVE_BINS)
        return np.clip(np.interp(m, grid, self.curve), 0.0, 1.0).astype(np.float32)

    def to_dict(self) -> dict:
        return {"weights": [float(v) for v in self.weights], "space": self.space, "lo": self.lo,
                "hi": self.hi, "curve": [round(float(v), 6) for v in self.curve]}


def _curve_for(m: np.ndarray, target: np.ndarray, lo: float, hi: float) -> tuple[np.ndarray, float]:
    idx = np.clip(((m - lo) / (hi - lo) * (CURVE_BINS - 1)).round().astype(np.int64), 0, CURVE_BINS - 1)
    count = np.bincount(idx, minlength=CURVE_BINS).astype(np.float64)
    total = np.bincount(idx, weights=target, minlength=CURVE_BINS)
    sq = np.bincount(idx, weights=target * target, minlength=CURVE_BINS)
    mean = np.where(count > 0, total / np.maximum(count, 1), 0.0)
    fitted = isotonic(mean, count)
    # Empty bins: interpolate from their neighbours so the curve is defined everywhere.
    have = count > 0
    grid = np.arange(CURVE_BINS)
    fitted = np.interp(grid, grid[have], fitted[have])
    sse = float(np.sum(sq - 2 * fitted * total + count * fitted * fitted))
    return fitted, sse / max(1.0, float(count.sum()))


def fit_global(rgbs: list[np.ndarray], greys: list[np.ndarray], *, max_pixels: int = 400_000,
               seed: int = 0) -> GlobalFit:
    """Fit the best global channel mix + monotone curve on (colour, grey) training images."""
    from scipy.optimize import minimize

    rng = np.random.default_rng(seed)
    rgb = np.concatenate([r.reshape(-1, 3) for r in rgbs]).astype(np.float32)
    grey = np.concatenate([g.reshape(-1) for g in greys]).astype(np.float64)
    if len(grey) > max_pixels:
        pick = rng.choice(len(grey), max_pixels, replace=False)
        rgb, grey = rgb[pick], grey[pick]
    best: GlobalFit | None = None
    for space in ("linear", "srgb"):
        x = srgb_to_linear(rgb) if space == "linear" else rgb

        def weights_of(v: np.ndarray) -> np.ndarray:
            return np.array([v[0], v[1], 1.0 - v[0] - v[1]])

        def loss(v: np.ndarray) -> float:
            m = x @ weights_of(v).astype(np.float32)
            lo, hi = float(m.min()), float(m.max())
            if hi - lo < 1e-6:
                return 1.0
            return _curve_for(m.astype(np.float64), grey, lo, hi)[1]

        starts = [np.array([0.2126, 0.7152]), np.array([0.33, 0.33]), np.array([0.6, 0.3])]
        for start in starts:
            res = minimize(loss, start, method="Nelder-Mead",
                           options={"xatol": 1e-4, "fatol": 1e-9, "maxiter": 300})
            w = weights_of(res.x)
            m = (x @ w.astype(np.float32)).astype(np.float64)
            lo, hi = float(m.min()), float(m.max())
            curve, mse = _curve_for(m, grey, lo, hi)
            if best is None or mse < best.train_mse:
                best = GlobalFit(w, space, lo, hi, curve, mse)
    assert best is not None
    return best
