"""Masks of the geometric local adjustments: graduated filter, radial filter, control point.

Geometry follows `params.LOCAL_KINDS` (positions are fractions of the frame, so a mask computed on
the preview and on the full image agree):

- graduated: full effect on the side the angle points away from (angle 0: the top edge), fading
  to none across a band ``feather`` (fraction of the image height) wide centred on (x, y).
  Positive angles turn the filter clockwise on screen: 90 puts the full effect on the right edge,
  -90 on the left, 180 on the bottom.
- radial: an ellipse of ``width`` x ``height`` (fractions of the image width / height, full
  axes) centred on (x, y), turned clockwise on screen by ``angle`` degrees; full effect inside,
  fading to none over the outer ``feather`` fraction of the radius; ``invert`` = 1 puts the effect
  outside (burning the edges). Values between 0 and 1 blend both, which keeps it differentiable.
- point: a disc of ``radius`` (fraction of the long side) around (x, y) with a smooth falloff,
  times a colour weight ``exp(-|rgb - ref|^2 / tol^2)`` where ``ref`` is the colour under the
  point and ``tol`` = 0.04 * 2^(4 (1 - similarity / 100)) (100: 0.04, 50: 0.16, 0: 0.64, nearly
  any colour), like a Silver Efex control point.
- colour range (graduated and radial): the shape's mask times the same colour weight with
  ``ref`` picked at (``pick_x``, ``pick_y``) and ``tol`` = 0.04 * 100 / ``color_range`` (0: every
  colour, the weight is 1), like Lightroom's colour range mask on a filter.

The formulas are exactly those of the renderer (`silverprint.render.spatial`, the differentiable
torch version used when rendering and fitting geometry); tests check that both agree. All
transitions use smoothstep, so the renderer's masks are differentiable in every parameter.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ..errors import UnknownSliderError
from ..params import LOCAL_KINDS

#: colour tolerance (display-RGB distance) of a control point at similarity 100; it doubles for
#: every 25 points less (the renderer's `POINT_TOLERANCE`)
POINT_TOLERANCE = 0.04
#: size of the window the point's colour is averaged over, fraction of the long side
SAMPLE_FRACTION = 0.01
MIN_FEATHER = 1e-3


def _value(item: dict[str, Any], name: str) -> Any:
    kind = item.get("kind")
    if name in item:
        return item[name]
    return LOCAL_KINDS[kind][name].default


def _check(item: dict[str, Any]) -> str:
    kind = item.get("kind")
    if kind not in LOCAL_KINDS:
        raise UnknownSliderError(
            f"unknown local adjustment kind {kind!r} (known: {', '.join(LOCAL_KINDS)})")
    return kind


def tolerance(similarity: float) -> float:
    """Colour distance at which a control point's weight falls to 1/e."""
    return POINT_TOLERANCE * 2.0 ** (4.0 * (1.0 - float(similarity) / 100.0))


# ---------------------------------------------------------------------------------------- numpy


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates as fractions of the width (1, w) and of the height (h, 1)."""
    ys = ((np.arange(h, dtype=np.float64) + 0.5) / h)[:, None]
    xs = ((np.arange(w, dtype=np.float64) + 0.5) / w)[None, :]
    return xs, ys


def graduated_mask(h: int, w: int, x: float, y: float, angle: float, feather: float) -> np.ndarray:
    xs, ys = _grid(h, w)
    theta = math.radians(angle)
    # Signed distance along the fade (downwards at angle 0), in image heights.
    dist = (xs - x) * (w / h) * (-math.sin(theta)) + (ys - y) * math.cos(theta)
    return _smoothstep(0.5 - dist / max(feather, MIN_FEATHER)).astype(np.float32)


def radial_mask(h: int, w: int, x: float, y: float, width: float, height: float, angle: float,
                feather: float, invert: float) -> np.ndarray:
    xs, ys = _grid(h, w)
    theta = math.radians(angle)
    dx, dy = (xs - x) * w, (ys - y) * h  # pixels
    c, s = math.cos(theta), math.sin(theta)
    u = (dx * c + dy * s) / max(0.5 * width * w, 1e-9)
    v = (-dx * s + dy * c) / max(0.5 * height * h, 1e-9)
    inside = _smoothstep((1.0 - np.sqrt(u * u + v * v)) / max(feather, MIN_FEATHER))
    return (invert + (1.0 - 2.0 * invert) * inside).astype(np.float32)


def point_colour(rgb: np.ndarray, x: float, y: float) -> np.ndarray:
    """The colour under (x, y): bilinear sample of a box-averaged copy (one spot of ~1 %)."""
    import cv2

    h, w = rgb.shape[:2]
    k = 2 * max(1, round(SAMPLE_FRACTION * max(h, w))) + 1
    blurred = cv2.blur(np.ascontiguousarray(rgb, np.float32), (k, k), borderType=cv2.BORDER_REPLICATE)
    fx = min(max(x * w - 0.5, 0.0), w - 1.0)
    fy = min(max(y * h - 0.5, 0.0), h - 1.0)
    x0, y0 = int(fx), int(fy)
    x1, y1 = min(x0 + 1, w - 1), min(y0 + 1, h - 1)
    ax, ay = fx - x0, fy - y0
    top = blurred[y0, x0] * (1 - ax) + blurred[y0, x1] * ax
    bottom = blurred[y1, x0] * (1 - ax) + blurred[y1, x1] * ax
    return (top * (1 - ay) + bottom * ay).astype(np.float32)


def colour_weight(rgb: np.ndarray, reference: np.ndarray, inverse_tol: float) -> np.ndarray:
    """``exp(-(|rgb - reference| * inverse_tol)^2)`` per pixel of ``rgb`` (h, w, 3)."""
    diff = ((rgb - np.asarray(reference, np.float32)) ** 2).sum(axis=2)
    return np.exp(-diff * inverse_tol ** 2)


def point_mask(rgb: np.ndarray, x: float, y: float, radius: float, similarity: float,
               reference: np.ndarray | None = None) -> np.ndarray:
    h, w = rgb.shape[:2]
    xs, ys = _grid(h, w)
    long_side = max(h, w)
    dist = np.sqrt(((xs - x) * w) ** 2 + ((ys - y) * h) ** 2) / max(radius * long_side, 1e-9)
    spatial = _smoothstep(1.0 - dist)
    ref = point_colour(rgb, x, y) if reference is None else reference
    return (spatial * colour_weight(rgb, ref, 1.0 / tolerance(similarity))).astype(np.float32)


def in_colour_range(mask: np.ndarray, rgb: np.ndarray, amount: float, x: float, y: float,
                    reference: np.ndarray | None = None) -> np.ndarray:
    """A filter's mask limited to its colour range (the colour picked at (x, y)); unchanged at 0."""
    if amount <= 0:
        return mask
    ref = point_colour(rgb, x, y) if reference is None else reference
    return (mask * colour_weight(rgb, ref, amount / (100.0 * POINT_TOLERANCE))).astype(np.float32)


def local_mask(item: dict[str, Any], rgb_small: np.ndarray) -> np.ndarray:
    """The (h, w) float32 mask of one local adjustment on the grid of ``rgb_small``."""
    kind = _check(item)
    h, w = rgb_small.shape[:2]
    g = lambda name: float(_value(item, name))  # noqa: E731
    rgb = np.asarray(rgb_small, np.float32)[..., :3]
    if kind == "point":
        return point_mask(rgb, g("x"), g("y"), g("radius"), g("similarity"))
    if kind == "graduated":
        mask = graduated_mask(h, w, g("x"), g("y"), g("angle"), g("feather"))
    else:
        mask = radial_mask(h, w, g("x"), g("y"), g("width"), g("height"), g("angle"), g("feather"), g("invert"))
    return in_colour_range(mask, rgb, g("color_range"), g("pick_x"), g("pick_y"))


def local_masks(local: Sequence[dict[str, Any]], rgb_small: np.ndarray) -> np.ndarray:
    """Masks of all local adjustments: (L, h, w) float32 in [0, 1] (L may be 0)."""
    h, w = rgb_small.shape[:2]
    if not local:
        return np.zeros((0, h, w), np.float32)
    return np.stack([local_mask(item, rgb_small) for item in local])
