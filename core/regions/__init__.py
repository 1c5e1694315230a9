"""Regions: soft semantic masks (sky, person, skin, vegetation, other) and local-adjustment masks.

Public API (docs/ARCHITECTURE.md):
- `compute_regions(rgb) -> RegionMasks`: masks (5, h, w) in `params.SEMANTIC_REGIONS` order at the
  analysis size (long side `ANALYSIS_SIZE`), soft, edge-aware, summing to 1; `.faces`,
  `.person_found` diagnostics.
- `analysis_image(rgb)`: the photo at the analysis size.
- `local_masks(local, rgb_small) -> (L, h, w)`: graduated / radial / control-point masks on a
  numpy image, computed by the renderer's own `silverprint.render.spatial`.
- `confident_guided_upsample` (what the masks are refined with), `guided_filter`,
  `guided_upsample`: edge-aware guided filters (numpy + OpenCV box filters).

Heavy dependencies (mediapipe, torch) are imported on first use only.
"""
from .analysis import ANALYSIS_SIZE, RegionMasks, analysis_image, compute_regions
from .guided import confident_guided_upsample, guided_filter, guided_upsample
from .local import local_mask, local_masks
from .people import Face

__all__ = ["ANALYSIS_SIZE", "Face", "RegionMasks", "analysis_image", "compute_regions",
           "confident_guided_upsample", "guided_filter", "guided_upsample", "local_mask", "local_masks"]
