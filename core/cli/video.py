"""`silverprint video`: a colour video to black and white with a style, without flicker.

Keeps resolution, frame timing, rotation and the audio (copied). The output appears only when it
is complete: an error, Ctrl-C or a kill by SIGTERM leaves no partial file.
"""
from __future__ import annotations

import argparse
import sys
import time

from ..errors import SilverprintError
from .render import add_cluster_option


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("video", help="convert a video to black and white",
                       description="Convert a video to black and white with a style; regions and "
                                   "sliders are smoothed within each shot, so there is no flicker.")
    p.add_argument("input", metavar="INPUT", help="video file (anything FFmpeg reads)")
    p.add_argument("-o", "--output", required=True, metavar="OUTPUT",
                   help="output video file (.mp4, .mkv, .mov, .webm); replaced only when complete")
    p.add_argument("--style", default=None, help="style name or style file (default: the default style)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="REGION.PARAM=VALUE",
                   help="override a slider, e.g. --set sky.exposure=-1 --set global.grain=30")
    p.add_argument("--crf", type=int, default=None, metavar="N",
                   help="quality (lower is better; default 18 for h264, 20 hevc, 31 vp9, 32 av1)")
    p.add_argument("--codec", choices=("h264", "hevc", "vp9", "av1"), default="h264")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    add_cluster_option(p)
    p.add_argument("--chunk-frames", type=int, default=None, metavar="N",
                   help="with --cluster: frames per chunk (default: from the film and the cluster)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..progress import Progress
    from ..video.convert import convert_video
    from ..video.io import probe

    if args.crf is not None and not 0 <= args.crf <= 63:
        raise SilverprintError(f"--crf {args.crf} is outside 0..63")
    total = probe(args.input).frames
    bar = Progress(total, "video", unit="frames", enabled=not args.quiet)
    last = [0.0, 0]

    def progress(done: int, total_now: int) -> None:
        now = time.monotonic()
        bar.total = total_now
        # Redraw at most 4 times a second on a terminal, once every 2 s in a log.
        if done < total_now and now - last[0] < (0.25 if bar.tty else 2.0):
            return
        last[0] = now
        bar.step(n=done - last[1])
        last[1] = done

    with bar:
        if args.cluster:  # Ray is imported only here
            from ..cluster.video import convert_on_cluster

            result = convert_on_cluster(args.cluster, args.input, args.output, style=args.style,
                                        overrides=args.overrides, codec=args.codec, crf=args.crf,
                                        device=args.device, progress=progress, message=bar.message,
                                        chunk_frames=args.chunk_frames)
        else:
            result = convert_video(args.input, args.output, style=args.style,
                                   overrides=args.overrides, codec=args.codec, crf=args.crf,
                                   device=args.device, progress=progress)
    if total and result.frames < total:
        print(f"silverprint: warning: {args.input}: only {result.frames} of {total} frames could be "
              "decoded (damaged or truncated source); the output holds those", file=sys.stderr)
    if not args.quiet:
        print(f"{result.output}: {result.frames} frames, {len(result.cuts)} shot(s), "
              f"{result.fps:.1f} frames/s", file=sys.stderr)
    print(result.output)
    return 0
