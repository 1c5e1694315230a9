"""A pair that contradicts the rest of a portfolio is reported, not silently averaged (issue 14,
item 4): by `watch` when it appears in the watched folder, and by `learn --json`; the consistent
pairs are not named. Real Kodak photos, real edits, the real `watch` process."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from learn_files import KODAK, bw_edit, photo, save

pytestmark = pytest.mark.skipif(not KODAK.is_dir(), reason="needs ../shared/data (the team's data pack)")
#: Nine photos edited one way; the protocol's split of these and ODD puts ODD among the training
#: pairs, so the style is fitted on the contradicting edit too (the hard case: not just held out).
CONSISTENT = ("kodim03", "kodim05", "kodim07", "kodim08", "kodim15", "kodim19", "kodim20", "kodim22", "kodim23")
ODD = "kodim14"

LAUNCH = """
import sys
from silverprint.learn import fit
fit.TONE_STEPS, fit.LOCAL_STEPS, fit.POLISH_ITERATIONS = 40, 10, 10
from silverprint.learn.watch import watch
sys.exit(watch(sys.argv[1], sys.argv[2], debounce=0.3))
"""


def _add(folder, name, edit=None):
    rgb = photo(name, 160)
    edit = bw_edit(rgb) if edit is None else edit(bw_edit(rgb))
    save(rgb, folder / "originals" / f"{name}.jpg", quality=95)
    save(edit, folder / "edits" / f"{name}.jpg", quality=95)


def _darker(grey: np.ndarray) -> np.ndarray:
    """A much darker print than the photographer's usual (about -1.5 EV in the mid-tones)."""
    return (255 * (grey / 255.0) ** 2.5 + 0.5).astype(np.uint8)


def _contradiction_lines(log: str) -> list[str]:
    return [line.strip() for line in log.splitlines() if "contradicts the rest:" in line]


def test_watch_reports_a_contradicting_new_pair_and_not_the_consistent_ones(tmp_path):
    folder, home = tmp_path / "portfolio", tmp_path / "home"
    for name in CONSISTENT:
        _add(folder, name)
    env = dict(os.environ, SILVERPRINT_HOME=str(home), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-c", LAUNCH, str(folder), "watched"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    guard = threading.Timer(600, proc.kill)  # a hung watch ends the test, not the run
    guard.start()
    try:
        def read_until(done, timeout: float = 300.0) -> None:
            deadline = time.monotonic() + timeout
            while not done("".join(lines)):
                assert time.monotonic() < deadline and proc.poll() is None, "".join(lines)
                lines.append(proc.stdout.readline())

        # an update has said all it says about the style once its held-out line is out (that
        # comes after any contradictions)
        read_until(lambda log: "held-out (" in log)  # caught up with the consistent portfolio
        assert not _contradiction_lines("".join(lines)), "".join(lines)
        _add(folder, ODD, _darker)  # the photographer exports an edit unlike the others
        # the update that learned the new pair (an earlier one may have seen its original alone)
        read_until(lambda log: "(1 new or changed" in log and "held-out (" in log.split("(1 new or changed")[-1])
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
        log = "".join(lines) + out
    finally:
        guard.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reported = set(_contradiction_lines(log))  # a later update may say it again
    assert reported == {f"contradicts the rest: {ODD}: your edit is much darker than your other "
                        f"edits of similar photos"}, log
    from silverprint.styles import read_style

    style = read_style(home / "data" / "styles" / "watched.json")  # and the style file says so
    assert [c["name"] for c in style.provenance["contradicts"]] == [ODD]


def test_learn_json_names_an_inverted_edit_with_a_plain_reason(tmp_path, monkeypatch, capsys):
    from silverprint.cli import main
    from silverprint.learn import fit

    monkeypatch.setenv("SILVERPRINT_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(fit, "TONE_STEPS", 40)
    monkeypatch.setattr(fit, "LOCAL_STEPS", 10)
    monkeypatch.setattr(fit, "POLISH_ITERATIONS", 10)
    folder = tmp_path / "portfolio"
    for name in CONSISTENT:
        _add(folder, name)
    _add(folder, ODD, lambda grey: 255 - grey)  # a negative: the opposite of every other edit
    assert main(["learn", str(folder), "--name", "mine", "--json", "-q"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert ODD in report["train"]  # fitted on it too, and still named
    assert [c["name"] for c in report["contradicts"]] == [ODD], report["contradicts"]
    assert "inverts the tones" in report["contradicts"][0]["why"]
    assert report["styles"][0]["contradicts"] == report["contradicts"]


def test_the_bounds_two_recipes_and_invisible_differences_are_not_contradictions():
    """The thresholds of `consistency.outliers` on measured-like numbers: two recipes of equal
    weight are subjects, not contradictions; a pair reproduced at 44 dB among pairs at 48 dB
    contradicts nothing; one edit 0.2 darker than the rest does."""
    from silverprint.learn.consistency import PairError, outliers

    def pair(name, brightness, mse, spread=0.2, r=0.99):
        return PairError(name, mse, brightness, spread, spread, r)

    two_recipes = [pair(f"a{i}", 0.12, 0.015) for i in range(5)] + [pair(f"b{i}", -0.12, 0.015) for i in range(5)]
    assert outliers(two_recipes) == []
    tight = [pair(f"p{i}", 0.001 * (i - 4), 1.6e-5, r=0.999) for i in range(9)]
    assert outliers(tight + [pair("slightly", 0.02, 4e-5)]) == []
    found = outliers(tight + [pair("odd", -0.2, 0.04)])
    assert [f["name"] for f in found] == ["odd"] and found[0]["measure"] == "brightness"
    assert found[0]["why"] == "your edit is much darker than your other edits of similar photos"
    assert outliers(tight[:3] + [pair("odd", -0.2, 0.04)]) == []  # four pairs are no reference
