"""Learning a style from a portfolio folder, end to end: pair, prepare (cached), fit, model, save,
evaluate on held-out pairs. The CLI (`learn`, `evaluate`), `watch` and the benchmark call this.

Held-out protocol (the data README's): pair names are sorted, permuted with
``numpy.random.default_rng(0)``, the first `train_count(n)` are used for learning and the rest only
for the metrics the style file records, so a photographer sees how their style does on photos it
has not seen.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import SilverprintError
from . import fit, model
from .consistency import contradicting
from .index import PairRecord, PortfolioIndex
from .metrics import Score, mean_scores, score
from .pairing import Pair, PairSkipped, Skip, find_pairs, prepare_pair

Progress = Callable[[str, int, int], None]  # (stage, done, total)
#: Separation (mean silhouette) of two clusters of fitted looks above which a portfolio holds two
#: distinct styles: 0.5 is the conventional "reasonable structure" bound (Kaufman & Rousseeuw).
#: Measured: single styles 0.20-0.37, two public styles mixed 0.64.
LOOKS_MIN_SILHOUETTE = 0.5
LOOKS_MIN_PAIRS = 3


def train_count(n: int) -> int:
    """How many pairs learn (the rest are held out): half, at least 3, at least one held out."""
    if n <= 3:
        return n
    return max(3, min(n - 1, math.ceil(n / 2)))


def split(names: list[str], n_train: int | None = None) -> tuple[list[str], list[str]]:
    names = sorted(names)
    order = np.random.default_rng(0).permutation(len(names))
    k = train_count(len(names)) if n_train is None else min(n_train, len(names))
    return [names[i] for i in order[:k]], [names[i] for i in order[k:]]


@dataclass
class Item:
    pair: Pair
    data: fit.FitData


@dataclass
class Gathered:
    items: dict[str, Item] = field(default_factory=dict)
    skipped: list[Skip] = field(default_factory=list)
    reused: int = 0
    prepared: int = 0
    portfolio_id: int = 0


def _arrays_of(data: fit.FitData) -> dict[str, np.ndarray]:
    return {"rgb": data.rgb.numpy(), "edit": data.edit.numpy(), "masks": data.masks.numpy(),
            "descriptors": data.descriptors, "s_rgb": data.s_rgb.numpy(), "s_edit": data.s_edit.numpy(),
            "s_masks": data.s_masks.numpy(), "s_xy": data.s_xy.numpy()}


def _data_of(name: str, arrays: dict[str, np.ndarray]) -> fit.FitData:
    import torch

    t = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items() if k != "descriptors"}
    return fit.FitData(name, t["rgb"], t["edit"], t["masks"], arrays["descriptors"], t["s_rgb"],
                       t["s_edit"], t["s_masks"], t["s_xy"])


def prepare_item(pair: Pair) -> fit.FitData:
    """Load, check, analyse (regions + descriptors, as rendering will) and reduce one pair."""
    from ..pipeline import analyse

    prepared = prepare_pair(pair, keep_full=True)
    analysis = analyse(prepared.full_rgb)
    return fit.fit_data(pair.name, prepared.full_rgb, prepared.full_edit, analysis.masks,
                        analysis.descriptors)


def gather(portfolio: str | Path, index: PortfolioIndex, *, style: str | None = None,
           progress: Progress | None = None) -> Gathered:
    """Every usable pair of a portfolio, prepared once and cached in the index by file identity."""
    pairing = find_pairs(portfolio)
    out = Gathered(skipped=list(pairing.skipped), portfolio_id=index.portfolio(portfolio, style))
    pid = out.portfolio_id
    for i, pair in enumerate(pairing.pairs):
        if progress:
            progress("prepare", i, len(pairing.pairs))
        try:
            original, edit = index.identity(pair.original), index.identity(pair.edit)
        except OSError as exc:
            out.skipped.append(Skip(pair.edit, f"unreadable ({exc.strerror or exc})"))
            continue
        cached = index.cached_fit(pid, pair.name, original, edit, fit.FIT_VERSION)
        if cached is not None and cached.status == "skipped":
            out.skipped.append(Skip(Path((cached.extra or {}).get("path", pair.edit)), cached.reason or ""))
            continue
        arrays = index.arrays(pid, pair.name) if cached is not None else None
        if arrays is not None:
            out.items[pair.name] = Item(pair, _data_of(pair.name, arrays))
            out.reused += 1
            continue
        record = PairRecord(pair.name, original.path, edit.path, pair.matched_by, original.sha256,
                            edit.sha256, "ready", None, fit.FIT_VERSION, None, None, None, None)
        try:
            data = prepare_item(pair)
        except PairSkipped as exc:
            record.status, record.reason, record.extra = "skipped", exc.reason, {"path": str(exc.path)}
            index.store(pid, record)
            out.skipped.append(exc.skip())
            continue
        except SilverprintError as exc:
            out.skipped.append(Skip(pair.edit, str(exc)))
            continue
        record.descriptors = [float(v) for v in data.descriptors]
        index.store(pid, record)
        index.store_arrays(pid, pair.name, _arrays_of(data))
        out.items[pair.name] = Item(pair, data)
        out.prepared += 1
    if progress:
        progress("prepare", len(pairing.pairs), len(pairing.pairs))
    index.keep_only(pid, {p.name for p in pairing.pairs})
    index.set_skipped(pid, [(str(s.path), s.reason) for s in out.skipped])
    return out


# --------------------------------------------------------------------------- learning


@dataclass
class Fitted:
    """A learned model with what it was learned from."""

    learned: model.Learned
    states: list[model.PairState]
    prior: str | None
    seconds: float


def learn_items(items: list[Item], *, components: str = "auto", init=None, steps: int | None = None,
                local_steps: int | None = None, progress: Progress | None = None,
                cached: dict[str, np.ndarray] | None = None, use_prior: bool = True,
                warm: bool = False) -> Fitted:
    """Fit base, per-pair fits, subjects and decoder on these pairs.

    ``cached``: per-pair deltas kept from the previous update (watch): only pairs without one are
    fitted again, which is what makes one new pair cheap.
    ``warm`` (with ``init``, the saved style's base): refine the base as `warm_base` does instead
    of fitting it from scratch.
    """
    start = time.monotonic()
    data = [item.data for item in items]
    total = (steps or fit.TONE_STEPS) + (fit.LOCAL_STEPS if local_steps is None else local_steps)

    def base_progress(stage: str, i: int, n: int, _mse: float) -> None:
        if progress:
            progress("fit style", i if stage == "tone" else (steps or fit.TONE_STEPS) + i, total)

    with fit.single_thread():
        if warm and init is not None:
            base, prior = warm_base(data, init, WARM_TONE_STEPS if steps is None else steps,
                                    progress=base_progress), None
        else:
            base, prior = model.fit_base(data, init=init, steps=steps, local_steps=local_steps,
                                         progress=base_progress, use_prior=use_prior)
        states = [model.PairState(d) for d in data]
        if cached:
            for state in states:
                if state.data.name in cached:
                    state.delta = cached[state.data.name]
        todo = [s for s in states if s.delta is None]
        if components != "global" and len(states) >= 4 and todo:
            model.fit_pairs(todo, base.params,
                            progress=(lambda i, n: progress("fit pairs", i, n)) if progress else None)
        learned = model.learn_model(states, base.params, components=components)
    learned.prior = prior
    return Fitted(learned, states, prior, time.monotonic() - start)


def looks(states: list[model.PairState]) -> tuple[np.ndarray | None, float]:
    """Do the pairs hold two distinct looks? Labels (or None) and the clusters' separation."""
    vectors = [s.delta for s in states if s.delta is not None]
    if len(vectors) < 2 * LOOKS_MIN_PAIRS:
        return None, -1.0
    x = signature(np.array(vectors))
    labels = model.kmeans(x, 2)
    sep = model.silhouette(x, labels)
    if sep < LOOKS_MIN_SILHOUETTE or np.bincount(labels, minlength=2).min() < LOOKS_MIN_PAIRS:
        return None, sep
    return labels, sep


def signature(deltas: np.ndarray) -> np.ndarray:
    """What a pair's own fit does, as a vector comparable across pairs (normalised slider units)."""
    return deltas / model.VECTOR_SCALE


# --------------------------------------------------------------------------- evaluation


@dataclass
class PairScore:
    name: str
    style: Score
    baselines: dict[str, Score]
    images: dict[str, np.ndarray] | None = None  # for the HTML report


def evaluate_pairs(style, pairs: list[Pair], global_fit=None, *, keep_images: bool = False,
                   progress: Progress | None = None) -> list[PairScore]:
    """Render each held-out original with the style through the product's own pipeline and score
    it against the photographer's edit at the edit's size; the same for the baselines."""
    from ..pipeline import analyse, render_photo
    from . import baselines

    out = []
    for i, pair in enumerate(pairs):
        if progress:
            progress("evaluate", i, len(pairs))
        try:
            prepared = prepare_pair(pair, keep_full=True)
        except PairSkipped:
            continue
        rgb, edit = prepared.full_rgb, prepared.full_edit
        analysis = analyse(rgb)
        rendering = render_photo(rgb, style, analysis=analysis, device="cpu")
        base = {"rec709": baselines.rec709(rgb), "decolor": baselines.decolor(rgb)}
        if global_fit is not None:
            base["global_fit"] = global_fit.apply(rgb)
        scores = {k: score(v, edit) for k, v in base.items()}
        images = None
        if keep_images:
            images = {"original": rgb, "edit": edit, "rendering": rendering, **base}
        out.append(PairScore(pair.name, score(rendering, edit), scores, images))
    if progress:
        progress("evaluate", len(pairs), len(pairs))
    return out


def summarise(scores: list[PairScore]) -> dict[str, Any]:
    names = sorted({k for s in scores for k in s.baselines})
    return {"style": mean_scores([s.style for s in scores]),
            "baselines": {k: mean_scores([s.baselines[k] for s in scores if k in s.baselines]) for k in names},
            "pairs": {s.name: s.style.as_dict() for s in scores}}


def global_baseline(items: list[Item]):
    from .baselines import fit_global

    return fit_global([i.data.s_rgb.numpy().T for i in items], [i.data.s_edit.numpy()[0] for i in items])


# --------------------------------------------------------------------------- the whole command


def learn_portfolio(portfolio: str | Path, name: str, *, split_looks: bool = False,
                    n_train: int | None = None, components: str = "auto", evaluate: bool = True,
                    index_path: str | Path | None = None, progress: Progress | None = None,
                    save: bool = True, warm: bool = False) -> dict[str, Any]:
    """Learn (and save) a style from a portfolio folder; returns the report `learn --json` prints.

    ``warm``: start from the saved style of this name and take fewer steps (what `watch` does
    after one new pair).
    """
    from ..styles.style import check_name, now_iso

    check_name(name)
    start = time.monotonic()
    with PortfolioIndex(index_path) as index:
        gathered = gather(portfolio, index, style=name, progress=progress)
        report: dict[str, Any] = {
            "portfolio": str(Path(portfolio).resolve()), "pairs": len(gathered.items),
            "skipped": [s.as_dict() for s in gathered.skipped],
            "prepared": gathered.prepared, "reused": gathered.reused}
        if len(gathered.items) < 1:
            raise SilverprintError(f"{portfolio}: no usable (original, B&W edit) pairs found "
                                   f"({len(gathered.skipped)} files skipped)")
        train, test = split(list(gathered.items), n_train)
        report["train"], report["test"] = train, test
        init, steps, local_steps, cached = None, None, None, None
        if warm:
            init, steps, local_steps = _warm_start(name)
            if init is not None:
                cached = _cached_deltas(index, gathered.portfolio_id)
        fitted = learn_items([gathered.items[n] for n in train], components=components, init=init,
                             steps=steps, local_steps=local_steps, progress=progress, cached=cached,
                             use_prior=init is None, warm=init is not None)
        for state in fitted.states:
            _store_fit(index, gathered, state)
        labels, separation = looks(fitted.states)
        report["looks"] = {"count": 1 if labels is None else 2, "separation": round(separation, 3)}
        styles = [(name, [gathered.items[n] for n in train], [gathered.items[n] for n in test], fitted)]
        if labels is not None:
            groups = [[train[i] for i in range(len(train)) if labels[i] == j] for j in (0, 1)]
            report["looks"]["groups"] = groups
            proxies = look_proxies(fitted.states, labels)
            if split_looks:
                styles = _split_styles(name, gathered, groups, test, components, progress,
                                       fitted.learned.params, proxies)
        report["styles"] = []
        for style_name, train_items, test_items, fitted_k in styles:
            entry = _finish_style(style_name, train_items, test_items, fitted_k, gathered, evaluate,
                                  save, progress, now_iso())
            report["styles"].append(entry)
        report["contradicts"] = [c for entry in report["styles"] for c in entry["contradicts"]]
        report["seconds"] = round(time.monotonic() - start, 2)
        return report


def _split_styles(name, gathered: Gathered, groups, test, components, progress, base, proxies):
    """One style per look; held-out pairs go to the look whose proxy their own fit is nearest."""
    out = []
    fits = []
    for j, group in enumerate(groups):
        fits.append(learn_items([gathered.items[n] for n in group], components=components, progress=progress))
    assigned = assign_looks([gathered.items[n] for n in test], base, proxies)
    for j, group in enumerate(groups):
        test_j = [gathered.items[n] for n, a in zip(test, assigned) if a == j]
        out.append((f"{name}-{j + 1}", [gathered.items[n] for n in group], test_j, fits[j]))
    return out


def look_proxies(states: list[model.PairState], labels: np.ndarray) -> np.ndarray:
    """One proxy per look: the mean signature of its pairs' own fits (relative to the shared base)."""
    x = signature(np.array([s.delta for s in states]))
    return np.array([x[labels == j].mean(0) for j in range(int(labels.max()) + 1)])


def assign_looks(items: list[Item], base, proxies: np.ndarray) -> list[int]:
    """For each pair (with its edit): fit its own sliders from the shared base, as the training
    pairs were, and take the look whose proxy is nearest."""
    states = [model.PairState(item.data) for item in items]
    with fit.single_thread():
        model.fit_pairs(states, base)
    x = signature(np.array([s.delta for s in states]))
    return [int(np.argmin(((proxies - v) ** 2).sum(1))) for v in x]


def _store_fit(index: PortfolioIndex, gathered: Gathered, state: model.PairState) -> None:
    item = gathered.items[state.data.name]
    records = [r for r in index.records(gathered.portfolio_id) if r.name == item.pair.name]
    if not records:
        return
    record = records[0]
    record.status = "fitted"
    record.residual = state.residual
    record.params = ({k: round(float(v), 5) for k, v in zip(model.VECTOR_KEYS, state.delta) if v}
                     if state.delta is not None else None)
    index.store(gathered.portfolio_id, record)


def _cached_deltas(index: PortfolioIndex, portfolio_id: int) -> dict[str, np.ndarray]:
    """Per-pair deltas stored by the last update, for pairs whose files have not changed."""
    out = {}
    for record in index.records(portfolio_id):
        if record.status == "fitted" and record.params is not None and record.fit_version == fit.FIT_VERSION:
            out[record.name] = np.array([record.params.get(k, 0.0) for k in model.VECTOR_KEYS])
    return out


def _warm_start(name: str):
    """The saved style's base (None when there is none yet) and the warm step count."""
    from ..styles import load_style

    try:
        style = load_style(name)
    except SilverprintError:
        return None, None, None
    return style.base.copy(), WARM_TONE_STEPS, 0


#: Adam steps of a warm update: none. The saved base is at its optimum for the pairs it was
#: learned from, one more pair moves that optimum a little, and L-BFGS (`fit.fit_shared`'s
#: polish, at its 20-iteration floor) converges there directly, where Adam's warm-up and decay
#: first wander off it. Measured (12 pairs learned, one added, scored on 8 pairs of the set not
#: in the folder): t3mujin-trix400 46.011 dB with 0 steps, 46.008 with 40, 46.009 with the
#: previous warm path (40 + 40 local steps); rt-regional-sky-subject 29.35, 29.29 and 29.01 dB.
WARM_TONE_STEPS = 0


def warm_base(data: list[fit.FitData], init, steps: int = WARM_TONE_STEPS, progress=None) -> fit.FitResult:
    """The style proxy's sliders refined from the saved style's (``init``) after a pair changed.

    One new pair among many moves the base a little; what it moves are the per-pixel sliders (mix,
    colour filter, tone, curve). The decisions of a cold fit that need the whole search again stay
    as they are until the next `learn`: the local adjustments (kept with their geometry: the search
    over colour-range pick starts alone is most of a cold fit), whether the regions are kept
    apart (their saved differences are kept; all regions move alike), and the prior (already in
    ``init``). Its quality is the saved style's: see `WARM_TONE_STEPS` for what was measured.
    """
    return fit.fit_shared(data, init, regional=False, local=False, steps=steps, progress=progress)


def _finish_style(name, train_items, test_items, fitted: Fitted, gathered, evaluate, save, progress,
                  created) -> dict[str, Any]:
    from ..paths import styles_dir
    from ..styles import save_style

    entry: dict[str, Any] = {"name": name, "train": [i.pair.name for i in train_items],
                             "test": [i.pair.name for i in test_items],
                             "ablation": fitted.learned.ablation, "prior": fitted.prior,
                             "learn_seconds": round(fitted.seconds, 2)}
    provenance = {"source": "learned", "pairs": len(train_items), "created": created,
                  "heldout_names": [i.pair.name for i in test_items]}
    style = model.build_style(fitted.learned, name, description=f"learned from {len(train_items)} pairs",
                              provenance=provenance)
    entry["subjects"] = style.provenance["subjects"] = subject_pairs(style, fitted.learned, train_items)
    entry["contradicts"] = style.provenance["contradicts"] = [
        {"name": c["name"], "why": c["why"]} for c in
        contradicting(style, [i.data for i in train_items + test_items])]
    if evaluate and test_items:
        gfit = global_baseline(train_items)
        scores = evaluate_pairs(style, [i.pair for i in test_items], gfit, progress=progress)
        summary = summarise(scores)
        entry["heldout"] = summary
        style.provenance["metrics"] = {k: v for k, v in summary["style"].items() if k != "n"}
        style.provenance["metrics"]["heldout_pairs"] = summary["style"]["n"]
    if save:
        path = styles_dir() / f"{name}.json"
        save_style(style, path)
        entry["path"] = str(path)
    entry["style"] = style
    return entry


def subject_pairs(style, learned: model.Learned, items: list[Item]) -> dict[str, int]:
    """How many training pairs each of the style's subjects has.

    The pairs a subject was learned from (its cluster) when the model records them; otherwise
    the pairs whose strongest soft assignment (`silverprint.styles.assign`) is that subject. A
    style without subjects has none: one recipe (the style proxy) serves every photo.
    """
    from ..styles import assign

    if not style.subjects:
        return {}
    sizes = (learned.embedding or {}).get("sizes") or {}
    if set(sizes) == set(style.subjects):
        return {k: int(sizes[k]) for k in style.subjects}
    counts = dict.fromkeys(style.subjects, 0)
    for item in items:
        weights = assign(style, item.data.descriptors)
        top = max(counts, key=lambda k: weights.get(k, 0.0))
        if weights.get(top, 0.0) >= max(weights.values()):
            counts[top] += 1
    return counts


#: Training-set sizes of the learning curve (plus "all": every training pair).
CURVE_SIZES = (3, 6, 12)


def evaluate_portfolio(portfolio: str | Path, style_name: str, *, report_dir: str | Path | None = None,
                       index_path: str | Path | None = None, progress: Progress | None = None,
                       learning_curve: bool = False) -> dict[str, Any]:
    """Score a style on a portfolio: its held-out pairs when the style was learned here (the rest
    train the global baseline), else the protocol's held-out half. ``learning_curve``: also learn
    from the first 3, 6, 12 training pairs and score those styles on the same held-out pairs."""
    from ..styles import load_style

    style = load_style(style_name)
    with PortfolioIndex(index_path) as index:
        gathered = gather(portfolio, index, progress=progress)
    names = sorted(gathered.items)
    held = [n for n in style.provenance.get("heldout_names", []) if n in gathered.items]
    if held:  # training pairs in the protocol's (permuted) order, so curves match `learn`'s
        test, train = held, [n for n in split(names, len(names))[0] if n not in held]
    else:
        train, test = split(names)
    if not test:
        raise SilverprintError(f"{portfolio}: no pairs to evaluate on ({len(gathered.skipped)} files skipped)")
    gfit = global_baseline([gathered.items[n] for n in train]) if train else None
    scores = evaluate_pairs(style, [gathered.items[n].pair for n in test], gfit,
                            keep_images=report_dir is not None, progress=progress)
    summary = summarise(scores)
    result = {"name": style.name, "portfolio": str(Path(portfolio).resolve()), **summary,
              "train": train, "test": test, "skipped": [s.as_dict() for s in gathered.skipped]}
    curve = None
    if learning_curve and train:
        curve = []
        for k in [k for k in CURVE_SIZES if k < len(train)]:
            fitted = learn_items([gathered.items[n] for n in train[:k]])
            trial = model.build_style(fitted.learned, f"{style.name}-{k}", description="learning curve",
                                      provenance={"pairs": k})
            s = summarise(evaluate_pairs(trial, [gathered.items[n].pair for n in test]))["style"]
            curve.append({"style": style.name, "pairs": k, "psnr": s["psnr"], "ssim": s["ssim"]})
        curve.append({"style": style.name, "pairs": len(train), "psnr": summary["style"]["psnr"],
                      "ssim": summary["style"]["ssim"], "all": True})
        result["learning_curve"] = curve
    if report_dir is not None:
        from .report import write_report

        result["report"] = str(write_report(report_dir, style.name, scores, summary, curve=curve))
    return result
