"""`watch`'s warm update (issue 14, item 4): one new pair refines the saved style's per-pixel
sliders and refits its per-photo model, keeping the decisions only a cold `learn` searches for
(local adjustments, region split), and reuses every unchanged pair's own fit."""
from __future__ import annotations

import pytest

from learn_files import KODAK, bw_edit, photo, save, short_fits

pytestmark = pytest.mark.skipif(not KODAK.is_dir(), reason="needs ../shared/data (the team's data pack)")
NAMES = ("kodim03", "kodim05", "kodim07", "kodim08", "kodim15", "kodim19", "kodim20", "kodim22", "kodim23",
         "kodim14")


def _add(folder, name):
    rgb = photo(name, 160)
    save(rgb, folder / "originals" / f"{name}.jpg", quality=95)
    save(bw_edit(rgb), folder / "edits" / f"{name}.jpg", quality=95)


def test_warm_update_keeps_locals_reuses_pair_fits_and_follows_the_new_pair(tmp_path, monkeypatch):
    from silverprint.learn import fit, learner, model
    from silverprint.styles import load_style

    short_fits(monkeypatch, tmp_path / "home")
    folder = tmp_path / "portfolio"
    for name in NAMES[:-1]:
        _add(folder, name)
    first = learner.learn_portfolio(folder, "w", evaluate=False, warm=True)  # no style yet: cold
    # the photographer's style has a graduated sky filter (as a cold learn of a sky style finds)
    from silverprint.params import default_local
    from silverprint.styles import save_user_style

    before = load_style("w")
    sky = dict(default_local("graduated"), x=0.5, y=0.3, angle=0.0, feather=0.4, exposure=-0.6)
    before.base.local = [sky]
    save_user_style(before)
    before = load_style("w")
    fitted_pairs = []
    real_fit_pairs = model.fit_pairs
    monkeypatch.setattr(model, "fit_pairs", lambda states, base, **kw: (
        fitted_pairs.extend(s.data.name for s in states), real_fit_pairs(states, base, **kw))[1])
    _add(folder, NAMES[-1])
    report = learner.learn_portfolio(folder, "w", evaluate=False, warm=True)
    after = load_style("w")
    assert report["prepared"] == 1 and report["reused"] == len(NAMES) - 1
    trained = set(report["train"])
    # only training pairs without an own fit from the last update are fitted (the new one, and
    # those the protocol's split moved from held-out into training)
    assert set(fitted_pairs) == trained - set(first["train"]) and fitted_pairs
    assert after.base.local == before.base.local == [sky]  # kept, geometry and strength
    assert after.base.global_["curve"] != before.base.global_["curve"]  # but the tone was refitted
    assert after.provenance["pairs"] == len(trained)
