"""`silverprint` command line: one sub-command per module in this package.

Each module `silverprint.cli.<name>` defines ``register(subparsers)`` which adds its parser and sets
``func`` to a function taking the parsed args and returning an exit code. Modules are imported only
for their parsers; heavy imports (torch, mediapipe) happen inside the command functions so that
`silverprint --help` and errors in arguments stay instant.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from contextlib import nullcontext

from ..errors import SilverprintError
from ..fileio import sigterm_as_interrupt

#: Sub-command modules, in the order `--help` lists them.
COMMANDS: tuple[str, ...] = ("render", "regions", "styles", "learn", "video", "serve", "gui",
                             "plugins")

#: Commands that run their own event loop and handle SIGTERM themselves (uvicorn, Qt).
OWN_SIGNALS = ("serve", "gui")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="silverprint",
        description="Region-aware black-and-white conversion that learns your own B&W style.")
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"silverprint {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    # `kill PID` cleans up like Ctrl-C: no half-written files
    signals = nullcontext() if args.command in OWN_SIGNALS else sigterm_as_interrupt()
    try:
        with signals:
            return int(args.func(args) or 0)
    except SilverprintError as exc:
        print(f"silverprint: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("silverprint: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `silverprint styles list --json | head`: the reader has gone
        _silence_stdout()
        return 141  # 128 + SIGPIPE, what a shell reports for a tool stopped the same way


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush does not raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real stdout (a test's capture): nothing left to flush
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
