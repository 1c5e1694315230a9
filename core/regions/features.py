"""Per-pixel colour, texture and position features on a small working grid.

Sky and vegetation are recognised from what a photographer would name: colour (CIE Lab, HSV),
texture (local gradient energy), brightness relative to the frame and vertical position. They are
computed on a grid of `WORK_SIZE` long side, where a 3x3 gradient already spans foliage detail but
sky and cloud interiors stay smooth, and where connectivity analysis costs a few milliseconds.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

WORK_SIZE = 320  #: long side, in pixels, of the grid sky / vegetation are classified on
FRAME_LINE = 0.006  #: fraction of the long side replaced at each frame edge (`without_frame_lines`)
#: Shortest side of the grids the region models run on. A panorama strip (6000 x 20) or a tiny
#: photo (1 x 1) would shrink to grids a pixel or two thick, where gradients, 3 x 3 windows and
#: the people models have nothing to work on; such sides are stretched up to this instead.
MIN_SIDE = 8


@dataclass(frozen=True)
class Features:
    rgb: np.ndarray      # (h, w, 3) float32 sRGB [0, 1], as shot
    lab: np.ndarray      # (h, w, 3) white-balanced Lab: L in [0, 100], a / b roughly [-100, 100]
    hue: np.ndarray      # (h, w) HSV hue of the photo as shot, degrees [0, 360)
    sat: np.ndarray      # (h, w) HSV saturation [0, 1], as shot
    chroma: np.ndarray   # (h, w) Lab chroma (white-balanced)
    texture: np.ndarray  # (h, w) mean |grad L| over a 5x5 window, L units per pixel
    edge: np.ndarray     # (h, w) |grad L| at the pixel
    rows: np.ndarray     # (h, w) row position, 0 at the top, 1 at the bottom
    l_median: float      # median L of the frame
    detail: np.ndarray | None = None  # (h, w) fine-scale |L - blur(L)| measured at the analysis
    #                                   size (finer than this grid), area-resampled; None if unknown


def sigmoid(x: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))).astype(np.float32)


def resize_long(rgb: np.ndarray, long_side: int, min_side: int = 1) -> np.ndarray:
    """Area-resample so the long side is at most ``long_side`` (never upsamples it), float32.

    A side that would end under ``min_side`` is stretched to it (bilinear, after the area
    reduction): the working grids pass `MIN_SIDE`, so their aspect saturates at
    ``long_side / MIN_SIDE`` and no filter sees a strip thinner than its window.
    """
    h, w = rgb.shape[:2]
    scale = min(1.0, long_side / max(h, w))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    out = np.asarray(rgb, np.float32)
    if size != (w, h):
        out = cv2.resize(out, size, interpolation=cv2.INTER_AREA)
    grown = (max(min_side, size[0]), max(min_side, size[1]))
    if grown != size:
        out = cv2.resize(np.ascontiguousarray(out), grown, interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(out)


def without_frame_lines(rgb: np.ndarray, fraction: float = FRAME_LINE) -> np.ndarray:
    """``rgb`` with its outermost ~0.6 % of rows and columns replaced by copies of the next inner ones.

    Scans and some cameras leave a thin grey or black line along the frame (most of the Kodak
    set has a 3-pixel grey one). Every texture window, colour segment and median that touches it
    reads a strong edge, so the sky stopped short of the frame by a band several grid pixels
    wide. Real content continues inwards, so replicating the inner pixels loses nothing.
    """
    h, w = rgb.shape[:2]
    b = max(1, round(fraction * max(h, w)))
    if min(h, w) <= 4 * b + 2:
        return rgb
    inner = np.ascontiguousarray(rgb[b:h - b, b:w - b])
    return cv2.copyMakeBorder(inner, b, b, b, b, cv2.BORDER_REPLICATE)


def grey_edge_gains(rgb: np.ndarray, p: float = 6.0, max_gain: float = 1.15) -> np.ndarray:
    """Per-channel white-balance gains from the grey-edge hypothesis (van de Weijer et al. 2007).

    The average colour of image *edges* is achromatic under neutral light, so their Minkowski
    p-norm per channel estimates the illuminant. Unlike grey-world this is not fooled by a frame
    full of foliage or sky. Gains are limited so a deliberate colour cast is only softened.
    """
    blurred = cv2.GaussianBlur(rgb, (0, 0), 1.0)
    gx = cv2.Sobel(blurred, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(blurred, cv2.CV_32F, 0, 1, ksize=3)
    mag = np.sqrt(gx * gx + gy * gy).reshape(-1, 3)
    illum = (mag.astype(np.float64) ** p).mean(0) ** (1 / p)
    if not np.all(illum > 1e-8):
        return np.ones(3, np.float32)
    gains = illum.mean() / illum
    return np.clip(gains, 1 / max_gain, max_gain).astype(np.float32)


def fine_detail(rgb_fine: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """High-frequency luminance energy of a finer copy of the image, averaged onto ``shape``.

    Leaves, needles and grass blades keep detail at the finest scale; painted or plastic objects
    (a green cap, a door) are smooth inside at that scale even when their folds and outline
    make the coarse grid's gradient texture high.
    """
    light = cv2.cvtColor(np.ascontiguousarray(rgb_fine, dtype=np.float32), cv2.COLOR_RGB2Lab)[..., 0]
    hf = np.abs(light - cv2.GaussianBlur(light, (0, 0), 1.0))
    return cv2.resize(hf, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)


def compute_features(rgb_small: np.ndarray, rgb_fine: np.ndarray | None = None) -> Features:
    """Features of an image already at (about) the working size.

    Lab (the sky's grey / blue test) is computed after grey-edge white balance, since a colour
    cast moves a grey sky's b* a lot; hue and saturation (the vegetation test) are kept as shot:
    balancing a frame dominated by foliage or by a green-cyan sea pulls the foliage towards
    orange, and leaves stay recognisably green-yellow under ordinary casts anyway.
    ``rgb_fine`` (the same photo at the analysis size) adds `Features.detail`.
    """
    rgb = np.clip(np.ascontiguousarray(rgb_small, dtype=np.float32), 0, 1)
    balanced = np.clip(rgb * grey_edge_gains(rgb), 0, 1)
    lab = cv2.cvtColor(balanced, cv2.COLOR_RGB2Lab)
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    light = lab[..., 0]
    gx = cv2.Sobel(light, cv2.CV_32F, 1, 0, ksize=3, borderType=cv2.BORDER_REFLECT) / 8
    gy = cv2.Sobel(light, cv2.CV_32F, 0, 1, ksize=3, borderType=cv2.BORDER_REFLECT) / 8
    edge = np.sqrt(gx * gx + gy * gy)
    texture = cv2.blur(edge, (5, 5), borderType=cv2.BORDER_REFLECT)
    h, w = light.shape
    rows = np.broadcast_to(np.linspace(0, 1, h, dtype=np.float32)[:, None], (h, w))
    chroma = np.sqrt(lab[..., 1] ** 2 + lab[..., 2] ** 2)
    detail = None if rgb_fine is None else fine_detail(rgb_fine, (h, w))
    return Features(rgb, lab, hsv[..., 0], hsv[..., 1], chroma, texture, edge, rows,
                    float(np.median(light)), detail)
