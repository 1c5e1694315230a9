"""`silverprint watch` as a real process: picks up a new pair, survives kill -9 mid-update with a
valid style file, and resumes after a restart."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from learn_files import KODAK, bw_edit, photo, save

from silverprint.styles import SCHEMA_VERSION

pytestmark = pytest.mark.skipif(not KODAK.is_dir(), reason="needs ../shared/data (the team's data pack)")

# The real `watch` with short fits (behaviour, not accuracy, is under test here).
LAUNCH = """
import sys
from silverprint.learn import fit
fit.TONE_STEPS, fit.LOCAL_STEPS, fit.POLISH_ITERATIONS = 30, 8, 5
from silverprint.learn.watch import watch
sys.exit(watch(sys.argv[1], sys.argv[2], debounce=0.3))
"""


def _add_pair(folder, name):
    rgb = photo(name, 160)
    save(rgb, folder / "originals" / f"{name}.jpg", quality=95)
    save(bw_edit(rgb), folder / "edits" / f"{name}.jpg", quality=95)


def _start(folder, home):
    env = dict(os.environ, SILVERPRINT_HOME=str(home), PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-c", LAUNCH, str(folder), "watched"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _style(home):
    return home / "data" / "styles" / "watched.json"


def _wait(predicate, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def _pairs_in_style(home):
    from silverprint.styles import read_style

    try:
        return read_style(_style(home)).provenance.get("pairs", 0) + len(
            read_style(_style(home)).provenance.get("heldout_names", []))
    except Exception:
        return 0


def test_watch_learns_new_pairs_survives_kill_and_resumes(tmp_path):
    folder, home = tmp_path / "portfolio", tmp_path / "home"
    for name in ("kodim23", "kodim05", "kodim08"):
        _add_pair(folder, name)
    proc = _start(folder, home)
    try:
        _wait(lambda: _pairs_in_style(home) == 3)  # catches up with what is already there
        _add_pair(folder, "kodim14")  # the photographer exports a new edit
        _wait(lambda: _pairs_in_style(home) == 4)
        before = _style(home).read_bytes()
        # a half-written export: only the first bytes of the edit are there for a while
        rgb = photo("kodim20", 160)
        save(rgb, folder / "originals" / "kodim20.jpg", quality=95)
        save(bw_edit(rgb), tmp_path / "full.jpg", quality=95)
        data = (tmp_path / "full.jpg").read_bytes()
        (folder / "edits" / "kodim20.jpg").write_bytes(data[: len(data) // 3])
        time.sleep(1.0)  # let the update start, then kill it the hard way, mid-update
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        log = proc.stdout.read()
        assert log.count("updated style watched from") >= 2, log
        from silverprint.styles import read_style

        style = read_style(_style(home))  # still a complete, valid style file
        assert style.name == "watched"
        assert json.loads(_style(home).read_text())["schema"] == SCHEMA_VERSION
        assert _style(home).read_bytes() == before or _pairs_in_style(home) in (4, 5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    (folder / "edits" / "kodim20.jpg").write_bytes(data)  # the export completes while nobody watches
    proc = _start(folder, home)
    try:
        _wait(lambda: _pairs_in_style(home) == 5)  # resumed: the completed pair is learned
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
