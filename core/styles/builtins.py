"""The built-in styles, defined in readable Python; the JSON files in resources/styles/ are made here.

Run ``python -m silverprint.styles.builtins [--check]`` to (re)write those files (or to check that
they match, as the tests do). Each style has a one-line, photographically motivated description and
its content-adaptive rules are written out below, so a photographer can read what a style does.

All built-ins share one small embedding for their subject proxies, four interpretable axes computed
from the image descriptors: *people* (faces, skin, person area), *nature* (sky and vegetation area),
*built* (fine detail without vegetation: architecture, streets) and *dark* (a low image key: night).
The subjects sit at readable points on those axes; an ambiguous photo falls to the style proxy at
the origin ("general") and gets the base sliders only.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any, Callable

from ..params import CURVE_KNOTS, Params
from .style import Embedding, LinearDecoder, Proxies, Style, style_from_dict, style_to_json

CREATED = "2026-11-26T00:00:00+00:00"  # fixed, so regenerating the files is reproducible

#: Shared embedding of the built-ins: (input, center, scale) then the 4 axes as weights on them.
_EMB_INPUTS = [("face_count", 0.0, 1.0), ("skin_area", 0.0, 0.05), ("person_area", 0.0, 0.3),
               ("sky_area", 0.0, 0.25), ("vegetation_area", 0.0, 0.3), ("detail", 0.03, 0.02),
               ("key_ev", -1.0, 1.5)]
_EMB_AXES = {
    #              face  skin person  sky   veg  detail  key
    "people":    [0.25, 0.5,  0.25,  0.0,  0.0,  0.0,   0.0],
    "nature":    [0.0,  0.0,  0.0,   0.6,  0.6,  0.0,   0.0],
    "built":     [0.0,  0.0,  0.0,   0.0, -0.5,  1.0,   0.0],
    "dark":      [0.0,  0.0,  0.0,   0.0,  0.0,  0.0,  -1.0],
}
#: Subject proxies on (people, nature, built, dark).
_SUBJECTS = {
    "portrait": [2.0, 0.0, 0.0, 0.0],
    "landscape": [0.0, 2.0, 0.0, 0.0],
    "architecture": [0.0, 0.5, 2.0, 0.0],
    "street": [1.0, 0.0, 1.5, 0.0],
    "night": [0.0, 0.0, 0.0, 2.0],
}


def shared_proxies() -> Proxies:
    emb = Embedding(inputs=[n for n, _, _ in _EMB_INPUTS], center=[c for _, c, _ in _EMB_INPUTS],
                    scale=[s for _, _, s in _EMB_INPUTS], matrix=[list(r) for r in _EMB_AXES.values()])
    return Proxies(embedding=emb, style=[0.0] * len(_EMB_AXES),
                   subjects={k: list(v) for k, v in _SUBJECTS.items()}, temperature=1.0)


def s_curve(strength: float = 0.0, lift: float = 0.0, drop: float = 0.0, gamma: float = 1.0) -> list[float]:
    """Tone curve knots: an S of `strength` (toe/shoulder flattening), raised blacks (`lift`),
    lowered whites (`drop`) and a mid-tone `gamma` (< 1 brightens)."""
    knots = []
    for i in range(CURVE_KNOTS):
        x = (i / (CURVE_KNOTS - 1)) ** gamma
        y = x - strength * math.sin(2 * math.pi * x) / (2 * math.pi)
        knots.append(round(lift + (1 - lift - drop) * y, 5))
    return knots


def _params(all_: dict[str, float] | None = None, glob: dict[str, Any] | None = None,
            local: list[dict[str, Any]] | None = None, **regions: dict[str, float]) -> Params:
    """Params from `all` sliders, per-region *additions* on top of them, globals and locals."""
    p = Params()
    for key, value in (all_ or {}).items():
        p.set(f"all.{key}", value)
    for region, sliders in regions.items():
        for key, value in sliders.items():
            p.set(f"{region}.{key}", round(p.regions[region][key] + value, 6))
    for key, value in (glob or {}).items():
        p.set(f"global.{key}", value)
    if local:
        p = Params.from_dict({**p.to_dict(), "local": local})
    return p


def _decoder(rules: list[tuple[str, dict[str, float], float, tuple[float, float]]],
             center: dict[str, float] | None = None) -> LinearDecoder:
    """rules: (output, {input: weight}, bias, (lo, hi)); inputs are centred by `center`."""
    inputs: list[str] = []
    for _, weights, _, _ in rules:
        inputs += [n for n in weights if n not in inputs]
    center = center or {}
    return LinearDecoder(
        inputs=inputs, outputs=[r[0] for r in rules],
        weights=[[w.get(n, 0.0) for n in inputs] for _, w, _, _ in rules],
        bias=[r[2] for r in rules], center=[center.get(n, 0.0) for n in inputs],
        clip=[list(r[3]) for r in rules])


def _style(name: str, description: str, base: Params, subjects: dict[str, dict[str, Any]] | None = None,
           decoder: LinearDecoder | None = None) -> Style:
    return Style(name=name, description=description, base=base, proxies=shared_proxies(),
                 subjects=subjects or {}, decoder=decoder,
                 provenance={"source": "builtin", "pairs": 0, "created": CREATED, "metrics": {}},
                 builtin=True)


# --- the styles -------------------------------------------------------------------------------

def neutral() -> Style:
    return _style("neutral", "Plain luminance: the scene's own tones, no interpretation (the reference).",
                  Params())


def silver() -> Style:
    # A classic panchromatic print through a light yellow filter: skies a touch deeper, skin a
    # touch brighter, a gentle print contrast. Portraits get smoother skin; landscapes deeper sky.
    base = _params(
        {"red": 10, "orange": 15, "yellow": 10, "aqua": -15, "blue": -30, "contrast": 20,
         "highlights": -15, "shadows": 10, "whites": 8, "blacks": -8, "structure": 15},
        skin={"orange": 10, "structure": -10})
    subjects = {
        "portrait": {"skin.structure": -15, "skin.exposure": 0.1, "all.contrast": -5},
        "landscape": {"sky.blue": -15, "sky.exposure": -0.1, "vegetation.structure": 10},
        "architecture": {"all.structure": 10},
        "night": {"all.shadows": 10, "all.blacks": 5},
    }
    # Keep mid-tones where a printer would put them: a mild exposure correction by the median.
    decoder = _decoder([("all.exposure", {"lum_p50": -0.6}, 0.0, (-0.25, 0.25))], {"lum_p50": 0.45})
    return _style("silver", "Classic panchromatic print: gently deepened skies, luminous skin, "
                  "crisp mid-tone contrast (the default).", base, subjects, decoder)


def red_filter_landscape() -> Style:
    # A red filter on the lens: blue sky goes near black, white clouds pop, foliage and stone go
    # bright; highlights are held back so that yellow and red surfaces keep their texture. A grey (unsaturated) sky is untouched by any filter, so it is darkened by exposure
    # instead, in proportion to how bright it is (at most 0.5 EV: a mask-based darkening of a
    # white sky beyond that shows the mask edge around the subject); a graduated filter deepens
    # the top of the frame only as strongly as there is sky.
    base = _params(
        {"red": 50, "orange": 35, "yellow": 15, "green": 10, "aqua": -60, "blue": -90, "purple": -40,
         "contrast": 25, "highlights": -30, "whites": -5, "structure": 20},
        sky={"blue": -10, "aqua": -30, "contrast": 15, "highlights": 20, "structure": 15},
        vegetation={"yellow": 45, "green": 40},
        skin={"red": -30, "orange": -25, "structure": -15},
        glob={"mix_red": 60, "mix_green": 35, "mix_blue": 5},
        local=[{"kind": "graduated", "y": 0.3, "feather": 0.35}])
    decoder = _decoder([
        ("sky.exposure", {"sky_lum": -0.8, "sky_sat": 0.6}, -0.2, (-0.5, 0.0)),
        ("local0.exposure", {"sky_area": -1.8}, 0.0, (-0.6, 0.0)),
    ], {"sky_lum": 0.55, "sky_sat": 0.3})
    subjects = {"portrait": {"skin.exposure": 0.1}, "night": {"all.contrast": -10}}
    return _style("red-filter-landscape", "Red-filter landscape: dark dramatic skies, bright "
                  "clouds and foliage, strong contrast.", base, subjects, decoder)


def luminous_portrait() -> Style:
    # Skin is mostly orange/red hue: lifting those bands and lowering local contrast on skin gives
    # the bright, smooth skin of a portrait print. Hair and clothes keep their texture. A face
    # darker than the photo's own median (backlight) is lifted toward it.
    base = _params(
        {"red": 25, "orange": 30, "yellow": 10, "blue": -10, "contrast": 5, "highlights": -15,
         "shadows": 15, "structure": -5},
        skin={"orange": 30, "red": 20, "exposure": 0.25, "structure": -35, "contrast": -15},
        person={"structure": 10},
        glob={"vignette": -25, "vignette_midpoint": 40, "vignette_feather": 70})
    decoder = _decoder([("skin.exposure", {"lum_p50": 0.8, "skin_lum": -0.8}, 0.0, (0.0, 0.5))])
    subjects = {"landscape": {"sky.blue": -10}, "night": {"all.shadows": 10}}
    return _style("luminous-portrait", "Luminous portrait: bright, smooth skin, soft contrast, "
                  "gently darkened edges.", base, subjects, decoder)


def gritty_street() -> Style:
    # Hard contrast and crunchy detail; faces keep some light so they never go muddy, and a
    # dark scene gets its shadows opened so the grit does not turn into flat black.
    base = _params(
        {"red": 5, "blue": -15, "contrast": 45, "structure": 45, "blacks": -30, "whites": 20,
         "shadows": -10},
        skin={"exposure": 0.1, "structure": -15, "blacks": 25, "shadows": 20, "whites": -20,
              "highlights": -25},
        glob={"grain": 35, "grain_size": 25, "vignette": -20, "grain_seed": 7})
    decoder = _decoder([("all.shadows", {"lum_p25": -80.0}, 0.0, (0.0, 30.0))], {"lum_p25": 0.25})
    subjects = {"night": {"all.blacks": 10}}
    return _style("gritty-street", "Gritty street: hard contrast, deep blacks, crunchy detail and "
                  "visible grain.", base, subjects, decoder)


def noir() -> Style:
    # Low key: the frame goes dark, blacks are deep, faces are lifted out of the shadow as by a
    # key light. Bright photos are pulled down more than already dark ones, and a face that is
    # itself dark gets more of the key light (up to 0.4 EV), so nothing is crushed.
    base = _params(
        {"red": 10, "blue": -10, "exposure": -0.5, "contrast": 35, "blacks": -35, "shadows": -30,
         "highlights": 10, "whites": 10, "structure": 15},
        skin={"exposure": 0.45, "shadows": 35, "blacks": 25, "structure": -20},
        glob={"vignette": -45, "vignette_midpoint": 35, "vignette_feather": 60, "grain": 12,
              "grain_seed": 3})
    decoder = _decoder([("all.exposure", {"lum_mean": -1.5}, 0.0, (-0.5, 0.4)),
                        ("skin.exposure", {"skin_lum": -2.0}, 0.0, (0.0, 0.4))],
                       {"lum_mean": 0.4, "skin_lum": 0.35})
    subjects = {"night": {"all.exposure": 0.3, "all.shadows": 15}}
    return _style("noir", "Low-key noir: dark and moody, deep blacks, faces lifted from the "
                  "shadow, heavy vignette.", base, subjects, decoder)


def high_key() -> Style:
    # Bright and airy; exposure is set by the photo's mean brightness and by how close its
    # highlights already are to white, so a dark photo is lifted more than a bright one and a
    # bright backdrop is not blown; highlights are held back to keep their detail, and a light
    # face is lifted less than the rest so that it keeps its modelling.
    base = _params(
        {"exposure": 0.5, "contrast": -10, "highlights": -40, "shadows": 35, "blacks": 5,
         "whites": 10, "structure": -5},
        skin={"structure": -15, "highlights": -25})
    decoder = _decoder([("all.exposure", {"lum_mean": -1.5, "lum_p95": -1.5}, 0.0, (-0.6, 0.4)),
                        ("skin.exposure", {"skin_lum": -1.5}, 0.0, (-0.5, 0.0))],
                       {"lum_mean": 0.45, "lum_p95": 0.85, "skin_lum": 0.3})
    return _style("high-key", "High-key: bright and airy, low contrast, clean whites and soft open "
                  "shadows.", base, {"portrait": {"skin.exposure": 0.1}}, decoder)


def tri_x_like() -> Style:
    # A fast panchromatic film developed for punch: slightly dark reds, a steep mid-tone curve
    # with a firm toe, inky blacks and bold grain. Skin keeps its shadow detail (a printer would
    # dodge a face rather than let the toe swallow it).
    base = _params(
        {"contrast": 15, "blacks": -15, "structure": 15, "highlights": -5},
        skin={"shadows": 25, "blacks": 15},
        glob={"mix_red": 28, "mix_green": 60, "mix_blue": 12, "curve": s_curve(0.45),
              "grain": 40, "grain_size": 30, "grain_seed": 400})
    return _style("tri-x-like", "Tri-X-like film: punchy mid-tones, inky blacks, slightly dark "
                  "reds, bold grain.", base)


def hp5_like() -> Style:
    # A softer, wider-latitude film: long gentle toe, open shadows, fine even grain.
    base = _params(
        {"contrast": -5, "shadows": 25, "highlights": -15, "structure": 5},
        glob={"mix_red": 30, "mix_green": 60, "mix_blue": 10,
              "curve": s_curve(0.3, lift=0.015, gamma=0.95), "grain": 30, "grain_size": 45,
              "grain_seed": 5})
    return _style("hp5-like", "HP5-like film: soft and wide tonal range, open shadows, fine even "
                  "grain.", base)


def cinematic() -> Style:
    # For video: a matte toe (lifted blacks) and a soft shoulder, mild mid contrast, no grain (no
    # frame-to-frame grain flicker) and only a very mild key compensation so exposure is stable.
    base = _params(
        {"exposure": -0.15, "contrast": 20, "highlights": -30, "shadows": 10, "red": 10,
         "orange": 10, "blue": -10},
        skin={"structure": -10},
        glob={"curve": s_curve(0.3, lift=0.06, drop=0.04), "vignette": -20,
              "vignette_midpoint": 45, "vignette_feather": 80})
    decoder = _decoder([("all.exposure", {"lum_mean": -0.8}, 0.0, (-0.3, 0.3))], {"lum_mean": 0.42})
    return _style("cinematic", "Cinematic (video-safe): soft contrast, matte blacks, gentle "
                  "highlight roll-off, no grain.", base, {}, decoder)


def selenium() -> Style:
    # A selenium-toned fibre print: deeper blacks with a cool purple-brown cast in the shadows,
    # highlights left almost neutral.
    base = _params(
        {"contrast": 15, "blacks": -15, "structure": 10, "orange": 10, "blue": -10},
        glob={"tone_shadow_hue": 335, "tone_shadow_sat": 14, "tone_highlight_hue": 40,
              "tone_highlight_sat": 4, "tone_balance": -30})
    return _style("selenium", "Selenium-toned print: rich blacks with a cool purple-brown cast in "
                  "the shadows (toned).", base)


def sepia() -> Style:
    # A warm sepia print: brown throughout, slightly faded blacks, gentle vignette.
    base = _params(
        {"contrast": 5, "blacks": 10, "highlights": -10, "orange": 10},
        glob={"tone_shadow_hue": 30, "tone_shadow_sat": 35, "tone_highlight_hue": 40,
              "tone_highlight_sat": 25, "vignette": -20, "curve": s_curve(0.1, lift=0.03)})
    return _style("sepia", "Sepia print: warm brown tones, softly faded blacks, gentle vignette "
                  "(toned).", base)


BUILTINS: tuple[Callable[[], Style], ...] = (
    neutral, silver, red_filter_landscape, luminous_portrait, gritty_street, noir, high_key,
    tri_x_like, hp5_like, cinematic, selenium, sepia)


def all_builtins() -> list[Style]:
    return [make() for make in BUILTINS]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check the files are up to date")
    parser.add_argument("--dir", type=Path, default=None, help="target folder (default: the package's)")
    args = parser.parse_args(argv)
    from ..paths import builtin_styles_dir
    from .style import write_atomic

    folder = args.dir or builtin_styles_dir()
    stale = []
    for style in all_builtins():
        text = style_to_json(style)
        style_from_dict(style.to_dict(), style.name)  # validates
        path = folder / f"{style.name}.json"
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(path)
        if not args.check:
            write_atomic(path, text)
    for path in stale:
        print(("stale: " if args.check else "wrote: ") + str(path))
    return 1 if args.check and stale else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
