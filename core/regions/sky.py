"""Sky: smooth, sky-coloured, bright for its colour, and entering the frame from the top.

Why these cues: a sky is the one large region of a photograph with almost no texture at a coarse
scale; it is blue (at any brightness: dusk), or grey-to-cool and brighter than most of the frame
(an overcast sky is the light source), or warm only when it is the brightest tenth of the frame
(evening haze); and it enters the frame broadly from the top edge. Water, walls and studio
backdrops share some of these cues but not all: a grey wall is warm or mid-toned, water is darker
than the sky above it and separated from it by the horizon, a backdrop sits behind a large face
(see `analysis`). The detection is hysteresis-like: strict candidates reaching into the top band
seed the region (sky-coloured, bright for their colour, at most lightly textured), which grows
through looser candidates (haze) that are not darker than the seed sky and not across strong
edges (rooflines). Clouds are then added: bright, moderately textured
regions of any tint short of saturated, that have sky below them in their own column (or are
enclosed by sky) and touch it; a white tower stands on the ground, a cloud floats on the sky.
"""
from __future__ import annotations

import cv2
import numpy as np

from .features import Features, sigmoid

# Constants in photographic units (L*, chroma, L* per pixel at the working size).
SMOOTH_LOOSE = 4.0     # texture of sky, haze, blue between clouds (foliage is rougher)
CLOUD_TEXTURE = 8.0    # enclosed cloud bodies may have this much shading
CLOUD_CHROMA = 30.0    # ... and this much tint
EDGE_BARRIER = 6.0     # an edge stronger than this separates regions (a roofline, a horizon)
CLOUD_CONFIDENCE = 0.85  # sky probability of an accepted cloud, whatever its tint
NEUTRAL_CHROMA = 20.0  # greys, whites, haze (after white balance)
GLOW_L = 70.0          # a warm sky must be at least this light (L*) ...
GLOW_CHROMA = 35.0     # ... and no more chromatic than this, and the frame's brightest tenth
WARM_LIMIT = 9.0       # Lab b* above which a grey reads as warm (not sky)
NEUTRAL_LIFT = 8.0     # a grey or white sky is brighter than the frame's median by this much
DARKER_THAN_SKY = 8.0  # growth stops at pixels darker than the seed sky's 10th percentile by this
MIN_SEED_AREA = 0.015  # fraction of the frame a seed component needs (smaller: not worth a region)
TOP_BAND = 0.05        # a seed must reach into this top fraction of the frame
MIN_TOP_SPAN = 0.2     # ... and the sky must span this fraction of the top edge ...
MIN_PIECE_SPAN = 0.1   # ... each of its pieces at least this much
SEED_COLOUR_TOL = 6.0  # growth accepts a* / b* within this of the seed sky's median ...
SEED_SIGMAS = 2.5      # ... or within this many of the seed's standard deviations (at most 2x)
HORIZON_GAP = 2        # rows (working grid) above and below a candidate horizon compared ...
HORIZON_DE = 6.0       # ... with a colour difference (Delta E) at least this ...
HORIZON_SHARE = 0.8    # ... in this share of the columns ...
HORIZON_WIDTH = 0.5    # ... with sky above it across at least this fraction of the width ...
HORIZON_MIN_BELOW = 0.05  # ... and sky-like pixels on both sides across at least this fraction
BRIGHT_LIFT = 15.0     # a sky of any tint is this much lighter (L*) than the frame's median ...
BRIGHT_MIN_L = 60.0    # ... and at least this light
BRIGHT_TOP_SPAN = 0.3  # ... spans this much of the top edge ...
ABOVE_GROUND = 0.75    # ... and ends above this fraction of the frame height


def _scores(f: Features) -> tuple[np.ndarray, np.ndarray]:
    """(blue, neutral) colour scores after white balance."""
    a, b = f.lab[..., 1], f.lab[..., 2]
    blue = sigmoid((-b - 3.0) / 2.0) * sigmoid((30.0 - a) / 5.0)
    # Overcast and hazy skies are grey to cool; warm greys are walls, sand, paper (a sunset is
    # warm but far more chromatic than a wall, and then it is not "neutral" either).
    neutral = sigmoid((NEUTRAL_CHROMA - f.chroma) / 3.0) * sigmoid((WARM_LIMIT - b) / 2.0)
    return blue, neutral


def sky_probability(f: Features) -> np.ndarray:
    """Soft sky probability (h, w) float32 on the working grid."""
    light = f.lab[..., 0]
    blue, neutral = _scores(f)
    colour = np.maximum(blue, neutral)  # how sky-like: blue at any chroma, otherwise near-neutral
    # A blue sky may be darker than the rest (dusk); a grey or white one is brighter than most of
    # the frame (an overcast sky is the light source), which is what tells it from a grey wall.
    blue_ok = (blue > 0.5) & (light >= f.l_median - 10.0)
    bright_bar = max(min(f.l_median + NEUTRAL_LIFT, float(np.percentile(light, 80))), 45.0)
    neutral_ok = (neutral > 0.5) & (light >= bright_bar)
    # An evening or hazy sky can be warm, but then it is the brightest part of the frame.
    glow_bar = max(float(np.percentile(light, 90)), GLOW_L)
    glow_ok = (f.chroma < GLOW_CHROMA) & (light >= glow_bar)
    calm = f.edge < EDGE_BARRIER
    # Seeds may be textured (a broken sky, blue between cumulus); the colour tests stay strict.
    strict = (f.texture < SMOOTH_LOOSE) & (blue_ok | neutral_ok | glow_ok) & calm
    h, w = strict.shape
    top_rows = max(2, round(TOP_BAND * h))  # scanned frames often have a dark border row
    strict |= _bright_top_region(f, calm, top_rows)

    # Seeds: strict components that enter from the top border and are not tiny.
    n, lab = cv2.connectedComponents(strict.astype(np.uint8), connectivity=4)
    counts = np.bincount(lab.ravel(), minlength=n)
    keep = np.zeros(n, bool)
    keep[np.unique(lab[:top_rows])] = True
    keep[0] = False
    keep &= counts >= MIN_SEED_AREA * h * w
    seeds = keep[lab]
    if not seeds.any():
        return np.zeros((h, w), np.float32)
    floor = float(np.percentile(light[seeds], 10)) - DARKER_THAN_SKY

    # Grow through looser candidates that are not darker than the sky (water, mountains are).
    # ... and whose colour is sky-like, or close to the seed sky's own colour (a warm haze
    # band above the horizon continues an evening sky: thresholds from the seed statistics).
    a, b = f.lab[..., 1], f.lab[..., 2]
    a_med, b_med = float(np.median(a[seeds])), float(np.median(b[seeds]))
    a_tol = float(np.clip(SEED_SIGMAS * np.std(a[seeds]), SEED_COLOUR_TOL, 2 * SEED_COLOUR_TOL))
    b_tol = float(np.clip(SEED_SIGMAS * np.std(b[seeds]), SEED_COLOUR_TOL, 2 * SEED_COLOUR_TOL))
    like_seed = (np.abs(a - a_med) <= a_tol) & (np.abs(b - b_med) <= b_tol)
    # A haze band of any mild tint and about as light as the sky itself continues it (walls and
    # water are darker than the sky; a sunlit white tower under a blue sky is much lighter).
    l_med = float(np.median(light[seeds]))
    like_seed |= (f.chroma < GLOW_CHROMA) & (np.abs(light - l_med) <= DARKER_THAN_SKY)
    loose = (f.texture < SMOOTH_LOOSE) & ((colour > 0.35) | like_seed) & (light >= floor) & calm
    _, lab2 = cv2.connectedComponents((loose | seeds).astype(np.uint8), connectivity=4)
    grown_ids = np.unique(lab2[seeds])
    grown_ids = grown_ids[grown_ids > 0]
    # The sky enters the frame broadly from the top; a bright patch in one corner of a close-up
    # (a window, a lamp-lit wall, a bokeh disc) spans only a sliver of the top edge. The sky may
    # be cut into pieces (a mast, a propeller, a tree): each piece must reach a fair part of the
    # top edge, and all pieces together a broad one.
    span = np.array([(lab2[:top_rows] == i).any(axis=0).mean() for i in grown_ids])
    grown_ids = grown_ids[span >= MIN_PIECE_SPAN] if grown_ids.size else grown_ids
    grown = np.isin(lab2, grown_ids)
    if grown[:top_rows].any(axis=0).mean() < MIN_TOP_SPAN:
        return np.zeros((h, w), np.float32)
    if not grown.any():
        return np.zeros((h, w), np.float32)
    horizon = _horizon_row(f.lab, grown)
    if horizon is not None:
        grown[horizon:] = False

    # Clouds: bright, at most moderately textured, any tint short of saturated colour (sunlit
    # clouds take the colour of the light), and with sky below them in their own column or
    # enclosed by sky. A white tower or a sunlit wall stands on the ground, not on the sky.
    cloudy = (f.chroma < CLOUD_CHROMA) & (f.texture < CLOUD_TEXTURE) & (light >= floor) & ~grown
    rows = np.arange(h)[:, None]
    lowest = np.where(grown.any(axis=0), h - 1 - np.argmax(grown[::-1], axis=0), -1)
    above_sky = rows < lowest[None, :]
    cloud = cloudy & (above_sky | _enclosed(grown))
    n3, lab3 = cv2.connectedComponents(cloud.astype(np.uint8), connectivity=4)
    touching = np.unique(lab3[cv2.dilate(grown.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0])
    cloud = np.isin(lab3, touching[touching > 0])
    sky = grown | cloud

    # Confidence: sky-coloured (or the seed sky's own colour) and smooth.
    colour = np.maximum(colour, like_seed.astype(np.float32))
    soft = np.clip(0.6 + 0.4 * colour * sigmoid((SMOOTH_LOOSE - f.texture) / 1.0), 0, 1)
    # A cloud that passed the structural tests (bright, on or enclosed by the sky) is sky with
    # fair confidence even when it is warm or shaded; a bare 0.6 would let the edge-aware
    # refinement hand its rim to whatever lies next to it.
    soft = np.where(cloud, np.maximum(soft, CLOUD_CONFIDENCE), soft)
    return (sky * soft).astype(np.float32)


def _bright_top_region(f: Features, calm: np.ndarray, top_rows: int) -> np.ndarray:
    """The brightest large smooth region entering from the top, whatever its tint.

    A warm evening sky or a hazy one is neither blue nor neutral, but it is the light source: a
    smooth region clearly brighter than the frame, spanning much of the top edge, and lying
    above the ground (it ends well above the bottom of the frame). A pale wall in a close-up
    fills the frame to the bottom; a studio backdrop is handled with the faces (`analysis`).
    """
    light = f.lab[..., 0]
    h, w = light.shape
    bar = max(f.l_median + BRIGHT_LIFT, float(np.percentile(light, 75)), BRIGHT_MIN_L)
    cand = (f.texture < SMOOTH_LOOSE) & calm & (light >= bar) & (f.chroma < GLOW_CHROMA)
    n, lab = cv2.connectedComponents(cand.astype(np.uint8), connectivity=4)
    out = np.zeros((h, w), bool)
    for i in np.unique(lab[:top_rows]):
        if i == 0:
            continue
        comp = lab == i
        rows = np.flatnonzero(comp.any(axis=1))
        if (comp.sum() >= MIN_SEED_AREA * h * w and comp[:top_rows].any(axis=0).mean() >= BRIGHT_TOP_SPAN
                and rows[-1] < ABOVE_GROUND * h):
            out |= comp
    return out


def _horizon_row(lab: np.ndarray, grown: np.ndarray) -> int | None:
    """The row of a straight horizon crossing the grown sky (sea or plain below it), or None.

    Water under a sky is calm and often blue, so it passes the sky's tests; what a person sees is
    the horizon, a straight line across the frame where colour or brightness steps. A row where
    most of the frame's width is grown "sky" both above and below and the colour changes sharply
    (more than `HORIZON_DE` over a few pixels) in most of those columns is such a line; the sky
    stops there. A gradual haze or a sunset gradient has no such step.
    """
    h, w = grown.shape
    gap = HORIZON_GAP
    if h <= 2 * gap + 2:
        return None
    upper, lower = lab[: h - 2 * gap], lab[2 * gap:]
    both = grown[: h - 2 * gap] & grown[2 * gap:]
    step = np.sqrt(((upper - lower) ** 2).sum(axis=2)) >= HORIZON_DE
    width = both.sum(axis=1)
    share = (step & both).sum(axis=1) / np.maximum(width, 1)
    # The sky lies above the line across most of the frame (people or trees may stand in front
    # of it at the line itself); below it, the part the sky's tests let in (calm water) may be
    # narrower, but it must be a fair piece and step almost everywhere.
    sky_above = (np.cumsum(grown, axis=0) > 0)[: h - 2 * gap].sum(axis=1)
    ok = ((sky_above >= HORIZON_WIDTH * w) & (width >= HORIZON_MIN_BELOW * w)
          & (share >= HORIZON_SHARE))
    ok[: round(0.1 * h)] = False  # a line in the top tenth is a cloud edge, not the horizon
    rows = np.flatnonzero(ok)
    if rows.size == 0:
        return None
    return int(rows[0] + gap)


def _enclosed(mask: np.ndarray) -> np.ndarray:
    """Regions of ~mask that touch neither the top nor the bottom border of the frame."""
    inv = (~mask).astype(np.uint8)
    _, lab = cv2.connectedComponents(inv, connectivity=4)
    border = np.unique(np.concatenate([lab[0], lab[-1]]))
    return (lab > 0) & ~np.isin(lab, border)
