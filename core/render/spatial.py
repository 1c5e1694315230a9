"""Spatial helpers of the renderer, all computable for a band of rows so that tiles agree with the
whole image: bilinear resampling, Gaussian blur, local-adjustment masks, vignette and film grain.

Coordinates are those of the full output image; a tile passes its first row and row count and gets
exactly the rows the whole-image computation would give (tests check this).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .tensors import GEOMETRY_NAMES


# ----------------------------------------------------------------------------------------- resampling
def _source_index(n_out: int, n_in: int, start: int, stop: int, device, dtype):
    """torch's ``align_corners=False`` bilinear source indices and weights for outputs start..stop."""
    scale = n_in / n_out
    pos = ((torch.arange(start, stop, device=device, dtype=torch.float64) + 0.5) * scale - 0.5).clamp(min=0.0)
    i0 = pos.floor().long().clamp(max=n_in - 1)
    i1 = (i0 + 1).clamp(max=n_in - 1)
    return i0, i1, (pos - i0.double()).to(dtype)


def resize_rows(src: torch.Tensor, height: int, width: int, start: int = 0, stop: int | None = None) -> torch.Tensor:
    """Rows ``start:stop`` of ``F.interpolate(src, (height, width), mode="bilinear", align_corners=False)``.

    Computed separably from only the source rows it needs, so a full-resolution tile costs a few
    operations per output pixel and no full-size intermediate.

    Args:
        src: ``(B, C, h, w)``.
        height, width: size of the (virtual) resized image.
        start, stop: output rows to produce (default: all).

    Returns:
        ``(B, C, stop - start, width)``.
    """
    stop = height if stop is None else stop
    h, w = src.shape[-2:]
    if (h, w) == (height, width):
        return src[..., start:stop, :]
    if h == height:
        i0 = i1 = wy = None
        lo, hi = start, stop
    else:
        i0, i1, wy = _source_index(height, h, start, stop, src.device, src.dtype)
        lo, hi = int(i0.min()), int(i1.max()) + 1
    band = src[..., lo:hi, :]
    if w != width:
        j0, j1, wx = _source_index(width, w, 0, width, src.device, src.dtype)
        band = torch.lerp(band.index_select(-1, j0), band.index_select(-1, j1), wx)
    if h == height:
        return band
    top = band.index_select(-2, i0 - lo)
    bottom = band.index_select(-2, i1 - lo)
    return torch.lerp(top, bottom, wy.unsqueeze(-1))


def gaussian_kernel1d(sigma: float, *, dtype=torch.float32, device=None) -> torch.Tensor:
    """Normalised 1-D Gaussian of radius ``ceil(3·sigma)`` (a single tap for sigma ≤ 0)."""
    if sigma <= 0:
        return torch.ones(1, dtype=dtype, device=device)
    radius = max(1, int(math.ceil(3.0 * sigma)))
    x = torch.arange(-radius, radius + 1, dtype=torch.float64)
    k = torch.exp(-0.5 * (x / sigma) ** 2)
    return (k / k.sum()).to(dtype=dtype, device=device)


def gaussian_blur(image: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur with edge-replicating borders.

    Args:
        image: ``(B, C, H, W)``. sigma: in pixels.
    """
    kernel = gaussian_kernel1d(sigma, dtype=image.dtype, device=image.device)
    r = (kernel.numel() - 1) // 2
    if r == 0:
        return image
    b, c, h, w = image.shape
    x = image.reshape(b * c, 1, h, w)
    x = correlate1d(F.pad(x, (r, r, 0, 0), mode="replicate"), kernel, -1)
    x = correlate1d(F.pad(x, (0, 0, r, r), mode="replicate"), kernel, -2)
    return x.reshape(b, c, h, w)


def correlate1d(x: torch.Tensor, kernel: torch.Tensor, dim: int) -> torch.Tensor:
    """'valid' correlation of ``x`` with a 1-D ``kernel`` along ``dim``, as a sum of shifted copies.

    Not ``F.conv2d``: cuDNN runs float32 convolutions in TF32 (10-bit mantissa) by default on recent
    GPUs, which put CUDA renders ~5/65535 away from the CPU's; plain multiply-adds are exact float32
    on every device, and cheap for the short kernels used here (blurs at analysis size, grain cells).
    """
    n = x.shape[dim] - kernel.numel() + 1
    out = x.narrow(dim, 0, n) * kernel[0]
    for i in range(1, kernel.numel()):
        out = out + x.narrow(dim, i, n) * kernel[i]
    return out


def pool_factor(height: int, width: int, target: int) -> int:
    """Integer block size that brings the long side down to at most ``target``."""
    return max(1, int(math.ceil(max(height, width) / target)))


def block_mean(image: torch.Tensor, factor: int) -> torch.Tensor:
    """Mean over ``factor × factor`` blocks (partial blocks at the edges averaged over what they hold)."""
    if factor == 1:
        return image
    return F.avg_pool2d(image, factor, stride=factor, ceil_mode=True)


# ------------------------------------------------------------------------------------ local masks
def _coords(height: int, width: int, start: int, stop: int, dtype, device):
    """Pixel-centre coordinates as fractions of width and height, ``(rows, 1)`` and ``(1, W)``."""
    ys = (torch.arange(start, stop, dtype=dtype, device=device) + 0.5) / height
    xs = (torch.arange(width, dtype=dtype, device=device) + 0.5) / width
    return ys.unsqueeze(1), xs.unsqueeze(0)


def _smoothstep(t: torch.Tensor) -> torch.Tensor:
    t = t.clamp(0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def graduated_mask(geometry: torch.Tensor, height: int, width: int, start: int, stop: int,
                   rgb: torch.Tensor | None = None, reference: torch.Tensor | None = None) -> torch.Tensor:
    """Graduated filter: 1 on the side the angle points away from, 0 past a band of width ``feather``.

    Angle 0 puts the effect at the top edge, fading downwards; positive angles turn it clockwise
    on screen (90: the right edge). Distances are in fractions of the height.
    With ``rgb`` rows and the picked ``reference`` colour, the mask is limited to the filter's colour
    range (`colour_range_weight`).

    Returns:
        ``(rows, W)`` in [0, 1], or ``(B, rows, W)`` with a colour range.
    """
    names = GEOMETRY_NAMES["graduated"]
    x, y, angle, feather = (geometry[names.index(n)] for n in ("x", "y", "angle", "feather"))
    ys, xs = _coords(height, width, start, stop, geometry.dtype, geometry.device)
    theta = angle * (math.pi / 180.0)
    # unit vector of increasing distance (downwards at angle 0), x measured in height units
    dist = (xs - x) * (width / height) * (-torch.sin(theta)) + (ys - y) * torch.cos(theta)
    mask = _smoothstep(0.5 - dist / feather.clamp(min=1e-3))
    return _in_range(mask, geometry, names, rgb, reference)


def radial_mask(geometry: torch.Tensor, height: int, width: int, start: int, stop: int,
                rgb: torch.Tensor | None = None, reference: torch.Tensor | None = None) -> torch.Tensor:
    """Radial filter: an ellipse (full axes ``width``·W and ``height``·H, rotated by ``angle``);
    1 inside, 0 outside, softened over the outer ``feather`` fraction of the radius; ``invert``
    (0…1) blends towards the complement (1: the effect is outside). A colour range as for
    `graduated_mask`.

    Returns:
        ``(rows, W)`` in [0, 1], or ``(B, rows, W)`` with a colour range.
    """
    names = GEOMETRY_NAMES["radial"]
    x, y, ew, eh, angle, feather, invert = (geometry[names.index(n)] for n in
                                            ("x", "y", "width", "height", "angle", "feather", "invert"))
    ys, xs = _coords(height, width, start, stop, geometry.dtype, geometry.device)
    theta = angle * (math.pi / 180.0)
    dx, dy = (xs - x) * width, (ys - y) * height  # pixels
    c, s = torch.cos(theta), torch.sin(theta)
    u = (dx * c + dy * s) / (0.5 * ew * width)
    v = (-dx * s + dy * c) / (0.5 * eh * height)
    rho = torch.sqrt(u * u + v * v + 1e-12)
    inside = _smoothstep((1.0 - rho) / feather.clamp(min=1e-3))
    mask = invert + (1.0 - 2.0 * invert) * inside
    return _in_range(mask, geometry, names, rgb, reference)


#: Colour tolerance (display-RGB distance) of a control point at similarity 100 and its growth
#: per 25 points less: similarity 100 → 0.04, 50 → 0.16, 0 → 0.64 (nearly every colour).
POINT_TOLERANCE = 0.04


def colour_weight(rgb: torch.Tensor, reference: torch.Tensor, inverse_tol: torch.Tensor) -> torch.Tensor:
    """``exp(-(|rgb - reference| · inverse_tol)²)`` per pixel: how close each colour is to the
    reference (display RGB ``(B, 3, rows, W)`` against ``(B, 3)``), ``(B, rows, W)``."""
    diff = ((rgb - reference[:, :, None, None]) ** 2).sum(dim=1)
    return torch.exp(-diff * (inverse_tol * inverse_tol))


def colour_range_weight(rgb: torch.Tensor, reference: torch.Tensor, amount: torch.Tensor) -> torch.Tensor:
    """A filter's colour range: every colour at 0 (exactly), then a tolerance that narrows as
    ``amount`` grows (100: the control point's tightest, `POINT_TOLERANCE`; 25: a point's
    similarity 50). Smooth in ``amount``, but flat at 0: the learner fits a range it starts on."""
    return colour_weight(rgb, reference, amount / (100.0 * POINT_TOLERANCE))


def _in_range(mask: torch.Tensor, geometry: torch.Tensor, names: tuple[str, ...], rgb: torch.Tensor | None,
              reference: torch.Tensor | None) -> torch.Tensor:
    """A filter's mask limited to its colour range, when it has one (a reference colour)."""
    if rgb is None or reference is None:
        return mask
    return mask * colour_range_weight(rgb, reference, geometry[names.index("color_range")])


def point_mask(geometry: torch.Tensor, rgb: torch.Tensor, reference: torch.Tensor, height: int, width: int,
               start: int, stop: int) -> torch.Tensor:
    """Control point: a smooth disc of ``radius`` (fraction of the long side) around (x, y), times a
    colour-similarity weight ``exp(-(|rgb - reference| / tol)²)`` with the tolerance set by
    ``similarity`` (see `POINT_TOLERANCE`).

    Args:
        rgb: ``(B, 3, rows, W)`` display sRGB of these rows.
        reference: ``(B, 3)`` the colour under the point (see `reference_colour`).

    Returns:
        ``(B, rows, W)`` in [0, 1].
    """
    names = GEOMETRY_NAMES["point"]
    x, y, radius, similarity = (geometry[names.index(n)] for n in names)
    ys, xs = _coords(height, width, start, stop, geometry.dtype, geometry.device)
    long_side = max(height, width)
    dist = torch.sqrt(((xs - x) * width) ** 2 + ((ys - y) * height) ** 2 + 1e-12) / (radius * long_side)
    spatial = _smoothstep(1.0 - dist)
    tol = POINT_TOLERANCE * torch.exp2(4.0 * (1.0 - similarity / 100.0))
    return spatial * colour_weight(rgb, reference, 1.0 / tol)


def reference_colour(kind: str, geometry: torch.Tensor, rgb_small: torch.Tensor) -> torch.Tensor:
    """The colour a colour-selective mask compares with: under a control point, or at a filter's
    colour-range pick (``pick_x``, ``pick_y``). See `sample_colour`."""
    names = GEOMETRY_NAMES[kind]
    x, y = ("x", "y") if kind == "point" else ("pick_x", "pick_y")
    return sample_colour(geometry[names.index(x)], geometry[names.index(y)], rgb_small)


def sample_colour(x: torch.Tensor, y: torch.Tensor, rgb_small: torch.Tensor) -> torch.Tensor:
    """The colour at (x, y) (fractions of width / height), bilinearly sampled from the block-mean
    image ``(B, 3, h, w)`` (differentiable w.r.t. the position). Returns ``(B, 3)``."""
    grid = torch.stack([2.0 * x - 1.0, 2.0 * y - 1.0]).reshape(1, 1, 1, 2).to(rgb_small.dtype)
    grid = grid.expand(rgb_small.shape[0], 1, 1, 2)
    return F.grid_sample(rgb_small, grid, mode="bilinear", padding_mode="border", align_corners=False)[:, :, 0, 0]


# --------------------------------------------------------------------------------- vignette, grain
VIGNETTE_EV = 1.5  # exposure change in the far corners at vignette ±100 (full falloff)


def vignette_gain(amount: torch.Tensor, midpoint: torch.Tensor, feather: torch.Tensor, height: int, width: int,
                  start: int, stop: int) -> torch.Tensor:
    """Display-space gain of the vignette for rows start..stop, ``(rows, W)``.

    ``r`` is the distance from the centre normalised so that the corners are at 1; the falloff
    starts at ``r0 = 0.15 + 0.7·midpoint/100`` and ramps (smoothstep) over ``0.05 + 0.95·feather/100``.
    The gain is ``2**(VIGNETTE_EV · amount/100 · falloff / 2.4)``: ±1.5 EV in linear light for a
    pure 2.4 power encoding, applied to display values.
    """
    ys, xs = _coords(height, width, start, stop, amount.dtype, amount.device)
    r = torch.sqrt(((2.0 * xs - 1.0) ** 2 + (2.0 * ys - 1.0) ** 2) / 2.0)
    r0 = 0.15 + 0.7 * midpoint / 100.0
    ramp = 0.05 + 0.95 * feather / 100.0
    falloff = _smoothstep((r - r0) / ramp)
    return torch.exp2(VIGNETTE_EV * amount / 100.0 * falloff / 2.4)


GRAIN_REF_LONG = 4000.0  # grain sizes are defined on a 4000-px-long frame, so previews match prints
GRAIN_AMPLITUDE = 0.12  # display-value standard deviation of grain 100 in the mid-tones


def grain_cell(size: float, height: int, width: int) -> float:
    """Grain cell in output pixels: 1…8 px on the reference frame, scaled to this image.

    Capped at a quarter of the short side: on an extreme strip (20 × 100,000 px) the long side
    alone asked for a 1,400-px blur over a 20-row image, tens of seconds of CPU for 2 MP. No
    photo of ordinary proportions comes near the cap.
    """
    cell = (1.0 + 7.0 * size / 100.0) * max(height, width) / GRAIN_REF_LONG
    return min(cell, max(1.0, min(height, width) / 4.0))


_M32 = 0xFFFFFFFF


def _hash(ys: torch.Tensor, xs: torch.Tensor, seed: int) -> torch.Tensor:
    """32-bit integer hash of (row, column, seed), broadcasting ``(rows, 1)`` with ``(1, cols)``."""
    h = (xs * 0x9E3779B1 + ys * 0x85EBCA77 + (seed * 0xC2B2AE3D & _M32)) & _M32
    h = h ^ (h >> 16)
    h = (h * 0x7FEB352D) & _M32
    h = h ^ (h >> 15)
    h = (h * 0x846CA68B) & _M32
    return h ^ (h >> 16)


def grain_noise(seed: int, size: float, height: int, width: int, start: int, stop: int, *, dtype=torch.float32,
                device=None) -> torch.Tensor:
    """Unit-variance film-grain noise for rows start..stop of an ``height × width`` image: ``(rows, W)``.

    White noise from a hash of the pixel's own coordinates and the seed (so any tiling gives the
    same grain, and a seed always the same pattern), blurred to the grain cell (σ = cell/2) and
    renormalised to unit variance. Where the cell is under a pixel (previews) the noise stays
    per-pixel and its amplitude is scaled by the cell, as downsampling fine grain would do.
    """
    cell = grain_cell(size, height, width)
    sigma = 0.5 * cell if cell > 1.0 else 0.0
    kernel = gaussian_kernel1d(sigma, dtype=torch.float32, device=device)
    r = (kernel.numel() - 1) // 2
    ys = torch.arange(start - r, stop + r, device=device, dtype=torch.int64).unsqueeze(1) + 1_000_003
    xs = torch.arange(-r, width + r, device=device, dtype=torch.int64).unsqueeze(0) + 1_000_003
    h = _hash(ys, xs, int(seed))
    # two 16-bit uniforms summed: triangular on (-1, 1), variance 1/6
    noise = ((h & 0xFFFF).float() + (h >> 16).float() + 1.0) / 65536.0 - 1.0
    noise = noise * math.sqrt(6.0)
    if r:
        x = correlate1d(correlate1d(noise, kernel, -1), kernel, -2)
        noise = x / float((kernel.double() ** 2).sum())  # std of blurred unit noise = Σk²
    return (noise * min(cell, 1.0)).to(dtype)
