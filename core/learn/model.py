"""From fitted pairs to a style: a style proxy, subject proxies and a content-adaptive decoder.

Following DESIGN.md "Styles and proxies" (after Shin et al., CVPR 2024), scaled down to tens of pairs:

- **Style proxy / base**: one slider set fitted on all training pairs at once (`fit.fit_shared`),
  pulled toward the nearest built-in style when there are few pairs.
- **Subject proxies**: subjects are discovered by clustering the pairs on what they show
  (descriptors) *and* on what the photographer did to them (each pair's own fitted sliders relative
  to the base). A linear embedding of the descriptors is then trained with a Proxy-Anchor loss
  (Kim et al. 2020; margin 0.1, alpha 32, on negative squared distances so that the style file's
  soft assignment ``softmax(-|e - p|^2 / T)`` uses the very geometry that was trained) so that a new
  photo, which has descriptors but no edit, lands near the right subject. Each subject's slider
  deltas are its members' mean deltas, shrunk toward zero by member count.
- **Content-adaptive decoder** (`perphoto`): per-photo tone sliders as a shrunk linear function of a
  few descriptors, fitted through the renderer on top of base and subjects, shrinkage chosen by
  cross-validation on the training pairs.

Every component is kept only if it lowers the leave-one-out error on the training pairs (the
`ablation` record of the style says what was measured and kept); the benchmark repeats the same
ablation on truly held-out pairs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch

from ..params import CURVE_KNOTS, GLOBAL_SLIDER_SPECS, REGION_SLIDER_SPECS, SEMANTIC_REGIONS, Params
from . import fit, perphoto

VECTOR_KEYS: tuple[str, ...] = (
    tuple(f"{r}.{s}" for r in SEMANTIC_REGIONS for s in fit.FIT_REGION_SLIDERS)
    + tuple(f"global.{m}" for m in fit.GLOBAL_FIT_NAMES)
    + tuple(f"global.curve.{i}" for i in range(CURVE_KNOTS)))
#: Slider units per normalised unit (half each slider's range; curve knots are already in [0, 1]).
VECTOR_SCALE = np.array(
    [(REGION_SLIDER_SPECS[k.split(".")[1]].hi - REGION_SLIDER_SPECS[k.split(".")[1]].lo) / 2
     for k in VECTOR_KEYS if k.split(".")[0] in SEMANTIC_REGIONS]
    + [(GLOBAL_SLIDER_SPECS[m].hi - GLOBAL_SLIDER_SPECS[m].lo) / 2 for m in fit.GLOBAL_FIT_NAMES]
    + [1.0] * CURVE_KNOTS)
#: Pairs a subject needs before it is worth a proxy of its own.
MIN_SUBJECT_PAIRS = 4
MAX_SUBJECTS = 4
EMBED_DIM = 4
PROXY_MARGIN = 0.1
PROXY_ALPHA = 32.0
#: Pairs of evidence worth as much as the built-in prior (the prior fades as pairs accumulate).
PRIOR_PAIRS = 3.0
#: Relative leave-one-out error reduction a component must bring to be kept (about 0.04 dB):
#: a component that changes nothing measurable only adds ways to be wrong on new photos.
MIN_GAIN = 0.01
#: Pull of a pair's own fit toward the base (log-MSE units per normalised slider squared).
PAIR_ANCHOR = 1.0
#: Pull of the base toward the nearest built-in style at PRIOR_PAIRS pairs (halved there).
PRIOR_WEIGHT = 0.2


def to_vector(params: Params) -> np.ndarray:
    """The fitted sliders of a Params as one vector in `VECTOR_KEYS` order (slider units)."""
    out = []
    for key in VECTOR_KEYS:
        region, name = key.split(".", 1)
        if region == "global" and name.startswith("curve."):
            out.append(params.global_["curve"][int(name[6:])])
        elif region == "global":
            out.append(params.global_[name])
        else:
            out.append(params.regions[region][name])
    return np.asarray(out, dtype=np.float64)


def add_vector(params: Params, delta: np.ndarray) -> Params:
    """Params + delta (slider units, `VECTOR_KEYS` order), clamped into every range."""
    from ..styles import clamp_params

    result = params.copy()
    for key, value in zip(VECTOR_KEYS, delta):
        if value == 0:
            continue
        region, name = key.split(".", 1)
        if region == "global" and name.startswith("curve."):
            result.global_["curve"][int(name[6:])] += float(value)
        elif region == "global":
            result.global_[name] += float(value)
        else:
            result.regions[region][name] += float(value)
    return clamp_params(result)


# --------------------------------------------------------------------------- proxies


def kmeans(x: np.ndarray, k: int, seed: int = 0, iterations: int = 50) -> np.ndarray:
    """Plain k-means++ labels (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    centres = [x[rng.integers(len(x))]]
    for _ in range(1, k):
        d = np.min([((x - c) ** 2).sum(1) for c in centres], axis=0)
        centres.append(x[rng.choice(len(x), p=d / d.sum())] if d.sum() > 0 else x[rng.integers(len(x))])
    c = np.array(centres)
    labels = np.zeros(len(x), dtype=int)
    for _ in range(iterations):
        labels = np.argmin(((x[:, None] - c[None]) ** 2).sum(-1), axis=1)
        new = np.array([x[labels == j].mean(0) if (labels == j).any() else c[j] for j in range(k)])
        if np.allclose(new, c):
            break
        c = new
    return labels


def silhouette(x: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette width: how well separated the clusters are (-1..1)."""
    if len(set(labels.tolist())) < 2:
        return -1.0
    d = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
    scores = []
    for i in range(len(x)):
        same = labels == labels[i]
        same[i] = False
        if not same.any():
            scores.append(0.0)
            continue
        a = d[i, same].mean()
        b = min(d[i, labels == j].mean() for j in set(labels.tolist()) if j != labels[i])
        scores.append((b - a) / max(a, b, 1e-12))
    return float(np.mean(scores))


def proxy_anchor_embedding(z: np.ndarray, labels: np.ndarray, dim: int = EMBED_DIM, steps: int = 300,
                           seed: int = 0) -> tuple[np.ndarray, np.ndarray, float]:
    """Train a linear embedding and one proxy per label with a Proxy-Anchor loss.

    Similarity is the negative squared distance scaled to unit average spread, so the learned
    proxies are exactly what the style file's soft assignment compares photos with.
    Returns (matrix dim x D, proxies k x dim, temperature).
    """
    gen = torch.Generator().manual_seed(seed)
    x = torch.tensor(z, dtype=torch.float32)
    y = torch.tensor(labels)
    k = int(labels.max()) + 1
    matrix = torch.nn.Parameter(torch.randn(dim, x.shape[1], generator=gen) * 0.3)
    proxies = torch.nn.Parameter(torch.randn(k, dim, generator=gen) * 0.5)
    opt = torch.optim.Adam([matrix, proxies], lr=0.05)
    onehot = torch.nn.functional.one_hot(y, k).float()
    for _ in range(steps):
        opt.zero_grad()
        e = x @ matrix.T
        sim = -((e[:, None] - proxies[None]) ** 2).sum(-1) / dim  # (N, k)
        # log(1 + sum exp(.)) as softplus(logsumexp(.)): distances are unbounded, so the sums
        # of exponentials of the original formula overflow.
        ninf = torch.full_like(sim, -torch.inf)
        pos = torch.where(onehot > 0, -PROXY_ALPHA * (sim - PROXY_MARGIN), ninf)
        neg = torch.where(onehot > 0, ninf, PROXY_ALPHA * (sim + PROXY_MARGIN))
        with_pos = onehot.sum(0) > 0
        pos_term = torch.nn.functional.softplus(torch.logsumexp(pos, 0))[with_pos].sum() / with_pos.sum()
        neg_term = torch.nn.functional.softplus(torch.logsumexp(neg, 0)).sum() / k
        loss = pos_term + neg_term
        loss = loss + 1e-3 * (matrix ** 2).sum()
        loss.backward()
        opt.step()
    with torch.no_grad():
        e = x @ matrix.T
        spread = float(((e[:, None] - proxies[None]) ** 2).sum(-1).min(1).values.mean()) + 1e-3
    return matrix.detach().numpy().astype(np.float64), proxies.detach().numpy().astype(np.float64), spread


# --------------------------------------------------------------------------- learning


@dataclass
class PairState:
    """What the model needs of one training pair."""

    data: fit.FitData
    delta: np.ndarray | None = None  # own fit minus base, slider units
    residual: float | None = None  # own fit's MSE


@dataclass
class Learned:
    params: Params  # the base (style proxy's sliders)
    subjects: dict[str, np.ndarray] = field(default_factory=dict)  # name -> delta vector
    embedding: dict[str, Any] | None = None  # inputs, center, scale, matrix, proxies, style, T
    decoder: dict[str, Any] | None = None  # inputs, center, outputs, weights, bias, clip
    ablation: dict[str, Any] = field(default_factory=dict)
    prior: str | None = None
    base_mse: float = 0.0


def descriptor_stats(descriptors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    center = descriptors.mean(0)
    scale = descriptors.std(0) + 1e-3
    return center, scale


def nearest_builtin(data: list[fit.FitData]) -> tuple[str | None, Params | None]:
    """The built-in style whose rendering is closest to these edits (the prior for few pairs)."""
    from ..styles import builtin_names, decode, load_style

    best: tuple[float, str | None, Params | None] = (math.inf, None, None)
    batch = [fit._batches([fit.downsample(d, fit.LOCAL_SIDE)])[0] for d in data]
    for name in builtin_names():
        try:
            style = load_style(name)
        except Exception:  # a broken built-in must not stop learning
            continue
        if style.toned:
            continue
        err = 0.0
        for item, b in zip(data, batch):
            params = decode(style, item.descriptors)
            params.local = []  # geometry of a built-in's local filters is not a tone prior
            with torch.no_grad():
                err += float(((fit._render(fit._tensors(params), b) - b.edit) ** 2).mean())
        if err < best[0]:
            best = (err, name, decode(style, np.mean([d.descriptors for d in data], 0)))
    if best[2] is not None:
        best[2].local = []
    return best[1], best[2]


def fit_base(data: list[fit.FitData], *, init: Params | None = None, steps: int | None = None,
             local_steps: int | None = None, progress=None, use_prior: bool = True) -> tuple[fit.FitResult, str | None]:
    """The style proxy's sliders: one shared fit over all pairs, pulled toward the nearest
    built-in style with a weight that fades as pairs accumulate."""
    from .baselines import fit_global

    prior_name, prior = nearest_builtin(data) if use_prior else (None, None)
    if init is None:
        gf = fit_global([d.s_rgb.numpy().T for d in data], [d.s_edit.numpy()[0] for d in data],
                        max_pixels=60_000)
        init = fit.params_from_global(gf)
    weight = PRIOR_PAIRS / (PRIOR_PAIRS + len(data)) if prior is not None else 0.0
    result = fit.fit_shared(data, init, steps=steps or fit.TONE_STEPS,
                            local_steps=fit.LOCAL_STEPS if local_steps is None else local_steps,
                            progress=progress, anchor=prior, anchor_weight=PRIOR_WEIGHT * weight)
    return result, prior_name


def fit_pairs(states: list[PairState], base: Params, steps: int = 40,
              progress: Callable[[int, int], None] | None = None) -> None:
    """Each pair's own sliders relative to the base (what the decoder and subjects explain)."""
    base_v = to_vector(base)
    for i, state in enumerate(states):
        # Only the region sliders move (all regions alike): with the base's curve and mix fixed,
        # a pair's own sliders are identifiable, so averaging them (subjects) or predicting them
        # (decoder) is meaningful.
        result = fit.fit_shared([state.data], base, regional=False, local=False, steps=steps,
                                lr=0.02, anchor=base, anchor_weight=PAIR_ANCHOR, polish=False,
                                global_sliders=False)
        state.delta = to_vector(result.params) - base_v
        state.residual = result.mse
        if progress:
            progress(i + 1, len(states))


def _pair_error(params: Params, item: fit.FitData) -> float:
    batch = fit._sampled_batch([item], 2000, fixed_local=params)
    with torch.no_grad():
        return float(((fit._render(fit._tensors(params), batch) - batch.edit) ** 2).mean())


def _softmax(logits: np.ndarray) -> np.ndarray:
    w = np.exp(logits - logits.max(1, keepdims=True))
    return w / w.sum(1, keepdims=True)


def learn_model(states: list[PairState], base: Params, *, components: str = "auto",
                seed: int = 0) -> Learned:
    """Subjects and decoder on top of a fitted base. ``components``: "auto" (keep what lowers the
    leave-one-out error), "global", "subjects" or "decoder" (force, for the ablation)."""
    from ..descriptors import DESCRIPTOR_NAMES

    n = len(states)
    learned = Learned(base)
    descriptors = np.array([s.data.descriptors for s in states], dtype=np.float64)
    center, scale = descriptor_stats(descriptors)
    z = (descriptors - center) / scale
    deltas = np.array([s.delta for s in states]) if states and states[0].delta is not None else np.zeros((n, len(VECTOR_KEYS)))
    err_base = np.array([_pair_error(base, s.data) for s in states])
    learned.base_mse = float(err_base.mean()) if n else 0.0
    ablation: dict[str, Any] = {"loo_mse": {"global": learned.base_mse}}

    # ---- subjects: cluster on descriptors + what the photographer did
    labels = None
    if n >= 2 * MIN_SUBJECT_PAIRS and components in ("auto", "subjects", "decoder"):
        dz = z[:, z.std(0) > 1e-6]
        dn = deltas / VECTOR_SCALE
        dn = dn[:, dn.std(0) > 1e-9]
        feats = np.hstack([dz / math.sqrt(max(dz.shape[1], 1)),
                           (dn - dn.mean(0)) / (dn.std() + 1e-9) / math.sqrt(max(dn.shape[1], 1))])
        best = (-1.0, None)
        for k in range(2, min(MAX_SUBJECTS, n // MIN_SUBJECT_PAIRS) + 1):
            lab = kmeans(feats, k, seed)
            if np.bincount(lab, minlength=k).min() < 2:
                continue
            score = silhouette(feats, lab)
            if score > best[0]:
                best = (score, lab)
        labels = best[1]
    subject_err = None
    if labels is not None:
        matrix, proxies, spread = proxy_anchor_embedding(z, labels, seed=seed)
        e = z @ matrix.T
        k = proxies.shape[0]
        anchors = np.vstack([e.mean(0, keepdims=True), proxies])  # the style proxy first
        assign = _softmax(-((e[:, None] - anchors[None]) ** 2).sum(-1) / spread)[:, 1:]
        subject_err = np.zeros(n)
        for i in range(n):  # leave-one-out: subject means without pair i
            others = np.arange(n) != i
            pred = np.zeros(len(VECTOR_KEYS))
            for j in range(k):
                members = others & (labels == j)
                if members.any():
                    shrink = members.sum() / (members.sum() + 2.0)
                    pred += assign[i, j] * shrink * deltas[members].mean(0)
            subject_err[i] = _pair_error(add_vector(base, pred), states[i].data)
        ablation["loo_mse"]["subjects"] = float(subject_err.mean())
        subjects = {}
        for j in range(k):
            members = labels == j
            shrink = members.sum() / (members.sum() + 2.0)
            subjects[f"subject{j + 1}"] = shrink * deltas[members].mean(0)
        style_proxy = (e.mean(0)).tolist()
        learned.embedding = {"inputs": list(DESCRIPTOR_NAMES), "center": center.tolist(),
                             "scale": scale.tolist(), "matrix": matrix.tolist(),
                             "proxies": {name: proxies[j].tolist() for j, name in enumerate(subjects)},
                             "style": style_proxy, "temperature": spread,
                             "sizes": {name: int((labels == j).sum()) for j, name in enumerate(subjects)}}
        learned.subjects = subjects
        keep_subjects = (components in ("subjects", "decoder")
                         or subject_err.mean() < (1 - MIN_GAIN) * err_base.mean())
        if not keep_subjects:
            learned.subjects = {}
            learned.embedding = None
    # ---- decoder: per-photo tone, fitted through the renderer (`perphoto`), shrinkage by CV
    if (n >= perphoto.MIN_PAIRS or (n >= 4 and components == "decoder")) and components in ("auto", "decoder"):
        prior_pred = np.zeros((n, len(VECTOR_KEYS)))
        if learned.subjects:
            e = z @ np.asarray(learned.embedding["matrix"]).T
            names = list(learned.subjects)
            anchors = np.array([learned.embedding["style"]] + [learned.embedding["proxies"][s] for s in names])
            w = _softmax(-((e[:, None] - anchors[None]) ** 2).sum(-1) / learned.embedding["temperature"])
            prior_pred = w[:, 1:] @ np.array([learned.subjects[s] for s in names])
        raw = perphoto.inputs_of(descriptors)
        d_center, d_scale = raw.mean(0), raw.std(0) + 1e-6
        pairs = perphoto.prepare([s.data for s in states], [add_vector(base, p) for p in prior_pred])
        choice = perphoto.choose(pairs, (raw - d_center) / d_scale, MIN_GAIN,
                                 force=components == "decoder")
        ablation["decoder_cv"] = {"log_mse": choice.cv,  # "none": no decoder; else the ridge strength
                                  "lambda": None if choice.lam is None else f"{choice.lam:g}"}
        if choice.matrix is not None:
            phi = np.hstack([np.ones((n, 1)), (raw - d_center) / d_scale])
            learned.decoder = perphoto.as_file(choice.matrix, d_center, d_scale, phi @ choice.matrix.T)
    ablation["kept"] = (["global"] + (["subjects"] if learned.subjects else [])
                        + (["decoder"] if learned.decoder else []))
    learned.ablation = ablation
    return learned


def _rounded(params: Params) -> Params:
    """Sliders rounded far below what is visible (1e-4 of a slider unit), for a readable file."""
    out = params.copy()
    for sliders in out.regions.values():
        for k, v in sliders.items():
            sliders[k] = round(float(v), 4)
    for k, v in out.global_.items():
        out.global_[k] = [round(float(c), 6) for c in v] if k == "curve" else round(float(v), 4)
    for item in out.local:
        for k, v in item.items():
            if k != "kind":
                item[k] = round(float(v), 4)
    return out


def build_style(learned: Learned, name: str, *, description: str, provenance: dict[str, Any]):
    """The style file object (schema 1) for a learned model."""
    from ..descriptors import DESCRIPTOR_NAMES
    from ..styles import Embedding, LinearDecoder, Proxies, Style

    if learned.embedding:
        emb = learned.embedding
        embedding = Embedding(list(emb["inputs"]), list(emb["center"]), list(emb["scale"]),
                              [list(r) for r in emb["matrix"]])
        proxies = Proxies(embedding, list(emb["style"]), {k: list(v) for k, v in emb["proxies"].items()},
                          float(emb["temperature"]))
    else:  # a single proxy: the embedding is unused, keep it minimal and valid
        embedding = Embedding([DESCRIPTOR_NAMES[0]], [0.0], [1.0], [[0.0]])
        proxies = Proxies(embedding, [0.0], {}, 1.0)
    subjects = {}
    for subject, delta in learned.subjects.items():
        subjects[subject] = {k: round(float(v), 6) for k, v in zip(VECTOR_KEYS, delta) if abs(v) > 1e-6}
    decoder = None
    if learned.decoder:
        d = learned.decoder
        decoder = LinearDecoder(list(d["inputs"]), list(d["outputs"]), [list(r) for r in d["weights"]],
                                list(d["bias"]), list(d["center"]), [list(c) for c in d["clip"]])
    base = _rounded(learned.params)
    provenance = dict(provenance)
    provenance.setdefault("source", "learned")
    provenance["ablation"] = learned.ablation
    if learned.prior:
        provenance["prior"] = learned.prior
    return Style(name=name, description=description, base=base, proxies=proxies,
                 subjects=subjects, decoder=decoder, provenance=provenance)
