"""Short CUDA-vs-CPU check of the video path (called by bench/gpu_check.sh; runs on CPU too).

Converts one small 1080p clip (a pan, a cut, a zoom; real photos) on the CPU and, when CUDA is
there, on the GPU, both losslessly (x264 CRF 0: a lossy encoder turns a 1/1000-level difference
into different coding decisions and visible differences) with grain off, and checks that the
pictures match; then times the CUDA path at the default CRF against a plain grey transcode with
the same encoder settings. Exit status 1 when the CUDA output differs from the CPU output.

    .venv/bin/python bench/gpu_video.py [--seconds 1] [--size 1920x1080]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
import videoclips as vc  # noqa: E402

#: Largest tolerated mean |ΔY| between CPU and CUDA outputs, in 8-bit levels (float32 reductions,
#: TF32 convolutions and 8-bit rounding differ slightly between devices).
MEAN_TOL = 0.5
P99_TOL = 3.0


def frames_y(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="yuv420p")[: f.height].astype(np.float32) for f in c.decode(video=0)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--style", default=None)
    args = ap.parse_args()
    size = tuple(int(v) for v in args.size.lower().split("x"))
    work = Path(tempfile.mkdtemp(prefix="silverprint-gpu-video-"))
    os.environ.setdefault("SILVERPRINT_HOME", str(work / "home"))

    import torch

    from silverprint.video.convert import convert_video
    from video import grey_transcode  # bench/video.py

    cuda = torch.cuda.is_available()
    print(f"gpu_video: torch {torch.__version__}, "
          + (f"CUDA device {torch.cuda.get_device_name(0)}" if cuda else "no CUDA: CPU path only"))
    t0 = time.monotonic()
    clip = vc.make_clip(work / "clip.mp4", vc.pan_zoom_shots(24, args.seconds), size=size, fps=24, crf=20)
    print(f"clip: {size[0]}x{size[1]}, {int(round(24 * args.seconds))} frames, built in {time.monotonic() - t0:.1f} s")
    t0 = time.monotonic()
    n = grey_transcode(clip, work / "grey.mp4", None)
    base_fps = n / (time.monotonic() - t0)
    print(f"plain grey transcode (default CRF): {base_fps:.2f} frames/s")
    overrides = ["global.grain=0"]
    results = {}
    for device in (["cpu", "cuda"] if cuda else ["cpu"]):
        if device == "cuda":  # warm-up: CUDA context and kernels, not part of the timing
            convert_video(clip, work / "warm.mp4", style=args.style, overrides=overrides, device=device, crf=0)
        res = convert_video(clip, work / f"{device}.mkv", style=args.style, overrides=overrides, device=device, crf=0)
        results[device] = res
        print(f"{device:4s} (CRF 0): {res.fps:7.2f} frames/s, cuts {res.cuts}, analysed {res.analysed}; split (s): "
              + ", ".join(f"{k} {v:.1f}" for k, v in res.timings.items()))
    status = 0
    if cuda:
        a, b = frames_y(results["cpu"].output), frames_y(results["cuda"].output)
        diff = np.concatenate([np.abs(x - y).ravel() for x, y in zip(a, b)])
        mean, p99 = float(diff.mean()), float(np.percentile(diff, 99))
        same = len(a) == len(b) and mean <= MEAN_TOL and p99 <= P99_TOL
        print(f"cuda vs cpu: {len(b)}/{len(a)} frames, mean |dY| {mean:.3f}, p99 {p99:.1f}, max {diff.max():.0f} "
              f"(8-bit levels) -> {'SAME' if same else 'DIFFERENT'}")
        status = 0 if same else 1
    device = "cuda" if cuda else "cpu"
    res = convert_video(clip, work / "default.mp4", style=args.style, device=device)
    print(f"{device} at the default CRF: {res.fps:.2f} frames/s = {res.fps / base_fps:.3f} x the grey transcode "
          f"({base_fps:.2f} frames/s)" + (f"; CPU (CRF 0) {results['cpu'].fps:.2f} frames/s" if cuda else ""))
    import shutil

    shutil.rmtree(work, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
