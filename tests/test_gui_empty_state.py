"""Before a photo is open the companion says how to open one and offers the recent ones.

Real offscreen Qt widgets and the real engine: a fresh companion shows the empty state (not sliders
at 0, not unexplained grey tiles); opening a photo swaps in the sliders at the style's values and
remembers the photo; the next start offers it, and a click opens it again.
"""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("PyQt6", reason="the companion needs PyQt6 (pip install silverprint[gui])")
pytest.importorskip("pytestqt", reason="GUI tests need pytest-qt")


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("SILVERPRINT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SILVERPRINT_TOKEN", raising=False)
    return tmp_path


def _window(qtbot):
    from silverprint_gui.app import MainWindow

    win = MainWindow(host_service=False, device="cpu")
    qtbot.addWidget(win)
    win.show()
    return win


def _photo(path):
    """A small colour photo: sky-blue top, warm bottom, some texture."""
    from PIL import Image

    rng = np.random.default_rng(3)
    pixels = np.zeros((64, 96, 3), np.uint8)
    pixels[:32] = (90, 140, 220)
    pixels[32:] = (170, 110, 60)
    pixels = np.clip(pixels + rng.integers(-20, 20, pixels.shape), 0, 255).astype(np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def test_no_photo_shows_how_to_open_one_then_the_sliders_and_the_recent_photo(home, qtbot):
    win = _window(qtbot)
    assert win.side_stack.currentWidget() is win.empty and win.empty.isVisible()
    assert not win.regions.isVisible(), "sliders with nothing to adjust read 0: they must not show"
    assert "Open a photo" in win.empty.open_button.text() and "drop" in win.empty.hint.text()
    assert win.gallery_hint.isVisible() and "Open a photo" in win.gallery_hint.text()
    assert not win.empty.recent.isVisible() and win.empty.recent_paths() == []
    assert not win.tabs.isTabEnabled(win.tabs.indexOf(win.regions))

    win.empty.portfolio_button.click()  # learning needs no photo: the portfolio is one click away
    assert win.side_stack.currentWidget() is win.tabs and win.tabs.currentWidget() is win.portfolio
    assert not win.tabs.isTabEnabled(win.tabs.indexOf(win.regions))

    photo = _photo(home / "harbour.png")
    with qtbot.waitSignal(win.styleApplied, timeout=120_000):
        win.open_path(photo)
    assert win.side_stack.currentWidget() is win.tabs and win.tabs.isTabEnabled(win.tabs.indexOf(win.regions))
    assert not win.gallery_hint.isVisible()
    assert win.base != type(win.base)(), "the sliders start from the style's values, not all 0"
    win.close()

    again = _window(qtbot)
    assert again.empty.recent.isVisible()
    assert again.empty.recent_paths() == [str(photo.resolve())]
    with qtbot.waitSignal(again.styleApplied, timeout=120_000):
        again.empty.recent.itemClicked.emit(again.empty.recent.item(0))
    assert again.doc is not None and again.doc.source.resolve() == photo.resolve()
    again.close()


def test_recent_files_are_newest_first_once_each_and_only_existing(home, qapp):
    from silverprint_gui.app import companion_settings
    from silverprint_gui.emptystate import RECENT_MAX, recent_files, remember

    settings = companion_settings()
    photos = [_photo(home / f"p{i}.png") for i in range(RECENT_MAX + 2)]
    for path in photos:
        remember(settings, path)
    remember(settings, photos[3])
    listed = recent_files(settings)
    assert listed[0] == photos[3].resolve() and len(listed) == RECENT_MAX
    assert len(set(listed)) == len(listed)
    photos[-1].unlink()
    assert photos[-1].resolve() not in recent_files(settings)
