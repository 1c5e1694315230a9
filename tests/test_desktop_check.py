"""The companion opens a real window: Qt's xcb platform plug-in under a real Xvfb display.

`silverprint.desktop_check` names the Debian packages behind any library the plug-in cannot load
(asked of the real dynamic loader); `silverprint gui --smoke` opens the window and quits once it is
on screen. When the smoke start fails, the test fails with the packages to install.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from silverprint import desktop_check

ROOT = Path(__file__).resolve().parents[1]
SILVERPRINT = Path(sys.executable).with_name("silverprint")
XVFB = shutil.which("Xvfb")
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="Qt's xcb platform plug-in is the Linux display path")


def _xvfb(tmp_path: Path) -> tuple[subprocess.Popen, str]:
    """A private Xvfb; ``-displayfd`` lets it pick a free display number and tell us."""
    read, write = os.pipe()
    proc = subprocess.Popen([XVFB, "-displayfd", str(write), "-nolisten", "tcp", "-screen", "0",
                             "1600x1000x24"], pass_fds=(write,), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=tmp_path)
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()  # written once the server accepts connections
    if not number:
        proc.kill()
        proc.wait(10)
        pytest.fail("Xvfb did not start")
    return proc, f":{number}"


@linux_only
@pytest.mark.skipif(XVFB is None, reason="Xvfb is not installed: run .ci/install-bridges.sh")
@pytest.mark.skipif(desktop_check.xcb_plugin() is None, reason="PyQt6 is not installed (silverprint[gui])")
def test_companion_opens_a_window_under_xvfb_with_xcb(tmp_path):
    server, display = _xvfb(tmp_path)
    try:
        env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb",
               "SILVERPRINT_HOME": str(tmp_path / "home"), "HOME": str(tmp_path)}
        env.pop("WAYLAND_DISPLAY", None)
        run = subprocess.run([str(SILVERPRINT), "gui", "--smoke", "--no-service", "--device", "cpu"],
                             env=env, capture_output=True, text=True, timeout=180)
    finally:
        server.terminate()
        server.wait(10)
    if run.returncode != 0:
        check = desktop_check.check()
        pytest.fail(f"the companion did not open (exit {run.returncode}); missing Debian packages: "
                    f"{' '.join(check.packages) or 'none found'}\n{run.stderr[-2000:]}")
    assert re.search(r"^smoke: xcb \d+x\d+$", run.stdout, re.MULTILINE), run.stdout + run.stderr


@linux_only
@pytest.mark.skipif(desktop_check.xcb_plugin() is None, reason="PyQt6 is not installed (silverprint[gui])")
def test_every_library_the_xcb_plugin_loads_has_its_package_named():
    """Whatever the loader could miss maps to the package that really provides it here (dpkg)."""
    plugin = desktop_check.xcb_plugin()
    ldd = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True, check=True).stdout
    qt_dir = plugin.parents[2]
    resolved = dict(re.findall(r"^\s*(\S+)\s*=>\s*(/\S+)", ldd, re.MULTILINE))
    system = {name: path for name, path in resolved.items() if not Path(path).is_relative_to(qt_dir)}
    base = {"libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1", "libdl.so.2", "libpthread.so.0"}
    # X, GL, fonts, D-Bus: what a desktop may lack (their own dependencies, e.g. libsystemd, come with it)
    direct = {name for name in system if name not in base and re.match(
        r"lib(xcb|X11|xkbcommon|GL|EGL|OpenGL|fontconfig|freetype|glib|gthread|dbus)", name)}
    assert {"libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxcb-cursor.so.0"} <= direct | set(
        desktop_check.missing_libraries(plugin)[0])
    unnamed = sorted(direct - set(desktop_check.SONAME_PACKAGES))
    assert not unnamed, f"add these to SONAME_PACKAGES: {unnamed}"
    if shutil.which("dpkg"):
        for name in direct:
            owner = subprocess.run(["dpkg", "-S", str(Path(system[name]).resolve())],
                                   capture_output=True, text=True)
            if owner.returncode == 0:  # a library from outside a package (e.g. /usr/local) is skipped
                package = owner.stdout.split(":")[0]
                assert package in desktop_check.SONAME_PACKAGES[name], (name, package)


def test_a_library_the_loader_cannot_find_is_reported(tmp_path):
    """A real ELF that needs an absent library: the loader's 'not found' is what the check reports."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None or not shutil.which("ldd"):
        pytest.skip("needs a C compiler and ldd to build a library with a missing dependency")
    soname = "libsilverprint-absent.so.1"
    (tmp_path / "dep.c").write_text("int dep(void) { return 1; }\n")
    (tmp_path / "use.c").write_text("int dep(void); int use(void) { return dep(); }\n")
    subprocess.run([cc, "-shared", "-fPIC", "-o", soname, f"-Wl,-soname,{soname}", "dep.c"],
                   cwd=tmp_path, check=True)
    subprocess.run([cc, "-shared", "-fPIC", "-o", "libqxcb.so", "use.c", "-L.", f"-l:{soname}"],
                   cwd=tmp_path, check=True)
    (tmp_path / soname).unlink()
    result = desktop_check.check(tmp_path / "libqxcb.so")
    assert result.method == "ldd" and result.missing == (soname,) and not result.ok
    assert result.packages == (soname,)  # not a library we know: named as the loader names it
    assert soname in desktop_check.report(result) and "apt-get install" in desktop_check.report(result)
    assert desktop_check.package_for("libxcb-icccm.so.4") == "libxcb-icccm4"


@linux_only
@pytest.mark.skipif(desktop_check.xcb_plugin() is None, reason="PyQt6 is not installed (silverprint[gui])")
def test_ldconfig_fallback_agrees_with_ldd():
    plugin = desktop_check.xcb_plugin()
    assert desktop_check.missing_libraries(plugin, use_ldd=False)[0] == \
        desktop_check.missing_libraries(plugin)[0]


def test_the_documented_packages_are_the_ones_installed():
    """README names them and .ci/install-bridges.sh installs them: one list, checked here."""
    script = (ROOT / ".ci" / "install-bridges.sh").read_text()
    readme = (ROOT / "README.md").read_text()
    for name in desktop_check.DESKTOP_PACKAGES:
        assert re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", script), f"{name} not installed by CI"
        assert re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", readme), f"{name} not in README"
    assert set(desktop_check.DESKTOP_PACKAGES) <= {p for names in desktop_check.SONAME_PACKAGES.values()
                                                   for p in names}


def test_make_run_checks_the_desktop_libraries_without_failing():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "-m silverprint.desktop_check" in recipe
    out = subprocess.run([sys.executable, "-m", "silverprint.desktop_check"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0  # a warning, never a failed `make run`
    result = desktop_check.check()
    text = out.stdout + out.stderr
    if result.ok:
        assert "every system library" in text or "skipped" in text
    else:
        assert all(name in text for name in result.packages)
