"""A film on a Ray cluster: split at shot boundaries, chunks rendered on workers, joined losslessly.

1. One worker scans the film (`scan`): the shot cuts, found by the video path's own detector on the
   same thumbnails, and every frame's timestamp.
2. The frames are grouped into chunks (`plan_chunks`): whole shots, and a shot longer than a chunk
   split at its keyframe grid (the smoother analyses every ``key_interval``-th frame of a shot).
3. Each chunk is one task (`render_chunk`): decode from a seek point, smooth (`ShotSmoother`), render
   (the desktop renderer, through `FrameEngine`), encode to a hidden part file, atomically.
4. The driver joins the parts packet by packet (no re-encode: lossless) into the output, with the
   source's audio packets copied as the local path copies them, and the source's timestamps.

The smoothing state across a chunk boundary inside a shot: the masks and sliders of a frame depend
on the shot's earlier keyframes through an exponential average, and a chunk cannot wait for the
chunk before it without making the film serial. So a chunk that starts inside a shot first replays
a lead-in: ``lead_keys`` keyframe intervals before its first frame (from the shot start when
nearer), analysed and smoothed but not rendered, which rebuilds the state at the seam; the old
state's weight left after the lead-in is (1 - alpha) ** lead_keys: about 1e-6 with the defaults
(measured: with 10 intervals, 1e-3 of it was left and a few pixels at the seam differed from the
local path by 2 levels; 20 leave a thousandth of that). The lead-in costs decoding, tracking and
analysing, not rendering. The chunk also reads one frame past its end, the next keyframe, so its
last frames blend toward the same keyframe the next chunk starts from. A chunk that starts at a
cut needs no lead-in: a cut resets the state in the local path too.
"""
from __future__ import annotations

import math
import os
import shutil
import socket
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

import numpy as np

from ..errors import BadInputError, SilverprintError

#: Keyframe intervals replayed before a chunk that starts inside a shot.
LEAD_KEYS = 20
#: Codecs whose parts can be joined: encoded without B-frames, every part's packets follow the
#: previous part's in decode order, so a plain remux joins them.
JOINABLE = {"h264": {"bf": "0"}, "hevc": {"x265-params": "log-level=error:bframes=0"}}


@dataclass(frozen=True)
class Chunk:
    """Frames ``start`` (inclusive) to ``end`` (exclusive); the decode runs ``lead_start`` to
    ``stop`` (exclusive): the lead-in before, the next keyframe after."""

    index: int
    start: int
    end: int
    lead_start: int
    stop: int


class KnownCuts:
    """The scan's cuts, replayed: a `CutDetector` stand-in, so a chunk's shots are the film's."""

    def __init__(self, cuts: list[int], first: int) -> None:
        self.cuts, self.next = set(cuts), first

    def push(self, thumb: np.ndarray) -> bool:
        cut = self.next in self.cuts
        self.next += 1
        return cut


# --- step 1: scan ------------------------------------------------------------------------------

def scan(source: str) -> dict[str, Any]:
    """Cuts and timestamps of every frame, as `convert_video` would see them (a worker task)."""
    import av

    from ..pipeline import analysis_image
    from ..video.convert import _monotonic_pts
    from ..video.io import frame_to_rgb, open_input, probe
    from ..video.shots import CutDetector
    from ..video.temporal import _as_uint8, thumbnail

    info = probe(source)
    detector = CutDetector()
    cuts, raw, pts, last = [], [], [], [None]
    container = open_input(source)
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            if detector.push(thumbnail(_as_uint8(analysis_image(frame_to_rgb(frame))))):
                cuts.append(len(raw))
            raw.append(frame.pts)
            pts.append(_monotonic_pts(frame.pts, last, info))
    except av.FFmpegError as exc:
        raise BadInputError(source, f"cannot decode the video after frame {len(raw)} ({exc})") from None
    finally:
        container.close()
    return {"cuts": cuts, "raw_pts": raw, "pts": pts}


# --- step 2: chunks ----------------------------------------------------------------------------

def plan_chunks(cuts: list[int], frames: int, target: int, key_interval: int,
                lead_keys: int = LEAD_KEYS) -> list[Chunk]:
    """Group whole shots into chunks of about ``target`` frames; split longer shots on their
    keyframe grid. Every frame is in exactly one chunk, in order."""
    k = max(1, key_interval)
    target = max(k, target)
    bounds = sorted(set(c for c in cuts if 0 <= c < frames) | {0}) + [frames]
    pieces: list[tuple[int, int, int]] = []  # (start, end, shot start)
    for s, e in zip(bounds, bounds[1:]):
        p = s
        while e - p > target + target // 2:
            q = s + k * math.ceil((p + target - s) / k)
            pieces.append((p, q, s))
            p = q
        pieces.append((p, e, s))
    groups: list[list[tuple[int, int, int]]] = []
    for piece in pieces:
        whole_shot_start = piece[0] == piece[2]
        if groups and whole_shot_start and groups[-1][-1][1] - groups[-1][0][0] + piece[1] - piece[0] <= target \
                and groups[-1][-1][1] == piece[0]:
            groups[-1].append(piece)
        else:
            groups.append([piece])
    chunks = []
    shot_starts = set(bounds)
    for i, group in enumerate(groups):
        start, end, shot = group[0][0], group[-1][1], group[0][2]
        lead = start if start == shot else shot + k * (max(0, start - lead_keys * k - shot) // k)
        stop = end + 1 if end < frames and end not in shot_starts else end
        chunks.append(Chunk(i, start, end, lead, stop))
    return chunks


# --- step 3: one chunk on a worker -------------------------------------------------------------

def render_chunk(source: str, part: str, style_json: str, overrides: list[str], codec: str,
                 crf: int | None, device: str, chunk: dict[str, int], cuts: list[int],
                 raw_pts: list[int | None], pts: list[int], key_interval: int,
                 alpha: float) -> dict[str, Any]:
    """Render one chunk to ``part`` (written atomically). ``raw_pts``/``pts``: the decoded and
    the output timestamps of frames ``lead_start`` .. ``stop - 1``."""
    import av

    from ..fileio import atomic_path
    from ..styles import style_from_bytes
    from ..video.engine import FrameEngine
    from ..video.io import VideoWriter, frame_to_rgb, open_input, probe
    from ..video.temporal import ShotSmoother

    started = time.monotonic()
    c = Chunk(**chunk)
    info = probe(source)
    engine = FrameEngine(style_from_bytes(style_json, "the job's style"), overrides, device=device,
                         rotation=info.rotation)
    smoother = ShotSmoother(engine.analyse, key_interval=key_interval, alpha=alpha,
                            detector=KnownCuts(cuts, c.lead_start))  # type: ignore[arg-type]
    container = open_input(source)
    written = 0
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        first_pts = raw_pts[0]
        skip = 0 if first_pts is not None else c.lead_start  # no timestamps: count from the start
        if first_pts is not None and c.lead_start > 0:
            container.seek(first_pts, stream=stream, backward=True, any_frame=False)
        with atomic_path(part, suffix=".part.mkv") as tmp:
            writer = VideoWriter(tmp, info, SimpleNamespace(streams=SimpleNamespace(audio=[])),
                                 codec=codec, crf=crf)
            writer.video.options = {**writer.video.options, **JOINABLE[codec]}
            try:
                def emit(frames) -> None:
                    nonlocal written
                    for f in frames:
                        g = c.lead_start + f.index
                        if c.start <= g < c.end:
                            rgb, _ = f.payload
                            image = engine.render(rgb, f.rgb_small, f.masks, f.params, g)
                            writer.write(image, pts[g - c.lead_start])
                            written += 1

                n = c.lead_start
                for frame in container.decode(stream):
                    if skip:
                        skip -= 1
                        continue
                    if first_pts is not None and n == c.lead_start and frame.pts is not None \
                            and frame.pts < first_pts:
                        continue  # before the seek target
                    if n >= c.stop:
                        break
                    rgb = frame_to_rgb(frame)
                    emit(smoother.push(engine.small(rgb), payload=(rgb, n)))
                    n += 1
                emit(smoother.finish())
                writer.close()
            except BaseException:
                writer.abort()
                raise
    except av.FFmpegError as exc:
        raise BadInputError(source, f"cannot decode frames {c.start}-{c.end - 1} ({exc})") from None
    finally:
        container.close()
    if written != c.end - c.start:
        raise BadInputError(source, f"chunk {c.index}: decoded {written} of frames {c.start}-{c.end - 1}")
    return {"frames": written, "analysed": smoother.analysed, "seconds": time.monotonic() - started,
            "host": socket.gethostname(), "pid": os.getpid()}


# --- step 4: join ------------------------------------------------------------------------------

def join_parts(parts: list[Path], pts: list[int], info: Any, source: Path, out: Path) -> int:
    """Remux the parts' packets, with the source's timestamps and audio, into ``out``."""
    import av

    from ..outputs import software_mark
    from ..video.io import open_input

    readers = [av.open(str(p), "r") for p in parts]
    src = open_input(source)
    container = av.open(str(out), "w")
    try:
        container.metadata["comment"] = software_mark()
        template = readers[0].streams.video[0]
        video = container.add_stream_from_template(template)
        video.time_base = info.time_base  # the muxer keeps the source's clock, as the local path's
        if info.display_matrix:
            video.set_display_matrix(list(info.display_matrix))
        elif info.rotation:
            video.set_display_rotation(info.rotation)
        audio_map = {s.index: container.add_stream_from_template(s) for s in src.streams.audio}
        audio = iter(src.demux(list(src.streams.audio))) if audio_map else iter(())
        held = next(audio, None)
        step = max(1, round(1 / (info.fps * info.time_base))) if info.fps else 1
        i = 0
        for part, reader in zip(parts, readers):
            stream = reader.streams.video[0]
            if stream.codec_context.extradata != template.codec_context.extradata:
                raise SilverprintError(f"{part}: encoded with other parameters than the first part; "
                                       "cannot join without re-encoding")
            for packet in reader.demux(stream):
                if packet.size == 0:
                    continue
                t = pts[i]
                seconds = float(t * info.time_base)
                while held is not None and (held.dts is None or held.pts is None
                                            or float(held.pts * held.time_base) <= seconds):
                    held = _copy_audio(container, audio_map, held, audio)
                packet.pts = packet.dts = t
                packet.duration = (pts[i + 1] - t) if i + 1 < len(pts) else step
                packet.time_base = info.time_base
                packet.stream = video
                container.mux(packet)
                i += 1
        while held is not None:
            held = _copy_audio(container, audio_map, held, audio)
        container.close()
    except BaseException:
        try:
            container.close()
        except Exception:  # noqa: BLE001 - already failing; the caller removes the file
            pass
        raise
    finally:
        for reader in readers:
            reader.close()
        src.close()
    if i != len(pts):
        raise SilverprintError(f"{out}: the parts hold {i} frames, the source {len(pts)}")
    return i


def _copy_audio(container: Any, audio_map: dict, packet: Any, rest: Any) -> Any:
    """Mux one source audio packet (skipping the demuxer's empty flush packets); the next one."""
    target = audio_map.get(packet.stream.index)
    if target is not None and packet.dts is not None:
        packet.stream = target
        container.mux(packet)
    return next(rest, None)


# --- the driver --------------------------------------------------------------------------------

def convert_on_cluster(address: str, src: str | os.PathLike, dst: str | os.PathLike, *,
                       style: object = None, overrides: list[str] | tuple = (), codec: str = "h264",
                       crf: int | None = None, device: str = "auto",
                       progress: Callable[[int, int], None] | None = None,
                       message: Callable[[str], None] | None = None, chunk_frames: int | None = None,
                       key_interval: int | None = None, alpha: float = 0.5,
                       lead_keys: int = LEAD_KEYS):
    """`silverprint.video.convert_video` on a cluster; returns its `VideoResult`."""
    from .. import __version__
    from ..fileio import atomic_path
    from ..pipeline import check_overrides, resolve_style
    from ..styles import style_to_json
    from ..video.convert import KEY_INTERVAL, VideoResult, _check_paths
    from ..video.io import probe
    from .connect import connect, placement, slots
    from .manifest import Manifest, content_key, file_digest

    say = message or (lambda text: None)
    src, dst = Path(src).resolve(), Path(dst).resolve()
    _check_paths(src, dst)
    if codec not in JOINABLE:
        raise SilverprintError(f"--cluster joins parts without re-encoding, which needs --codec "
                               f"{' or '.join(JOINABLE)} (not {codec})")
    key_interval = int(key_interval or KEY_INTERVAL)
    style_obj = resolve_style(style)
    overrides = list(overrides)
    check_overrides(style_obj, overrides)
    info = probe(src)
    style_json = style_to_json(style_obj)
    start = time.monotonic()
    job = content_key("video", __version__, file_digest(src), style_json, overrides, codec, crf,
                      key_interval, alpha, lead_keys)
    manifest = Manifest([dst.parent])
    record = manifest.get(dst)
    if record and record["key"] == job and dst.is_file() and file_digest(dst) == record["output"]:
        say(f"{dst}: unchanged since the last run, skipped")
        return VideoResult(dst, info.frames, [], 0, time.monotonic() - start, rotation=info.rotation)
    ray = connect(address)
    try:
        options, device_name = placement(ray, device)
        found = ray.get(ray.remote(scan).options(num_cpus=1, max_retries=3).remote(str(src)))
        frames = len(found["pts"])
        if not frames:
            raise BadInputError(src, "video stream has no frames")
        target = chunk_frames or max(4 * key_interval, min(1000, math.ceil(frames / (3 * slots(ray, options)))))
        chunks = plan_chunks(found["cuts"], frames, target, key_interval, lead_keys)
        say(f"{src.name}: {frames} frames, {len(found['cuts'])} shot(s), {len(chunks)} chunk(s) "
            f"on {slots(ray, options)} {device_name} slot(s)")
        parts_dir = dst.parent / f".{dst.name}.silverprint-parts"
        parts_dir.mkdir(exist_ok=True)
        style_ref = ray.put(style_json)
        task = ray.remote(render_chunk).options(max_retries=3, retry_exceptions=False, **options)
        parts, pending, done, failed = [], {}, 0, []
        for c in chunks:
            part = parts_dir / f"{c.index:05d}-{content_key(job, asdict(c))[:16]}.mkv"
            parts.append(part)
            if part.is_file():  # written atomically: present means complete, named by content
                done += c.end - c.start
                continue
            span = slice(c.lead_start, c.stop)
            ref = task.remote(str(src), str(part), style_ref, overrides, codec, crf, device_name,
                              asdict(c), [x for x in found["cuts"] if c.lead_start <= x < c.stop],
                              found["raw_pts"][span], found["pts"][span], key_interval, alpha)
            pending[ref] = c
        if progress is not None:
            progress(done, frames)
        analysed = 0
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                c = pending.pop(ref)
                try:
                    answer = ray.get(ref)
                except ray.exceptions.RayError as exc:
                    lines = str(exc).strip().splitlines()
                    reason = lines[-1] if lines else exc.__class__.__name__
                    failed.append(f"chunk {c.index} (frames {c.start}-{c.end - 1}): {reason[:300]}")
                    say(f"silverprint: error: {failed[-1]}")
                    continue
                done += answer["frames"]
                analysed += answer["analysed"]
                say(f"chunk {c.index}: frames {c.start}-{c.end - 1} in {answer['seconds']:.1f}s on "
                    f"{answer['host']} pid {answer['pid']} [done {len(chunks) - len(pending) - len(failed)}"
                    f" | running {len(pending)} | failed {len(failed)}]")
                if progress is not None:
                    progress(done, frames)
        if failed:
            raise BadInputError(src, f"{len(failed)} of {len(chunks)} chunk(s) failed, first: "
                                     f"{failed[0]}; finished chunks are kept for a rerun")
        try:
            with atomic_path(dst, suffix=f".part{dst.suffix}") as tmp:
                join_parts(parts, found["pts"], info, src, tmp)
        except OSError as exc:
            raise SilverprintError(f"{dst}: cannot write the video ({exc.strerror or exc})") from None
        manifest.put(dst, job, file_digest(dst))
        manifest.save()
        shutil.rmtree(parts_dir, ignore_errors=True)
    finally:
        ray.shutdown()
    return VideoResult(dst, frames, found["cuts"], analysed, time.monotonic() - start,
                       rotation=info.rotation)
