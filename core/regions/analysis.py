"""`compute_regions`: the five semantic soft masks of a photo, at the analysis size.

Composition (so that the masks are a partition of unity by construction):
    person_total = P                 (people incl. skin, from mediapipe, trusted by face / pose)
    skin         = P * K             (K: skin given person)
    person       = P * (1 - K)
    sky          = (1 - P) * S
    vegetation   = (1 - P) * (1 - S) * V
    other        = the rest
Sky (S, the fitted classifier in `learned`, adapted to the photo) and vegetation (V, the rules
in `vegetation`, or the classifier's vegetation class: `VEGETATION`) are classified on a
coarse grid (`features.WORK_SIZE`) of the photo without its frame lines; the people
models run at the analysis size and are brought to that grid. The five coarse maps are carried to
the analysis size by a confidence-weighted guided filter with the photo as guide (boundaries snap
to the image's edges, no halo), clipped to [0, 1] and renormalised so each pixel sums to 1.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from ..errors import ShapeError
from ..params import SEMANTIC_REGIONS
from .features import (MIN_SIDE, WORK_SIZE, Features, compute_features, resize_long,
                       without_frame_lines)
from .features import sigmoid as _sigmoid
from .guided import confident_guided_upsample
from .learned import RegionModel, sky_and_vegetation
from .people import Face, PeopleResult, detect_people
from .vegetation import vegetation_probability

VEGETATION = "rules"  #: "rules" (`vegetation`) or "fitted" (the region model's vegetation class)
ANALYSIS_SIZE = 768  #: long side of the masks, in pixels
GUIDE_RADIUS = 3     #: guided-filter window radius on the working grid (~8 px at analysis size)
CONFIDENCE_FLOOR = 0.01  #: weight of the least confident coarse pixels in the guided fit
PORTRAIT_FACE_HEIGHT = 0.12  #: face height (fraction of frame) from which a photo is a portrait
FRAME_BORDER = 2  #: outermost working-grid rows / columns that inherit their inner neighbours
GUIDE_EPS = 0.02 ** 2  #: guided-filter regulariser (sRGB units squared): edges above ~2 % hold


@dataclass
class RegionMasks:
    """Soft semantic masks: ``masks`` (5, h, w) float32 in `SEMANTIC_REGIONS` order, sum 1."""

    masks: np.ndarray
    faces: list[Face] = field(default_factory=list)
    person_found: bool = False
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        return SEMANTIC_REGIONS

    def __getitem__(self, name: str) -> np.ndarray:
        return self.masks[SEMANTIC_REGIONS.index(name)]

    def hard(self) -> np.ndarray:
        """(h, w) uint8 index of the dominant region per pixel."""
        return np.argmax(self.masks, axis=0).astype(np.uint8)


def analysis_image(rgb: np.ndarray) -> np.ndarray:
    """The photo area-resampled so its long side is at most `ANALYSIS_SIZE`, float32 sRGB [0, 1].

    Accepts float images in [0, 1] and uint8 / uint16 codes (resampled before conversion, so a
    24 MP photo is never converted to float at full size).
    """
    arr = np.asarray(rgb)[..., :3]
    if arr.dtype.kind in "ui":
        top = 255.0 if arr.dtype == np.uint8 else 65535.0
        h, w = arr.shape[:2]
        scale = ANALYSIS_SIZE / max(h, w)
        if scale < 1:
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
            arr = cv2.resize(np.ascontiguousarray(arr), size, interpolation=cv2.INTER_AREA)
        return arr.astype(np.float32) / np.float32(top)
    small = resize_long(arr.astype(np.float32, copy=False), ANALYSIS_SIZE)
    if not np.isfinite(small).all():  # NaN / inf from a broken float file: treat as black / white
        small = np.nan_to_num(small, nan=0.0, posinf=1.0, neginf=0.0)
    return np.clip(small, 0.0, 1.0)


def compute_regions(rgb: np.ndarray) -> RegionMasks:
    """Soft region masks of an sRGB image (H, W, 3) (float in [0, 1], or uint8 / uint16 codes).

    Returns masks at the analysis size: the image is downsized first when it is larger. Any size
    from 1 x 1 works: a side of the analysis image under `features.MIN_SIDE` (a panorama strip,
    a thumbnail) is stretched to it for the models, and their masks are brought back.
    """
    return compute_regions_with(rgb, None)


def compute_regions_with(rgb: np.ndarray, model: RegionModel | None) -> RegionMasks:
    """`compute_regions` with a given sky classifier (None: the shipped one).

    The bench scores each labelled photo with a model fitted without it (cross-validation).
    """
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] < 3 or min(rgb.shape[:2]) < 1:
        raise ShapeError(f"compute_regions needs an (H, W, 3) image, got shape {rgb.shape}")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    small = analysis_image(rgb)
    grid = resize_long(small, ANALYSIS_SIZE, MIN_SIDE)  # `small` itself unless a side is thin
    clean, work, feats = region_features(grid)
    t1 = time.perf_counter()
    sky, fitted_veg = sky_and_vegetation(feats, model)
    veg = (1.0 - sky) * (fitted_veg if VEGETATION == "fitted" else vegetation_probability(feats, sky))
    t2 = time.perf_counter()
    people = detect_people(grid)
    t3 = time.perf_counter()
    refined = compose(work, clean, sky, veg, people)
    if refined.shape[1:] != small.shape[:2]:
        refined = _unstretch(refined, small.shape[:2])
    t4 = time.perf_counter()
    timings.update(features=t1 - t0, sky_vegetation=t2 - t1, people=t3 - t2, refine=t4 - t3,
                   total=t4 - t0)
    return RegionMasks(refined, people.faces, people.person_found, timings)


def _unstretch(masks: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(C, h, w) masks of a grid stretched to `MIN_SIDE` area-averaged back onto the analysis
    image's own ``shape`` (a strip one pixel thick), still a partition of unity."""
    out = np.stack([cv2.resize(np.ascontiguousarray(m), (shape[1], shape[0]),
                               interpolation=cv2.INTER_AREA).reshape(shape) for m in masks])
    out = out.astype(np.float32, copy=False)
    out /= np.maximum(out.sum(axis=0), 1e-6)
    return out


def region_features(small: np.ndarray) -> tuple[np.ndarray, np.ndarray, Features]:
    """(analysis image without frame lines, its working-grid copy, the working grid's `Features`).

    The one way sky and vegetation features are computed, shared with the fitting
    (`fitting.prepare`) so the classifier is fitted on exactly what it will see.
    """
    clean = without_frame_lines(small)
    work = resize_long(clean, WORK_SIZE, MIN_SIDE)
    return clean, work, compute_features(work, clean)


def compose(work: np.ndarray, small: np.ndarray, sky: np.ndarray, veg: np.ndarray,
            people: PeopleResult) -> np.ndarray:
    """The five masks (5, H, W) at ``small``'s size from the working-grid sky and vegetation
    probabilities (``sky + veg <= 1``: vegetation is what is left once the sky is taken) and
    the people found at the analysis size."""
    wh, ww = work.shape[:2]
    down = lambda m: cv2.resize(m, (ww, wh), interpolation=cv2.INTER_AREA)  # noqa: E731
    p_total = np.clip(down(people.person), 0, 1)
    skin = np.minimum(down(people.skin), p_total)
    skin_given = np.divide(skin, p_total, out=np.zeros_like(p_total), where=p_total > 1e-4)
    # A head-and-shoulders portrait is shot against a backdrop, not the sky: fade the sky out as
    # the largest face grows past ~1/8 of the frame height (a waist-up shot or closer).
    face_height = max((f.box[3] - f.box[1] for f in people.faces), default=0.0)
    s = sky * (1.0 - float(_sigmoid((face_height - PORTRAIT_FACE_HEIGHT) / 0.02)))
    rest = 1.0 - p_total
    stack = np.empty((wh, ww, 5), np.float32)
    stack[..., 0] = rest * s
    stack[..., 1] = p_total * (1.0 - skin_given)
    stack[..., 2] = p_total * skin_given
    stack[..., 3] = rest * veg
    stack[..., 4] = rest * np.clip(1.0 - s - veg, 0.0, 1.0)
    _inherit_border(stack)
    return refine(work, stack, small)


def _inherit_border(stack: np.ndarray, width: int = FRAME_BORDER) -> None:
    """The outermost rows and columns take the class of their inner neighbours (in place).

    Scans and some cameras leave a thin dark or light line along the frame edge; on the coarse
    grid it is a strong edge that breaks the sky's calm and its colour tests, so the sky (or
    foliage) would stop a few pixels short of the edge. Real content at the edge continues
    inwards, so copying the inner verdict is harmless.
    """
    h, w = stack.shape[:2]
    if min(h, w) <= 2 * width + 1:
        return
    stack[:width] = stack[width]
    stack[-width:] = stack[-width - 1]
    stack[:, :width] = stack[:, width:width + 1]
    stack[:, -width:] = stack[:, -width - 1:-width]


def confidence(probs: np.ndarray) -> np.ndarray:
    """Per-pixel confidence of a (h, w, C) probability map: squared margin of the top two."""
    top2 = np.partition(probs, -2, axis=2)[..., -2:]
    return ((top2[..., 1] - top2[..., 0]) ** 2 + CONFIDENCE_FLOOR).astype(np.float32)


def refine(guide_lo: np.ndarray, probs_lo: np.ndarray, guide_hi: np.ndarray,
           radius: int = GUIDE_RADIUS, eps: float = GUIDE_EPS) -> np.ndarray:
    """Coarse (h, w, C) probabilities to a (C, H, W) partition of unity at ``guide_hi``'s size.

    Confidence-weighted fast guided filter (see `guided.confident_guided_upsample`): region
    boundaries move onto the image's own edges, then values are clipped to [0, 1] and
    renormalised so that every pixel sums to exactly 1.
    """
    out = confident_guided_upsample(guide_lo, probs_lo, confidence(probs_lo), guide_hi, radius, eps)
    np.clip(out, 0.0, 1.0, out=out)
    total = out.sum(axis=0)
    empty = total <= 1e-6  # every channel clipped to 0: cannot happen for a partition, but guard
    np.maximum(total, 1e-6, out=total)
    out /= total
    if empty.any():
        out[:, empty] = np.float32(1.0 / out.shape[0])
    return out
