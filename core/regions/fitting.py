"""Fitting the region model (`learned.RegionModel`) to the hand-labelled set.

Used by ``bench/fit_regions.py`` (the shipped weights) and ``bench/regions.py`` (one model per
left-out photo, so every photo is scored by a model that never saw it). Deterministic for a
seed: pixel samples and initial weights come from seeded generators.

Polygons are coarse, so pixels within `BOUNDARY` sky-grid pixels of a label boundary are not
trained on; every photo contributes the same number of samples, so a large sky in one photo
does not outweigh the others. The one post-processing threshold that is chosen rather than fixed,
`learned.clouds_in_the_sky`'s outline share, is chosen here on the same training photos
(`choose_cloud_share`), so a left-out photo has no say in it either.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from ..params import SEMANTIC_REGIONS
from .analysis import analysis_image, region_features
from .features import Features
from .labelset import IGNORE, Label, load_source_rgb, rasterize
from .learned import (CLASSES, RegionClassifier, RegionModel, context_features,
                      adapt_to_photo, finish_sky, from_the_top, pixel_features_and_segments,
                      segments, sky_features)

BOUNDARY = 1  #: sky-grid pixels either side of a label boundary left out of training
SAMPLES_PER_PHOTO = 1000
HIDDEN = (16,)  #: hidden layer widths
BALANCE = 0.5  #: 0: classes weighted by frequency, 1: fully balanced
ITERATIONS = 150  #: L-BFGS iterations
STAGES = 1  #: 2: add a second stage on the first one's context (`learned.context_features`).
#              Measured leave-one-photo-out with the photo adaptation after it, it was no
#              better than one stage (0.780 vs 0.777 mean sky IoU on the sky grid, sky photos
#              without people), and costs a second pass: one ships.
WEIGHT_DECAY = 0.1  #: strong: with ~30 photos, weaker decay memorised them (worse cross-validated)
CLOUD_SHARES = (0.3, 0.35, 0.4, 0.45, 0.5)  #: `learned.clouds_in_the_sky` thresholds the fit picks from
PRESENT = 0.005  #: a region counts for a photo from this share of its scored pixels (as the bench)


@dataclass
class LabelledPhoto:
    """One labelled photo prepared for fitting: its features and classes on the sky's grid."""

    label: Label
    features: Features
    x: np.ndarray        # (h, w, D) `pixel_features`
    classes: np.ndarray  # (h, w) uint8 index into `learned.CLASSES`, IGNORE where not trained on
    segments: np.ndarray | None = None  # (h, w) the colour segments ``x`` was pooled over

    def segmentation(self) -> np.ndarray:
        return segments(self.features.rgb) if self.segments is None else self.segments


def class_map(label: Label, shape: tuple[int, int], boundary: int = BOUNDARY) -> np.ndarray:
    """The label as `CLASSES` indices at ``shape``; pixels near a boundary become IGNORE."""
    regions = rasterize(label, shape)
    out = np.full(shape, CLASSES.index("rest"), np.uint8)
    out[regions == SEMANTIC_REGIONS.index("sky")] = CLASSES.index("sky")
    out[regions == SEMANTIC_REGIONS.index("vegetation")] = CLASSES.index("vegetation")
    out[regions == IGNORE] = IGNORE
    if boundary > 0:
        k = np.ones((2 * boundary + 1, 2 * boundary + 1), np.uint8)
        varies = cv2.dilate(regions, k) != cv2.erode(regions, k)
        out[varies] = IGNORE
    return out


def prepare(label: Label, kodak_dir: Path) -> LabelledPhoto:
    small = analysis_image(load_source_rgb(label.source, kodak_dir))
    feats = sky_features(region_features(small)[2])
    x, seg = pixel_features_and_segments(feats)
    return LabelledPhoto(label, feats, x, class_map(label, feats.lab.shape[:2]), seg)


def samples(photos: list[LabelledPhoto], per_photo: int = SAMPLES_PER_PHOTO, seed: int = 0,
            first: RegionClassifier | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(X (n, D), y (n,)) with up to ``per_photo`` uniformly drawn trainable pixels per photo.

    With ``first`` (a first-stage model), X also holds the `learned.context_features` of its
    output, the second stage's input.
    """
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for photo in photos:
        flat = photo.classes.ravel()
        idx = np.flatnonzero(flat != IGNORE)
        if idx.size > per_photo:
            idx = np.sort(rng.choice(idx, per_photo, replace=False))
        x = photo.x
        if first is not None:
            h, w, d = x.shape
            prob = first.probabilities(x.reshape(-1, d)).reshape(h, w, len(CLASSES))
            x = np.concatenate([x, context_features(prob, photo.segmentation())], axis=-1)
        xs.append(x.reshape(-1, x.shape[-1])[idx])
        ys.append(flat[idx])
    return np.concatenate(xs), np.concatenate(ys).astype(np.int64)


def fit_classifier(x: np.ndarray, y: np.ndarray, seed: int = 0, hidden: tuple[int, ...] = HIDDEN,
                   iterations: int = ITERATIONS, weight_decay: float = WEIGHT_DECAY) -> RegionClassifier:
    """L-BFGS on the class-weighted mean cross-entropy plus ``weight_decay`` x the squared weights.

    Plain numpy back-propagation (the model is tiny; on two cores this is ~10x faster than
    autograd for it) with scipy's L-BFGS: deterministic for a seed, a few seconds per fit.
    """
    from scipy.optimize import minimize

    mean = x.mean(axis=0).astype(np.float64)
    scale = np.maximum(x.std(axis=0), 1e-3).astype(np.float64)
    z0 = ((x - mean) / scale).astype(np.float32)
    n = len(y)
    # Classes weighted towards balance (inverse square-root frequency): sky and foliage are a
    # minority of the pixels, and the IoU counts a missed region as much as a false one.
    counts = np.maximum(np.bincount(y, minlength=len(CLASSES)), 1).astype(np.float64)
    class_weight = (counts.sum() / counts) ** BALANCE
    class_weight /= (class_weight[y]).mean()
    onehot = np.zeros((n, len(CLASSES)), np.float32)
    onehot[np.arange(n), y] = class_weight[y]
    sizes = (x.shape[1], *hidden, len(CLASSES))
    shapes = [(a, b) for a, b in zip(sizes[:-1], sizes[1:])]
    rng = np.random.default_rng(seed)
    init = []
    for fan_in, fan_out in shapes:
        init += [rng.normal(0.0, np.sqrt(2.0 / fan_in), (fan_in, fan_out)).ravel(), np.zeros(fan_out)]
    theta0 = np.concatenate(init)

    def unpack(theta: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        layers, at = [], 0
        for fan_in, fan_out in shapes:
            wt = theta[at:at + fan_in * fan_out].reshape(fan_in, fan_out)
            at += fan_in * fan_out
            layers.append((wt, theta[at:at + fan_out]))
            at += fan_out
        return layers

    def loss_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
        layers = [(wt.astype(np.float32), bias.astype(np.float32)) for wt, bias in unpack(theta)]
        acts = [z0]
        for i, (wt, bias) in enumerate(layers):
            z = acts[-1] @ wt + bias
            acts.append(np.maximum(z, 0.0) if i < len(layers) - 1 else z)
        logits = acts[-1] - acts[-1].max(axis=1, keepdims=True)
        logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        loss = -float((onehot * logp).sum()) / n
        delta = (np.exp(logp) * onehot.sum(axis=1, keepdims=True) - onehot) / n
        grads = []
        for i in range(len(layers) - 1, -1, -1):
            wt, _ = layers[i]
            grads.append((acts[i].T @ delta + 2 * weight_decay * wt, delta.sum(axis=0)))
            loss += weight_decay * float((wt * wt).sum())
            if i:
                delta = (delta @ wt.T) * (acts[i] > 0)
        flat = np.concatenate([np.concatenate([g.ravel(), gb]) for g, gb in reversed(grads)])
        return loss, flat.astype(np.float64)

    result = minimize(loss_grad, theta0, jac=True, method="L-BFGS-B",
                      options={"maxiter": iterations})
    layers = unpack(result.x)
    model = RegionClassifier(mean.astype(np.float32), scale.astype(np.float32),
                             tuple(w.astype(np.float32) for w, _ in layers),
                             tuple(b.astype(np.float32) for _, b in layers))
    return replace(model, sharpness=_sharpness(model.logits(x), y, class_weight))


def _sharpness(logits: np.ndarray, y: np.ndarray, class_weight: np.ndarray) -> float:
    """The logit scale that minimises the weighted cross-entropy on the training samples.

    Weight decay keeps the logits small, so a strongly regularised model says 0.7 where it is
    right nine times in ten; masks that soft lose to their neighbours in the edge-aware
    refinement. A single scale (temperature scaling, Guo et al. 2017) restores the confidence
    without moving any decision boundary.
    """
    from scipy.optimize import minimize_scalar

    z = logits.astype(np.float64)
    rows = np.arange(len(y))
    weight = class_weight[y]

    def loss(log_scale: float) -> float:
        s = z * np.exp(log_scale)
        s -= s.max(axis=1, keepdims=True)
        logp = s[rows, y] - np.log(np.exp(s).sum(axis=1))
        return -float((weight * logp).mean())

    return float(np.exp(minimize_scalar(loss, bounds=(-1.0, 2.5), method="bounded").x))


def fit_photos(photos: list[LabelledPhoto], seed: int = 0, stages: int = STAGES) -> RegionModel:
    """The region model fitted on ``photos``: the first stage on the pixel features, then (two
    stages) the second on those plus the context of the first stage's output on the same photos.

    The second stage learns from the first stage's in-sample output: with weight decay this
    strong the first stage fits its training photos hardly better than unseen ones (bench:
    training-set vs cross-validated IoU), so that output is representative of what it will see.
    """
    x, y = samples(photos, seed=seed)
    first = fit_classifier(x, y, seed=seed)
    model = RegionModel(first)
    if stages >= 2:
        x, y = samples(photos, seed=seed + 1, first=first)
        model = RegionModel(first, fit_classifier(x, y, seed=seed + 1))
    return replace(model, cloud_share=choose_cloud_share(photos, model))


def sky_iou_by_share(photos: list[LabelledPhoto], model: RegionModel,
                     shares: tuple[float, ...] = CLOUD_SHARES) -> np.ndarray:
    """(len(shares),) mean sky IoU on the sky grid over ``photos`` for each cloud threshold,
    through the same per-photo steps as inference (`learned.sky_from_classifier`, adapted once).

    As the bench counts it: a photo counts when sky covers `PRESENT` of its scored pixels in the
    label or the prediction; pixels near label boundaries (IGNORE) are not scored.
    """
    sky_class = CLASSES.index("sky")
    scores: list[list[float]] = [[] for _ in shares]
    for photo in photos:
        raw = model.probabilities(photo.x, photo.segmentation())[..., sky_class]
        adapted = from_the_top(adapt_to_photo(raw, photo.features))
        valid = photo.classes != IGNORE
        truth = (photo.classes == sky_class) & valid
        for i, share in enumerate(shares):
            pred = (finish_sky(adapted, photo.features, share) > 0.5) & valid
            union = int(np.count_nonzero(pred | truth))
            if max(int(pred.sum()), int(truth.sum())) >= PRESENT * max(int(valid.sum()), 1):
                scores[i].append(np.count_nonzero(pred & truth) / max(union, 1))
    return np.array([np.mean(v) if v else 1.0 for v in scores])


def choose_cloud_share(photos: list[LabelledPhoto], model: RegionModel,
                       shares: tuple[float, ...] = CLOUD_SHARES) -> float:
    """The `learned.clouds_in_the_sky` threshold that scores best on the model's own training
    photos (ties: the largest, which adds the fewest clouds).

    Chosen inside the fit, so the bench's leave-one-photo-out models choose it without the
    photo they are scored on: the cross-validated number measures the choice too.
    """
    means = sky_iou_by_share(photos, model, shares)
    best = means.max()
    return float(max(s for s, m in zip(shares, means) if m >= best - 1e-9))
