"""`silverprint video` and the video path, on clips built from real photos (tests/videoclips.py).

Clips: a pan across one Kodak photo, a hard cut, a zoom into another, with a synthesised audio
track; 320×240, 2 s, so every conversion takes seconds. The unit tests of cut detection, camera
motion and smoothing drive the real code with real frames; only where a test checks the smoothing
*arithmetic* does it use a deterministic analyser (a function of the frame's pixels), and says so.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import videoclips as vc  # noqa: E402

from silverprint.errors import BadInputError, SilverprintError  # noqa: E402
from silverprint.outputs import software_mark  # noqa: E402
from silverprint.params import Params, default_local  # noqa: E402
from silverprint.video import io as vio  # noqa: E402
from silverprint.video.shots import detect_cuts, thumbnail  # noqa: E402
from silverprint.video.temporal import (ShotSmoother, estimate_motion, motion_image,  # noqa: E402
                                        params_to_vector, vector_to_params, warp_masks)

pytestmark = pytest.mark.skipif(not vc.KODAK.is_dir(), reason="needs ../shared/data (the team's data pack)")
FPS = 24
FRAMES = 48  # 2 s; the cut is at frame 24


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    shots = vc.pan_zoom_shots(FPS, FRAMES / FPS)
    return {
        "mp4": vc.make_clip(folder / "panzoom.mp4", shots, fps=FPS, rotation=90),
        "mkv": vc.make_clip(folder / "ntsc_vfr.mkv", vc.pan_zoom_shots(30000 / 1001, 1.0),
                            fps=Fraction(30000, 1001), audio="libopus", vfr=True),
    }


@pytest.fixture(scope="module")
def converted(clips, tmp_path_factory) -> tuple[Path, int, str]:
    """The rotated AAC clip converted once by the CLI: (output, exit code, stderr); several tests
    read it, because rendering is the slow part of this suite."""
    import contextlib
    import io

    from silverprint.cli import main

    folder = tmp_path_factory.mktemp("converted")
    out = folder / "bw.mp4"
    err = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stderr(err):
        mp.setenv("SILVERPRINT_HOME", str(folder / "home"))
        code = main(["video", str(clips["mp4"]), "-o", str(out)])
    return out, code, err.getvalue()


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("SILVERPRINT_HOME", str(tmp_path / "home"))
    return tmp_path


def decoded(path: Path) -> list[av.VideoFrame]:
    with av.open(str(path)) as c:
        return list(c.decode(video=0))


def audio_packets(path: Path) -> list[tuple[float, bytes]]:
    """(time in ms, payload) of every audio packet: equal when the audio was copied, not re-encoded
    (containers count time in different units, so compare milliseconds)."""
    with av.open(str(path)) as c:
        return [(round(float(p.pts * p.time_base) * 1000), bytes(p)) for p in c.demux(audio=0) if p.size]


# --- building blocks -----------------------------------------------------------------------------

def test_clip_builder_writes_what_it_promises(clips):
    info = vio.probe(clips["mp4"])
    assert (info.width, info.height, info.frames, info.fps, info.rotation) == (320, 240, FRAMES, FPS, 90)
    assert [a["codec"] for a in info.audio] == ["aac"] and info.audio[0]["duration"] == pytest.approx(2.0, abs=0.05)
    mkv = vio.probe(clips["mkv"])
    assert mkv.fps == Fraction(30000, 1001) and mkv.frames == 30  # counted: Matroska stores no count


def test_grey_frames_have_neutral_chroma_and_limited_range_luma():
    grey = np.linspace(0, 1, 64 * 48, dtype=np.float32).reshape(48, 64)
    planes = vio.grey_to_yuv_planes(grey, "yuv420p")
    assert planes.shape == (72, 64)
    assert planes[:48].min() == 16 and planes[:48].max() == 235
    assert (planes[48:] == 128).all()
    frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
    rgb = frame.to_ndarray(format="rgb24").astype(int)
    assert np.abs(rgb[..., 0] - rgb[..., 1]).max() <= 1 and np.abs(rgb[..., 1] - rgb[..., 2]).max() <= 1


def test_cuts_found_at_the_cut_and_not_in_fast_pans_or_zooms(tmp_path):
    shots = [vc.Shot("kodim23.png", 20, start=(0.2, 0.5, 2.0), end=(0.8, 0.5, 2.0)),   # fast pan
             vc.Shot("kodim05.png", 20, start=(0.5, 0.5, 1.0), end=(0.45, 0.45, 2.5)),  # fast zoom
             vc.Shot("kodim08.png", 20, start=(0.2, 0.3, 1.0), end=(0.8, 0.7, 1.5))]   # diagonal
    clip = vc.make_clip(tmp_path / "cuts.mp4", shots, audio=None)
    thumbs = [thumbnail(vio.frame_to_rgb(f)) for f in decoded(clip)]
    assert detect_cuts(thumbs) == [0, 20, 40]


def test_params_vector_round_trip_keeps_structure():
    p = Params()
    p.set("sky.blue", -40)
    p.set("global.grain", 12)
    p.local.append(default_local("radial"))
    p.set("local0.x", 0.3)
    v = params_to_vector(p)
    back = vector_to_params(v * 1.0, p)
    assert back.to_dict() == p.to_dict()
    v2 = v.copy()
    v2[0] += 5  # sky.red
    assert vector_to_params(v2, p).regions["sky"]["red"] == 5


def test_motion_estimate_recovers_a_pan_and_zoom_of_a_real_photo():
    photo = vc.load_photo("kodim05.png")
    size = (320, 240)
    win_a, win_b = (0.5, 0.5, 1.2), (0.52, 0.49, 1.26)
    ga = motion_image(vc.camera_frame(photo, win_a, size))
    gb = motion_image(vc.camera_frame(photo, win_b, size))
    m = estimate_motion(ga, gb)
    # camera_frame samples photo point P = c + (x - w/2) * s, so x_b = (s_a (x_a - w/2) + c_a - c_b) / s_b + w/2.
    ph, pw = photo.shape[:2]
    base = min(pw / size[0], ph / size[1])
    k = ga.shape[1] / size[0]  # motion image pixels per frame pixel
    half = np.array(size) / 2
    (sa, ca), (sb, cb) = [(base / z, np.array([x * pw, y * ph])) for x, y, z in (win_a, win_b)]
    for xa in ([40.0, 30.0], [200.0, 100.0], [128.0, 150.0]):
        xa = np.array(xa)
        expected = ((sa * (xa / k - half) + ca - cb) / sb + half) * k
        assert (m @ [*xa, 1.0])[:2] == pytest.approx(expected, abs=0.3)


def _frames(clip: Path) -> list[np.ndarray]:
    return [vio.frame_to_rgb(f).astype(np.float32) / 255 for f in decoded(clip)]


def _colour_analyser(calls: list[int]):
    """Deterministic stand-in analyser for the smoothing arithmetic (not the engine): a 'sky' mask
    from blueness and an exposure from the frame's mean, so the truth is known for every frame."""
    def analyse(small: np.ndarray):
        calls.append(1)
        sky = np.clip((small[..., 2] - small[..., 0]) * 4, 0, 1).astype(np.float32)
        masks = np.zeros((5,) + sky.shape, np.float32)
        masks[0], masks[4] = sky, 1 - sky
        p = Params()
        p.set("all.exposure", float(np.clip((0.45 - small.mean()) * 4, -4, 4)))
        return masks, p
    return analyse


def test_smoother_analyses_keyframes_interpolates_and_resets_at_the_cut(clips):
    frames = _frames(clips["mp4"])
    calls: list[int] = []
    smoother = ShotSmoother(_colour_analyser(calls), key_interval=6, alpha=0.5)
    out = []
    for i, f in enumerate(frames):
        out += smoother.push(f, payload=i)
    out += smoother.finish()
    assert [f.index for f in out] == list(range(FRAMES)) == [f.payload for f in out]
    assert smoother.cuts == [0, 24]
    keys = [f.index for f in out if f.keyframe]
    assert keys == [0, 6, 12, 18, 23, 24, 30, 36, 42, 47] and len(calls) == len(keys)
    exposure = np.array([f.params.regions["other"]["exposure"] for f in out])
    # First frame of the second shot: its own analysis, untouched by the first shot.
    assert exposure[24] == pytest.approx(_colour_analyser([])(frames[24])[1].regions["other"]["exposure"])
    # Between keyframes: exactly linear.
    assert exposure[3] == pytest.approx((exposure[0] + exposure[6]) / 2)
    assert [f.shot for f in out] == [0] * 24 + [1] * 24
    for f in out:
        np.testing.assert_allclose(f.masks.sum(axis=0), 1.0, atol=1e-4)


def test_smoothed_masks_follow_the_camera(clips):
    """Between two keyframes of a pan, the motion-compensated mask is closer to the frame's own
    mask than a plain cross-fade of the keyframe masks (which would show a double edge)."""
    frames = _frames(clips["mp4"])[:24]
    analyse = _colour_analyser([])
    results = {}
    for motion in (True, False):
        smoother = ShotSmoother(analyse, key_interval=12, alpha=1.0, motion=motion)
        out = []
        for f in frames:
            out += smoother.push(f)
        results[motion] = out + smoother.finish()
    truth = analyse(frames[6])[0][0]
    err = {m: float(np.abs(results[m][6].masks[0] - truth).mean()) for m in results}
    assert err[True] < 0.6 * err[False]


def test_warp_masks_keeps_partition_of_unity():
    rng = np.random.default_rng(0)
    masks = rng.random((5, 30, 40)).astype(np.float32)
    masks /= masks.sum(axis=0)
    t = np.array([[1.1, 0.05, 3.0], [-0.05, 1.1, -2.0], [0, 0, 1]])
    warped, valid = warp_masks(masks, t)
    np.testing.assert_allclose(warped.sum(axis=0), 1.0, atol=1e-5)
    assert valid.min() == 0.0 and valid.max() == 1.0


# --- end to end (the real engine) ----------------------------------------------------------------

def _assert_grey_video(src: Path, out: Path) -> None:
    a, b = vio.probe(src), vio.probe(out)
    assert (b.width, b.height, b.frames, b.fps) == (a.width, a.height, a.frames, a.fps)
    assert b.rotation == a.rotation and b.display_matrix == a.display_matrix
    fa, fb = decoded(src), decoded(out)
    assert [f.time for f in fb] == pytest.approx([f.time for f in fa], abs=1e-6)
    for f in fb:
        yuv = f.to_ndarray(format="yuv420p")
        chroma = yuv[f.height:].astype(int)
        assert np.abs(chroma - 128).max() <= 1
        rgb = f.to_ndarray(format="rgb24").astype(int)
        assert np.abs(rgb[..., 0] - rgb[..., 2]).max() <= 2 and np.abs(rgb[..., 1] - rgb[..., 2]).max() <= 2
    assert len(b.audio) == len(a.audio) == 1
    assert b.audio[0]["codec"] == a.audio[0]["codec"]
    assert b.audio[0]["duration"] == pytest.approx(a.audio[0]["duration"], abs=1e-3)
    assert audio_packets(out) == audio_packets(src)  # copied bit for bit, not re-encoded


def test_cli_converts_rotated_clip_keeping_everything(clips, converted):
    out, code, err = converted
    assert code == 0, err
    _assert_grey_video(clips["mp4"], out)
    assert "frames" in err and "/s" in err and "ETA" in err
    assert sorted(p.name for p in out.parent.iterdir()) == ["bw.mp4", "home"]  # no temporary left


def test_fractional_vfr_opus_in_matroska(clips, home):
    from silverprint.video.convert import convert_video

    out = home / "bw.mkv"
    seen = []
    result = convert_video(clips["mkv"], out, codec="h264", progress=lambda d, t: seen.append((d, t)))
    _assert_grey_video(clips["mkv"], out)
    assert result.frames == 30 and result.cuts == [0, 15]
    assert seen[-1] == (30, 30) and [d for d, _ in seen] == list(range(1, 31))


def test_grain_changes_every_frame_while_the_tone_stays(home):
    from silverprint.video.convert import convert_video

    still = vc.make_clip(home / "still.mp4", [vc.Shot("kodim03.png", 5, (0.5, 0.5, 1.2), (0.5, 0.5, 1.2))],
                         size=(160, 120), crf=0, audio=None)
    out = home / "still_bw.mkv"
    convert_video(still, out, overrides=["global.grain=60"], crf=0)
    ys = [f.to_ndarray(format="yuv420p")[:120].astype(np.float32) for f in decoded(out)]
    assert len(ys) == 5
    for a, b in zip(ys, ys[1:]):
        assert np.abs(a - b).mean() > 0.5  # a new grain pattern in every frame
        assert abs(a.mean() - b.mean()) < 0.3  # but the same picture


def test_cancel_leaves_no_file_and_keeps_an_existing_one(clips, home):
    from silverprint.video.convert import VideoCancelled, convert_video

    out = home / "bw.mp4"
    vc.make_clip(out, vc.pan_zoom_shots(FPS, 0.5))  # a previous result of Silverprint's:
    with av.open(str(out)) as old, av.open(str(home / "marked.mp4"), "w") as new:  # marked as such
        new.metadata["comment"] = software_mark()
        stream = new.add_stream_from_template(old.streams.video[0])
        for packet in old.demux(old.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                new.mux(packet)
    os.replace(home / "marked.mp4", out)
    previous = out.read_bytes()
    cancel = threading.Event()

    def progress(done: int, total: int) -> None:
        if done == 3:
            cancel.set()

    with pytest.raises(VideoCancelled):
        convert_video(clips["mp4"], out, progress=progress, cancel=cancel)
    assert out.read_bytes() == previous
    assert sorted(p.name for p in home.iterdir()) == ["bw.mp4", "home"]


def test_ctrl_c_in_the_cli_leaves_no_partial_file(tmp_path):
    clip = vc.make_clip(tmp_path / "long.mp4", vc.pan_zoom_shots(FPS, 6.0), audio="aac")
    out = tmp_path / "out" / "bw.mp4"
    out.parent.mkdir()
    env = dict(os.environ, SILVERPRINT_HOME=str(tmp_path / "home"))
    # Ctrl-C as in a terminal: a test suite started from a background job inherits SIGINT ignored,
    # and Python then never raises KeyboardInterrupt; the child installs Python's own handler
    # first. (Not a preexec_fn: it runs in a fork of this multi-threaded process, where a lock
    # another thread held at the fork can deadlock the child before it execs.)
    cli = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
           "from silverprint.cli import main; sys.exit(main(sys.argv[1:]))")
    proc = subprocess.Popen([sys.executable, "-c", cli, "video", str(clip), "-o", str(out)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if list(out.parent.glob(".bw.*.part.mp4")):  # created (empty) when the conversion starts
            break
        time.sleep(0.05)
    time.sleep(1.0)  # well into the frames: the 6 s clip takes several seconds to convert
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert list(out.parent.iterdir()) == []


def test_errors_are_one_line_and_leave_nothing(clips, home):
    from silverprint.cli import main
    from silverprint.video.convert import convert_video

    not_video = home / "notes.mp4"
    not_video.write_text("not a video")
    with pytest.raises(BadInputError):
        convert_video(not_video, home / "x.mp4")
    with pytest.raises(BadInputError):
        convert_video(clips["mp4"], clips["mp4"])  # would overwrite the original
    with pytest.raises(SilverprintError, match="audio"):
        convert_video(clips["mp4"], home / "bw.webm", codec="vp9")  # AAC cannot go into WebM
    assert main(["video", str(clips["mp4"]), "-o", str(home / "y.mp4"), "--set", "sky.nope=1"]) == 2
    assert sorted(p.name for p in home.iterdir()) == ["home", "notes.mp4"]


def test_preview_frame_matches_the_export(clips, converted):
    from silverprint.video.convert import preview_frame

    exported = decoded(converted[0])
    for index in (5, 30):
        preview = preview_frame(clips["mp4"], index)
        assert preview.shape == (320, 240)  # upright: the clip carries a 90° rotation
        frame = np.rot90(exported[index].to_ndarray(format="yuv420p")[:240].astype(np.float32), 1)
        export = (frame - 16) / 219
        assert np.abs(preview - export).mean() < 0.02
    by_time = preview_frame(clips["mp4"], 30 / FPS)
    assert np.abs(by_time - preview_frame(clips["mp4"], 30)).max() < 1e-6


@pytest.mark.parametrize("codec,suffix,decoder", [("hevc", ".mp4", "hevc"), ("vp9", ".webm", "vp9"),
                                                  ("av1", ".mkv", "av1")])
def test_other_codecs_keep_grey_and_copy_opus(codec, suffix, decoder, home):
    from silverprint.cli import main

    src = vc.make_clip(home / "tiny.mkv", [vc.Shot("kodim23.png", 6)], size=(160, 120), audio="libopus")
    out = home / f"tiny_bw{suffix}"
    assert main(["video", str(src), "-o", str(out), "--codec", codec, "-q"]) == 0
    info = vio.probe(out)
    assert info.codec.startswith(decoder) or info.codec == "libdav1d"
    assert (info.width, info.height, info.frames) == (160, 120, 6)
    for f in decoded(out):
        chroma = f.to_ndarray(format="yuv420p")[f.height:].astype(int)
        assert np.abs(chroma - 128).max() <= 2  # AV1 / VP9 may wobble by a level on flat chroma
    assert audio_packets(out) == audio_packets(src)
