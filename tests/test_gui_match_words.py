"""The portfolio tab speaks a photographer's words: "matches your edits: 94 % (on 3 photos it has
not seen)", not "held-out PSNR". The percentage is 100 × mean SSIM over the held-out photos
(`silverprint_gui.match`), checked here against SSIM computed by the learner's own metrics on
real images, shown by a real offscreen PortfolioPanel and style gallery tooltip.
"""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("PyQt6", reason="the companion needs PyQt6 (pip install silverprint[gui])")
pytest.importorskip("pytestqt", reason="GUI tests need pytest-qt")


def _report():
    """A learn_portfolio report whose held-out scores are real SSIM/PSNR of real image pairs."""
    from silverprint.learn.learner import PairScore, summarise
    from silverprint.learn.metrics import score

    rng = np.random.default_rng(7)
    scores = []
    for i, noise in enumerate((4, 10, 25)):
        edit = rng.integers(30, 220, (48, 64)).astype(np.uint8)
        rendering = np.clip(edit + rng.normal(0, noise, edit.shape), 0, 255).astype(np.uint8)
        grey = np.clip(edit * 0.6 + 60, 0, 255).astype(np.uint8)
        scores.append(PairScore(f"held{i}.jpg", score(rendering, edit), {"rec709": score(grey, edit)}))
    held = summarise(scores)
    entry = {"name": "mine", "train": ["a.jpg", "b.jpg", "c.jpg", "d.jpg"],
             "test": [s.name for s in scores], "heldout": held}
    return {"styles": [entry], "looks": {"count": 1}, "skipped": []}, scores


def test_portfolio_says_how_well_the_style_matches_unseen_edits(tmp_path, monkeypatch, qtbot):
    monkeypatch.setenv("SILVERPRINT_HOME", str(tmp_path))
    from silverprint_gui.portfolio import PortfolioPanel

    report, scores = _report()
    expected = 100 * float(np.mean([s.style.ssim for s in scores]))
    panel = PortfolioPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel._fill([(name, "paired", "") for name in ["a.jpg", "b.jpg", "c.jpg", "d.jpg", "held0.jpg",
                                                   "held1.jpg", "held2.jpg"]])
    panel._learned("mine", report)
    text = panel.summary.text()
    assert f"matches your edits: <b>{expected:.0f} %</b> (on 3 photos it has not seen)" in text, text
    assert "PSNR" not in text and "dB" not in text
    pairs, value = panel.plot.points[-1]
    assert pairs == 4 and value == pytest.approx(expected, abs=0.01)
    baseline = 100 * float(np.mean([s.baselines["rec709"].ssim for s in scores]))
    assert f"plain grey conversion matches {baseline:.0f} %" in text
    row = [panel.table.item(i, 2).text() for i in range(panel.table.rowCount())
           if panel.table.item(i, 0).text() == "held0.jpg"][0]
    assert row == f"matches your edit: {100 * scores[0].style.ssim:.0f} %"
    assert not panel.plot.grab().isNull()  # the plot paints percentages without error


def test_learned_style_tooltip_uses_the_same_words(qapp):
    from silverprint.params import Params
    from silverprint.styles.style import make_style
    from silverprint_gui.gallery import StyleGallery

    style = make_style("mine", "learned from 12 pairs", Params(), pairs=12,
                       metrics={"psnr": 31.2, "ssim": 0.9412, "heldout_pairs": 3})
    tip = StyleGallery._tooltip(style)
    assert "matches your edits: 94 % (on 3 photos it has not seen)" in tip and "PSNR" not in tip


def test_match_percent_is_ssim_as_a_percentage():
    from silverprint_gui.match import match_percent, match_words

    assert match_percent(0.944) == pytest.approx(94.4)
    assert match_percent(-0.2) == 0.0 and match_percent(1.0) == 100.0
    assert match_words(94.4, 1) == "matches your edits: 94 % (on 1 photo it has not seen)"
