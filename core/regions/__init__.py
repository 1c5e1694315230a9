"""Regions: soft semantic masks (sky, person, skin, vegetation, other) and local-adjustment masks.

Public API (docs/ARCHITECTURE.md):
- `compute_regions(rgb) -> RegionMasks`: masks (5, h, w) in `params.SEMANTIC_REGIONS` order at the
  analysis size (long side `ANALYSIS_SIZE`), soft, edge-aware, summing to 1; `.faces`,
  `.person_found` diagnostics.
- `analysis_image(rgb)`: the photo at the analysis size.
- `local_masks(local, rgb_small) -> (L, h, w)`: graduated / radial / control-point masks;
  `local_masks_torch` is the differentiable twin (same formulas as the renderer's).
- `guided_filter` / `guided_upsample`: the edge-aware filter the masks are refined with.

Heavy dependencies (mediapipe, torch) are imported on first use only.
"""
from .analysis import ANALYSIS_SIZE, RegionMasks, analysis_image, compute_regions
from .guided import guided_filter, guided_upsample
from .local import local_mask, local_masks, local_masks_torch
from .people import Face

__all__ = ["ANALYSIS_SIZE", "Face", "RegionMasks", "analysis_image", "compute_regions", "guided_filter",
           "guided_upsample", "local_mask", "local_masks", "local_masks_torch"]
