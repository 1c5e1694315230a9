"""`silverprint gui [FILE]`: start the PyQt6 companion (optionally opening a photo).

The companion is an optional part of an install (``pip install silverprint[gui]``): without PyQt6
this command says how to get it instead of failing with a traceback.
"""
from __future__ import annotations

import argparse
import os
import sys

from ..errors import SilverprintError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gui", help="open the companion window",
                       description="Open the Silverprint companion: styles, per-region sliders, "
                                   "bridge sessions from GIMP / darktable, portfolio learning.")
    p.add_argument("file", nargs="?", metavar="FILE", help="a photo to open")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--no-service", action="store_true",
                   help="do not host the local service for the plug-ins when none is running")
    p.add_argument("--smoke", action="store_true",
                   help="open the window, print the platform once it is on screen, and quit")
    p.set_defaults(func=run)


def _check_display() -> None:
    """Refuse with the Debian packages to install when Qt would pick xcb and cannot load it (Qt's own
    message aborts the process and names the wrong package)."""
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    wayland = bool(os.environ.get("WAYLAND_DISPLAY")) and not platform
    if not sys.platform.startswith("linux") or wayland or platform.split(":")[0] not in ("", "xcb"):
        return
    from ..desktop_check import check

    result = check()
    if not result.ok:
        raise SilverprintError(f"the companion's window needs {', '.join(result.missing)}: install "
                               f"them with `sudo apt-get install {' '.join(result.packages)}`")


def run(args: argparse.Namespace) -> int:
    _check_display()
    try:
        from silverprint_gui.app import main
    except ImportError as exc:
        raise SilverprintError(f"the companion needs PyQt6 ({exc}); install it with "
                               "`pip install 'silverprint[gui]'`") from None
    argv = [args.file] if args.file else []
    if args.device != "auto":
        argv += ["--device", args.device]
    if args.no_service:
        argv.append("--no-service")
    if args.smoke:
        argv.append("--smoke")
    return main(argv)
