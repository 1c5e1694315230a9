"""CPU fast path for the per-pixel heart of `render_array` (engine steps 1–3 and 5).

The same math as `engine.shade`, with the very tables `engine.prepare` builds, evaluated with
NumPy / OpenCV primitives that cost a few passes over memory each: OpenCV decodes 8-bit codes and
sums the channel mix in one table pass, computes the HSV hue, and the region tables are read as
(value, slope) pairs so that each region costs one gather. Torch is slower here because each of its
elementwise calls costs more per pixel on small CPUs. Tests check this path against `render`.
"""
from __future__ import annotations

import math

import cv2
import numpy as np
import torch

from ..params import HUE_CENTRES
from . import tone
from .engine import Prepared

_LN2 = math.log(2.0)


def _pairs(table: np.ndarray) -> np.ndarray:
    """``(S,)`` table → ``(S-1,)`` complex64 view of (value, next - value) pairs: one 8-byte gather."""
    table = table.astype(np.float32)
    pairs = np.empty((table.shape[0] - 1, 2), dtype=np.float32)
    pairs[:, 0] = table[:-1]
    pairs[:, 1] = table[1:] - table[:-1]
    return pairs.view(np.complex64)[:, 0]


def _index(pos: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer index and fraction of continuous positions in a table of ``size - 1`` pairs (clips ``pos``)."""
    np.clip(pos, 0.0, size, out=pos)
    index = pos.astype(np.int32)
    np.minimum(index, size - 1, out=index)
    return index, pos - index


def _gather(pairs: np.ndarray, index: np.ndarray, frac: np.ndarray) -> np.ndarray:
    """``value + frac · slope`` of the pairs at ``index`` (a new array)."""
    v = np.take(pairs, index).view(np.float32).reshape(*index.shape, 2)
    out = frac * v[..., 1]
    out += v[..., 0]
    return out


def _lookup(pairs: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Linear interpolation of a pair table at continuous positions in [0, S-1] (clipped in place)."""
    index, frac = _index(pos, pairs.shape[0])
    return _gather(pairs, index, frac)


def _degree_table(bands: np.ndarray) -> np.ndarray:
    """The piecewise-linear band EV of `tone.hue_basis` sampled at whole degrees 0…360 (its knots are
    whole degrees, so linear interpolation between these samples is exact)."""
    centres = np.array(HUE_CENTRES + (360.0,))
    values = np.append(bands, bands[0])
    return np.interp(np.arange(361.0), centres, values)


class FastTables:
    """NumPy copies of one rendering's tables (`engine.Prepared`)."""

    def __init__(self, prep: Prepared, mix_table: np.ndarray | None) -> None:
        mix = prep.mix.detach().cpu().numpy().astype(np.float32)
        self.mix = mix
        self.size = prep.luts.shape[-1]
        self.regions = [_pairs(row) for row in prep.luts.detach().cpu().numpy()]
        self.bands = None
        if prep.bands is not None:
            self.bands = [_pairs(_degree_table(row)) for row in prep.bands.detach().cpu().double().numpy()]
        self.k = None if prep.k is None else prep.k.detach().cpu().numpy().astype(np.float32)
        self.curve = None if prep.curve is None else _pairs(prep.curve.detach().cpu().numpy())
        self.mix_table = None
        if mix_table is not None:
            # (1, 2**bits, 3): w_c · decode(code), so that one table pass gives the mixed channels
            self.mix_table = (mix_table[:, None] * mix[None, :]).astype(np.float32)[None]
        self.pos_scale = np.float32((self.size - 1) / (tone.LOG_HI - tone.LOG_LO) / _LN2)
        self.pos_offset = np.float32(-tone.LOG_LO * (self.size - 1) / (tone.LOG_HI - tone.LOG_LO))


def base_position(band: np.ndarray, tables: FastTables) -> np.ndarray:
    """Region-LUT index of ``log2(mix · decode(rgb))`` for an integer-coded band, ``(rows, W)``."""
    if band.dtype == np.uint8:
        mixed = cv2.LUT(band, tables.mix_table)
    else:
        mixed = np.stack([np.take(tables.mix_table[0, :, c], band[..., c]) for c in range(3)], axis=-1)
    y = mixed[..., 0] + mixed[..., 1]
    y += mixed[..., 2]
    np.maximum(y, np.float32(tone.LOG_FLOOR), out=y)
    cv2.log(y, y)
    y *= tables.pos_scale
    y += tables.pos_offset
    return y


def position_from_linear(lin: torch.Tensor, tables: FastTables) -> np.ndarray:
    """Same as `base_position` from a linear-light ``(1, 3, rows, W)`` tensor (float inputs)."""
    lin = lin[0].numpy()
    y = lin[0] * tables.mix[0] + lin[1] * tables.mix[1]
    y += lin[2] * tables.mix[2]
    np.maximum(y, np.float32(tone.LOG_FLOOR), out=y)
    cv2.log(y, y)
    y *= tables.pos_scale
    y += tables.pos_offset
    return y


def hue_planes(display: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whole degrees, fractional degrees and EV→index-scaled saturation of ``(rows, W, 3)`` display RGB."""
    hsv = cv2.cvtColor(display, cv2.COLOR_RGB2HSV)
    hue, sat, _ = cv2.split(hsv)
    degree = hue.astype(np.int32)
    np.clip(degree, 0, 359, out=degree)
    frac = hue - degree
    sat *= np.float32(tone.EV_TO_INDEX)
    return degree, frac, sat


class MaskRows:
    """Bilinear upsampling of low-resolution masks, row band by row band (as `spatial.resize_rows`)."""

    def __init__(self, masks: torch.Tensor, height: int, width: int) -> None:
        from .spatial import _source_index

        self.masks = masks[0].detach().cpu().numpy().astype(np.float32)  # (R, h, w)
        self.height, self.width = height, width
        h, w = self.masks.shape[1:]
        self.same_width = w == width
        if not self.same_width:
            j0, j1, wx = _source_index(width, w, 0, width, None, torch.float32)
            self.j0, self.j1, self.wx = j0.numpy(), j1.numpy(), wx.numpy()

    def band(self, ids: list[int], start: int, stop: int):
        """``(len(ids), rows, W)`` masks of rows start..stop."""
        from .spatial import _source_index

        h = self.masks.shape[1]
        i0, i1, wy = _source_index(self.height, h, start, stop, None, torch.float32)
        i0, i1, wy = i0.numpy(), i1.numpy(), wy.numpy()
        lo, hi = int(i0.min()), int(i1.max()) + 1
        src = self.masks[ids, lo:hi]
        if not self.same_width:
            left = src[:, :, self.j0]
            src = left + (src[:, :, self.j1] - left) * self.wx
        if h == self.height:
            return src
        top = src[:, i0 - lo]
        out = src[:, i1 - lo]
        out -= top
        out *= wy[None, :, None]
        out += top
        return out


def shade_regions(pos: np.ndarray, hue: tuple | None, masks: np.ndarray, ids: list[int], tables: FastTables):
    """Steps 2–3: ``Σ_r m_r · LUT_r(pos + sat·band_r(hue))`` and the structure weight (or None)."""
    acc = None
    k = None
    if tables.bands is None:
        index, frac = _index(pos, tables.regions[0].shape[0])
    for n, r in enumerate(ids):
        if tables.bands is not None:
            degree, dfrac, sat = hue
            shifted = _gather(tables.bands[r], degree, dfrac)
            shifted *= sat
            shifted += pos
            d = _lookup(tables.regions[r], shifted)
        else:
            d = _gather(tables.regions[r], index, frac)
        d *= masks[n]
        if acc is None:
            acc = d
        else:
            acc += d
        if tables.k is not None and tables.k[r] != 0:
            term = masks[n] * tables.k[r]
            k = term if k is None else k + term
    if tables.k is not None and k is None:
        k = np.zeros_like(acc)
    return acc, k


def apply_curve(d: np.ndarray, tables: FastTables) -> np.ndarray:
    if tables.curve is None:
        return d
    np.clip(d, 0.0, 1.0, out=d)
    d *= np.float32(tables.curve.shape[0])
    return _lookup(tables.curve, d)
