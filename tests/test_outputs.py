"""Originals are never overwritten: the output planner, SIGTERM and stale temporary files, and
the folder entries and paths that used to end a batch with a traceback (issue 13, items 1, 7, 8, 11).

Photos are synthetic gradients written here, so any clone can run these tests. The new modules are
imported inside the tests that need them, so that the CLI tests also run (and fail) on the code
from before the fix.
"""
from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from silverprint.cli import main

CLI = [sys.executable, "-c", "import sys; from silverprint.cli import main; sys.exit(main(sys.argv[1:]))"]


def _photo(path: Path, size: tuple[int, int] = (96, 64), seed: int = 0) -> Path:
    """A small colour photo stand-in: smooth gradients plus a little noise, in any Pillow format."""
    w, h = size
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    rgb = np.stack([x / w, y / h, 1 - x / w], axis=-1) * 200 + rng.uniform(0, 40, (h, w, 3))
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb.astype(np.uint8)).save(path)
    return path


def is_silverprint_output(path: Path) -> bool:
    from silverprint.outputs import is_silverprint_output as ours  # imported late: see test_outputs

    return ours(path)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _snapshot(folder: Path) -> dict[str, str]:
    return {p.name: _sha(p) for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("SILVERPRINT_HOME", str(tmp_path / "home"))
    return tmp_path


def _error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("silverprint: error:")]


# ------------------------------------------------------------------ item 1: an original overwritten

def test_a_file_rendered_into_its_folder_never_overwrites_a_sibling_original(home, capsys):
    folder = home / "shoot"
    _photo(folder / "photo.jpg", seed=1)
    _photo(folder / "photo.png", seed=2)
    before = _snapshot(folder)
    code = main(["render", str(folder / "photo.jpg"), "--out-dir", str(folder), "-q"])
    err = capsys.readouterr().err
    assert code == 2
    assert len(_error_lines(err)) == 1 and "Traceback" not in err, err
    assert "photo.png" in err and "--suffix" in err
    assert _snapshot(folder) == before  # nothing written, nothing changed


def test_a_folder_rendered_into_itself_is_refused_before_anything_is_written(home, capsys):
    folder = home / "shoot"
    _photo(folder / "photo.jpg", seed=1)
    _photo(folder / "photo.png", seed=2)
    _photo(folder / "other.jpg", seed=3)
    before = _snapshot(folder)
    code = main(["render", str(folder), "--out-dir", str(folder), "-q"])
    err = capsys.readouterr().err
    assert code == 2 and len(_error_lines(err)) == 1, err
    assert "nothing was written" in err
    assert _snapshot(folder) == before  # not even other.png, whose name is free


def test_suffix_renders_beside_the_originals(home):
    folder = home / "shoot"
    _photo(folder / "photo.jpg", seed=1)
    _photo(folder / "photo.png", seed=2)
    before = _snapshot(folder)
    assert main(["render", str(folder / "photo.jpg"), "--out-dir", str(folder), "--suffix", "_bw",
                 "-q"]) == 0
    after = _snapshot(folder)
    assert {k: after[k] for k in before} == before
    assert sorted(set(after) - set(before)) == ["photo_bw.png"]


def test_an_existing_file_that_silverprint_did_not_write_is_never_replaced(home, capsys):
    src = _photo(home / "in" / "photo.jpg", seed=1)
    out = home / "out"
    user_file = _photo(out / "photo.png", seed=9)  # the user's own photo already lives there
    before = _sha(user_file)
    assert main(["render", str(src), "--out-dir", str(out), "-q"]) == 2
    assert main(["render", str(src), "-o", str(user_file), "-q"]) == 2
    err = capsys.readouterr().err
    assert "did not write" in err and "Traceback" not in err
    assert _sha(user_file) == before


def test_a_rerender_replaces_silverprints_own_outputs(home):
    src = _photo(home / "in" / "photo.jpg", seed=1)
    out = home / "out"
    assert main(["render", str(src), "--out-dir", str(out), "-q"]) == 0
    first = _sha(out / "photo.png")
    assert is_silverprint_output(out / "photo.png")
    assert main(["render", str(src), "--out-dir", str(out), "-q", "--set", "all.exposure=1"]) == 0
    assert _sha(out / "photo.png") != first  # replaced: it was ours
    assert main(["render", str(src), "-o", str(home / "one.tif"), "-q"]) == 0
    assert main(["render", str(src), "-o", str(home / "one.tif"), "-q", "--style", "neutral"]) == 0


def test_an_output_that_is_a_hard_link_to_an_input_is_refused(home):
    folder = home / "in"
    src = _photo(folder / "a.jpg", seed=1)
    other = _photo(folder / "b.png", seed=2)
    out = home / "out"
    out.mkdir()
    os.link(other, out / "a.png")  # same inode as the input b.png
    before = _sha(other)
    from silverprint.outputs import OutputConflictError, plan_outputs

    with pytest.raises(OutputConflictError, match="input"):
        plan_outputs([src, other], out, ".png")
    assert main(["render", str(folder), "--out-dir", str(out), "-q"]) == 2
    assert _sha(other) == before


def test_a_photo_rendered_into_its_own_folder_in_its_own_format_gets_bw(home):
    folder = home / "shoot"
    src = _photo(folder / "photo.png", seed=1)
    before = _sha(src)
    assert main(["render", str(src), "--out-dir", str(folder), "-q"]) == 0
    assert (folder / "photo_bw.png").is_file() and _sha(src) == before


# ------------------------------------------------------------- item 7: same stem from two folders

def test_same_name_from_two_folders_is_refused_or_kept_apart(home, capsys):
    x = _photo(home / "x" / "img.jpg", seed=1)
    y = _photo(home / "y" / "img.jpg", seed=2)
    out = home / "out"
    assert main(["render", str(x), str(y), "--out-dir", str(out), "-q"]) == 2
    err = capsys.readouterr().err
    assert len(_error_lines(err)) == 1 and "both" in err and "--keep-folders" in err, err
    assert not out.exists() or not any(out.iterdir())
    assert main(["render", str(x), str(y), "--out-dir", str(out), "--keep-folders"]) == 0
    assert "rendered 2 of 2" in capsys.readouterr().out
    assert is_silverprint_output(out / "x" / "img.png") and is_silverprint_output(out / "y" / "img.png")
    assert _sha(out / "x" / "img.png") != _sha(out / "y" / "img.png")


def test_the_planner_names_every_kind_of_conflict():
    from silverprint.outputs import OutputConflictError, Planned, check_plan

    a, b = Path("/photos/a/img.jpg"), Path("/photos/b/img.jpg")
    with pytest.raises(OutputConflictError, match="both"):
        check_plan([Planned(a, Path("/out/img.png")), Planned(b, Path("/out/img.png"))],
                   is_ours=lambda p: True)
    with pytest.raises(OutputConflictError, match="and 1 more"):
        check_plan([Planned(a, b), Planned(b, a)], is_ours=lambda p: True)
    check_plan([Planned(a, Path("/out/a.png")), Planned(b, Path("/out/b.png"))], is_ours=lambda p: True)


# ------------------------------------------------------- item 8: SIGTERM and stale temporary files

def test_sigterm_mid_batch_leaves_no_temporary_file(home):
    folder = home / "in"
    for i in range(10):
        _photo(folder / f"p{i}.png", size=(2400, 1600), seed=i)
    out = home / "out"
    out.mkdir()
    env = dict(os.environ, SILVERPRINT_HOME=str(home / "home"))
    proc = subprocess.Popen([*CLI, "render", str(folder), "--out-dir", str(out), "-q"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        seen = False
        while time.monotonic() < deadline and proc.poll() is None:
            if any(name.endswith(".tmp") for name in os.listdir(out)):
                seen = True
                proc.send_signal(signal.SIGTERM)
                break
            time.sleep(0.002)
        assert seen, "no temporary file was ever seen: the batch ended too early to test"
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    leftovers = [name for name in os.listdir(out) if name.startswith(".")]
    assert leftovers == [], leftovers
    assert proc.returncode == 130, err
    assert "Traceback" not in err, err
    for path in out.iterdir():  # whatever was finished is whole
        assert Image.open(path).size == (2400, 1600)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_new_run_sweeps_the_temporary_files_that_a_killed_run_left(home):
    from silverprint.fileio import sweep_stale_temps, temp_name

    out = home / "out"
    out.mkdir()
    dead = _dead_pid()
    stale = out / f".photo.png.{dead}.0a1b2c3d.tmp"
    stale_video = out / f".clip.mp4.{dead}.0a1b2c3d.part.mp4"
    live = temp_name(out / "other.png")  # this process is alive: its file is kept
    mine = out / ".notes.1234.txt"  # a user's hidden file never matches
    for path in (stale, stale_video, live, mine):
        path.write_bytes(b"")
    assert sorted(sweep_stale_temps(out)) == sorted([stale, stale_video])
    stale.write_bytes(b"")
    src = _photo(home / "in" / "photo.jpg")
    assert main(["render", str(src), "--out-dir", str(out), "-q"]) == 0
    assert not stale.exists() and live.exists() and mine.exists()


# -------------------------------------------------------- item 11: tracebacks on odd paths and entries

def test_an_explicit_symlink_loop_is_one_line_and_the_rest_is_rendered(home, capsys):
    loop = home / "loop.jpg"
    loop.symlink_to(loop)
    good = _photo(home / "in" / "good.jpg")
    out = home / "out"
    code = main(["render", str(loop), str(good), "--out-dir", str(out), "-q"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert len([line for line in err.splitlines() if "loop.jpg" in line]) == 1, err
    assert (out / "good.png").is_file()


def test_an_output_folder_that_cannot_be_made_is_one_line(home):
    src = _photo(home / "in" / "a.jpg")
    blocker = home / "file"
    blocker.write_text("not a folder")
    for out in ("/proc/silverprint-x", str(blocker / "sub"), str(blocker)):
        proc = subprocess.run([*CLI, "render", str(src), "--out-dir", out, "-q"], capture_output=True,
                              text=True, timeout=120, env=dict(os.environ, SILVERPRINT_HOME=str(home)))
        assert proc.returncode == 2, (out, proc.stderr)
        assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_links_loops_and_fifos_in_a_folder_are_each_named_with_a_reason(home, capsys):
    folder = home / "in"
    _photo(folder / "good.jpg")
    (folder / "loop.jpg").symlink_to(folder / "loop.jpg")
    (folder / "dangling.png").symlink_to(folder / "gone.png")
    os.mkfifo(folder / "pipe.jpg")
    (folder / "sub").mkdir()
    out = home / "out"
    code = main(["render", str(folder), "--out-dir", str(out)])
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert code == 0, text  # skipped entries are notes, not failures: nothing could be rendered
    for name, reason in (("loop.jpg", "loop"), ("dangling.png", "dangling"), ("pipe.jpg", "fifo"),
                         ("sub", "sub-folder")):
        lines = [line for line in text.splitlines() if f"{name}:" in line]
        assert len(lines) == 1 and reason in lines[0], (name, text)
    assert sorted(p.name for p in out.iterdir()) == ["good.png"]


def test_regions_masks_never_overwrite_an_original(home, capsys):
    src = _photo(home / "in" / "photo.jpg")
    out = home / "in"
    original = _photo(out / "photo_sky.png", seed=5)  # a user's file named like a mask
    before = _sha(original)
    assert main(["regions", str(src), "--out-dir", str(out), "-q"]) == 2
    assert "did not write" in capsys.readouterr().err
    assert _sha(original) == before
    masks = home / "masks"
    assert main(["regions", str(src), "--out-dir", str(masks), "-q"]) == 0
    assert main(["regions", str(src), "--out-dir", str(masks), "-q"]) == 0  # its own: replaced


def _clip(path: Path, frames: int = 6, comment: str | None = None) -> Path:
    """A tiny H.264 clip of moving gradients, written with PyAV."""
    import av

    with av.open(str(path), "w") as container:
        if comment:
            container.metadata["comment"] = comment
        stream = container.add_stream("libx264", rate=12)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(frames):
            rgb = np.roll(np.asarray(Image.open(_photo(path.with_suffix(".frame.png"), (64, 48), i))),
                          i, axis=1)
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    path.with_suffix(".frame.png").unlink()
    return path


def test_a_video_never_overwrites_another_video_and_replaces_its_own(home, capsys):
    src = _clip(home / "clip.mp4")
    user_film = _clip(home / "film.mp4", frames=3, comment="my holiday")
    before = _sha(user_film)
    assert main(["video", str(src), "-o", str(user_film), "-q"]) == 2
    assert "did not write" in capsys.readouterr().err
    assert _sha(user_film) == before
    out = home / "clip_bw.mp4"
    assert main(["video", str(src), "-o", str(out), "-q"]) == 0
    assert is_silverprint_output(out)
    assert main(["video", str(src), "-o", str(out), "-q", "--set", "all.exposure=1"]) == 0
