"""Video decode and encode with PyAV: what the B&W path must keep from the source.

Kept: resolution, frame timestamps (so fractional and variable frame rates survive), the display
matrix (phones store portrait video as rotated landscape plus a rotation), colour tags, and every
audio stream, copied packet by packet (never re-encoded). Frames are decoded to (H, W, 3) uint8 sRGB
in the *coded* orientation; the rotation travels as metadata, as in the source.

Grey frames are written straight into the Y plane of a limited-range 4:2:0 frame with U = V = 128,
so no RGB→YUV matrix can tint them and the chroma planes are exactly neutral.
"""
from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import av
import numpy as np

from ..errors import BadInputError, SilverprintError

#: Output codec option → (FFmpeg encoder, default CRF).
CODECS: dict[str, tuple[str, int]] = {
    "h264": ("libx264", 18),
    "hevc": ("libx265", 20),
    "vp9": ("libvpx-vp9", 31),
    "av1": ("libsvtav1", 32),
}

# FFmpeg AVColorSpace values → the swscale matrix names PyAV understands.
_MATRIX = {1: "ITU709", 5: "ITU601", 6: "ITU601", 7: "SMPTE240M", 9: "BT2020", 10: "BT2020"}


@dataclass
class VideoInfo:
    """What the encoder must reproduce, read from the source."""

    path: Path
    width: int
    height: int
    fps: Fraction  # average frame rate (the nominal rate for a VFR stream)
    time_base: Fraction
    frames: int  # exact when the container says so, else counted from packets
    duration: float  # seconds of the video stream
    rotation: int  # degrees counter-clockwise to display (0, 90, 180, 270)
    display_matrix: tuple[int, ...] | None  # the raw 3×3 matrix (keeps flips too)
    codec: str
    color_range: int = 0
    colorspace: int = 2
    color_primaries: int = 2
    color_trc: int = 2
    audio: list[dict] = field(default_factory=list)  # codec, duration (s) per audio stream


def _raw_display_matrix(frame: av.VideoFrame) -> tuple[int, ...] | None:
    for side in frame.side_data:
        if str(getattr(side, "type", "")).endswith("DISPLAYMATRIX"):
            data = bytes(side)
            if len(data) == 36:
                return struct.unpack("<9i", data)
    return None


def _stream_seconds(stream: av.stream.Stream, container: av.container.InputContainer) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    tag = stream.metadata.get("DURATION")  # Matroska keeps it as a tag
    if tag:
        h, m, s = tag.split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)
    return (container.duration or 0) / av.time_base


def open_input(path: str | os.PathLike) -> av.container.InputContainer:
    """Open a video file or raise a one-line BadInputError."""
    path = Path(path)
    if not path.is_file():
        raise BadInputError(path, "no such file")
    try:
        container = av.open(str(path), "r")
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise BadInputError(path, f"not a readable video ({exc.__class__.__name__}: {exc})") from None
    if not container.streams.video:
        container.close()
        raise BadInputError(path, "has no video stream")
    return container


def probe(path: str | os.PathLike) -> VideoInfo:
    """Read the stream properties (decodes one frame for the display matrix)."""
    path = Path(path)
    container = open_input(path)
    try:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        fps = stream.average_rate or stream.guessed_rate or Fraction(25)
        frames = stream.frames
        matrix = None
        rotation = 0
        first = None
        try:
            first = next(container.decode(stream), None)
        except av.FFmpegError as exc:
            raise BadInputError(path, f"video cannot be decoded ({exc})") from None
        if first is None:
            raise BadInputError(path, "video stream has no frames")
        matrix = _raw_display_matrix(first)
        rotation = int(first.rotation) % 360
        if not matrix and stream.metadata.get("rotate"):  # older files: a plain tag
            rotation = -int(float(stream.metadata["rotate"])) % 360
        audio = [{"index": a.index, "codec": a.codec_context.name,
                  "duration": _stream_seconds(a, container)} for a in container.streams.audio]
        info = VideoInfo(path=path, width=ctx.width, height=ctx.height, fps=Fraction(fps),
                         time_base=stream.time_base, frames=int(frames or 0),
                         duration=_stream_seconds(stream, container), rotation=rotation,
                         display_matrix=matrix, codec=ctx.name,
                         color_range=int(first.color_range), colorspace=int(first.colorspace),
                         color_primaries=int(first.color_primaries), color_trc=int(first.color_trc),
                         audio=audio)
    finally:
        container.close()
    if not info.frames:
        info.frames = count_frames(path)
    return info


def count_frames(path: str | os.PathLike) -> int:
    """Count video packets without decoding (Matroska / WebM do not store a frame count)."""
    container = open_input(path)
    try:
        stream = container.streams.video[0]
        return sum(1 for p in container.demux(stream) if p.size)
    finally:
        container.close()


def frame_to_rgb(frame: av.VideoFrame, *, width: int | None = None, height: int | None = None) -> np.ndarray:
    """(H, W, 3) uint8 display RGB of a decoded frame, using its own matrix and range.

    An untagged stream uses BT.709 from 720 lines up and BT.601 below, as players do.
    """
    matrix = _MATRIX.get(int(frame.colorspace))
    if matrix is None:
        matrix = "ITU709" if frame.height >= 720 else "ITU601"
    src_range = int(frame.color_range) or None
    if frame.format.name.startswith("yuvj"):
        src_range = 2
    return frame.to_ndarray(format="rgb24", width=width, height=height, src_colorspace=matrix,
                            src_color_range=src_range, interpolation="AREA")


def _even_ok(width: int, height: int) -> bool:
    return width % 2 == 0 and height % 2 == 0


def grey_to_yuv_planes(grey: np.ndarray, pix_fmt: str) -> np.ndarray:
    """The flat array PyAV expects for a grey frame: limited-range Y, then U = V = 128.

    `grey` is (H, W) float in [0, 1] (sRGB-encoded) or uint8 full range.
    """
    if grey.dtype == np.uint8:
        y = (grey.astype(np.float32) * (219.0 / 255.0) + 16.0 + 0.5).astype(np.uint8)
    else:
        y = (np.clip(grey, 0.0, 1.0) * 219.0 + 16.5).astype(np.uint8)
    h, w = y.shape
    if pix_fmt == "yuv444p":
        chroma = np.full((2, h, w), 128, np.uint8)
        return np.concatenate([y[None], chroma], axis=0)
    chroma = np.full((h // 2, w), 128, np.uint8)  # U (h/2 × w/2) and V (h/2 × w/2), flat
    return np.concatenate([y, chroma], axis=0)


class VideoWriter:
    """An output file: one re-encoded video stream plus the source's audio streams, copied.

    `write(image, pts)` takes a grey (H, W) or toned (H, W, 3) float image in [0, 1].
    """

    def __init__(self, path: str | os.PathLike, info: VideoInfo, source: av.container.InputContainer,
                 *, codec: str = "h264", crf: int | None = None, threads: int = 0) -> None:
        if codec not in CODECS:
            raise SilverprintError(f"unknown codec {codec!r} (known: {', '.join(CODECS)})")
        encoder, default_crf = CODECS[codec]
        crf = default_crf if crf is None else int(crf)
        self.path = Path(path)
        self.pix_fmt = "yuv420p" if _even_ok(info.width, info.height) else "yuv444p"
        try:
            self.container = av.open(str(self.path), "w")
        except (av.FFmpegError, ValueError) as exc:
            raise SilverprintError(f"{path}: cannot write this kind of file ({exc})") from None
        from ..outputs import software_mark

        self.container.metadata["comment"] = software_mark()  # lets a re-render replace it
        try:
            self.video = self.container.add_stream(encoder, rate=info.fps)
        except ValueError as exc:
            self.container.close()
            raise SilverprintError(f"{path}: {exc}; choose another --codec or file type") from None
        self.video.width, self.video.height = info.width, info.height
        self.video.pix_fmt = self.pix_fmt
        ctx = self.video.codec_context
        ctx.time_base = info.time_base
        ctx.color_range = 1  # limited ("TV") range, what every player assumes for H.264
        ctx.colorspace = info.colorspace if info.colorspace in _MATRIX else 1
        ctx.color_primaries = info.color_primaries if info.color_primaries != 2 else 1
        ctx.color_trc = info.color_trc if info.color_trc != 2 else 1
        ctx.thread_count = threads
        options = {"crf": str(crf)}
        if encoder == "libx264":
            options["preset"] = "medium"
        elif encoder == "libx265":
            options.update({"preset": "medium", "x265-params": "log-level=error"})
        elif encoder == "libvpx-vp9":
            options.update({"b": "0", "row-mt": "1", "deadline": "good", "cpu-used": "4"})
        elif encoder == "libsvtav1":
            options["preset"] = "8"
            os.environ.setdefault("SVT_LOG", "1")  # the library prints its banner to stderr otherwise
        self.video.options = options
        if info.display_matrix:
            self.video.set_display_matrix(list(info.display_matrix))
        elif info.rotation:
            self.video.set_display_rotation(info.rotation)
        self.audio_map: dict[int, av.stream.Stream] = {}
        for stream in source.streams.audio:
            try:
                self.audio_map[stream.index] = self.container.add_stream_from_template(stream)
            except ValueError as exc:
                self.container.close()
                raise SilverprintError(
                    f"{path}: {exc} (the audio is copied, not re-encoded); use .mkv or .mp4") from None
        self.frames = 0

    def write(self, image: np.ndarray, pts: int | None) -> None:
        """Encode one rendered frame at the source's timestamp."""
        if image.ndim == 2:
            frame = av.VideoFrame.from_ndarray(grey_to_yuv_planes(image, self.pix_fmt), format=self.pix_fmt)
        else:
            rgb = (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(
                format=self.pix_fmt, dst_colorspace="ITU709", dst_color_range="MPEG")
        frame.color_range = 1
        frame.pts = pts
        frame.time_base = self.video.codec_context.time_base
        for packet in self.video.encode(frame):
            self.container.mux(packet)
        self.frames += 1

    def copy_audio(self, packet: av.Packet) -> None:
        """Remux one audio packet from the source (timestamps rescaled by the muxer)."""
        target = self.audio_map.get(packet.stream.index)
        if target is None or packet.dts is None:
            return  # the demuxer's final empty flush packet
        packet.stream = target
        self.container.mux(packet)

    def close(self) -> None:
        """Flush the encoder and finish the file."""
        for packet in self.video.encode():
            self.container.mux(packet)
        self.container.close()

    def abort(self) -> None:
        """Close without flushing (the file is about to be deleted)."""
        try:
            self.container.close()
        except Exception:  # noqa: BLE001 - already failing; the caller removes the file
            pass


def demux(container: av.container.InputContainer) -> Iterator[tuple[str, object]]:
    """Source order: ("video", VideoFrame) for each decoded frame, ("audio", Packet) for audio."""
    video = container.streams.video[0]
    video.thread_type = "AUTO"
    streams = [video, *container.streams.audio]
    for packet in container.demux(streams):
        if packet.stream.type == "video":
            for frame in packet.decode():
                yield "video", frame
        else:
            yield "audio", packet
