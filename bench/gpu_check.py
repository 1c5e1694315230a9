"""Renderer on CUDA vs CPU: same inputs, agreement (max abs difference) and timings, one short run.

    bench/gpu_check.sh            (picks a Python whose torch sees CUDA; see the script)
    python bench/gpu_check.py [--mp 12] [--tol 4]

Renders a Kodak photo upscaled to --mp megapixels (a synthetic photo when the data is absent) with
smooth synthetic region masks and a parameter set that switches every renderer feature on (hue
bands, tone, structure, vignette, grain, split toning, graduated / radial / control-point local
adjustments), through:
  render_array   full resolution, banded, no grad   (CPU fast path, CPU torch path, CUDA)
  render         the differentiable function at 1 MP (CPU, CUDA), plus a forward+backward pass
Prints a table of times and max |difference| vs the CPU result in 16-bit code values, and exits 1
when CUDA disagrees by more than --tol code values. Without CUDA it says so, runs the CPU part and
exits 0 (so the script itself is tested on CPU-only machines).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
KODAK = [HERE.parents[1] / "shared" / "data" / "photos" / "kodak", Path("/work/shared/data/photos/kodak")]


def photo(megapixels: float) -> np.ndarray:
    from PIL import Image

    for folder in KODAK:
        if (folder / "kodim23.png").is_file():
            image = Image.open(folder / "kodim23.png").convert("RGB")
            break
    else:  # synthetic but photo-like: smooth colour gradients plus texture
        y, x = np.mgrid[0:512, 0:768] / 512.0
        rgb = np.stack([0.5 + 0.4 * np.sin(3 * x), 0.5 + 0.4 * np.cos(2 * y), 0.4 + 0.3 * np.sin(5 * x * y)], -1)
        rgb += np.random.default_rng(0).normal(0, 0.03, rgb.shape)
        image = Image.fromarray((np.clip(rgb, 0, 1) * 255).astype(np.uint8))
    w, h = image.size
    scale = (megapixels * 1e6 / (w * h)) ** 0.5
    return np.asarray(image.resize((round(w * scale), round(h * scale)), Image.BICUBIC))


def masks(h: int = 48, w: int = 72) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w] / np.array([h, w]).reshape(2, 1, 1)
    m = np.stack([np.clip(1.2 - 2.5 * y, 0, 1), np.exp(-((x - 0.5) ** 2 + (y - 0.6) ** 2) * 20),
                  np.exp(-((x - 0.5) ** 2 + (y - 0.4) ** 2) * 80), np.clip(2 * y - 1.0, 0, 1),
                  np.full_like(x, 0.2)]).astype(np.float32)
    return m / m.sum(0)


def everything_on():
    from silverprint.params import CURVE_KNOTS, Params, default_local

    p = Params()
    for key, value in {"sky.red": -60, "sky.blue": -80, "vegetation.green": 50, "person.orange": 30,
                       "all.contrast": 25, "sky.highlights": -40, "other.shadows": 35, "all.whites": 10,
                       "all.blacks": -10, "sky.exposure": -0.5, "other.structure": 40, "sky.structure": -30,
                       "global.vignette": -35, "global.grain": 40, "global.grain_size": 60,
                       "global.tone_highlight_sat": 20, "global.tone_shadow_sat": 15,
                       "global.filter_balance": 40, "global.red_hue": -7, "global.blue_hue": 9,
                       "global.magenta_hue": 12}.items():
        p.set(key, value)
    p.set("global.curve", [min(1.0, (i / (CURVE_KNOTS - 1)) ** 0.85 * 1.02) for i in range(CURVE_KNOTS)])
    p.local = [dict(default_local("graduated"), exposure=-0.7, contrast=15, color_range=35, pick_x=0.6, pick_y=0.2),
               dict(default_local("radial"), exposure=0.4, structure=20),
               dict(default_local("point"), x=0.3, y=0.3, radius=0.3, similarity=40, exposure=-0.5, blue=-40)]
    return p


def timed(fn, device: str, repeat: int = 2):
    result, best = None, float("inf")
    for _ in range(repeat):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        result = fn()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return result, best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mp", type=float, default=12.0, help="megapixels of the full-resolution test")
    ap.add_argument("--tol", type=float, default=4.0, help="allowed max difference, 16-bit code values")
    ap.add_argument("--preview-mp", type=float, default=1.0, help="megapixels of the differentiable test")
    args = ap.parse_args()

    from silverprint.render import params_to_tensors, render, render_array, torch_threads

    cuda = torch.cuda.is_available()
    print(f"torch {torch.__version__}; CUDA: "
          + (torch.cuda.get_device_name(0) if cuda else f"no CUDA (torch build {torch.__version__}); CPU part only"))
    rgb, m, params = photo(args.mp), masks(), everything_on()
    h, w = rgb.shape[:2]
    rows = []
    ref, t = timed(lambda: render_array(rgb, m, None, params, device="cpu"), "cpu")
    rows.append((f"render_array {w}x{h}", "cpu (NumPy fast path)", t, 0.0))
    out, t = timed(lambda: render_array(rgb, m, None, params, device="cpu", fast=False), "cpu", 1)
    rows.append((f"render_array {w}x{h}", "cpu (torch bands)", t, float(np.abs(out - ref).max()) * 65535))
    worst = 0.0
    if cuda:
        render_array(rgb[:256], m, None, params, device="cuda")  # warm-up: kernels, allocator
        out, t = timed(lambda: render_array(rgb, m, None, params, device="cuda"), "cuda")
        diff = float(np.abs(out - ref).max()) * 65535
        worst = max(worst, diff)
        rows.append((f"render_array {w}x{h}", "cuda", t, diff))

    small = photo(args.preview_mp).copy()
    x = torch.from_numpy(small).permute(2, 0, 1)[None].float() / 255
    mt = torch.from_numpy(m)[None]
    tc = params_to_tensors(params)
    with torch.no_grad(), torch_threads(1):  # one intra-op thread is fastest on small CPUs
        ref_small, t = timed(lambda: render(x, mt, None, tc), "cpu")
    rows.append((f"render {small.shape[1]}x{small.shape[0]}", "cpu", t, 0.0))

    def forward_backward(device):
        tt = params_to_tensors(params, device).requires_grad_()
        out = render(x.to(device), mt.to(device), None, tt)
        out.mean().backward()
        return out

    with torch_threads(1):
        _, t = timed(lambda: forward_backward("cpu"), "cpu", 1)
    rows.append((f"render+backward {small.shape[1]}x{small.shape[0]}", "cpu", t, 0.0))
    if cuda:
        with torch.no_grad():
            render(x.cuda(), mt.cuda(), None, params_to_tensors(params, "cuda"))
            out, t = timed(lambda: render(x.cuda(), mt.cuda(), None, params_to_tensors(params, "cuda")), "cuda")
        diff = float((out.cpu() - ref_small).abs().max()) * 65535
        worst = max(worst, diff)
        rows.append((f"render {small.shape[1]}x{small.shape[0]}", "cuda", t, diff))
        forward_backward("cuda")
        _, t = timed(lambda: forward_backward("cuda"), "cuda")
        rows.append((f"render+backward {small.shape[1]}x{small.shape[0]}", "cuda", t, None))

    print(f"{'what':<32} {'device':<24} {'seconds':>9} {'max |diff| (16-bit codes)':>27}")
    for what, device, seconds, diff in rows:
        shown = "(timing only)" if diff is None else f"{diff:.2f}"
        print(f"{what:<32} {device:<24} {seconds:>9.3f} {shown:>27}")
    if cuda and worst > args.tol:
        print(f"FAIL: CUDA and CPU differ by {worst:.2f} code values (> {args.tol:g})")
        return 1
    print("OK" + ("" if cuda else " (CPU only: nothing to compare against)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
