"""Image descriptors: a short, fixed vector of cheap global statistics of a colour photo.

Why: a style's decoder adapts sliders to the photo (a high-key style lifts a dark photo more than a
bright one; a landscape style darkens a sky only where there is one), and the learner embeds photos
by these numbers to find subjects (portrait, landscape, night, ...) and to learn its proxies. They
must therefore be cheap (computed on the analysis-size copy, further reduced to `WORK_SIZE`),
independent of the image size, smooth in the image (no hard thresholds where avoidable), and named,
so that a style file can refer to them by name (`DESCRIPTOR_NAMES`) and stay readable.

All values are in natural units, roughly within [0, 1] unless stated:

==================  ==========================================================================
name                meaning
==================  ==========================================================================
lum_mean            mean plain luminance (display sRGB encoding, as a neutral rendering shows it)
lum_p01..lum_p99    luminance percentiles 1, 5, 25, 50, 75, 95, 99
key_ev              log2 of the geometric mean linear luminance over 18 % grey (EV, about -6..2)
contrast            standard deviation of the display luminance
log_contrast        standard deviation of log2 linear luminance (EV)
clip_low/clip_high  fraction of pixels below 2 % / above 98 % display luminance
saturation          mean HSV saturation
colourfulness       Hasler & Suesstrunk colourfulness M (on the [0, 1] scale)
hue_<band>          colour mass per hue band of `params.HUE_BANDS` (saturation-weighted pixel
                    fraction over HSV hue, bands centred at `HSV_CENTRES`; kept on HSV, unlike the
                    renderer's LCh filter, so that styles learned earlier read the same inputs)
detail              mean gradient magnitude of the luminance at `WORK_SIZE` (texture, edges)
aspect              log(width / height) of the analysis copy (a strip one pixel thick: about ±6.6)
<region>_area       mean soft mask of each region of `params.SEMANTIC_REGIONS`
<region>_lum        mean luminance inside the region (falls back smoothly to lum_mean when the
                    region is absent, so that the value is always defined and continuous)
<region>_sat        mean saturation inside the region (same fallback to the global mean)
face_count          number of faces found by the region analysis, capped at `MAX_FACES`
==================  ==========================================================================
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .errors import ShapeError
from .icc import srgb_decode, srgb_encode
from .params import HUE_BANDS, SEMANTIC_REGIONS

#: Long side (pixels) the statistics are computed at: size-independent and cheap.
WORK_SIZE = 256
MAX_FACES = 5
_PERCENTILES = (1, 5, 25, 50, 75, 95, 99)
#: Pseudo-area (fraction of the frame) that pulls a region's mean toward the global mean.
_REGION_PRIOR = 0.01
_REC709 = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)

DESCRIPTOR_NAMES: tuple[str, ...] = (
    ("lum_mean",)
    + tuple(f"lum_p{p:02d}" for p in _PERCENTILES)
    + ("key_ev", "contrast", "log_contrast", "clip_low", "clip_high", "saturation", "colourfulness")
    + tuple(f"hue_{band}" for band in HUE_BANDS)
    + ("detail", "aspect")
    + tuple(f"{region}_{stat}" for region in SEMANTIC_REGIONS for stat in ("area", "lum", "sat"))
    + ("face_count",)
)
DESCRIPTOR_INDEX: dict[str, int] = {name: i for i, name in enumerate(DESCRIPTOR_NAMES)}
DIM = len(DESCRIPTOR_NAMES)


def _reduce(rgb: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Area-average both to `WORK_SIZE` on the long side (masks to the image's reduced size)."""
    import cv2

    h, w = rgb.shape[:2]
    scale = min(1.0, WORK_SIZE / max(h, w))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    if size != (w, h):
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    if masks.shape[1:] != (size[1], size[0]):
        interp = cv2.INTER_AREA if masks.shape[1] * masks.shape[2] > size[0] * size[1] else cv2.INTER_LINEAR
        masks = np.stack([cv2.resize(m, size, interpolation=interp) for m in masks])
    return rgb, masks


def _gradient(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(d/dy, d/dx) of a 2-D image like `np.gradient`, zero along an axis one pixel long.

    A strip one pixel thick (a 1 x N photo reduced to `WORK_SIZE`) has no slope across it;
    np.gradient refuses such an axis, which stopped whole batches on panorama strips.
    """
    return tuple(np.gradient(image, axis=a) if image.shape[a] > 1 else np.zeros_like(image)
                 for a in (0, 1))


#: HSV-hue centres of the colour-mass descriptors' bands (red at 0°), one per `params.HUE_BANDS`.
HSV_CENTRES: tuple[float, ...] = (0.0, 30.0, 60.0, 120.0, 180.0, 225.0, 270.0, 315.0)


def hue_band_weights(hue_deg: np.ndarray) -> np.ndarray:
    """(8, ...) membership of each hue in the bands of `params.HUE_BANDS` (linear between centres).

    Memberships sum to 1 for every hue, as the renderer's colour filter interpolates neighbours.
    """
    centres = np.array(HSV_CENTRES + (360.0,), dtype=np.float32)
    hue = np.mod(hue_deg, 360.0)
    upper = np.clip(np.searchsorted(centres, hue, side="right"), 1, len(centres) - 1)
    lower = upper - 1
    t = (hue - centres[lower]) / (centres[upper] - centres[lower])
    out = np.zeros((len(HUE_BANDS),) + hue.shape, dtype=np.float32)
    n = len(HUE_BANDS)
    np.put_along_axis(out, (lower % n)[None], (1 - t)[None].astype(np.float32), axis=0)
    hi = (upper % n)[None]
    current = np.take_along_axis(out, hi, axis=0)
    np.put_along_axis(out, hi, current + t[None].astype(np.float32), axis=0)
    return out


def _hsv(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """HSV hue (degrees) and saturation of sRGB values, as the renderer's hue bands use them."""
    mx = rgb.max(axis=-1)
    mn = rgb.min(axis=-1)
    delta = mx - mn
    sat = np.where(mx > 1e-6, delta / np.maximum(mx, 1e-6), 0.0).astype(np.float32)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    safe = np.maximum(delta, 1e-6)
    hue = np.where(mx == r, (g - b) / safe % 6.0,
                   np.where(mx == g, (b - r) / safe + 2.0, (r - g) / safe + 4.0)) * 60.0
    return hue.astype(np.float32), sat


def describe(rgb_small: np.ndarray, masks: np.ndarray,
             faces: int | Sequence[object] | None = None) -> np.ndarray:
    """Descriptor vector (`DIM`,) float32 of a photo, in `DESCRIPTOR_NAMES` order.

    Args:
        rgb_small: (h, w, 3) float32 display sRGB in [0, 1] (the analysis-size copy).
        masks: (5, h', w') soft region masks in `params.SEMANTIC_REGIONS` order (any size; they
            are resized to the image's reduced size).
        faces: the faces the region analysis found (a count or a sequence), if known.
    """
    rgb = np.asarray(rgb_small, dtype=np.float32)
    masks = np.asarray(masks, dtype=np.float32)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or min(rgb.shape[:2]) < 1:
        raise ShapeError(f"describe: rgb must be (h, w, 3), got {rgb.shape}")
    if masks.ndim != 3 or masks.shape[0] != len(SEMANTIC_REGIONS):
        raise ShapeError(f"describe: masks must be ({len(SEMANTIC_REGIONS)}, h, w), got {masks.shape}")
    rgb, masks = _reduce(np.clip(np.nan_to_num(rgb), 0.0, 1.0), np.nan_to_num(masks))
    lin = srgb_decode(rgb).astype(np.float32)
    y_lin = lin @ _REC709
    lum = srgb_encode(y_lin).astype(np.float32)
    hue, sat = _hsv(rgb)

    values: dict[str, float] = {"lum_mean": float(lum.mean())}
    for p, v in zip(_PERCENTILES, np.percentile(lum, _PERCENTILES)):
        values[f"lum_p{p:02d}"] = float(v)
    log_y = np.log2(y_lin + 1e-4)
    values["key_ev"] = float(log_y.mean() - np.log2(0.18))
    values["contrast"] = float(lum.std())
    values["log_contrast"] = float(log_y.std())
    values["clip_low"] = float((lum < 0.02).mean())
    values["clip_high"] = float((lum > 0.98).mean())
    values["saturation"] = float(sat.mean())
    rg = rgb[..., 0] - rgb[..., 1]
    yb = 0.5 * (rgb[..., 0] + rgb[..., 1]) - rgb[..., 2]
    values["colourfulness"] = float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))
    bands = hue_band_weights(hue) * sat[None]
    for band, mass in zip(HUE_BANDS, bands.reshape(len(HUE_BANDS), -1).mean(axis=1)):
        values[f"hue_{band}"] = float(mass)
    gy, gx = _gradient(lum)
    values["detail"] = float(np.hypot(gx, gy).mean())
    values["aspect"] = float(np.log(rgb.shape[1] / rgb.shape[0]))
    for region, mask in zip(SEMANTIC_REGIONS, masks):
        area = float(mask.mean())
        values[f"{region}_area"] = area
        denom = area + _REGION_PRIOR
        values[f"{region}_lum"] = float(((mask * lum).mean() + _REGION_PRIOR * values["lum_mean"]) / denom)
        values[f"{region}_sat"] = float(((mask * sat).mean() + _REGION_PRIOR * values["saturation"]) / denom)
    count = faces if isinstance(faces, (int, float)) else (len(faces) if faces is not None else 0)
    values["face_count"] = float(min(max(count, 0), MAX_FACES))
    return np.array([values[name] for name in DESCRIPTOR_NAMES], dtype=np.float32)


def as_dict(descriptors: np.ndarray) -> dict[str, float]:
    """Name -> value, for reports and debugging."""
    vector = np.asarray(descriptors, dtype=np.float32).reshape(-1)
    if vector.shape[0] != DIM:
        raise ShapeError(f"expected {DIM} descriptors, got {vector.shape[0]}")
    return {name: float(v) for name, v in zip(DESCRIPTOR_NAMES, vector)}
