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

The formulas are exactly those of the renderer (`silverprint.render.spatial`), which computes the
same masks itself when fitting geometry; tests check that both agree. All transitions use
smoothstep, so the torch twin `local_masks_torch` is differentiable in every geometric parameter.
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


def point_mask(rgb: np.ndarray, x: float, y: float, radius: float, similarity: float,
               reference: np.ndarray | None = None) -> np.ndarray:
    h, w = rgb.shape[:2]
    xs, ys = _grid(h, w)
    long_side = max(h, w)
    dist = np.sqrt(((xs - x) * w) ** 2 + ((ys - y) * h) ** 2) / max(radius * long_side, 1e-9)
    spatial = _smoothstep(1.0 - dist)
    ref = point_colour(rgb, x, y) if reference is None else np.asarray(reference, np.float32)
    diff = ((rgb - ref) ** 2).sum(axis=2)
    return (spatial * np.exp(-diff / tolerance(similarity) ** 2)).astype(np.float32)


def local_mask(item: dict[str, Any], rgb_small: np.ndarray) -> np.ndarray:
    """The (h, w) float32 mask of one local adjustment on the grid of ``rgb_small``."""
    kind = _check(item)
    h, w = rgb_small.shape[:2]
    g = lambda name: float(_value(item, name))  # noqa: E731
    if kind == "graduated":
        return graduated_mask(h, w, g("x"), g("y"), g("angle"), g("feather"))
    if kind == "radial":
        return radial_mask(h, w, g("x"), g("y"), g("width"), g("height"), g("angle"), g("feather"),
                           g("invert"))
    return point_mask(np.asarray(rgb_small, np.float32)[..., :3], g("x"), g("y"), g("radius"),
                      g("similarity"))


def local_masks(local: Sequence[dict[str, Any]], rgb_small: np.ndarray) -> np.ndarray:
    """Masks of all local adjustments: (L, h, w) float32 in [0, 1] (L may be 0)."""
    h, w = rgb_small.shape[:2]
    if not local:
        return np.zeros((0, h, w), np.float32)
    return np.stack([local_mask(item, rgb_small) for item in local])


# ---------------------------------------------------------------------------------------- torch


def local_masks_torch(local: Sequence[dict[str, Any]], rgb_small):  # -> torch.Tensor
    """Differentiable twin of `local_masks`.

    ``local``: one dict per adjustment with ``kind`` and its geometry; each value may be a float
    or a 0-d / (B,) tensor (e.g. ``requires_grad=True`` for fitting). ``rgb_small``: (B, 3, h, w)
    or (3, h, w) tensor, sRGB in [0, 1]. Returns (B, L, h, w) on the image's device and dtype.
    """
    import torch

    rgb = rgb_small if rgb_small.dim() == 4 else rgb_small.unsqueeze(0)
    b, _, h, w = rgb.shape
    if not local:
        return rgb.new_zeros((b, 0, h, w))
    ys = ((torch.arange(h, device=rgb.device, dtype=rgb.dtype) + 0.5) / h).view(1, h, 1)
    xs = ((torch.arange(w, device=rgb.device, dtype=rgb.dtype) + 0.5) / w).view(1, 1, w)

    def param(item: dict[str, Any], name: str) -> torch.Tensor:
        value = torch.as_tensor(_value(item, name), device=rgb.device, dtype=rgb.dtype)
        return value.reshape(-1, 1, 1)  # broadcast over (B, h, w)

    def smooth(x: torch.Tensor) -> torch.Tensor:
        x = x.clamp(0.0, 1.0)
        return x * x * (3.0 - 2.0 * x)

    masks = []
    for item in local:
        kind = _check(item)
        p = lambda name: param(item, name)  # noqa: E731
        if kind == "graduated":
            theta = torch.deg2rad(p("angle"))
            dist = (xs - p("x")) * (w / h) * (-torch.sin(theta)) + (ys - p("y")) * torch.cos(theta)
            m = smooth(0.5 - dist / p("feather").clamp_min(MIN_FEATHER))
        elif kind == "radial":
            theta = torch.deg2rad(p("angle"))
            dx, dy = (xs - p("x")) * w, (ys - p("y")) * h
            c, s = torch.cos(theta), torch.sin(theta)
            u = (dx * c + dy * s) / (0.5 * p("width") * w)
            v = (-dx * s + dy * c) / (0.5 * p("height") * h)
            rho = torch.sqrt(u * u + v * v + 1e-12)
            inside = smooth((1.0 - rho) / p("feather").clamp_min(MIN_FEATHER))
            inv = p("invert")
            m = inv + (1.0 - 2.0 * inv) * inside
        else:
            long_side = max(h, w)
            dist = torch.sqrt(((xs - p("x")) * w) ** 2 + ((ys - p("y")) * h) ** 2 + 1e-12)
            spatial = smooth(1.0 - dist / (p("radius") * long_side))
            ref = _sample_colour(rgb, p("x"), p("y"), max(1, round(SAMPLE_FRACTION * long_side)))
            diff = ((rgb - ref) ** 2).sum(dim=1)
            tol = POINT_TOLERANCE * torch.exp2(4.0 * (1.0 - p("similarity") / 100.0))
            m = spatial * torch.exp(-diff / (tol * tol))
        masks.append(m.expand(b, h, w))
    return torch.stack(masks, dim=1)


def _sample_colour(rgb, x, y, half: int):
    """Colour under (x, y) averaged over a (2 half + 1)^2 window; differentiable in x and y."""
    import torch
    import torch.nn.functional as F

    padded = F.pad(rgb, (half, half, half, half), mode="replicate")
    blurred = F.avg_pool2d(padded, 2 * half + 1, stride=1)
    b = rgb.shape[0]
    gx = (x.reshape(-1) * 2 - 1).expand(b)
    gy = (y.reshape(-1) * 2 - 1).expand(b)
    grid = torch.stack([gx, gy], dim=-1).view(b, 1, 1, 2).to(rgb.dtype)
    ref = F.grid_sample(blurred, grid, mode="bilinear", padding_mode="border", align_corners=False)
    return ref  # (B, 3, 1, 1)
