"""`Preview`: a photo at preview size with everything that does not depend on the sliders cached,
so that moving one slider re-renders in a few milliseconds. Same math as `render` (it calls the
same engine functions); only the bookkeeping differs: each region's rendering is cached under its
own sliders, so a change to one region recomputes one region.
"""
from __future__ import annotations

import numpy as np
import torch

from ..device import resolve_device
from ..params import SEMANTIC_REGIONS, Params
from . import engine, spatial
from ..ops.color import srgb_to_linear
from .full import _as_mask_tensor, _band_tensors
from .tensors import params_to_tensors

PREVIEW_PIXELS = 1_100_000


def _key(tensor: torch.Tensor | None) -> tuple:
    return () if tensor is None else tuple(tensor.detach().reshape(-1).cpu().tolist())


class Preview:
    """Cached renderer for one photo at preview size.

    Args:
        rgb: ``(h, w, 3)`` display sRGB (float in [0, 1], uint8 or uint16); larger than
            ``max_pixels`` is area-downsampled.
        masks: ``(5, h', w')`` semantic masks at any resolution.
        local_masks: ``(L, h'', w'')`` masks of the local adjustments the params will have, or None
            (computed from each render's geometry).
        device: ``"auto" | "cpu" | "cuda"`` or a ``torch.device``.

    Example:
        >>> import numpy as np
        >>> from silverprint.params import Params
        >>> p = Preview(np.random.rand(60, 80, 3).astype("float32"), np.ones((5, 6, 8), "float32") / 5)
        >>> p.render(Params()).shape
        (60, 80)
    """

    def __init__(self, rgb: np.ndarray, masks: np.ndarray, local_masks: np.ndarray | None = None,
                 device: str | torch.device = "cpu", *, max_pixels: int = PREVIEW_PIXELS) -> None:
        rgb = np.asarray(rgb)
        h, w = rgb.shape[:2]
        if h * w > max_pixels:
            import cv2

            scale = (max_pixels / (h * w)) ** 0.5
            rgb = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))),
                             interpolation=cv2.INTER_AREA)
        self.device = resolve_device(device)
        self.height, self.width = rgb.shape[:2]
        with torch.no_grad():
            self.rgb, self.lin = _band_tensors(rgb, self.device, True)
            self.masks_small = engine.normalize_masks(_as_mask_tensor(masks, "masks", len(SEMANTIC_REGIONS),
                                                                      self.device))
            self.masks = spatial.resize_rows(self.masks_small, self.height, self.width)
        self.present = [i for i in range(len(SEMANTIC_REGIONS)) if bool(self.masks_small[0, i].max() > 0)]
        self.local_given = None if local_masks is None else _as_mask_tensor(local_masks, "local_masks", None,
                                                                             self.device)
        self._small = None
        self._small_feat: engine.Features | None = None
        self._masks_at_small: torch.Tensor | None = None
        self._small_lvl: _Level | None = None
        self._cache: dict = {}
        self._fast = None
        if self.device.type == "cpu":
            from . import fastcpu

            self._fast = fastcpu
            self._level = _Level(fastcpu, "", self.lin, np.ascontiguousarray(self.rgb[0].permute(1, 2, 0).numpy()),
                                 self.masks[0].numpy())
            self._ws = self._level.ws

    @property
    def shape(self) -> tuple[int, int]:
        return self.height, self.width

    def _hue_basis(self, prep: engine.Prepared):
        """The torch hue basis of the preview for ``prep``'s band centres (cached per centres)."""
        return self._cached("basis", prep.centres_key, lambda: engine.features(
            self.rgb, need_hue=True, need_rgb=False, lin=self.lin, prep=prep).basis)

    def _block_mean(self) -> torch.Tensor:
        if self._small is None:
            self._small = spatial.block_mean(self.rgb, spatial.pool_factor(self.height, self.width, engine.BLUR_SIZE))
        return self._small

    def _small_features(self) -> engine.Features:
        """Hue basis and linear light of the block-mean copy (all a structure base needs)."""
        if self._small_feat is None:
            self._small_feat = engine.features(self._block_mean(), need_hue=True, need_rgb=True)
        return self._small_feat

    def _small_masks(self) -> torch.Tensor:
        """The masks resampled to the block-mean size once (`blur_base` then uses them as they are)."""
        if self._masks_at_small is None:
            hs, ws = self._block_mean().shape[-2:]
            self._masks_at_small = spatial.resize_rows(self.masks_small, hs, ws)
        return self._masks_at_small

    def _upsample(self, small: torch.Tensor) -> torch.Tensor:
        """``(1, 1, hs, ws)`` → preview size, bilinear (OpenCV on CPU: same mapping, much faster)."""
        if self._fast is None:
            return spatial.resize_rows(small, self.height, self.width)
        rows = self._fast.MaskRows(small, self.height, self.width)
        out = np.empty((self.height, self.width), np.float32)
        return torch.from_numpy(rows.band(0, 0, self.height, out))[None, None]

    def _cached(self, name: str, key: tuple, compute):
        entry = self._cache.get(name)
        if entry is not None and entry[0] == key:
            return entry[1]
        value = compute()
        self._cache[name] = (key, value)
        return value

    def render(self, params: Params, *, seed: int | None = None) -> np.ndarray:
        """``(h, w)`` grey or ``(h, w, 3)`` toned float32 display sRGB in [0, 1]."""
        with torch.no_grad(), engine.torch_threads(1 if self.device.type == "cpu" else torch.get_num_threads()):
            return self._render(params, seed)

    def _render(self, params: Params, seed: int | None) -> np.ndarray:
        t = params_to_tensors(params, self.device)
        prep = engine.prepare(t, seed)
        height, width = self.height, self.width
        local_given = self.local_given if (self.local_given is not None and
                                           self.local_given.shape[1] == len(params.local)) else None
        basis = self._hue_basis(prep) if prep.needs_hue else None
        # the filter balance scales the hue-band weights by the base grey, and the band centres move
        # them, so both key like the mix
        mix_key = (_key(prep.mix) + (float(t.g("filter_balance")) if prep.balance is not None else None,)
                   + prep.centres_key)
        # (the fast path balances its own hue planes; only local adjustments read this basis there)
        if basis is not None and prep.balance is not None and (self._fast is None or prep.local):
            basis = self._cached("torch_balanced", mix_key, lambda: engine.balanced(
                engine.Features(lin=self.lin, rgb=None, basis=basis), self._torch_pos(prep, mix_key), prep).basis)
        feat = engine.Features(lin=self.lin, rgb=self.rgb if prep.needs_colours else None, basis=basis)
        if self._fast is not None:
            d, k = self._regions_fast(t, prep, mix_key)
        else:
            d, k = self._regions_torch(t, prep, basis, mix_key)
        refs = {}
        if prep.needs_colours and local_given is None:
            refs = engine.colour_refs(prep, self._block_mean())
        local_key = tuple(_key(t.local_geometry[lp.index]) + (lp.kind,) for lp in prep.local)
        if prep.local:
            local = self._cached("local", (local_key, local_given is None),
                                 lambda: engine.local_mask_rows(prep, local_given, self.rgb, refs, height, width, 0,
                                                                height, 1))
            if isinstance(d, np.ndarray):
                d = torch.from_numpy(d.copy())[None, None]
                k = None if k is None else torch.from_numpy(k.copy())[None, None]
            d, k = engine.apply_locals(d, k, feat, local, prep)
        spatial_left = (prep.structure or prep.vignette is not None or prep.grain is not None
                        or prep.toning is not None)
        if isinstance(d, np.ndarray):
            ws = self._ws
            out = np.empty((height, width), np.float32)
            d = self._fast.apply_curve(d, self._tables, ws, ws.view(height), out)
            if not spatial_left:
                return np.clip(d, 0.0, 1.0, out=d)
            d = torch.from_numpy(d)[None, None]
            k = None if k is None else torch.from_numpy(k.copy())[None, None]
        else:
            d = engine.apply_curve(d, prep)
        base = None
        if prep.structure:
            no_structure = (_key(t.region[:, :-1]), _key(t.local_region[:, :-1]))  # structure is last
            small_key = (mix_key, no_structure, _key(t.curve), local_key, local_given is None)
            if self._fast is not None and not prep.local:
                base = self._cached("base", small_key, lambda: self._base_fast(t, prep, mix_key))
            else:
                base = self._cached("base", small_key, lambda: self._upsample(
                    engine.blur_base(self._block_mean(), self._small_masks(), local_given, refs, prep,
                                     self._small_features())))
        if prep.grain is not None:
            amount, size = prep.grain
            noise = self._cached("grain", (prep.seed, size), lambda: spatial.grain_noise(
                prep.seed, size, height, width, 0, height, dtype=d.dtype, device=d.device))
            prep.grain = (amount, size, noise)
        result = engine.finish(d, k, base, prep, height, width, 0, height)[0]
        if result.shape[0] == 3:
            return result.permute(1, 2, 0).cpu().numpy()
        return result[0].cpu().numpy()

    def _torch_pos(self, prep, mix_key) -> torch.Tensor:
        """Region-LUT index of the base grey (torch), cached per mix."""
        return self._cached("torch_pos", mix_key, lambda: engine.base_log_position(self.lin, prep.mix))

    def _regions_torch(self, t, prep, basis, mix_key):
        pos = self._torch_pos(prep, mix_key)
        d = None
        for r in self.present:
            key = mix_key + _key(t.region[r])
            d_r = self._cached(f"region{r}", key, lambda r=r: engine.region_outputs(pos, basis, prep, [r]))
            term = d_r * self.masks[:, r:r + 1]
            d = term if d is None else d + term
        return d, engine.structure_weight(self.masks[:, self.present], prep, self.present)

    def _regions_fast(self, t, prep, mix_key, level: "_Level | None" = None):
        """Steps 2–3 through `fastcpu` (as `render_array` on CPU), one cached array per region."""
        fc = self._fast
        level = level or self._level
        ws = level.ws
        tables = self._tables = fc.FastTables(prep, None)
        b = ws.view(level.height)
        pos = self._cached(level.name + "pos", mix_key,
                           lambda: fc.position_from_linear(level.lin, tables, b["pos"]).copy())
        hue = None
        if tables.bands is not None:
            hue = self._cached(level.name + "hue", (), lambda: tuple(a.copy() for a in fc.hue_planes(
                np.ascontiguousarray(level.lin[0].permute(1, 2, 0).numpy()), ws, b)))
            if tables.balance is not None:
                hue = self._cached(level.name + "balanced", mix_key,
                                   lambda: tuple(a.copy() for a in fc.balanced(hue, pos, tables, ws, b)))
        acc = np.zeros((level.height, level.width), np.float32)
        single = _SingleMask()
        for r in self.present:
            key = mix_key + _key(t.region[r])

            def compute(r=r):
                d_r, _ = fc.shade_regions(level.height, 0, level.height, pos.copy(), hue, single, [r],
                                          _without_structure(tables), ws, b)
                return d_r.copy()

            d_r = self._cached(f"{level.name}region{r}", key, compute)
            acc += d_r * level.masks[r]
        k = None
        if tables.k is not None:
            k = np.zeros_like(acc)
            for r in self.present:
                if tables.k[r] != 0:
                    k += level.masks[r] * tables.k[r]
        return acc, k

    def _small_level(self) -> "_Level":
        if self._small_lvl is None:
            small = self._block_mean()
            self._small_lvl = _Level(self._fast, "small:", srgb_to_linear(small),
                                     np.ascontiguousarray(small[0].permute(1, 2, 0).numpy()),
                                     self._small_masks()[0].numpy())
        return self._small_lvl

    def _base_fast(self, t, prep, mix_key) -> torch.Tensor:
        """Step 6's blurred base through the fast path (no local adjustments), upsampled."""
        import cv2

        level = self._small_level()
        acc, _ = self._regions_fast(t, prep, mix_key, level)
        ws = level.ws
        curved = self._fast.apply_curve(acc, self._tables, ws, ws.view(level.height),
                                        np.empty_like(acc))
        kernel = spatial.gaussian_kernel1d(engine.STRUCTURE_SIGMA * max(level.height, level.width),
                                           dtype=torch.float32).numpy()
        blurred = cv2.sepFilter2D(curved, -1, kernel, kernel, borderType=cv2.BORDER_REPLICATE)
        return self._upsample(torch.from_numpy(blurred)[None, None])


class _Level:
    """One image size's slider-independent inputs for the fast path (preview size, block-mean size)."""

    def __init__(self, fc, name: str, lin: torch.Tensor, display: np.ndarray, masks: np.ndarray) -> None:
        self.name, self.lin, self.display, self.masks = name, lin, display, masks
        self.height, self.width = masks.shape[1:]
        self.ws = fc.Workspace(self.height, self.width)


class _SingleMask:
    """Stands in for `fastcpu.MaskRows` where a lone region is shaded (its mask is never read)."""

    def band(self, r, start, stop, out):  # pragma: no cover - not called for one region without structure
        out.fill(1.0)
        return out


def _without_structure(tables):
    import copy

    if tables.k is None:
        return tables
    clone = copy.copy(tables)
    clone.k = None
    return clone
