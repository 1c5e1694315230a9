"""`silverprint install-plugins`: standard folders, --dest, idempotence, luarc kept intact, uninstall."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

SILVERPRINT = Path(sys.executable).with_name("silverprint")


def cli(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("GIMP2_DIRECTORY", "GIMP3_DIRECTORY")}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), SILVERPRINT_HOME=str(home / "sp"))
    return subprocess.run([str(SILVERPRINT), "install-plugins", *args], env=env, capture_output=True,
                          text=True, timeout=60)


def test_gimp_standard_folders_both_versions_idempotent(tmp_path):
    for version in ("2.10", "3.0"):  # both GIMPs have run once (their first run makes these)
        (tmp_path / ".config" / "GIMP" / version / "plug-ins").mkdir(parents=True)
    first = cli("gimp", home=tmp_path)
    assert first.returncode == 0, first.stderr
    for version, marker in (("2.10", "ctypes"), ("3.0", "Gimp.PlugIn")):
        folder = tmp_path / ".config" / "GIMP" / version / "plug-ins" / "silverprint-bw"
        main = folder / "silverprint-bw.py"
        assert marker in main.read_text()
        assert stat.S_IMODE(main.stat().st_mode) == 0o755
        assert (folder / "silverprint_bridge.py").is_file()
    assert "…." not in first.stdout and ".." not in first.stdout  # the menu path's ellipsis ends it
    second = cli("gimp", home=tmp_path)
    assert second.returncode == 0 and "installed" not in second.stdout and "unchanged" in second.stdout
    gone = cli("gimp", "--uninstall", home=tmp_path)
    assert gone.returncode == 0
    assert not (tmp_path / ".config" / "GIMP" / "2.10" / "plug-ins" / "silverprint-bw").exists()
    assert (tmp_path / ".config" / "GIMP" / "2.10" / "plug-ins").is_dir()  # the user's folder stays


def test_gimp_dest_needs_one_version(tmp_path):
    answer = cli("gimp", "--dest", str(tmp_path / "g"), "--gimp-version", "both", home=tmp_path)
    assert answer.returncode != 0 and "--gimp-version" in answer.stderr
    assert cli("gimp", "--dest", str(tmp_path / "g"), home=tmp_path).returncode == 0
    assert (tmp_path / "g" / "plug-ins" / "silverprint-bw" / "silverprint-bw.py").is_file()


def test_darktable_luarc_line_added_once_and_removed_keeping_other_lines(tmp_path):
    config = tmp_path / ".config" / "darktable"
    config.mkdir(parents=True)
    (config / "luarc").write_text('require "tools/script_manager"\n-- my own settings\n')
    for _ in range(2):
        assert cli("darktable", home=tmp_path).returncode == 0
    lines = (config / "luarc").read_text().splitlines()
    assert lines == ['require "tools/script_manager"', "-- my own settings", 'require "silverprint/silverprint"']
    script = config / "lua" / "silverprint" / "silverprint.lua"
    assert "script_data.metadata = {" in script.read_text()
    assert cli("darktable", "--uninstall", home=tmp_path).returncode == 0
    assert (config / "luarc").read_text().splitlines() == ['require "tools/script_manager"', "-- my own settings"]
    assert not script.exists() and not script.parent.exists()
    again = cli("darktable", "--uninstall", home=tmp_path)
    assert again.returncode == 0 and "absent" in again.stdout
