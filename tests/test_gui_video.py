"""The companion with a video, offscreen, on a small real clip with the real video path.

What an editor does: open a clip, scrub to a frame and see it in B&W with the style and their
slider changes, export the whole clip with progress, or cancel the export half way. The clip is
built from real photos by `tests/videoclips.py` (160×120, 1 s: a pan, a cut, a zoom).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("PyQt6", reason="the companion needs PyQt6 (pip install silverprint[gui])")
pytest.importorskip("pytestqt", reason="GUI tests need pytest-qt")

import av  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from videoclips import KODAK, make_clip, pan_zoom_shots  # noqa: E402

from silverprint.params import SEMANTIC_REGIONS  # noqa: E402

needs_photos = pytest.mark.skipif(not (KODAK / "kodim23.png").exists(),
                                  reason=f"sample photos not found in {KODAK}")
pytestmark = needs_photos

FPS = 24
TIMEOUT = 120_000  # ms; the first preview loads the segmentation models


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("gui-video-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SILVERPRINT_HOME", str(home))
        yield home


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("clips")
    return make_clip(folder / "harbour.mp4", pan_zoom_shots(FPS, 1.0), size=(160, 120), fps=FPS)


@pytest.fixture(scope="module")
def window(home, qapp):
    from silverprint_gui.app import MainWindow

    win = MainWindow(host_service=False, device="cpu")
    win.show()
    yield win
    win.close()
    win.deleteLater()


@pytest.fixture
def opened(window, clip, qtbot):
    """The clip open at frame 0 with the default style and no slider changes."""
    from silverprint_gui import document

    if window.video is None or window.video.source != clip:
        with qtbot.waitSignal(window.styleApplied, timeout=TIMEOUT):
            window.open_path(clip)
    elif window.params != window.base or window.style_name != document.default_style_name():
        with qtbot.waitSignal(window.styleApplied, timeout=TIMEOUT):
            window.apply_style(document.default_style_name())
    window.videobar.slider.setValue(0)
    qtbot.waitUntil(lambda: window.last_preview_frame == 0 and not window._renderer.busy, timeout=TIMEOUT)
    return window


def _is_grey(image: np.ndarray) -> bool:
    return image.ndim == 2 or bool(np.abs(image - image.mean(axis=2, keepdims=True)).max() < 1e-3)


def _part_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".part" in p.name)


def test_open_video_shows_a_grey_preview_of_the_first_frame(opened, clip):
    win = opened
    image = np.asarray(win.last_preview)
    assert image.shape[:2] == (120, 160)
    assert _is_grey(image)
    assert image.std() > 0.05  # a photo, not a blank frame
    assert win.videobar.isVisible() and win.videobar.slider.maximum() == FPS - 1
    assert win.videobar.label.text().startswith(f"Frame 1 / {FPS}")
    assert win.act_export.isEnabled() and not win.act_overlay.isEnabled()
    assert not win.act_before.isEnabled()  # no colour "before" is shown for a video frame


def test_scrubbing_previews_the_chosen_frame_and_drops_stale_ones(opened, clip, qtbot):
    from silverprint.video import preview_frame

    win = opened
    first = np.array(win.last_preview, copy=True)
    dropped = win._renderer.dropped
    for index in range(1, FPS):  # a fast scrub to the end of the clip (past the cut)
        win.videobar.slider.setValue(index)
    qtbot.waitUntil(lambda: win.last_preview_frame == FPS - 1 and not win._renderer.busy, timeout=TIMEOUT)
    assert win._renderer.dropped > dropped  # positions passed over were never rendered
    assert win.videobar.label.text().startswith(f"Frame {FPS} / {FPS}")
    last = np.asarray(win.last_preview)
    assert np.abs(last - first).mean() > 0.02  # another photo after the cut
    # exactly what the video path renders for that frame with the style
    expected = preview_frame(clip, FPS - 1, win.style_name, {}, device="cpu")
    np.testing.assert_allclose(last, expected, atol=1e-5)


def test_slider_changes_reach_the_video_preview(opened, qtbot):
    win = opened
    before = np.array(win.last_preview, copy=True)
    for region in SEMANTIC_REGIONS:
        win.on_slider(f"{region}.exposure", -1.0, False)
    qtbot.waitUntil(lambda: not win._renderer.busy, timeout=TIMEOUT)
    assert win.last_preview_frame == 0
    after = np.asarray(win.last_preview)
    assert after.mean() < before.mean() - 0.05  # one stop down darkens the frame
    from silverprint_gui import document

    assert document.video_overrides(win.base, win.params) == {f"{r}.exposure": -1.0 for r in SEMANTIC_REGIONS}


def test_export_writes_a_grey_video_with_every_frame_and_full_progress(opened, clip, qtbot):
    from silverprint.video import probe
    from silverprint_gui.export import default_video_path

    win = opened
    dst = default_video_path(clip)
    assert dst == clip.with_name("harbour_bw.mp4")
    original = clip.read_bytes()
    seen: list[tuple[int, int]] = []
    win.videoExportProgress.connect(lambda done, total: seen.append((done, total)))
    with qtbot.waitSignal(win.videoExportFinished, timeout=TIMEOUT) as finished:
        win.export_video_to(dst)
        assert win.videobar.progress.isVisible() and win.videobar.cancel.isVisible()
    path, _message = finished.args
    assert Path(path) == dst and dst.is_file()
    assert seen[-1] == (FPS, FPS) and win.videobar.progress.value() == 100
    assert not win.videobar.progress.isVisible()  # the bar goes once the export is done
    assert probe(dst).frames == probe(clip).frames == FPS
    with av.open(str(dst)) as container:
        frames = [f.to_ndarray(format="yuv420p") for f in container.decode(video=0)]
    assert len(frames) == FPS
    for yuv in frames:
        assert np.abs(yuv[120:].astype(int) - 128).max() <= 1  # neutral chroma: grey
    assert clip.read_bytes() == original
    assert _part_files(clip.parent) == []


@pytest.fixture(scope="module")
def long_clip(clip) -> Path:
    """3 s: long enough that a Cancel clicked at the first progress report lands mid-export even
    on a loaded machine (the export thread and the UI thread share two cores)."""
    return make_clip(clip.with_name("long.mp4"), pan_zoom_shots(FPS, 3.0), size=(160, 120), fps=FPS)


def test_cancel_mid_export_leaves_no_file(window, long_clip, qtbot):
    win = window
    with qtbot.waitSignal(win.styleApplied, timeout=TIMEOUT):
        win.open_path(long_clip)
    total = 3 * FPS
    dst = long_clip.with_name("long_cancelled.mp4")
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        seen.append((done, total))
        if len(seen) == 1:
            win.videobar.cancel.click()

    win.videoExportProgress.connect(progress)
    try:
        with qtbot.waitSignal(win.videoExportFinished, timeout=TIMEOUT) as finished:
            win.export_video_to(dst)
    finally:
        win.videoExportProgress.disconnect(progress)
    path, message = finished.args
    assert path == "" and "cancelled" in message
    assert 1 <= seen[-1][0] < total  # it stopped part way
    assert not dst.exists() and _part_files(long_clip.parent) == []
    assert win.act_export.isEnabled()  # ready for another try


def test_export_refuses_the_original(opened, clip):
    win = opened
    original = clip.read_bytes()
    win.export_video_to(clip)
    assert win._export_cancel is None  # nothing started
    assert clip.read_bytes() == original


def test_a_broken_video_gives_one_line_and_keeps_the_open_clip(opened, clip, qtbot, tmp_path):
    from silverprint_gui import errors

    win = opened
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all" * 100)
    count = len(errors.shown)
    win.open_path(broken)
    qtbot.waitUntil(lambda: len(errors.shown) > count, timeout=TIMEOUT)
    message = errors.shown[-1]
    assert "broken.mp4" in message and "\n" not in message
    assert win.video is not None and win.video.source == clip


def test_dropping_a_video_opens_it(window, clip, long_clip, qtbot):
    from silverprint_gui.qt import QDropEvent, QMimeData, QPointF, Qt, QUrl

    win = window
    target = long_clip if win.video is None or win.video.source != long_clip else clip
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(target))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(win.styleApplied, timeout=TIMEOUT):
        win.dropEvent(event)
    assert win.video is not None and win.video.source == target
    qtbot.waitUntil(lambda: win.last_preview_frame == 0 and not win._renderer.busy, timeout=TIMEOUT)
