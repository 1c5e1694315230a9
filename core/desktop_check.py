"""Which system libraries the companion's window needs, and which Debian packages provide them.

PyQt6's wheel ships Qt but not the X11 libraries that Qt's xcb platform plug-in links against. When
one is missing, Qt aborts with a message that names the wrong package (``xcb-cursor0``, even when
that one is installed and ``libxcb-icccm4`` is what is missing). This module asks the dynamic
loader itself (``ldd`` on ``libqxcb.so``, else ``ldconfig -p``) which libraries cannot be found
and names the packages to install, without importing Qt (``silverprint`` never imports Qt).

``python -m silverprint.desktop_check`` prints a warning and exits 0 (the command line works
without a display); ``--strict`` exits 1 when something is missing.
"""
from __future__ import annotations

import argparse
import importlib.util
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

#: Shared library (soname) -> the Debian package(s) that provide it, newest name first (Debian 13
#: renamed some with a ``t64`` suffix). Covers every system library ``libqxcb.so`` loads.
SONAME_PACKAGES: dict[str, tuple[str, ...]] = {
    "libxcb-icccm.so.4": ("libxcb-icccm4",),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1",),
    "libxcb-cursor.so.0": ("libxcb-cursor0",),
    "libxcb-image.so.0": ("libxcb-image0",),
    "libxcb-util.so.1": ("libxcb-util1",),
    "libxcb-randr.so.0": ("libxcb-randr0",),
    "libxcb-render-util.so.0": ("libxcb-render-util0",),
    "libxcb-render.so.0": ("libxcb-render0",),
    "libxcb-shape.so.0": ("libxcb-shape0",),
    "libxcb-shm.so.0": ("libxcb-shm0",),
    "libxcb-sync.so.1": ("libxcb-sync1",),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0",),
    "libxcb-xkb.so.1": ("libxcb-xkb1",),
    "libxcb-xinput.so.0": ("libxcb-xinput0",),
    "libxcb-glx.so.0": ("libxcb-glx0",),
    "libxcb.so.1": ("libxcb1",),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0",),
    "libxkbcommon.so.0": ("libxkbcommon0",),
    "libX11-xcb.so.1": ("libx11-xcb1",),
    "libX11.so.6": ("libx11-6",),
    "libXau.so.6": ("libxau6",),
    "libXdmcp.so.6": ("libxdmcp6",),
    "libSM.so.6": ("libsm6",),
    "libICE.so.6": ("libice6",),
    "libGL.so.1": ("libgl1",),
    "libEGL.so.1": ("libegl1",),
    "libOpenGL.so.0": ("libopengl0",),
    "libGLX.so.0": ("libglx0",),
    "libGLdispatch.so.0": ("libglvnd0",),
    "libfontconfig.so.1": ("libfontconfig1",),
    "libfreetype.so.6": ("libfreetype6",),
    "libpng16.so.16": ("libpng16-16t64", "libpng16-16"),
    "libglib-2.0.so.0": ("libglib2.0-0t64", "libglib2.0-0"),
    "libgthread-2.0.so.0": ("libglib2.0-0t64", "libglib2.0-0"),
    "libdbus-1.so.3": ("libdbus-1-3",),
    "libz.so.1": ("zlib1g",),
}

#: The packages a desktop may lack (Debian 12 names): named in README.md and installed by
#: .ci/install-bridges.sh. The rest of SONAME_PACKAGES comes with any X11 desktop.
DESKTOP_PACKAGES: tuple[str, ...] = (
    "libxcb-icccm4", "libxcb-keysyms1", "libxcb-cursor0", "libxcb-image0", "libxcb-util1",
    "libxcb-randr0", "libxcb-render-util0", "libxcb-shape0", "libxcb-xkb1", "libxkbcommon-x11-0",
    "libx11-xcb1", "libegl1", "libgl1", "libfontconfig1", "libdbus-1-3",
)

_NOT_FOUND = re.compile(r"^\s*(\S+)\s*=>\s*not found", re.MULTILINE)
_NEEDED = re.compile(r"^\s*(\S+\.so[.\d]*)\s*=>", re.MULTILINE)


@dataclass(frozen=True)
class DesktopCheck:
    """What the check found: ``plugin`` is None when PyQt6 (or its xcb plug-in) is not installed."""

    plugin: Path | None
    missing: tuple[str, ...]          # sonames the loader cannot find
    packages: tuple[str, ...]         # Debian packages that provide them (or the soname, if unknown)
    method: str                       # "ldd", "ldconfig" or "skipped: <why>"

    @property
    def ok(self) -> bool:
        return not self.missing


def xcb_plugin() -> Path | None:
    """Qt's xcb platform plug-in inside the installed PyQt6, found without importing Qt."""
    spec = importlib.util.find_spec("PyQt6")
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        for qt in ("Qt6", "Qt"):
            plugin = Path(root) / qt / "plugins" / "platforms" / "libqxcb.so"
            if plugin.is_file():
                return plugin
    return None


def missing_libraries(plugin: Path, *, use_ldd: bool = True) -> tuple[tuple[str, ...], str]:
    """Sonames ``plugin`` (and what it loads) needs that the dynamic loader cannot find."""
    ldd = shutil.which("ldd") if use_ldd else None
    if ldd:
        out = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=30).stdout
        return tuple(dict.fromkeys(_NOT_FOUND.findall(out))), "ldd"
    # no ldd (a trimmed image): compare the known system libraries with the loader's cache
    ldconfig = shutil.which("ldconfig") or "/sbin/ldconfig"
    try:
        cache = subprocess.run([ldconfig, "-p"], capture_output=True, text=True, timeout=30).stdout
    except OSError:
        return (), "skipped: neither ldd nor ldconfig is available"
    known = set(re.findall(r"^\s*(\S+)\s", cache, re.MULTILINE))
    needed = [name for name in SONAME_PACKAGES if name in _declared_needs(plugin)]
    return tuple(name for name in needed if name not in known), "ldconfig"


def _declared_needs(plugin: Path) -> set[str]:
    """Known sonames named in the plug-in and in Qt's xcb library (their DT_NEEDED strings)."""
    files = [plugin, *plugin.parents[2].glob("lib/libQt6XcbQpa.so*")]
    data = b"".join(path.read_bytes() for path in files if path.is_file())
    return {name for name in SONAME_PACKAGES if name.encode() + b"\0" in data}


def package_for(soname: str) -> str:
    """The Debian package that provides ``soname`` on this system's release (first name apt knows)."""
    candidates = SONAME_PACKAGES.get(soname)
    if not candidates:
        return soname
    apt_cache = shutil.which("apt-cache")
    if apt_cache and len(candidates) > 1:
        for name in candidates:
            probe = subprocess.run([apt_cache, "show", "-q", name], capture_output=True, timeout=30)
            if probe.returncode == 0 and probe.stdout:
                return name
    return candidates[-1]


def check(plugin: Path | None = None) -> DesktopCheck:
    """Run the check on ``plugin`` (default: PyQt6's xcb plug-in). Linux only: elsewhere the Qt
    wheel carries what it needs."""
    if not sys.platform.startswith("linux"):
        return DesktopCheck(None, (), (), f"skipped: not needed on {sys.platform}")
    plugin = plugin or xcb_plugin()
    if plugin is None:
        return DesktopCheck(None, (), (), "skipped: PyQt6 is not installed")
    missing, method = missing_libraries(plugin)
    packages = tuple(dict.fromkeys(package_for(name) for name in missing))
    return DesktopCheck(plugin, missing, packages, method)


def report(result: DesktopCheck) -> str:
    """One or two lines for a person: what is missing and the command that installs it."""
    if result.plugin is None:
        return f"desktop check {result.method}"
    if result.ok:
        return "desktop check: the companion's window has every system library it needs"
    return (f"warning: the companion (`silverprint gui`) cannot open a window: missing "
            f"{', '.join(result.missing)}.\n"
            f"  install them with: sudo apt-get install {' '.join(result.packages)}\n"
            f"  (the command line works without them)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m silverprint.desktop_check",
                                     description="Check the system libraries the companion's "
                                                 "window needs (Qt's xcb platform plug-in).")
    parser.add_argument("--strict", action="store_true", help="exit 1 when something is missing")
    parser.add_argument("--packages", action="store_true",
                        help="print only the missing Debian package names, one a line")
    args = parser.parse_args(argv)
    result = check()
    if args.packages:
        for name in result.packages:
            print(name)
    else:
        print(report(result), file=sys.stderr if not result.ok else sys.stdout)
    return 1 if args.strict and not result.ok else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
