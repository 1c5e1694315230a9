"""Photo throughput on a local Ray cluster with 1 and 2 workers, against the local path, in one run.

Each path renders the same photos (Kodak, 768 x 512) with the default style, as a user would: the
CLI in a subprocess, its wall time from start to exit. A cluster gets a head with no CPUs (it only
schedules) and 1 or 2 worker nodes of one CPU each, on loopback (tests/clusterhelp.py); its first
run is cold (the worker processes import torch and mediapipe), the second warm. Besides the
wall time it prints the steady rate, from the first finished file to the last. On a 2-core machine
expect about 2x at most. `--frame` adds the per-frame costs that docs/cluster.md scales to a film.

    .venv/bin/python bench/cluster.py [--photos 24] [--frame]
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from clusterhelp import LocalCluster  # noqa: E402
from shared_data import KODAK  # noqa: E402


def _render(cmd: list[str], spawn=None) -> tuple[float, float]:
    """(wall seconds, steady files/s): the steady rate counts from the first finished file to the
    last, so it leaves out the start-up (imports, joining the cluster, loading the models)."""
    cmd = [sys.executable, "-m", "silverprint", "render", *cmd]
    t0 = time.monotonic()
    proc = spawn(cmd) if spawn else subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                                     stderr=subprocess.PIPE, text=True)
    stamps = [time.monotonic() for line in proc.stderr if " -> " in line]
    proc.stdout.read()
    if proc.wait() != 0:
        raise SystemExit(f"{' '.join(cmd)} failed")
    seconds = time.monotonic() - t0
    steady = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else float("nan")
    return seconds, steady


def frame_costs() -> None:
    """Per-frame analysis and render time at 1920 x 1080 on this machine's CPU."""
    import numpy as np
    from PIL import Image

    from silverprint.pipeline import analyse, params_for, render_with, resolve_style

    rgb = np.asarray(Image.open(KODAK / "kodim05.png").convert("RGB").resize((1920, 1080)))
    style = resolve_style(None)
    analyse(rgb)  # warm-up: models loaded
    t0 = time.monotonic()
    a = analyse(rgb)
    t1 = time.monotonic()
    params = params_for(style, a)
    render_with(rgb, a, params, device="cpu")
    t2 = time.monotonic()
    render_with(rgb, a, params, device="cpu")
    t3 = time.monotonic()
    print(f"1920x1080 frame on CPU: analyse {t1 - t0:.2f}s, render {t3 - t2:.2f}s "
          f"(first render {t2 - t1:.2f}s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=24)
    parser.add_argument("--frame", action="store_true", help="also time one 1080p frame on the CPU")
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="spbench-"))
    try:
        names = sorted(p.name for p in KODAK.glob("kodim*.png"))[: opts.photos]
        photos = work / "in"
        photos.mkdir()
        for name in names:
            shutil.copy(KODAK / name, photos / name)
        n = len(names)
        seconds, base = _render([str(photos), "--out-dir", str(work / "local")])
        print(f"local path:         {n} photos in {seconds:5.1f}s = {n / seconds:.2f} photos/s; "
              f"steady {base:.2f} photos/s")
        for workers in (1, 2):
            t0 = time.monotonic()
            with LocalCluster(workers=workers, head_cpus=0) as cluster:
                started = time.monotonic() - t0

                def spawn(cmd):
                    return cluster.spawn([*cmd, "--cluster", cluster.address])

                cold, _ = _render([str(photos), "--out-dir", str(work / f"c{workers}a")], spawn)
                warm, steady = _render([str(photos), "--out-dir", str(work / f"c{workers}b")], spawn)
            print(f"cluster, {workers} worker{'s' if workers > 1 else ' '}: {n} photos in {warm:5.1f}s = "
                  f"{n / warm:.2f} photos/s; steady {steady:.2f} photos/s ({steady / base:.2f}x local); "
                  f"cold run {cold:.1f}s, cluster start {started:.1f}s")
        if opts.frame:
            frame_costs()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
