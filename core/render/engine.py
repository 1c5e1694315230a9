"""THE renderer: per-region hue-band mix → tone → blend by masks → local adjustments → global curve →
structure → vignette → grain → split toning. One set of functions, used whole by `render` (preview,
learning) and band by band by `render_array` (full resolution) and `Preview` (cached slider changes).

Data flow for one pixel (all steps differentiable w.r.t. the sliders):

1. ``lin = decode(rgb)``; base grey ``Y = mix · lin`` (linear light; default Rec.709 weights, so a
   neutral style is the plain luminance conversion).
2. per region r: ``l_r = log2 Y + f(Y) · w · band_r(h)`` where ``h``, ``w`` are the pixel's LCh hue
   and colourfulness (`ops.color.hue_chroma`), ``band_r`` interpolates the 8 hue-band sliders
   (±100 → ±`HUE_BAND_EV` EV) linearly between the band centres around the circle (`HUE_CENTRES`
   moved by the ``<band>_hue`` sliders, `tone.band_centres`) and ``f`` is the
   filter balance (`tone.filter_balance_lut`, 1 by default); ``d_r = LUT_r(l_r)``, the region's
   exposure and tone (see `tone`).
3. ``d = Σ_r m_r d_r`` with the semantic masks (bilinearly upsampled; entries under `MASK_FLOOR`
   zeroed and the rest renormalised, so that tiles can skip absent regions exactly).
4. each local adjustment with mask ``M``: ``d ← d + M·(T(encode(clip(decode(d)·2**(ev + f·w·band(h))))) - d)``;
   ``M`` is the shape's mask, times a colour weight for a control point or a filter's colour range
   (`spatial.colour_weight`, reference colour picked from the block-mean copy, `colour_refs`).
5. global curve (monotone cubic through `CURVE_KNOTS` knots, see `tone.curve_lut`).
6. structure: ``d ← d + k·(d - B)`` with ``k = Σ m_r·structure_r/100 + Σ M·structure/100`` and ``B``
   a Gaussian blur (σ = `STRUCTURE_SIGMA` of the long side) of steps 1–5 rendered on a block-mean
   copy of the photo about `BLUR_SIZE` px long, upsampled: the same at preview and full size.
7. vignette (display gain), clip to [0, 1], grain (``+ amount·0.12·4d(1-d)·noise``, mid-tones
   strongest), clip, split toning (3 channels only when toning is on).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import torch

from ..errors import ShapeError
from ..ops.color import REC709_WEIGHTS, hue_chroma, linear_to_srgb, srgb_to_linear
from ..params import FULL_CHROMA, HUE_CENTRES, HUE_SHIFT_NAMES, SEMANTIC_REGIONS
from . import spatial, tone
from .tensors import GEOMETRY_NAMES, REGION_INDEX, RenderTensors

MASK_FLOOR = 1.0 / 1024.0
BLUR_SIZE = 512
STRUCTURE_SIGMA = 0.005
TONE_STRENGTH = 0.2  # display-RGB offset of a fully saturated split tone in the mid-tones
_OTHER = SEMANTIC_REGIONS.index("other")
_STRUCTURE = REGION_INDEX["structure"]
_EXPOSURE = REGION_INDEX["exposure"]
_TONE_NAMES = ("contrast", "highlights", "shadows", "whites", "blacks")
_COLOUR_RANGE = {kind: GEOMETRY_NAMES[kind].index("color_range") for kind in ("graduated", "radial")}


@contextmanager
def torch_threads(count: int = 1):
    """Run torch's CPU ops on ``count`` intra-op threads inside the block, then restore the setting.

    The banded and cached paths issue many small elementwise ops; on small shared CPUs OpenMP's
    thread hand-off made each of them 10–100× slower than one thread (measured on the 2-core
    development VM), and the bands already run two at a time on their own threads.
    """
    previous = torch.get_num_threads()
    if previous != count:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        if previous != count:
            torch.set_num_threads(previous)


def _active(x: torch.Tensor) -> bool:
    """Whether a parameter can change the result: non-zero, or being learned (needs its gradient)."""
    return x.requires_grad or bool((x.detach() != 0).any())


@dataclass
class LocalPrep:
    index: int
    kind: str
    geometry: torch.Tensor
    ev: torch.Tensor | None
    bands: torch.Tensor | None  # (1, 8) EV
    lut: torch.Tensor | None  # (S,) display tone LUT
    k: torch.Tensor | None
    #: the mask selects by colour (a control point, or a filter with a colour range): it needs the
    #: display RGB and a reference colour picked from the photo
    colour: bool = False


@dataclass
class Prepared:
    """The per-render tables derived from `RenderTensors` (small; differentiable)."""

    mix: torch.Tensor
    luts: torch.Tensor
    bands: torch.Tensor | None
    k: torch.Tensor | None
    curve: torch.Tensor | None
    local: list[LocalPrep] = field(default_factory=list)
    vignette: tuple | None = None
    grain: tuple | None = None
    toning: tuple | None = None
    balance: torch.Tensor | None = None  # (S,) filter-balance multiplier by region-LUT index
    centres: torch.Tensor | None = None  # (8,) band centres, degrees (`tone.band_centres`)
    #: the centres as a cache key (read once per render: no device sync per band), None while learned
    centres_key: tuple | None = None
    seed: int = 0

    @property
    def needs_hue(self) -> bool:
        return self.bands is not None or any(lp.bands is not None for lp in self.local)

    @property
    def needs_colours(self) -> bool:
        """Some local mask selects by colour (see `LocalPrep.colour`)."""
        return any(lp.colour for lp in self.local)

    @property
    def structure(self) -> bool:
        return self.k is not None or any(lp.k is not None for lp in self.local)


def prepare(t: RenderTensors, seed: int | None = None) -> Prepared:
    """Build the LUTs and flags of one rendering from its tensors."""
    region = t.region
    bands = tone.band_ev(region)
    k = region[:, _STRUCTURE] / 100.0
    curve = t.curve
    identity = torch.linspace(0.0, 1.0, curve.numel(), dtype=curve.dtype, device=curve.device)
    curve_lut = None
    if curve.requires_grad or bool((curve.detach() - identity).abs().max() > 1e-7):
        curve_lut = tone.curve_lut(curve)
    local = []
    for i, kind in enumerate(t.local_kinds):
        sliders = t.local_region[i]
        if not _active(sliders):
            continue
        tone_sliders = sliders[[REGION_INDEX[n] for n in _TONE_NAMES]]
        local.append(LocalPrep(
            index=i, kind=kind, geometry=t.local_geometry[i],
            ev=sliders[_EXPOSURE] if _active(sliders[_EXPOSURE]) else None,
            bands=tone.band_ev(sliders.unsqueeze(0)) if _active(sliders[:tone.N_BANDS]) else None,
            lut=tone.display_luts(sliders.unsqueeze(0))[0] if _active(tone_sliders) else None,
            k=sliders[_STRUCTURE] / 100.0 if _active(sliders[_STRUCTURE]) else None,
            colour=selects_colour(kind, t.local_geometry[i])))
    g = t.g
    vignette = None
    if _active(g("vignette")):
        vignette = (g("vignette"), g("vignette_midpoint"), g("vignette_feather"))
    grain = None
    if bool(g("grain").detach() > 0):  # noise is not something to learn from zero: only when switched on
        grain = (g("grain") / 100.0, float(g("grain_size").detach()))
    toning = None
    if t.toned:
        toning = (g("tone_highlight_hue"), g("tone_highlight_sat"), g("tone_shadow_hue"), g("tone_shadow_sat"),
                  g("tone_balance"))
    mix = torch.stack([g("mix_red"), g("mix_green"), g("mix_blue")]) / 100.0
    bands = bands if _active(region[:, :tone.N_BANDS]) else None
    balance = None
    if (bands is not None or any(lp.bands is not None for lp in local)) and _active(g("filter_balance")):
        balance = tone.filter_balance_lut(g("filter_balance"))
    centres = tone.band_centres(torch.stack([g(n) for n in HUE_SHIFT_NAMES]))
    centres_key = None if centres.requires_grad else tuple(centres.tolist())
    return Prepared(mix=mix, luts=tone.region_luts(region), bands=bands, balance=balance, centres=centres,
                    centres_key=centres_key,
                    k=k if _active(region[:, _STRUCTURE]) else None,
                    curve=curve_lut, local=local, vignette=vignette, grain=grain, toning=toning,
                    seed=t.seed if seed is None else int(seed))


def normalize_masks(masks: torch.Tensor) -> torch.Tensor:
    """Zero mask values under `MASK_FLOOR` and renormalise to sum 1 (empty pixels go to ``other``).

    Args:
        masks: ``(B, 5, h, w)`` soft semantic masks, `SEMANTIC_REGIONS` order.
    """
    masks = torch.where(masks < MASK_FLOOR, torch.zeros_like(masks), masks)
    total = masks.sum(dim=1, keepdim=True)
    empty = (total < 1e-6).to(masks.dtype)
    masks = masks / total.clamp(min=1e-6)
    onehot = torch.zeros_like(masks[:1, :, :1, :1])
    onehot[0, _OTHER] = 1.0
    return masks * (1.0 - empty) + empty * onehot


@dataclass
class Features:
    """Per-pixel inputs that do not depend on the sliders (cached by `Preview`)."""

    lin: torch.Tensor  # (B, 3, h, w) linear light
    rgb: torch.Tensor | None  # (B, 3, h, w) display, kept for control points
    basis: tuple | None  # hue_basis (j0, j1, a, b), each (B, 1, h, w)
    hue: tuple | None = None  # (LCh hue, colourfulness) the basis is built from
    centres_key: tuple | None = None  # the band centres of ``basis`` (None: unknown, rebuild)


def features(rgb: torch.Tensor, *, need_hue: bool, need_rgb: bool, lin: torch.Tensor | None = None,
             prep: Prepared | None = None) -> Features:
    """Linear light, and the hue basis for ``prep``'s band centres (default: the unmoved ones)."""
    lin = srgb_to_linear(rgb) if lin is None else lin
    rgb = rgb if need_rgb else None
    if not need_hue:
        return Features(lin=lin, rgb=rgb, basis=None)
    hue = hue_chroma(lin, FULL_CHROMA)
    if prep is None or prep.centres is None:
        centres = tone.band_centres(torch.zeros(tone.N_BANDS, dtype=lin.dtype, device=lin.device))
        key = tuple(HUE_CENTRES)
    else:
        centres, key = prep.centres, prep.centres_key
    return Features(lin=lin, rgb=rgb, basis=tone.hue_basis(*hue, centres), hue=hue, centres_key=key)


def banded(feat: Features, prep: Prepared) -> Features:
    """``feat`` with its hue basis built for ``prep``'s band centres (kept when they already match)."""
    if feat.hue is None or prep.centres is None or (
            prep.centres_key is not None and prep.centres_key == feat.centres_key):
        return feat
    return replace(feat, basis=tone.hue_basis(*feat.hue, prep.centres), centres_key=prep.centres_key)


def balanced(feat: Features, pos: torch.Tensor, prep: Prepared) -> Features:
    """``feat`` with the hue-band weights scaled by the filter balance at base index ``pos``."""
    if feat.basis is None or prep.balance is None:
        return feat
    f = tone.lut_lookup(prep.balance, pos)
    j0, j1, a, b = feat.basis
    return replace(feat, basis=(j0, j1, a * f, b * f))


def base_log_position(lin: torch.Tensor, mix: torch.Tensor) -> torch.Tensor:
    """Region-LUT index of ``log2(mix · lin)``, ``(B, 1, h, w)``."""
    y = lin[:, 0:1] * mix[0] + lin[:, 1:2] * mix[1] + lin[:, 2:3] * mix[2]
    return tone.log_position(torch.log2(y.clamp(min=tone.LOG_FLOOR)))


def _band_offset(table: torch.Tensor, basis: tuple, ids: list[int] | None = None) -> torch.Tensor:
    """EV offset ``w·band(h)`` per row of ``table`` (R, 8) → ``(B, R', h, w)``."""
    if ids is not None:
        table = table[ids]
    j0, j1, a, b = basis
    offsets = (torch.arange(table.shape[0], device=table.device) * tone.N_BANDS).view(1, -1, 1, 1)
    return table.take(j0 + offsets) * a + table.take(j1 + offsets) * b


def region_outputs(pos: torch.Tensor, basis: tuple | None, prep: Prepared, ids: list[int]) -> torch.Tensor:
    """``d_r`` for the regions ``ids``: ``(B, len(ids), h, w)``."""
    luts = prep.luts[ids]
    offsets = (torch.arange(len(ids), device=luts.device) * luts.shape[-1]).view(1, -1, 1, 1)
    if prep.bands is not None:
        pos = pos + _band_offset(prep.bands, basis, ids) * tone.EV_TO_INDEX
    return tone.lut_lookup(luts, pos, offsets)


def blend(d_regions: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    return (d_regions * masks).sum(dim=1, keepdim=True)


def structure_weight(masks: torch.Tensor, prep: Prepared, ids: list[int]) -> torch.Tensor | None:
    if prep.k is None:
        return None
    return (masks * prep.k[ids].view(1, -1, 1, 1)).sum(dim=1, keepdim=True)


def apply_locals(d: torch.Tensor, k: torch.Tensor | None, feat: Features, local_masks: list, prep: Prepared):
    """Step 4 (and the locals' share of the structure weight)."""
    for lp, mask in zip(prep.local, local_masks):
        if lp.ev is not None or lp.bands is not None:
            ev = torch.zeros_like(d) if lp.ev is None else lp.ev
            if lp.bands is not None:
                ev = ev + _band_offset(lp.bands, feat.basis)
            moved = linear_to_srgb((srgb_to_linear(d) * torch.exp2(ev)).clamp(0.0, 1.0))
        else:
            moved = d
        if lp.lut is not None:
            moved = tone.lut_lookup(lp.lut, moved.clamp(0.0, 1.0) * (lp.lut.numel() - 1))
        d = d + mask * (moved - d)
        if lp.k is not None:
            k = (k if k is not None else torch.zeros_like(d)) + mask * lp.k
    return d, k


def apply_curve(d: torch.Tensor, prep: Prepared) -> torch.Tensor:
    if prep.curve is None:
        return d
    return tone.lut_lookup(prep.curve, d.clamp(0.0, 1.0) * (prep.curve.numel() - 1))


def shade(feat: Features, masks: torch.Tensor, ids: list[int], local_masks: list, prep: Prepared):
    """Steps 1–5 for a set of pixels. ``masks`` holds the regions ``ids`` only (the others are 0 here).

    Returns:
        ``(d, k)``: display grey ``(B, 1, h, w)`` before structure, and the structure weight (or None).
    """
    pos = base_log_position(feat.lin, prep.mix)
    feat = balanced(banded(feat, prep), pos, prep)
    d = blend(region_outputs(pos, feat.basis, prep, ids), masks)
    k = structure_weight(masks, prep, ids)
    d, k = apply_locals(d, k, feat, local_masks, prep)
    return apply_curve(d, prep), k


def local_mask_rows(prep: Prepared, given: torch.Tensor | None, rgb_rows: torch.Tensor | None, refs: dict,
                    height: int, width: int, start: int, stop: int, batch: int) -> list[torch.Tensor]:
    """The active local adjustments' masks for rows start..stop, each ``(B, 1, rows, W)``.

    ``given`` (``(B, L, h, w)``, from `silverprint.regions.local_masks`) is upsampled when present;
    otherwise each mask is computed from its geometry (differentiable, for learning).
    """
    out = []
    for lp in prep.local:
        if given is not None:
            out.append(spatial.resize_rows(given[:, lp.index:lp.index + 1], height, width, start, stop))
            continue
        out.append(shape_mask(lp.kind, lp.geometry, rgb_rows, refs.get(lp.index), height, width, start, stop,
                              batch))
    return out


def selects_colour(kind: str, geometry: torch.Tensor) -> bool:
    """Whether a local adjustment's mask depends on colour: a control point, or a filter whose
    colour range is on (or being learned)."""
    return kind == "point" or _active(geometry[_COLOUR_RANGE[kind]])


def shape_mask(kind: str, geometry: torch.Tensor, rgb_rows: torch.Tensor | None, ref: torch.Tensor | None,
               height: int, width: int, start: int, stop: int, batch: int) -> torch.Tensor:
    """One local adjustment's mask from its geometry for rows start..stop, ``(B, 1, rows, W)``
    (``ref``: its reference colour, from `colour_refs`, when it selects by colour)."""
    if kind == "graduated":
        m = spatial.graduated_mask(geometry, height, width, start, stop, rgb_rows, ref)
    elif kind == "radial":
        m = spatial.radial_mask(geometry, height, width, start, stop, rgb_rows, ref)
    else:
        m = spatial.point_mask(geometry, rgb_rows, ref, height, width, start, stop)
    return (m if m.dim() == 3 else m.expand(batch, -1, -1)).unsqueeze(1)


def colour_refs(prep: Prepared, rgb_small: torch.Tensor | None) -> dict:
    """The reference colour of each colour-selective local mask, picked from the block-mean copy."""
    return {lp.index: spatial.reference_colour(lp.kind, lp.geometry, rgb_small) for lp in prep.local if lp.colour}


def blur_base(rgb_small: torch.Tensor, masks: torch.Tensor, given_local: torch.Tensor | None, refs: dict,
              prep: Prepared, feat: Features | None = None) -> torch.Tensor:
    """Step 6's ``B`` at the block-mean size: steps 1–5 on the small copy, Gaussian-blurred.

    ``feat``: the small copy's `features` when the caller has them cached."""
    b, _, hs, ws = rgb_small.shape
    if feat is None:
        feat = features(rgb_small, need_hue=prep.needs_hue, need_rgb=prep.needs_colours, prep=prep)
    ids = list(range(masks.shape[1]))
    m = spatial.resize_rows(masks, hs, ws)
    local = local_mask_rows(prep, given_local, rgb_small, refs, hs, ws, 0, hs, b)
    d, _ = shade(feat, m, ids, local, prep)
    return spatial.gaussian_blur(d, STRUCTURE_SIGMA * max(hs, ws))


def _hue_chroma(hue: torch.Tensor) -> torch.Tensor:
    """Zero-luma display-RGB direction of a hue (degrees): HSV(hue, 1, 1) minus its Rec.709 luma."""
    n = torch.tensor([5.0, 3.0, 1.0], dtype=hue.dtype, device=hue.device)
    kk = torch.remainder(n + hue / 60.0, 6.0)
    rgb = 1.0 - torch.minimum(kk, 4.0 - kk).clamp(0.0, 1.0)
    w = torch.tensor(REC709_WEIGHTS, dtype=hue.dtype, device=hue.device)
    return rgb - (rgb * w).sum()


def split_tone(d: torch.Tensor, toning: tuple) -> torch.Tensor:
    """Grey ``(B, 1, h, w)`` → toned ``(B, 3, h, w)``: highlight and shadow tints crossing over at
    ``0.5 - 0.3·balance/100`` (smoothstep over ±0.25), fading to neutral at pure black and white."""
    hh, hs, sh, ss, balance = toning
    pivot = 0.5 - 0.3 * balance / 100.0
    w_high = spatial._smoothstep((d - pivot) / 0.5 + 0.5)
    taper = 1.0 - (2.0 * d - 1.0) ** 4
    high = (_hue_chroma(hh) * hs / 100.0).view(1, 3, 1, 1)
    low = (_hue_chroma(sh) * ss / 100.0).view(1, 3, 1, 1)
    return (d + TONE_STRENGTH * taper * (w_high * high + (1.0 - w_high) * low)).clamp(0.0, 1.0)


def finish(d: torch.Tensor, k: torch.Tensor | None, base: torch.Tensor | None, prep: Prepared, height: int,
           width: int, start: int, stop: int) -> torch.Tensor:
    """Steps 6–7 for rows start..stop of an ``height × width`` image."""
    if k is not None and base is not None:
        d = d + k * (d - base)
    if prep.vignette is not None:
        d = d * spatial.vignette_gain(*prep.vignette, height, width, start, stop)
    d = d.clamp(0.0, 1.0)
    if prep.grain is not None:
        amount, size = prep.grain[:2]
        noise = prep.grain[2] if len(prep.grain) > 2 else spatial.grain_noise(
            prep.seed, size, height, width, start, stop, dtype=d.dtype, device=d.device)
        d = (d + amount * spatial.GRAIN_AMPLITUDE * 4.0 * d * (1.0 - d) * noise).clamp(0.0, 1.0)
    if prep.toning is not None:
        d = split_tone(d, prep.toning)
    return d


def _check_inputs(rgb: torch.Tensor, masks: torch.Tensor, local_masks: torch.Tensor | None, t: RenderTensors):
    if not isinstance(rgb, torch.Tensor) or rgb.dim() != 4 or rgb.shape[1] != 3:
        raise ShapeError(f"rgb must be a (B, 3, H, W) tensor, got {getattr(rgb, 'shape', type(rgb).__name__)}")
    if masks.dim() == 3:
        masks = masks.unsqueeze(0)
    if masks.dim() != 4 or masks.shape[1] != len(SEMANTIC_REGIONS) or masks.shape[0] not in (1, rgb.shape[0]):
        raise ShapeError(f"masks must be (B, {len(SEMANTIC_REGIONS)}, h, w), got {tuple(masks.shape)}")
    if local_masks is not None:
        if local_masks.dim() == 3:
            local_masks = local_masks.unsqueeze(0)
        if local_masks.dim() != 4 or local_masks.shape[1] != len(t.local_kinds):
            raise ShapeError(f"local_masks must be (B, {len(t.local_kinds)}, h, w) for {len(t.local_kinds)} "
                             f"local adjustments, got {tuple(local_masks.shape)}")
    return masks, local_masks


def render(rgb: torch.Tensor, masks: torch.Tensor, local_masks: torch.Tensor | None, t: RenderTensors, *,
           seed: int | None = None) -> torch.Tensor:
    """Render colour photos to black and white (differentiable w.r.t. ``t``).

    Args:
        rgb: ``(B, 3, H, W)`` display sRGB in [0, 1].
        masks: ``(B, 5, h, w)`` soft semantic masks (`SEMANTIC_REGIONS` order) at any resolution;
            upsampled bilinearly.
        local_masks: ``(B, L, h, w)`` masks of ``t``'s L local adjustments, or None to compute them
            from their geometry (differentiable; what the learner uses).
        t: the parameters (`params_to_tensors`); cast to ``rgb``'s device and dtype.
        seed: grain seed overriding ``t``'s.

    Returns:
        ``(B, 1, H, W)`` grey, or ``(B, 3, H, W)`` when split toning is on; display sRGB in [0, 1].

    Raises:
        ShapeError: for inputs of the wrong shape.

    Example:
        >>> from silverprint.params import Params
        >>> from silverprint.render import params_to_tensors
        >>> out = render(torch.rand(1, 3, 8, 8), torch.ones(1, 5, 4, 4) / 5, None, params_to_tensors(Params()))
        >>> tuple(out.shape)
        (1, 1, 8, 8)
    """
    masks, local_masks = _check_inputs(rgb, masks, local_masks, t)
    if t.device != rgb.device or t.dtype != rgb.dtype:
        t = t.to(rgb.device, rgb.dtype)
    masks = masks.to(rgb.device, rgb.dtype)
    if local_masks is not None:
        local_masks = local_masks.to(rgb.device, rgb.dtype)
    prep = prepare(t, seed)
    b, _, height, width = rgb.shape
    masks = normalize_masks(masks).expand(b, -1, -1, -1)
    if local_masks is not None:
        local_masks = local_masks.expand(b, -1, -1, -1)
    small = None
    if prep.structure or (prep.needs_colours and local_masks is None):
        small = spatial.block_mean(rgb, spatial.pool_factor(height, width, BLUR_SIZE))
    refs = colour_refs(prep, small) if local_masks is None else {}
    feat = features(rgb, need_hue=prep.needs_hue, need_rgb=prep.needs_colours, prep=prep)
    ids = list(range(len(SEMANTIC_REGIONS)))
    m = spatial.resize_rows(masks, height, width)
    local = local_mask_rows(prep, local_masks, rgb, refs, height, width, 0, height, b)
    d, k = shade(feat, m, ids, local, prep)
    base = None
    if prep.structure:
        base = spatial.resize_rows(blur_base(small, masks, local_masks, refs, prep), height, width)
    return finish(d, k, base, prep, height, width, 0, height)
