"""Masks of the geometric local adjustments (graduated filter, radial filter, control point) on a
small copy of the photo: what the GUI overlays show and what full-size renders upsample.

They are the renderer's own masks (`silverprint.render.spatial`, torch, differentiable for
learning), computed here on a numpy image, so the mask a photographer sees is the mask the renderer
applies and the learner fits. Geometry follows `params.LOCAL_KINDS` (positions are fractions of the
frame, so a mask computed on the preview and on the full image agree):

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

Reference colours are picked from a block-mean copy of about `engine.BLUR_SIZE` px, as the
renderer picks them from the full image.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..errors import UnknownSliderError
from ..params import LOCAL_KINDS


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


def local_masks(local: Sequence[dict[str, Any]], rgb_small: np.ndarray) -> np.ndarray:
    """Masks of all local adjustments on the grid of ``rgb_small`` (h, w, 3 display RGB in [0, 1]):
    (L, h, w) float32 in [0, 1] (L may be 0). Raises UnknownSliderError for an unknown kind."""
    h, w = rgb_small.shape[:2]
    kinds = [_check(item) for item in local]
    if not kinds:
        return np.zeros((0, h, w), np.float32)
    import torch

    from ..render import engine, spatial
    from ..render.tensors import GEOMETRY_NAMES

    rgb = torch.from_numpy(np.ascontiguousarray(np.asarray(rgb_small, np.float32)[..., :3])).permute(2, 0, 1)[None]
    small = spatial.block_mean(rgb, spatial.pool_factor(h, w, engine.BLUR_SIZE))
    out = []
    with torch.no_grad():
        for item, kind in zip(local, kinds):
            names = GEOMETRY_NAMES[kind]
            geometry = torch.tensor([float(_value(item, n)) for n in names], dtype=torch.float32)
            ref = spatial.reference_colour(kind, geometry, small) if engine.selects_colour(kind, geometry) else None
            out.append(engine.shape_mask(kind, geometry, rgb, ref, h, w, 0, h, 1).reshape(h, w))
    return torch.stack(out).numpy().astype(np.float32, copy=False)


def local_mask(item: dict[str, Any], rgb_small: np.ndarray) -> np.ndarray:
    """The (h, w) float32 mask of one local adjustment on the grid of ``rgb_small``."""
    return local_masks([item], rgb_small)[0]
