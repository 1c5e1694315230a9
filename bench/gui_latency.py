"""Companion latency: time from a slider change to the updated preview on screen, on a ~1 MP photo.

Measures what a photographer feels: `SliderRow` value set (as a keyboard step or typed value would)
→ the render lane renders the preview → the QImage is painted in the viewer (`previewUpdated` is
emitted after a synchronous repaint). 50 changes, one at a time, alternating sliders and regions.
Two kinds of change are timed: frames of a drag (handle down: the smaller drag preview renders)
and finished changes (a typed value, a keyboard step, the release: the full ~1 MP preview). Every
value is new, so no render is served from the core's cache. The baseline, measured in the same run
on the same photo, is the core's `Preview.render` alone, so the ratio shows the GUI's own overhead.

Usage: .venv/bin/python bench/gui_latency.py [PHOTO] [--changes 50] [--device cpu]
Target: median ≤ 50 ms (offscreen platform; set QT_QPA_PLATFORM=xcb under Xvfb to include X11).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

DEFAULT_PHOTO = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos" / "kodak" / "kodim21.png"
TARGET_PIXELS = 1_000_000


def one_megapixel(src: Path, folder: Path) -> Path:
    """A copy of ``src`` scaled to about 1 MP (the Kodak set is 0.4 MP)."""
    from PIL import Image

    with Image.open(src) as img:
        scale = (TARGET_PIXELS / (img.width * img.height)) ** 0.5
        size = (round(img.width * scale), round(img.height * scale))
        out = folder / f"{src.stem}-1mp.png"
        img.convert("RGB").resize(size, Image.Resampling.LANCZOS).save(out)
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photo", nargs="?", type=Path, default=DEFAULT_PHOTO)
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    from silverprint_gui import document, theme
    from silverprint_gui.app import MainWindow
    from silverprint_gui.qt import QApplication, QEventLoop, QTimer

    app = QApplication.instance() or QApplication(sys.argv[:1])
    theme.apply_theme(app)
    with tempfile.TemporaryDirectory(prefix="silverprint-bench-") as tmp:
        os.environ["SILVERPRINT_HOME"] = str(Path(tmp) / "home")
        photo = one_megapixel(args.photo, Path(tmp))
        window = MainWindow(host_service=False, device=args.device)
        window.resize(1600, 1000)
        window.show()

        def wait_for(signal, start=None, timeout_ms=120_000) -> list:
            loop = QEventLoop()
            got: list = []

            def done(*values) -> None:
                got.extend(values)
                loop.quit()

            signal.connect(done)
            QTimer.singleShot(timeout_ms, loop.quit)
            if start is not None:
                start()
            loop.exec()
            signal.disconnect(done)
            if not got:
                raise SystemExit(f"timed out waiting for {signal}")
            return got

        wait_for(window.styleApplied, lambda: window.open_path(photo))
        wait_for(window.previewUpdated)
        h, w = window.last_preview.shape[:2]
        print(f"photo {photo.name}: preview {w}x{h} = {w * h / 1e6:.2f} MP, device {args.device}")

        # The GUI path: slider change -> painted preview. Every value is new (no cache hits).
        sliders = [("sky", "exposure", 0.02), ("vegetation", "green", 0.7), ("other", "contrast", 0.6),
                   ("sky", "blue", -0.8), ("person", "shadows", 0.6)]

        def value_for(row, i: int, step: float) -> float:
            spec = row.spec
            value = row.base + step * (i + 1)
            return min(spec.hi, max(spec.lo, value))

        def gui_run(drag: bool) -> list[float]:
            times: list[float] = []
            for i in range(args.changes):
                region, name, step = sliders[i % len(sliders)]
                window.regions.select(region)
                row = window.regions.rows[name]
                value = value_for(row, i, step * (1 if drag else -1))
                t0 = time.perf_counter()
                if drag:  # a frame of a drag: the handle is down, the drag preview renders
                    row.slider.setSliderDown(True)
                    wait_for(window.previewUpdated, lambda: row.slider.setValue(round(value * row._scale)))
                else:     # a finished change (typed value, keyboard step, release): full preview
                    wait_for(window.previewUpdated, lambda: row.value_box.setValue(value))
                times.append((time.perf_counter() - t0) * 1000)
                if drag:
                    row.slider.blockSignals(True)
                    row.slider.setSliderDown(False)
                    row.slider.blockSignals(False)
            return times

        drag_ms = gui_run(drag=True)
        final_ms = gui_run(drag=False)

        # Baseline in the same run: the core's Preview.render alone, same kinds of new values.
        doc, params = window.doc, window.params.copy()

        def core_run(fast: bool) -> list[float]:
            times = []
            for i in range(args.changes):
                region, name, step = sliders[i % len(sliders)]
                base = window.base.regions[region][name]
                params.set(f"{region}.{name}", base + step * (i + 1) * (0.5 if fast else 0.25))
                t0 = time.perf_counter()
                document.render_preview(doc, params, fast=fast)
                times.append((time.perf_counter() - t0) * 1000)
            return times

        core_drag, core_final = core_run(True), core_run(False)
        drag_h, drag_w = doc.fast.shape
        window.close()

    print(f"drag preview {drag_w}x{drag_h}, full preview {w}x{h}; {args.changes} changes each")
    rows = [("drag frame -> painted (GUI)", drag_ms), ("  core Preview.render, drag size", core_drag),
            ("final change -> painted (GUI)", final_ms), ("  core Preview.render, full size", core_final)]
    for label, values in rows:
        print(f"{label:36s} median {statistics.median(values):7.1f} ms   p95 {percentile(values, 95):7.1f} ms")
    gui_median = statistics.median(drag_ms)
    print(f"GUI / core ratio (median): drag {gui_median / statistics.median(core_drag):.2f}x, "
          f"final {statistics.median(final_ms) / statistics.median(core_final):.2f}x")
    print(f"target: median <= 50 ms while dragging: {'met' if gui_median <= 50 else 'NOT met'} "
          f"({gui_median:.1f} ms)")
    return 0 if gui_median <= 50 else 1


if __name__ == "__main__":
    sys.exit(main())
