"""The style model and its versioned JSON file format (schema 2).

A style is a small, human-readable JSON file. Built-in styles ship in `silverprint_resources/styles/`,
learned and imported ones live in the user's styles directory (`silverprint.paths.styles_dir()`).
Whether a style is built-in is decided by where it was loaded from, never by the file itself.

Schema 2 (schema 1 differs only in a 17-knot curve; it is read and upgraded, see `upgrade_v1`)::

    {
      "schema": 2,
      "name": "red-filter-landscape",            # [A-Za-z0-9][A-Za-z0-9 _.+-]{0,63}; the file stem
      "description": "one line for menus",
      "provenance": {                            # free-form dict; these keys are checked:
        "source": "builtin" | "learned" | "imported",
        "pairs": 0,                              # training pairs the style was learned from
        "created": "2026-11-26T06:00:00+00:00",  # ISO 8601
        "metrics": {"psnr": 46.1, ...}           # held-out metrics (numbers), may be empty
      },                                         # (learners may add e.g. "portfolio", "parent")
      "base": {"regions": {...}, "global": {...}, "local": [...]},
                                                 # a (sparse) Params dict: the style's sliders;
                                                 # missing sliders take their defaults
      "proxies": {
        "dim": D,                                # embedding dimension
        "embedding": {                           # descriptors -> proxy space:
          "inputs": [descriptor names],          #   e = matrix @ ((x[inputs] - center) / scale)
          "center": [...], "scale": [...],       #   (len(inputs) each; scale > 0)
          "matrix": [[...]]                      #   D rows x len(inputs)
        },
        "temperature": 1.0,                      # soft assignment: softmax(-|e - p|^2 / T)
        "style": [D floats],                     # the style proxy = the "general" anchor
        "subjects": {"portrait": [D floats], ...}
      },
      "subjects": {"portrait": {"skin.structure": -20, ...}, ...},
                                                 # slider deltas per subject, keys as --set
                                                 # (REGION.PARAM; "global.curve" takes a list of
                                                 # 33 deltas); names must match proxies.subjects
      "decoder": null | {                        # content-adaptive part, added last:
        "type": "linear",                        #   delta = clip(W @ (x[inputs] - center) + bias)
        "inputs": [names],                       #   names: descriptor names, "subject:NAME" (its
                                                 #   soft-assignment weight) or "embed:K" (K-th
                                                 #   embedding coordinate)
        "center": [...],                         #   optional, zeros by default
        "outputs": ["sky.exposure", "global.curve.8", ...],
        "weights": [[...]],                      #   len(outputs) rows x len(inputs)
        "bias": [...],                           #   len(outputs)
        "clip": [[lo, hi], ...]                  #   optional per-output limits on the delta
      },
      "extra": {}                                # optional, preserved verbatim (learner state)
    }

Reading validates everything and raises `InvalidStyleError` (a `UnknownStyleError`, exit code 2)
with one line naming the file and what is wrong: bad JSON, a missing field, a schema newer than this
program reads, an unknown slider (named), mismatched proxy or decoder sizes, or a file past one of
the size, depth and count limits of `silverprint.styles.limits`. Whatever the bytes, that is the only
error reading raises (`style_from_bytes`). Writing is atomic and checks the same limits.
How a style becomes sliders for one photo: `silverprint.styles.decoder.decode`.
"""
from __future__ import annotations

import copy
import json
import math
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from ..descriptors import DESCRIPTOR_INDEX
from ..errors import SilverprintError, UnknownSliderError, UnknownStyleError
from ..fileio import atomic_path
from ..params import (CURVE_KNOTS, GLOBAL_SLIDER_SPECS, LOCAL_KINDS, REGION_SLIDER_SPECS,
                      SEMANTIC_REGIONS, Params, default_global, default_region, parse_index)
from . import limits
from .limits import StyleLimitError, parse_json, read_bounded

SCHEMA_VERSION = 2
SOURCES = ("builtin", "learned", "imported")
DECODER_TYPES = ("linear",)
#: A style name, which is also its file stem: no separators, no control characters, at most 64.
#: It ends with ``\Z``: ``$`` also matches before a final newline (a style "evil\n" made a file
#: named "evil\n.json").
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.+-]{0,63}\Z")
_TOP_KEYS = {"schema", "name", "description", "provenance", "base", "proxies", "subjects", "decoder",
             "extra"}


class InvalidStyleError(UnknownStyleError):
    """A style file that exists but cannot be used (malformed, newer schema, unknown slider)."""


class InvalidStyleNameError(SilverprintError):
    """A style name that cannot be a file stem (bad input: exit code 2, HTTP 400)."""

    exit_code = 2


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def check_name(name: object) -> str:
    """A style name is also its file stem: letters, digits, space, `_ . + -`; at most 64."""
    if not isinstance(name, str) or not NAME_RE.match(name) or name.endswith(".json"):
        raise InvalidStyleNameError(
            f"invalid style name {name!r}: use letters, digits, spaces and _ . + - (at most 64, "
            "starting with a letter or digit)")
    return name


@dataclass
class Embedding:
    """Linear map from named descriptors to the proxy space: ``matrix @ ((x - center) / scale)``."""

    inputs: list[str]
    center: list[float]
    scale: list[float]
    matrix: list[list[float]]

    @property
    def dim(self) -> int:
        return len(self.matrix)

    def to_dict(self) -> dict[str, Any]:
        return {"inputs": list(self.inputs), "center": list(self.center), "scale": list(self.scale),
                "matrix": [list(r) for r in self.matrix]}


@dataclass
class Proxies:
    """Where a style and its subjects sit in the descriptor-embedding space."""

    embedding: Embedding
    style: list[float]
    subjects: dict[str, list[float]] = field(default_factory=dict)
    temperature: float = 1.0

    @property
    def dim(self) -> int:
        return self.embedding.dim

    def to_dict(self) -> dict[str, Any]:
        return {"dim": self.dim, "embedding": self.embedding.to_dict(), "temperature": self.temperature,
                "style": list(self.style), "subjects": {k: list(v) for k, v in self.subjects.items()}}


@dataclass
class LinearDecoder:
    """Content-adaptive slider deltas: ``clip(weights @ (x[inputs] - center) + bias)``."""

    inputs: list[str]
    outputs: list[str]
    weights: list[list[float]]
    bias: list[float]
    center: list[float] | None = None
    clip: list[list[float]] | None = None
    type: str = "linear"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type, "inputs": list(self.inputs)}
        if self.center is not None:
            data["center"] = list(self.center)
        data.update({"outputs": list(self.outputs), "weights": [list(r) for r in self.weights],
                     "bias": list(self.bias)})
        if self.clip is not None:
            data["clip"] = [list(c) for c in self.clip]
        return data


@dataclass
class Style:
    """A named look: base sliders, subject adjustments, proxies and a content-adaptive decoder."""

    name: str
    description: str
    base: Params
    proxies: Proxies
    subjects: dict[str, dict[str, Any]] = field(default_factory=dict)
    decoder: LinearDecoder | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    builtin: bool = False
    path: Path | None = None

    @property
    def toned(self) -> bool:
        """True when the style renders a toned (3-channel) image rather than true grey."""
        return self.base.toned

    @property
    def source(self) -> str:
        return str(self.provenance.get("source", "imported"))

    def copy(self) -> "Style":
        return copy.deepcopy(self)

    def to_dict(self) -> dict[str, Any]:
        """The schema-2 JSON object (sparse base params; no `builtin`, which is a location)."""
        data: dict[str, Any] = {
            "schema": SCHEMA_VERSION, "name": self.name, "description": self.description,
            "provenance": copy.deepcopy(self.provenance), "base": sparse_params(self.base),
            "proxies": self.proxies.to_dict(), "subjects": copy.deepcopy(self.subjects),
            "decoder": self.decoder.to_dict() if self.decoder else None,
        }
        if self.extra:
            data["extra"] = copy.deepcopy(self.extra)
        return data

    def summary(self) -> dict[str, Any]:
        """What `styles list --json` prints for this style."""
        return {"name": self.name, "description": self.description, "builtin": self.builtin,
                "toned": self.toned, "source": self.source,
                "pairs": int(self.provenance.get("pairs", 0) or 0),
                "subjects": list(self.subjects), "path": str(self.path) if self.path else None}


def sparse_params(params: Params) -> dict[str, Any]:
    """A Params dict holding only the sliders that differ from their defaults (exact round trip)."""
    data: dict[str, Any] = {}
    defaults_r = default_region()
    regions = {r: {k: v for k, v in s.items() if v != defaults_r[k]} for r, s in params.regions.items()}
    regions = {r: s for r, s in regions.items() if s}
    if regions:
        data["regions"] = regions
    defaults_g = default_global()
    glob = {k: v for k, v in params.global_.items() if v != defaults_g[k]}
    if glob:
        data["global"] = copy.deepcopy(glob)
    if params.local:
        data["local"] = copy.deepcopy(params.local)
    return data


def make_style(name: str, description: str, base: Params, *, source: str = "learned", pairs: int = 0,
               metrics: dict[str, float] | None = None, proxies: Proxies | None = None,
               subjects: dict[str, dict[str, Any]] | None = None, decoder: LinearDecoder | None = None,
               extra: dict[str, Any] | None = None, **provenance: Any) -> Style:
    """A new, validated style (what the learner and the GUI build); not yet saved.

    Without `proxies` the built-ins' shared embedding and subject proxies are used, so subject
    deltas named portrait / landscape / architecture / street / night work out of the box. Extra
    keyword arguments go into the provenance (e.g. ``portfolio=...``, ``parent="silver"``).
    """
    if proxies is None:
        from .builtins import shared_proxies

        proxies = shared_proxies()
    style = Style(name=check_name(name), description=description, base=base.copy(), proxies=proxies,
                  subjects=copy.deepcopy(subjects or {}), decoder=decoder,
                  provenance={"source": source, "pairs": int(pairs), "created": now_iso(),
                              "metrics": dict(metrics or {}), **provenance},
                  extra=copy.deepcopy(extra or {}))
    style_from_bytes(style_to_json(style), name)  # validate now, not when it is loaded
    return style


# --- validation -------------------------------------------------------------------------------

#: Characters of a reason quoted in an error: reasons quote what the file holds, which may be long.
_REASON_CHARS = 300


def _fail(where: str, reason: str) -> InvalidStyleError:
    """The one error a bad style raises: one line, the file and what is wrong (shortened)."""
    where = where if where.isprintable() else repr(where)[1:-1]  # a file named "evil\n.json"
    reason = " ".join(reason.split())
    if len(reason) > _REASON_CHARS:
        reason = reason[:_REASON_CHARS - 1] + "…"
    return InvalidStyleError(f"{where}: {reason}")


def _at_most(count: int, limit: int, what: str, where: str) -> None:
    """Refuse a count past one of `silverprint.styles.limits` (never truncate: a style either is
    what its file says or does not load)."""
    if count > limit:
        raise _fail(where, f"{count:,} {what}; a style may have at most {limit:,}")


def _numbers(value: Any, n: int | None, what: str, where: str) -> list[float]:
    if not isinstance(value, list) or (n is not None and len(value) != n):
        size = f"{n} numbers" if n is not None else "a list of numbers"
        raise _fail(where, f"{what} must be {size}")
    out = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise _fail(where, f"{what} holds {v!r}, not a finite number")
        out.append(float(v))
    return out


def _matrix(value: Any, rows: int | None, cols: int, what: str, where: str) -> list[list[float]]:
    if not isinstance(value, list) or (rows is not None and len(value) != rows):
        raise _fail(where, f"{what} must have {rows} rows")
    return [_numbers(r, cols, f"{what} row", where) for r in value]


def parse_key(key: str, params: Params) -> tuple[str, str, int | None]:
    """Validate one slider key (``REGION.PARAM``, ``global.curve[.N]``); (region, param, index)."""
    if not isinstance(key, str) or "." not in key:
        raise UnknownSliderError(f"slider {key!r} must look like REGION.PARAM (e.g. sky.exposure)")
    region, name = key.split(".", 1)
    if region == "global" and name.startswith("curve"):
        rest = name[len("curve"):]
        if rest == "":
            return region, "curve", None
        knot = parse_index(rest[1:]) if rest.startswith(".") else None
        if knot is not None and knot < CURVE_KNOTS:
            return region, "curve", knot
        raise UnknownSliderError(f"unknown slider {key!r} (curve knots are global.curve.0.."
                                 f"global.curve.{CURVE_KNOTS - 1})")
    if region == "global":
        if name not in GLOBAL_SLIDER_SPECS:
            raise UnknownSliderError(f"unknown slider {name!r} for global (known: {', '.join(GLOBAL_SLIDER_SPECS)})")
    elif region in SEMANTIC_REGIONS or region == "all":
        if name not in REGION_SLIDER_SPECS:
            raise UnknownSliderError(f"unknown slider {name!r} for {region} (known: {', '.join(REGION_SLIDER_SPECS)})")
    elif region.startswith("local") and (index := parse_index(region[5:])) is not None:
        if index >= len(params.local):
            raise UnknownSliderError(f"{key}: the base has only {len(params.local)} local adjustments")
        kind = params.local[index]["kind"]
        if name not in LOCAL_KINDS[kind] and name not in REGION_SLIDER_SPECS:
            raise UnknownSliderError(f"unknown parameter {name!r} for a {kind} adjustment ({key})")
    else:
        known = ", ".join(SEMANTIC_REGIONS + ("all", "global", "localN"))
        raise UnknownSliderError(f"unknown region {region!r} in {key!r} (known: {known})")
    return region, name, None


def _decoder_input_ok(name: Any, subjects: dict[str, Any], dim: int) -> bool:
    if not isinstance(name, str):
        return False
    if name in DESCRIPTOR_INDEX:
        return True
    if name.startswith("subject:"):
        return name[len("subject:"):] in subjects
    if name.startswith("embed:"):
        k = parse_index(name[len("embed:"):])
        return k is not None and k < dim
    return False


def _curve_index(key: Any) -> int | None:
    """N of a ``global.curve.N`` key, else None."""
    prefix = "global.curve."
    if isinstance(key, str) and key.startswith(prefix):
        return parse_index(key[len(prefix):])
    return None


def _spread_knots(indexed: list[tuple[int, Any]], combine) -> dict[int, Any]:
    """Values at old knot N (of 17) → values at new knots (of 33): N goes to 2N and each knot between
    two old ones gets half of each neighbour's value, i.e. linear interpolation of the deltas."""
    out: dict[int, Any] = {}
    for n, value in indexed:
        for new, share in ((2 * n, 1.0), (2 * n - 1, 0.5), (2 * n + 1, 0.5)):
            if 0 <= new < CURVE_KNOTS:
                out[new] = combine(out.get(new), value, share)
    return out


def upgrade_v1(data: dict[str, Any]) -> dict[str, Any]:
    """A schema-1 style (17-knot curve) as schema 2 (33 knots), keeping what each curve does.

    The base curve is resampled by `Params.set`; subject deltas and decoder rows that address
    knots one by one (``global.curve.N``) are spread to the new knots by linear interpolation.
    """
    from ..params import LEGACY_CURVE_KNOTS

    data = copy.deepcopy(data)
    data["schema"] = SCHEMA_VERSION

    def add(old, value, share):
        return (old or 0.0) + share * value if isinstance(value, (int, float)) and not isinstance(value, bool) \
            else value

    for deltas in (data.get("subjects") or {}).values():
        if not isinstance(deltas, dict):
            continue
        whole = deltas.get("global.curve")
        if isinstance(whole, list) and len(whole) == LEGACY_CURVE_KNOTS:
            deltas["global.curve"] = [float(v) for v in
                                      np.interp(np.linspace(0, 1, CURVE_KNOTS), np.linspace(0, 1, len(whole)), whole)]
        knots = [(n, deltas.pop(k)) for k, n in [(k, _curve_index(k)) for k in list(deltas)] if n is not None]
        for new, value in _spread_knots(knots, add).items():
            deltas[f"global.curve.{new}"] = value
    decoder = data.get("decoder")
    if isinstance(decoder, dict) and isinstance(decoder.get("outputs"), list):
        outputs = decoder["outputs"]
        rows = [i for i, key in enumerate(outputs) if _curve_index(key) is not None]
        if rows and all(isinstance(decoder.get(f), list) and len(decoder[f]) == len(outputs)
                        for f in ("weights", "bias")):
            keep = [i for i in range(len(outputs)) if i not in rows]
            has_clip = isinstance(decoder.get("clip"), list) and len(decoder["clip"]) == len(outputs)

            def row(old, value, share):
                w, b, c = value
                w = [share * x for x in w]
                if old is None:
                    return w, share * b, c
                return [x + y for x, y in zip(old[0], w)], old[1] + share * b, \
                    None if c is None else [min(old[2][0], c[0]), max(old[2][1], c[1])]

            spread = _spread_knots([(_curve_index(outputs[i]), (decoder["weights"][i], decoder["bias"][i],
                                     decoder["clip"][i] if has_clip else None)) for i in rows], row)
            new_outputs = [outputs[i] for i in keep] + [f"global.curve.{n}" for n in sorted(spread)]
            decoder["weights"] = [decoder["weights"][i] for i in keep] + [spread[n][0] for n in sorted(spread)]
            decoder["bias"] = [decoder["bias"][i] for i in keep] + [spread[n][1] for n in sorted(spread)]
            if has_clip:
                decoder["clip"] = [decoder["clip"][i] for i in keep] + [spread[n][2] for n in sorted(spread)]
            decoder["outputs"] = new_outputs
    return data


def style_from_dict(data: Any, where: str = "style") -> Style:
    """Validate a schema-2 (or schema-1, upgraded) object and build the Style (raises InvalidStyleError)."""
    if not isinstance(data, dict):
        raise _fail(where, "not a style file (expected a JSON object)")
    schema = data.get("schema")
    if isinstance(schema, bool) or not isinstance(schema, int):
        raise _fail(where, "not a Silverprint style file (no integer \"schema\" field)")
    if schema > SCHEMA_VERSION:
        raise _fail(where, f"style schema {schema} was written by a newer Silverprint; this version "
                           f"reads schema {SCHEMA_VERSION} — please upgrade")
    if schema < 1:
        raise _fail(where, f"unsupported style schema {schema}")
    if schema == 1:
        try:
            data = upgrade_v1(data)
        except (TypeError, ValueError, IndexError, KeyError, AttributeError, OverflowError) as exc:
            raise _fail(where, f"cannot upgrade this schema-1 style ({type(exc).__name__}: {exc})") from None
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise _fail(where, f"unknown field(s) {', '.join(map(repr, unknown))}")
    for key in ("name", "description", "base", "proxies"):
        if key not in data:
            raise _fail(where, f"missing field {key!r}")
    try:
        name = check_name(data["name"])
    except SilverprintError as exc:
        raise _fail(where, str(exc)) from None
    description = data["description"]
    if not isinstance(description, str) or "\n" in description:
        raise _fail(where, "description must be one line of text")
    _at_most(len(description), limits.MAX_DESCRIPTION_CHARS, "characters of description", where)

    provenance = data.get("provenance") or {}
    if not isinstance(provenance, dict):
        raise _fail(where, "provenance must be an object")
    if provenance.get("source", "imported") not in SOURCES:
        raise _fail(where, f"provenance.source must be one of {', '.join(SOURCES)}")
    pairs = provenance.get("pairs", 0)
    if isinstance(pairs, bool) or not isinstance(pairs, int) or pairs < 0:
        raise _fail(where, "provenance.pairs must be a non-negative integer")
    metrics = provenance.get("metrics", {})
    if not isinstance(metrics, dict):
        raise _fail(where, "provenance.metrics must be an object")

    if not isinstance(data["base"], dict):
        raise _fail(where, "base must be a Params object")
    local = data["base"].get("local")
    if isinstance(local, list):
        _at_most(len(local), limits.MAX_LOCAL_ADJUSTMENTS, "local adjustments in base.local", where)
    try:
        base = Params.from_dict(data["base"])
    except UnknownSliderError as exc:
        raise _fail(where, f"base: {exc}") from None
    except (AttributeError, TypeError, ValueError, KeyError) as exc:
        raise _fail(where, f"base is malformed ({exc})") from None

    proxies = _proxies_from_dict(data["proxies"], where)

    subjects_raw = data.get("subjects") or {}
    if not isinstance(subjects_raw, dict):
        raise _fail(where, "subjects must be an object of slider deltas")
    _at_most(len(subjects_raw), limits.MAX_SUBJECTS, "subjects", where)
    subjects: dict[str, dict[str, Any]] = {}
    for subject, deltas in subjects_raw.items():
        if subject not in proxies.subjects:
            raise _fail(where, f"subject {subject!r} has no proxy in proxies.subjects")
        if not isinstance(deltas, dict):
            raise _fail(where, f"subjects.{subject} must be an object of slider deltas")
        checked: dict[str, Any] = {}
        for key, value in deltas.items():
            try:
                _, param, index = parse_key(key, base)
            except UnknownSliderError as exc:
                raise _fail(where, f"subjects.{subject}: {exc}") from None
            if param == "curve" and index is None:
                checked[key] = _numbers(value, CURVE_KNOTS, f"subjects.{subject}.{key}", where)
            else:
                checked[key] = _numbers([value], 1, f"subjects.{subject}.{key}", where)[0]
        subjects[subject] = checked

    decoder = None
    if data.get("decoder") is not None:
        decoder = _decoder_from_dict(data["decoder"], base, proxies, where)

    extra = data.get("extra") or {}
    if not isinstance(extra, dict):
        raise _fail(where, "extra must be an object")
    return Style(name=name, description=description, base=base, proxies=proxies, subjects=subjects,
                 decoder=decoder, provenance=copy.deepcopy(provenance), extra=copy.deepcopy(extra))


def _proxies_from_dict(raw: Any, where: str) -> Proxies:
    if not isinstance(raw, dict):
        raise _fail(where, "proxies must be an object")
    emb = raw.get("embedding")
    if not isinstance(emb, dict):
        raise _fail(where, "proxies.embedding must be an object")
    inputs = emb.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise _fail(where, "proxies.embedding.inputs must be a non-empty list of descriptor names")
    _at_most(len(inputs), limits.MAX_EMBEDDING_INPUTS, "proxies.embedding.inputs", where)
    for name in inputs:
        if not isinstance(name, str) or name not in DESCRIPTOR_INDEX:
            raise _fail(where, f"proxies.embedding: unknown descriptor {name!r}")
    n = len(inputs)
    center = _numbers(emb.get("center"), n, "proxies.embedding.center", where)
    scale = _numbers(emb.get("scale"), n, "proxies.embedding.scale", where)
    if any(s <= 0 for s in scale):
        raise _fail(where, "proxies.embedding.scale must be positive")
    dim = raw.get("dim")
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
        raise _fail(where, "proxies.dim must be a positive integer")
    _at_most(dim, limits.MAX_PROXY_DIM, "proxies.dim", where)
    matrix = _matrix(emb.get("matrix"), dim, n, "proxies.embedding.matrix", where)
    temperature = raw.get("temperature", 1.0)
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature > 0:
        raise _fail(where, "proxies.temperature must be a positive number")
    style = _numbers(raw.get("style"), dim, "proxies.style", where)
    subjects_raw = raw.get("subjects") or {}
    if not isinstance(subjects_raw, dict):
        raise _fail(where, "proxies.subjects must be an object")
    _at_most(len(subjects_raw), limits.MAX_SUBJECTS, "proxies.subjects", where)
    subjects = {}
    for name, vec in subjects_raw.items():
        if not isinstance(name, str) or not name or name.startswith(("subject:", "embed:")):
            raise _fail(where, f"invalid subject name {name!r}")
        subjects[name] = _numbers(vec, dim, f"proxies.subjects.{name}", where)
    return Proxies(Embedding(list(inputs), center, scale, matrix), style, subjects, float(temperature))


def _decoder_from_dict(raw: Any, base: Params, proxies: Proxies, where: str) -> LinearDecoder:
    if not isinstance(raw, dict):
        raise _fail(where, "decoder must be an object or null")
    kind = raw.get("type")
    if kind not in DECODER_TYPES:
        raise _fail(where, f"decoder type {kind!r} is not supported by this version "
                           f"(known: {', '.join(DECODER_TYPES)})")
    inputs = raw.get("inputs")
    if not isinstance(inputs, list):
        raise _fail(where, "decoder.inputs must be a list")
    _at_most(len(inputs), limits.MAX_DECODER_INPUTS, "decoder.inputs", where)
    for name in inputs:
        if not _decoder_input_ok(name, proxies.subjects, proxies.dim):
            raise _fail(where, f"decoder: unknown input {name!r} (a descriptor name, subject:NAME or embed:K)")
    outputs = raw.get("outputs")
    if not isinstance(outputs, list):
        raise _fail(where, "decoder.outputs must be a list")
    _at_most(len(outputs), limits.MAX_DECODER_OUTPUTS, "decoder.outputs", where)
    for key in outputs:
        try:
            _, param, index = parse_key(key, base)
        except UnknownSliderError as exc:
            raise _fail(where, f"decoder: {exc}") from None
        if param == "curve" and index is None:
            raise _fail(where, "decoder outputs address curve knots one by one (global.curve.N)")
    weights = _matrix(raw.get("weights"), len(outputs), len(inputs), "decoder.weights", where)
    bias = _numbers(raw.get("bias"), len(outputs), "decoder.bias", where)
    center = None
    if raw.get("center") is not None:
        center = _numbers(raw["center"], len(inputs), "decoder.center", where)
    clip = None
    if raw.get("clip") is not None:
        clip = _matrix(raw["clip"], len(outputs), 2, "decoder.clip", where)
        if any(lo > hi for lo, hi in clip):
            raise _fail(where, "decoder.clip: each [lo, hi] needs lo <= hi")
    unknown = sorted(set(raw) - {"type", "inputs", "outputs", "weights", "bias", "center", "clip"})
    if unknown:
        raise _fail(where, f"decoder: unknown field(s) {', '.join(map(repr, unknown))}")
    return LinearDecoder(list(inputs), list(outputs), weights, bias, center, clip)


# --- files ------------------------------------------------------------------------------------

def read_style(path: str | os.PathLike, *, builtin: bool = False) -> Style:
    """Load and validate one style file (bounded: see `silverprint.styles.limits`)."""
    path = Path(path)
    try:
        data = read_bounded(path)
    except StyleLimitError as exc:
        raise _fail(str(path), str(exc)) from None
    except OSError as exc:
        raise _fail(str(path), f"cannot read style file ({exc.__class__.__name__}: "
                               f"{exc.strerror or exc})") from None
    style = style_from_bytes(data, str(path))
    style.builtin = builtin
    style.path = path
    return style


def style_from_bytes(data: bytes | str, where: str = "style") -> Style:
    """Parse and validate a style file's content. Whatever the bytes, the only error it raises is
    `InvalidStyleError`, one line naming `where` and what is wrong."""
    try:
        raw = parse_json(data)
    except UnicodeDecodeError as exc:
        raise _fail(where, f"not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise _fail(where, f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except StyleLimitError as exc:
        raise _fail(where, str(exc)) from None
    return style_from_dict(raw, where)


_NUMBER_LIST = re.compile(r"\[\s*((?:-?[0-9][0-9.eE+-]*,\s*)*-?[0-9][0-9.eE+-]*)\s*\]")


def style_to_json(style: Style) -> str:
    """Indented JSON with number lists (proxies, curves, weights) kept on one line each."""
    text = json.dumps(style.to_dict(), indent=2, ensure_ascii=False)
    return _NUMBER_LIST.sub(lambda m: "[" + re.sub(r",\s+", ", ", m.group(1)) + "]", text) + "\n"


def write_atomic(path: Path, text: str) -> Path:
    """Write text to `path` via a temporary file in the same folder and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def save_style(style: Style, path: str | os.PathLike) -> Path:
    """Write a style file atomically (validated first, within the limits `read_style` applies, so
    a style that could not be read back never reaches disk)."""
    text = style_to_json(style)
    style_from_bytes(text, str(path))
    return write_atomic(Path(path), text)
