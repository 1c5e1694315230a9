"""`install-plugins` before a host's first run: GIMP's own set-up is never pre-empted.

GIMP 2.10 runs its first-run set-up (brushes/, scripts/, gradients/, ...) only when its user folder
is missing; GIMP 3 imports the 2.10 settings only when its own folder is missing. So
`install-plugins gimp` must not create either folder: it says how to finish, and after GIMP's first
run the same command installs the plug-in where GIMP finds it. Real GIMP 2.10, fresh HOME each time.
darktable has no such first-run gate (it fills a folder that already exists), which the last test
checks with a real darktable-cli first run.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SILVERPRINT = Path(sys.executable).with_name("silverprint")
GIMP2 = shutil.which("gimp-console-2.10") or shutil.which("gimp-console")
DT_CLI = shutil.which("darktable-cli")
needs_gimp = pytest.mark.skipif(GIMP2 is None,
                                reason="GIMP 2.10 is not installed: run .ci/install-bridges.sh")

pytestmark = pytest.mark.bridge


def _env(home: Path) -> dict[str, str]:
    """A user who has never run anything: HOME and XDG folders inside ``home``."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("GIMP2_DIRECTORY", "GIMP3_DIRECTORY", "XDG_CONFIG_HOME", "XDG_CACHE_HOME",
                        "XDG_DATA_HOME", "DISPLAY")}
    env.update(HOME=str(home), SILVERPRINT_HOME=str(home / "sp"))
    return env


def _install(home: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(SILVERPRINT), "install-plugins", "gimp"], env=_env(home),
                          capture_output=True, text=True, timeout=60)


def _gimp(home: Path, *batch: str) -> str:
    args = [GIMP2, "-i", "-d"]
    for command in (*batch, "(gimp-quit 0)"):
        args += ["-b", command]
    run = subprocess.run(args, env=_env(home), cwd=home, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout + run.stderr


@pytest.fixture(scope="module")
def clean_first_run(tmp_path_factory) -> set[str]:
    """What GIMP's first run leaves in its user folder when nobody got there first."""
    home = tmp_path_factory.mktemp("gimp-clean")
    _gimp(home)
    return {p.name for p in (home / ".config" / "GIMP" / "2.10").iterdir()}


@needs_gimp
def test_install_before_gimps_first_run_leaves_gimps_set_up_intact(tmp_path, clean_first_run):
    assert {"brushes", "scripts", "plug-ins", "gradients", "patterns", "palettes"} <= clean_first_run
    before = _install(tmp_path)
    assert before.returncode == 1
    assert "start GIMP once" in before.stderr and before.stderr.count("\n") == 1, before.stderr
    assert not (tmp_path / ".config").exists(), "no host folder may be created before the host does"

    first_run = _gimp(tmp_path)
    made = {p.name for p in (tmp_path / ".config" / "GIMP" / "2.10").iterdir()}
    assert made >= clean_first_run, f"GIMP's first run was cut short: missing {clean_first_run - made}"
    assert "does not exist" not in first_run and "Failed to save" not in first_run, first_run

    after = _install(tmp_path)
    assert after.returncode == 0, after.stderr
    plugin = tmp_path / ".config" / "GIMP" / "2.10" / "plug-ins" / "silverprint-bw" / "silverprint-bw.py"
    assert plugin.is_file() and f"installed {plugin}" in after.stdout
    assert "skipped" in after.stdout and "GIMP 3.0 has not been run" in after.stdout
    assert not (tmp_path / ".config" / "GIMP" / "3.0").exists(), "GIMP 3 must still import 2.10's settings"

    found = _gimp(tmp_path, '(gimp-message (if (= 1 (car (gimp-procedural-db-proc-exists '
                            '"plug-in-silverprint-bw"))) "silverprint-found" "silverprint-missing"))')
    assert "silverprint-found" in found, found[-2000:]


def test_gimp2_directory_that_does_not_exist_is_not_created(tmp_path):
    env = dict(_env(tmp_path), GIMP2_DIRECTORY=str(tmp_path / "gimp-own"))
    run = subprocess.run([str(SILVERPRINT), "install-plugins", "gimp", "--gimp-version", "2.10"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "gimp-own" in run.stderr
    assert not (tmp_path / "gimp-own").exists()
    (tmp_path / "gimp-own").mkdir()  # GIMP has run with that folder
    run = subprocess.run([str(SILVERPRINT), "install-plugins", "gimp", "--gimp-version", "2.10"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and (tmp_path / "gimp-own" / "plug-ins" / "silverprint-bw").is_dir()
    gone = subprocess.run([str(SILVERPRINT), "install-plugins", "gimp", "--uninstall"],
                          env=_env(tmp_path / "x"), capture_output=True, text=True, timeout=60)
    assert gone.returncode == 0 and not (tmp_path / "x" / ".config").exists()


@pytest.mark.skipif(DT_CLI is None, reason="darktable is not installed: run .ci/install-bridges.sh")
def test_darktable_first_run_is_complete_after_an_early_install(tmp_path):
    """darktable creates darktablerc and its library in a folder that already exists, so installing
    before its first run is safe (and the plug-in is then there on that first run)."""
    from PIL import Image

    photo = tmp_path / "tiny.png"
    Image.new("RGB", (16, 12), (180, 90, 40)).save(photo)

    def first_run(home: Path) -> set[str]:
        subprocess.run([DT_CLI, str(photo), str(home / "out.jpg")], env=_env(home), cwd=home,
                       capture_output=True, timeout=120)
        return {p.name for p in (home / ".config" / "darktable").iterdir()}

    clean_home, early = tmp_path / "clean", tmp_path / "early"
    clean_home.mkdir()
    early.mkdir()
    clean = first_run(clean_home)
    assert {"darktablerc", "data.db"} <= clean
    run = subprocess.run([str(SILVERPRINT), "install-plugins", "darktable"], env=_env(early),
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert first_run(early) == clean | {"luarc", "lua"}
