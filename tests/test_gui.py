"""The companion, offscreen, on real photos with the real engine and the real service on loopback.

What a photographer does: open a photo, pick a style, drag a slider and see the right pixels move,
look at a region's mask, answer a GIMP/darktable bridge session, learn a style from a portfolio,
export. Qt runs with the offscreen platform (set below, before Qt is imported).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import socket
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("PyQt6", reason="the companion needs PyQt6 (pip install silverprint[gui])")
pytest.importorskip("pytestqt", reason="GUI tests need pytest-qt")

from silverprint.params import CURVE_KNOTS, SEMANTIC_REGIONS  # noqa: E402

from silverprint_gui.history import History  # noqa: E402
from silverprint_gui.taskman import LatestOnly  # noqa: E402
from shared_data import KODAK, PAIRS  # noqa: E402

SKY_PHOTO = KODAK / "kodim21.png"   # lighthouse under a large clear sky
SKY = SEMANTIC_REGIONS.index("sky")
needs_data = pytest.mark.skipif(not SKY_PHOTO.exists(), reason=f"sample photos not found in {KODAK}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A private Silverprint home and service address for the whole module."""
    home = tmp_path_factory.mktemp("gui-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SILVERPRINT_HOME", str(home))
        mp.setenv("SILVERPRINT_URL", f"http://127.0.0.1:{_free_port()}")
        mp.delenv("SILVERPRINT_TOKEN", raising=False)
        yield home


@pytest.fixture(scope="module")
def window(home, qapp):
    """The main window hosting the service, with the sky photo open."""
    from silverprint_gui.app import MainWindow

    win = MainWindow(host_service=True, device="cpu")
    win.show()
    yield win
    win.close()
    win.deleteLater()


def _wait_preview(qtbot, win, action, timeout=60_000):
    with qtbot.waitSignal(win.previewUpdated, timeout=timeout):
        action()
    return np.array(win.last_preview, copy=True)


@pytest.fixture
def opened(window, qtbot):
    """The sky photo open with the default style, sliders at the style's values."""
    if window.doc is None or window.doc.source != SKY_PHOTO:
        with qtbot.waitSignal(window.styleApplied, timeout=120_000):
            window.open_path(SKY_PHOTO)
    from silverprint_gui import document

    if window.style_name != document.default_style_name() or window.params != window.base:
        with qtbot.waitSignal(window.styleApplied, timeout=60_000):
            window.apply_style(document.default_style_name())
    qtbot.waitUntil(lambda: window.last_preview is not None and not window._renderer.busy, timeout=60_000)
    return window


def _sky_weights(win, shape):
    """The sky mask resized to the preview (tests may do image math; the GUI may not)."""
    import cv2

    mask = win.doc.analysis.masks[SKY]
    return cv2.resize(mask, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)


def _luma(image):
    return image if image.ndim == 2 else image.mean(axis=2)


# --------------------------------------------------------------------------------- editor

@needs_data
def test_sky_exposure_darkens_only_the_sky(opened, qtbot):
    win = opened
    before = _luma(np.array(win.last_preview, copy=True))
    win.regions.select("sky")
    row = win.regions.rows["exposure"]
    assert row.key == "sky.exposure"
    start = row.value
    after = _luma(_wait_preview(qtbot, win, lambda: row.value_box.setValue(start - 1.0)))
    assert win.params.regions["sky"]["exposure"] == pytest.approx(start - 1.0, abs=0.006)
    weights = _sky_weights(win, before.shape)
    sky, ground = weights > 0.9, weights < 0.02
    assert sky.mean() > 0.1 and ground.mean() > 0.1, "the test photo should have both sky and ground"
    delta = after - before
    assert delta[sky].mean() < -0.05          # the sky got clearly darker
    assert abs(delta[ground].mean()) < 0.01   # the rest did not move
    assert np.abs(delta[ground]).max() < 0.05


@needs_data
def test_slider_drag_coalesces_and_is_one_undo_step(opened, qtbot):
    win = opened
    base = win.params.copy()
    row = win.regions.rows["contrast"]
    win.regions.select("vegetation")
    row.slider.setSliderDown(True)
    for step in range(1, 30):  # a fast drag: 29 positions while renders are running
        row.slider.setValue(row.slider.value() + 10)
    row.slider.setSliderDown(False)  # release: final
    qtbot.waitUntil(lambda: not win._renderer.busy, timeout=60_000)
    assert win._renderer.dropped > 0  # stale positions were never rendered
    assert win.params.regions["vegetation"]["contrast"] > base.regions["vegetation"]["contrast"]
    assert win.history.undo_label().startswith("Vegetation contrast")
    win.undo()
    assert win.params == base
    assert win.regions.rows["contrast"].value == pytest.approx(base.regions["vegetation"]["contrast"])
    win.redo()
    assert win.params.regions["vegetation"]["contrast"] > base.regions["vegetation"]["contrast"]
    win.undo()


@needs_data
def test_reset_slider_and_region_return_to_the_style_values(opened, qtbot):
    from silverprint_gui.qt import Qt

    win = opened
    win.regions.select("sky")
    base = win.base.regions["sky"]
    win.regions.rows["shadows"].value_box.setValue(base["shadows"] + 40)
    win.regions.rows["blue"].value_box.setValue(base["blue"] - 30)
    assert win.params.regions["sky"]["shadows"] == pytest.approx(base["shadows"] + 40, abs=0.5)
    win.regions.rows["shadows"].reset()
    assert win.params.regions["sky"]["shadows"] == base["shadows"]  # exactly the style's value
    assert win.params.regions["sky"]["blue"] == pytest.approx(base["blue"] - 30, abs=0.5)
    win.regions.reset_region.click()
    assert win.params.regions["sky"] == base
    # an arrow key held on a slider: many renders, one undo step
    row = win.regions.rows["contrast"]
    row.slider.setFocus()
    depth = len(win.history._entries)
    for _ in range(6):
        qtbot.keyClick(row.slider, Qt.Key.Key_Right)
    assert win.params.regions["sky"]["contrast"] > base["contrast"]
    assert len(win.history._entries) == depth + 1
    win.undo()
    assert win.params.regions["sky"] == base
    qtbot.waitUntil(lambda: not win._renderer.busy, timeout=60_000)


@needs_data
def test_mask_overlay_shows_the_sky(opened, qtbot):
    win = opened
    win.set_compare("after")
    win.viewer.fit()
    win.regions.select("sky")
    plain = win.viewer.grab().toImage()
    win.toggle_overlay(True)
    qtbot.waitUntil(lambda: win.viewer._overlay is not None, timeout=30_000)
    tinted = win.viewer.grab().toImage()
    win.toggle_overlay(False)
    rect = win.viewer.image_rect()
    weights = win.doc.analysis.masks[SKY]
    h, w = weights.shape
    changed_sky, changed_ground = [], []
    for fy in np.linspace(0.05, 0.95, 25):
        for fx in np.linspace(0.05, 0.95, 25):
            m = weights[int(fy * (h - 1)), int(fx * (w - 1))]
            x, y = int(rect.x() + fx * rect.width()), int(rect.y() + fy * rect.height())
            a, b = plain.pixelColor(x, y), tinted.pixelColor(x, y)
            diff = abs(a.red() - b.red()) + abs(a.green() - b.green()) + abs(a.blue() - b.blue())
            if m > 0.9:
                changed_sky.append(diff)
            elif m < 0.02:
                changed_ground.append(diff)
    assert changed_sky and changed_ground
    assert np.mean(changed_sky) > 40       # the sky is visibly tinted
    assert np.mean(changed_ground) < 5     # the ground is not


@needs_data
def test_control_point_adjusts_around_the_click(opened, qtbot):
    win = opened
    win.regions.add_point.setChecked(True)
    assert win.viewer.placing
    rect = win.viewer.image_rect()
    from silverprint_gui.qt import QPoint, Qt

    click = QPoint(int(rect.x() + 0.5 * rect.width()), int(rect.y() + 0.2 * rect.height()))
    qtbot.mouseClick(win.viewer, Qt.MouseButton.LeftButton, pos=click)
    assert len(win.params.local) == 1
    point = win.params.local[0]
    assert point["kind"] == "point"
    assert point["x"] == pytest.approx(0.5, abs=0.01) and point["y"] == pytest.approx(0.2, abs=0.01)
    assert win.regions.region == "local0" and not win.viewer.placing
    qtbot.waitUntil(lambda: not win._renderer.busy, timeout=60_000)
    before = _luma(np.array(win.last_preview, copy=True))
    row = win.regions.rows["exposure"]
    assert row.key == "local0.exposure"
    after = _luma(_wait_preview(qtbot, win, lambda: row.value_box.setValue(1.5)))
    h, w = before.shape
    delta = after - before
    near = delta[int(0.15 * h):int(0.25 * h), int(0.45 * w):int(0.55 * w)]
    far = delta[int(0.85 * h):, :int(0.1 * w)]
    assert near.mean() > 0.03 and abs(far.mean()) < 0.01
    # drag the point's handle to the lower right: it moves, as one undo step
    steps = 3
    start = QPoint(int(rect.x() + 0.5 * rect.width()), int(rect.y() + 0.2 * rect.height()))
    end = QPoint(int(rect.x() + 0.7 * rect.width()), int(rect.y() + 0.6 * rect.height()))
    qtbot.mousePress(win.viewer, Qt.MouseButton.LeftButton, pos=start)
    for k in range(1, steps + 1):
        qtbot.mouseMove(win.viewer, start + (end - start) * (k / steps))
    qtbot.mouseRelease(win.viewer, Qt.MouseButton.LeftButton, pos=end)
    point = win.params.local[0]
    assert point["x"] == pytest.approx(0.7, abs=0.01) and point["y"] == pytest.approx(0.6, abs=0.01)
    assert win.history.undo_label() == "move Point 1"
    win.undo()
    assert win.params.local[0]["x"] == pytest.approx(0.5, abs=0.01)
    qtbot.waitUntil(lambda: not win._renderer.busy, timeout=60_000)
    win.remove_point(0)
    assert win.params.local == []


@needs_data
def test_colour_range_burns_the_sky_not_the_lighthouse(opened, qtbot):
    """A graduated filter over the top half with a colour range picked in the sky darkens the blue
    sky, not the white lighthouse standing in it; dragging the eyedropper onto the tower turns that
    around, as one undo step."""
    from silverprint_gui.qt import QPoint, Qt

    win = opened
    win.regions.add_graduated.click()
    index = len(win.params.local) - 1
    rows = win.regions.geometry_rows["graduated"]
    assert rows["color_range"].isVisibleTo(win.regions) and rows["pick_x"].isVisibleTo(win.regions)
    for name, value in (("y", 0.6), ("feather", 0.2), ("pick_x", 0.2), ("pick_y", 0.1)):
        rows[name].value_box.setValue(value)
    qtbot.waitUntil(lambda: not win._renderer.busy, timeout=60_000)
    before = _luma(np.array(win.last_preview, copy=True))
    h, w = before.shape

    def darkening(image):
        delta = _luma(image) - before
        sky = delta[int(0.05 * h):int(0.2 * h), int(0.15 * w):int(0.3 * w)].mean()
        tower = delta[int(0.35 * h):int(0.48 * h), int(0.44 * w):int(0.465 * w)].mean()
        return sky, tower

    plain = _wait_preview(qtbot, win, lambda: win.regions.rows["exposure"].value_box.setValue(-1.0))
    sky, tower = darkening(plain)
    assert sky < -0.05 and tower < -0.05  # no range: everything under the filter
    ranged = _wait_preview(qtbot, win, lambda: rows["color_range"].value_box.setValue(25))
    sky, tower = darkening(ranged)
    assert sky < -0.04 and tower > -0.01, (sky, tower)
    # the eyedropper is drawn at the pick; drag it onto the tower
    rect = win.viewer.image_rect()
    start = QPoint(int(rect.x() + 0.2 * rect.width()), int(rect.y() + 0.1 * rect.height()))
    end = QPoint(int(rect.x() + 0.4525 * rect.width()), int(rect.y() + 0.42 * rect.height()))
    with qtbot.waitSignal(win.previewUpdated, timeout=60_000):
        qtbot.mousePress(win.viewer, Qt.MouseButton.LeftButton, pos=start)
        qtbot.mouseMove(win.viewer, (start + end) / 2)
        qtbot.mouseMove(win.viewer, end)
        qtbot.mouseRelease(win.viewer, Qt.MouseButton.LeftButton, pos=end)
    item = win.params.local[index]
    assert item["pick_x"] == pytest.approx(0.4525, abs=0.01) and item["pick_y"] == pytest.approx(0.42, abs=0.01)
    assert item["x"] == 0.5  # the filter itself did not move
    assert win.history.undo_label() == f"pick colour for {win.regions.label_for(f'local{index}')}"
    qtbot.waitUntil(lambda: not win._renderer.busy, timeout=60_000)
    sky, tower = darkening(np.array(win.last_preview, copy=True))
    assert tower < -0.04 and sky > -0.01, (sky, tower)
    win.undo()
    assert win.params.local[index]["pick_x"] == pytest.approx(0.2)
    win.remove_point(index)
    qtbot.waitUntil(lambda: not win._renderer.busy, timeout=60_000)


@needs_data
def test_graduated_filter_darkens_from_the_top(opened, qtbot):
    win = opened
    win.regions.add_graduated.click()
    index = len(win.params.local) - 1
    assert win.params.local[index]["kind"] == "graduated"
    assert win.regions.region == f"local{index}"
    assert win.regions.geometry_rows["graduated"]["angle"].isVisibleTo(win.regions)
    assert not win.regions.geometry_rows["point"]["radius"].isVisibleTo(win.regions)
    qtbot.waitUntil(lambda: not win._renderer.busy, timeout=60_000)
    before = _luma(np.array(win.last_preview, copy=True))
    row = win.regions.rows["exposure"]
    after = _luma(_wait_preview(qtbot, win, lambda: row.value_box.setValue(-1.0)))
    h = before.shape[0]
    delta = after - before
    assert delta[: h // 10].mean() < -0.05          # the top edge is darkened
    assert abs(delta[-h // 10:].mean()) < 0.005     # the bottom is untouched
    win.toggle_overlay(True)
    qtbot.waitUntil(lambda: win.viewer._overlay is not None, timeout=30_000)
    win.toggle_overlay(False)
    win.undo()
    assert win.params.local[index]["exposure"] == 0
    win.remove_point(index)
    assert all(item["kind"] != "graduated" for item in win.params.local)
    qtbot.waitUntil(lambda: not win._renderer.busy, timeout=60_000)


@needs_data
def test_tone_curve_drag_brightens_the_mid_tones(opened, qtbot):
    from silverprint_gui.qt import QPoint, Qt

    win = opened
    win.tabs.setCurrentWidget(win.finish)
    curve = win.finish.curve
    qtbot.waitUntil(curve.isVisible, timeout=5_000)
    before = _luma(np.array(win.last_preview, copy=True))
    mid = (CURVE_KNOTS - 1) // 2  # a handle: the knot at input 0.5
    knot = curve._knot_pos(mid)
    area = curve._area()
    target = QPoint(int(knot.x()), int(knot.y() - 0.1 * area.height()))
    qtbot.mousePress(curve, Qt.MouseButton.LeftButton, pos=QPoint(int(knot.x()), int(knot.y())))
    qtbot.mouseMove(curve, target)
    with qtbot.waitSignal(win.previewUpdated, timeout=60_000):
        qtbot.mouseRelease(curve, Qt.MouseButton.LeftButton, pos=target)
    qtbot.waitUntil(lambda: not win._renderer.busy, timeout=60_000)
    after = _luma(np.array(win.last_preview, copy=True))
    moved = [a - b for a, b in zip(win.params.global_["curve"], win.base.global_["curve"])]
    assert moved[mid] == pytest.approx(0.1, abs=0.02)
    # the knots between handles follow half the move; the next handles stay
    assert moved[mid - 1] == pytest.approx(moved[mid] / 2, abs=1e-6) == pytest.approx(moved[mid + 1], abs=1e-6)
    assert moved[mid - 2] == moved[mid + 2] == 0.0
    assert win.history.undo_label() == "tone curve"
    mid_tones = (before > 0.35) & (before < 0.65)
    assert (after - before)[mid_tones].mean() > 0.03
    qtbot.mouseDClick(curve, Qt.MouseButton.LeftButton, pos=target)  # back to the style's curve
    assert win.params.global_["curve"] == win.base.global_["curve"]
    win.tabs.setCurrentWidget(win.regions)
    qtbot.waitUntil(lambda: not win._renderer.busy, timeout=60_000)


@needs_data
def test_gallery_thumbnails_and_one_click_apply(opened, qtbot):
    win = opened
    gallery = win.gallery
    names = gallery.names()
    assert len(names) >= 2
    qtbot.waitUntil(lambda: gallery.pending == 0, timeout=120_000)
    other = next(n for n in names if n != win.style_name)
    item = gallery.findItems(other, gallery_match())[0]
    rect = gallery.visualItemRect(item)
    gallery.scrollToItem(item)
    rect = gallery.visualItemRect(item)
    from silverprint_gui.qt import Qt

    with qtbot.waitSignal(win.styleApplied, timeout=60_000) as blocker:
        qtbot.mouseClick(gallery.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args == [other]
    assert win.style_name == other
    from silverprint_gui import document

    assert win.params == document.style_params(win.doc, other)


def gallery_match():
    from silverprint_gui.qt import Qt

    return Qt.MatchFlag.MatchExactly


@needs_data
def test_save_as_new_style(opened, qtbot):
    win = opened
    win.regions.select("sky")
    win.regions.rows["exposure"].value_box.setValue(-0.7)
    expected = win.params.copy()
    win.save_style("my-sky-look")
    qtbot.waitUntil(lambda: "my-sky-look" in win.gallery.names(), timeout=30_000)
    from silverprint.styles import load_style
    from silverprint_gui import document

    style = load_style("my-sky-look")
    assert not style.builtin
    assert document.style_params(win.doc, style) == expected  # the look, reproduced on this photo


@needs_data
def test_export_next_to_the_original_never_over_it(opened, qtbot, tmp_path):
    from PIL import Image

    from silverprint_gui import document
    from silverprint_gui.export import default_export_path

    src = tmp_path / "photo.png"
    shutil.copy(SKY_PHOTO, src)
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    doc = document.open_file(src, device="cpu")
    params = document.style_params(doc, document.default_style_name())
    dst = default_export_path(src, "tiff16")
    assert dst.parent == tmp_path and dst != src
    out = document.export(doc, params, dst, "tiff16")
    with Image.open(out) as img:
        assert img.size == Image.open(src).size
    assert hashlib.sha256(src.read_bytes()).hexdigest() == digest
    assert default_export_path(src, "tiff16") != out  # a second export gets a new name
    from silverprint.errors import SilverprintError

    with pytest.raises(SilverprintError):
        document.export(doc, params, src, "png16")
    assert hashlib.sha256(src.read_bytes()).hexdigest() == digest


@needs_data
def test_a_bad_file_is_reported_and_the_open_photo_stays(opened, qtbot, tmp_path):
    from silverprint_gui import errors

    win = opened
    doc, params = win.doc, win.params.copy()
    bad = tmp_path / "truncated.png"
    bad.write_bytes(SKY_PHOTO.read_bytes()[:2000])
    shown = len(errors.shown)
    win.open_path(bad)
    qtbot.waitUntil(lambda: len(errors.shown) > shown, timeout=30_000)
    assert "truncated.png" in errors.shown[-1]
    assert win.doc is doc and win.params == params
    assert "truncated.png" in win.status.currentMessage()


# --------------------------------------------------------------------------------- bridge

def _plugin_session(url: str, image: Path, results: dict) -> None:
    """What a GIMP plug-in does: post the image, wait for the answer, fetch the result."""
    from silverprint.service.client import ServiceClient

    client = ServiceClient(url, timeout=60)
    try:
        created = client.create_session(image, host="gimp", name=image.name, mode="interactive")
        results["id"] = created["id"]
        state = created
        deadline = time.monotonic() + 120
        while state["state"] in ("pending", "open") and time.monotonic() < deadline:
            state = client.session(created["id"], wait=5)
        results["state"] = state["state"]
        if state["state"] == "applied":
            results["image"] = client.session_result(created["id"])
        client.delete_session(created["id"])
    except Exception as exc:  # noqa: BLE001 - reported by the test
        results["error"] = exc


def _run_plugin(window, qtbot, image: Path) -> tuple[threading.Thread, dict]:
    qtbot.waitUntil(lambda: window.bridge is not None and window.bridge.client is not None, timeout=120_000)
    results: dict = {}
    thread = threading.Thread(target=_plugin_session, args=(window.bridge.client.url, image, results))
    thread.start()
    return thread, results


@needs_data
def test_bridge_session_apply_returns_grey_image(window, qtbot):
    import io

    from PIL import Image

    image = KODAK / "kodim23.png"
    thread, results = _run_plugin(window, qtbot, image)
    with qtbot.waitSignal(window.bridge.sessionShown, timeout=120_000):
        pass
    assert window.banner.isVisible()
    assert "GIMP" in window.banner_text.text() and "kodim23.png" in window.banner_text.text()
    assert window.doc.name == "kodim23.png"
    qtbot.waitUntil(lambda: window.last_preview is not None and not window._renderer.busy, timeout=60_000)
    with qtbot.waitSignal(window.bridge.sessionAnswered, timeout=120_000) as answered:
        window.bridge_apply.click()
    assert answered.args[1] == "applied"
    thread.join(timeout=60)
    assert "error" not in results, results.get("error")
    assert results["state"] == "applied"
    with Image.open(io.BytesIO(results["image"])) as img:
        assert img.size == Image.open(image).size
        pixels = np.asarray(img)
    assert pixels.ndim == 2 or np.abs(pixels[..., 0].astype(int) - pixels[..., 1]).max() <= 1
    assert pixels.std() > 10  # a real picture, not a blank
    assert not window.banner.isVisible()


@needs_data
def test_bridge_session_cancel_returns_nothing(window, qtbot):
    thread, results = _run_plugin(window, qtbot, KODAK / "kodim05.png")
    with qtbot.waitSignal(window.bridge.sessionShown, timeout=120_000):
        pass
    with qtbot.waitSignal(window.bridge.sessionAnswered, timeout=60_000) as answered:
        window.bridge_cancel.click()
    assert answered.args[1] == "cancelled"
    thread.join(timeout=60)
    assert "error" not in results, results.get("error")
    assert results["state"] == "cancelled" and "image" not in results


# --------------------------------------------------------------------------------- portfolio

@pytest.mark.slow
@pytest.mark.skipif(not (PAIRS / "t3mujin-trix400").is_dir(), reason="pairs not found")
def test_portfolio_learns_a_style_and_shows_how_well_it_matches(window, qtbot, tmp_path):
    """Learn from a few pairs of one style (a small portfolio keeps the test quick)."""
    source = PAIRS / "t3mujin-trix400"
    folder = tmp_path / "portfolio"
    names = sorted(p.stem for p in (source / "originals").glob("*.jpg"))[:6]
    for sub in ("originals", "edits"):
        (folder / sub).mkdir(parents=True)
        for name in names:
            shutil.copy(source / sub / f"{name}.jpg", folder / sub / f"{name}.jpg")
    (folder / "edits" / "notes.txt").write_text("not a photo")
    panel = window.portfolio
    assert panel is not None
    panel.name_edit.setText("trix-test")
    with qtbot.waitSignal(panel.pairsListed, timeout=60_000) as listed:
        panel.set_folder(folder)
    assert listed.args == [len(names)]
    outcome: list = []
    panel.learningFinished.connect(lambda result: outcome.append(("done", result)))
    panel.learningFailed.connect(lambda message: outcome.append(("failed", message)))
    panel.learn_button.click()
    assert not panel.cancel_button.isHidden() and not panel.learn_button.isEnabled()
    qtbot.waitUntil(lambda: bool(outcome), timeout=900_000)
    assert outcome[0][0] == "done", f"learning failed: {outcome[0][1]}"
    assert panel.plot.points, "a how-well-it-matches point is plotted"
    pairs, match = panel.plot.points[-1]
    assert 0 < match <= 100
    assert f"matches your edits: <b>{match:.0f} %</b>" in panel.summary.text()
    assert panel.progress.value() == 1000
    assert "trix-test" in window.gallery.names()
    statuses = set(panel.statuses().values())
    assert statuses & {"fitted", "held out", "paired"}


# --------------------------------------------------------------------------------- units

def test_history_undo_redo_and_branching():
    history: History[int] = History(0)
    assert not history.can_undo() and not history.can_redo()
    history.push(1, "a")
    history.push(2, "b")
    assert history.undo() == 1 and history.undo() == 0 and history.undo() is None
    assert history.redo() == 1
    history.push(5, "c")  # a new branch drops the redo of "b"
    assert not history.can_redo() and history.current == 5
    assert history.undo_label() == "c"
    history.push(6, "c", merge=True)  # the same slider again at once: one step
    assert history.current == 6 and history.undo() == 1


def test_latest_only_runs_the_newest_request_and_drops_the_rest(qtbot):
    delivered: list[int] = []
    ran: list[int] = []
    gate = threading.Event()
    renders = LatestOnly(delivered.append)

    def job(i: int):
        def run() -> int:
            if i == 0:
                gate.wait(10)
            ran.append(i)
            return i
        return run

    for i in range(20):
        renders.request(job(i))
    gate.set()
    qtbot.waitUntil(lambda: not renders.busy and delivered and delivered[-1] == 19, timeout=10_000)
    assert ran == [0, 19] and renders.dropped == 18
    renders.request(job(99))
    renders.invalidate()  # a new photo: the running request's result is stale
    qtbot.waitUntil(lambda: not renders.busy, timeout=10_000)
    qtbot.wait(50)
    assert 99 not in delivered


def test_import_silverprint_loads_no_qt():
    import subprocess
    import sys

    code = ("import sys, silverprint, silverprint.pipeline, silverprint.params; "
            "print(any(m.startswith(('PyQt6', 'silverprint_gui')) for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_only_qt_module_imports_pyqt():
    import re

    gui = Path(__file__).resolve().parents[1] / "gui"
    pattern = re.compile(r"^\s*(from|import)\s+PyQt6", re.MULTILINE)
    offenders = [p.name for p in gui.glob("*.py") if p.name != "qt.py" and pattern.search(p.read_text())]
    assert offenders == []


def test_gui_command_is_registered(capsys):
    from silverprint.cli import main as cli_main

    with pytest.raises(SystemExit) as exit_info:
        cli_main(["gui", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "companion" in out and "FILE" in out and "--no-service" in out


def test_default_export_path_is_beside_the_original_and_numbered(tmp_path):
    from silverprint_gui.export import default_export_path, is_original

    src = tmp_path / "IMG_0001.jpg"
    src.write_bytes(b"original")
    first = default_export_path(src, "jpeg")
    assert first == tmp_path / "IMG_0001_bw.jpg"
    first.write_bytes(b"earlier export")
    assert default_export_path(src, "jpeg") == tmp_path / "IMG_0001_bw-2.jpg"
    assert default_export_path(src, "tiff16").suffix == ".tif"
    assert is_original(tmp_path / "." / "IMG_0001.jpg", src)
    assert src.read_bytes() == b"original"


@pytest.mark.skipif(not (PAIRS / "t3mujin-hp5plus400").is_dir(), reason="pairs not found")
def test_portfolio_watch_starts_learning_on_new_edits_and_cancel_stops_it(window, qtbot, tmp_path):
    source = PAIRS / "t3mujin-hp5plus400"
    folder = tmp_path / "watched"
    names = sorted(p.stem for p in (source / "originals").glob("*.jpg"))[:5]

    def add(name: str) -> None:
        for sub in ("originals", "edits"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
            shutil.copy(source / sub / f"{name}.jpg", folder / sub / f"{name}.jpg")

    for name in names[:4]:
        add(name)
    panel = window.portfolio
    panel.name_edit.setText("watch-test")
    with qtbot.waitSignal(panel.pairsListed, timeout=60_000):
        panel.set_folder(folder)
    panel.watch.setChecked(True)
    try:
        add(names[4])  # a new edit arrives: after a quiet moment the panel re-pairs and learns
        with qtbot.waitSignal(panel.pairsListed, timeout=30_000) as listed:
            pass
        assert listed.args == [5]
        qtbot.waitUntil(lambda: panel._learning, timeout=10_000)
        with qtbot.waitSignal(panel.learningFailed, timeout=120_000) as failed:
            panel.cancel_button.click()
        assert failed.args == ["cancelled"]
        assert "Cancelled" in panel.stage.text() and panel.learn_button.isEnabled()
        from silverprint.errors import UnknownStyleError
        from silverprint.styles import load_style

        with pytest.raises(UnknownStyleError):
            load_style("watch-test")  # nothing half-learned was saved
    finally:
        panel.watch.setChecked(False)
