"""Vegetation: yellow-green to green, saturated enough, textured, and dense in its neighbourhood.

Why these cues: chlorophyll puts foliage and grass in the yellow-green to green hues (HSV ~35-145
degrees, judged on the colours as shot), never as vivid as lime plastic with the green channel dominant (positive excess green), and leaves, needles and grass
blades make a fine texture. Foliage is a texture, not a colour: leaves mix with dark gaps and
specular highlights, so the per-pixel evidence is averaged over a neighbourhood (density) before
deciding. Smooth green surfaces (a painted door, defocused backgrounds) get partial credit only.
"""
from __future__ import annotations

import cv2
import numpy as np

from .features import Features, sigmoid

HUE_LO, HUE_HI = 35.0, 145.0  # HSV degrees: yellow-green (dry grass, autumn) .. green; cyan-
#                               green beyond is water, glass and paint far more often than leaves
MAX_VIVID = 0.42  # HSV saturation x value: leaves are never as vivid as lime plastic or paint
MIN_SAT = 0.28  # HSV saturation; grey-greens below are water, lichen, weathered paint
MAX_L = 78.0  # L*: foliage reflects < ~60 % even in sun; brighter yellow-greens are clouds, paint
DENSITY_RADIUS = 3  # pixels on the working grid
DENSITY_MIN = 0.3  # share of plant evidence in the neighbourhood for a pixel to be vegetation
DARK_GAP_L = 32.0  # L*: darker pixels (shadowed leaves, gaps) take their neighbourhood's verdict
MIN_AREA = 0.015  # vegetation components smaller than this fraction of the frame are dropped
SEGMENT_SCALE = 150.0  # Felzenszwalb scale on the half-size grid (larger: bigger segments)
SEGMENT_SHARE = 0.4  # a segment this much vegetation is vegetation throughout ...
SEGMENT_NONE = 0.15  # ... one with less than this has none
BACKDROP_AREA = 0.10  # a smooth green area this large (fraction of the frame) is defocused foliage


def greenness(f: Features) -> np.ndarray:
    """Per-pixel evidence of plant colour in [0, 1]."""
    hue_ok = sigmoid((f.hue - HUE_LO) / 5.0) * sigmoid((HUE_HI - f.hue) / 6.0)
    sat_ok = sigmoid((f.sat - MIN_SAT) / 0.03)
    light_ok = sigmoid((MAX_L - f.lab[..., 0]) / 4.0)
    r, g, b = f.rgb[..., 0], f.rgb[..., 1], f.rgb[..., 2]
    excess = (2 * g - r - b) / (r + g + b + 1e-3)  # excess-green index on chromaticities
    exg_ok = sigmoid((excess - 0.04) / 0.03)
    value = np.maximum(np.maximum(r, g), b)
    value_ok = sigmoid((value - 0.05) / 0.02)
    natural = sigmoid((MAX_VIVID - f.sat * value) / 0.05)
    return hue_ok * sat_ok * exg_ok * value_ok * light_ok * natural


def vegetation_probability(f: Features) -> np.ndarray:
    """Soft vegetation probability (h, w) float32 on the working grid."""
    green = greenness(f)
    textured = sigmoid((f.texture - 1.2) / 0.4)
    # Smooth green is paint, plastic or an eye, unless it is a large backdrop (defocused foliage).
    n, lab = cv2.connectedComponents((green > 0.5).astype(np.uint8), connectivity=8)
    large = np.bincount(lab.ravel(), minlength=n) >= BACKDROP_AREA * lab.size
    large[0] = False
    evidence = green * np.maximum(textured, 0.8 * large[lab])
    k = 2 * DENSITY_RADIUS + 1
    density = cv2.blur(evidence, (k, k), borderType=cv2.BORDER_REFLECT)
    # Dark gaps between leaves inherit their neighbourhood; elsewhere the pixel must be green too.
    own = np.maximum(evidence, sigmoid((DARK_GAP_L - f.lab[..., 0]) / 5.0) * density)
    prob = np.clip(sigmoid((density - DENSITY_MIN) / 0.08) * sigmoid((own - 0.2) / 0.08), 0, 1)
    # Isolated specks (a green eye, a sticker, a lit leaf on a sleeve) are not a region worth
    # its own sliders: drop components smaller than MIN_AREA of the frame.
    n, lab = cv2.connectedComponents((prob > 0.5).astype(np.uint8), connectivity=8)
    small = np.bincount(lab.ravel(), minlength=n) < MIN_AREA * lab.size
    small[0] = False
    prob = np.where(small[lab], prob * 0.2, prob).astype(np.float32)
    return segment_consensus(f.rgb, prob)


def segment_consensus(rgb: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """Per-segment decisions: a colour segment that is largely vegetation is vegetation.

    Foliage is a texture, and its shadowed leaves, dark gaps and desaturated distant parts fail
    the per-pixel colour test; a person reads them as part of the tree they belong to. The photo
    is cut into colour-coherent segments (Felzenszwalb's graph segmentation on a half-size copy,
    ~10 ms) and each segment takes the verdict of its majority: at least `SEGMENT_SHARE` of it
    vegetation lifts all of it to vegetation, under `SEGMENT_NONE` drops stray pixels.
    """
    h, w = prob.shape
    if min(h, w) < 16:
        return prob
    from skimage.segmentation import felzenszwalb  # lazy: scikit-image import is slow

    half = cv2.resize(rgb, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)
    seg = felzenszwalb(half, scale=SEGMENT_SCALE, sigma=0.8, min_size=8).astype(np.int32)
    seg = cv2.resize(seg, (w, h), interpolation=cv2.INTER_NEAREST)
    n = int(seg.max()) + 1
    count = np.maximum(np.bincount(seg.ravel(), minlength=n), 1)
    share = (np.bincount(seg.ravel(), weights=(prob > 0.5).ravel(), minlength=n) / count)[seg]
    out = np.where(share >= SEGMENT_SHARE, np.maximum(prob, 0.6 + 0.4 * share), prob)
    out = np.where(share < SEGMENT_NONE, np.minimum(out, 0.4), out)
    return out.astype(np.float32)
