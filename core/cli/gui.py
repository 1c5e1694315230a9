"""`silverprint gui [FILE]`: start the PyQt6 companion (optionally opening a photo).

The companion is an optional part of an install (``pip install silverprint[gui]``): without PyQt6
this command says how to get it instead of failing with a traceback.
"""
from __future__ import annotations

import argparse

from ..errors import SilverprintError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gui", help="open the companion window",
                       description="Open the Silverprint companion: styles, per-region sliders, "
                                   "bridge sessions from GIMP / darktable, portfolio learning.")
    p.add_argument("file", nargs="?", metavar="FILE", help="a photo to open")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--no-service", action="store_true",
                   help="do not host the local service for the plug-ins when none is running")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
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
    return main(argv)
