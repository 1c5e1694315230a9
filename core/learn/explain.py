"""Why a photo got its sliders, in a photographer's words; what a style learned, as data to plot.

A style decides per photo in two readable steps (`silverprint.styles.decoder`): a soft choice of
subject recipe (portrait, landscape, ...) and a linear decoder,
``delta_o = clip(bias_o + sum_j W_oj (x_j - center_j))``, whose centre is the mean of the photos
it learned from. Both are exact sums, so each decision splits into named parts: the style's usual
push (the bias) and one part per descriptor, "darker than your usual" when the photo's median
brightness is below the centre. Nothing here re-fits or approximates the decoder: the parts add up
to the delta the renderer applies (scaled together when the clip holds it back).

- `explain_photo(style, descriptors)` -> `Explanation` (`as_dict()` for JSON, `sentences()`).
- `dependences(style, training)` -> one `Dependence` per decoded slider: a line over its strongest
  input (other inputs at their centre) and the training pairs as points, for the report's plots.
- `training_pairs(style, portfolio=...)` -> the pairs the style learned from, from the index.

No Qt and no matplotlib here: the report and the companion draw what these return.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..descriptors import DESCRIPTOR_INDEX, DIM
from ..errors import ShapeError
from ..params import CURVE_KNOTS, HUE_BANDS, SEMANTIC_REGIONS

#: A subject recipe is mentioned from this weight up (below it, it hardly moves a slider).
MIN_SUBJECT_WEIGHT = 0.05
#: An input is named as a reason when it carries at least this share of a decision's parts.
MIN_REASON_SHARE = 0.25
#: Content descriptors that say what a photo shows (why it reads as a portrait or a landscape).
CONTENT = ("face_count", "skin_area", "person_area", "sky_area", "vegetation_area")
_KIND_NAMES = {"graduated": "graduated filter", "radial": "radial filter", "point": "control point"}
_REGION_WORDS = {"sky": "sky", "person": "person", "skin": "skin", "vegetation": "greenery",
                 "other": "rest of the scene"}


@dataclass(frozen=True)
class Phrase:
    """How to speak of one decoder input: its name, the words for above / below the centre, and
    how its values read (``level`` 0.42, ``percent`` 9 %, ``ev`` +0.3 EV, ``count`` 2, ``weight``)."""

    noun: str
    more: str
    less: str
    unit: str = "level"

    def value(self, v: float) -> str:
        if self.unit == "percent":
            return f"{100 * v:.0f} %"
        if self.unit == "ev":
            return f"{v:+.1f} EV"
        if self.unit == "count":
            return f"{v:.0f}"
        if self.unit == "weight":
            return f"{100 * v:.0f} %"
        return f"{v:.2f}"

    def fact(self, v: float) -> str:
        """The photo's value as a fact: "sky 25 % of the frame", "2 faces", "median brightness 0.21"."""
        if self.unit == "percent":
            return f"{self.noun} {self.value(v)} of the frame"
        if self.unit == "count":
            n = int(round(v))
            return f"{n} {self.noun if n == 1 else self.noun + 's'}"
        return f"{self.noun} {self.value(v)}"


_PERCENTILE_WORDS = {"01": ("deepest shadows", "darker", "lighter"),
                     "05": ("shadows", "darker", "lighter"),
                     "25": ("lower mid-tones", "darker", "lighter"),
                     "50": ("median brightness", "darker", "brighter"),
                     "75": ("upper mid-tones", "darker", "brighter"),
                     "95": ("highlights", "dimmer", "brighter"),
                     "99": ("brightest highlights", "dimmer", "brighter")}
_PHRASES: dict[str, Phrase] = {
    "lum_mean": Phrase("mean brightness", "brighter", "darker"),
    "key_ev": Phrase("key", "higher-key (brighter)", "lower-key (darker)", "ev"),
    "contrast": Phrase("contrast", "more contrasty", "flatter"),
    "log_contrast": Phrase("tonal range", "wider in range", "narrower in range", "ev"),
    "clip_low": Phrase("black areas", "more crushed to black", "less crushed to black", "percent"),
    "clip_high": Phrase("white areas", "more blown to white", "less blown to white", "percent"),
    "saturation": Phrase("saturation", "more saturated", "less saturated"),
    "colourfulness": Phrase("colourfulness", "more colourful", "less colourful"),
    "detail": Phrase("fine detail", "more detailed", "smoother"),
    "aspect": Phrase("width / height (log)", "wider", "taller"),
    "face_count": Phrase("face", "with more faces", "with fewer faces", "count"),
}


def phrase(name: str) -> Phrase:
    """The words for a decoder input: a descriptor name, ``subject:NAME`` or ``embed:K``."""
    if name in _PHRASES:
        return _PHRASES[name]
    if m := re.fullmatch(r"lum_p(\d\d)", name):
        noun, less, more = _PERCENTILE_WORDS.get(m.group(1), (f"{m.group(1)}th percentile", "darker", "brighter"))
        return Phrase(noun, more, less)
    if name.startswith("hue_") and name[4:] in HUE_BANDS:
        band = name[4:]
        return Phrase(f"{band} colour", f"with more {band}", f"with less {band}")
    region, _, stat = name.rpartition("_")
    if region in SEMANTIC_REGIONS:
        word = _REGION_WORDS[region]
        if stat == "area":
            if region == "skin":
                return Phrase("faces and skin", "with more faces and skin", "with less faces and skin", "percent")
            return Phrase(word, f"with more {word}", f"with less {word}", "percent")
        if stat == "lum":
            return Phrase(f"{word} brightness", f"with a brighter {word}", f"with a darker {word}")
        if stat == "sat":
            return Phrase(f"{word} colour", f"with a more colourful {word}", f"with a less colourful {word}")
    if name.startswith("subject:"):
        subject = name[len("subject:"):]
        return Phrase(f"{subject} share", f"more of a {subject}", f"less of a {subject}", "weight")
    if name.startswith("embed:"):
        return Phrase(f"content axis {name[6:]}", f"higher on content axis {name[6:]}",
                      f"lower on content axis {name[6:]}")
    return Phrase(name, f"higher in {name}", f"lower in {name}")


def slider_label(key: str, style: Any = None) -> str:
    """A decoder output in words: ``all.exposure`` -> "exposure", ``sky.blue`` -> "blue filter (sky)",
    ``global.curve.16`` -> "tone curve at 50 %", ``local0.exposure`` -> "graduated filter exposure"."""
    region, _, name = key.partition(".")
    if region == "global":
        if name.startswith("curve."):
            knot = int(name[len("curve."):])
            return f"tone curve at {100 * knot / (CURVE_KNOTS - 1):.0f} %"
        if name.startswith("mix_"):
            return f"{name[4:]} in the grey mix"
        if name.endswith("_hue") and name[:-4] in HUE_BANDS:
            return f"{name[:-4]} band centre"
        return name.replace("_", " ")
    if region.startswith("local") and region[5:].isdigit():
        index = int(region[5:])
        local = getattr(getattr(style, "base", None), "local", None) or []
        kind = local[index].get("kind", "") if index < len(local) else ""
        where = _KIND_NAMES.get(kind, f"local adjustment {index + 1}")
        return f"{where} {_slider_word(name)}"
    word = _slider_word(name)
    return word if region == "all" else f"{word} ({_REGION_WORDS.get(region, region)})"


def _slider_word(name: str) -> str:
    return f"{name} filter" if name in HUE_BANDS else name.replace("_", " ")


def slider_unit(key: str) -> str:
    name = key.rsplit(".", 1)[-1] if not key.startswith("global.curve.") else "curve"
    return {"exposure": "EV", "curve": "levels"}.get(name, "°" if name.endswith("_hue") else "")


def format_delta(key: str, value: float) -> str:
    """"+0.45 EV", "+12", "+3 levels" (a curve knot in 1/100 of the range), "-4°"."""
    unit = slider_unit(key)
    if unit == "EV":
        return f"{value:+.2f} EV"
    if unit == "levels":
        return f"{100 * value:+.0f} levels"
    if unit == "°":
        return f"{value:+.0f}°"
    return f"{value:+.0f}" if round(abs(value), 1) >= 1 else f"{value:+.1f}"


def _visible(key: str, value: float) -> bool:
    """Whether a delta is large enough to speak of (a visible step of that slider)."""
    unit = slider_unit(key)
    limit = {"EV": 0.02, "levels": 0.004, "°": 0.5}.get(unit, 0.5)
    return abs(value) >= limit


# --------------------------------------------------------------------------- data


@dataclass
class Contribution:
    """One part of a decision: ``input`` "usual" is the style's constant push (the bias), else a
    descriptor at ``value`` against the decoder's ``center`` (the learned photos' mean)."""

    input: str
    amount: float
    value: float | None = None
    center: float | None = None
    words: str = ""


@dataclass
class Decision:
    """One decoded slider: its delta for this photo, and the parts that sum to it."""

    key: str
    label: str
    delta: float                # what the decoder adds to this slider for this photo (clipped)
    usual: float                # of which the style's constant push, the same for every photo
    photo: float                # of which the part due to what this photo shows: delta - usual
    unclipped: float
    clipped: bool
    contributions: list[Contribution]
    sentence: str
    visible: bool               # the photo's part is a visible step of the slider


@dataclass
class SubjectShare:
    """How much of a subject recipe this photo gets, and what in the photo says so."""

    name: str
    weight: float
    reasons: list[str]
    deltas: dict[str, Any]
    sentence: str


@dataclass
class Explanation:
    """Everything that made this photo's sliders differ from the style's base."""

    style: str
    learned: bool
    subjects: list[SubjectShare] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    adaptive: bool = False      # the style's decoder depends on the photo at all (a weight != 0)

    def sentences(self) -> list[str]:
        """What to show a photographer, most telling first."""
        out = [s.sentence for s in self.subjects]
        out += [d.sentence for d in self.decisions if d.visible]
        if not out and self.adaptive:
            out.append("This photo is much like " + ("your usual one" if self.learned else
                       "the style's reference") + f": {self.style} needs no per-photo change.")
        elif not out:
            out.append(f"{self.style} gives every photo the same sliders: nothing here depends on "
                       "what this photo shows.")
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"style": self.style, "learned": self.learned, "adaptive": self.adaptive,
                "subjects": [asdict(s) for s in self.subjects],
                "decisions": [asdict(d) for d in self.decisions], "sentences": self.sentences()}


# --------------------------------------------------------------------------- explaining


def _descriptors(source: Any) -> np.ndarray:
    """A descriptor vector from an array or a `pipeline.Analysis` (its ``descriptors``)."""
    x = np.asarray(getattr(source, "descriptors", source), dtype=np.float64).reshape(-1)
    if x.shape[0] != DIM:
        raise ShapeError(f"expected {DIM} descriptors (silverprint.descriptors), got {x.shape[0]}")
    return np.nan_to_num(x)


def _style(style: Any) -> Any:
    from ..pipeline import resolve_style

    return resolve_style(style)


def _is_learned(style: Any) -> bool:
    return str(style.provenance.get("source", "")) == "learned"


def _usual(learned: bool) -> tuple[str, str]:
    """How to name the decoder's centre: the photographer's own photos, or a built-in's reference."""
    return ("your usual", "your photos") if learned else ("this style's reference", "reference")


def _decoder_arrays(style: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    dec = style.decoder
    w = np.asarray(dec.weights, dtype=np.float64).reshape(len(dec.outputs), len(dec.inputs))
    b = np.asarray(dec.bias, dtype=np.float64)
    c = np.asarray(dec.center, dtype=np.float64) if dec.center is not None else np.zeros(len(dec.inputs))
    clip = np.asarray(dec.clip, dtype=np.float64) if dec.clip is not None else None
    return w, b, c, clip


def _reason(c: Contribution, learned: bool) -> str:
    """"darker than your usual (median brightness 0.21; your photos 0.42)"."""
    usual, photos = _usual(learned)
    p = phrase(c.input)
    assert c.value is not None and c.center is not None
    if abs(c.value - c.center) < 1e-9:
        return f"{p.fact(c.value)}, as {usual}"
    word = p.more if c.value > c.center else p.less
    return f"{word} than {usual} ({p.fact(c.value)}; {photos} {p.value(c.center)})"


def _decision_sentence(key: str, label: str, photo: float, parts: list[Contribution], clipped: bool,
                       learned: bool) -> str:
    """"+0.45 EV exposure: darker than your usual (...)": the photo's own part of the decision (the
    style's constant push is the same for every photo, so it says nothing about this one)."""
    amount = format_delta(key, photo)
    head = f"{amount} {label}" if slider_unit(key) == "EV" else f"{label} {amount}"
    inputs = [p for p in parts if p.input != "usual"]
    total = sum(abs(p.amount) for p in inputs) or 1.0
    # reasons: the inputs that push the same way as the result and carry a fair share of it
    reasons = [p for p in sorted(inputs, key=lambda p: -abs(p.amount))
               if abs(p.amount) >= MIN_REASON_SHARE * total and np.sign(p.amount) == np.sign(photo)][:2]
    text = "; ".join(_reason(p, learned) for p in reasons) if reasons else "the photo is much like " + (
        "your usual one" if learned else "the style's reference")
    if clipped:
        text += " (held at the style's limit)"
    return f"{head}: {text}"


def explain_decoder(style: Any, descriptors: Any, weights: dict[str, float] | None = None) -> list[Decision]:
    """Per decoded slider: its delta for this photo split into the style's usual push and one
    part per input; the parts sum to the (clipped) delta the renderer applies."""
    from ..styles import decoder_inputs

    style = _style(style)
    if style.decoder is None:
        return []
    x = decoder_inputs(style, _descriptors(descriptors), weights)
    w, b, c, clip = _decoder_arrays(style)
    learned = _is_learned(style)
    dec = style.decoder
    keys: dict[str, dict[str, Any]] = {}
    for row, key in enumerate(dec.outputs):
        raw_parts = w[row] * (x - c)
        unclipped = float(b[row] + raw_parts.sum())
        value = unclipped if clip is None else float(np.clip(unclipped, clip[row, 0], clip[row, 1]))
        # scale every part alike when the clip holds the row back, so the parts still add up
        scale = value / unclipped if abs(unclipped) > 1e-12 else 0.0
        entry = keys.setdefault(key, {"delta": 0.0, "unclipped": 0.0, "clipped": False, "parts": {}})
        entry["delta"] += value
        entry["unclipped"] += unclipped
        entry["clipped"] |= abs(value - unclipped) > 1e-9
        entry["parts"]["usual"] = entry["parts"].get("usual", 0.0) + scale * float(b[row])
        for j, name in enumerate(dec.inputs):
            entry["parts"][name] = entry["parts"].get(name, 0.0) + scale * float(raw_parts[j])
    decisions = []
    for key, entry in keys.items():
        # a part far below anything visible (a float32 descriptor at its centre) is not a reason:
        # it joins the usual push, so the parts still add up exactly
        negligible = 1e-6 * _typical(key)
        usual = entry["parts"]["usual"]
        parts = []
        for j, name in enumerate(dec.inputs):
            amount = entry["parts"][name]
            if abs(amount) < negligible:
                usual += amount
                continue
            con = Contribution(name, amount, float(x[j]), float(c[j]))
            con.words = _reason(con, learned)
            parts.append(con)
        parts.insert(0, Contribution("usual", usual, words=_usual(learned)[0]))
        label = slider_label(key, style)
        photo = entry["delta"] - usual
        decisions.append(Decision(
            key, label, entry["delta"], usual, photo, entry["unclipped"], entry["clipped"], parts,
            _decision_sentence(key, label, photo, parts, entry["clipped"], learned),
            _visible(key, photo)))
    decisions.sort(key=lambda d: (not d.visible, -abs(d.photo) / _typical(d.key)))
    return decisions


def _typical(key: str) -> float:
    """A visible-but-clear step of a slider, to rank decisions of different units together."""
    return {"EV": 0.3, "levels": 0.05, "°": 5.0}.get(slider_unit(key), 15.0)


def subject_reasons(style: Any, descriptors: Any, subject: str, top: int = 3) -> list[str]:
    """What in the photo pulls it toward ``subject`` rather than the style's general recipe.

    The assignment's logit difference is linear in the standardised descriptors ``z``:
    ``(|e - p_g|^2 - |e - p_s|^2) / T`` with ``e = M z`` has the part ``2 z . M^T (p_s - p_g) / T``,
    so each descriptor's push toward the subject is exact. The content descriptors (faces, person,
    skin, sky, greenery) are named first; others only when none of them pushes this way.
    """
    style = _style(style)
    x = _descriptors(descriptors)
    emb = style.proxies.embedding
    if subject not in style.proxies.subjects:
        return []
    m = np.asarray(emb.matrix, dtype=np.float64)
    z = (x[[DESCRIPTOR_INDEX[n] for n in emb.inputs]] - np.asarray(emb.center)) / np.asarray(emb.scale)
    direction = np.asarray(style.proxies.subjects[subject]) - np.asarray(style.proxies.style)
    push = 2.0 * z * (m.T @ direction) / style.proxies.temperature
    order = [i for i in np.argsort(-push) if push[i] > 1e-6]
    # what the photo shows (above the centre) before what it lacks, content before the rest
    order.sort(key=lambda i: (emb.inputs[i] not in CONTENT, z[i] <= 0))
    usual = "your usual" if _is_learned(style) else "the style's reference"
    out = []
    for i in order[:top]:
        p = phrase(emb.inputs[i])
        fact = p.fact(float(x[DESCRIPTOR_INDEX[emb.inputs[i]]]))
        out.append(fact if z[i] > 0 else f"{fact} (less than {usual})")
    return out


def _subject_word(name: str) -> str:
    m = re.fullmatch(r"subject(\d+)", name)
    return f"subject {m.group(1)}" if m else name


def explain_subjects(style: Any, descriptors: Any) -> list[SubjectShare]:
    """The subject recipes this photo gets (weight >= `MIN_SUBJECT_WEIGHT`), largest first."""
    from ..styles import assign
    from ..styles.decoder import GENERAL

    style = _style(style)
    x = _descriptors(descriptors)
    if not style.subjects:
        return []
    weights = assign(style, x)
    out = []
    for name, weight in sorted(weights.items(), key=lambda kv: -kv[1]):
        if weight < MIN_SUBJECT_WEIGHT:
            continue
        if name == GENERAL:
            out.append(SubjectShare(name, weight, [], {}, f"general recipe ({100 * weight:.0f} %): "
                                    "the photo is like none of the style's subjects in particular"
                                    if weight > 0.5 else f"general recipe ({100 * weight:.0f} %)"))
            continue
        if name not in style.subjects:
            continue
        reasons = subject_reasons(style, x, name)
        deltas = {k: (weight * v if isinstance(v, (int, float)) else [weight * float(e) for e in v])
                  for k, v in style.subjects[name].items()}
        sentence = f"{_subject_word(name)} recipe ({100 * weight:.0f} %)"
        if reasons:
            sentence += ": " + ", ".join(reasons)
        out.append(SubjectShare(name, weight, reasons, deltas, sentence))
    return out


def explain_photo(style: Any, descriptors: Any) -> Explanation:
    """The decisions ``style`` (a Style or a style name) makes for one photo, and why.

    ``descriptors``: the photo's `pipeline.analyse(...)` result or its descriptor vector.
    """
    from ..styles import explain as decoder_explain

    style = _style(style)
    x = _descriptors(descriptors)
    weights = decoder_explain(style, x)["subjects"]
    adaptive = style.decoder is not None and bool(np.any(np.asarray(style.decoder.weights, dtype=np.float64)))
    return Explanation(style.name, _is_learned(style), explain_subjects(style, x),
                       explain_decoder(style, x, weights), adaptive)


# --------------------------------------------------------------------------- dependences


@dataclass
class TrainingPair:
    """A pair the style learned from: its descriptors and its own fitted slider deltas (when the
    portfolio index has them; relative to the style's base, as `PairRecord.params` holds them)."""

    name: str
    descriptors: list[float]
    params: dict[str, float] | None = None


@dataclass
class DependencePoint:
    name: str
    x: float
    decoded: float              # what the decoder gives this pair (all its inputs at their values)
    own: float | None = None    # what the pair's own fit did, less its subject recipe


@dataclass
class Dependence:
    """One learned dependence: a decoded slider against its strongest input.

    Every y is a change from the usual, as the sentences speak of it: the line and ``decoded``
    relative to ``usual`` (the decoder's value on a photo at its centre), ``own`` relative to the
    mean of the pairs' own values. (A pair's own fit and the decoder's constant are found in
    different ways and need not agree on the constant; how they move with the photo is what the
    plot compares.)
    """

    output: str
    output_label: str
    input: str
    input_label: str
    input_unit: str
    center: float
    line_x: list[float]
    line_y: list[float]
    points: list[DependencePoint]
    strength: float             # |slope| x the input's spread: the slider change over typical photos
    usual: float = 0.0          # the decoder's value for this slider on a photo at its centre

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


#: Nominal spread of an input when no training pairs say otherwise (value units).
_NOMINAL = {"percent": 0.2, "ev": 1.0, "count": 1.0, "weight": 0.5, "level": 0.15}


def _nominal_range(name: str, center: float) -> tuple[float, float]:
    unit = phrase(name).unit
    if unit in ("percent", "weight"):
        return 0.0, 1.0 if unit == "weight" else max(0.5, 2 * center)
    if unit == "count":
        return 0.0, 5.0
    if unit == "ev":
        return center - 3.0, center + 3.0
    return max(0.0, center - 0.4), center + 0.4


def dependences(style: Any, training: Sequence[TrainingPair] = (), samples: int = 60) -> list[Dependence]:
    """For each decoded slider: its strongest input, the decoder's line over that input (the other
    inputs at their centre, as the style decodes an otherwise usual photo) and the training pairs."""
    from ..styles import assign, decoder_deltas, decoder_inputs

    style = _style(style)
    if style.decoder is None:
        return []
    dec = style.decoder
    w, b, c, clip = _decoder_arrays(style)
    xs = np.array([decoder_inputs(style, _descriptors(t.descriptors)) for t in training]).reshape(-1, len(dec.inputs))
    out = []
    for key in dict.fromkeys(dec.outputs):
        rows = [r for r, k in enumerate(dec.outputs) if k == key]
        slope = w[rows].sum(axis=0)
        if len(xs) >= 2:
            spread = xs.std(axis=0)
        else:
            spread = np.array([_NOMINAL[phrase(n).unit] for n in dec.inputs])
        strength = np.abs(slope) * spread
        j = int(np.argmax(strength))
        if strength[j] <= 0:
            continue
        name = dec.inputs[j]
        if len(xs):
            lo, hi = float(xs[:, j].min()), float(xs[:, j].max())
            pad = 0.1 * (hi - lo) if hi > lo else 0.1 * max(abs(lo), 0.1)
            lo, hi = lo - pad, hi + pad
        else:
            lo, hi = _nominal_range(name, float(c[j]))
        grid = np.linspace(lo, hi, samples)

        def line(v: float) -> float:
            total = 0.0
            for r in rows:
                y = b[r] + w[r, j] * (v - c[j])
                total += float(np.clip(y, clip[r, 0], clip[r, 1])) if clip is not None else float(y)
            return total

        usual = line(float(c[j]))
        points = []
        for t, xv in zip(training, xs):
            d = _descriptors(t.descriptors)
            decoded = decoder_deltas(style, d).get(key, 0.0)
            own = None
            if t.params is not None:
                weights = assign(style, d)
                subject = sum(weights.get(s, 0.0) * float(v.get(key, 0.0)) for s, v in style.subjects.items()
                              if isinstance(v.get(key, 0.0), (int, float)))
                own = _own_value(t.params, key) - subject
            points.append(DependencePoint(t.name, float(xv[j]), float(decoded) - usual, own))
        owns = [pt.own for pt in points if pt.own is not None]
        for pt in points:
            if pt.own is not None:
                pt.own -= float(np.mean(owns))
        p = phrase(name)
        out.append(Dependence(key, slider_label(key, style), name, p.noun, p.unit, float(c[j]),
                              [float(v) for v in grid], [line(float(v)) - usual for v in grid], points,
                              float(strength[j]), usual))
    out.sort(key=lambda d: -d.strength / _typical(d.output))
    return out


def _own_value(params: dict[str, float], key: str) -> float:
    """A pair's own fitted delta for a decoder output; ``all.X`` (every region alike) reads as the
    mean of the pair's per-region ``R.X`` when the pair has no ``all.X`` of its own."""
    region, _, name = key.partition(".")
    if key in params or region != "all":
        return float(params.get(key, 0.0))
    return float(np.mean([float(params.get(f"{r}.{name}", 0.0)) for r in SEMANTIC_REGIONS]))


def training_pairs(style: Any, *, portfolio: str | Path | None = None,
                   index_path: str | Path | None = None) -> list[TrainingPair]:
    """The fitted pairs of the portfolio ``style`` was learned from, less its held-out ones.

    ``portfolio``: the folder; without it, the portfolio most recently learned under the style's
    name in the index. Empty when the index knows neither (a built-in or imported style).
    """
    from .index import PortfolioIndex, default_path

    style = _style(style)
    path = Path(index_path) if index_path else default_path()
    if not path.exists():
        return []
    held = set(style.provenance.get("heldout_names", []) or [])
    with PortfolioIndex(path) as index:
        if portfolio is not None:
            root = str(Path(portfolio).resolve())
            row = index.db.execute("SELECT id FROM portfolios WHERE root = ?", (root,)).fetchone()
        else:
            row = index.db.execute("SELECT id FROM portfolios WHERE style = ? ORDER BY updated DESC",
                                   (style.name,)).fetchone()
        if row is None:
            return []
        records = index.records(int(row[0]))
    return [TrainingPair(r.name, list(r.descriptors), r.params) for r in records
            if r.status != "skipped" and r.descriptors and len(r.descriptors) == DIM and r.name not in held]
