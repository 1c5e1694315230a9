"""The video path's only door into the engine: analysis, style decode and rendering per frame.

Everything goes through `silverprint.pipeline` (one implementation for photos, GUI and video).
The video-specific parts are small: frames come in the coded orientation, so a rotated phone
video is turned upright for the analysis (faces and skies are found upright) and the masks are
turned back; and the grain seed changes with every frame, as film grain does.
"""
from __future__ import annotations

from typing import Iterable, Mapping, Union

import numpy as np

from ..params import Params

Overrides = Union[Iterable[str], Mapping[str, object]]


class FrameEngine:
    """Style + overrides + device, resolved once per video (bad names fail before any output)."""

    def __init__(self, style: object = None, overrides: Overrides = (), *, device: str = "auto",
                 rotation: int = 0) -> None:
        from .. import pipeline

        self._pipeline = pipeline
        self.style = pipeline.resolve_style(style)
        self.overrides: Overrides = dict(overrides) if isinstance(overrides, Mapping) else list(overrides)
        pipeline.check_overrides(self.style, self.overrides)  # fail early
        self.device = _resolve_device_name(device)
        self.turns = (rotation // 90) % 4  # quarter turns counter-clockwise to display upright

    def small(self, rgb: np.ndarray) -> np.ndarray:
        """The analysis-size float32 copy of a full frame."""
        return self._pipeline.analysis_image(rgb)

    def analysis(self, rgb_small: np.ndarray):
        """pipeline.Analysis of one frame, computed upright, masks back in coded orientation."""
        upright = np.ascontiguousarray(np.rot90(rgb_small, self.turns)) if self.turns else rgb_small
        result = self._pipeline.analyse(upright)
        masks = result.masks
        if self.turns:
            masks = np.ascontiguousarray(np.rot90(masks, -self.turns, axes=(1, 2)))
        if masks.shape[1:] != rgb_small.shape[:2]:
            masks = _resize_masks(masks, rgb_small.shape[:2])
        return self._pipeline.Analysis(rgb_small, masks, result.descriptors, result.regions)

    def analyse(self, rgb_small: np.ndarray) -> tuple[np.ndarray, Params]:
        """Masks (5, h, w) and decoded sliders for a keyframe (the smoother's `Analyser`)."""
        analysis = self.analysis(rgb_small)
        return analysis.masks, self._pipeline.params_for(self.style, analysis, self.overrides)

    def render(self, rgb: np.ndarray, rgb_small: np.ndarray, masks: np.ndarray, params: Params,
               index: int) -> np.ndarray:
        """Full-size rendering of one frame with given (smoothed) masks and sliders."""
        analysis = self._pipeline.Analysis(rgb_small, masks, None, None)
        return self._pipeline.render_with(rgb, analysis, params, device=self.device,
                                          seed=self.seed(params, index))

    def render_independent(self, rgb: np.ndarray, small: np.ndarray, index: int) -> np.ndarray:
        """A frame rendered as if it were a photo: its own analysis, no smoothing (the baseline).

        ``small`` is ``self.small(rgb)``, already made on the decode thread."""
        masks, params = self.analyse(small)
        return self.render(rgb, small, masks, params, index)

    @staticmethod
    def seed(params: Params, index: int) -> int:
        """Per-frame grain seed: the style's seed offset by the frame number."""
        return (int(params.global_.get("grain_seed", 0)) + index) % (2 ** 31 - 1)


def _resize_masks(masks: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    import cv2

    out = np.stack([cv2.resize(m, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR) for m in masks])
    return out / np.maximum(out.sum(axis=0, keepdims=True), 1e-6)


def _resolve_device_name(device: str) -> str:
    """Validate --device once (so a missing GPU fails before any output file exists)."""
    from ..device import resolve_device

    return str(resolve_device(device))
