"""Vegetation: yellow-green to green, saturated enough, textured, and dense in its neighbourhood.

Why these cues: chlorophyll puts foliage and grass in the yellow-green to green hues (HSV ~35-145
degrees, judged on the colours as shot), never as vivid as lime plastic with the green channel dominant (positive excess green), and leaves, needles and grass
blades make a fine texture. Foliage is a texture, not a colour: leaves mix with dark gaps and
specular highlights, so the per-pixel evidence is averaged over a neighbourhood (density) before
deciding. Smooth green surfaces (a painted door, defocused backgrounds) get partial credit only.
Haze and dull light desaturate leaves but keep their chromaticity green; a second, looser pass
admits such pale textured green only where it continues foliage the strict pass is sure of
(hysteresis), and shadow is judged by chromaticity (normalised rgb), which shading leaves intact.

Leaves absorb most visible light: near the yellow end of the hue range (where dry grass meets
tan rock, sand and earth) a plant pixel must also be dark.

Distant forest under aerial perspective defeats every colour test: kodim09's wooded shore is
dark (L* ~29) and, as shot, blue-cyan (HSV hue 194-214 degrees), kodim24's mountainside a hazy
grey blue-green. Given the photo's sky, `distant_treeline` finds such land by its context
instead: a dark, cool band under the sky that ends well before the frame's bottom, or a slope
filling the top of the frame that still leans green. Still missed: sunlit birch leaves against
a white sky (L* 78-93, green equal to red: kodim24's top-left crown) and grass tufts scattered
among rocks (kodim21), which take the rocks around them along.
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
YELLOW_MAX_L = 45.0  # L* ceiling at HUE_LO, rising to MAX_L at YELLOW_HUE: bright yellow is rock, sand
YELLOW_HUE = 50.0  # HSV degrees from which a plant colour may be as light as MAX_L
DENSITY_RADIUS = 3  # pixels on the working grid
DENSITY_MIN = 0.3  # share of plant evidence in the neighbourhood for a pixel to be vegetation
DARK_GAP_L = 32.0  # L*: darker pixels (shadowed leaves, gaps) take their neighbourhood's verdict
GAP_LEAN = 0.03  # (g - b) / (r + g + b) a dark gap needs to count as shadowed foliage
CLOSE_RADIUS = 5  # working-grid pixels: gaps between leaves up to ~2x this are closed
PALE_HUE_LO = 60.0  # HSV degrees: pale yellow-greens below are dry stone, sand, lichen
PALE_SAT = 0.12  # HSV saturation floor of hazy / dull foliage (second pass only)
PALE_TEXTURE = 2.5  # texture (mean |grad L|) pale green needs: leaves, not a smooth lagoon
DETAIL_MIN = 0.7  # median |L - blur(L)| (L units, analysis size) below which a patch is smooth
MIN_AREA = 0.015  # vegetation components smaller than this fraction of the frame are dropped
SEGMENT_SCALE = 150.0  # Felzenszwalb scale on the half-size grid (larger: bigger segments)
SEGMENT_SHARE = 0.4  # a segment this much vegetation is vegetation throughout ...
SEGMENT_NONE = 0.15  # ... one with less than this has none
BACKDROP_AREA = 0.10  # a smooth green area this large (fraction of the frame) is defocused foliage
TREELINE_DARK = 20.0  # L*: a distant treeline lies at least this far below the sky's median
TREELINE_HUE = (60.0, 230.0)  # HSV degrees: green to the blue-cyan of aerial perspective
TREELINE_MAX_SAT = 0.45  # HSV saturation: haze greys distant leaves; vivid blue is paint or sail
TREELINE_MAX_HEIGHT = 0.15  # fraction of the frame height: a band, not a sea reaching the bottom
TREELINE_MAX_SLOPE = 0.5  # fraction of the frame height a slope filling the top may span
TREELINE_LEAN = (0.01, 0.02)  # median (g - r, g - b) / (r + g + b) of such a slope: still green
TREELINE_MIN_WIDTH = 0.08  # fraction of the frame width the band spans at least
TREELINE_MIN_THICK = 0.015  # fraction of the height: median column thickness (a sea's dark rim is thinner)
TREELINE_TOUCH = 0.5  # share of the band's columns whose top meets the sky
TREELINE_GAP = 0.03  # fraction of the frame height: how far below the sky a band's top may start
TREELINE_PROB = 0.85  # vegetation probability given to a treeline found by context


def greenness(f: Features) -> np.ndarray:
    """Per-pixel evidence of plant colour in [0, 1]."""
    hue_ok = sigmoid((f.hue - HUE_LO) / 5.0) * sigmoid((HUE_HI - f.hue) / 6.0)
    sat_ok = sigmoid((f.sat - MIN_SAT) / 0.03)
    # Leaves absorb most visible light; bare rock, sand and dry earth of the same yellow hue
    # reflect much more. Near the yellow end of the range a plant must therefore be darker.
    yellowness = np.clip((YELLOW_HUE - f.hue) / (YELLOW_HUE - HUE_LO), 0.0, 1.0)
    light_ok = sigmoid((MAX_L - yellowness * (MAX_L - YELLOW_MAX_L) - f.lab[..., 0]) / 4.0)
    r, g, b = f.rgb[..., 0], f.rgb[..., 1], f.rgb[..., 2]
    excess = (2 * g - r - b) / (r + g + b + 1e-3)  # excess-green index on chromaticities
    exg_ok = sigmoid((excess - 0.04) / 0.03)
    value = np.maximum(np.maximum(r, g), b)
    value_ok = sigmoid((value - 0.05) / 0.02)
    natural = sigmoid((MAX_VIVID - f.sat * value) / 0.05)
    return hue_ok * sat_ok * exg_ok * value_ok * light_ok * natural


def pale_greenness(f: Features) -> np.ndarray:
    """Evidence of desaturated foliage (haze, overcast, dusty leaves): green proper, not yellow.

    Haze and dull light lower a leaf's saturation but keep its chromaticity on the green side
    (green above red and blue in normalised rgb); grey water, concrete and weathered paint sit
    on the neutral point or lean blue or warm. This weaker colour test counts only together
    with leaf texture (see `vegetation_probability`).
    """
    r, g, b = f.rgb[..., 0], f.rgb[..., 1], f.rgb[..., 2]
    s = r + g + b + 1e-3
    hue_ok = sigmoid((f.hue - PALE_HUE_LO) / 5.0) * sigmoid((HUE_HI - f.hue) / 6.0)
    sat_ok = sigmoid((f.sat - PALE_SAT) / 0.03)
    gr_ok = sigmoid(((g - r) / s) / 0.01)
    gb_ok = sigmoid(((g - b) / s - 0.04) / 0.015)
    light_ok = sigmoid((MAX_L - f.lab[..., 0]) / 4.0)
    return hue_ok * sat_ok * gr_ok * gb_ok * light_ok


def vegetation_probability(f: Features, sky: np.ndarray | None = None) -> np.ndarray:
    """Soft vegetation probability (h, w) float32 on the working grid.

    Two passes of the same density test: one on clearly plant-coloured pixels, one that also
    admits pale (hazy, dull, overcast) green with leaf texture; a region found only by the
    second pass is kept when it contains vegetation the first pass is sure of (hysteresis).
    With the photo's ``sky`` probability (same grid), a distant treeline is found by its
    context as well (`distant_treeline`).
    """
    textured = sigmoid((f.texture - 1.2) / 0.4)
    green = greenness(f)
    strong = _dense_evidence(f, green, textured)
    pale = pale_greenness(f) * sigmoid((f.texture - PALE_TEXTURE) / 0.5)
    loose = _dense_evidence(f, np.maximum(green, pale), textured)
    prob = grow_into(strong, loose)
    prob = segment_consensus(f.rgb, prob)
    prob = close_gaps(prob)
    prob = prob if f.detail is None else drop_smooth(prob, f.detail)
    if sky is not None:
        prob = np.maximum(prob, TREELINE_PROB * distant_treeline(f, sky)).astype(np.float32)
    return prob


def distant_treeline(f: Features, sky: np.ndarray) -> np.ndarray:
    """(h, w) bool: wooded land seen against the sky, found by its context rather than its colour.

    Aerial perspective turns a distant wooded shore or ridge dark and blue-grey-cyan: no colour
    test admits it without admitting water and sky. Its context does: seen from afar, foliage
    absorbs far more light than the sky behind it (at least `TREELINE_DARK` L* below the sky's
    median), while far water reflects that sky and stays close to it; it leans green-blue, never
    warm like rock, roofs or earth (green above red in normalised rgb). (Texture does not help:
    at this distance a canopy is as smooth as water on the working grid.) A connected region of
    such pixels, thicker than a far sea's dark rim (`TREELINE_MIN_THICK`), is wooded land when
    it is either
      - a band: it meets the sky (within `TREELINE_GAP` of hazy horizon) along at least
        `TREELINE_TOUCH` of its width and ends within `TREELINE_MAX_HEIGHT` of the frame (a sea
        runs on to the shore or the frame's bottom), or
      - a slope that fills the top of the frame: it meets the sky or leaves the frame at the top
        along that share of its width, ends within `TREELINE_MAX_SLOPE` of the frame, and, being
        nearer than a far band, still leans green as a whole (its median pixel has green above
        both red and blue by `TREELINE_LEAN`; a hazy hill of bare branches or buildings leans
        blue or warm).
    """
    h, w = sky.shape
    above = sky > 0.5
    if above.sum() < 0.02 * h * w:
        return np.zeros((h, w), bool)
    light = f.lab[..., 0]
    r, g, b = f.rgb[..., 0], f.rgb[..., 1], f.rgb[..., 2]
    cand = (~above & (light < float(np.median(light[above])) - TREELINE_DARK)
            & (g > r) & (f.sat < TREELINE_MAX_SAT)
            & (f.hue > TREELINE_HUE[0]) & (f.hue < TREELINE_HUE[1])).astype(np.uint8)
    cand = cv2.morphologyEx(cand, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    n, lab, stats, _ = cv2.connectedComponentsWithStats(cand, connectivity=8)
    # The sky within `TREELINE_GAP` of the frame above a pixel: a band's top meets the sky (the
    # haze on the horizon between them is where the sky's own verdict is least sure).
    under_sky = np.zeros_like(above)
    for k in range(1, max(2, round(TREELINE_GAP * h)) + 1):
        under_sky[k:] |= above[:-k]
    s = r + g + b + 1e-3
    out = np.zeros((h, w), bool)
    for c in range(1, n):
        x, y, cw, ch, _ = stats[c]
        if cw < TREELINE_MIN_WIDTH * w or ch > max(TREELINE_MAX_HEIGHT, TREELINE_MAX_SLOPE) * h:
            continue
        box = (slice(y, y + ch), slice(x, x + cw))
        part = lab[box] == c
        columns = part.sum(axis=0)
        if np.median(columns[columns > 0]) < TREELINE_MIN_THICK * h:
            continue
        touching = np.count_nonzero((part & under_sky[box]).any(axis=0))
        band = ch <= TREELINE_MAX_HEIGHT * h and touching >= TREELINE_TOUCH * cw
        if not band and ch <= TREELINE_MAX_SLOPE * h:
            touching += np.count_nonzero(part[0]) if y == 0 else 0
            green_r = float(np.median(((g[box] - r[box]) / s[box])[part]))
            green_b = float(np.median(((g[box] - b[box]) / s[box])[part]))
            band = (touching >= TREELINE_TOUCH * cw and green_r > TREELINE_LEAN[0]
                    and green_b > TREELINE_LEAN[1])
        if band:
            out[box] |= part
    return out


def drop_smooth(prob: np.ndarray, detail: np.ndarray, threshold: float | None = None) -> np.ndarray:
    """Vegetation components without fine detail, and not a large backdrop, are not plants.

    Colour and coarse texture pass a vivid green cap or painted object (its folds and outline
    are texture on the coarse grid); foliage differs in keeping high-frequency detail inside at
    the analysis size. A component whose median `Features.detail` is below `DETAIL_MIN` is
    dropped unless it covers `BACKDROP_AREA` of the frame (defocused foliage behind a subject).
    """
    threshold = DETAIL_MIN if threshold is None else threshold
    n, lab = cv2.connectedComponents((prob > 0.5).astype(np.uint8), connectivity=8)
    if n <= 1:
        return prob
    flat = lab.ravel()
    order = np.argsort(flat, kind="stable")
    bounds = np.searchsorted(flat[order], np.arange(n + 1))
    values = detail.ravel()[order]
    smooth = np.zeros(n, bool)
    for c in range(1, n):
        part = values[bounds[c]:bounds[c + 1]]
        smooth[c] = part.size < BACKDROP_AREA * lab.size and float(np.median(part)) < threshold
    return np.where(smooth[lab], prob * 0.2, prob).astype(np.float32)


def _dense_evidence(f: Features, green: np.ndarray, textured: np.ndarray) -> np.ndarray:
    """Per-pixel plant-colour evidence -> neighbourhood density decision, specks dropped."""
    # Smooth green is paint, plastic or an eye, unless it is a large backdrop (defocused foliage).
    n, lab = cv2.connectedComponents((green > 0.5).astype(np.uint8), connectivity=8)
    large = np.bincount(lab.ravel(), minlength=n) >= BACKDROP_AREA * lab.size
    large[0] = False
    evidence = green * np.maximum(textured, 0.8 * large[lab])
    k = 2 * DENSITY_RADIUS + 1
    density = cv2.blur(evidence, (k, k), borderType=cv2.BORDER_REFLECT)
    # Dark gaps between leaves inherit their neighbourhood; elsewhere the pixel must be green too.
    # Shadow changes a leaf's intensity, not its chromaticity: only a dark pixel that still leans
    # green (green above blue in normalised rgb) inherits; the brown shadow under an object does not.
    r, g, b = f.rgb[..., 0], f.rgb[..., 1], f.rgb[..., 2]
    lean = sigmoid(((g - b) / (r + g + b + 1e-3) - GAP_LEAN) / 0.02)
    own = np.maximum(evidence, sigmoid((DARK_GAP_L - f.lab[..., 0]) / 5.0) * lean * density)
    prob = np.clip(sigmoid((density - DENSITY_MIN) / 0.08) * sigmoid((own - 0.2) / 0.08), 0, 1)
    # Isolated specks (a green eye, a sticker, a lit leaf on a sleeve) are not a region worth
    # its own sliders: drop components smaller than MIN_AREA of the frame (half that at the edge).
    n, lab = cv2.connectedComponents((prob > 0.5).astype(np.uint8), connectivity=8)
    # One cut by the frame edge is the visible part of a larger plant: half the area suffices.
    minimum = np.full(n, MIN_AREA * lab.size)
    minimum[np.unique(np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]]))] *= 0.5
    small = np.bincount(lab.ravel(), minlength=n) < minimum
    small[0] = False
    return np.where(small[lab], prob * 0.2, prob).astype(np.float32)


def grow_into(prob: np.ndarray, weak: np.ndarray) -> np.ndarray:
    """Hysteresis: weak evidence counts only where it is connected to confident vegetation.

    Hazy or dull foliage continues a wood whose nearer, sunlit part is clearly green; the same
    pale green-grey on its own (a lagoon, lichen on a wall) is not enough to start a region.
    """
    sure = prob > 0.5
    cand = (sure | (weak > 0.5)).astype(np.uint8)
    n, lab = cv2.connectedComponents(cand, connectivity=8)
    seeded = np.bincount(lab.ravel(), weights=sure.ravel(), minlength=n) > 0
    seeded[0] = False
    return np.where(seeded[lab] & ~sure, np.maximum(prob, weak), prob).astype(np.float32)


def close_gaps(prob: np.ndarray, radius: int | None = None) -> np.ndarray:
    """Gaps narrower than ~2 x `CLOSE_RADIUS` inside vegetation become vegetation.

    A bush or a tree is one region to a photographer, sky glints, wall and shadow between its
    leaves included; a morphological closing of the confident mask adds those gaps.
    """
    radius = CLOSE_RADIUS if radius is None else radius
    if radius <= 0:
        return prob
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    sure = (prob > 0.5).astype(np.uint8)
    closed = cv2.morphologyEx(sure, cv2.MORPH_CLOSE, k, borderType=cv2.BORDER_REPLICATE)
    return np.where(closed > sure, np.maximum(prob, 0.6), prob).astype(np.float32)


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
