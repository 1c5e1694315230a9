"""Shot-cut detection from tiny thumbnails, one frame at a time (no look-ahead needed).

A hard cut changes the colour distribution at once; a pan or a zoom changes it gradually. So the
score of frame i is the L1 distance between the colour histograms of frames i-1 and i (0 = same,
2 = disjoint), and frame i starts a new shot when that score is both large in absolute terms and
large against the recent scores of the same shot (a fast pan over a busy scene has high scores on
every frame, a cut is an outlier). A minimum shot length keeps a flash from counting as two cuts.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

#: Thumbnail long side used for the histograms.
THUMB_SIZE = 64
BINS = 8  # per channel → 512-bin joint colour histogram


def thumbnail(rgb: np.ndarray) -> np.ndarray:
    """A (h, w, 3) uint8 thumbnail with long side THUMB_SIZE (area average)."""
    import cv2

    h, w = rgb.shape[:2]
    scale = THUMB_SIZE / max(h, w)
    if scale >= 1:
        return rgb
    return cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


def colour_histogram(thumb: np.ndarray) -> np.ndarray:
    """Normalised joint RGB histogram (BINS³,) of a uint8 thumbnail."""
    q = (thumb.astype(np.int32) * BINS) // 256
    index = (q[..., 0] * BINS + q[..., 1]) * BINS + q[..., 2]
    hist = np.bincount(index.ravel(), minlength=BINS ** 3).astype(np.float32)
    return hist / max(1.0, hist.sum())


@dataclass
class CutDetector:
    """Feed thumbnails in order; `push` says whether the frame starts a new shot.

    `threshold`: histogram distance that is always a cut; `floor` and `ratio`: a score above
    `floor` is a cut when it is `ratio` times the median of the shot's recent scores.
    """

    threshold: float = 0.9
    floor: float = 0.35
    ratio: float = 4.0
    min_shot: int = 4
    window: int = 24
    _prev: np.ndarray | None = None
    _recent: deque = field(default_factory=lambda: deque(maxlen=24))
    _since_cut: int = 0
    scores: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._recent = deque(maxlen=self.window)

    def push(self, thumb: np.ndarray) -> bool:
        hist = colour_histogram(thumb)
        prev, self._prev = self._prev, hist
        if prev is None:
            self._since_cut = 1
            self.scores.append(0.0)
            return True  # the first frame starts the first shot
        score = float(np.abs(hist - prev).sum())
        self.scores.append(score)
        typical = float(np.median(self._recent)) if self._recent else 0.0
        cut = self._since_cut >= self.min_shot and (
            score >= self.threshold or (score >= self.floor and score >= self.ratio * max(typical, 0.02)))
        if cut:
            self._recent.clear()
            self._since_cut = 1
        else:
            self._recent.append(score)
            self._since_cut += 1
        return cut


def detect_cuts(thumbs: list[np.ndarray], **kwargs: float) -> list[int]:
    """Indices of the frames that start a shot (always includes 0 when there are frames)."""
    detector = CutDetector(**kwargs)
    return [i for i, t in enumerate(thumbs) if detector.push(t)]
