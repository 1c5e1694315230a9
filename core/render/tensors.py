"""`RenderTensors`: a `Params` as the tensors the renderer (and the learner) works on.

Values stay in the sliders' own units (−100…100, EV, %, degrees) so that a tensor element *is* a
slider: the learner optimises these tensors and `tensors_to_params` turns them back into a style's
sliders (clamped into range). Nothing here does image math.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

import torch

from ..errors import ShapeError
from ..params import (CURVE_KNOTS, GLOBAL_SLIDER_SPECS, LOCAL_KINDS, REGION_SLIDER_SPECS, REGION_SLIDERS,
                      SEMANTIC_REGIONS, Params, default_local)

#: Order of `RenderTensors.global_`.
GLOBAL_NAMES: tuple[str, ...] = tuple(GLOBAL_SLIDER_SPECS)
GLOBAL_INDEX: dict[str, int] = {name: i for i, name in enumerate(GLOBAL_NAMES)}
REGION_INDEX: dict[str, int] = {name: i for i, name in enumerate(REGION_SLIDERS)}
#: Geometry slots of `RenderTensors.local_geometry`: each kind's sliders in `LOCAL_KINDS` order,
#: padded with zeros to the longest kind.
GEOMETRY_NAMES: dict[str, tuple[str, ...]] = {kind: tuple(specs) for kind, specs in LOCAL_KINDS.items()}
GEOMETRY_SLOTS = max(len(names) for names in GEOMETRY_NAMES.values())


@dataclass
class RenderTensors:
    """All parameters of one rendering, as tensors on one device.

    Attributes:
        region: ``(R, P)`` per semantic region (rows in `SEMANTIC_REGIONS` order) the sliders of
            `REGION_SLIDERS` (8 hue bands, then exposure … structure).
        global_: ``(G,)`` the global sliders in `GLOBAL_NAMES` order (mix, grain, vignette, toning).
        curve: ``(CURVE_KNOTS,)`` outputs of the global tone curve at inputs ``i / (K - 1)``.
        local_region: ``(L, P)`` each local adjustment's own region sliders.
        local_geometry: ``(L, GEOMETRY_SLOTS)`` each local adjustment's geometry
            (``GEOMETRY_NAMES[kind]`` order, zero padded).
        local_kinds: the L kinds (``graduated`` / ``radial`` / ``point``); not a tensor.
    """

    region: torch.Tensor
    global_: torch.Tensor
    curve: torch.Tensor
    local_region: torch.Tensor
    local_geometry: torch.Tensor
    local_kinds: tuple[str, ...] = ()

    def g(self, name: str) -> torch.Tensor:
        """One global slider as a 0-d tensor (``t.g("grain")``)."""
        return self.global_[GLOBAL_INDEX[name]]

    def tensors(self) -> list[torch.Tensor]:
        """The learnable tensors (everything but the kinds)."""
        return [getattr(self, f.name) for f in fields(self) if f.name != "local_kinds"]

    def to(self, device=None, dtype: torch.dtype | None = None) -> "RenderTensors":
        """A copy on another device / float dtype (autograd history kept, like ``Tensor.to``)."""
        return replace(self, **{f.name: getattr(self, f.name).to(device=device, dtype=dtype)
                                for f in fields(self) if f.name != "local_kinds"})

    def detach(self) -> "RenderTensors":
        return replace(self, **{f.name: getattr(self, f.name).detach()
                                for f in fields(self) if f.name != "local_kinds"})

    def clone(self) -> "RenderTensors":
        return replace(self, **{f.name: getattr(self, f.name).detach().clone()
                                for f in fields(self) if f.name != "local_kinds"})

    def requires_grad_(self, flag: bool = True) -> "RenderTensors":
        """Make every tensor a leaf that records gradients (in place); returns self."""
        for tensor in self.tensors():
            tensor.requires_grad_(flag)
        return self

    @property
    def device(self) -> torch.device:
        return self.region.device

    @property
    def dtype(self) -> torch.dtype:
        return self.region.dtype

    @property
    def toned(self) -> bool:
        """True when split toning is on, so that `render` returns 3 channels."""
        return bool(self.g("tone_highlight_sat").detach() > 0) or bool(self.g("tone_shadow_sat").detach() > 0)

    @property
    def seed(self) -> int:
        return int(round(float(self.g("grain_seed").detach())))


def params_to_tensors(params: Params, device: torch.device | str = "cpu",
                      dtype: torch.dtype = torch.float32) -> RenderTensors:
    """Turn a `Params` into `RenderTensors` (new leaf tensors, no gradient recorded).

    Example:
        >>> t = params_to_tensors(Params())
        >>> tuple(t.region.shape), tuple(t.curve.shape)
        ((5, 15), (17,))
    """
    def tensor(values) -> torch.Tensor:
        return torch.tensor(values, dtype=dtype, device=device)

    region = tensor([[float(params.regions[r][name]) for name in REGION_SLIDERS] for r in SEMANTIC_REGIONS])
    global_ = tensor([float(params.global_[name]) for name in GLOBAL_NAMES])
    curve = tensor([float(v) for v in params.global_["curve"]])
    if curve.numel() != CURVE_KNOTS:
        raise ShapeError(f"global.curve needs {CURVE_KNOTS} values, got {curve.numel()}")
    kinds: list[str] = []
    local_region, local_geometry = [], []
    for item in params.local:
        kind = item["kind"]
        full = default_local(kind)
        full.update(item)
        kinds.append(kind)
        local_region.append([float(full[name]) for name in REGION_SLIDERS])
        geometry = [float(full[name]) for name in GEOMETRY_NAMES[kind]]
        local_geometry.append(geometry + [0.0] * (GEOMETRY_SLOTS - len(geometry)))
    local_region_t = tensor(local_region) if local_region else torch.zeros(0, len(REGION_SLIDERS), dtype=dtype,
                                                                             device=device)
    local_geometry_t = tensor(local_geometry) if local_geometry else torch.zeros(0, GEOMETRY_SLOTS, dtype=dtype,
                                                                                   device=device)
    return RenderTensors(region, global_, curve, local_region_t, local_geometry_t, tuple(kinds))


def _clamp(value: float, lo: float, hi: float) -> float:
    return min(max(float(value), lo), hi)


def tensors_to_params(t: RenderTensors) -> Params:
    """Turn (possibly optimised) `RenderTensors` back into `Params`, clamping each slider into its range.

    The curve is clamped to [0, 1]; the grain seed is rounded to an integer.
    """
    params = Params()
    region = t.region.detach().cpu().double().tolist()
    for r, name in enumerate(SEMANTIC_REGIONS):
        for p, slider in enumerate(REGION_SLIDERS):
            spec = REGION_SLIDER_SPECS[slider]
            params.regions[name][slider] = _clamp(region[r][p], spec.lo, spec.hi)
    values = t.global_.detach().cpu().double().tolist()
    for i, name in enumerate(GLOBAL_NAMES):
        spec = GLOBAL_SLIDER_SPECS[name]
        params.global_[name] = _clamp(values[i], spec.lo, spec.hi)
    params.global_["grain_seed"] = float(int(round(params.global_["grain_seed"])))
    params.global_["curve"] = [_clamp(v, 0.0, 1.0) for v in t.curve.detach().cpu().double().tolist()]
    local_region = t.local_region.detach().cpu().double().tolist()
    local_geometry = t.local_geometry.detach().cpu().double().tolist()
    for i, kind in enumerate(t.local_kinds):
        item = default_local(kind)
        for p, slider in enumerate(REGION_SLIDERS):
            spec = REGION_SLIDER_SPECS[slider]
            item[slider] = _clamp(local_region[i][p], spec.lo, spec.hi)
        for g, name in enumerate(GEOMETRY_NAMES[kind]):
            spec = LOCAL_KINDS[kind][name]
            item[name] = _clamp(local_geometry[i][g], spec.lo, spec.hi)
        params.local.append(item)
    return params
