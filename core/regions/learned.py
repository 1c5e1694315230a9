"""Sky from a small fitted classifier over generic per-pixel and per-segment features.

Why fitted, not hand-made: the sky rules tuned while looking at a dozen photos did not carry to
new ones (a dark wooded mountain read as sky, textured clouds, sky in the gaps between sails).
A tiny multilayer perceptron over the cues a person uses (colour in Lab and as shot, texture
energy at three scales and its median, fine detail, brightness relative to the frame, vertical
position, and the same averaged over the pixel's colour segment with the segment's extent) is
fitted to hand-drawn labels by `fitting.fit_classifier` (re-run with ``bench/fit_regions.py``),
and measured leave-one-photo-out (``bench/regions.py``), so its number is not one it has seen.

Vegetation stays with the rules in `vegetation`: fitted the same way it scored far lower, both
cross-validated and on the photos held out from the rules (see the bench), on this few photos.

The weights (a few hundred numbers) ship in ``silverprint_resources/regions/``; inference is two
small matrix products on the working grid (~70 k pixels), a few milliseconds.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from .features import Features, compute_features, resize_long

CLASSES = ("sky", "vegetation", "rest")  #: output order (foliage as its own class helps the sky)
MODEL_FILE = "sky.npz"
SKY_SIZE = 160  #: long side of the grid the sky is classified on
MIN_SKY_AREA = 0.01  #: sky components smaller than this fraction of the frame are dropped
TOP_BAND = 0.05  #: a sky component must reach into this top fraction of the frame

POOLED = ("L", "a", "b", "chroma", "excess_green", "sat_cos_hue", "sat_sin_hue", "L_rank",
          "log_texture5", "log_median5", "log_detail", "row")  #: features also averaged per segment
SEGMENT_SCALE = 150.0  #: Felzenszwalb scale (larger: bigger segments)

FEATURE_NAMES: tuple[str, ...] = (
    "L", "a", "b", "chroma", "r_chrom", "g_chrom", "excess_green", "sat", "sat_cos_hue",
    "sat_sin_hue", "value", "L_minus_median", "L_rank", "log_edge", "log_texture5",
    "log_texture11", "log_texture25", "log_median5", "log_median9", "log_median17", "log_detail",
    "log_median_detail9", "std_a7", "std_b7", "row",
) + tuple("seg_" + n for n in POOLED) + ("seg_area", "seg_top", "seg_bottom")


def _blur(x: np.ndarray, k: int) -> np.ndarray:
    return cv2.blur(x, (k, k), borderType=cv2.BORDER_REFLECT)


def pixel_features(f: Features) -> np.ndarray:
    """(h, w, len(FEATURE_NAMES)) float32 features, in `FEATURE_NAMES` order, unnormalised.

    Every feature is relative or bounded (no absolute image size enters), so a model fitted on
    the working grids of the labelled photos applies to any photo brought to that grid.
    """
    light, a, b = f.lab[..., 0], f.lab[..., 1], f.lab[..., 2]
    h, w = light.shape
    rgb = f.rgb
    total = rgb.sum(axis=2) + 1e-3
    r_c, g_c, b_c = rgb[..., 0] / total, rgb[..., 1] / total, rgb[..., 2] / total
    hue = np.deg2rad(f.hue)
    sample = np.sort(light[:: max(1, h // 64), :: max(1, w // 64)].ravel())
    rank = np.searchsorted(sample, light.ravel()).reshape(h, w) / max(1, sample.size)
    detail = f.detail if f.detail is not None else f.edge * 0.25
    cols = [
        light / 100.0, a / 50.0, b / 50.0, f.chroma / 50.0, r_c, g_c, 2 * g_c - r_c - b_c, f.sat,
        f.sat * np.cos(hue), f.sat * np.sin(hue), rgb.max(axis=2), (light - f.l_median) / 25.0,
        rank, np.log1p(f.edge), np.log1p(f.texture), np.log1p(_blur(f.edge, 11)),
        np.log1p(_blur(f.edge, 25)), _log_median(f.edge, 5), _log_median(f.edge, 9),
        _log_median(f.edge, 17), np.log1p(detail), _log_median(detail, 9),
        np.log1p(_std(a, 7)), np.log1p(_std(b, 7)), f.rows,
    ]
    x = np.stack([np.asarray(c, np.float32) for c in cols], axis=-1)
    return np.concatenate([x, segment_features(rgb, x)], axis=-1)


def segment_features(rgb: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Per-pixel copies of per-segment statistics: the `POOLED` features averaged over the
    pixel's colour segment, its area, and its top and bottom rows.

    A segment is one surface (a cloud, a lawn, a wall), so its averages describe the surface
    rather than the pixel: the outline of a sail has foliage-like gradients, the sail does not;
    a sky segment reaches the top of the frame. Segments come from Felzenszwalb's graph
    segmentation of the (coarse) grid, a few milliseconds.
    """
    from skimage.segmentation import felzenszwalb  # lazy: scikit-image import is slow

    h, w = rgb.shape[:2]
    seg = felzenszwalb(rgb, scale=SEGMENT_SCALE, sigma=0.8, min_size=8).astype(np.int64)
    flat = seg.ravel()
    n = int(flat.max()) + 1
    count = np.maximum(np.bincount(flat, minlength=n), 1).astype(np.float64)
    idx = [FEATURE_NAMES.index(name) for name in POOLED]
    cols = [np.bincount(flat, weights=x[..., i].ravel(), minlength=n) / count for i in idx]
    # Raster order: a segment's first pixel lies on its top row, its last on its bottom row.
    top = np.zeros(n)
    bottom = np.zeros(n)
    ids, first = np.unique(flat, return_index=True)
    top[ids] = (first // w) / max(h - 1, 1)
    ids, last = np.unique(flat[::-1], return_index=True)
    bottom[ids] = ((flat.size - 1 - last) // w) / max(h - 1, 1)
    cols += [np.log(count / flat.size), top, bottom]
    return np.stack([c[seg].astype(np.float32) for c in cols], axis=-1)


def _log_median(x: np.ndarray, k: int) -> np.ndarray:
    """log(1 + median of x over a k x k window): texture that an isolated edge does not raise.

    A mean of gradient energy is high along every object outline; foliage is rough across the
    whole window, so the median stays high there and drops to the surface's own texture beside
    a single edge. Quantised to 1/8 units for OpenCV's 8-bit median of large windows.
    """
    q = np.clip(np.log1p(x) * 32.0, 0, 255).astype(np.uint8)
    return cv2.medianBlur(q, k).astype(np.float32) / 32.0


def _std(x: np.ndarray, k: int) -> np.ndarray:
    m = _blur(x, k)
    return np.sqrt(np.maximum(_blur(x * x, k) - m * m, 0.0))


@dataclass(frozen=True)
class RegionClassifier:
    """Standardisation + a small ReLU perceptron: features (n, D) -> class probabilities (n, 3)."""

    mean: np.ndarray
    scale: np.ndarray
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    sharpness: float = 1.0  #: logit scale fitted after the weights (weight decay shrinks logits)

    def logits(self, x: np.ndarray) -> np.ndarray:
        z = (np.asarray(x, np.float32) - self.mean) / self.scale
        for i, (wt, bias) in enumerate(zip(self.weights, self.biases)):
            z = z @ wt + bias
            if i < len(self.weights) - 1:
                np.maximum(z, 0.0, out=z)
        return z

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        z = self.logits(x) * np.float32(self.sharpness)
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        return z

    def save(self, path: Path) -> None:
        """Write atomically (temp + rename) as an .npz of plain arrays."""
        path = Path(path)
        arrays = {"feature_names": np.array(FEATURE_NAMES), "classes": np.array(CLASSES),
                  **self.arrays("sky_")}
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, **arrays)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> RegionClassifier:
        with np.load(Path(path), allow_pickle=False) as data:
            names = tuple(str(n) for n in data["feature_names"])
            if names != FEATURE_NAMES:
                raise ValueError(f"{path}: fitted on features {names}, this code computes {FEATURE_NAMES}")
            return cls.from_arrays(data, "sky_")

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        out = {f"{prefix}mean": self.mean, f"{prefix}scale": self.scale,
               f"{prefix}sharpness": np.float32(self.sharpness)}
        for i, (wt, bias) in enumerate(zip(self.weights, self.biases)):
            out[f"{prefix}w{i}"], out[f"{prefix}b{i}"] = wt, bias
        return out

    @classmethod
    def from_arrays(cls, data, prefix: str) -> RegionClassifier:
        n = sum(1 for k in data.files if k.startswith(f"{prefix}w"))
        return cls(data[f"{prefix}mean"].astype(np.float32), data[f"{prefix}scale"].astype(np.float32),
                   tuple(data[f"{prefix}w{i}"].astype(np.float32) for i in range(n)),
                   tuple(data[f"{prefix}b{i}"].astype(np.float32) for i in range(n)),
                   float(data[f"{prefix}sharpness"]))


def model_path() -> Path:
    import silverprint_resources

    return Path(silverprint_resources.__file__).parent / "regions" / MODEL_FILE


@functools.lru_cache(maxsize=1)
def shipped_classifier() -> RegionClassifier:
    """The classifier fitted on all labelled photos (``bench/fit_regions.py``), loaded once."""
    return RegionClassifier.load(model_path())


def class_probabilities(f: Features, model: RegionClassifier | None = None) -> np.ndarray:
    """(h, w, 3) probabilities in `CLASSES` order on the working grid."""
    model = shipped_classifier() if model is None else model
    x = pixel_features(f)
    h, w, d = x.shape
    return model.probabilities(x.reshape(-1, d)).reshape(h, w, len(CLASSES))


def drop_small(prob: np.ndarray, min_area: float, edge_discount: float = 0.5) -> np.ndarray:
    """Components (prob > 0.5) smaller than ``min_area`` of the frame are scaled to 0.2 x prob.

    A speck of sky or foliage is not a region worth its own sliders, and a stray one in a photo
    without sky costs more than it adds. A component cut by the frame edge is the visible part
    of something larger: ``edge_discount`` x the area suffices.
    """
    n, lab = cv2.connectedComponents((prob > 0.5).astype(np.uint8), connectivity=8)
    if n <= 1:
        return prob
    minimum = np.full(n, min_area * lab.size)
    minimum[np.unique(np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]]))] *= edge_discount
    small = np.bincount(lab.ravel(), minlength=n) < minimum
    small[0] = False
    return np.where(small[lab], prob * 0.2, prob).astype(np.float32)


def from_the_top(sky: np.ndarray, band: float = TOP_BAND) -> np.ndarray:
    """Sky components (prob > 0.5) that do not reach the top ``band`` of the frame are scaled
    to 0.2 x prob: the sky is above everything else, a bright patch lower down (a wall, a
    window, water) is not sky."""
    n, lab = cv2.connectedComponents((sky > 0.5).astype(np.uint8), connectivity=8)
    if n <= 1:
        return sky
    top = np.zeros(n, bool)
    top[np.unique(lab[: max(2, round(band * lab.shape[0]))])] = True
    top[0] = True
    return np.where(top[lab], sky, sky * 0.2).astype(np.float32)


def sky_features(f: Features) -> Features:
    """The working-grid `Features` ``f`` carried to the sky's own grid (`SKY_SIZE` long side).

    The fine detail measured at the analysis size is area-resampled, not measured again.
    """
    coarse = compute_features(resize_long(f.rgb, SKY_SIZE))
    if f.detail is None:
        return coarse
    h, w = coarse.lab.shape[:2]
    return replace(coarse, detail=cv2.resize(f.detail, (w, h), interpolation=cv2.INTER_AREA))


def sky_probability(f: Features, model: RegionClassifier | None = None) -> np.ndarray:
    """Soft sky probability (h, w) float32 on the working grid of ``f`` (``model`` None: the
    shipped classifier).

    Classified on the coarse `SKY_SIZE` grid (a sky is large; a quarter of the working grid's
    pixels keeps the analysis fast), brought back bilinearly, and kept only where it reaches
    the top of the frame and is not a speck (`from_the_top`, `drop_small`).
    """
    coarse = class_probabilities(sky_features(f), model)[..., 0]
    h, w = f.lab.shape[:2]
    sky = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_LINEAR)
    return drop_small(from_the_top(sky), MIN_SKY_AREA)
