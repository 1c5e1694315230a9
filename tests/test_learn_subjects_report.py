"""`learn --json` and `styles show` report the subjects a style found and how many training pairs
each was learned from (issue 14, item 2), on a real portfolio of Kodak photos whose edits follow
two recipes."""
from __future__ import annotations

import json

import numpy as np
import pytest

from silverprint.cli import main
from learn_files import KODAK, bw_edit, photo, save, short_fits

pytestmark = pytest.mark.skipif(not KODAK.is_dir(), reason="needs ../shared/data (the team's data pack)")
LIGHT = ("kodim23", "kodim05", "kodim08", "kodim14", "kodim20")
DARK = ("kodim03", "kodim07", "kodim15", "kodim19", "kodim22")


@pytest.fixture()
def quick(tmp_path, monkeypatch):
    """A private user data folder and short fits (the tests check reporting, not accuracy)."""
    short_fits(monkeypatch, tmp_path / "home")
    return tmp_path


def _portfolio(root):
    for n in LIGHT + DARK:
        rgb = photo(n, 160)
        edit = bw_edit(rgb)
        if n in DARK:  # a second recipe: a low-key print of the same mix
            edit = (255 * (edit / 255.0) ** 1.8 + 0.5).astype(np.uint8)
        save(rgb, root / "originals" / f"{n}.jpg", quality=95)
        save(edit, root / "edits" / f"{n}.jpg", quality=95)
    return root


def test_learn_and_styles_show_report_subjects_and_their_pairs(quick, capsys):
    folder = _portfolio(quick / "portfolio")
    assert main(["learn", str(folder), "--name", "two", "--json", "-q", "--train", "9",
                 "--components", "subjects"]) == 0
    report = json.loads(capsys.readouterr().out)
    entry = report["styles"][0]
    subjects = entry["subjects"]
    assert len(subjects) >= 2, entry
    assert sum(subjects.values()) == len(entry["train"]) == 9
    assert all(n >= 2 for n in subjects.values())
    assert main(["styles", "show", "two", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["provenance"]["subjects"] == subjects
    assert sorted(data["proxies"]["subjects"]) == sorted(subjects)  # one proxy per subject
    assert main(["styles", "show", "two"]) == 0
    text = capsys.readouterr().out
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("subjects ("))
    for name, count in subjects.items():
        assert f"{name} ({count} training pairs)" in line, text


def test_a_style_without_subjects_says_so(quick, capsys):
    folder = _portfolio(quick / "portfolio")
    assert main(["learn", str(folder), "--name", "one", "--json", "-q", "--components", "global"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["styles"][0]["subjects"] == {}
    assert main(["styles", "show", "one"]) == 0
    assert "subjects: none (one recipe for every photo)" in capsys.readouterr().out
