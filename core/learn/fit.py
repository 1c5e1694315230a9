"""Inverse fit: the renderer's sliders that reproduce a photographer's edits, found by gradient.

Everything goes through THE renderer (`silverprint.render`): a learned style is nothing but sliders,
so what is fitted here renders identically in the CLI, the GUI, video and the plug-ins.

Two uses of one optimiser:
- `fit_shared`: one slider set for many pairs at once (the style's base, or one subject's share).
  Sliders are optimised in normalised units (each slider's range maps to about ±1) with Adam on a
  preview-size copy of every pair; per-region sliders are a shared value plus per-region deltas
  with an L2 pull toward the shared value, so that regions only differ where the edits show it.
  A fixed template of local adjustments (a graduated filter from the top, a radial filter, a
  radial filter with a colour range over the top) is fitted too; adjustments that do not pay
  for themselves (no visible effect, or under 1 % of the training error) are dropped.
- `fit_pair`: the same for one pair, starting from the shared fit, with a pull toward it: the
  per-pair residual from the style says what the content-adaptive decoder has to explain.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np
import torch

from ..params import (CURVE_KNOTS, GLOBAL_SLIDER_SPECS, HUE_SHIFT_NAMES, LOCAL_KINDS, REGION_SLIDER_SPECS,
                      REGION_SLIDERS, SEMANTIC_REGIONS, Params, default_local)

#: Long side of the copies the fit works on (pixels).
FIT_SIDE = 128
#: Long side of the copies the spatial stage (local adjustments) works on.
LOCAL_SIDE = 64
#: Pixels per pair sampled for the per-pixel stage, and the steps of each stage.
SAMPLES_PER_PAIR = 20000
LOCAL_SAMPLES_PER_PAIR = 3000
TONE_STEPS = 150
POLISH_ITERATIONS = 150
LOCAL_STEPS = 160
#: Bumped whenever what a per-pair fit stores changes (invalidates the index's cache).
FIT_VERSION = 8
MIX_NAMES = ("mix_red", "mix_green", "mix_blue")
#: Global sliders fitted with the mix: the channel weights, where in the tonal range the colour
#: filter acts, and where on the hue circle its bands sit (the edit's filter may have been made
#: with other hue centres than ours; the moves are rounded to whole degrees in the style).
GLOBAL_FIT_NAMES = MIX_NAMES + ("filter_balance",) + HUE_SHIFT_NAMES
#: Region sliders the fit may move (structure is left to the user: it is not a tone mapping).
FIT_REGION_SLIDERS = tuple(s for s in REGION_SLIDERS if s != "structure")
#: Local-adjustment template: kind, geometry, and which of its sliders are fitted. A graduated
#: filter from the top; a radial filter around the centre (dodge the subject, or burn the edges);
#: and a wide soft radial over the top with a colour range picked there (burn the sky, not what
#: reaches into it: the colour-selective counterpart of the graduated filter).
LOCAL_TEMPLATE: tuple[dict, ...] = (
    {"kind": "graduated", "x": 0.5, "y": 0.3, "angle": 0.0, "feather": 0.4},
    {"kind": "radial", "x": 0.5, "y": 0.55, "width": 0.7, "height": 0.7, "angle": 0.0, "feather": 0.6,
     "invert": 0.0},
    {"kind": "radial", "x": 0.5, "y": 0.12, "width": 1.2, "height": 0.5, "angle": 0.0, "feather": 0.5,
     "invert": 0.0, "color_range": 30.0, "pick_x": 0.5, "pick_y": 0.12},
)
LOCAL_FIT_SLIDERS = ("exposure", "contrast")
#: Further start points (fractions of width / height) for a new colour-range pick, tried besides
#: the template's own (`_fit_local`): the top edge, where a sky's colour is purest, left to right.
PICK_STARTS: tuple[tuple[float, float], ...] = ((0.25, 0.05), (0.5, 0.05), (0.75, 0.05))
#: Weights of the priors on per-region deltas and local sliders (see `_Model.penalty`).
REGION_PRIOR = 1.0
LOCAL_PRIOR = 1.0
#: Geometry that stays fixed while fitting (discrete or degenerate choices).
FIXED_GEOMETRY = {"invert"}
#: A local adjustment whose largest effect on the training previews is below this (display
#: units, 0.5/255) is dropped from the style.
LOCAL_MIN_EFFECT = 0.5 / 255
#: ... and so is one whose removal raises the training previews' error by less than this share
#: (1 %, about 0.04 dB: the bar the style model sets for its subjects and decoder).
LOCAL_MIN_GAIN = 0.01
#: Per-region sliders stay apart only when that lowers the training error by this share over the
#: best fit with every region alike (`_regions_that_pay`): the same bar.
REGION_MIN_GAIN = LOCAL_MIN_GAIN


@dataclass
class FitData:
    """One pair at fit size, as tensors."""

    name: str
    rgb: torch.Tensor  # (3, h, w) display sRGB
    edit: torch.Tensor  # (1, h, w)
    masks: torch.Tensor  # (5, h, w), sum 1
    descriptors: np.ndarray  # (D,)
    s_rgb: torch.Tensor | None = None  # (3, N) random full-resolution pixels
    s_edit: torch.Tensor | None = None  # (1, N)
    s_masks: torch.Tensor | None = None  # (5, N)
    s_xy: torch.Tensor | None = None  # (N, 2) sample positions, fractions of width / height


@dataclass
class FitResult:
    params: Params
    mse: float  # mean squared error on the fit previews (display units)
    steps: int
    per_pair_mse: dict[str, float] = field(default_factory=dict)

    @property
    def psnr(self) -> float:
        return 10 * math.log10(1.0 / max(self.mse, 1e-12))


def _span(spec) -> float:
    return float(spec.hi - spec.lo) / 2.0


REGION_SCALE = torch.tensor([_span(REGION_SLIDER_SPECS[s]) for s in REGION_SLIDERS])
GLOBAL_FIT_SCALE = torch.tensor([min(100.0, _span(GLOBAL_SLIDER_SPECS[n])) for n in GLOBAL_FIT_NAMES])
GLOBAL_FIT_LO = torch.tensor([GLOBAL_SLIDER_SPECS[n].lo for n in GLOBAL_FIT_NAMES])
GLOBAL_FIT_HI = torch.tensor([GLOBAL_SLIDER_SPECS[n].hi for n in GLOBAL_FIT_NAMES])
GEOMETRY_SCALE = {kind: torch.tensor([1.0 if name in ("x", "y", "feather", "radius", "width", "height", "pick_x",
                                                      "pick_y")
                                      else _span(spec) for name, spec in specs.items()])
                  for kind, specs in LOCAL_KINDS.items()}


@dataclass
class _Batch:
    """Pairs of one preview shape, with the slider-independent per-pixel work done once."""

    names: list[str]
    rgb: torch.Tensor  # (B, 3, h, w)
    edit: torch.Tensor  # (B, 1, h, w)
    masks: torch.Tensor  # (B, 5, h, w), normalised as the renderer does
    feat: object  # engine.Features
    small: torch.Tensor | None  # block-mean copy (control-point colour references, structure)
    local: torch.Tensor | None = None  # (B, L, h, w) fixed local-adjustment masks, if given
    #: for sampled batches whose local masks follow the geometry being fitted: per preview group,
    #: the previews and each pair's sample positions (B_g, n, 2); samples are in this order.
    geometry: list | None = None


def _batches(data: list[FitData]) -> list[_Batch]:
    """Pairs grouped by preview shape, so the renderer runs once per group."""
    from ..render import engine, spatial

    groups: dict[tuple[int, int], list[FitData]] = {}
    for item in data:
        groups.setdefault(tuple(item.rgb.shape[1:]), []).append(item)
    out = []
    for g in groups.values():
        rgb = torch.stack([d.rgb for d in g])
        h, w = rgb.shape[2:]
        masks = engine.normalize_masks(torch.stack([d.masks for d in g]))
        feat = engine.features(rgb, need_hue=True, need_rgb=True)
        small = spatial.block_mean(rgb, spatial.pool_factor(h, w, engine.BLUR_SIZE))
        out.append(_Batch([d.name for d in g], rgb, torch.stack([d.edit for d in g]),
                          spatial.resize_rows(masks, h, w), feat, small))
    return out


def _sampled_batch(data: list[FitData], per_image: int, seed: int = 0,
                   fixed_local: Params | None = None) -> _Batch:
    """Random pixels of every pair laid out as one ``(1, 3, 1, N)`` image.

    Valid for the renderer's per-pixel stages (mix, hue bands, region tone, curve): those are
    what the first fitting stage moves, at a fraction of the cost of whole previews. Local
    adjustments of ``fixed_local`` (geometry not fitted here) are evaluated on each pair's preview
    and sampled at the same positions, so they take part with their fixed masks.
    """
    from ..render import engine

    gen = torch.Generator().manual_seed(seed)
    rgbs, edits, masks, names, locals_ = [], [], [], [], []
    for item in data:
        if item.s_rgb is not None:
            rgb, edit, mask, xy = item.s_rgb, item.s_edit, item.s_masks, item.s_xy
        else:
            h, w = item.rgb.shape[1:]
            rgb, edit = item.rgb.reshape(3, -1), item.edit.reshape(1, -1)
            mask = item.masks.reshape(item.masks.shape[0], -1)
            ys, xs = torch.meshgrid((torch.arange(h) + 0.5) / h, (torch.arange(w) + 0.5) / w, indexing="ij")
            xy = torch.stack([xs.reshape(-1), ys.reshape(-1)], 1)
        pick = torch.randperm(edit.shape[1], generator=gen)[:per_image]
        rgbs.append(rgb[:, pick])
        edits.append(edit[:, pick])
        masks.append(mask[:, pick])
        names.append(item.name)
        if fixed_local is not None and fixed_local.local:
            locals_.append(_local_at(fixed_local, item, xy[pick]))
    rgb = torch.cat(rgbs, 1)[None, :, None]
    m = engine.normalize_masks(torch.cat(masks, 1)[None, :, None])
    local = torch.cat(locals_, 1)[None, :, None] if locals_ else None
    return _Batch(names, rgb, torch.cat(edits, 1)[None, :, None], m,
                  engine.features(rgb, need_hue=True, need_rgb=True), None, local)


def _geometry_batch(data: list[FitData], per_image: int, seed: int = 0) -> _Batch:
    """Full-resolution samples of every pair whose local-adjustment masks are computed from the
    geometry being fitted (on each pair's preview, then read at the samples' positions)."""
    groups: dict[tuple[int, int], list[FitData]] = {}
    for item in data:
        groups.setdefault(tuple(item.rgb.shape[1:]), []).append(item)
    ordered = [item for g in groups.values() for item in g]
    per_image = min([per_image] + [int(item.s_edit.shape[1]) for item in ordered])
    batch = _sampled_batch(ordered, per_image, seed)
    gen = torch.Generator().manual_seed(seed)
    geometry = []
    for g in groups.values():
        xys = []
        for item in g:  # the same draws as _sampled_batch made (same generator sequence)
            pick = torch.randperm(item.s_edit.shape[1], generator=gen)[:per_image]
            xys.append(item.s_xy[pick])
        geometry.append((_batches(g)[0], torch.stack(xys)))
    batch.geometry = geometry
    return batch


def _geometry_masks(prep, batch: _Batch, n_local: int) -> torch.Tensor:
    """(1, L, 1, N) local masks of the active adjustments at the batch's sample positions."""
    import torch.nn.functional as F

    from ..render import engine

    parts = []
    for preview, xy in batch.geometry:
        b, _, h, w = preview.rgb.shape
        refs = engine.colour_refs(prep, preview.small)
        rows = engine.local_mask_rows(prep, None, preview.rgb, refs, h, w, 0, h, b)
        by_index = {lp.index: m for lp, m in zip(prep.local, rows)}
        zero = torch.zeros(b, 1, h, w, dtype=preview.rgb.dtype)
        full = torch.cat([by_index.get(i, zero).expand(b, 1, h, w) for i in range(n_local)], 1)
        grid = (xy * 2 - 1).reshape(b, 1, -1, 2).to(full.dtype)
        sampled = F.grid_sample(full, grid, mode="bilinear", align_corners=False)  # (b, L, 1, n)
        parts.append(sampled.permute(1, 0, 2, 3).reshape(n_local, -1))
    return torch.cat(parts, 1)[None, :, None]


def _local_at(params: Params, item: FitData, xy: torch.Tensor) -> torch.Tensor:
    """The masks of ``params``' local adjustments on the pair's preview, sampled at ``xy``: (L, N)."""
    import torch.nn.functional as F

    from ..render import engine

    batch = _batches([item])[0]
    with torch.no_grad():
        prep = engine.prepare(_tensors(params))
        h, w = batch.rgb.shape[2:]
        refs = engine.colour_refs(prep, batch.small)
        rows = engine.local_mask_rows(prep, None, batch.rgb, refs, h, w, 0, h, 1)
        full = torch.zeros(1, len(params.local), h, w)
        for lp, m in zip(prep.local, rows):
            full[:, lp.index] = m[:, 0]
        grid = (xy * 2 - 1).reshape(1, 1, -1, 2).to(full.dtype)
        return F.grid_sample(full, grid, mode="bilinear", align_corners=False)[0, :, 0]


class _Model(torch.nn.Module):
    """Learnable normalised offsets around an initial `Params` -> `RenderTensors`."""

    def __init__(self, init: Params, *, regional: bool, local: bool) -> None:
        super().__init__()
        from ..render.tensors import GEOMETRY_NAMES, params_to_tensors

        base = with_template(init) if local else init.copy()
        self.base = params_to_tensors(base)
        self.kinds = self.base.local_kinds
        self.regional = regional
        n_local = len(self.kinds)
        slider_mask = torch.tensor([s in FIT_REGION_SLIDERS for s in REGION_SLIDERS], dtype=torch.float32)
        self.register_buffer("slider_mask", slider_mask)
        self.shared = torch.nn.Parameter(torch.zeros(len(REGION_SLIDERS)))
        self.delta = torch.nn.Parameter(torch.zeros(len(SEMANTIC_REGIONS), len(REGION_SLIDERS)))
        self.mix = torch.nn.Parameter(torch.zeros(len(GLOBAL_FIT_NAMES)))
        self.curve = torch.nn.Parameter(torch.zeros(CURVE_KNOTS))
        local_mask = torch.tensor([s in LOCAL_FIT_SLIDERS for s in REGION_SLIDERS], dtype=torch.float32)
        self.register_buffer("local_mask", local_mask)
        self.local_region = torch.nn.Parameter(torch.zeros(n_local, len(REGION_SLIDERS)))
        self.local_geometry = torch.nn.Parameter(torch.zeros_like(self.base.local_geometry))
        geo_scale = torch.zeros_like(self.base.local_geometry)
        for i, kind in enumerate(self.kinds):
            names = GEOMETRY_NAMES[kind]
            scale = GEOMETRY_SCALE[kind].clone()
            for j, name in enumerate(names):
                if name in FIXED_GEOMETRY:
                    scale[j] = 0.0
            geo_scale[i, :len(names)] = scale
        self.register_buffer("geo_scale", geo_scale)
        self.mix_index = [list(GLOBAL_SLIDER_SPECS).index(n) for n in GLOBAL_FIT_NAMES]

    def tensors(self):
        from dataclasses import replace

        b = self.base
        offset = self.shared.unsqueeze(0)
        if self.regional:
            offset = offset + self.delta
        region = b.region + offset * REGION_SCALE * self.slider_mask
        global_ = b.global_.clone()
        global_[self.mix_index] = b.global_[self.mix_index] + self.mix * GLOBAL_FIT_SCALE
        curve = b.curve + self.curve
        local_region = b.local_region + self.local_region * REGION_SCALE * self.local_mask
        local_geometry = b.local_geometry + self.local_geometry * self.geo_scale
        return replace(b, region=region, global_=global_, curve=curve, local_region=local_region,
                       local_geometry=local_geometry)

    def penalty(self) -> torch.Tensor:
        """Priors, in the units of the loss (log MSE, where 0.023 is 0.1 dB).

        Per-region deltas and local-adjustment sliders must each pay for themselves in error
        reduction (an offset of 10 % of a slider's half range costs about 0.04 dB), so a region that
        only a few pixels of the training pairs show stays at the shared value instead of fitting
        their noise. The curve is kept non-decreasing.
        """
        p = REGION_PRIOR * (self.delta ** 2).sum() if self.regional else self.delta.sum() * 0
        curve = self.base.curve + self.curve
        steps = curve[1:] - curve[:-1]
        p = p + 100.0 * torch.relu(-steps).pow(2).sum()
        p = p + LOCAL_PRIOR * (self.local_region ** 2).sum()
        return p


def _render(tensors, batch: _Batch):
    """`silverprint.render.render` on a prepared batch, step for step (same engine functions).

    The only difference: the renderer treats every slider that records a gradient as active, so
    structure, vignette and grain would be computed (at zero strength) on every step; the learner
    does not fit them, so they are switched off here when their value is zero.
    """
    from ..render import engine, spatial

    prep = engine.prepare(tensors)
    if not bool((tensors.region[:, engine._STRUCTURE].detach() != 0).any()):
        prep.k = None
    for lp in prep.local:
        if lp.k is not None and float(lp.k.detach()) == 0.0:
            lp.k = None
        if lp.bands is not None and not bool((lp.bands.detach() != 0).any()):
            lp.bands = None
    g = tensors.g
    if float(g("vignette").detach()) == 0.0:
        prep.vignette = None
    if float(g("grain").detach()) == 0.0:
        prep.grain = None
    if batch.small is None:  # sampled pixels: no neighbourhood, so no structure / locals here
        prep.k = None
        for lp in prep.local:
            lp.k = None
    b, _, height, width = batch.rgb.shape
    given = batch.local
    if batch.geometry is not None and tensors.local_kinds:
        given = _geometry_masks(prep, batch, len(tensors.local_kinds))
    refs = engine.colour_refs(prep, batch.small) if given is None else {}
    local = engine.local_mask_rows(prep, given, batch.rgb, refs, height, width, 0, height, b)
    d, k = engine.shade(batch.feat, batch.masks, list(range(len(SEMANTIC_REGIONS))), local, prep)
    base = None
    if prep.structure:
        base = spatial.resize_rows(engine.blur_base(batch.small, batch.masks, None, refs, prep), height, width)
    return engine.finish(d, k, base, prep, height, width, 0, height)


def _clamp_inplace(model: _Model) -> None:
    """Keep every slider inside its range while optimising (the renderer extrapolates otherwise)."""
    with torch.no_grad():
        t = model.tensors()
        lo = torch.tensor([REGION_SLIDER_SPECS[s].lo for s in REGION_SLIDERS])
        hi = torch.tensor([REGION_SLIDER_SPECS[s].hi for s in REGION_SLIDERS])
        over = (t.region - t.region.clamp(lo, hi)) / REGION_SCALE
        model.delta.sub_(over) if model.regional else model.shared.sub_(over.mean(0))
        curve = model.base.curve + model.curve
        model.curve.sub_(curve - curve.clamp(0, 1))
        value = t.global_[model.mix_index]
        model.mix.sub_((value - value.clamp(GLOBAL_FIT_LO, GLOBAL_FIT_HI)) / GLOBAL_FIT_SCALE)
        for i, kind in enumerate(model.kinds):
            from ..render.tensors import GEOMETRY_NAMES

            for j, name in enumerate(GEOMETRY_NAMES[kind]):
                spec = LOCAL_KINDS[kind][name]
                if model.geo_scale[i, j] == 0:
                    continue
                value = model.base.local_geometry[i, j] + model.local_geometry[i, j] * model.geo_scale[i, j]
                clamped = value.clamp(spec.lo, spec.hi)
                model.local_geometry[i, j] -= (value - clamped) / model.geo_scale[i, j]
            lr_lo = torch.tensor([REGION_SLIDER_SPECS[s].lo for s in REGION_SLIDERS])
            lr_hi = torch.tensor([REGION_SLIDER_SPECS[s].hi for s in REGION_SLIDERS])
            value = t.local_region[i]
            model.local_region[i] -= (value - value.clamp(lr_lo, lr_hi)) / REGION_SCALE


def _adam(model: _Model, batches: list[_Batch], steps: int, lr: float, anchor=None,
          anchor_weight: float = 0.0, local: bool = True,
          global_sliders: bool = True) -> Iterator[tuple[float, float]]:
    """Adam on the batches' log MSE (+ priors), one step per iteration: yields (loss, MSE) of the
    model as it is *before* that step, so a caller can keep or compare iterates."""
    n_pixels = sum(b.edit.numel() for b in batches)
    groups = [{"params": [model.shared, model.delta], "lr": lr}]
    if global_sliders:
        groups += [{"params": [model.mix], "lr": lr}, {"params": [model.curve], "lr": lr * 0.3}]
    if local:
        groups.append({"params": [model.local_region, model.local_geometry], "lr": lr})
    opt = torch.optim.Adam(groups)
    base_lrs = [g["lr"] for g in groups]
    for step in range(steps):
        # Warm-up then cosine decay: large early moves, fine convergence at the end.
        scale = min(1.0, (step + 1) / 10) * 0.5 * (1 + math.cos(math.pi * step / steps))
        for g, base_lr in zip(opt.param_groups, base_lrs):
            g["lr"] = base_lr * max(scale, 0.02)
        opt.zero_grad()
        tensors = model.tensors()
        sse = 0.0
        for batch in batches:
            sse = sse + ((_render(tensors, batch) - batch.edit) ** 2).sum()
        mse = sse / n_pixels
        loss = torch.log(mse + 1e-9) + model.penalty()
        if anchor is not None and anchor_weight > 0:
            loss = loss + anchor_weight * _anchor_term(tensors, anchor)
        loss.backward()
        yield float(loss.detach()), float(mse.detach())
        opt.step()
        _clamp_inplace(model)


class _Run:
    """One Adam run that remembers its best iterate (lowest loss) and can be advanced in parts.

    The local stage needs the best iterate, not the last: a colour-range pick point reads its
    colour from the image, so the loss is rugged in it, and Adam can step out of a good basin late
    in the run (measured on rt-regional-sky-subject: training MSE 0.00069 after 40 steps, 0.00084
    after 160).
    """

    def __init__(self, model: _Model, batches: list[_Batch], steps: int, lr: float, anchor=None,
                 anchor_weight: float = 0.0) -> None:
        self.model, self.steps, self.done = model, steps, 0
        self._steps = _adam(model, batches, steps, lr, anchor, anchor_weight)
        self.best: tuple[float, float, list[torch.Tensor]] | None = None

    def advance(self, until: int, progress: Callable[[int, int, float], None] | None = None) -> None:
        while self.done < min(until, self.steps):
            loss, mse = next(self._steps)
            self.done += 1
            if self.best is None or loss < self.best[0]:
                self.best = (loss, mse, [p.detach().clone() for p in self.model.parameters()])
            if progress:
                progress(self.done, self.steps, mse)

    def finish(self) -> _Model:
        """The model, set to its best iterate."""
        self._steps.close()
        if self.best is not None:
            with torch.no_grad():
                for p, saved in zip(self.model.parameters(), self.best[2]):
                    p.copy_(saved)
        return self.model


def _optimise(model: _Model, batches: list[_Batch], steps: int, lr: float,
              progress: Callable[[int, int, float], None] | None,
              anchor=None, anchor_weight: float = 0.0, local: bool = True,
              global_sliders: bool = True) -> float:
    """Adam for ``steps``; returns the last step's MSE."""
    mse = float("nan")
    for step, (_, mse) in enumerate(_adam(model, batches, steps, lr, anchor, anchor_weight, local,
                                          global_sliders)):
        if progress:
            progress(step + 1, steps, mse)
    return mse


def _polish(model: _Model, batches: list[_Batch], anchor=None, anchor_weight: float = 0.0,
            iterations: int = POLISH_ITERATIONS) -> None:
    """Quasi-Newton refinement of the per-pixel sliders after Adam: Adam's noise floor is above
    the 0.1 dB differences that matter for film-like styles, L-BFGS converges through it."""
    n_pixels = sum(b.edit.numel() for b in batches)
    params = [model.shared, model.delta, model.mix, model.curve]
    opt = torch.optim.LBFGS(params, lr=1.0, max_iter=iterations, history_size=20,
                            line_search_fn="strong_wolfe", tolerance_grad=1e-9, tolerance_change=1e-12)

    def closure():
        opt.zero_grad()
        tensors = model.tensors()
        sse = sum(((_render(tensors, b) - b.edit) ** 2).sum() for b in batches)
        loss = torch.log(sse / n_pixels + 1e-9) + model.penalty()
        if anchor is not None and anchor_weight > 0:
            loss = loss + anchor_weight * _anchor_term(tensors, anchor)
        loss.backward()
        return loss

    opt.step(closure)
    _clamp_inplace(model)


def _anchor_term(tensors, anchor) -> torch.Tensor:
    """Squared distance of the region sliders from an anchor, normalised, per region."""
    return (((tensors.region - anchor.region) / REGION_SCALE) ** 2).sum() / len(SEMANTIC_REGIONS)


def _params_of(model: _Model) -> Params:
    from ..render.tensors import tensors_to_params
    from ..styles import clamp_params

    with torch.no_grad():
        return clamp_params(tensors_to_params(model.tensors()))


def downsample(item: FitData, side: int) -> FitData:
    """A smaller copy of a fit pair (area averaging), for the spatial stage."""
    import torch.nn.functional as F

    h, w = item.rgb.shape[1:]
    scale = side / max(h, w)
    if scale >= 1:
        return item
    size = (max(8, round(h * scale)), max(8, round(w * scale)))

    def area(x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x[None], size=size, mode="area")[0]

    return FitData(item.name, area(item.rgb), area(item.edit), area(item.masks), item.descriptors,
                   item.s_rgb, item.s_edit, item.s_masks, item.s_xy)


def fit_shared(data: list[FitData], init: Params | None = None, *, regional: bool = True,
               local: bool = True, steps: int = TONE_STEPS, local_steps: int = LOCAL_STEPS,
               lr: float = 0.03, progress: Callable[[str, int, int, float], None] | None = None,
               anchor: Params | None = None, anchor_weight: float = 0.0,
               polish: bool = True, global_sliders: bool = True) -> FitResult:
    """One slider set that reproduces all the pairs' edits as closely as the renderer can.

    Stage 1 fits the per-pixel sliders (mix, filter balance, hue bands, region tone, curve) on
    sampled full-resolution pixels (Adam, then L-BFGS), its regions kept apart only where that pays
    (`_regions_that_pay`); stage 2 adds the local-adjustment template
    and refines everything on fewer samples whose local masks follow the geometry being fitted;
    stage 3 polishes the per-pixel sliders again with those local adjustments held fixed.
    """
    from ..render.tensors import params_to_tensors

    torch.manual_seed(0)
    # a warm start (a few Adam steps from an earlier fit) is near its optimum: polish in proportion
    iterations = max(20, POLISH_ITERATIONS * min(steps, TONE_STEPS) // TONE_STEPS)
    params = init.copy() if init is not None else Params()
    anchor_t = params_to_tensors(anchor) if anchor is not None and anchor_weight > 0 else None
    model = _Model(params, regional=regional, local=False)
    sampled = [_sampled_batch(data, SAMPLES_PER_PAIR, fixed_local=params)]
    _optimise(model, sampled, steps, lr,
              (lambda i, n, v: progress("tone", i, n, v)) if progress else None, anchor_t, anchor_weight,
              local=False, global_sliders=global_sliders)
    if polish:
        _polish(model, sampled, anchor_t, anchor_weight, iterations)
    if regional:
        model, regional = _regions_that_pay(model, sampled, anchor_t, anchor_weight, iterations)
    params = _params_of(model)
    if local and local_steps > 0:
        small = [_geometry_batch(data, LOCAL_SAMPLES_PER_PAIR)]
        model = _fit_local(params, regional, small, local_steps, lr,
                           (lambda i, n, v: progress("local", i, n, v)) if progress else None,
                           anchor_t, anchor_weight)
        params = _params_of(model)
        if polish:
            # Adam on the stage's fewer samples leaves the per-pixel sliders noisier than the film
            # styles tolerate (a steep toe); refine them again on the pixel stage's samples, with
            # the local adjustments just found held fixed.
            model = _Model(params, regional=regional, local=False)
            _polish(model, [_sampled_batch(data, SAMPLES_PER_PAIR, fixed_local=params)], anchor_t, anchor_weight,
                    iterations)
            params = _params_of(model)
    return _finish(params, _batches(data), steps + (local_steps if local else 0), prune=local and local_steps > 0)


def _fit_local(params: Params, regional: bool, batches: list[_Batch], steps: int, lr: float,
               progress: Callable[[int, int, float], None] | None, anchor=None,
               anchor_weight: float = 0.0) -> _Model:
    """The local stage from the template's colour-range pick and from each of `PICK_STARTS`,
    by successive halving: every start runs a quarter of the steps, the better half goes on to
    half the steps, the best one to the end; each run ends at its best iterate.

    The colour a colour-range adjustment selects is read at its pick point, so the error is a
    rugged function of that point and gradient descent stays in the basin it starts in. Which
    basin a single start fell into depended on rounding: on rt-regional-sky-subject the same code
    learned 29.40 or 30.86 dB held out (training MSE 0.00083 or 0.00063) with or without AVX-512
    in numpy. Judged on the training samples only, several starts make the choice deliberate;
    halving keeps their cost under twice one run's. A style that already has its colour-range
    pick (a warm start: `watch` after one new pair) goes on from it alone: its basin was chosen
    when it was learned.
    """
    start = with_template(params)
    ranged = [i for i, item in enumerate(start.local) if item.get("color_range")]
    picked = any(item.get("color_range") for item in params.local)
    starts = [start] + ([] if picked or not ranged else [_with_pick(start, ranged, *xy) for xy in PICK_STARTS])
    runs = [_Run(_Model(trial, regional=regional, local=True), batches, steps, lr, anchor, anchor_weight)
            for trial in starts]
    rounds = _halving_rounds(len(runs), steps)
    budget = _halving_budget(len(runs), steps)
    spent = 0

    def counted(_i: int, _n: int, mse: float) -> None:
        nonlocal spent
        spent += 1
        if progress:
            progress(spent * steps // budget, steps, mse)

    for keep, until in rounds:
        runs = sorted(runs, key=lambda r: r.best[0] if r.best else 0.0)[:keep]
        for run in runs:
            run.advance(until, counted)
    return runs[0].finish()


def _halving_rounds(n: int, steps: int) -> list[tuple[int, int]]:
    """Successive halving of ``n`` runs of ``steps`` Adam steps: per round, how many runs go on
    (the best so far) and up to which step. A quarter of the steps for all, then half the runs to
    twice as far, until one run goes to the end."""
    rounds, until = [], (steps // 4 if n > 1 else steps)
    while True:
        rounds.append((n, until))
        if n == 1 and until >= steps:
            return rounds
        n = max(1, n // 2)
        until = steps if n == 1 else min(steps, until * 2)


def _halving_budget(n: int, steps: int) -> int:
    """Adam steps `_fit_local` takes from ``n`` starts (for its progress)."""
    total, done = 0, 0
    for keep, until in _halving_rounds(n, steps):
        total += keep * (until - done)
        done = until
    return max(total, 1)


def with_template(params: Params) -> Params:
    """A copy of ``params`` with the `LOCAL_TEMPLATE` adjustments of a kind it does not yet have."""
    out = params.copy()
    have = {item["kind"] for item in out.local}
    for template in LOCAL_TEMPLATE:
        if template["kind"] not in have:
            item = default_local(template["kind"])
            item.update(template)
            out.local.append(item)
    return out


def _with_pick(params: Params, indices: list[int], pick_x: float, pick_y: float) -> Params:
    """A copy of ``params`` whose local adjustments ``indices`` pick at (pick_x, pick_y)."""
    out = params.copy()
    for i in indices:
        out.local[i]["pick_x"], out.local[i]["pick_y"] = pick_x, pick_y
    return out


def _regions_that_pay(model: _Model, batches: list[_Batch], anchor=None, anchor_weight: float = 0.0,
                      iterations: int = POLISH_ITERATIONS) -> tuple[_Model, bool]:
    """``model`` and True if its per-region sliders pay for themselves, else the same fit with
    every region alike (re-polished) and False.

    A film stock or a global mix treats sky, people and foliage alike, yet a fit given one slider
    set per region still moves them apart to follow the training pairs' noise, which a new photo
    then pays for (t3mujin-trix400: 46.03 dB held out with this rule, 45.99 with the regions
    apart; hp5plus400 47.54 against 47.50; the hue- and region-dependent styles keep their
    regions: 4.7 % and 24 % gain; bench/imitation-results.md). So the regions stay apart only
    when that lowers the training error by `REGION_MIN_GAIN` over the best fit with them alike,
    the bar local adjustments meet too.
    """
    with torch.no_grad():
        saved = model.delta.detach().clone()
        mass = sum(batch.masks.sum(dim=(0, 2, 3)) for batch in batches)
        model.delta.copy_((mass / mass.sum()) @ saved)  # every region at the mean, by area
        alike = _params_of(model)
        model.delta.copy_(saved)
    plain = _Model(alike, regional=False, local=False)
    _polish(plain, batches, anchor, anchor_weight, iterations)
    apart, together = _sse(_params_of(model), batches), _sse(_params_of(plain), batches)
    return (model, True) if together - apart >= REGION_MIN_GAIN * together else (plain, False)


def _sse(params: Params, batches: list[_Batch]) -> float:
    """Sum of squared errors of ``params`` over ``batches`` (no gradient)."""
    with torch.no_grad():
        t = _tensors(params)
        return sum(float(((_render(t, batch) - batch.edit) ** 2).sum()) for batch in batches)


def _finish(params: Params, batches: list[_Batch], steps: int, prune: bool = True) -> FitResult:
    """Measure the error per pair, after dropping the local adjustments that do not pay for
    themselves (``prune``: they were fitted here, `prune_locals`)."""
    if prune:
        params = prune_locals(params, batches)
    n_pixels = sum(b.edit.numel() for b in batches)
    sse, per = 0.0, {}
    with torch.no_grad():
        t = _tensors(params)
        for batch in batches:
            err = ((_render(t, batch) - batch.edit) ** 2).flatten(1)
            sse += float(err.sum())
            per.update({n: float(e.mean()) for n, e in zip(batch.names, err)})
    return FitResult(params, sse / n_pixels, steps, per)


def prune_locals(params: Params, batches: list[_Batch]) -> Params:
    """``params`` without the fitted local adjustments that do not pay for themselves.

    The template's adjustments are fitted to every style, so on a style that has none (a film
    stock) they end up fitting noise: small moves that change a few pixels of the training
    previews but nothing a new photo would need. One is dropped when its largest effect is
    invisible (`LOCAL_MIN_EFFECT`), or, least useful first, when removing it raises the training
    error by less than `LOCAL_MIN_GAIN`.
    """
    def render_all(p: Params) -> list[torch.Tensor]:
        t = _tensors(p)
        return [_render(t, batch) for batch in batches]

    def without(p: Params, i: int) -> Params:
        trial = p.copy()
        trial.local = [item for j, item in enumerate(p.local) if j != i]
        return trial

    with torch.no_grad():
        full = render_all(params)
        out = params.copy()
        out.local = [item for i, item in enumerate(params.local)
                     if max(float((a - b).abs().amax()) for a, b in zip(full, render_all(without(params, i))))
                     >= LOCAL_MIN_EFFECT]
        base = _sse(out, batches) if out.local else 0.0
        while out.local:
            trials = [_sse(without(out, i), batches) for i in range(len(out.local))]
            worst = min(range(len(trials)), key=trials.__getitem__)
            if trials[worst] - base >= LOCAL_MIN_GAIN * base:
                break
            out, base = without(out, worst), trials[worst]  # its error is the one just measured
    return out


def _tensors(params: Params):
    from ..render.tensors import params_to_tensors

    return params_to_tensors(params)


def fit_pair(item: FitData, init: Params, *, steps: int = 60, lr: float = 0.02) -> FitResult:
    """One pair's own sliders, starting from (and pulled toward) the shared fit."""
    return fit_shared([item], init, regional=False, local=False, steps=steps, lr=lr,
                      anchor=init, anchor_weight=0.05)


def params_from_global(gf) -> Params:
    """Start values from the global baseline fit: its channel weights and its curve on 17 knots."""
    from ..params import CURVE_KNOTS
    from .metrics import srgb_to_linear

    params = Params()
    for name, w in zip(MIX_NAMES, gf.weights):
        spec = GLOBAL_SLIDER_SPECS[name]
        params.global_[name] = float(min(max(100.0 * w, spec.lo), spec.hi))
    knots = np.linspace(0.0, 1.0, CURVE_KNOTS, dtype=np.float32)
    inputs = srgb_to_linear(knots) if gf.space == "linear" else knots
    grid = np.linspace(gf.lo, gf.hi, len(gf.curve))
    curve = np.clip(np.interp(inputs, grid, gf.curve), 0.0, 1.0)
    params.global_["curve"] = [float(v) for v in np.maximum.accumulate(curve)]
    return params


def fit_data(name: str, rgb: np.ndarray, edit: np.ndarray, masks: np.ndarray, descriptors: np.ndarray,
             side: int = FIT_SIDE, samples: int = SAMPLES_PER_PAIR, seed: int = 0) -> FitData:
    """A pair as the fit uses it: random full-resolution pixels and a small whole preview.

    The per-pixel stage must see pixels at the edit's own resolution: averaging pixels first
    (a downscaled copy) and then applying a steep tone curve is not the curve of the averages, and
    the bias would cost decibels on exactly the styles that are pure tone mappings.
    """
    import cv2

    eh, ew = edit.shape[:2]
    if rgb.shape[:2] != (eh, ew):  # edits may be exported smaller (or larger)
        interp = cv2.INTER_AREA if rgb.shape[0] > eh else cv2.INTER_CUBIC
        rgb = np.clip(cv2.resize(rgb, (ew, eh), interpolation=interp), 0, 1)
    full_masks = np.stack([cv2.resize(m, (ew, eh), interpolation=cv2.INTER_LINEAR) for m in masks])
    rng = np.random.default_rng(seed)
    pick = rng.choice(eh * ew, size=min(samples, eh * ew), replace=False)
    s_rgb = rgb.reshape(-1, 3)[pick].T
    s_edit = edit.reshape(-1)[pick][None]
    s_masks = full_masks.reshape(len(masks), -1)[:, pick]
    s_masks = s_masks / np.maximum(s_masks.sum(0, keepdims=True), 1e-6)
    s_xy = np.stack([(pick % ew + 0.5) / ew, (pick // ew + 0.5) / eh], 1)
    scale = min(1.0, side / max(eh, ew))
    size = (max(8, round(ew * scale)), max(8, round(eh * scale)))
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA) if size != (ew, eh) else rgb
    grey = cv2.resize(edit, size, interpolation=cv2.INTER_AREA) if size != (ew, eh) else edit
    m = np.stack([cv2.resize(mask, size, interpolation=cv2.INTER_AREA) for mask in masks])
    m = m / np.maximum(m.sum(0, keepdims=True), 1e-6)

    def t(x: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))

    return FitData(name, t(small.transpose(2, 0, 1)), t(grey)[None], t(m),
                   np.asarray(descriptors, np.float32), t(s_rgb), t(s_edit), t(s_masks), t(s_xy))


class single_thread:
    """Run torch on one thread inside a block, then restore the caller's setting.

    The fit is many small tensor operations: with two threads on a busy two-core machine, the
    threads spend their time waiting for each other (measured: 40x slower than one thread).
    """

    def __enter__(self) -> "single_thread":
        self.before = torch.get_num_threads()
        torch.set_num_threads(1)
        return self

    def __exit__(self, *exc: object) -> None:
        torch.set_num_threads(self.before)
