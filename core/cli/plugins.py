"""`silverprint install-plugins gimp|darktable [--dest DIR] [--uninstall]`.

Copies the host-app plug-ins from the package (`silverprint_plugins`) into the standard user
folders, atomically and idempotently (a second run changes nothing and says so):

- GIMP 2.10: ``~/.config/GIMP/2.10/plug-ins/silverprint-bw/`` (or ``$GIMP2_DIRECTORY/plug-ins``);
- GIMP 3:    ``~/.config/GIMP/3.0/plug-ins/silverprint-bw/`` (or ``$GIMP3_DIRECTORY/plug-ins``);
- darktable: ``~/.config/darktable/lua/silverprint/silverprint.lua`` plus one ``require`` line in
  ``~/.config/darktable/luarc`` (added once, removed by ``--uninstall``; other lines kept).

``--dest DIR`` names the host's user folder instead (the one holding ``plug-ins/``, or ``lua/`` and
``luarc``); for GIMP it installs the 2.10 plug-in unless ``--gimp-version 3.0`` says otherwise.

A GIMP user folder is never created here: GIMP runs its first-run set-up (brushes/, scripts/,
gimprc, ...) only when its folder is missing, and GIMP 3 imports the 2.10 settings only when its
own folder is missing, so creating either one would pre-empt that. When GIMP has not run yet, the
command says so and how to finish (run GIMP once, then this command again). ``--dest`` is the
user's explicit choice and is created when needed.
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import SilverprintError
from ..fileio import atomic_path

GIMP_PLUGIN = "silverprint-bw"
DARKTABLE_REQUIRE = 'require "silverprint/silverprint"'


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("install-plugins", help="install (or remove) the GIMP / darktable plug-ins",
                       description="Install the Silverprint plug-ins into GIMP's or darktable's user "
                                   "folder (safe to run again).")
    p.add_argument("host", choices=("gimp", "darktable"))
    p.add_argument("--dest", metavar="DIR", default=None,
                   help="the host's user folder (GIMP: holds plug-ins/; darktable: holds lua/ and luarc)")
    p.add_argument("--gimp-version", choices=("2.10", "3.0", "both"), default=None,
                   help="which GIMP plug-in (default: both in the standard folders, 2.10 with --dest)")
    p.add_argument("--uninstall", action="store_true", help="remove what install-plugins installed")
    p.set_defaults(func=run)


def plugins_root() -> Path:
    """Where the plug-in sources ship (a checkout's plugin/ or the wheel's silverprint_plugins)."""
    import silverprint_plugins

    return Path(silverprint_plugins.__file__).parent


def _gimp_home(version: str) -> Path:
    env = os.environ.get("GIMP2_DIRECTORY" if version == "2.10" else "GIMP3_DIRECTORY")
    if env:
        return Path(env)
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "GIMP" / version
    if os.name == "nt":
        return Path(os.environ.get("APPDATA", Path.home())) / "GIMP" / version
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "GIMP" / version


def _darktable_home() -> Path:
    if os.name == "nt":
        return Path(os.environ.get("LOCALAPPDATA", Path.home())) / "darktable"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "darktable"


@dataclass
class Change:
    path: Path
    action: str  # "installed", "updated", "unchanged", "removed", "absent"

    def __str__(self) -> str:
        return f"{self.action:9s} {self.path}"


def _write_atomic(path: Path, data: bytes, mode: int) -> str:
    """Write ``data`` unless the file already holds it; returns what happened."""
    existed = path.exists()
    if existed and path.read_bytes() == data:
        if (path.stat().st_mode & 0o777) != mode:
            path.chmod(mode)
        return "unchanged"
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, mode=mode) as tmp:  # a full disk or Ctrl-C leaves the host's folder as it was
        tmp.write_bytes(data)
    return "updated" if existed else "installed"


def _remove(path: Path) -> Change:
    if path.exists():
        path.unlink()
        return Change(path, "removed")
    return Change(path, "absent")


def _remove_dir_if_empty(path: Path) -> None:
    try:
        path.rmdir()
    except OSError:
        pass


def gimp_files(version: str) -> list[tuple[Path, str, int]]:
    """(source, name inside the plug-in folder, mode) for one GIMP version."""
    root = plugins_root()
    folder = "gimp2" if version == "2.10" else "gimp3"
    return [(root / folder / GIMP_PLUGIN / f"{GIMP_PLUGIN}.py", f"{GIMP_PLUGIN}.py", 0o755),
            (root / "bridge" / "silverprint_bridge.py", "silverprint_bridge.py", 0o644)]


def install_gimp(home: Path, version: str, *, uninstall: bool = False) -> list[Change]:
    """Install (or remove) the plug-in into ``home/plug-ins/silverprint-bw/``."""
    target = home / "plug-ins" / GIMP_PLUGIN
    changes = []
    for source, name, mode in gimp_files(version):
        if uninstall:
            changes.append(_remove(target / name))
        else:
            changes.append(Change(target / name, _write_atomic(target / name, source.read_bytes(), mode)))
    if uninstall:
        for cache in target.glob("__pycache__/*"):
            cache.unlink()
        _remove_dir_if_empty(target / "__pycache__")
        _remove_dir_if_empty(target)
    return changes


def _luarc_lines(luarc: Path) -> list[str]:
    return luarc.read_text().splitlines() if luarc.exists() else []


def install_darktable(home: Path, *, uninstall: bool = False) -> list[Change]:
    """Install (or remove) ``lua/silverprint/silverprint.lua`` and its ``require`` line in luarc."""
    script = home / "lua" / "silverprint" / "silverprint.lua"
    luarc = home / "luarc"
    lines = _luarc_lines(luarc)
    has_line = any(line.strip() == DARKTABLE_REQUIRE for line in lines)
    if uninstall:
        changes = [_remove(script)]
        _remove_dir_if_empty(script.parent)
        if has_line:
            kept = [line for line in lines if line.strip() != DARKTABLE_REQUIRE]
            _write_atomic(luarc, ("\n".join(kept) + "\n").encode() if kept else b"", 0o644)
            changes.append(Change(luarc, "removed"))
        else:
            changes.append(Change(luarc, "absent"))
        return changes
    source = plugins_root() / "darktable" / "silverprint.lua"
    changes = [Change(script, _write_atomic(script, source.read_bytes(), 0o644))]
    if has_line:
        changes.append(Change(luarc, "unchanged"))
    else:
        mode = (luarc.stat().st_mode & 0o777) if luarc.exists() else 0o644
        _write_atomic(luarc, ("\n".join(lines + [DARKTABLE_REQUIRE]) + "\n").encode(), mode)
        changes.append(Change(luarc, "updated" if lines else "installed"))
    return changes


def _not_run_yet(home: Path, version: str) -> str:
    """Why nothing was installed for a GIMP whose user folder does not exist yet."""
    return f"skipped   {home} (GIMP {version} has not been run by this user yet)"


def run(args: argparse.Namespace) -> int:
    dest = Path(args.dest).expanduser() if args.dest else None
    skipped: list[str] = []
    if args.host == "darktable":
        if args.gimp_version:
            raise SilverprintError("--gimp-version only applies to `install-plugins gimp`")
        changes = install_darktable(dest or _darktable_home(), uninstall=args.uninstall)
    else:
        version = args.gimp_version or ("2.10" if dest else "both")
        versions = ("2.10", "3.0") if version == "both" else (version,)
        if dest and len(versions) > 1:
            raise SilverprintError("--dest takes one GIMP version: add --gimp-version 2.10 or 3.0")
        changes = []
        for v in versions:
            home = dest or _gimp_home(v)
            if dest is None and not home.is_dir() and not args.uninstall:  # GIMP's first run makes it
                skipped.append(_not_run_yet(home, v))
                continue
            changes += install_gimp(home, v, uninstall=args.uninstall)
        if not changes and not args.uninstall:
            names = " or ".join(str(_gimp_home(v)) for v in versions)
            raise SilverprintError(f"GIMP has not been run by this user yet (no {names}): start GIMP "
                                   "once and quit it, then run `silverprint install-plugins gimp` again")
    for change in changes:
        print(change)
    for line in skipped:
        print(line)
    if not args.uninstall:
        hint = ("restart darktable (the script is enabled in luarc)" if args.host == "darktable"
                else "restart GIMP; the filter is Filters › Silverprint B&W…")
        print(f"done: {hint}")  # one line each: the menu path ends in its own ellipsis
        if skipped:
            print("For a GIMP skipped above: start it once and quit it, then run this command again.")
        print("The plug-ins need the service: `silverprint serve` or the companion.")
    return 0
