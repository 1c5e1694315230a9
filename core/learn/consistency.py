"""Pairs that contradict the rest of a portfolio: reported, not silently averaged into the style.

After a style is learned (or updated by `watch`), every pair of the folder is rendered with the
style as it decodes for that photo and compared with the photographer's edit. A pair whose error is
far outside the others' is named, with a plain sentence saying how its edit differs:
"kodim05: your edit is much darker than your other edits of similar photos".

Errors are compared by *what* differs, signed, not by how large they are. A contradicting pair
is among the training pairs too and pulls the style toward itself, so every pair's error grows;
the error sizes then no longer single it out (measured: one edit 1.5 EV darker among five
training pairs leaves it at 9 times the median error but a robust z of only 1.7 on log error).
What does single it out is direction: the other pairs are all a little too dark under the pulled
style, it alone much too bright. So each pair's difference from what the style renders for it
is split into three signed measures, as SSIM splits similarity:

- brightness: mean of the edit minus mean of the rendering (display units);
- contrast: log of the ratio of their standard deviations;
- structure: 1 - their correlation (2 for a negative).

A pair is named when all of these hold:

- on one measure, a robust z-score beyond `Z_LIMIT` = 3.5: the modified z-score of Iglewicz and
  Hoaglin, ``0.6745 (x - median) / MAD``, and their recommended outlier bound. Median and MAD,
  unlike mean and standard deviation, are not dragged along by the pair being judged. The MAD has
  a floor per measure (`MAD_FLOOR`, about what JPEG rounding and a quick fit leave), so that a
  portfolio reproduced almost exactly does not make a tiny difference look extreme;
- on that measure, a distance from the median pair of at least `MIN_EFFECT` (a difference a
  photographer would call one, whatever the spread of the others);
- its error is at least `MIN_RATIO` = 2 times the median pair's (3 dB worse) and at least
  `MIN_MSE` = 1e-3 (the style renders it at 30 dB or worse, plainly visible on a print): a film
  preset reproduced at 44 dB instead of 48 dB contradicts nothing;
- there are at least `MIN_PAIRS` = 5 pairs: with fewer, "the rest" is no reference.

The measure with the largest z-score names the reason ("much darker", "much flatter", "inverts
the tones"); two recipes of about equal weight in one folder are not contradictions (the MAD
spans both), they are what subjects and `--split` are for.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from . import fit

Z_LIMIT = 3.5
MIN_RATIO = 2.0
MIN_MSE = 1e-3
MIN_PAIRS = 5
MAD_FLOOR = {"brightness": 0.01, "contrast": 0.03, "structure": 0.01}
#: How far from the median pair a measure must also be, whatever the spread: about 0.6 EV at
#: middle grey, half again or two thirds of the contrast, a correlation of 0.8 or less. A
#: content-adaptive photographer's per-photo moves that the style does not explain stay below
#: (adaptive-a, 24 pairs: at most 0.07, log 0.26 and 0.07 from the median), the contradictions
#: the tests make (an edit 1.5 EV darker than usual, a negative) are well above.
MIN_EFFECT = {"brightness": 0.1, "contrast": math.log(1.5), "structure": 0.2}
#: Mean difference (display units) from which an edit is "much" darker or brighter (about 1 EV
#: at middle grey); contrast ratio from which it is "much" flatter or harsher.
MUCH_BRIGHTNESS = 0.1
MUCH_CONTRAST = 1.5


@dataclass
class PairError:
    """One pair's error under the style, with what splits it (display units)."""

    name: str
    mse: float
    brightness: float  # edit mean - rendering mean
    spread_edit: float  # standard deviation of the edit
    spread_rendering: float  # ... and of the rendering
    correlation: float

    def measures(self) -> dict[str, float]:
        """The signed measures compared across pairs (see the module docstring)."""
        return {"brightness": self.brightness,
                "contrast": math.log(max(self.spread_edit, 1e-4) / max(self.spread_rendering, 1e-4)),
                "structure": 1.0 - self.correlation}


def why(measure: str, error: PairError, sign: float) -> str:
    """The reason a pair stands out, as a photographer would say it."""
    rest = "your other edits of similar photos"
    if error.correlation < 0:
        return f"your edit inverts the tones (light becomes dark) compared with {rest}"
    if measure == "brightness":
        much = "much " if abs(error.brightness) >= MUCH_BRIGHTNESS else ""
        return f"your edit is {much}{'darker' if sign < 0 else 'brighter'} than {rest}"
    if measure == "contrast":
        ratio = error.spread_edit / max(error.spread_rendering, 1e-6)
        much = "much " if max(ratio, 1 / max(ratio, 1e-6)) >= MUCH_CONTRAST else ""
        return f"your edit is {much}{'flatter' if sign < 0 else 'more contrasty'} than {rest}"
    return (f"your edit places the tones differently from {rest} (another colour filter, or "
            f"dodging and burning of its own)")


#: Long side of the previews compared (means, spreads and a correlation need few pixels; the
#: check runs after every `watch` update, where seconds count).
SIDE = fit.LOCAL_SIDE


def pair_errors(style, data: list[fit.FitData]) -> list[PairError]:
    """Each pair rendered with ``style`` as decoded for its own descriptors, against its edit, on
    a small preview."""
    from ..styles import decode

    out = []
    with torch.no_grad():
        for item in data:
            params = decode(style, item.descriptors)
            batch = fit._batches([fit.downsample(item, SIDE)])[0]
            rendering = fit._render(fit._tensors(params), batch).reshape(-1).double()
            edit = batch.edit.reshape(-1).double()
            mse = float(((rendering - edit) ** 2).mean())
            sr, se = float(rendering.std(unbiased=False)), float(edit.std(unbiased=False))
            r = 1.0
            if sr > 1e-6 and se > 1e-6:
                r = float(((rendering - rendering.mean()) * (edit - edit.mean())).mean()) / (sr * se)
            out.append(PairError(item.name, mse, float(edit.mean() - rendering.mean()), se, sr, r))
    return out


def outliers(errors: list[PairError]) -> list[dict[str, Any]]:
    """The pairs far outside the others (see the module docstring), most extreme first, as
    ``{"name", "why", "measure", "z", "mse", "median_mse"}``."""
    if len(errors) < MIN_PAIRS:
        return []
    table = {k: np.array([e.measures()[k] for e in errors]) for k in MAD_FLOOR}
    z = {}
    for k, x in table.items():
        med = float(np.median(x))
        mad = max(float(np.median(np.abs(x - med))), MAD_FLOOR[k])
        z[k] = np.where(np.abs(x - med) >= MIN_EFFECT[k], 0.6745 * (x - med) / mad, 0.0)
    z["structure"] = np.maximum(z["structure"], 0.0)  # only less alike than the others counts
    mse = np.array([e.mse for e in errors])
    median_mse = float(np.median(mse))
    found = []
    for i, e in enumerate(errors):
        measure = max(z, key=lambda k: abs(z[k][i]))
        score = float(abs(z[measure][i]))
        if score > Z_LIMIT and e.mse >= MIN_RATIO * median_mse and e.mse >= MIN_MSE:
            found.append({"name": e.name, "why": why(measure, e, float(np.sign(z[measure][i]))),
                          "measure": measure, "z": round(score, 1), "mse": round(e.mse, 6),
                          "median_mse": round(median_mse, 6)})
    return sorted(found, key=lambda f: -f["z"])


def contradicting(style, data: list[fit.FitData]) -> list[dict[str, Any]]:
    """The pairs of ``data`` whose edits contradict what ``style`` learned from the rest."""
    return outliers(pair_errors(style, data)) if len(data) >= MIN_PAIRS else []
