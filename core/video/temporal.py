"""Temporal stability: analyse some frames, carry regions and sliders smoothly between them.

Analysing every frame independently makes a B&W rendering flicker: the region masks and the
style's content-adaptive sliders jitter from frame to frame although the scene barely changed.
Here the analysis runs on *keyframes* only (the first frame of each shot, then every
`key_interval` frames, and the last frame of each shot) and every frame gets:

- masks: the keyframe masks on both sides, *motion-compensated* to this frame (a global
  similarity transform tracked between consecutive frames, so a pan or zoom moves the sky mask
  with the sky instead of cross-fading two offset masks), blended by temporal distance;
- sliders: the keyframe slider vectors, linearly interpolated.

Across keyframes of one shot both are low-passed with an exponential moving average (`alpha`), so a
noisy analysis does not pump. A cut (see `shots`) resets everything: the first frame of a new shot
uses its own analysis at once. Frames wait in a small look-ahead buffer (at most `key_interval`
frames) until the keyframe after them is analysed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..params import (CURVE_KNOTS, GLOBAL_SLIDER_SPECS, LOCAL_KINDS, REGION_SLIDERS,
                      SEMANTIC_REGIONS, Params)
from .shots import CutDetector, thumbnail

#: Long side of the grey images used to track camera motion.
MOTION_SIZE = 256
_NOT_SMOOTHED = {"grain_seed"}  # integers; the video path sets the seed per frame


# --- sliders as vectors ------------------------------------------------------------------------

def _local_keys(item: dict[str, Any]) -> list[str]:
    return [k for k in list(LOCAL_KINDS[item["kind"]]) + list(REGION_SLIDERS) if k in item]


def params_to_vector(params: Params) -> np.ndarray:
    """Every continuous slider of `params` as one float64 vector (layout fixed by the structure)."""
    values: list[float] = []
    for region in SEMANTIC_REGIONS:
        values += [float(params.regions[region][s]) for s in REGION_SLIDERS]
    values += [float(params.global_[g]) for g in GLOBAL_SLIDER_SPECS if g not in _NOT_SMOOTHED]
    values += [float(v) for v in params.global_["curve"]]
    for item in params.local:
        values += [float(item[k]) for k in _local_keys(item)]
    return np.asarray(values, np.float64)


def vector_to_params(vector: np.ndarray, template: Params) -> Params:
    """Inverse of `params_to_vector`, writing into a copy of `template` (same structure)."""
    out = template.copy()
    it = iter(vector.tolist())
    for region in SEMANTIC_REGIONS:
        for s in REGION_SLIDERS:
            out.regions[region][s] = next(it)
    for g in GLOBAL_SLIDER_SPECS:
        if g not in _NOT_SMOOTHED:
            out.global_[g] = next(it)
    out.global_["curve"] = [next(it) for _ in range(CURVE_KNOTS)]
    for item in out.local:
        for k in _local_keys(item):
            item[k] = next(it)
    return out


# --- camera motion -----------------------------------------------------------------------------

def motion_image(rgb_small: np.ndarray) -> np.ndarray:
    """uint8 grey at long side MOTION_SIZE, for tracking."""
    import cv2

    img = rgb_small if rgb_small.dtype == np.uint8 else (np.clip(rgb_small, 0, 1) * 255).astype(np.uint8)
    h, w = img.shape[:2]
    scale = MOTION_SIZE / max(h, w)
    if scale < 1:
        img = cv2.resize(img, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)


def estimate_motion(prev: np.ndarray, cur: np.ndarray) -> np.ndarray:
    """3×3 similarity transform taking `prev` pixel coordinates to `cur` (identity if unsure).

    Sparse Lucas-Kanade tracks with a forward-backward check, then a RANSAC partial affine fit
    (translation, rotation, uniform scale): exact for pans and zooms, robust to a moving subject.
    """
    import cv2

    eye = np.eye(3)
    pts = cv2.goodFeaturesToTrack(prev, maxCorners=300, qualityLevel=0.01, minDistance=5, blockSize=5)
    if pts is None or len(pts) < 12:
        return eye
    lk = dict(winSize=(21, 21), maxLevel=3,
              criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03))
    nxt, st, _ = cv2.calcOpticalFlowPyrLK(prev, cur, pts, None, **lk)
    back, st2, _ = cv2.calcOpticalFlowPyrLK(cur, prev, nxt, None, **lk)
    ok = (st.ravel() == 1) & (st2.ravel() == 1) & (np.linalg.norm((back - pts).reshape(-1, 2), axis=1) < 0.5)
    if ok.sum() < 12:
        return eye
    m, inliers = cv2.estimateAffinePartial2D(pts[ok], nxt[ok], method=cv2.RANSAC, ransacReprojThreshold=1.0)
    if m is None or inliers is None or inliers.sum() < max(10, 0.3 * ok.sum()):
        return eye
    return np.vstack([m, [0.0, 0.0, 1.0]])


def affine_inverse(m: np.ndarray) -> np.ndarray:
    """Inverse of a 3×3 affine matrix (bottom row 0 0 1), without a general LAPACK call."""
    a, b, c, d = m[0, 0], m[0, 1], m[1, 0], m[1, 1]
    det = a * d - b * c
    inv = np.array([[d, -b], [-c, a]]) / det
    t = -inv @ m[:2, 2]
    return np.array([[inv[0, 0], inv[0, 1], t[0]], [inv[1, 0], inv[1, 1], t[1]], [0.0, 0.0, 1.0]])


def _rescale(transform: np.ndarray, src_shape: tuple[int, int], dst_shape: tuple[int, int]) -> np.ndarray:
    """A pixel transform at one image size expressed at another (same field of view)."""
    sy, sx = dst_shape[0] / src_shape[0], dst_shape[1] / src_shape[1]
    d = np.diag([sx, sy, 1.0])
    return d @ transform @ np.diag([1 / sx, 1 / sy, 1.0])


def warp_masks(masks: np.ndarray, transform: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks resampled through `transform` (output pixel → source pixel), and where it was inside.

    Edges are replicated, so the result still sums to 1 per pixel; `valid` is 1 where the source
    covered the output pixel, fading over one pixel.
    """
    import cv2

    if np.allclose(transform, np.eye(3), atol=1e-6):
        return masks, np.ones(masks.shape[1:], np.float32)
    h, w = masks.shape[1:]
    m = transform[:2].astype(np.float64)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    stacked = np.ascontiguousarray(np.moveaxis(masks.astype(np.float32, copy=False), 0, -1))
    warped = cv2.warpAffine(stacked, m, (w, h), flags=flags, borderMode=cv2.BORDER_REPLICATE)
    warped = np.moveaxis(warped.reshape(h, w, -1), -1, 0)
    valid = cv2.warpAffine(np.ones((h, w), np.float32), m, (w, h), flags=flags,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
    return warped.astype(np.float32), valid


# --- per-frame measurements (order-dependent only through the previous frame) -----------------

@dataclass
class FrameTrack:
    """What the smoother measures on every frame: a thumbnail for cut detection and the camera
    motion from the previous frame. `Tracker` computes it, so a decoding thread can do this work
    ahead of the thread that analyses and smooths."""

    thumb: np.ndarray
    step: np.ndarray | None  # 3×3, previous frame's analysis pixels → this frame's; None: first


@dataclass
class Tracker:
    """Feed analysis-size frames in order; returns each one's `FrameTrack`."""

    motion: bool = True
    _prev: np.ndarray | None = None
    _seen: bool = False

    def __call__(self, rgb_small: np.ndarray) -> FrameTrack:
        thumb = thumbnail(_as_uint8(rgb_small))
        if not self.motion:
            first, self._seen = not self._seen, True
            return FrameTrack(thumb, None if first else np.eye(3))
        grey = motion_image(rgb_small)
        step = None
        if self._prev is not None:
            step = _rescale(estimate_motion(self._prev, grey), self._prev.shape, rgb_small.shape[:2])
        self._prev = grey
        return FrameTrack(thumb, step)


# --- the smoother ------------------------------------------------------------------------------

#: analyse(rgb_small float32 (h, w, 3)) -> (masks (5, h, w) float32, Params)
Analyser = Callable[[np.ndarray], tuple[np.ndarray, Params]]


class SmoothedFrame:
    """One frame ready to render: its own pixels, and the stable masks and sliders for it.

    The masks of a frame between keyframes are computed on first access of `masks` (two warps and
    a blend), so that the thread which renders the frame pays for them, not the one analysing.
    """

    def __init__(self, index: int, payload: Any, rgb_small: np.ndarray, masks: Any, params: Params,
                 shot: int, keyframe: bool) -> None:
        self.index, self.payload, self.rgb_small = index, payload, rgb_small
        self.params, self.shot, self.keyframe = params, shot, keyframe
        self._masks = masks  # an array, or a callable producing it

    @property
    def masks(self) -> np.ndarray:
        if callable(self._masks):
            self._masks = self._masks()
        return self._masks


@dataclass
class _Pending:
    index: int
    payload: Any
    rgb_small: np.ndarray
    to_ref: np.ndarray  # 3×3: this frame's mask pixels → the shot's reference frame's


@dataclass
class _Key:
    index: int
    to_ref: np.ndarray
    masks: np.ndarray  # smoothed
    vector: np.ndarray  # smoothed


@dataclass
class ShotSmoother:
    """Push frames in order; get back frames ready to render, in the same order.

    `analyse` is the engine call (regions + style decode) run on keyframes only.
    """

    analyse: Analyser
    key_interval: int = 8
    alpha: float = 0.5
    motion: bool = True
    detector: CutDetector = field(default_factory=CutDetector)
    shot: int = -1
    analysed: int = 0  # how many analyses ran (a cost diagnostic)
    cuts: list[int] = field(default_factory=list)
    _pending: list[_Pending] = field(default_factory=list)
    _key: _Key | None = None
    _template: Params | None = None
    _tracker: Tracker | None = None
    _prev_to_ref: np.ndarray | None = None
    _next_index: int = 0

    def push(self, rgb_small: np.ndarray, payload: Any = None,
             track: FrameTrack | None = None) -> list[SmoothedFrame]:
        """Add the next frame (its analysis-size float RGB); returns the frames now ready.

        `track`: this frame's measurements from a `Tracker` fed the same frames (computed here
        when not given; give it for every frame or for none).
        """
        if track is None:
            if self._tracker is None:
                self._tracker = Tracker(self.motion)
            track = self._tracker(rgb_small)
        index = self._next_index
        self._next_index += 1
        ready: list[SmoothedFrame] = []
        cut = self.detector.push(track.thumb)
        if cut or track.step is None:
            ready += self._close_shot()
            self.shot += 1
            self.cuts.append(index)
            to_ref = np.eye(3)
            cut = True
        else:
            to_ref = self._prev_to_ref @ affine_inverse(track.step)
        self._prev_to_ref = to_ref
        frame = _Pending(index, payload, rgb_small, to_ref)
        if cut:
            ready.append(self._keyframe(frame, fresh=True))
        elif index - self._key.index >= self.key_interval:
            ready += self._flush_to(frame)
        else:
            self._pending.append(frame)
        return ready

    def finish(self) -> list[SmoothedFrame]:
        """End of the video: the last frame becomes a keyframe and everything pending comes out."""
        return self._close_shot()

    # internals ----------------------------------------------------------------------------------

    def _close_shot(self) -> list[SmoothedFrame]:
        if not self._pending:
            return []
        last = self._pending.pop()
        return self._flush_to(last)

    def _flush_to(self, frame: _Pending) -> list[SmoothedFrame]:
        """Analyse `frame` as the next keyframe, then emit the frames waiting before it and it."""
        previous = self._key
        key_frame = self._keyframe(frame, fresh=False)
        out = [self._between(p, previous, self._key) for p in self._pending]
        self._pending = []
        return out + [key_frame]

    def _keyframe(self, frame: _Pending, *, fresh: bool) -> SmoothedFrame:
        masks, params = self.analyse(frame.rgb_small)
        self.analysed += 1
        if self._template is None or fresh:
            self._template = params
        vector = params_to_vector(params)
        if not fresh and self._key is not None and vector.shape == self._key.vector.shape:
            a = self.alpha
            vector = (1 - a) * self._key.vector + a * vector
            carried, valid = warp_masks(self._key.masks, _between_frames(self._key.to_ref, frame.to_ref))
            weight = (1 - a) * valid
            masks = (weight * carried + (1 - weight) * masks).astype(np.float32)
        self._key = _Key(frame.index, frame.to_ref, masks, vector)
        return SmoothedFrame(frame.index, frame.payload, frame.rgb_small, masks,
                             _with_vector(vector, self._template), self.shot, True)

    def _between(self, frame: _Pending, k0: _Key, k1: _Key) -> SmoothedFrame:
        t = (frame.index - k0.index) / max(1, k1.index - k0.index)
        vector = (1 - t) * k0.vector + t * k1.vector
        masks = lambda: _blend_masks(k0, k1, frame.to_ref, t)  # noqa: E731 - deferred, see SmoothedFrame
        return SmoothedFrame(frame.index, frame.payload, frame.rgb_small, masks,
                             _with_vector(vector, self._template), self.shot, False)


def _blend_masks(k0: _Key, k1: _Key, to_ref: np.ndarray, t: float) -> np.ndarray:
    """Both keyframes' masks carried to this frame, weighted by temporal distance and coverage."""
    m0, v0 = warp_masks(k0.masks, _between_frames(k0.to_ref, to_ref))
    m1, v1 = warp_masks(k1.masks, _between_frames(k1.to_ref, to_ref))
    eps = np.float32(1e-3)
    w0 = np.float32(1 - t) * (v0 + eps)
    w1 = np.float32(t) * (v1 + eps)
    share0 = w0 / (w0 + w1)
    return (m1 + share0 * (m0 - m1)).astype(np.float32, copy=False)


def _between_frames(key_to_ref: np.ndarray, frame_to_ref: np.ndarray) -> np.ndarray:
    """Map from a frame's pixels to a keyframe's pixels (what `warp_masks` needs)."""
    return affine_inverse(key_to_ref) @ frame_to_ref


def _with_vector(vector: np.ndarray, template: Params) -> Params:
    return vector_to_params(vector, template)


def _as_uint8(rgb: np.ndarray) -> np.ndarray:
    return rgb if rgb.dtype == np.uint8 else (np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8)
