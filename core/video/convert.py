"""`convert_video`: a colour video to a stable black-and-white one, and `preview_frame` for the GUI.

One pass over the source in file order: video frames are decoded, analysed on keyframes, smoothed
(`temporal`), rendered and encoded; audio packets are copied as they come, so the output stays
interleaved. The output is written to a hidden temporary file beside the target and renamed only
when complete: an error, Ctrl-C or a cancel leaves no partial file behind and never touches an
existing file of the same name until the new one is whole.
"""
from __future__ import annotations

import os
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import BadInputError, SilverprintError
from ..fileio import atomic_path
from ..outputs import check_single
from .engine import FrameEngine, Overrides
from .io import CODECS, VideoWriter, demux, frame_to_rgb, open_input, probe
from .temporal import ShotSmoother, Tracker

#: progress(done_frames, total_frames): called on the calling thread after each rendered frame
#: (total may be an estimate).
ProgressCallback = Callable[[int, int], None]
#: Default analysis spacing within a shot, in frames.
KEY_INTERVAL = 8


class VideoCancelled(SilverprintError):
    """The caller's cancel event was set; no output file was left behind."""

    exit_code = 130


@dataclass
class VideoResult:
    """What a conversion did (the CLI prints it; tests and the bench read it)."""

    output: Path
    frames: int
    cuts: list[int]
    analysed: int
    seconds: float
    audio_packets: int = 0
    rotation: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


class _Prefetch:
    """Run a generator on a worker thread, `depth` items ahead (decoding overlaps rendering:
    FFmpeg, swscale and OpenCV release the GIL). `close()` stops and joins the worker, so the
    caller may close the container the generator reads from afterwards."""

    _END = object()

    def __init__(self, generator, depth: int = 4) -> None:
        import queue

        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._generator = generator
        self._thread = threading.Thread(target=self._run, name="silverprint-decode", daemon=True)
        self._thread.start()

    def _put(self, item: object) -> bool:
        import queue

        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            for item in self._generator:
                if not self._put(("item", item)):
                    return
            self._put(("end", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            self._put(("error", exc))
        finally:
            self._generator.close()

    def __iter__(self):
        while True:
            kind, item = self._queue.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item

    def close(self) -> None:
        import queue

        self._stop.set()
        while self._thread.is_alive():
            try:
                self._queue.get(timeout=0.05)
            except queue.Empty:
                pass
        self._thread.join()


def _decoded(source, engine: FrameEngine, path: Path, tracker: Tracker | None):
    """Source order: ("audio", packet) or ("video", (rgb, rgb_small, pts, track)).

    Runs on the decode thread: besides decoding it does the per-frame measurements (thumbnail,
    camera motion), which depend only on the previous frame."""
    import av

    frames = 0
    try:
        for kind, item in demux(source):
            if kind == "audio":
                yield kind, item
            else:
                rgb = frame_to_rgb(item)
                small = engine.small(rgb)
                frames += 1
                yield kind, (rgb, small, item.pts, tracker(small) if tracker else None)
    except av.FFmpegError as exc:
        raise BadInputError(path, f"cannot decode the video after frame {frames} ({exc})") from None


def _check_paths(src: Path, dst: Path) -> None:
    if dst.exists() and dst.is_dir():
        raise BadInputError(dst, "is a folder; give an output file name such as out.mp4")
    if not dst.suffix:
        raise BadInputError(dst, "needs a file type suffix (.mp4, .mkv, .mov, .webm)")
    if not dst.parent.exists():
        raise BadInputError(dst.parent, "output folder does not exist")
    check_single(src, dst)  # not the original, nor a file Silverprint did not write


def convert_video(src: str | os.PathLike, dst: str | os.PathLike, *, style: object = None,
                  overrides: Overrides = (), codec: str = "h264", crf: int | None = None,
                  device: str = "auto", key_interval: int = KEY_INTERVAL, alpha: float = 0.5,
                  progress: ProgressCallback | None = None, cancel: threading.Event | None = None,
                  independent: bool = False) -> VideoResult:
    """Convert `src` to black and white at `dst` with a style; returns what was done.

    `independent=True` renders every frame as a separate photo (no smoothing): the flicker
    baseline of `bench/video.py`, not something a user wants.
    """
    src, dst = Path(src), Path(dst)
    _check_paths(src, dst)
    if codec not in CODECS:
        raise SilverprintError(f"unknown codec {codec!r} (known: {', '.join(CODECS)})")
    info = probe(src)
    engine = FrameEngine(style, overrides, device=device, rotation=info.rotation)
    smoother = ShotSmoother(engine.analyse, key_interval=max(1, int(key_interval)), alpha=alpha)
    source = open_input(src)
    writer: VideoWriter | None = None
    start = time.monotonic()
    timings = {"decode (waiting)": 0.0, "analyse+smooth": 0.0, "render": 0.0, "encode": 0.0}
    done = 0
    decoded = 0  # next frame index in independent mode (otherwise the smoother numbers frames)
    audio_packets = 0
    # Three stages overlap: this thread analyses keyframes and smooths, render workers render
    # (torch releases the GIL; on CUDA two workers keep the GPU busy while the CPU blends the next
    # frame's masks), one worker encodes and muxes (the only thread that touches the output).
    workers = 2 if engine.device.startswith("cuda") else 1
    renderer = ThreadPoolExecutor(workers, thread_name_prefix="silverprint-render")
    encoder = ThreadPoolExecutor(1, thread_name_prefix="silverprint-encode")
    rendering: deque[tuple[Future, int | None]] = deque()  # (render future, pts), in frame order
    pending: deque[Future] = deque()  # encode / audio-copy futures, in submission order
    last_pts = [None]
    in_flight = max(2, int(key_interval) + 2)  # frames handed to the renderers, bounded (memory)

    def encode(image: np.ndarray, pts: int | None) -> None:
        t0 = time.monotonic()
        writer.write(image, pts)
        timings["encode"] += time.monotonic() - t0

    def render(frame) -> np.ndarray:
        rgb, _ = frame.payload
        t0 = time.monotonic()
        if independent:
            image = engine.render_independent(rgb, frame.rgb_small, frame.index)
        else:
            image = engine.render(rgb, frame.rgb_small, frame.masks, frame.params, frame.index)
        timings["render"] += time.monotonic() - t0
        return image

    def collect(keep: int) -> None:
        """Encode finished renders in frame order (waiting while more than `keep` are in flight)."""
        nonlocal done
        while rendering and (len(rendering) > keep or rendering[0][0].done()):
            future, pts = rendering.popleft()
            pending.append(encoder.submit(encode, future.result(), pts))
            while len(pending) > 4:
                pending.popleft().result()
            done += 1
            if progress is not None:
                progress(done, max(info.frames, done))

    def emit(frames) -> None:
        for frame in frames:
            rendering.append((renderer.submit(render, frame), frame.payload[1]))
            collect(in_flight)

    reader: _Prefetch | None = None
    try:
        with atomic_path(dst, suffix=f".part{dst.suffix}") as tmp:
            try:
                writer = VideoWriter(tmp, info, source, codec=codec, crf=crf)
                reader = _Prefetch(_decoded(source, engine, src, None if independent else Tracker()))
                t0 = time.monotonic()
                for kind, item in reader:
                    if cancel is not None and cancel.is_set():
                        raise VideoCancelled(f"{src}: conversion cancelled; no output written")
                    if kind == "audio":
                        pending.append(encoder.submit(writer.copy_audio, item))
                        audio_packets += 1
                        continue
                    rgb, small, pts, track = item
                    pts = _monotonic_pts(pts, last_pts, info)
                    timings["decode (waiting)"] += time.monotonic() - t0
                    t1 = time.monotonic()
                    if independent:
                        ready = [_Independent(decoded, (rgb, pts), small)]
                        decoded += 1
                    else:
                        ready = smoother.push(small, payload=(rgb, pts), track=track)
                    timings["analyse+smooth"] += time.monotonic() - t1
                    emit(ready)
                    collect(in_flight)
                    t0 = time.monotonic()
                emit([] if independent else smoother.finish())
                collect(0)
                while pending:
                    pending.popleft().result()
                renderer.shutdown(wait=True)
                encoder.shutdown(wait=True)
                writer.close()
            except BaseException:  # stop every stage before the temporary file is removed
                if reader is not None:
                    reader.close()
                for future in [f for f, _ in rendering] + list(pending):
                    future.cancel()
                renderer.shutdown(wait=True, cancel_futures=True)
                encoder.shutdown(wait=True, cancel_futures=True)
                if writer is not None:
                    writer.abort()
                raise
    except OSError as exc:  # disk full, folder gone, no permission: one line, not a trace
        raise SilverprintError(f"{dst}: cannot write the video ({exc.strerror or exc})") from None
    finally:
        if reader is not None:
            reader.close()
        source.close()
    return VideoResult(dst, done, list(smoother.cuts), smoother.analysed if not independent else done,
                       time.monotonic() - start, audio_packets, info.rotation, timings)


@dataclass
class _Independent:
    index: int
    payload: tuple
    rgb_small: np.ndarray


def _monotonic_pts(pts: int | None, last: list, info) -> int:
    """The source timestamp, or a synthesised one where the stream has none / goes backwards."""
    if pts is None:
        step = max(1, round(1 / (info.fps * info.time_base))) if info.fps else 1
        pts = 0 if last[0] is None else last[0] + step
    elif last[0] is not None and pts <= last[0]:
        pts = last[0] + 1
    last[0] = pts
    return pts


def preview_frame(path: str | os.PathLike, index_or_time: int | float, style: object = None,
                  overrides: Overrides = (), *, device: str = "auto",
                  key_interval: int = KEY_INTERVAL, alpha: float = 0.5) -> np.ndarray:
    """One frame as the export will render it: (H, W) grey or (H, W, 3) toned float32 in [0, 1].

    `index_or_time`: an int is a frame index, a float is seconds. The frame is shown upright
    (rotation applied). Smoothing state is rebuilt from up to `2 * key_interval` frames before
    the target (or from the shot's start when nearer), so the preview matches the export to within
    the smoothing memory at a fraction of the cost of converting from the beginning.
    """
    path = Path(path)
    info = probe(path)
    engine = FrameEngine(style, overrides, device=device, rotation=info.rotation)
    if isinstance(index_or_time, (int, np.integer)) and not isinstance(index_or_time, bool):
        target = int(index_or_time)
        if not 0 <= target < max(1, info.frames):
            raise BadInputError(path, f"frame {target} is outside 0..{info.frames - 1}")
    else:
        seconds = float(index_or_time)
        if not 0 <= seconds <= info.duration + 1e-6:
            raise BadInputError(path, f"time {seconds:g} s is outside 0..{info.duration:g} s")
        target = None
        target_seconds = seconds
    lead = 2 * max(1, key_interval)
    container = open_input(path)
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if target is not None:
            target_seconds = target / float(info.fps)
        start_seconds = max(0.0, target_seconds - lead / float(info.fps))
        start_offset = stream.start_time or 0
        container.seek(int(start_seconds / stream.time_base) + start_offset, stream=stream,
                       backward=True, any_frame=False)
        window = []  # (rgb, small, seconds) from the seek point up to and including the target
        half = 0.5 / float(info.fps)
        for frame in container.decode(stream):
            t = float((frame.pts - start_offset) * stream.time_base) if frame.pts is not None else 0.0
            if t < start_seconds - half:
                continue
            rgb = frame_to_rgb(frame)
            window.append((rgb, t))
            if len(window) > lead + 1:
                window.pop(0)
            if t >= target_seconds - half:
                break
        if not window:
            raise BadInputError(path, "could not decode the requested frame")
    finally:
        container.close()
    smoother = ShotSmoother(engine.analyse, key_interval=key_interval, alpha=alpha)
    ready = []
    for rgb, _ in window:
        ready += smoother.push(engine.small(rgb), payload=rgb)
    ready += smoother.finish()
    last = ready[-1]
    index = target if target is not None else round(window[-1][1] * float(info.fps))
    image = engine.render(last.payload, last.rgb_small, last.masks, last.params, index)
    turns = (info.rotation // 90) % 4
    return np.ascontiguousarray(np.rot90(image, turns)) if turns else image
