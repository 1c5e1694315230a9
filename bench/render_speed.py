"""Rendering speed and memory at 2, 12 and 24 MP, against OpenCV (the floor) and darktable-cli.

    .venv/bin/python bench/render_speed.py [--sizes 2,12,24] [--batch 6] [--repeat 2] [--no-darktable]

From ONE run (the machine is shared: only ratios within a run mean anything) it prints, per size:
  render-only   `render_array` on decoded pixels with the default style's sliders for that photo
                (analysis excluded), vs OpenCV's cv2.cvtColor RGB->grey on the same pixels;
  end-to-end    `silverprint.pipeline.render_file` JPEG in -> JPEG out in this (warm) process, vs
                OpenCV imread + cvtColor + imwrite, and vs `darktable-cli` applying the Tri-X 400
                style (a channel mixer + tone curve) to the same JPEG (a cold darktable process);
  peak RSS      of a cold `silverprint render FILE` process (target <= 2.5 GB at 24 MP);
then the batch target: a folder of six 24 MP JPEGs through `silverprint render DIR --out-dir OUT`
(a cold process, start-up included) vs darktable-cli on the same folder (target ratio <= 0.5), and
the 1 MP preview: median time of a slider change on a cached `Preview` (target <= 30 ms).
Test photos are Kodak images upscaled with Pillow and saved as JPEG q95 in a temporary folder.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path("/work/shared") if Path("/work/shared/data").is_dir() else ROOT.parent / "shared"
KODAK = SHARED / "data" / "photos" / "kodak"
STYLE = SHARED / "data" / "pairs" / "t3mujin-trix400" / "style.dtstyle"
PHOTOS = ("kodim23", "kodim05", "kodim13", "kodim21", "kodim08", "kodim03")
CLI = [str(Path(sys.executable).with_name("silverprint"))]


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def make_jpeg(name: str, megapixels: float, dst: Path) -> Path:
    from PIL import Image

    image = Image.open(KODAK / f"{name}.png").convert("RGB")
    w, h = image.size
    scale = (megapixels * 1e6 / (w * h)) ** 0.5
    image = image.resize((round(w * scale), round(h * scale)), Image.BICUBIC)
    image.save(dst, quality=95)
    return dst


def run_child(cmd: list[str], env: dict | None = None) -> tuple[float, float, int]:
    """Run a cold process: (wall seconds, peak RSS in GB of that process, exit code)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        err = proc.stderr.read().decode(errors="replace").strip().splitlines()
        print(f"  ! {' '.join(map(str, cmd[:4]))}... exited {code}: {err[-1] if err else ''}")
    return wall, usage.ru_maxrss / 1e6, code


def darktable_cmd(src: Path, dst: Path, configdir: Path) -> list[str] | None:
    exe = shutil.which("darktable-cli")
    if exe is None or not STYLE.is_file():
        return None
    name = re.search(r"<name>([^<]*)</name>", STYLE.read_text()).group(1)
    return [exe, str(src), str(dst), "--style", name, "--style-overwrite", "--apply-custom-presets", "false",
            "--core", "--configdir", str(configdir), "--library", ":memory:",
            "--luacmd", f"local dt=require 'darktable'; dt.styles.import('{STYLE}')"]


def cv2_floor(src: Path, dst: Path) -> None:
    import cv2

    image = cv2.imread(str(src), cv2.IMREAD_COLOR)
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    cv2.imwrite(str(dst), grey, [cv2.IMWRITE_JPEG_QUALITY, 95])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="2,12,24", help="megapixels, comma separated")
    ap.add_argument("--batch", type=int, default=6, help="24 MP JPEGs in the batch folder (0: skip)")
    ap.add_argument("--repeat", type=int, default=2, help="best of N for the in-process timings")
    ap.add_argument("--no-darktable", action="store_true")
    args = ap.parse_args()

    import cv2
    import torch
    from PIL import Image

    from silverprint import pipeline
    from silverprint.render import Preview, render_array

    tmp = Path(tempfile.mkdtemp(prefix="silverprint-bench-"))
    env = dict(os.environ, SILVERPRINT_HOME=str(tmp / "home"))
    use_dt = not args.no_darktable and shutil.which("darktable-cli") is not None
    print(f"silverprint render speed — torch {torch.__version__}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f} (shared machine: compare within this run only)")
    print(f"{'size':>6} {'render':>8} {'cvtColor':>9} {'ratio':>7} | {'e2e':>7} {'cv2 e2e':>8} {'ratio':>7} | "
          f"{'darktable':>9} {'ratio':>6} | {'cold CLI':>8} {'peak RSS':>9}")
    try:
        for mp in (float(s) for s in args.sizes.split(",")):
            src = make_jpeg(PHOTOS[0], mp, tmp / f"photo_{mp:g}mp.jpg")
            rgb = np.asarray(Image.open(src).convert("RGB"))
            analysis = pipeline.analyse(rgb)
            params = pipeline.params_for(None, analysis)
            local = pipeline.local_masks_for(params, analysis)
            t_render = best(lambda: render_array(rgb, analysis.masks, local, params), args.repeat)
            t_cvt = best(lambda: cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), max(3, args.repeat))
            out = tmp / f"out_{mp:g}.jpg"
            t_e2e = best(lambda: (out.unlink(missing_ok=True),
                                  pipeline.render_file(src, out, style=None, fmt="jpeg")), args.repeat)
            t_cv2 = best(lambda: cv2_floor(src, tmp / "cv2.jpg"), max(3, args.repeat))
            t_dt = float("nan")
            if use_dt:
                cmd = darktable_cmd(src, tmp / f"dt_{mp:g}.jpg", tmp / f"dtconf_{mp:g}")
                t_dt, _, code = run_child(cmd)
                if code:
                    t_dt = float("nan")
            cold_out = tmp / f"cold_{mp:g}"
            t_cold, rss, _ = run_child(CLI + ["render", str(src), "--out-dir", str(cold_out), "--format", "jpeg"],
                                       env)
            print(f"{mp:>4g}MP {t_render:>7.3f}s {t_cvt:>8.3f}s {t_render / t_cvt:>6.0f}x | {t_e2e:>6.2f}s "
                  f"{t_cv2:>7.2f}s {t_e2e / t_cv2:>6.1f}x | {t_dt:>8.2f}s {t_e2e / t_dt:>6.2f} | {t_cold:>7.2f}s "
                  f"{rss:>7.2f}GB")

        if args.batch:
            folder = tmp / "batch"
            folder.mkdir()
            for i in range(args.batch):
                make_jpeg(PHOTOS[i % len(PHOTOS)], 24, folder / f"{i:02d}_{PHOTOS[i % len(PHOTOS)]}.jpg")
            t_ours, rss, code = run_child(CLI + ["render", str(folder), "--out-dir", str(tmp / "batch_out"),
                                                 "--format", "jpeg"], env)
            line = f"batch: {args.batch} x 24 MP JPEG -> JPEG, cold `silverprint render DIR`: {t_ours:.2f} s " \
                   f"(peak RSS {rss:.2f} GB, exit {code})"
            if use_dt:
                dt_out = tmp / "batch_dt"
                dt_out.mkdir()
                t_dt, dt_rss, dt_code = run_child(darktable_cmd(folder, dt_out / "$(FILE_NAME).jpg", tmp / "dtconf_b"))
                done = len(list(dt_out.glob("*.jpg")))
                line += f"; darktable-cli same folder: {t_dt:.2f} s ({done} files, peak RSS {dt_rss:.2f} GB); " \
                        f"ratio {t_ours / t_dt:.2f} (target <= 0.5)"
            print(line)

        preview_src = np.asarray(Image.open(KODAK / f"{PHOTOS[0]}.png").convert("RGB").resize((1224, 816),
                                                                                             Image.BICUBIC))
        analysis = pipeline.analyse(preview_src)
        params = pipeline.params_for(None, analysis)
        preview = Preview(preview_src, analysis.masks, pipeline.local_masks_for(params, analysis))
        preview.render(params)
        times = {}
        for slider, values in (("sky.exposure", (-0.5, 0.5)), ("other.contrast", (-20, 20)),
                               ("vegetation.green", (-40, 40)), ("global.vignette", (-30, 10))):
            spans = []
            for i in range(12):
                changed = params.copy()
                changed.set(slider, values[i % 2] + i * 1e-3)
                start = time.perf_counter()
                preview.render(changed)
                spans.append(time.perf_counter() - start)
            times[slider] = statistics.median(spans)
        h, w = preview.shape
        print(f"preview {w}x{h} ({w * h / 1e6:.1f} MP), median re-render after one slider change: "
              + ", ".join(f"{k} {v * 1e3:.1f} ms" for k, v in times.items())
              + f"; worst {max(times.values()) * 1e3:.1f} ms (target <= 30 ms)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
