"""Video benchmark: flicker of the B&W video path, and its speed at 1080p against a plain transcode.

Flicker = mean |Δ mean luminance| between consecutive frames within a shot (display [0, 1] units).
The flicker clips and outputs are encoded losslessly (x264 CRF 0), so no codec noise enters.
From one run, on a clip built from real photos (a pan, a cut, a zoom):
  (a) plain per-frame luminance of the source frames (what the camera move alone does),
  (b) Silverprint rendering every frame independently, as if each were a photo,
  (c) Silverprint's video path (keyframe analysis, motion-compensated smoothing),
  (d) a reference: the video path's masks with each shot's sliders frozen at its first analysis
      (rendered in float). (d)/(a) is what the style's own tone (contrast, colour filters) does to
      the luminance changes of a camera move; (c)/(d) is what is left of temporal instability.
Target: (c) <= 1.1 × (a), while (b) is visibly higher on the pan. Also printed: jitter, the mean
|second difference| of the per-frame means on the pan (flicker alternates, a pan trends).

Speed: a 1080p clip converted by the video path, as frames/s and as a ratio to a plain grey
transcode of the same clip with PyAV (decode, swscale to grey, same encoder and CRF, audio copied),
timed in the same run, after an untimed warm-up conversion (model loading, CUDA start-up).

    .venv/bin/python bench/video.py [--seconds 2] [--device auto] [--skip-speed] [--skip-flicker]
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
import videoclips as vc  # noqa: E402

from silverprint.video import io as vio  # noqa: E402
from silverprint.video.convert import convert_video  # noqa: E402


def plain_luminance(rgb: np.ndarray) -> np.ndarray:
    """ARCHITECTURE.md's plain conversion: linearise sRGB, Rec.709 Y, encode sRGB."""
    f = rgb.astype(np.float32) / 255.0
    lin = np.where(f <= 0.04045, f / 12.92, ((f + 0.055) / 1.055) ** 2.4)
    y = lin @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    return np.where(y <= 0.0031308, y * 12.92, 1.055 * np.power(y, 1 / 2.4) - 0.055)


def source_means(path: Path) -> list[float]:
    with av.open(str(path)) as c:
        return [float(plain_luminance(vio.frame_to_rgb(f)).mean()) for f in c.decode(video=0)]


def output_means(path: Path) -> list[float]:
    """Mean display luminance of each frame of a grey video (Y plane, limited range)."""
    out = []
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            y = f.to_ndarray(format="yuv420p")[: f.height].astype(np.float32)
            out.append(float(((y - 16.0) / 219.0).mean()))
    return out


def flicker(means: list[float], cuts: list[int], frames: range | None = None) -> float:
    """Mean |Δ| of consecutive means, skipping the pairs that straddle a cut."""
    starts = set(cuts)
    idx = frames or range(1, len(means))
    diffs = [abs(means[i] - means[i - 1]) for i in idx if i >= 1 and i not in starts]
    return float(np.mean(diffs)) if diffs else 0.0


def frozen_means(clip: Path, style: object, device: str) -> list[float]:
    """(d): the video path's masks, but each shot's sliders frozen at its first analysis, rendered
    in float (no encode). What the style alone does to a camera move with zero slider variation."""
    from silverprint.video.engine import FrameEngine
    from silverprint.video.temporal import ShotSmoother

    info = vio.probe(clip)
    engine = FrameEngine(style, device=device, rotation=info.rotation)
    first: dict[int, object] = {}

    def analyse(small):
        masks, params = engine.analyse(small)
        return masks, first.setdefault(smoother.shot, params)

    smoother = ShotSmoother(analyse)
    means: list[float] = []

    def take(ready):
        for f in ready:
            means.append(float(engine.render(f.payload, f.rgb_small, f.masks, f.params, f.index).mean()))

    with av.open(str(clip)) as c:
        for frame in c.decode(video=0):
            rgb = vio.frame_to_rgb(frame)
            take(smoother.push(engine.small(rgb), payload=rgb))
    take(smoother.finish())
    return means


#: Flicker clips: (name, pan photo, zoom photo). Both are content where regions come and go
#: (skin, hair and a red hat; people, water and trees), so a per-frame analysis jitters. Both
#: orders are run so that the result does not hang on one choice of clip.
FLICKER_CLIPS = (("portrait-pan", "kodim04.png", "kodim14.png"),
                 ("raft-pan", "kodim14.png", "kodim04.png"))


def flicker_shots(fps: int, seconds: float, pan: str, zoom: str) -> list[vc.Shot]:
    """A pan across one photo, a cut, a zoom into another."""
    total = int(round(fps * seconds))
    first = total // 2
    return [vc.Shot(pan, first, start=(0.3, 0.45, 1.6), end=(0.7, 0.45, 1.6)),
            vc.Shot(zoom, total - first, start=(0.5, 0.5, 1.0), end=(0.45, 0.45, 1.8))]


def flicker_report(work: Path, name: str, pan_photo: str, zoom_photo: str, args) -> bool:
    """Print the flicker table of one clip; True when the target is met."""
    fps = 24
    shots = flicker_shots(fps, args.flicker_seconds, pan_photo, zoom_photo)
    clip = vc.make_clip(work / f"{name}.mp4", shots, size=(320, 240), fps=fps, crf=0)
    cut = shots[0].frames
    cuts = [0, cut]
    a = source_means(clip)
    t0 = time.monotonic()
    crf = 0 if args.crf is None else args.crf  # lossless: codec noise would bias every ratio towards 1
    ind = convert_video(clip, work / f"{name}_independent.mp4", style=args.style, device=args.device,
                        crf=crf, independent=True)
    t_ind = time.monotonic() - t0
    t0 = time.monotonic()
    vid = convert_video(clip, work / f"{name}_video.mp4", style=args.style, device=args.device, crf=crf)
    t_vid = time.monotonic() - t0
    b, c = output_means(ind.output), output_means(vid.output)
    d = frozen_means(clip, args.style, args.device)
    pan, zoom = range(1, cut), range(cut + 1, len(a))
    print(f"\n[{name}] {len(a)} frames 320x240 @ {fps} fps: pan across {pan_photo} ({cut} frames), cut, "
          f"zoom into {zoom_photo}; cuts found at {vid.cuts}, {vid.analysed} frames analysed")
    print(f"{'flicker x1000':34s}{'all shots':>10s}{'pan':>10s}{'zoom':>10s}{'pan jitter':>12s}")
    rows = [("(a) plain per-frame luminance", a), ("(b) Silverprint, frames independent", b),
            ("(c) Silverprint video path", c), ("(d) sliders frozen per shot [ref]", d)]
    values = {}
    for label, means in rows:
        jitter = float(np.mean(np.abs(np.diff(np.asarray(means)[:cut], 2))))
        values[label[:3]] = [flicker(means, cuts), flicker(means, cuts, pan), flicker(means, cuts, zoom)]
        print(f"{label:34s}" + "".join(f"{1000 * v:10.3f}" for v in values[label[:3]]) + f"{1000 * jitter:12.3f}")

    def ratio(x: str, y: str) -> list[float]:
        return [p / q if q else float("nan") for p, q in zip(values[x], values[y])]

    for label, r in (("ratio (c)/(a)  [target <= 1.10]", ratio("(c)", "(a)")),
                     ("ratio (b)/(a)", ratio("(b)", "(a)")),
                     ("ratio (d)/(a)  (the style's own)", ratio("(d)", "(a)")),
                     ("ratio (c)/(d)  (temporal part)", ratio("(c)", "(d)"))):
        print(f"{label:34s}" + "".join(f"{v:10.2f}" for v in r))
    ok = ratio("(c)", "(a)")[0] <= 1.10
    print(f"time: independent {t_ind:.1f} s, video path {t_vid:.1f} s ({vid.fps:.1f} frames/s); "
          f"target (c) <= 1.1 x (a) over the clip: {'MET' if ok else 'NOT MET'}; (b) above (c) on the pan: "
          f"{'yes' if values['(b)'][1] > values['(c)'][1] else 'no'} "
          f"({values['(b)'][1] / values['(c)'][1]:.2f}x)")
    return ok


def grey_transcode(src: Path, dst: Path, crf: int | None) -> int:
    """The baseline: decode, swscale to 8-bit grey, encode with the same writer settings."""
    info = vio.probe(src)
    source = vio.open_input(src)
    writer = vio.VideoWriter(dst, info, source, crf=crf)
    n = 0
    try:
        for kind, item in vio.demux(source):
            if kind == "audio":
                writer.copy_audio(item)
                continue
            grey = item.to_ndarray(format="gray")
            writer.write(grey, item.pts)
            n += 1
        writer.close()
    finally:
        source.close()
    return n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=2.0, help="length of the 1080p speed clip")
    ap.add_argument("--flicker-seconds", type=float, default=3.0, help="length of the flicker clip")
    ap.add_argument("--style", default=None)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--crf", type=int, default=None)
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--skip-flicker", action="store_true")
    ap.add_argument("--keep", metavar="DIR", help="keep the clips and outputs in DIR")
    args = ap.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="silverprint-bench-video-"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("SILVERPRINT_HOME", str(work / "home"))

    # --- flicker -----------------------------------------------------------------------------
    print("flicker = mean |delta mean luminance| between consecutive frames within shots; "
          "pan jitter = mean |second difference| on the pan (flicker alternates, a pan trends)")
    for name, pan_photo, zoom_photo in ([] if args.skip_flicker else FLICKER_CLIPS):
        flicker_report(work, name, pan_photo, zoom_photo, args)
    print()

    if args.skip_speed:
        return 0
    # --- speed at 1080p ----------------------------------------------------------------------
    fps = 24
    hd = vc.make_clip(work / "hd.mp4", vc.pan_zoom_shots(fps, args.seconds), size=(1920, 1080), fps=fps, crf=20)
    # Warm-up, not timed: model loading, CUDA context and kernels are paid once per process.
    warm = vc.make_clip(work / "warm.mp4", [vc.Shot("kodim05.png", 3)], size=(1920, 1080), fps=fps, audio=None)
    convert_video(warm, work / "warm_bw.mp4", style=args.style, device=args.device, crf=args.crf)
    t0 = time.monotonic()
    n = grey_transcode(hd, work / "hd_grey.mp4", args.crf)
    t_base = time.monotonic() - t0
    t0 = time.monotonic()
    res = convert_video(hd, work / "hd_bw.mp4", style=args.style, device=args.device, crf=args.crf)
    t_sp = time.monotonic() - t0
    base_fps, sp_fps = n / t_base, res.frames / t_sp
    print(f"speed, 1920x1080, {n} frames, libx264 CRF {args.crf or vio.CODECS['h264'][1]}, device {args.device}:")
    print(f"  plain grey transcode (PyAV): {base_fps:7.2f} frames/s")
    print(f"  Silverprint video path:      {sp_fps:7.2f} frames/s  = {sp_fps / base_fps:.3f} x the transcode"
          f"  (analysed {res.analysed} frames)")
    print("  time split (s): " + ", ".join(f"{k} {v:.1f}" for k, v in res.timings.items()))
    if not args.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
