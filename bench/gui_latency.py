"""Companion latency: time from a slider change to the updated preview on screen, on a ~1 MP photo.

Measures what a photographer feels: `SliderRow` value set (as a keyboard step or typed value would)
→ the render lane renders the preview → the QImage is painted in the viewer (`previewUpdated` is
emitted after a synchronous repaint). 50 changes, one at a time, alternating sliders and regions.
The baseline, measured in the same run on the same photo and params, is the core's
`Preview.render` alone, so the ratio shows the GUI's own overhead.

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

        # The GUI path: slider change -> painted preview.
        sliders = [("sky", "exposure", 0.1), ("vegetation", "green", 4.0), ("other", "contrast", 3.0),
                   ("sky", "blue", -4.0), ("person", "shadows", 3.0)]
        gui_ms: list[float] = []
        for i in range(args.changes):
            region, name, step = sliders[i % len(sliders)]
            window.regions.select(region)
            row = window.regions.rows[name]
            sign = 1 if (i // len(sliders)) % 2 == 0 else -1
            value = row.value + sign * step
            t0 = time.perf_counter()
            wait_for(window.previewUpdated, lambda: row.value_box.setValue(value))
            gui_ms.append((time.perf_counter() - t0) * 1000)

        # Baseline: the core's preview render alone, same photo, same kind of changes.
        doc, params = window.doc, window.params.copy()
        core_ms: list[float] = []
        for i in range(args.changes):
            region, name, step = sliders[i % len(sliders)]
            params.set(f"{region}.{name}", params.regions[region][name] + (step if i % 2 == 0 else -step))
            t0 = time.perf_counter()
            document.render_preview(doc, params)
            core_ms.append((time.perf_counter() - t0) * 1000)
        window.close()

    gui_median, core_median = statistics.median(gui_ms), statistics.median(core_ms)
    print(f"slider change -> painted preview: median {gui_median:.1f} ms, p95 {percentile(gui_ms, 95):.1f} ms, "
          f"min {min(gui_ms):.1f} ms over {len(gui_ms)} changes")
    print(f"core Preview.render alone:        median {core_median:.1f} ms, p95 {percentile(core_ms, 95):.1f} ms")
    print(f"GUI / core ratio (median): {gui_median / core_median:.2f}x; "
          f"GUI overhead {gui_median - core_median:.1f} ms")
    print(f"target median <= 50 ms: {'met' if gui_median <= 50 else 'NOT met'}")
    return 0 if gui_median <= 50 else 1


if __name__ == "__main__":
    sys.exit(main())
