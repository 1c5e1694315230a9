"""The inverse fit (`learn.fit`) on edits whose sliders are known: what it can recover."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from silverprint.learn import fit
from silverprint.params import SEMANTIC_REGIONS, Params
from silverprint.render import render
from silverprint.render.tensors import params_to_tensors
from learn_files import KODAK, photo

pytestmark = pytest.mark.skipif(not KODAK.is_dir(), reason="needs ../shared/data (the team's data pack)")
PHOTOS = ("kodim23", "kodim03", "kodim22")  # parrots, hats, a red barn under blue sky: many hues


def _pairs(truth: Params) -> list[fit.FitData]:
    out = []
    for name in PHOTOS:
        rgb = photo(name, 160).astype(np.float32) / 255
        masks = np.zeros((len(SEMANTIC_REGIONS), 8, 8), np.float32)
        masks[-1] = 1.0  # one region: this test is about the colour filter, not the masks
        edit = render(torch.from_numpy(rgb).permute(2, 0, 1)[None], torch.from_numpy(masks)[None], None,
                      params_to_tensors(truth))[0, 0].numpy()
        edit = np.round(edit * 255) / 255  # an 8-bit edit, as users export them
        out.append(fit.fit_data(name, rgb, edit, masks, np.zeros(4, np.float32), samples=8000))
    return out


def _fit(data: list[fit.FitData]) -> fit.FitResult:
    with fit.single_thread():
        return fit.fit_shared(data, Params(), regional=False, local=False, steps=80)


def test_the_fit_moves_band_centres_toward_the_edits(monkeypatch):
    """Edits made with a colour filter whose red and blue sit elsewhere than ours: the fit moves
    those centres the right way, and reproduces the edits better than with the centres held."""
    truth = Params()
    for key, value in {"all.red": 70, "all.blue": -80, "all.yellow": 30, "global.red_hue": -10,
                       "global.blue_hue": 10}.items():
        truth.set(key, value)
    data = _pairs(truth)
    moved = _fit(data)
    assert moved.params.global_["red_hue"] <= -4
    assert moved.params.global_["blue_hue"] >= 4
    monkeypatch.setattr(fit, "GLOBAL_FIT_HI", fit.GLOBAL_FIT_HI.clone())
    monkeypatch.setattr(fit, "GLOBAL_FIT_LO", fit.GLOBAL_FIT_LO.clone())
    for i, name in enumerate(fit.GLOBAL_FIT_NAMES):
        if name.endswith("_hue"):
            fit.GLOBAL_FIT_HI[i] = fit.GLOBAL_FIT_LO[i] = 0.0
    held = _fit(data)
    assert held.params.global_["red_hue"] == held.params.global_["blue_hue"] == 0.0
    assert moved.psnr > held.psnr + 1.0, (moved.psnr, held.psnr)


SKIES = ("kodim21", "kodim22")  # a lighthouse under blue sky, a red barn under a grey-blue one


def _burned_pairs(burn: dict) -> list[fit.FitData]:
    truth = Params()
    truth.local = [burn]
    out = []
    for name in SKIES:
        rgb = photo(name, 160).astype(np.float32) / 255
        masks = np.zeros((len(SEMANTIC_REGIONS), 8, 8), np.float32)
        masks[-1] = 1.0
        edit = render(torch.from_numpy(rgb).permute(2, 0, 1)[None], torch.from_numpy(masks)[None], None,
                      params_to_tensors(truth))[0, 0].numpy()
        out.append(fit.fit_data(name, rgb, np.round(edit * 255) / 255, masks, np.zeros(4, np.float32),
                                samples=6000))
    return out


def test_the_fit_learns_a_colour_range_burn(monkeypatch):
    """Edits whose sky was burnt through a colour range (the ground reaching into the filter left
    alone): the template's colour-range filter reproduces them; the same filter without its colour
    range (a range at 0 stays at 0: its gradient there is flat) cannot do as well."""
    from silverprint.params import default_local

    burn = dict(default_local("radial"), x=0.5, y=0.1, width=1.3, height=0.6, feather=0.5,
                color_range=40, pick_x=0.5, pick_y=0.08, exposure=-1.2)
    data = _burned_pairs(burn)

    def run() -> fit.FitResult:
        with fit.single_thread():
            return fit.fit_shared(data, Params(), regional=False, steps=30, local_steps=80, polish=False)

    ranged = run()
    kept = [item for item in ranged.params.local if item.get("color_range", 0) > 5]
    assert kept and min(item["exposure"] for item in kept) < -0.4, ranged.params.local
    assert any(20 <= item["color_range"] <= 60 for item in kept), kept  # the edits' 40, roughly
    plain = [dict(t, color_range=0.0) if "color_range" in t else t for t in fit.LOCAL_TEMPLATE]
    monkeypatch.setattr(fit, "LOCAL_TEMPLATE", tuple(plain))
    without = run()
    assert all(item.get("color_range", 0) == 0 for item in without.params.local)
    assert ranged.psnr > without.psnr + 3.0, (ranged.psnr, without.psnr)


def test_local_adjustments_that_do_not_pay_for_themselves_are_dropped():
    """The learned burn stays; a barely visible graduated filter (fitted noise: it moves the error
    by far less than 1 %) goes, and so does one that makes the fit worse."""
    from silverprint.params import default_local

    burn = dict(default_local("radial"), x=0.5, y=0.1, width=1.3, height=0.6, feather=0.5,
                color_range=40, pick_x=0.5, pick_y=0.08, exposure=-1.2)
    batches = fit._batches(_burned_pairs(burn))
    noise = dict(default_local("graduated"), y=0.9, angle=180, feather=0.2, exposure=-0.03)
    harm = dict(default_local("radial"), x=0.3, y=0.7, width=0.3, height=0.3, exposure=0.8)
    fitted = Params()
    fitted.local = [noise, burn, harm]
    kept = fit.prune_locals(fitted, batches)
    assert [item["kind"] for item in kept.local] == ["radial"] and kept.local[0]["color_range"] == 40
    assert len(fitted.local) == 3  # the input is left alone
    # the noise filter is visible (so the old rule kept it): only its gain drops it
    with torch.no_grad():
        a = [fit._render(fit._tensors(fitted), b) for b in batches]
        without = fitted.copy()
        without.local = [burn, harm]
        b_ = [fit._render(fit._tensors(without), b) for b in batches]
    assert max(float((x - y).abs().amax()) for x, y in zip(a, b_)) >= fit.LOCAL_MIN_EFFECT


def _two_region_pairs(truth: Params) -> list[fit.FitData]:
    """Pairs whose masks call the top half sky and the rest other, edited with ``truth``."""
    out = []
    for name in SKIES:
        rgb = photo(name, 160).astype(np.float32) / 255
        masks = np.zeros((len(SEMANTIC_REGIONS), 8, 8), np.float32)
        masks[SEMANTIC_REGIONS.index("sky"), :4] = 1.0
        masks[-1, 4:] = 1.0
        edit = render(torch.from_numpy(rgb).permute(2, 0, 1)[None], torch.from_numpy(masks)[None], None,
                      params_to_tensors(truth))[0, 0].numpy()
        out.append(fit.fit_data(name, rgb, np.round(edit * 255) / 255, masks, np.zeros(4, np.float32),
                                samples=6000))
    return out


def test_per_region_sliders_must_pay_for_themselves():
    """A global edit (a film-like contrast and filter) is learned with every region alike: the
    8-bit rounding would otherwise pull the sky's sliders away from the ground's. An edit that
    burns the sky keeps its regions apart."""
    def run(truth: Params) -> Params:
        with fit.single_thread():
            return fit.fit_shared(_two_region_pairs(truth), Params(), regional=True, local=False).params

    film = Params()
    for key, value in {"all.contrast": 30, "all.red": 40, "all.blue": -30}.items():
        film.set(key, value)
    alike = run(film)
    sky, other = alike.regions["sky"], alike.regions["other"]
    assert all(sky[s] == other[s] for s in fit.FIT_REGION_SLIDERS), (sky, other)
    burnt = film.copy()
    burnt.set("sky.exposure", -1.0)
    apart = run(burnt)
    assert apart.regions["sky"]["exposure"] < apart.regions["other"]["exposure"] - 0.5, apart.regions
