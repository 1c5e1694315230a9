"""CPU fast path for the per-pixel heart of `render_array` (engine steps 1–3 and 5).

The same math as `engine.shade`, with the very tables `engine.prepare` builds, evaluated with
NumPy / OpenCV primitives into preallocated buffers: OpenCV decodes 8-bit codes with the channel mix
folded into the table and sums the channels and stretches the mask rows; NumPy computes the LCh hue;
each region then costs two table gathers and a handful of in-place passes. On small CPUs this is
several times faster than the same steps as torch calls (which allocate every intermediate).
Tests check this path against `render`.
"""
from __future__ import annotations

import math

import cv2
import numpy as np
import torch

from ..ops.color import _LAB_EPS, _LAB_KAPPA, _XYZ_OVER_WHITE
from ..params import FULL_CHROMA, HUE_CENTRES
from . import tone
from .engine import Prepared

_LN2 = math.log(2.0)
_ONES = np.ones((1, 3), np.float32)


def _split(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(S,)`` table → (values, slopes to the next entry), both float32, for gather + multiply-add."""
    table = np.ascontiguousarray(table, dtype=np.float32)
    slope = np.zeros_like(table)
    slope[:-1] = table[1:] - table[:-1]
    return table, slope


def _degree_table(bands: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """The piecewise-linear band EV of `tone.hue_basis` sampled at whole degrees 0…360 of hue measured
    from the first unmoved centre (`HUE_CENTRES`; `hue_planes` measures from there, so the planes do
    not depend on the sliders). Rendered centres are whole degrees, so interpolating these samples
    is exact."""
    return np.interp(np.arange(361.0), np.asarray(centres, np.float64) - HUE_CENTRES[0], bands, period=360.0)


class FastTables:
    """NumPy copies of one rendering's tables (`engine.Prepared`)."""

    def __init__(self, prep: Prepared, linear_table: np.ndarray | None) -> None:
        mix = prep.mix.detach().cpu().numpy().astype(np.float32)
        self.mix = mix
        self.size = prep.luts.shape[-1]
        self.regions = [_split(row) for row in prep.luts.detach().cpu().numpy()]
        self.bands = None
        self.band_keys: list[bytes] = []
        self.band_zero: list[bool] = []
        if prep.bands is not None:
            rows = prep.bands.detach().cpu().double().numpy()
            centres = prep.centres.detach().cpu().double().numpy()
            self.bands = [_split(_degree_table(row, centres)) for row in rows]
            self.band_keys = [row.tobytes() + centres.tobytes() for row in rows]
            self.band_zero = [not row.any() for row in rows]
        self.k = None if prep.k is None else prep.k.detach().cpu().numpy().astype(np.float32)
        self.curve = None if prep.curve is None else _split(prep.curve.detach().cpu().numpy())
        self.balance = None if prep.balance is None else _split(prep.balance.detach().cpu().numpy())
        self.mix_table = None
        if linear_table is not None:
            # (1, 2**bits, 3): w_c · decode(code), so that one table pass gives the mixed channels
            self.mix_table = np.ascontiguousarray((linear_table[:, None] * mix[None, :]).astype(np.float32)[None])
        self.pos_scale = np.float32((self.size - 1) / (tone.LOG_HI - tone.LOG_LO) / _LN2)
        self.pos_offset = np.float32(-tone.LOG_LO * (self.size - 1) / (tone.LOG_HI - tone.LOG_LO))


class Workspace:
    """Preallocated per-band buffers (one per worker thread), so the band loop allocates nothing big."""

    def __init__(self, rows: int, width: int) -> None:
        shape = (rows, width)
        self.rows, self.width = rows, width
        self.buf = {name: np.empty(shape, np.float32)
                    for name in ("pos", "frac", "d", "tmp", "acc", "mask", "k", "shift", "hue", "sat", "dfrac",
                                 "fa", "fb", "balanced")}
        self.index = np.empty(shape, np.intp)  # np.take converts any other index type first
        self.degree = np.empty(shape, np.intp)
        self.below = np.empty(shape, np.bool_)
        self.rgb3 = np.empty((rows, width, 3), np.float32)
        self.lin3 = np.empty((rows, width, 3), np.float32)
        self.lab3 = np.empty((rows, width, 3), np.float32)
        self._extra: dict = {}

    def extra(self, slot: int, rows: int) -> tuple[np.ndarray, np.ndarray]:
        """Additional (index, fraction) buffers, one pair per distinct set of hue-band sliders."""
        if slot not in self._extra:
            self._extra[slot] = (np.empty((self.rows, self.width), np.intp),
                                 np.empty((self.rows, self.width), np.float32))
        index, frac = self._extra[slot]
        return index[:rows], frac[:rows]

    def view(self, rows: int):
        return {name: b[:rows] for name, b in self.buf.items()}


def _gather(values: np.ndarray, slopes: np.ndarray, index: np.ndarray, frac: np.ndarray, out: np.ndarray,
            tmp: np.ndarray) -> np.ndarray:
    """``out = values[index] + frac · slopes[index]`` (linear interpolation; ``index`` in range)."""
    np.take(slopes, index, out=out, mode="clip")  # "clip": unbuffered (indices are in range anyway)
    out *= frac
    np.take(values, index, out=tmp, mode="clip")
    out += tmp
    return out


def _index(pos: np.ndarray, index: np.ndarray, frac: np.ndarray) -> None:
    """Integer part and fraction of ``pos ≥ 0`` (all float32 arithmetic: mixing in the integer
    index would promote to float64 and cost twice)."""
    np.floor(pos, out=frac)
    np.copyto(index, frac, casting="unsafe")
    np.subtract(pos, frac, out=frac)


def base_position(band: np.ndarray, tables: FastTables, ws: Workspace, pos: np.ndarray) -> np.ndarray:
    """Region-LUT index of ``log2(max(mix · decode(rgb), floor))`` into ``pos``, ``(rows, W)``."""
    rows = band.shape[0]
    mixed = ws.rgb3[:rows]
    if band.dtype == np.uint8:
        cv2.LUT(band, tables.mix_table, dst=mixed)
    else:
        for c in range(3):
            np.take(tables.mix_table[0, :, c], band[..., c], out=mixed[..., c], mode="clip")
    cv2.transform(mixed, _ONES, dst=pos)
    return _log_position(pos, tables)


def position_from_linear(lin: torch.Tensor, tables: FastTables, pos: np.ndarray) -> np.ndarray:
    """Same as `base_position` from a linear-light ``(1, 3, rows, W)`` tensor (float inputs)."""
    lin = lin[0].numpy()
    np.multiply(lin[0], tables.mix[0], out=pos)
    pos += lin[1] * tables.mix[1]
    pos += lin[2] * tables.mix[2]
    return _log_position(pos, tables)


def _log_position(y: np.ndarray, tables: FastTables) -> np.ndarray:
    np.maximum(y, np.float32(tone.LOG_FLOOR), out=y)
    cv2.log(y, y)
    y *= tables.pos_scale
    y += tables.pos_offset
    return y


_XYZ = np.array(_XYZ_OVER_WHITE, np.float32)


def hue_planes(lin: np.ndarray, ws: Workspace, b: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whole degrees and fractional degrees of LCh hue measured from the first band centre, and the
    EV→index-scaled colourfulness, of ``(rows, W, 3)`` linear light (as `ops.color.hue_chroma`)."""
    rows = lin.shape[0]
    f = ws.lab3[:rows]
    cv2.transform(lin, _XYZ, dst=f)
    low = f <= np.float32(_LAB_EPS)
    small = (f[low] * np.float32(_LAB_KAPPA) + np.float32(16.0)) / np.float32(116.0)
    np.maximum(f, np.float32(_LAB_EPS), out=f)
    np.cbrt(f, out=f)
    f[low] = small
    fa, fb, hue, sat, degree, dfrac = b["fa"], b["fb"], b["hue"], b["sat"], ws.degree[:rows], b["dfrac"]
    np.subtract(f[..., 0], f[..., 1], out=fa)
    fa *= np.float32(500.0)
    np.subtract(f[..., 1], f[..., 2], out=fb)
    fb *= np.float32(200.0)
    np.arctan2(fb, fa, out=hue)
    hue *= np.float32(180.0 / math.pi)
    hue -= np.float32(HUE_CENTRES[0])  # in (-180 - first, 180 - first]: one turn added below 0
    wrap = b["tmp"]
    np.less(hue, np.float32(0.0), out=ws.below[:rows])
    np.multiply(ws.below[:rows], np.float32(360.0), out=wrap)
    hue += wrap  # (np.mod is ten times slower)
    fa *= fa
    fb *= fb
    fa += fb
    fa += np.float32(1e-12)
    np.sqrt(fa, out=sat)
    sat *= np.float32(1.0 / FULL_CHROMA)
    np.minimum(sat, np.float32(1.0), out=sat)
    np.subtract(np.float32(1.0), sat, out=sat)
    sat *= sat
    np.subtract(np.float32(1.0), sat, out=sat)
    sat *= np.float32(tone.EV_TO_INDEX)
    np.copyto(degree, hue, casting="unsafe")
    np.minimum(degree, 359, out=degree)
    np.subtract(hue, degree, out=dfrac)
    return degree, dfrac, sat


def balanced(hue: tuple, pos: np.ndarray, tables: FastTables, ws: Workspace, b: dict) -> tuple:
    """``hue`` with the colourfulness plane scaled by the filter balance at base index ``pos``."""
    if tables.balance is None:
        return hue
    degree, dfrac, sat = hue
    rows = pos.shape[0]
    index, frac = ws.extra(-1, rows)
    _index(pos, index, frac)
    factor = _gather(*tables.balance, index, frac, b["balanced"], b["tmp"])
    factor *= sat
    return degree, dfrac, factor


class MaskRows:
    """Bilinear upsampling of low-resolution masks, row band by row band (as `spatial.resize_rows`).

    Rows are interpolated at the masks' own width, then OpenCV stretches the band to the full width;
    its float bilinear resize uses the same half-pixel mapping and edge clamping as torch.
    """

    def __init__(self, masks: torch.Tensor, height: int, width: int) -> None:
        self.masks = np.ascontiguousarray(masks[0].detach().cpu().numpy().astype(np.float32))  # (R, h, w)
        self.height, self.width = height, width

    def band(self, r: int, start: int, stop: int, out: np.ndarray) -> np.ndarray:
        """The mask of region ``r`` for rows start..stop, written into ``out`` ``(rows, W)``."""
        from .spatial import _source_index

        h, w = self.masks.shape[1:]
        plane = self.masks[r]
        if h != self.height:
            i0, i1, wy = _source_index(self.height, h, start, stop, None, torch.float32)
            top = plane[i0.numpy()]
            rows = plane[i1.numpy()] - top
            rows *= wy.numpy()[:, None]
            rows += top
        else:
            rows = plane[start:stop]
        if w != self.width:
            cv2.resize(rows, (self.width, rows.shape[0]), dst=out, interpolation=cv2.INTER_LINEAR)
        else:
            np.copyto(out, rows)
        return out


def shade_regions(band_rows: int, start: int, stop: int, pos: np.ndarray, hue: tuple | None, masks: MaskRows,
                  ids: list[int], tables: FastTables, ws: Workspace, b: dict):
    """Steps 2–3: ``Σ_r m_r · LUT_r(pos + sat·band_r(hue))`` into ``b["acc"]``, and the structure
    weight into ``b["k"]`` (or None)."""
    acc, d, tmp, mask, k = b["acc"], b["d"], b["tmp"], b["mask"], b["k"]
    structure = tables.k is not None
    if structure:
        k.fill(0.0)
    # regions with the same hue-band sliders (often: none at all) share one table index
    done: dict = {}
    for n, r in enumerate(ids):
        values, slopes = tables.regions[r]
        key = b"" if tables.bands is None or tables.band_zero[r] else tables.band_keys[r]
        if key not in done:
            index, frac = (ws.index[:band_rows], b["frac"]) if not done else ws.extra(len(done), band_rows)
            if key == b"":
                _index(pos, index, frac)  # pos itself is left as it is
            else:
                degree, dfrac, sat = hue
                shift = _gather(*tables.bands[r], degree, dfrac, b["shift"], tmp)
                shift *= sat
                shift += pos
                _index(shift, index, frac)
            done[key] = (index, frac)
        index, frac = done[key]
        target = acc if n == 0 else d
        _gather(values, slopes, index, frac, target, tmp)
        if len(ids) > 1 or structure:  # a lone region's normalised mask is exactly 1
            masks.band(r, start, stop, mask)
        if len(ids) > 1:
            target *= mask
            if n:
                acc += target
        if structure and tables.k[r] != 0:
            mask *= tables.k[r]
            k += mask
    return acc, (k if structure else None)


def apply_curve(d: np.ndarray, tables: FastTables, ws: Workspace, b: dict, out: np.ndarray) -> np.ndarray:
    """Step 5 into ``out`` (``d`` is clipped to [0, 1] first)."""
    np.clip(d, 0.0, 1.0, out=d)
    if tables.curve is None:
        np.copyto(out, d)
        return out
    values, slopes = tables.curve
    d *= np.float32(values.shape[0] - 1)
    index = ws.index[:d.shape[0]]
    _index(d, index, b["frac"])  # index ≤ S-1, whose slope is 0
    return _gather(values, slopes, index, b["frac"], out, b["tmp"])
