"""Regions: soft semantic masks (sky, person, skin, vegetation, other) and local-adjustment masks.

Public API (docs/ARCHITECTURE.md):
- `compute_regions(rgb) -> RegionMasks`: masks (5, h, w) at the analysis size, summing to 1.
- `analysis_image(rgb)`: the photo at the analysis size (`ANALYSIS_SIZE` long side).
- `local_masks(local, rgb_small) -> (L, h, w)`: graduated / radial / control-point masks;
  `local_masks_torch` is the differentiable twin used by the learner.
- `upsample_masks(masks, rgb_full)`: carry masks to full resolution edge-aware.
"""
from .analysis import ANALYSIS_SIZE, RegionMasks, analysis_image, compute_regions

__all__ = ["ANALYSIS_SIZE", "RegionMasks", "analysis_image", "compute_regions"]
