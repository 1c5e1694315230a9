"""`render_array`: full-resolution rendering in row bands with bounded memory, same math as `render`.

Each band runs the very functions `render` runs (`engine.shade` and `engine.finish`) on its rows;
masks, local adjustments, structure base, vignette and grain are all computed for exact rows of the
whole image, so bands join seamlessly. Inputs may stay uint8 / uint16 until each band is decoded
(through a table), which keeps a 24 MP photo's working set to a few hundred MB.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from ..device import resolve_device
from ..errors import ShapeError
from ..ops.color import srgb_to_linear
from ..params import SEMANTIC_REGIONS, Params
from . import engine, spatial
from .tensors import params_to_tensors

#: Pixels per band: small enough to stay in cache-friendly sizes and bound memory, large enough
#: that per-operation overhead is negligible.
TILE_PIXELS = 1 << 19

_TABLES: dict = {}


def _decode_tables(bits: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """``(display, linear)`` float32 values of every integer code (computed with `render`'s own ops)."""
    key = (bits, str(device))
    if key not in _TABLES:
        codes = torch.arange(2 ** bits, dtype=torch.float32) / float(2 ** bits - 1)
        _TABLES[key] = (codes.to(device), srgb_to_linear(codes).to(device))
    return _TABLES[key]


def _band_tensors(band: np.ndarray, device: torch.device, need_display: bool):
    """A ``(rows, W, 3)`` band → ``(display or None, linear)`` tensors ``(1, 3, rows, W)``."""
    if band.dtype in (np.uint8, np.uint16):
        bits = 8 if band.dtype == np.uint8 else 16
        display_t, linear_t = _decode_tables(bits, device)
        planar = np.ascontiguousarray(band.transpose(2, 0, 1))
        if device.type == "cpu":
            lin = torch.from_numpy(linear_t.numpy()[planar])
            disp = torch.from_numpy(display_t.numpy()[planar]) if need_display else None
        else:
            codes = torch.from_numpy(planar.astype(np.int64 if bits == 16 else np.uint8)).to(device).long()
            lin = linear_t[codes]
            disp = display_t[codes] if need_display else None
        return (disp.unsqueeze(0) if disp is not None else None), lin.unsqueeze(0)
    disp = torch.from_numpy(np.ascontiguousarray(band.transpose(2, 0, 1), dtype=np.float32)).to(device).unsqueeze(0)
    return (disp if need_display else None), srgb_to_linear(disp)


def _block_mean_array(rgb: np.ndarray, factor: int, device: torch.device) -> torch.Tensor:
    """`spatial.block_mean` of the whole display image, computed band by band (bands of whole blocks).

    Integer codes are averaged as codes and scaled once (the display value is linear in the code)."""
    height, width = rgb.shape[:2]
    rows = max(factor, (TILE_PIXELS // max(width, 1)) // factor * factor)
    scale = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(rgb.dtype)
    parts = []
    for start in range(0, height, rows):
        band = rgb[start:start + rows]
        if scale is None:
            disp, _ = _band_tensors(band, device, True)
        else:
            disp = torch.from_numpy(np.ascontiguousarray(band.transpose(2, 0, 1))).to(device).float()[None]
        parts.append(spatial.block_mean(disp, factor))
    small = torch.cat(parts, dim=2)
    return small if scale is None else small / scale


def _active_regions(masks: torch.Tensor, height: int, start: int, stop: int) -> list[int]:
    """Regions with a non-zero mask anywhere in the source rows that rows start..stop read."""
    i0, i1, _ = spatial._source_index(height, masks.shape[-2], start, stop, masks.device, masks.dtype)
    rows = masks[0, :, int(i0.min()):int(i1.max()) + 1]
    present = rows.reshape(rows.shape[0], -1).amax(dim=1) > 0
    return [i for i, flag in enumerate(present.tolist()) if flag]


def _as_mask_tensor(array, name: str, count: int | None, device) -> torch.Tensor:
    tensor = torch.as_tensor(np.asarray(array, dtype=np.float32))
    if tensor.dim() == 3:
        tensor = tensor.unsqueeze(0)
    if tensor.dim() != 4 or tensor.shape[0] != 1 or (count is not None and tensor.shape[1] != count):
        raise ShapeError(f"{name} must be ({count if count is not None else 'L'}, h, w), got {tuple(np.shape(array))}")
    return tensor.to(device)


def render_array(rgb: np.ndarray, masks: np.ndarray, local_masks: np.ndarray | None, params: Params, *,
                 device: str | torch.device = "cpu", seed: int | None = None,
                 tile_pixels: int | None = None, fast: bool | None = None) -> np.ndarray:
    """Render one photo at full resolution (no gradients, bounded memory).

    Args:
        rgb: ``(H, W, 3)`` display sRGB, uint8, uint16 or float in [0, 1] (kept in its dtype; each
            band is converted on its own).
        masks: ``(5, h, w)`` soft semantic masks at any resolution (`SEMANTIC_REGIONS` order).
        local_masks: ``(L, h, w)`` masks of ``params.local`` or None (computed from the geometry).
        params: the sliders.
        device: ``"auto" | "cpu" | "cuda"`` or a ``torch.device``.
        seed: grain seed overriding ``params``'.
        tile_pixels: pixels per band (default `TILE_PIXELS`).
        fast: use the NumPy/OpenCV band path (default: on CPU); False runs every band through the
            torch functions, as on CUDA.

    Returns:
        ``(H, W)`` grey or ``(H, W, 3)`` toned float32 display sRGB in [0, 1].

    Raises:
        ShapeError: for arrays of the wrong shape.
    """
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ShapeError(f"rgb must be (H, W, 3), got {rgb.shape}")
    dev = resolve_device(device)
    height, width = rgb.shape[:2]
    with torch.no_grad(), engine.torch_threads(1 if dev.type == "cpu" else torch.get_num_threads()):
        t = params_to_tensors(params, dev)
        prep = engine.prepare(t, seed)
        mask_t = engine.normalize_masks(_as_mask_tensor(masks, "masks", len(SEMANTIC_REGIONS), dev))
        local_t = None
        if local_masks is not None and len(params.local):
            local_t = _as_mask_tensor(local_masks, "local_masks", len(params.local), dev)
        need_display = prep.needs_hue or prep.needs_colours
        small = None
        if prep.structure or (prep.needs_colours and local_t is None):
            small = _block_mean_array(rgb, spatial.pool_factor(height, width, engine.BLUR_SIZE), dev)
        refs = engine.colour_refs(prep, small) if local_t is None else {}
        base_small = engine.blur_base(small, mask_t, local_t, refs, prep) if prep.structure else None
        out = np.empty((height, width, 3) if prep.toning is not None else (height, width), dtype=np.float32)
        rows = max(1, (tile_pixels or TILE_PIXELS) // max(width, 1))
        fast = _FastBands(rgb, prep, mask_t, base_small, height, width, rows) \
            if (dev.type == "cpu" if fast is None else fast) else None
        bands = [(start, min(height, start + rows)) for start in range(0, height, rows)]
        if fast is not None and not fast.torch_left:
            fast.run_all(rgb, bands, mask_t, out)
            return out
        for start, stop in bands:
            ids = _active_regions(mask_t, height, start, stop)
            if fast is not None:
                d, k, disp, feat = fast.shade(rgb[start:stop], ids, start, stop)
            else:
                disp, lin = _band_tensors(rgb[start:stop], dev, need_display)
                feat = engine.features(disp, need_hue=prep.needs_hue, need_rgb=prep.needs_colours, lin=lin, prep=prep)
                m = spatial.resize_rows(mask_t[:, ids], height, width, start, stop)
                local = engine.local_mask_rows(prep, local_t, disp, refs, height, width, start, stop, 1)
                d, k = engine.shade(feat, m, ids, local, prep)
            if fast is not None and prep.local:
                local = engine.local_mask_rows(prep, local_t, disp, refs, height, width, start, stop, 1)
                d, k = engine.apply_locals(d, k, feat, local, prep)
                d = engine.apply_curve(d, prep)
            base = None
            if base_small is not None:
                base = fast.base_rows(start, stop) if fast is not None else \
                    spatial.resize_rows(base_small, height, width, start, stop)
            result = engine.finish(d, k, base, prep, height, width, start, stop)[0]
            if result.shape[0] == 3:
                out[start:stop] = result.permute(1, 2, 0).cpu().numpy()
            else:
                out[start:stop] = result[0].cpu().numpy()
    return out


class _FastBands:
    """Steps 1–3 (and 5 when there are no local adjustments) of each band through `fastcpu`."""

    def __init__(self, rgb: np.ndarray, prep: engine.Prepared, masks: torch.Tensor,
                 base_small: torch.Tensor | None, height: int, width: int, rows: int):
        from . import fastcpu

        self.fc = fastcpu
        self.prep = prep
        self.rows, self.width, self.height = rows, width, height
        self.integer = rgb.dtype in (np.uint8, np.uint16)
        bits = 8 if rgb.dtype == np.uint8 else 16
        self.display_table, linear = (t.numpy() for t in _decode_tables(bits, torch.device("cpu"))) \
            if self.integer else (None, None)
        self.linear_table = linear
        if self.display_table is not None:
            self.display_table3 = np.ascontiguousarray(np.repeat(self.display_table[None, :, None], 3, axis=2))
            if bits == 8:
                self.linear_table3 = np.ascontiguousarray(np.repeat(linear[None, :, None], 3, axis=2),
                                                          dtype=np.float32)
        self.tables = fastcpu.FastTables(prep, linear)
        self.masks = fastcpu.MaskRows(masks, height, width)
        #: the structure base's rows (OpenCV's bilinear stretch, as for the masks), or None
        self.base = None if base_small is None else fastcpu.MaskRows(base_small, height, width)
        #: whether torch must finish each band (local adjustments, grain, toning); structure and
        #: vignette are finished here
        self.torch_left = bool(prep.local) or prep.grain is not None or prep.toning is not None
        self._local = threading.local()

    def _workspace(self):
        ws = getattr(self._local, "ws", None)
        if ws is None:
            ws = self._local.ws = self.fc.Workspace(self.rows, self.width)
        return ws

    def _display(self, band: np.ndarray, ws) -> np.ndarray:
        if band.dtype == np.uint8:
            out = ws.rgb3[:band.shape[0]]
            import cv2

            cv2.LUT(band, self.display_table3, dst=out)
            return out
        if band.dtype == np.uint16:
            return self.display_table[band]
        return np.ascontiguousarray(band, dtype=np.float32)

    def _linear(self, band: np.ndarray, lin_t: torch.Tensor | None, ws) -> np.ndarray:
        """``(rows, W, 3)`` linear light of a band (the hue bands' input)."""
        if lin_t is not None:
            return np.ascontiguousarray(lin_t[0].permute(1, 2, 0).numpy())
        if band.dtype == np.uint8:
            import cv2

            out = ws.lin3[:band.shape[0]]
            cv2.LUT(band, self.linear_table3, dst=out)
            return out
        return self.linear_table[band].astype(np.float32, copy=False)

    def _regions(self, band: np.ndarray, ids: list[int], start: int, stop: int):
        fc = self.fc
        ws = self._workspace()
        b = ws.view(band.shape[0])
        lin_t = None
        if self.integer:
            pos = fc.base_position(band, self.tables, ws, b["pos"])
        else:
            _, lin_t = _band_tensors(band, torch.device("cpu"), False)
            pos = fc.position_from_linear(lin_t, self.tables, b["pos"])
        hue = None
        if self.tables.bands is not None:
            hue = fc.balanced(fc.hue_planes(self._linear(band, lin_t, ws), ws, b), pos, self.tables, ws, b)
        d, k = fc.shade_regions(band.shape[0], start, stop, pos, hue, self.masks, ids, self.tables, ws, b)
        return d, k, lin_t, ws, b

    def run_all(self, rgb: np.ndarray, bands: list, masks: torch.Tensor, out: np.ndarray) -> None:
        """Render every band straight into ``out`` (steps 1–3, 5, structure, vignette, clip: the
        same as `engine.finish` without grain and toning), two bands at a time."""
        prep = self.prep

        def one(span):
            start, stop = span
            ids = _active_regions(masks, self.height, start, stop)
            d, k, _, ws, b = self._regions(rgb[start:stop], ids, start, stop)
            target = out[start:stop]
            self.fc.apply_curve(d, self.tables, ws, b, target)
            if k is not None and self.base is not None:
                base = self.base.band(0, start, stop, b["mask"])
                np.subtract(target, base, out=b["tmp"])
                b["tmp"] *= k
                target += b["tmp"]
            if prep.vignette is not None:
                target *= spatial.vignette_gain(*prep.vignette, self.height, self.width, start, stop).numpy()
            np.clip(target, 0.0, 1.0, out=target)

        workers = min(2, os.cpu_count() or 1, len(bands))
        if workers > 1:
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(one, bands))
        else:
            for span in bands:
                one(span)

    def base_rows(self, start: int, stop: int) -> torch.Tensor:
        """Rows start..stop of the upsampled structure base, ``(1, 1, rows, W)``."""
        out = np.empty((stop - start, self.width), np.float32)
        return torch.from_numpy(self.base.band(0, start, stop, out))[None, None]

    def shade(self, band: np.ndarray, ids: list[int], start: int, stop: int):
        """``(d, k, display tensor, features)`` as tensors for torch to finish."""
        prep = self.prep
        d, k, lin_t, ws, b = self._regions(band, ids, start, stop)
        disp_t = feat = None
        if prep.local:
            display = self._display(band, ws) if (prep.needs_hue or prep.needs_colours) else None
            disp_t = None if display is None else torch.from_numpy(display.copy()).permute(2, 0, 1).unsqueeze(0)
            if lin_t is None:
                _, lin_t = _band_tensors(band, torch.device("cpu"), False)
            feat = engine.features(disp_t, need_hue=prep.needs_hue, need_rgb=prep.needs_colours, lin=lin_t, prep=prep)
            if prep.balance is not None:  # at the base index the fast path has just computed
                feat = engine.balanced(feat, torch.from_numpy(b["pos"])[None, None], prep)
            d_t = torch.from_numpy(d.copy())[None, None]
        else:
            curved = np.empty_like(d)
            d_t = torch.from_numpy(self.fc.apply_curve(d, self.tables, ws, b, curved))[None, None]
        k_t = None if k is None else torch.from_numpy(k.copy())[None, None]
        return d_t, k_t, disp_t, feat
