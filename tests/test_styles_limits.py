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


# --- bounded, one-line parsing (item 6) ----------------------------------------------------------

def _style_text(**changes) -> str:
    data = load_style("silver").to_dict()
    data.update(changes)
    return json.dumps(data)


def _local(n: int) -> dict:
    data = load_style("silver").to_dict()
    data["base"]["local"] = [{"kind": ("point", "radial", "graduated")[i % 3]} for i in range(n)]
    return data


HOSTILE_FILES = {
    "deep": ("[" * 5000 + "]" * 5000, "nested more than"),
    "deep-in-extra": (_style_text(extra={"x": json.loads("[" * 40 + "]" * 40)}), "nested more than"),
    "bigint": ('{"schema": 2, "name": "x", "description": "", "x": ' + "9" * 5000 + "}", "a number of 5,000"),
    "bigint-in-extra": (_style_text(extra={"seed": 10**400}), "a number of 401"),
    "many-values": ("[" + "0," * 600_000 + "0]", "more than 500,000 values"),
    "many-locals": (json.dumps(_local(5000)), "5,000 local adjustments"),
    "many-subjects": (_style_text(subjects={f"s{i}": {} for i in range(100)}), "100 subjects"),
    "huge-index": (_style_text(subjects={"portrait": {"local" + "9" * 5000 + ".x": 1}}), "unknown region"),
    "superscript-knot": (_style_text(subjects={"portrait": {"global.curve.²": 1}}), "unknown slider"),
    "superscript-local": (_style_text(subjects={"portrait": {"local².exposure": 1}}), "unknown region"),
    "list-as-descriptor": (json.dumps(dict(json.loads(_style_text()), proxies={
        "dim": 1, "embedding": {"inputs": [[1]], "center": [0], "scale": [1], "matrix": [[0]]},
        "style": [0]})), "unknown descriptor"),
    "long-description": (_style_text(description="x" * 5000), "5,000 characters of description"),
    "not-utf8": (b'{"schema": 2, "name": "\xff"}', "not UTF-8"),
    "too-large": ('{"x": "' + "a" * (8 * 2**20) + '"}', "larger than 8 MiB"),
    "curve-as-digits": (_style_text(base={"global": {"curve": "0" * 33}}), "global.curve"),
}


@pytest.mark.parametrize("case", list(HOSTILE_FILES))
def test_a_hostile_style_file_is_one_clear_error_naming_it(tmp_path, case):
    from silverprint.styles import InvalidStyleError, read_style

    content, needle = HOSTILE_FILES[case]
    path = tmp_path / f"{case}.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(InvalidStyleError) as err:
        read_style(path)
    message = str(err.value)
    assert message.startswith(str(path)) and needle in message and "\n" not in message
    assert len(message) < 400


def test_limits_leave_room_for_real_styles(tmp_path):
    """A style at each limit still loads; one past it does not."""
    from silverprint.styles import InvalidStyleError, read_style
    from silverprint.styles import limits

    path = tmp_path / "at-limit.json"
    path.write_text(json.dumps(_local(limits.MAX_LOCAL_ADJUSTMENTS)))
    assert len(read_style(path).base.local) == limits.MAX_LOCAL_ADJUSTMENTS
    path.write_text(json.dumps(_local(limits.MAX_LOCAL_ADJUSTMENTS + 1)))
    with pytest.raises(InvalidStyleError, match="local adjustments"):
        read_style(path)
    nested: object = 0
    for _ in range(limits.MAX_DEPTH - 2):  # style > extra > ... : MAX_DEPTH levels in all
        nested = [nested]
    path.write_text(_style_text(extra={"x": nested}))
    assert read_style(path).extra["x"] == nested
    path.write_text(_style_text(extra={"x": [nested]}))
    with pytest.raises(InvalidStyleError, match="nested more than"):
        read_style(path)


def test_save_refuses_a_style_it_could_not_read_back(tmp_path):
    from silverprint.styles import InvalidStyleError, save_style
    from silverprint.styles.style import style_from_dict

    style = style_from_dict(_local(3))
    style.base.local = style.base.local * 30  # 90 adjustments, past the limit
    with pytest.raises(InvalidStyleError, match="local adjustments"):
        save_style(style, tmp_path / "s.json")
    assert not (tmp_path / "s.json").exists()


def _bad_folder(home: Path) -> Path:
    """A styles folder holding one good style and the files issue 13 found breaking every listing."""
    folder = home / "data" / "styles"
    folder.mkdir(parents=True, exist_ok=True)
    good = load_style("noir")
    good.name = "mine"
    save_style(good, folder / "mine.json")
    for case in ("deep", "bigint", "many-locals"):
        (folder / f"{case}.json").write_text(HOSTILE_FILES[case][0])
    os.mkfifo(folder / "fifo.json")
    return folder


BAD_IN_FOLDER = ("bigint.json", "deep.json", "fifo.json", "many-locals.json")


def test_listing_skips_bad_files_with_one_reason_each(home):
    from silverprint.styles import list_styles

    _bad_folder(home)
    errors: list[str] = []
    names = {s.name for s in list_styles(errors)}
    assert "mine" in names and "silver" in names
    assert len(errors) == len(BAD_IN_FOLDER)
    for file, message in zip(BAD_IN_FOLDER, sorted(errors)):
        assert file in message and "\n" not in message


#: Runs a command under 1 GiB of address space, so that an unbounded read fails fast instead of
#: taking the machine's memory. The limit is set in a fresh interpreter that then execs the
#: command: a ``preexec_fn`` would run in a fork of this multi-threaded test process, where a lock
#: held by another thread at the fork deadlocks the child forever.
_LIMITED = ("import os, resource, sys; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30)); "
            "os.execv(sys.argv[1], sys.argv[1:])")


def _cli_limited(home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _LIMITED, *silverprint_command(), *args],
                          capture_output=True, text=True, env=clean_env(home), timeout=30)


@pytest.mark.skipif(sys.platform == "win32", reason="fifos and RLIMIT_AS are POSIX")
def test_cli_list_warns_and_lists_the_rest(home):
    _bad_folder(home)
    for json_flag in ((), ("--json",)):
        proc = _cli_limited(home, "styles", "list", *json_flag)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
        warnings = proc.stderr.strip().splitlines()
        assert len(warnings) == len(BAD_IN_FOLDER)
        for file, line in zip(BAD_IN_FOLDER, sorted(warnings)):
            assert line.startswith("silverprint: warning: skipped") and file in line
        if json_flag:
            assert "mine" in {item["name"] for item in json.loads(proc.stdout)}
        else:
            assert "mine" in proc.stdout and "silver" in proc.stdout


@pytest.mark.skipif(sys.platform == "win32", reason="fifos, /dev/zero and RLIMIT_AS are POSIX")
def test_cli_import_of_a_bad_file_is_one_line_and_exit_2(tmp_path, home):
    folder = _bad_folder(tmp_path / "elsewhere")
    sparse = tmp_path / "sparse.json"  # 4 GiB that take no disk: never read whole
    with open(sparse, "wb") as handle:
        handle.truncate(4 << 30)
    for path in [folder / f for f in BAD_IN_FOLDER] + [Path("/dev/zero"), sparse]:
        _one_line_error(_cli_limited(home, "styles", "import", str(path)), str(path))
    assert not list((home / "data" / "styles").glob("*.json"))


def test_service_lists_the_good_styles_and_warns_about_the_bad(tmp_path):
    from servicehelp import running_service

    home = tmp_path / "svc"
    _bad_folder(home)
    with running_service(home) as service:
        listing = service.client(timeout=30).styles()
    names = {s["name"] for s in listing["styles"]}
    assert "mine" in names and listing["default"] in names
    assert len(listing["warnings"]) == len(BAD_IN_FOLDER)
    for file, line in zip(BAD_IN_FOLDER, sorted(listing["warnings"])):
        assert file in line and "\n" not in line


def test_service_learn_job_refuses_a_newline_name(tmp_path):
    """The service's one entry point that creates a style file: 400 with the reason before any job
    starts, and nothing written (item 11)."""
    from servicehelp import running_service

    from silverprint.service.client import ServiceError

    (tmp_path / "portfolio").mkdir()
    with running_service(tmp_path / "svc") as service:
        client = service.client(timeout=30)
        with pytest.raises(ServiceError) as err:
            client.learn(tmp_path / "portfolio", "evil\n")
        assert err.value.status == 400 and "invalid style name" in str(err.value)
        assert client._json("GET", "/jobs")["jobs"] == []
    styles = tmp_path / "svc" / "data" / "styles"
    assert not styles.exists() or not [p for p in styles.iterdir() if "\n" in p.name]
