"""The local stage of the inverse fit tries several colour-range pick starts (`fit._fit_local`).

A colour-range adjustment reads the colour it selects at its pick point, so the fit's error is
flat or rugged in that point and gradient descent keeps whatever colour it starts on. Edits here
burn a blue sky that fills only the left of the top edge (an orange wall fills the rest, where the
template's own pick sits): one start cannot find the sky; the starts along the top edge can.
Synthetic photos (made here, no data pack needed), rendered by the product's own renderer.
"""
from __future__ import annotations

import numpy as np
import torch

from silverprint.learn import fit
from silverprint.params import SEMANTIC_REGIONS, Params, default_local
from silverprint.render import render
from silverprint.render.tensors import params_to_tensors

H, W = 72, 108
BLUE, ORANGE = (0.30, 0.50, 0.85), (0.85, 0.50, 0.25)


def _photo(seed: int, sky_right: float) -> np.ndarray:
    """Blue sky over the top left (to ``sky_right`` of the width), an orange wall beside it, grey
    and green ground below; mild noise so that no two pixels are alike."""
    rng = np.random.default_rng(seed)
    rgb = np.empty((H, W, 3), np.float32)
    rgb[:] = (0.45, 0.45, 0.42)
    rgb[H // 2:, : W // 2] = (0.30, 0.45, 0.25)
    top = slice(0, int(H * 0.4))
    rgb[top, : int(W * sky_right)] = BLUE
    rgb[top, int(W * sky_right):] = ORANGE
    rgb += rng.normal(0, 0.02, rgb.shape).astype(np.float32)
    return np.clip(rgb, 0, 1)


def _pairs() -> list[fit.FitData]:
    truth = Params()
    truth.local = [dict(default_local("radial"), x=0.5, y=0.1, width=1.3, height=0.7, feather=0.5,
                        color_range=35, pick_x=0.1, pick_y=0.05, exposure=-1.3)]
    out = []
    for seed, right in ((1, 0.35), (2, 0.4), (3, 0.3)):
        rgb = _photo(seed, right)
        masks = np.zeros((len(SEMANTIC_REGIONS), 8, 8), np.float32)
        masks[-1] = 1.0  # one region: this test is about the local stage
        edit = render(torch.from_numpy(rgb).permute(2, 0, 1)[None], torch.from_numpy(masks)[None], None,
                      params_to_tensors(truth))[0, 0].numpy()
        out.append(fit.fit_data(f"p{seed}", rgb, np.round(edit * 255) / 255, masks, np.zeros(4, np.float32),
                                samples=4000))
    return out


def _run(data: list[fit.FitData]) -> fit.FitResult:
    with fit.single_thread():
        return fit.fit_shared(data, Params(), regional=False, steps=30, local_steps=80, polish=False)


def test_a_burn_picked_off_the_template_point_is_found_from_another_start(monkeypatch):
    data = _pairs()
    several = _run(data)
    ranged = [item for item in several.params.local if item.get("color_range", 0) > 5]
    assert ranged and min(item["exposure"] for item in ranged) < -0.5, several.params.local
    assert any(item["pick_x"] < 0.4 for item in ranged), ranged  # on the sky, not the wall
    monkeypatch.setattr(fit, "PICK_STARTS", ())  # the template's pick alone
    one = _run(data)
    assert several.psnr > one.psnr + 2.0, (several.psnr, one.psnr)


def test_the_local_stage_ends_at_its_best_iterate_not_its_last():
    """`_Run` leaves the model at the iterate of lowest loss (error plus priors), which a noisy
    run (a large step) does not end at, and reports that iterate's error."""
    data = _pairs()
    batches = [fit._geometry_batch(data, 500)]
    run = fit._Run(fit._Model(fit.with_template(Params()), regional=False, local=True), batches, 25, 0.2)
    seen: list[float] = []
    run.advance(25, lambda i, n, v: seen.append(v))
    mse = run.best[1]
    assert mse in seen and seen.index(mse) < len(seen) - 1, (mse, seen)
    model = run.finish()
    with torch.no_grad():
        again = float(((fit._render(model.tensors(), batches[0]) - batches[0].edit) ** 2).mean())
    assert abs(again - mse) < 1e-4 * mse  # float rounding only


def test_a_style_that_has_its_pick_goes_on_from_it_alone(monkeypatch):
    """A warm start (`watch` after one new pair) keeps the basin its style was learned in: one run
    of the local stage from the style's own pick, not the further starts; a fresh fit runs every
    start, by successive halving, for under twice the steps of one run."""
    data = _pairs()
    batches = [fit._geometry_batch(data, 300)]
    steps: list[int] = []
    fresh = fit._fit_local(Params(), False, batches, 8, 0.03, lambda i, n, v: steps.append(i))
    assert len(fit.PICK_STARTS) >= 2
    assert len(steps) == fit._halving_budget(1 + len(fit.PICK_STARTS), 8) <= 2 * 8
    assert steps[-1] == 8  # progress ends at the stage's end
    steps.clear()
    learned = fit._params_of(fresh)
    learned.local[-1]["pick_x"] = 0.15
    again = fit._fit_local(learned, False, batches, 8, 0.03, lambda i, n, v: steps.append(i))
    assert len(steps) == 8
    assert abs(fit._params_of(again).local[-1]["pick_x"] - 0.15) < 0.05
