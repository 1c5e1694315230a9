"""darktable 4.x driven for real against a real `silverprint serve`.

- CLI path: `darktable-cli --luacmd` with the work inside an ``exit`` event handler (which runs
  synchronously at shutdown); a library file is used so that the test reads grouping and tags back
  from darktable's own SQLite databases.
- GUI path: `darktable` under Xvfb with the script loaded from ``luarc`` (as a user has it); the
  test script selects the image and presses either the export module's button with the
  *Silverprint B&W* target selected, or the Silverprint lighttable module's button; darktable
  exports through its pipeline, the plug-in converts, imports and groups; the script writes what
  darktable reports into a file and quits.

The plug-in is installed with `silverprint install-plugins darktable --dest <temp config dir>`.
Assertions are on the files (darktable-cli exits 0 even when a script fails).
"""
from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from servicehelp import SILVERPRINT, running_service, small_photo
from shared_data import KODAK

pytestmark = pytest.mark.bridge

DT_CLI = shutil.which("darktable-cli")
DT_GUI = shutil.which("darktable")
XVFB = shutil.which("xvfb-run")


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    if not DT_CLI:
        pytest.skip("darktable is not installed: run .ci/install-bridges.sh")
    with running_service(tmp_path_factory.mktemp("sp-darktable")) as svc:
        yield svc


def install(service, config: Path) -> None:
    subprocess.run([str(SILVERPRINT), "install-plugins", "darktable", "--dest", str(config)],
                   check=True, env=service.env(), capture_output=True)


def run_group(cmd: list[str], env: dict, timeout: float, started: Path | None = None,
              start_timeout: float = 40) -> subprocess.CompletedProcess:
    """Run in a process group and kill the whole group on timeout (darktable outlives xvfb-run).

    With ``started``, also give up when that file has not appeared within ``start_timeout`` s.
    """
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + timeout
    try:
        if started is not None:
            start_deadline = time.monotonic() + start_timeout
            while proc.poll() is None and not started.exists() and time.monotonic() < start_deadline:
                time.sleep(0.25)
            if proc.poll() is None and not started.exists():
                raise subprocess.TimeoutExpired(cmd, start_timeout)
        out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def read_grey(path: Path) -> np.ndarray:
    import tifffile

    data = tifffile.imread(path)
    if data.ndim == 3:
        assert np.abs(data[..., :3].astype(np.int64) - data[..., :1]).max() == 0, "not grey"
        data = data[..., 0]
    return data


CLI_SCRIPT = """
local dt = require "darktable"
local sp = require "silverprint/silverprint"
dt.register_event("silverprint_test", "exit", function()
  local img = dt.database.import("{src}")
  dt.tags.attach(dt.tags.create("client|wedding"), img)
  local fmt = dt.new_format("tiff")
  fmt.bpp = 16
  local tmp = "{work}/exported.tif"
  fmt:write_image(img, tmp)
  sp.silverprint.store(nil, img, fmt, tmp, 1, 1, true, nil)
end)
"""


def run_cli(service, tmp_path: Path, env: dict | None = None) -> tuple[Path, Path, subprocess.CompletedProcess]:
    config, cache, photos, work = (tmp_path / n for n in ("config", "cache", "photos", "work"))
    for folder in (cache, photos, work):
        folder.mkdir()
    install(service, config)
    src = small_photo(photos / "kodim03.png", KODAK / "kodim03.png", (96, 64))
    script = work / "test.lua"
    script.write_text(CLI_SCRIPT.format(src=src, work=work))
    library = work / "library.db"
    cmd = [DT_CLI, str(src), str(work / "dummy.jpg"), "--core", "--configdir", str(config),
           "--cachedir", str(cache), "--library", str(library), "--luacmd", f'dofile("{script}")']
    run = run_group(cmd, env or service.env(), timeout=180)
    return photos, config, run


def test_darktable_cli_imports_a_grouped_bw_image_with_tags(service, tmp_path):
    photos, config, run = run_cli(service, tmp_path)
    results = sorted(photos.glob("kodim03_silverprint-*.tif"))
    assert len(results) == 1, (list(photos.iterdir()), run.stderr[-2000:])
    default = service.client().styles()["default"]
    assert results[0].name == f"kodim03_silverprint-{default}.tif"
    grey = read_grey(results[0])
    assert grey.shape == (64, 96) and grey.dtype == np.uint16 and grey.std() > 100
    assert not list(photos.glob(".*part")), "a partial download was left behind"
    assert not (tmp_path / "work" / "exported.tif").exists(), "the exported temporary file was kept"
    db = sqlite3.connect(tmp_path / "work" / "library.db")
    db.execute("ATTACH DATABASE ? AS data", (str(config / "data.db"),))
    rows = {name: (iid, gid) for iid, gid, name in db.execute("SELECT id, group_id, filename FROM images")}
    assert set(rows) == {"kodim03.png", results[0].name}
    original_id = rows["kodim03.png"][0]
    assert rows[results[0].name][1] == original_id, "the result is not grouped with the original"
    tags = {name for (name,) in db.execute(
        "SELECT t.name FROM main.tagged_images ti JOIN data.tags t ON t.id = ti.tagid WHERE ti.imgid = ?",
        (rows[results[0].name][0],))}
    assert "client|wedding" in tags and f"silverprint|{default}" in tags


def test_darktable_cli_service_not_running_leaves_no_file(service, tmp_path):
    env = dict(service.env(), SILVERPRINT_URL="http://127.0.0.1:9")
    started = time.monotonic()
    photos, _, run = run_cli(service, tmp_path, env)
    assert time.monotonic() - started < 60
    assert sorted(p.name for p in photos.iterdir()) == ["kodim03.png"]
    assert "not running" in run.stderr + run.stdout and "silverprint serve" in run.stderr + run.stdout


GUI_SCRIPT = """
local dt = require "darktable"
local report = io.open("{work}/report.txt", "w")
local function say(...) report:write(table.concat({{...}}, " "), "\\n") report:flush() end
local function exists(p) local f = io.open(p, "rb") if f then f:close() return true end return false end
say("started")
local ok, err = pcall(function()
  local sp = require "silverprint/silverprint"   -- already loaded by luarc: the same module table
  local img = dt.database.import("{src}")
  dt.tags.attach(dt.tags.create("client|gui"), img)
  dt.gui.selection({{img}})
  dt.control.sleep(300)
  if "{how}" == "export" then
    -- the export module's button, with the Silverprint target selected (as a user does)
    dt.gui.action("lib/export/export", 0, "", "", 1.0)
  else
    sp.silverprint.convert_selected()   -- the Silverprint lighttable module's button
  end
  for i = 1, 240 do
    if #dt.database > 1 then break end
    dt.control.sleep(250)
  end
  for _, other in ipairs(dt.database) do
    if other.id ~= img.id then
      say("result", other.path .. "/" .. other.filename)
      say("grouped", tostring(other.group_leader.id == img.group_leader.id))
      for _, tag in ipairs(dt.tags.get_tags(other)) do say("tag", tag.name) end
    end
  end
end)
say("done", tostring(ok), tostring(err))
report:close()
dt.gui.action("global/quit", 0, "", "", 1.0)
"""


@pytest.mark.skipif(not (DT_GUI and XVFB), reason="darktable or xvfb-run is not installed")
@pytest.mark.parametrize("how", ["export", "module"])
def test_darktable_gui_under_xvfb_imports_a_grouped_bw_image(service, tmp_path, how):
    """``export``: the export module with the *Silverprint B&W* target; ``module``: the lighttable module."""
    config, cache, photos, work = (tmp_path / n for n in ("config", "cache", "photos", "work"))
    for folder in (cache, photos, work):
        folder.mkdir()
    install(service, config)
    assert 'require "silverprint/silverprint"' in (config / "luarc").read_text()
    src = small_photo(photos / "kodim23.png", KODAK / "kodim23.png", (96, 64))
    script = work / "gui.lua"
    script.write_text(GUI_SCRIPT.format(src=src, work=work, how=how))
    # The test script runs from luarc after the plug-in, as a user's scripts do.
    with open(config / "luarc", "a") as luarc:
        luarc.write(f'dofile("{script}")\n')
    target = "silverprint" if how == "export" else "disk"
    cmd = [XVFB, "-a", DT_GUI, "--configdir", str(config), "--cachedir", str(cache), "--library", ":memory:",
           "--conf", f"plugins/lighttable/export/storage_name={target}",
           "--conf", "plugins/lighttable/export/format_name=tiff",
           "--conf", "plugins/imageio/format/tiff/bpp=16",
           "--conf", "write_sidecar_files=never"]
    # darktable 4.2 sometimes (about 1 start in 7 here) deadlocks before running any Lua script when
    # its remembered export target is a Lua storage: the Lua job and darktable's Lua event thread
    # wait on each other (seen with gdb; also with a minimal storage that is not ours). A start whose
    # script has not begun within 30 s is therefore killed and tried again (at most 3 starts).
    report_file = work / "report.txt"
    for attempt in range(1, 4):
        run = run_group(cmd, service.env(), timeout=120, started=report_file, start_timeout=30)
        if report_file.exists():
            break
    report = report_file.read_text() if report_file.exists() else ""
    assert "done true" in report, f"start {attempt}: {report}{run.stderr[-2000:]}"
    results = sorted(photos.glob("kodim23_silverprint-*.tif"))
    assert len(results) == 1, list(photos.iterdir())
    assert f"result {results[0]}" in report
    assert "grouped true" in report
    assert "tag client|gui" in report
    assert not (photos / "darktable_exported").exists(), "exported with the wrong target"
    grey = read_grey(results[0])
    assert grey.shape == (64, 96) and grey.std() > 100
