"""Build small test clips from real photos: camera moves across a photo, cuts, a synthesised sound.

A clip is a list of shots; each shot shows one photo through a moving virtual camera (a crop window
that pans and/or zooms, rendered with sub-pixel bilinear warps so motion is smooth, like a real
pan). Cuts between shots are hard cuts. The audio track is a sine tone encoded with a real audio
encoder (AAC or Opus) so that tests can check that conversion copies it untouched.

Used by tests/test_video.py and bench/video.py; `KODAK` names the photo folder.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from shared_data import KODAK as SHARED_KODAK

#: the Kodak photos the clips are cut from; SILVERPRINT_KODAK: e.g. a copy carried to a GPU machine
KODAK = Path(os.environ["SILVERPRINT_KODAK"]) if os.environ.get("SILVERPRINT_KODAK") else SHARED_KODAK


@dataclass(frozen=True)
class Shot:
    """One shot: `photo` seen through a crop window moving from `start` to `end`.

    A window is (cx, cy, zoom): its centre as fractions of the photo and its zoom (1 = the
    largest window of the clip's aspect ratio that fits the photo, 2 = half as wide).
    """

    photo: str | Path
    frames: int
    start: tuple[float, float, float] = (0.3, 0.5, 1.4)
    end: tuple[float, float, float] = (0.7, 0.5, 1.4)


def load_photo(photo: str | Path) -> np.ndarray:
    """An (H, W, 3) uint8 RGB photo, from a path or a name inside the Kodak folder."""
    path = Path(photo)
    if not path.is_file():
        path = KODAK / str(photo)
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(path)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def camera_frame(photo: np.ndarray, window: tuple[float, float, float], size: tuple[int, int]) -> np.ndarray:
    """Render the crop window of `photo` at `size` (w, h) with one affine warp (sub-pixel exact)."""
    w, h = size
    ph, pw = photo.shape[:2]
    cx, cy, zoom = window
    base = min(pw / w, ph / h)  # photo pixels per output pixel at zoom 1
    scale = base / zoom
    # Output pixel (x, y) samples photo at centre + (x - w/2) * scale.
    m = np.array([[scale, 0.0, cx * pw - scale * w / 2],
                  [0.0, scale, cy * ph - scale * h / 2]], np.float64)
    return cv2.warpAffine(photo, m, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REFLECT)


def shot_frames(shot: Shot, size: tuple[int, int]):
    """The frames of one shot, the window moving linearly (smooth pan / zoom)."""
    photo = load_photo(shot.photo)
    for i in range(shot.frames):
        t = i / max(1, shot.frames - 1)
        window = tuple(a + (b - a) * t for a, b in zip(shot.start, shot.end))
        yield camera_frame(photo, window, size)


def pan_zoom_shots(fps: float, seconds: float = 2.0) -> list[Shot]:
    """The standard test clip: a pan across one photo, a cut, a zoom into another."""
    total = int(round(fps * seconds))
    first = total // 2
    return [Shot("kodim23.png", first, start=(0.3, 0.5, 1.5), end=(0.7, 0.5, 1.5)),
            Shot("kodim05.png", total - first, start=(0.5, 0.5, 1.0), end=(0.45, 0.45, 1.8))]


def make_clip(path: str | Path, shots: list[Shot], *, size: tuple[int, int] = (320, 240),
              fps: Fraction | int = 24, codec: str = "libx264", crf: int = 18,
              audio: str | None = "aac", rotation: int = 0, vfr: bool = False) -> Path:
    """Write a clip; returns its path.

    `fps` may be fractional (e.g. Fraction(30000, 1001)); `vfr` gives every third frame a double
    duration (a variable frame rate stream); `rotation` writes a display matrix (as phones do).
    `audio` is an encoder name (aac, libopus) or None; its length equals the video's.
    """
    path = Path(path)
    fps = Fraction(fps)
    container = av.open(str(path), "w")
    video = container.add_stream(codec, rate=fps)
    video.width, video.height = size
    video.pix_fmt = "yuv420p" if size[0] % 2 == 0 and size[1] % 2 == 0 else "yuv444p"
    video.options = {"crf": str(crf), "preset": "veryfast"} if codec in ("libx264", "libx265") else {}
    if vfr:
        video.codec_context.time_base = Fraction(1, 90000)
    else:
        video.codec_context.time_base = 1 / fps
    if rotation:
        video.set_display_rotation(rotation)
    sound = None
    if audio:
        rate = 48000
        sound = container.add_stream(audio, rate=rate, layout="stereo")
    tb = video.codec_context.time_base
    ticks_per_frame = int(round(1 / (fps * tb)))
    pts = 0
    count = 0
    for shot in shots:
        for rgb in shot_frames(shot, size):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts, frame.time_base = pts, tb
            for packet in video.encode(frame):
                container.mux(packet)
            pts += ticks_per_frame * (2 if vfr and count % 3 == 2 else 1)
            count += 1
    for packet in video.encode():
        container.mux(packet)
    if sound is not None:
        _write_sine(container, sound, float(pts * tb))
    container.close()
    return path


def _write_sine(container: av.container.OutputContainer, stream: av.AudioStream, seconds: float) -> None:
    """A 440 Hz tone (left) and 660 Hz (right) of exactly `seconds`, in encoder-sized chunks."""
    rate = stream.codec_context.sample_rate
    total = int(round(seconds * rate))
    chunk = stream.codec_context.frame_size or 1024
    fmt = stream.codec_context.format.name
    done = 0
    while done < total:
        n = min(chunk, total - done)
        t = (np.arange(done, done + n) / rate)[None, :]
        samples = 0.2 * np.sin(2 * np.pi * np.array([[440.0], [660.0]]) * t)
        if fmt.startswith("s16"):
            samples = np.round(samples * 32767).astype(np.int16)
        else:
            samples = samples.astype(np.float32)
        if not fmt.endswith("p"):  # interleaved: one row of L R L R ...
            samples = samples.T.reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples), format=fmt, layout="stereo")
        frame.sample_rate = rate
        frame.pts = done
        frame.time_base = Fraction(1, rate)
        for packet in stream.encode(frame):
            container.mux(packet)
        done += n
    for packet in stream.encode():
        container.mux(packet)
