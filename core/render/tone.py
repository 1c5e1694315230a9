"""Tone math: the per-region tone operators, their lookup tables, hue bands and the global curve.

Everything is a pure, differentiable torch function of the sliders. Per-pixel work goes through
lookup tables (LUTs) built here, so the preview, the full-resolution render and the learner share
exactly one definition and the per-pixel cost does not grow with the number of sliders.

Region tone (`region_luts`), for one region with sliders in photographers' units:

1. exposure: ``y' = y · 2**exposure`` in linear light, then clip to [0, 1] and sRGB-encode: ``d``.
2. contrast: a rational S-curve (Schlick's bias, mirrored) around middle grey ``m = encode(0.18)``,
   slope ``g = 2**(contrast/100)`` at ``m`` and ``1/g`` at the ends; strictly increasing for any ``g``.
3. shadows: ``d + 0.95·s·d·(1-d)**3`` with ``s = shadows/100`` (lifts or deepens the lower tones,
   peak at d = 0.25, black and white points fixed); strictly increasing because ``|0.95·s| < 1``.
4. highlights: ``d + 0.95·h·d**3·(1-d)`` with ``h = highlights/100`` (the mirror image).
5. whites / blacks move the end points (levels): black point ``b = -0.15·blacks/100``, white point
   ``w = 1 - 0.15·whites/100``, ``(d - b) / (w - b)`` clipped to [0, 1].

Each step is monotone, so the whole region tone curve is monotone for every slider value in range.
The region LUT is indexed by ``log2`` of linear light (``LOG_LO``…``LOG_HI`` stops): exposure and
the hue-band filter are then additions to the index, and sRGB's steep toe is sampled finely.
"""
from __future__ import annotations

import math

import torch

from ..ops.color import linear_to_srgb
from ..params import HUE_BAND_EV, HUE_BANDS, HUE_CENTRES, REGION_SLIDERS

MIDDLE_GREY = 1.055 * 0.18 ** (1 / 2.4) - 0.055  # encode(0.18) ≈ 0.4614
LOG_LO, LOG_HI = -28.0, 7.0  # log2 linear-light range of the region LUTs (below: black, above: clipped)
LUT_SIZE = 4096
CURVE_LUT_SIZE = 4096
SHADOW_GAIN = 0.95
HIGHLIGHT_GAIN = 0.95
ENDPOINT_RANGE = 0.15
_IDX = {name: i for i, name in enumerate(REGION_SLIDERS)}
N_BANDS = len(HUE_BANDS)


def contrast_curve(d: torch.Tensor, contrast: torch.Tensor) -> torch.Tensor:
    """S-curve around middle grey: slope ``2**(contrast/100)`` at middle grey, identity at 0.

    Args:
        d: display values in [0, 1], any shape.
        contrast: slider value(s) in −100…100, broadcastable to ``d``.
    """
    m = MIDDLE_GREY
    gm1 = torch.exp2(contrast / 100.0) - 1.0  # g - 1
    t = (d / m).clamp(max=1.0)  # clamp: the branch torch.where drops must stay finite for autograd
    low = m * t / (gm1 * (1.0 - t) + 1.0)
    u = ((1.0 - d) / (1.0 - m)).clamp(max=1.0)
    high = 1.0 - (1.0 - m) * u / (gm1 * (1.0 - u) + 1.0)
    return torch.where(d < m, low, high)


def region_tone(d: torch.Tensor, sliders: torch.Tensor) -> torch.Tensor:
    """Steps 2–5 of the module docstring: display value in [0, 1] → toned display value in [0, 1].

    Args:
        d: ``(..., N)`` display values in [0, 1].
        sliders: ``(..., P)`` region slider vectors (`REGION_SLIDERS` order); leading dims broadcast
            against ``d``'s.
    """
    def col(name: str) -> torch.Tensor:
        return sliders[..., _IDX[name]].unsqueeze(-1)

    d = contrast_curve(d, col("contrast"))
    d = d + SHADOW_GAIN * col("shadows") / 100.0 * d * (1.0 - d) ** 3
    d = d + HIGHLIGHT_GAIN * col("highlights") / 100.0 * d ** 3 * (1.0 - d)
    black = -ENDPOINT_RANGE * col("blacks") / 100.0
    white = 1.0 - ENDPOINT_RANGE * col("whites") / 100.0
    return ((d - black) / (white - black)).clamp(0.0, 1.0)


def log_grid(size: int = LUT_SIZE, *, dtype=torch.float32, device=None) -> torch.Tensor:
    """The ``log2`` linear-light inputs the region LUT entries are sampled at."""
    return torch.linspace(LOG_LO, LOG_HI, size, dtype=dtype, device=device)


def region_luts(sliders: torch.Tensor, size: int = LUT_SIZE) -> torch.Tensor:
    """Per-region LUTs over ``log2`` linear light: ``lut[r, i] = tone_r(encode(clip(2**(l_i + ev_r))))``.

    Args:
        sliders: ``(R, P)`` region sliders.

    Returns:
        ``(R, size)`` display values in [0, 1], differentiable w.r.t. ``sliders``.
    """
    grid = log_grid(size, dtype=sliders.dtype, device=sliders.device)
    ev = sliders[:, _IDX["exposure"]].unsqueeze(-1)
    y = torch.exp2(grid.unsqueeze(0) + ev).clamp(max=1.0)
    return region_tone(linear_to_srgb(y), sliders)


def display_luts(sliders: torch.Tensor, size: int = LUT_SIZE) -> torch.Tensor:
    """Per-adjustment tone LUTs over display values (steps 2–5 only; exposure is applied before).

    Returns:
        ``(L, size)``: ``lut[l, i] = tone_l(i / (size - 1))``.
    """
    grid = torch.linspace(0.0, 1.0, size, dtype=sliders.dtype, device=sliders.device)
    return region_tone(grid.expand(sliders.shape[0], size), sliders)


def band_ev(sliders: torch.Tensor) -> torch.Tensor:
    """``(R, P)`` sliders → ``(R, 8)`` EV offsets of a fully saturated pixel at each band centre."""
    return sliders[:, :N_BANDS] * (HUE_BAND_EV / 100.0)


def band_centres(shifts: torch.Tensor) -> torch.Tensor:
    """``(8,)`` band centres in degrees: `HUE_CENTRES` moved by the ``<band>_hue`` sliders.

    Rendered moves are whole degrees (rounded), so the CPU fast path's per-degree band table is
    exact; while the learner fits them (``shifts`` records a gradient) they stay continuous.
    """
    if not shifts.requires_grad:
        shifts = shifts.round()
    return torch.tensor(HUE_CENTRES, dtype=shifts.dtype, device=shifts.device) + shifts


def hue_basis(hue: torch.Tensor, weight: torch.Tensor,
              centres: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Where each pixel's hue falls between the band centres (piecewise-linear around the circle).

    A pixel with hue between centres ``j`` and ``j+1`` gets the EV offset
    ``weight · (band[j]·(1-t) + band[j+1]·t)``; this returns ``j``, ``j+1 (mod 8)`` and the two
    weights ``weight·(1-t)``, ``weight·t``, so that each region then costs two gathers and two multiplies.

    Args:
        hue: LCh hue in degrees, [0, 360), any shape. weight: same shape, colourfulness in [0, 1]
            (`ops.color.hue_chroma`). centres: ``(8,)`` increasing degrees (`band_centres`),
            differentiable.
    """
    centres = centres.to(dtype=hue.dtype, device=hue.device)
    first = centres[0]
    rel = torch.cat([centres - first, (centres[:1] - first) + 360.0])
    turned = torch.remainder(hue - first, 360.0)  # hue measured from the first centre
    j0 = torch.bucketize(turned.detach(), rel[1:N_BANDS].detach().contiguous(), right=True)
    lo = rel[j0]
    width = rel[j0 + 1] - lo
    t = ((turned - lo) / width).clamp(0.0, 1.0)
    j1 = torch.remainder(j0 + 1, N_BANDS)
    return j0, j1, weight * (1.0 - t), weight * t


def filter_balance_lut(balance: torch.Tensor, size: int = LUT_SIZE) -> torch.Tensor:
    """``(size,)`` multiplier of the hue-band offsets at each region-LUT index of the base grey.

    ``1 + 4·balance/100·(d - 1/2)`` with ``d = encode(clip(y))`` the base grey as a display value
    (see `params`); indexed like the region LUTs (``log2`` of linear light), so that the renderer
    reads it with the index it already has.
    """
    log_y = torch.linspace(LOG_LO, LOG_HI, size, dtype=balance.dtype, device=balance.device)
    d = linear_to_srgb(torch.exp2(log_y).clamp(max=1.0))
    return 1.0 + (balance / 25.0) * (d - 0.5)


def pchip_knots(values: torch.Tensor) -> torch.Tensor:
    """Fritsch–Carlson slopes of the monotone cubic through ``(i/(K-1), values[i])``.

    Harmonic-mean slopes where neighbouring secants agree in sign, 0 where they do not (so a
    monotone set of knots gives a monotone curve); one-sided three-point ends, limited likewise.
    """
    k = values.shape[-1]
    h = 1.0 / (k - 1)
    delta = (values[1:] - values[:-1]) / h
    d0, d1 = delta[:-1], delta[1:]
    same = (d0 * d1) > 0
    safe_sum = torch.where(same, d0 + d1, torch.ones_like(d0))
    inner = torch.where(same, 2.0 * d0 * d1 / safe_sum, torch.zeros_like(d0))

    def end(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        slope = (3.0 * a - b) / 2.0
        slope = torch.where(slope * a <= 0, torch.zeros_like(slope), slope)
        return torch.where((a * b <= 0) & (slope.abs() > 3.0 * a.abs()), 3.0 * a, slope)

    first = end(delta[0], delta[1]).reshape(1)
    last = end(delta[-1], delta[-2]).reshape(1)
    return torch.cat([first, inner, last])


def curve_lut(curve: torch.Tensor, size: int = CURVE_LUT_SIZE) -> torch.Tensor:
    """The global tone curve (monotone cubic through the knots) sampled at ``size`` display values.

    Args:
        curve: ``(K,)`` outputs at inputs ``i / (K - 1)`` (`params.CURVE_KNOTS` in a rendering).

    Returns:
        ``(size,)`` curve outputs at ``linspace(0, 1, size)``; the renderer interpolates linearly.
    """
    k = curve.shape[-1]
    if k < 3:
        raise ValueError(f"a curve needs at least 3 knots, got {k}")
    slopes = pchip_knots(curve)
    h = 1.0 / (k - 1)
    x = torch.linspace(0.0, 1.0, size, dtype=curve.dtype, device=curve.device)
    seg = (x * (k - 1)).floor().clamp(max=k - 2).long()
    s = (x - seg.to(x.dtype) * h) / h
    y0, y1 = curve[seg], curve[seg + 1]
    m0, m1 = slopes[seg] * h, slopes[seg + 1] * h
    s2, s3 = s * s, s * s * s
    return ((2 * s3 - 3 * s2 + 1) * y0 + (s3 - 2 * s2 + s) * m0
            + (-2 * s3 + 3 * s2) * y1 + (s3 - s2) * m1)


def lut_lookup(lut: torch.Tensor, pos: torch.Tensor, offsets: torch.Tensor | None = None) -> torch.Tensor:
    """Linear interpolation in one or several flattened LUTs.

    Args:
        lut: ``(S,)`` or ``(R, S)`` table (flattened internally).
        pos: continuous index in [0, S-1] (clamped), any shape.
        offsets: for an ``(R, S)`` table, ``r·S`` broadcastable against ``pos`` (which row to read).

    Returns:
        Interpolated values, shape of ``pos`` (broadcast with ``offsets``).
    """
    size = lut.shape[-1]
    flat = lut.reshape(-1)
    pos = pos.clamp(0.0, size - 1.0)
    i0 = pos.detach().floor().clamp(max=size - 2)
    frac = pos - i0
    index = i0.long()
    if offsets is not None:
        index = index + offsets
    v0 = flat.take(index)
    v1 = flat.take(index + 1)
    return v0 + frac * (v1 - v0)


def log_position(log_y: torch.Tensor, size: int = LUT_SIZE) -> torch.Tensor:
    """Continuous region-LUT index of ``log2`` linear light."""
    return (log_y - LOG_LO) * ((size - 1) / (LOG_HI - LOG_LO))


#: Scale from an EV offset to a region-LUT index offset.
EV_TO_INDEX = (LUT_SIZE - 1) / (LOG_HI - LOG_LO)
#: Floor of linear light before log2: 6 stops above the LUT start, so that no hue-band offset
#: (at most `HUE_BAND_EV`, times 3 at the extreme filter balance) can move an index below 0 and the
#: fast path needs no clipping.
LOG_FLOOR = 2.0 ** (LOG_LO + 6.0)
assert 3.0 * HUE_BAND_EV <= 6.0
assert math.isclose(EV_TO_INDEX * (LOG_HI - LOG_LO), LUT_SIZE - 1)
# white (log2 y = 0, where the region tone clips) must fall on a LUT entry, not between two
assert float(-LOG_LO * EV_TO_INDEX).is_integer()
