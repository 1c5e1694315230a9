"""The portfolio panel explains the open photo: what the current style decided for it, and why.

Real offscreen companion, real photo, real analysis; a learned-style file written by hand with a
known decoder (exposure against the photo's median brightness), so the expected words are known:
the panel must show exactly the core's sentences for that photo, and follow the style and the photo.
"""
from __future__ import annotations

import html
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("PyQt6", reason="the companion needs PyQt6 (pip install silverprint[gui])")
pytest.importorskip("pytestqt", reason="GUI tests need pytest-qt")

from shared_data import KODAK  # noqa: E402

PHOTO = KODAK / "kodim21.png"
pytestmark = pytest.mark.skipif(not PHOTO.exists(), reason=f"sample photos not found in {KODAK}")


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("SILVERPRINT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SILVERPRINT_TOKEN", raising=False)
    return tmp_path


def _known_style(center: float):
    """A learned style whose exposure rises 2 EV per unit the median brightness is below ``center``."""
    from silverprint.params import Params
    from silverprint.styles import LinearDecoder, make_style, save_user_style

    decoder = LinearDecoder(inputs=["lum_p50"], outputs=["all.exposure"], weights=[[-2.0]], bias=[0.0],
                            center=[center], clip=[[-1.0, 1.0]])
    style = make_style("my-known", "hand-made", Params(), source="learned", pairs=8, decoder=decoder)
    save_user_style(style)
    return style


def test_portfolio_panel_explains_the_open_photo(home, qtbot):
    from silverprint.descriptors import DESCRIPTOR_INDEX
    from silverprint.learn.explain import explain_photo
    from silverprint_gui.app import MainWindow

    win = MainWindow(host_service=False, device="cpu")
    qtbot.addWidget(win)
    win.show()
    why = win.portfolio.why
    assert why.sentences == [] and "Open a photo" in why.heading.text()
    with qtbot.waitSignal(why.explained, timeout=120_000):
        win.open_path(PHOTO)
    qtbot.waitUntil(lambda: win.doc is not None, timeout=10_000)
    median = float(win.doc.analysis.descriptors[DESCRIPTOR_INDEX["lum_p50"]])

    # the usual for this style is brighter than the photo: it must be pushed up, "darker than your usual"
    style = _known_style(center=median + 0.15)
    with qtbot.waitSignal(why.explained, timeout=60_000) as shown:
        win.apply_style("my-known")
    sentences = shown.args[0]
    assert sentences == explain_photo(style, win.doc.analysis).sentences()
    exposure = next(s for s in sentences if "EV exposure" in s)
    assert exposure.startswith("+0.30 EV exposure: darker than your usual"), exposure
    assert f"median brightness {median:.2f}" in exposure
    assert why.heading.text() == "kodim21.png with my-known"
    assert html.escape(exposure) in why.body.text()
    win.tabs.setCurrentWidget(win.portfolio)
    qtbot.waitUntil(lambda: why.body.isVisible(), timeout=5_000)

    # another style, another explanation: a built-in without a per-photo decoder on this photo
    from silverprint.styles import load_style

    with qtbot.waitSignal(why.explained, timeout=60_000) as shown:
        win.apply_style("neutral")
    assert shown.args[0] == explain_photo(load_style("neutral"), win.doc.analysis).sentences()
    assert not any("darker than your usual" in s for s in shown.args[0])
    assert why.heading.text() == "kodim21.png with neutral"
    assert np.isfinite(median)
