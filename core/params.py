"""The slider vocabulary: every parameter a style, a user or the learner can set.

This module is the contract between the renderer, styles, learning, the CLI, the service and the
GUI. It holds names, ranges, defaults and one-line semantics; the math lives in `render`.

Layout of a parameter set (`Params`):
- ``regions``: one slider dict per *semantic* region (sky, person, skin, vegetation, other). Their
  soft masks sum to 1, so each pixel is a mix of the region renderings.
- ``global_``: the base channel mix, a global tone curve, grain, vignette and split toning.
- ``local``: geometric local adjustments (graduated filter, radial filter, control point), each with
  its geometry and its own region sliders, applied on top of the semantic blend. A graduated or
  radial filter may carry a colour range (``color_range`` picked at ``pick_x``, ``pick_y``): the
  effect then only reaches colours close to the picked one.

Slider semantics (photographer's units; -100..100 where Lightroom / Silver Efex use it):
- hue bands ``red .. magenta``: brighten (+) or darken (-) pixels of that hue, scaled by their
  colourfulness; +-100 is +-2 EV for a fully colourful pixel (a colour filter on the camera: a deep
  red filter holds back about 3 stops of blue sky).
  Hue and colourfulness are CIE LCh(ab) hue and chroma (``1 - (1 - C/128)**2``), so a dark,
  nearly neutral pixel (large HSV saturation, small chroma) is left alone, as a real filter would.
- ``filter_balance`` (global): where in the tonal range the colour filter acts. The hue-band offset
  of a pixel is multiplied by ``1 + 4·balance/100·(d - 1/2)`` with ``d`` its base grey (display
  value): +50 gives no filter on black and twice the filter on white, -50 the reverse. This is
  what per-tone saturation (colour balance in the shadows / highlights before conversion) becomes
  in black and white.
- ``red_hue .. magenta_hue`` (global): move a band's centre along the hue circle, whole degrees,
  -12..12 (so neighbouring centres never cross). The named centres suit most edits; a learned style
  moves them where the user's colour filter turns (darktable's colour zones nodes, a Lightroom mix
  made in another hue space), which a fixed set of centres can only approximate.
- ``exposure``: EV, -4..4, applied in linear light before the tone curve.
- ``contrast``: S-curve around middle grey; ``highlights`` / ``shadows``: recover or open the upper /
  lower tones; ``whites`` / ``blacks``: move the end points.
- ``structure``: local contrast (detail-scale unsharp mask), negative softens.
"""
from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import UnknownSliderError

SEMANTIC_REGIONS: tuple[str, ...] = ("sky", "person", "skin", "vegetation", "other")
HUE_BANDS: tuple[str, ...] = ("red", "orange", "yellow", "green", "aqua", "blue", "purple", "magenta")
#: Band centres in degrees of CIE LCh(ab) hue (D65, of the sRGB value), whole degrees, increasing from
#: red; bands interpolate linearly between neighbouring centres around the circle. Where sRGB colours
#: fall: red 40, skin ~50, orange 60, yellow 103, foliage ~125, green 136, cyan 196, blue sky ~275,
#: blue 306, purple ~320, magenta 328, pink ~0.
HUE_CENTRES: tuple[float, ...] = (30.0, 60.0, 100.0, 135.0, 195.0, 270.0, 310.0, 340.0)
#: Chroma at which a pixel counts as fully colourful for the hue bands (CIE ab units).
FULL_CHROMA = 128.0
TONE_SLIDERS: tuple[str, ...] = ("exposure", "contrast", "highlights", "shadows", "whites", "blacks",
                                 "structure")
#: Order of the per-region parameter vector used by the renderer and the learner.
REGION_SLIDERS: tuple[str, ...] = HUE_BANDS + TONE_SLIDERS
#: Number of knots of the global tone curve (outputs at inputs i / (CURVE_KNOTS - 1), display space).
#: 33 (one every 8/255): film toes are steep within the first 16/255, which 17 knots cannot follow.
CURVE_KNOTS = 33
#: Knot count of curves written before 33 (read and resampled by `Params.set`).
LEGACY_CURVE_KNOTS = 17
HUE_BAND_EV = 2.0  # EV at +-100 on a fully colourful pixel
#: Largest move of a band centre (``<band>_hue``), degrees: under half the closest pair of centres.
HUE_SHIFT_MAX = 12.0
HUE_SHIFT_NAMES: tuple[str, ...] = tuple(f"{b}_hue" for b in HUE_BANDS)
assert 2 * HUE_SHIFT_MAX < min((HUE_CENTRES[(i + 1) % len(HUE_CENTRES)] - c) % 360.0
                               for i, c in enumerate(HUE_CENTRES))


@dataclass(frozen=True)
class Slider:
    """One scalar parameter: range, default and what it means."""

    name: str
    lo: float
    hi: float
    default: float
    doc: str


def _hue_slider(name: str) -> Slider:
    return Slider(name, -100, 100, 0, f"brighten (+) / darken (-) {name} tones, by colourfulness")


REGION_SLIDER_SPECS: dict[str, Slider] = {
    **{b: _hue_slider(b) for b in HUE_BANDS},
    "exposure": Slider("exposure", -4, 4, 0, "EV in linear light"),
    "contrast": Slider("contrast", -100, 100, 0, "S-curve around middle grey"),
    "highlights": Slider("highlights", -100, 100, 0, "upper tones: - recovers, + brightens"),
    "shadows": Slider("shadows", -100, 100, 0, "lower tones: + opens, - deepens"),
    "whites": Slider("whites", -100, 100, 0, "white point"),
    "blacks": Slider("blacks", -100, 100, 0, "black point"),
    "structure": Slider("structure", -100, 100, 0, "local contrast; negative softens"),
}

GLOBAL_SLIDER_SPECS: dict[str, Slider] = {
    "mix_red": Slider("mix_red", -200, 300, 21.26, "weight of red in the base grey, % (linear light)"),
    "mix_green": Slider("mix_green", -200, 300, 71.52, "weight of green in the base grey, %"),
    "mix_blue": Slider("mix_blue", -200, 300, 7.22, "weight of blue in the base grey, %"),
    "grain": Slider("grain", 0, 100, 0, "film grain strength (strongest in the mid-tones)"),
    "grain_size": Slider("grain_size", 0, 100, 25, "grain size; 0 = one pixel"),
    "grain_seed": Slider("grain_seed", 0, 2**31 - 1, 0, "random seed: same seed, same grain"),
    "vignette": Slider("vignette", -100, 100, 0, "- darkens, + lightens the corners"),
    "vignette_midpoint": Slider("vignette_midpoint", 0, 100, 50, "where the falloff starts"),
    "vignette_feather": Slider("vignette_feather", 0, 100, 50, "softness of the falloff"),
    "tone_highlight_hue": Slider("tone_highlight_hue", 0, 360, 40, "split toning: highlight hue"),
    "tone_highlight_sat": Slider("tone_highlight_sat", 0, 100, 0, "split toning: highlight strength"),
    "tone_shadow_hue": Slider("tone_shadow_hue", 0, 360, 220, "split toning: shadow hue"),
    "tone_shadow_sat": Slider("tone_shadow_sat", 0, 100, 0, "split toning: shadow strength"),
    "tone_balance": Slider("tone_balance", -100, 100, 0, "split toning: + favours highlights"),
    "filter_balance": Slider("filter_balance", -100, 100, 0,
                             "colour filter: + acts more on light tones, - more on dark tones"),
    **{f"{b}_hue": Slider(f"{b}_hue", -HUE_SHIFT_MAX, HUE_SHIFT_MAX, 0,
                          f"move the {b} band's centre along the hue circle, degrees")
       for b in HUE_BANDS},
}

def _colour_range(x: float, y: float) -> dict[str, Slider]:
    """A colour range for a graduated or radial filter (Lightroom's colour range mask, darktable's
    parametric mask on a drawn shape): limits the effect to colours close to one picked in the
    photo, e.g. only the blue sky under a graduated filter, not the mountain that reaches into it."""
    return {
        "color_range": Slider("color_range", 0, 100, 0,
                              "0: every colour; higher: only colours close to the picked one"),
        "pick_x": Slider("pick_x", 0, 1, x, "where the colour range's colour is picked, fraction of width"),
        "pick_y": Slider("pick_y", 0, 1, y, "where the colour range's colour is picked, fraction of height"),
    }


LOCAL_KINDS: dict[str, dict[str, Slider]] = {
    # Graduated filter: the effect is full on the side the angle points away from (angle 0 = from
    # the top edge down), fading to none across a band of width `feather` centred on (x, y).
    "graduated": {
        "x": Slider("x", 0, 1, 0.5, "centre of the transition, fraction of width"),
        "y": Slider("y", 0, 1, 0.35, "centre of the transition, fraction of height"),
        "angle": Slider("angle", -180, 180, 0, "degrees; 0 darkens from the top edge"),
        "feather": Slider("feather", 0.001, 1, 0.3, "width of the transition, fraction of height"),
        **_colour_range(0.5, 0.1),
    },
    # Radial filter: an ellipse; inside (or outside with invert=1) gets the effect.
    "radial": {
        "x": Slider("x", 0, 1, 0.5, "centre, fraction of width"),
        "y": Slider("y", 0, 1, 0.5, "centre, fraction of height"),
        "width": Slider("width", 0.01, 2, 0.5, "ellipse width, fraction of image width"),
        "height": Slider("height", 0.01, 2, 0.5, "ellipse height, fraction of image height"),
        "angle": Slider("angle", -180, 180, 0, "rotation in degrees"),
        "feather": Slider("feather", 0.001, 1, 0.5, "softness of the edge, fraction of the radius"),
        "invert": Slider("invert", 0, 1, 0, "1: the effect is outside the ellipse (burn the edges)"),
        **_colour_range(0.5, 0.5),
    },
    # Control point (Silver Efex style): a disc around (x, y), limited to colours similar to the
    # colour under the point.
    "point": {
        "x": Slider("x", 0, 1, 0.5, "fraction of width"),
        "y": Slider("y", 0, 1, 0.5, "fraction of height"),
        "radius": Slider("radius", 0.005, 1, 0.15, "fraction of the long side"),
        "similarity": Slider("similarity", 0, 100, 50, "how closely colours must match the point's"),
    },
}


def resample_curve(values: list[float], knots: int) -> list[float]:
    """The monotone cubic through ``values`` (at ``i/(n-1)``) read at ``knots`` evenly spaced inputs.

    Lets curves stored with another knot count (17 before 33) keep their shape: every old knot is
    kept where the grids share inputs, the others are read off the curve the renderer drew.
    """
    import torch

    from .render.tone import curve_lut

    table = curve_lut(torch.tensor(values, dtype=torch.float64), size=(knots - 1) * 64 + 1)
    return [float(v) for v in table[::64]]


def _identity_curve() -> list[float]:
    return [i / (CURVE_KNOTS - 1) for i in range(CURVE_KNOTS)]


def default_region() -> dict[str, float]:
    return {name: spec.default for name, spec in REGION_SLIDER_SPECS.items()}


def default_global() -> dict[str, Any]:
    values: dict[str, Any] = {name: spec.default for name, spec in GLOBAL_SLIDER_SPECS.items()}
    values["curve"] = _identity_curve()
    return values


def default_local(kind: str) -> dict[str, Any]:
    if not isinstance(kind, str) or kind not in LOCAL_KINDS:
        raise UnknownSliderError(f"unknown local adjustment kind {kind!r} (known: {', '.join(LOCAL_KINDS)})")
    values: dict[str, Any] = {"kind": kind}
    values.update({n: s.default for n, s in LOCAL_KINDS[kind].items()})
    values.update(default_region())
    return values


@dataclass
class Params:
    """A complete, explicit parameter set for one rendering."""

    regions: dict[str, dict[str, float]] = field(
        default_factory=lambda: {r: default_region() for r in SEMANTIC_REGIONS})
    global_: dict[str, Any] = field(default_factory=default_global)
    local: list[dict[str, Any]] = field(default_factory=list)

    def copy(self) -> "Params":
        return copy.deepcopy(self)

    @property
    def toned(self) -> bool:
        """True when split toning makes the output a 3-channel image."""
        return self.global_["tone_highlight_sat"] > 0 or self.global_["tone_shadow_sat"] > 0

    def to_dict(self) -> dict[str, Any]:
        return {"regions": copy.deepcopy(self.regions), "global": copy.deepcopy(self.global_),
                "local": copy.deepcopy(self.local)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Params":
        """Build from a (possibly partial) dict; missing sliders take their defaults."""
        params = cls()
        for region, sliders in (data.get("regions") or {}).items():
            for name, value in sliders.items():
                params.set(f"{region}.{name}", value)
        for name, value in (data.get("global") or {}).items():
            params.set(f"global.{name}", value)
        for item in data.get("local") or []:
            local = default_local(item.get("kind", ""))
            for name, value in item.items():
                if name != "kind":
                    _check_local_name(local["kind"], name)
                    local[name] = _clamp_check(_spec_for_local(local["kind"], name), value)
            params.local.append(local)
        return params

    def set(self, key: str, value: Any) -> None:
        """Set one slider by ``REGION.PARAM``.

        REGION is a semantic region, ``global``, ``all`` (every semantic region) or ``localN``
        (the N-th local adjustment). Raises UnknownSliderError naming what is wrong.
        """
        if not isinstance(key, str) or "." not in key:
            raise UnknownSliderError(f"slider {key!r} must look like REGION.PARAM (e.g. sky.exposure)")
        region, name = key.split(".", 1)
        if region == "global":
            if name == "curve":
                self.global_["curve"] = parse_curve(value)
                return
            if name not in GLOBAL_SLIDER_SPECS:
                raise UnknownSliderError(_unknown(name, "global", GLOBAL_SLIDER_SPECS))
            self.global_[name] = _clamp_check(GLOBAL_SLIDER_SPECS[name], value)
        elif region in SEMANTIC_REGIONS or region == "all":
            if name not in REGION_SLIDER_SPECS:
                raise UnknownSliderError(_unknown(name, region, REGION_SLIDER_SPECS))
            targets = SEMANTIC_REGIONS if region == "all" else (region,)
            for target in targets:
                self.regions[target][name] = _clamp_check(REGION_SLIDER_SPECS[name], value)
        elif region.startswith("local") and (index := parse_index(region[5:])) is not None:
            if index >= len(self.local):
                raise UnknownSliderError(f"{region}: there are only {len(self.local)} local adjustments")
            local = self.local[index]
            _check_local_name(local["kind"], name)
            local[name] = _clamp_check(_spec_for_local(local["kind"], name), value)
        else:
            known = ", ".join(SEMANTIC_REGIONS + ("all", "global", "localN"))
            raise UnknownSliderError(f"unknown region {region!r} in {key!r} (known: {known})")


def parse_index(text: str) -> int | None:
    """N of ``localN`` or ``global.curve.N``: ASCII digits, at most 9 (``str.isdigit`` also passes
    "²", and a 5,000-digit N fails inside ``int``); None when `text` is not such an index."""
    if 0 < len(text) <= 9 and text.isascii() and text.isdigit():
        return int(text)
    return None


def _unknown(name: str, region: str, specs: dict[str, Slider]) -> str:
    return f"unknown slider {name!r} for {region} (known: {', '.join(specs)})"


def _spec_for_local(kind: str, name: str) -> Slider:
    return LOCAL_KINDS[kind].get(name) or REGION_SLIDER_SPECS[name]


def _check_local_name(kind: str, name: str) -> None:
    if name not in LOCAL_KINDS[kind] and name not in REGION_SLIDER_SPECS:
        known = ", ".join(list(LOCAL_KINDS[kind]) + list(REGION_SLIDER_SPECS))
        raise UnknownSliderError(f"unknown parameter {name!r} for a {kind} adjustment (known: {known})")


#: A number as text: what `float` reads, without digit separators (``1_000``); ``nan`` and ``inf``
#: are read so that the message can say they are not finite.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:nan|inf|infinity)",
                     re.IGNORECASE)
#: Characters of one number as text (Python's repr of a float has at most 24).
_NUMBER_CHARS = 64
_CURVE_FORMS = (f"{CURVE_KNOTS} numbers in 0..1, as [v0, v1, ..., v{CURVE_KNOTS - 1}] or "
                f"v0,v1,...,v{CURVE_KNOTS - 1}")


def parse_number(name: str, value: Any) -> float:
    """One slider value as a finite float: a real number (not a bool), or text that is one number.

    Anything else (a list, ``"[1]"``, ``"nan"``, a 5,000-digit string) raises UnknownSliderError
    naming the slider, so the CLI prints one line and the service answers 400.
    """
    if isinstance(value, bool):
        raise UnknownSliderError(f"{name}: {value!r} is not a number")
    if isinstance(value, str):
        text = value.strip()
        if len(text) > _NUMBER_CHARS or not _NUMBER.fullmatch(text):
            raise UnknownSliderError(f"{name}: {_shown(value)} is not a number")
        value = text
    elif not isinstance(value, (int, float, np.integer, np.floating)):
        raise UnknownSliderError(f"{name}: a {type(value).__name__} is not a number")
    try:
        number = float(value)
    except (OverflowError, ValueError):  # an int beyond float range
        number = math.inf
    if not math.isfinite(number):
        raise UnknownSliderError(f"{name}: {_shown(value)} is not a finite number")
    return number


def _shown(value: Any) -> str:
    """A value as an error message quotes it, in at most about 40 characters (``repr`` of a
    5,000-digit int would itself raise)."""
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:40] + "…")
    if isinstance(value, int) and value.bit_length() > 128:
        return f"an integer of about {round(value.bit_length() * math.log10(2))} digits"
    return repr(value)[:40]


def parse_curve(value: Any) -> list[float]:
    """The tone curve's knots from a list (a style, the GUI) or text (``--set``, the service).

    Text is ``[v0, ..., v32]`` or ``v0,...,v32``; every knot must be a number in 0..1. A 17-knot
    curve (styles written before 33 knots) is resampled. Raises UnknownSliderError otherwise: a
    single number or a string of digits is never read as knots one character each.
    """
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("[") and text.endswith("]"):
            text = text[1:-1]
        if "," not in text:
            raise UnknownSliderError(f"global.curve takes {_CURVE_FORMS}; got {value[:40]!r}")
        items: list[Any] = text.split(",", CURVE_KNOTS)
    elif isinstance(value, (list, tuple, np.ndarray)):
        items = list(value) if not isinstance(value, np.ndarray) else value.reshape(-1).tolist()
    else:
        raise UnknownSliderError(f"global.curve takes {_CURVE_FORMS}; got a {type(value).__name__}")
    if len(items) not in (CURVE_KNOTS, LEGACY_CURVE_KNOTS):
        got = f"more than {CURVE_KNOTS}" if len(items) > CURVE_KNOTS else str(len(items))
        raise UnknownSliderError(f"global.curve needs {CURVE_KNOTS} values, got {got}")
    curve = [parse_number(f"global.curve knot {i}", v) for i, v in enumerate(items)]
    outside = [i for i, v in enumerate(curve) if not 0.0 <= v <= 1.0]
    if outside:
        raise UnknownSliderError(f"global.curve knot {outside[0]} is {curve[outside[0]]:g}, outside 0..1")
    if len(curve) == LEGACY_CURVE_KNOTS:
        curve = [min(max(v, 0.0), 1.0) for v in resample_curve(curve, CURVE_KNOTS)]
    return curve


def _clamp_check(spec: Slider, value: Any) -> float:
    """Parse a value and reject it when outside the slider's range (no silent clamping)."""
    number = parse_number(spec.name, value)
    if not spec.lo <= number <= spec.hi:
        raise UnknownSliderError(f"{spec.name}={_shown(value)} is outside {spec.lo:g}..{spec.hi:g}")
    return number


def parse_override(text: str) -> tuple[str, str]:
    """Split one ``REGION.PARAM=VALUE`` from the command line; `Params.set` parses VALUE by the
    slider's type (a number, or the curve's knots)."""
    if not isinstance(text, str) or "=" not in text:
        raise UnknownSliderError(f"--set {text!r}: expected REGION.PARAM=VALUE")
    key, value = text.split("=", 1)
    return key.strip(), value.strip()


def parse_value(key: str, value: Any) -> float | list[float]:
    """An override's value in its slider's type: the curve's knots for ``global.curve``, else one
    number (range checks are `Params.set`'s). For front ends that keep overrides as data (the
    service's bridge sessions) rather than text."""
    return parse_curve(value) if key == "global.curve" else parse_number(key, value)


def apply_overrides(params: Params, overrides: list[str] | dict[str, Any]) -> Params:
    """Return a copy of ``params`` with ``--set`` style overrides applied (validated)."""
    result = params.copy()
    items = overrides.items() if isinstance(overrides, dict) else map(parse_override, overrides)
    for key, value in items:
        result.set(key, value)
    return result
