"""Sky from a small fitted classifier over generic per-pixel and per-segment features, adapted
to each photo.

Why fitted, not hand-made: the sky rules tuned while looking at a dozen photos did not carry to
new ones (a dark wooded mountain read as sky, textured clouds, sky in the gaps between sails).
A tiny multilayer perceptron over the cues a person uses (colour in Lab and as shot, texture
energy at three scales and its median, fine detail, brightness relative to the frame, vertical
position, and the same averaged over the pixel's colour segment with the segment's extent) is
fitted to hand-drawn labels by `fitting.fit_classifier` (re-run with ``bench/fit_regions.py``),
and measured leave-one-photo-out (``bench/regions.py``), so its number is not one it has seen.
An optional second stage (`RegionModel.second`, `context_features`) sees the first one's
output in context; `fitting.STAGES` says whether the shipped model has one.

Why adapted: a classifier fitted on 29 photos knows skies in general, not this photo's. The
pixels it is sure of seed Gaussian mixtures of this photo's own sky and ground, which then decide
the unsure ones (`adapt_to_photo`: white sails next to a white-blue sky, clouds over a forest).
Bright cumulus the classifier calls ground joins the sky when it hangs in it (`clouds_in_the_sky`:
sky or cloud above it, near-neutral, brighter than the ground at the bottom of the frame, and the
sky around a share of its outline that the fit chooses on its training photos, so the
cross-validation measures that choice too). Last, a sky must reach the top and span part of it
(`from_the_top`, `spans_the_top`).

Vegetation stays with the rules in `vegetation`: fitted the same way it scored far lower, both
cross-validated and on the photos held out from the rules (the bench prints both).

Measured leave-one-photo-out (the bench's fold models): the clouds took the sky from 0.779 to
0.817 (kodim16 0.524 -> 0.913, kodim13 0.592 -> 0.651, kodim20, kodim21, kodim06 +0.02-0.06, no
photo lower by more than 0.005); the outline share is what keeps kodim22's sunlit barn roof and kodim10's shaded
sails out (sky above them, buildings, trees or hull around the rest).

A sky that is not blue must light the scene (`lights_the_scene`): kodim07's pale wall, filling
the top of a close-up of shutters and flowers, passed every test above. Tried first and not
shipped: a daylight-colour veto (after the grey-edge balance kodim16's sunlit cumulus is greener
than that wall), the classifier's confidence, brightness against the bottom of the frame, how
much image edge the outline follows. What separates it is physical: an overcast, hazy or sunset
sky is the light source of what is under it, so its median L* outshines nearly all of the rest
of the frame (the labelled non-blue skies: 82 % for kodim11 to 100 %); the wall outshines 71 %.
Leave-one-photo-out: 0.817 -> 0.872 (kodim07 leaves the mean; no other photo moves). Caveats,
said plainly: the rule and its two constants were found while looking at kodim07, the only such
wall among the labels, and kodim11 passes with a margin of 2 points; a dull sky over a brighter
snowfield would be dropped (a graduated filter still darkens it).

The weights (a few thousand numbers) ship in ``silverprint_resources/regions/``; inference is
small matrix products on the sky grid (`SKY_SIZE`, ~17 k pixels), a few milliseconds.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from ..fileio import atomic_path
from .features import MIN_SIDE, Features, compute_features, resize_long

CLASSES = ("sky", "vegetation", "rest")  #: output order (foliage as its own class helps the sky)
MODEL_FILE = "sky.npz"
SKY_SIZE = 160  #: long side of the grid the sky is classified on
MIN_SKY_AREA = 0.01  #: sky components smaller than this fraction of the frame are dropped
MIN_VEGETATION_AREA = 0.015  #: the same for (fitted) vegetation, as the rules' `vegetation.MIN_AREA`
TOP_BAND = 0.05  #: a sky component must reach into this top fraction of the frame
MIN_TOP_SPAN = 0.2  #: ... and the sky, all components together, span this much of its width there
ADAPT_HIGH, ADAPT_LOW = 0.8, 0.1  #: sure sky (reaching the top) / sure ground for `adapt_to_photo`
ADAPT_WEIGHT = 0.6  #: weight of the photo's own log-likelihood ratio against the classifier's log-odds
ADAPT_TEXTURE = 5.0  #: L* units per unit of log(1 + texture) in the photo's colour-texture model
ADAPT_SAMPLES = 3000  #: pixels each mixture is fitted on (at most)
ADAPT_MIN_PIXELS = 50  #: fewer sure pixels on either side: no adaptation
CLOUD_MARGIN = 10.0  #: L* a cloud may lie below the median of the photo's sure sky (its shaded parts)
CLOUD_CHROMA = 30.0  #: Lab chroma under which a pixel is near-neutral enough to be cloud
GROUND_BAND = 0.2  #: bottom fraction of the frame taken as the ground for `clouds_in_the_sky`
GROUND_PERCENTILE = 90.0  #: a cloud is brighter than this percentile of that ground's L*
CLOUD_SHARE = 0.4  #: share of a cloud's outline bordering sure sky; the fit chooses it (`fitting`)
CLOUD_PROBABILITY = 0.75  #: sky probability given to the cloud pixels found
CLOUD_MAX_ASPECT = 2.0  #: a candidate taller than this many times its width is a tower, not a cloud
BLUE_SKY_B = -5.0  #: b* (median over the sure sky) below which a sky is blue; above it, it must outshine
OUTSHINE = 0.8  #: share of the rest of the frame a sky that is not blue must be brighter than (median L*)

POOLED = ("L", "a", "b", "chroma", "excess_green", "sat_cos_hue", "sat_sin_hue", "L_rank",
          "log_texture5", "log_median5", "log_detail", "row")  #: features also averaged per segment
SEGMENT_SCALE = 150.0  #: Felzenszwalb scale (larger: bigger segments)

CONTEXT_NAMES: tuple[str, ...] = (
    "sky", "veg", "seg_sky", "seg_veg", "sky9", "sky33", "veg9", "above_rest", "above_max",
)  #: second-stage inputs from the first stage's probabilities (`context_features`)

FEATURE_NAMES: tuple[str, ...] = (
    "L", "a", "b", "chroma", "r_chrom", "g_chrom", "excess_green", "sat", "sat_cos_hue",
    "sat_sin_hue", "value", "L_minus_median", "L_rank", "log_edge", "log_texture5",
    "log_texture11", "log_texture25", "log_median5", "log_median9", "log_median17", "log_detail",
    "log_median_detail9", "std_a7", "std_b7", "row",
) + tuple("seg_" + n for n in POOLED) + ("seg_area", "seg_top", "seg_bottom")


def _blur(x: np.ndarray, k: int) -> np.ndarray:
    return cv2.blur(x, (k, k), borderType=cv2.BORDER_REFLECT)


def pixel_features(f: Features) -> np.ndarray:
    """(h, w, len(FEATURE_NAMES)) float32 features, in `FEATURE_NAMES` order, unnormalised."""
    return pixel_features_and_segments(f)[0]


def pixel_features_and_segments(f: Features) -> tuple[np.ndarray, np.ndarray]:
    """(`pixel_features`, the (h, w) int64 colour segments they were pooled over).

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
    seg = segments(rgb)
    return np.concatenate([x, segment_features(seg, x)], axis=-1), seg


def segments(rgb: np.ndarray) -> np.ndarray:
    """(h, w) int64 colour segments: Felzenszwalb's graph segmentation, a few milliseconds here."""
    from skimage.segmentation import felzenszwalb  # lazy: scikit-image import is slow

    return felzenszwalb(rgb, scale=SEGMENT_SCALE, sigma=0.8, min_size=8).astype(np.int64)


def _segment_mean(seg: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per-pixel copy of the mean of each (h, w) ``values`` plane (channels last) over its segment."""
    flat = seg.ravel()
    n = int(flat.max()) + 1
    count = np.maximum(np.bincount(flat, minlength=n), 1).astype(np.float64)
    planes = values.reshape(flat.size, -1)
    cols = [np.bincount(flat, weights=planes[:, i], minlength=n) / count for i in range(planes.shape[1])]
    return np.stack([c[seg].astype(np.float32) for c in cols], axis=-1)


def segment_features(seg: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Per-pixel copies of per-segment statistics: the `POOLED` features averaged over the
    pixel's colour segment, its area, and its top and bottom rows.

    A segment is one surface (a cloud, a lawn, a wall), so its averages describe the surface
    rather than the pixel: the outline of a sail has foliage-like gradients, the sail does not;
    a sky segment reaches the top of the frame.
    """
    h, w = seg.shape
    flat = seg.ravel()
    n = int(flat.max()) + 1
    count = np.maximum(np.bincount(flat, minlength=n), 1).astype(np.float64)
    pooled = _segment_mean(seg, x[..., [FEATURE_NAMES.index(name) for name in POOLED]])
    # Raster order: a segment's first pixel lies on its top row, its last on its bottom row.
    top = np.zeros(n)
    bottom = np.zeros(n)
    ids, first = np.unique(flat, return_index=True)
    top[ids] = (first // w) / max(h - 1, 1)
    ids, last = np.unique(flat[::-1], return_index=True)
    bottom[ids] = ((flat.size - 1 - last) // w) / max(h - 1, 1)
    extent = np.stack([c[seg].astype(np.float32) for c in (np.log(count / flat.size), top, bottom)], axis=-1)
    return np.concatenate([pooled, extent], axis=-1)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-3, 1 - 1e-3)
    return np.log(p / (1 - p)).astype(np.float32)


def context_features(prob: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """(h, w, len(CONTEXT_NAMES)) features of the first stage's (h, w, 3) class probabilities.

    What a person uses once they know roughly where the sky is (auto-context, Tu and Bai 2010):
    the verdict of the pixel's surface (segment) and of its neighbourhood at two scales, and
    whether the column above it is sky (a cloud hangs in the sky, snow lies under it). Frame-level
    statistics (how much sky, how sure) were tried too and did worse cross-validated (they
    erased kodim13's small sky).
    """
    h = prob.shape[0]
    sky, veg = prob[..., 0], prob[..., 1]
    sky_seg = _segment_mean(seg, prob[..., :2])
    sky9, sky33, veg9 = _blur(sky, 9), _blur(sky, 33), _blur(veg, 9)
    rows = np.arange(1, h + 1, dtype=np.float32)[:, None]
    above_rest = np.cumsum(1.0 - sky9, axis=0) / rows       # share of the column above not sky
    above_max = np.maximum.accumulate(sky9, axis=0)          # surest sky above the pixel
    cols = [_logit(sky), _logit(veg), _logit(sky_seg[..., 0]), _logit(sky_seg[..., 1]),
            _logit(sky9), _logit(sky33), _logit(veg9), above_rest, above_max]
    return np.stack([np.asarray(c, np.float32) for c in cols], axis=-1)


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


@dataclass(frozen=True)
class RegionModel:
    """The two stages: ``first`` on `FEATURE_NAMES`, ``second`` (None: one stage only) on
    `FEATURE_NAMES` + `CONTEXT_NAMES` of the first stage's output; and the post-processing
    threshold chosen on the same training photos (``cloud_share``)."""

    first: RegionClassifier
    second: RegionClassifier | None = None
    cloud_share: float = CLOUD_SHARE  #: `clouds_in_the_sky`'s threshold, chosen by the fit

    def probabilities(self, x: np.ndarray, seg: np.ndarray) -> np.ndarray:
        """(h, w, 3) class probabilities from (h, w, D) `pixel_features` and their segments."""
        h, w, d = x.shape
        prob = self.first.probabilities(x.reshape(-1, d)).reshape(h, w, len(CLASSES))
        if self.second is None:
            return prob
        z = np.concatenate([x, context_features(prob, seg)], axis=-1)
        return self.second.probabilities(z.reshape(h * w, -1)).reshape(h, w, len(CLASSES))

    def save(self, path: Path) -> None:
        """Write atomically (temp + rename) as an .npz of plain arrays."""
        path = Path(path)
        arrays = {"feature_names": np.array(FEATURE_NAMES), "context_names": np.array(CONTEXT_NAMES),
                  "classes": np.array(CLASSES), "cloud_share": np.float64(self.cloud_share),
                  **self.first.arrays("first_")}
        if self.second is not None:
            arrays.update(self.second.arrays("second_"))
        with atomic_path(path, suffix=".tmp.npz") as tmp:  # np.savez adds .npz to any other name
            np.savez(tmp, **arrays)

    @classmethod
    def load(cls, path: Path) -> RegionModel:
        with np.load(Path(path), allow_pickle=False) as data:
            names = tuple(str(n) for n in data["feature_names"])
            context = tuple(str(n) for n in data["context_names"])
            if names != FEATURE_NAMES or context != CONTEXT_NAMES:
                raise ValueError(f"{path}: fitted on features {names + context}, "
                                 f"this code computes {FEATURE_NAMES + CONTEXT_NAMES}")
            second = (RegionClassifier.from_arrays(data, "second_")
                      if "second_w0" in data.files else None)
            share = float(data["cloud_share"]) if "cloud_share" in data.files else CLOUD_SHARE
            return cls(RegionClassifier.from_arrays(data, "first_"), second, share)


def model_path() -> Path:
    import silverprint_resources

    return Path(silverprint_resources.__file__).parent / "regions" / MODEL_FILE


@functools.lru_cache(maxsize=1)
def shipped_model() -> RegionModel:
    """The model fitted on all labelled photos (``bench/fit_regions.py``), loaded once."""
    return RegionModel.load(model_path())


def class_probabilities(f: Features, model: RegionModel | None = None) -> np.ndarray:
    """(h, w, 3) probabilities in `CLASSES` order on the grid of ``f``."""
    model = shipped_model() if model is None else model
    x, seg = pixel_features_and_segments(f)
    return model.probabilities(x, seg)


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
    coarse = compute_features(resize_long(f.rgb, SKY_SIZE, MIN_SIDE))
    if f.detail is None:
        return coarse
    h, w = coarse.lab.shape[:2]
    return replace(coarse, detail=cv2.resize(f.detail, (w, h), interpolation=cv2.INTER_AREA))


def _log_likelihood(z: np.ndarray, sample: np.ndarray, clusters: int) -> np.ndarray:
    """Log-density of each row of ``z`` (n, D) under a Gaussian mixture fitted to ``sample``.

    Components from k-means (deterministic seeding), each a full-covariance Gaussian with a
    floor of one unit on the diagonal (one L* unit: a flat sky does not become a delta).
    """
    sample = np.ascontiguousarray(sample[:: max(1, len(sample) // ADAPT_SAMPLES)], np.float32)
    k = max(1, min(clusters, len(sample) // 50))
    if k > 1:
        cv2.setRNGSeed(0)
        criteria = (cv2.TERM_CRITERIA_MAX_ITER + cv2.TERM_CRITERIA_EPS, 10, 0.1)
        _, assign, _ = cv2.kmeans(sample, k, None, criteria, 1, cv2.KMEANS_PP_CENTERS)
        assign = assign.ravel()
    else:
        assign = np.zeros(len(sample), np.int32)
    parts = []
    for c in range(k):
        q = sample[assign == c].astype(np.float64)
        if len(q) < 10:
            continue
        cov = np.cov(q.T) + np.eye(q.shape[1])
        inv = np.linalg.inv(cov)
        dz = z - q.mean(axis=0)
        maha = np.einsum("ni,ij,nj->n", dz, inv, dz)
        parts.append(np.log(len(q) / len(sample)) - 0.5 * (maha + np.linalg.slogdet(cov)[1]))
    if not parts:
        return np.zeros(len(z))
    stacked = np.stack(parts)
    top = stacked.max(axis=0)
    return top + np.log(np.exp(stacked - top).sum(axis=0))


def adapt_to_photo(sky: np.ndarray, f: Features, weight: float = ADAPT_WEIGHT) -> np.ndarray:
    """The sky probability re-scored by the photo's own sky and ground (same grid as ``f``).

    The classifier knows skies in general; this photo's sky is one particular blue, grey or
    white, and its sails, snow and walls particular others. Gaussian mixtures in L*a*b* and
    texture are fitted to the pixels the classifier is sure of (sky that reaches the top,
    ground below `ADAPT_LOW`), and every pixel's log-odds move by ``weight`` x the clipped
    log-likelihood ratio: unsure pixels follow whichever of the photo's own surfaces they
    resemble, sure ones barely move. (GrabCut's idea, Rother et al. 2004, without the cut.)
    """
    h, w = sky.shape
    z = np.stack([f.lab[..., 0], f.lab[..., 1], f.lab[..., 2],
                  ADAPT_TEXTURE * np.log1p(f.texture)], axis=-1).reshape(-1, 4).astype(np.float64)
    sure_sky = (from_the_top(sky) > ADAPT_HIGH).ravel()
    ground = (sky < ADAPT_LOW).ravel()
    if sure_sky.sum() < ADAPT_MIN_PIXELS or ground.sum() < ADAPT_MIN_PIXELS:
        return sky
    ratio = _log_likelihood(z, z[sure_sky], 2) - _log_likelihood(z, z[ground], 4)
    odds = _logit(sky).astype(np.float64) + weight * np.clip(ratio, -8.0, 8.0).reshape(h, w)
    return (1.0 / (1.0 + np.exp(-odds))).astype(np.float32)


def spans_the_top(sky: np.ndarray, min_span: float = MIN_TOP_SPAN, band: float = TOP_BAND) -> np.ndarray:
    """``sky`` unchanged if its sure part (> 0.5) spans ``min_span`` of the frame's width within
    the top ``band``, else scaled to 0.2 x: no sky in this photo.

    A sky is seen above the scene across a good part of the frame; a pale patch in one top
    corner of a close-up (a defocused background, a gap in the foliage) is not a sky worth
    its own sliders, and a false sky costs a close-up more than a missed sliver costs a view.
    """
    top = sky[: max(2, round(band * sky.shape[0]))] > 0.5
    return sky if top.any(axis=0).mean() >= min_span else (sky * 0.2).astype(np.float32)


def lights_the_scene(sky: np.ndarray, f: Features, share: float = OUTSHINE) -> np.ndarray:
    """``sky`` unchanged if it is blue or brighter than ``share`` of the rest of the frame, else
    scaled to 0.2 x: no sky in this photo.

    A clear sky is told by its blue; an overcast, hazy or sunset sky is grey, white or warm,
    and so are walls, paper and sand. What such a sky still is, is the light source of the
    scene under it: its median L* outshines nearly all of what it lights (the labelled
    non-blue skies outshine 82 % to 100 % of the rest of their frame). A pale wall filling
    the top of a close-up does not (kodim07's: 71 %). Caveat: a dull sky over a brighter
    snowfield fails this test and is dropped.
    """
    sure = sky > 0.5
    if sure.sum() < ADAPT_MIN_PIXELS or sure.all():
        return sky
    if float(np.median(f.lab[..., 2][sure])) < BLUE_SKY_B:
        return sky
    light = f.lab[..., 0]
    outshone = float(np.mean(light[~sure] < np.median(light[sure])))
    return sky if outshone >= share else (sky * 0.2).astype(np.float32)


def clouds_in_the_sky(sky: np.ndarray, f: Features, share: float = CLOUD_SHARE) -> np.ndarray:
    """``sky`` with the clouds that hang in it added (same grid as ``f``).

    The classifier learned skies mostly from their blue or grey expanse; a bank of bright,
    textured cumulus reads to it like ground. What makes a cloud is where it is: it hangs from
    the sky (nothing but sky or cloud above it in its column), it is near-neutral and not much
    darker than the sky, it is brighter than the ground at the bottom of the frame (sunlit
    cloud is, a shaded sail or wall is not), and the sky borders a good part of its outline
    (``share``: above and at its sides), where a roof, a sail or a wall stands on the ground
    with sky only above it. Pixels passing all of this become sky (`CLOUD_PROBABILITY`).
    A white tower with a white top (a steeple, a sail) against the sky passes these tests too
    and is kept out only by its shape (taller than `CLOUD_MAX_ASPECT` x wide). No labelled
    photo has one (kodim21's white lighthouse is kept out by its dark lantern, which the
    column test stops at), so that guard is tested on a synthetic scene only.
    """
    sure = sky > 0.5
    if sure.sum() < ADAPT_MIN_PIXELS:
        return sky
    light = f.lab[..., 0]
    h, w = sky.shape
    ground = light[h - max(1, round(GROUND_BAND * h)):]
    floor = max(float(np.median(light[sure])) - CLOUD_MARGIN, float(np.percentile(ground, GROUND_PERCENTILE)))
    cloud = (f.chroma < CLOUD_CHROMA) & (light >= floor)
    hanging = np.cumprod(sure | cloud, axis=0, dtype=np.uint8).astype(bool)  # sky or cloud above
    candidate = hanging & cloud & ~sure
    n, lab, stats, _ = cv2.connectedComponentsWithStats(candidate.astype(np.uint8), connectivity=8)
    if n <= 1:
        return sky
    # Each pixel just outside a candidate belongs to its (highest-numbered) neighbouring one.
    k = np.ones((3, 3), np.uint8)
    ring = (cv2.dilate(candidate.astype(np.uint8), k) > 0) & ~candidate
    owner = cv2.dilate(lab.astype(np.float32), k).astype(np.int64)[ring]
    border = np.bincount(owner, minlength=n)
    by_sky = np.bincount(owner, weights=sure[ring].astype(np.float64), minlength=n)
    keep = by_sky >= share * np.maximum(border, 1)
    keep &= stats[:, cv2.CC_STAT_HEIGHT] <= CLOUD_MAX_ASPECT * stats[:, cv2.CC_STAT_WIDTH]
    keep[0] = False
    return np.where(keep[lab], np.maximum(sky, np.float32(CLOUD_PROBABILITY)), sky).astype(np.float32)


def sky_from_classifier(sky: np.ndarray, f: Features, cloud_share: float = CLOUD_SHARE) -> np.ndarray:
    """The classifier's sky probability on the grid of ``f`` through the per-photo steps:
    adapted to the photo, kept where it reaches the top, clouds added, specks dropped, and none
    unless it spans part of the top edge. Shared by inference and the fit's choice of
    ``cloud_share`` (`fitting.choose_cloud_share`)."""
    return finish_sky(from_the_top(adapt_to_photo(sky, f)), f, cloud_share)


def finish_sky(adapted: np.ndarray, f: Features, cloud_share: float = CLOUD_SHARE) -> np.ndarray:
    """The steps of `sky_from_classifier` after the adaptation (the fit tries several
    ``cloud_share`` values on one adapted sky)."""
    sky = from_the_top(clouds_in_the_sky(adapted, f, cloud_share))
    return lights_the_scene(spans_the_top(drop_small(sky, MIN_SKY_AREA)), f)


def sky_probability(f: Features, model: RegionModel | None = None) -> np.ndarray:
    """Soft sky probability (h, w) float32 on the working grid of ``f`` (``model`` None: the
    shipped model)."""
    return sky_and_vegetation(f, model)[0]


def sky_and_vegetation(f: Features, model: RegionModel | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Soft sky and fitted-vegetation probabilities (h, w) float32 on the working grid of ``f``.

    Classified on the coarse `SKY_SIZE` grid (a sky is large; a quarter of the working grid's
    pixels keeps the analysis fast), brought back bilinearly; the sky goes through
    `sky_from_classifier` (adapted, from the top, clouds added, no specks), vegetation is kept
    only where it is not a speck.
    """
    model = shipped_model() if model is None else model
    coarse_f = sky_features(f)
    coarse = class_probabilities(coarse_f, model)
    sky = sky_from_classifier(coarse[..., 0], coarse_f, model.cloud_share)
    h, w = f.lab.shape[:2]
    up = cv2.resize(np.ascontiguousarray(np.stack([sky, coarse[..., 1]], axis=-1)), (w, h),
                    interpolation=cv2.INTER_LINEAR)
    return up[..., 0], drop_small(up[..., 1], MIN_VEGETATION_AREA)
