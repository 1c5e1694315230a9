"""Take the README's screenshots of the companion with a real window (run under Xvfb).

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python -m silverprint_gui.screenshots docs/

Writes ``screenshot-main.png`` (gallery + split before/after), ``screenshot-regions.png`` (region
panel with the sky mask overlay), ``screenshot-point.png`` (a graduated filter and a control point),
``screenshot-finish.png`` (tone curve, grain, vignette), ``screenshot-portfolio.png`` (a style learned
from a few pairs, with how well it matches the edits), ``screenshot-explain.png`` (a style learned
from a content-adaptive photographer's pairs saying what it decided for the open photo, and why) and
``screenshot-bridge.png`` (a GIMP session waiting for Apply). Uses a temporary Silverprint home so
the user's styles are untouched. ``--only explain,portfolio`` takes only those (after the main one,
which opens the photo).
"""
from __future__ import annotations

import math
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    only = {n for a in argv if a.startswith("--only=") for n in a[len("--only="):].split(",") if n}
    argv = [a for a in argv if not a.startswith("--only=")]
    out = Path(argv[0] if argv else "docs").resolve()

    def want(name: str) -> bool:
        return not only or name in only
    data = Path(os.environ.get("SILVERPRINT_DATA", DATA if DATA.is_dir() else "/work/shared/data"))
    photo = data / "photos" / "kodak" / "kodim21.png"
    tmp = Path(tempfile.mkdtemp(prefix="silverprint-shots-"))
    os.environ["SILVERPRINT_HOME"] = str(tmp / "home")
    os.environ.setdefault("SILVERPRINT_URL", "http://127.0.0.1:47899")

    from . import theme
    from .app import MainWindow
    from .qt import QApplication, QEventLoop, QTimer

    app = QApplication.instance() or QApplication(sys.argv[:1])
    theme.apply_theme(app)
    window = MainWindow(host_service=True, device="cpu")
    window.resize(1600, 1000)
    window.move(0, 0)
    window.show()

    def wait(signal=None, start=None, ms: int = 600_000, until=None) -> None:
        loop = QEventLoop()
        if signal is not None:
            signal.connect(loop.quit)
        if until is not None:
            timer = QTimer()
            timer.timeout.connect(lambda: until() and loop.quit())
            timer.start(100)
        QTimer.singleShot(ms, loop.quit)
        if start is not None:
            start()
        loop.exec()
        if signal is not None:
            signal.disconnect(loop.quit)

    def settle(ms: int = 600) -> None:
        wait(ms=ms)
        app.processEvents()

    def shot(name: str) -> None:
        if not want(name):
            return
        settle()
        target = out / f"screenshot-{name}.png"
        window.grab().save(str(target))
        print(f"wrote {target}")

    out.mkdir(parents=True, exist_ok=True)
    wait(window.styleApplied, lambda: window.open_path(photo))
    wait(until=lambda: window.gallery.pending == 0 and not window._renderer.busy)
    # main: a warmer sky via the colour filter, split before / after
    window.regions.select("sky")
    window.regions.rows["blue"].value_box.setValue(-45)
    window.regions.rows["exposure"].value_box.setValue(-0.6)
    wait(until=lambda: not window._renderer.busy)
    window.set_compare("split")
    window.viewer.split = 0.42
    shot("main")

    # regions: mask overlay on the sky and a control point on the lighthouse
    window.set_compare("after")
    window.toggle_overlay(True)
    wait(until=lambda: window.viewer._overlay is not None)
    shot("regions")
    window.toggle_overlay(False)
    window.add_local("graduated")
    window.regions.rows["exposure"].value_box.setValue(-0.8)
    window.place_point(0.47, 0.42)
    window.regions.rows["exposure"].value_box.setValue(0.5)
    window.regions.rows["structure"].value_box.setValue(35)
    wait(until=lambda: not window._renderer.busy)
    shot("point")

    # finishing: a gentle S curve, a little grain and a dark vignette
    window.tabs.setCurrentWidget(window.finish)
    curve = list(window.params.global_["curve"])
    s_curve = [min(1.0, max(0.0, v - 0.04 * math.sin(2 * math.pi * i / (len(curve) - 1)))) for i, v in enumerate(curve)]
    window.on_curve(s_curve, True)
    window.finish.show_params(window.params, window.base)
    window.finish.rows["grain"].value_box.setValue(18)
    window.finish.rows["vignette"].value_box.setValue(-35)
    wait(until=lambda: not window._renderer.busy)
    shot("finish")
    window.tabs.setCurrentWidget(window.regions)

    # portfolio: learn from a few pairs of one style
    if window.portfolio is not None and want("portfolio"):
        source = data / "pairs" / "t3mujin-trix400"
        folder = tmp / "portfolio-trix"
        names = sorted(p.stem for p in (source / "originals").glob("*.jpg"))
        window.tabs.setCurrentWidget(window.portfolio)
        window.portfolio.name_edit.setText("my-trix")
        (folder / "notes.txt").parent.mkdir(parents=True)
        (folder / "notes.txt").write_text("shot list")
        # the portfolio grows as the photographer edits: learn at 6, then 12, then 20 pairs
        for count in (6, 12, 20):
            for sub in ("originals", "edits"):
                (folder / sub).mkdir(parents=True, exist_ok=True)
                for n in names[:count]:
                    shutil.copy(source / sub / f"{n}.jpg", folder / sub / f"{n}.jpg")
            wait(window.portfolio.pairsListed, lambda: window.portfolio.set_folder(folder))
            wait(window.portfolio.learningFinished, window.portfolio.learn_now, ms=900_000)
        window.apply_style("my-trix")
        wait(until=lambda: window.gallery.pending == 0 and not window._renderer.busy)
        shot("portfolio")
        window.tabs.setCurrentIndex(0)

    # explain: a content-adaptive photographer's style says what it decided for the open photo
    # (its 24 pairs: 12 to learn from, 12 held out to check it)
    if window.portfolio is not None and want("explain"):
        source = data / "pairs" / "adaptive-a"
        folder = tmp / "portfolio-adaptive"
        names = sorted(p.stem for p in (source / "originals").glob("*.jpg"))
        for sub in ("originals", "edits"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
            for n in names:
                shutil.copy(source / sub / f"{n}.jpg", folder / sub / f"{n}.jpg")
        window.tabs.setCurrentWidget(window.portfolio)
        window.portfolio.name_edit.setText("my-adaptive")
        wait(window.portfolio.pairsListed, lambda: window.portfolio.set_folder(folder))
        wait(window.portfolio.learningFinished, window.portfolio.learn_now, ms=900_000)
        wait(window.portfolio.why.explained, lambda: window.apply_style("my-adaptive"))
        wait(until=lambda: window.gallery.pending == 0 and not window._renderer.busy)
        shot("explain")
        window.tabs.setCurrentIndex(0)

    # bridge: a GIMP session waiting for Apply
    if window.bridge is not None and want("bridge"):
        wait(until=lambda: window.bridge.client is not None, ms=120_000)
        from silverprint.service.client import ServiceClient

        client = ServiceClient(window.bridge.client.url)
        result: dict = {}

        def plugin() -> None:
            created = client.create_session(data / "photos" / "kodak" / "kodim23.png", host="gimp",
                                            name="kodim23.png", mode="interactive")
            result["id"] = created["id"]

        threading.Thread(target=plugin).start()
        wait(window.bridge.sessionShown)
        wait(until=lambda: not window._renderer.busy and window.gallery.pending == 0)
        shot("bridge")
        wait(window.bridge.sessionAnswered, window.bridge.cancel, ms=60_000)

    window.close()
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
