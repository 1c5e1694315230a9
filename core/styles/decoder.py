"""From a style and a photo's descriptors to that photo's sliders (`decode`).

Three additive steps, each simple enough to read off the style file:

1. **base**: the style's own sliders.
2. **subjects**: the photo is embedded (`embed`: a linear map of named descriptors) and softly
   assigned to the style proxy and the subject proxies, ``w = softmax(-|e - p|^2 / T)``. The style
   proxy is the "general" anchor with no adjustment; each subject's slider deltas are added with
   its weight, so a clear portrait gets the portrait deltas and an ambiguous photo little of any.
3. **decoder**: a linear map of descriptors (and of the subject weights / embedding, if the file
   names them) to further slider deltas, each optionally clipped. This is what makes a built-in
   style content-adaptive (exposure compensation by image key, a graduated sky filter only as
   strong as there is sky) and what the learner fits from a portfolio.

The result is clamped to every slider's range (curve knots to [0, 1] and made non-decreasing), so
any style file decodes to valid `Params` for any photo.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..descriptors import DESCRIPTOR_INDEX, DIM
from ..errors import ShapeError
from ..params import (CURVE_KNOTS, GLOBAL_SLIDER_SPECS, HUE_SHIFT_NAMES, LOCAL_KINDS, REGION_SLIDER_SPECS,
                      SEMANTIC_REGIONS, Params, Slider)
from .style import Style

GENERAL = "general"  # the name of the style proxy's slot in `assign`


def _check(descriptors: np.ndarray) -> np.ndarray:
    x = np.asarray(descriptors, dtype=np.float64).reshape(-1)
    if x.shape[0] != DIM:
        raise ShapeError(f"expected {DIM} descriptors (silverprint.descriptors), got {x.shape[0]}")
    return np.nan_to_num(x)


def embed(style: Style, descriptors: np.ndarray) -> np.ndarray:
    """The photo's position (D,) in the style's proxy space."""
    x = _check(descriptors)
    emb = style.proxies.embedding
    idx = [DESCRIPTOR_INDEX[n] for n in emb.inputs]
    z = (x[idx] - np.asarray(emb.center)) / np.asarray(emb.scale)
    return np.asarray(emb.matrix, dtype=np.float64) @ z


def assign(style: Style, descriptors: np.ndarray) -> dict[str, float]:
    """Soft assignment weights over ``general`` (the style proxy) and each subject; sum to 1."""
    e = embed(style, descriptors)
    names = [GENERAL] + list(style.proxies.subjects)
    anchors = np.array([style.proxies.style] + list(style.proxies.subjects.values()), dtype=np.float64)
    logits = -((anchors - e) ** 2).sum(axis=1) / style.proxies.temperature
    w = np.exp(logits - logits.max())
    w /= w.sum()
    return {n: float(v) for n, v in zip(names, w)}


def decoder_inputs(style: Style, descriptors: np.ndarray,
                   weights: dict[str, float] | None = None) -> np.ndarray:
    """The decoder's input vector, in the order its ``inputs`` name them."""
    dec = style.decoder
    if dec is None:
        return np.zeros(0)
    x = _check(descriptors)
    weights = weights if weights is not None else assign(style, descriptors)
    e = None
    values = []
    for name in dec.inputs:
        if name.startswith("subject:"):
            values.append(weights.get(name[len("subject:"):], 0.0))
        elif name.startswith("embed:"):
            e = embed(style, descriptors) if e is None else e
            values.append(e[int(name[len("embed:"):])])
        else:
            values.append(x[DESCRIPTOR_INDEX[name]])
    return np.asarray(values, dtype=np.float64)


def decoder_deltas(style: Style, descriptors: np.ndarray,
                   weights: dict[str, float] | None = None) -> dict[str, float]:
    """The linear decoder's slider deltas for this photo (empty without a decoder)."""
    dec = style.decoder
    if dec is None:
        return {}
    x = decoder_inputs(style, descriptors, weights)
    if dec.center is not None:
        x = x - np.asarray(dec.center)
    out = np.asarray(dec.weights, dtype=np.float64).reshape(len(dec.outputs), len(dec.inputs)) @ x
    out = out + np.asarray(dec.bias)
    if dec.clip is not None:
        clip = np.asarray(dec.clip, dtype=np.float64)
        out = np.clip(out, clip[:, 0], clip[:, 1])
    deltas: dict[str, float] = {}
    for key, value in zip(dec.outputs, out):
        deltas[key] = deltas.get(key, 0.0) + float(value)
    return deltas


def _add(params: Params, key: str, delta: Any, scale: float) -> None:
    """Add ``scale * delta`` to one slider (unclamped; `_clamp` runs once at the end)."""
    region, name = key.split(".", 1)
    if region == "global" and name.startswith("curve"):
        curve = params.global_["curve"]
        if name == "curve":
            for i, d in enumerate(delta):
                curve[i] += scale * float(d)
        else:
            curve[int(name[len("curve."):])] += scale * float(delta)
    elif region == "global":
        params.global_[name] += scale * float(delta)
    elif region == "all":
        for target in SEMANTIC_REGIONS:
            params.regions[target][name] += scale * float(delta)
    elif region in SEMANTIC_REGIONS:
        params.regions[region][name] += scale * float(delta)
    else:  # localN, validated on load
        params.local[int(region[5:])][name] += scale * float(delta)


def _clamp_value(spec: Slider, value: float) -> float:
    if not math.isfinite(value):
        return spec.default
    return min(max(value, spec.lo), spec.hi)


def clamp_params(params: Params) -> Params:
    """Clamp every slider into its range; curve knots to [0, 1] and non-decreasing (in place)."""
    for sliders in params.regions.values():
        for name, spec in REGION_SLIDER_SPECS.items():
            sliders[name] = _clamp_value(spec, sliders[name])
    for name, spec in GLOBAL_SLIDER_SPECS.items():
        params.global_[name] = _clamp_value(spec, params.global_[name])
    params.global_["grain_seed"] = float(round(params.global_["grain_seed"]))
    for name in HUE_SHIFT_NAMES:  # the renderer moves band centres by whole degrees
        params.global_[name] = float(round(params.global_[name]))
    curve = np.clip(np.nan_to_num(np.asarray(params.global_["curve"], dtype=np.float64)), 0.0, 1.0)
    params.global_["curve"] = [float(v) for v in np.maximum.accumulate(curve)]
    for local in params.local:
        for name, value in list(local.items()):
            if name == "kind":
                continue
            spec = LOCAL_KINDS[local["kind"]].get(name) or REGION_SLIDER_SPECS[name]
            local[name] = _clamp_value(spec, value)
    return params


def decode(style: Style, descriptors: np.ndarray) -> Params:
    """The style's sliders for one photo: base + subject deltas + decoder deltas, clamped."""
    params = style.base.copy()
    weights = assign(style, descriptors)
    for subject, deltas in style.subjects.items():
        w = weights.get(subject, 0.0)
        if w <= 1e-6:
            continue
        for key, delta in deltas.items():
            _add(params, key, delta, w)
    for key, delta in decoder_deltas(style, descriptors, weights).items():
        _add(params, key, delta, 1.0)
    assert len(params.global_["curve"]) == CURVE_KNOTS
    return clamp_params(params)


def explain(style: Style, descriptors: np.ndarray) -> dict[str, Any]:
    """Why a photo got its sliders: subject weights and decoder deltas (for `styles show`, GUI)."""
    weights = assign(style, descriptors)
    return {"subjects": weights, "decoder": decoder_deltas(style, descriptors, weights)}
