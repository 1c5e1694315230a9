"""Style files and names from anyone: bounded to read, one clear line when refused, and one bad file
never breaks a listing (issue 13, items 6 and 11)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from servicehelp import clean_env, silverprint_command
from silverprint.errors import SilverprintError
from silverprint.styles import import_style, load_style, save_style, user_style_path
from silverprint.styles.style import check_name


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("SILVERPRINT_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _cli(home: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """The installed CLI in its own process, as a user runs it."""
    return subprocess.run([*silverprint_command(), *args], capture_output=True, text=True,
                          env=clean_env(home), timeout=timeout)


def _one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


# --- names (item 11) -----------------------------------------------------------------------------

BAD_NAMES = ["evil\n", "evil\r", "ev\til", "evil\x00", "a/b", "a\\b", "..", "x" * 65, "", " lead",
             "bell\x07", "nel\u0085", "line\u2028sep"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_style_names_refuse_control_characters_separators_and_length(name):
    with pytest.raises(SilverprintError, match="invalid style name"):
        check_name(name)


def test_good_names_still_pass():
    for name in ("silver", "Dark Look 2", "tri-x_like+1.5", "x" * 64):
        assert check_name(name) == name


def test_import_under_a_newline_name_creates_no_file(tmp_path, home):
    src = save_style(load_style("noir"), tmp_path / "noir-copy.json")
    with pytest.raises(SilverprintError, match="invalid style name"):
        import_style(src, name="evil\n")
    folder = user_style_path("ok").parent
    assert not [p for p in folder.iterdir() if "\n" in p.name]


def test_cli_import_and_learn_refuse_a_newline_name_in_one_line(tmp_path, home):
    src = save_style(load_style("noir"), tmp_path / "noir-copy.json")
    _one_line_error(_cli(home, "styles", "import", str(src), "--name", "evil\n"), "invalid style name")
    (tmp_path / "portfolio").mkdir()
    _one_line_error(_cli(home, "learn", str(tmp_path / "portfolio"), "--name", "evil\n"),
                    "invalid style name")
    styles = home / "data" / "styles"
    assert not styles.exists() or not [p for p in styles.iterdir() if "\n" in p.name]


def test_learner_refuses_a_newline_name_before_reading_the_portfolio(tmp_path):
    from silverprint.learn.learner import learn_portfolio

    (tmp_path / "portfolio").mkdir()
    with pytest.raises(SilverprintError, match="invalid style name"):
        learn_portfolio(tmp_path / "portfolio", "evil\n", evaluate=False)
