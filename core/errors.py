"""Typed errors: every user-facing failure is a SilverprintError with a one-line message.

The CLI prints `str(error)` as one line (naming the file where there is one) and maps the class to
an exit code; the service maps it to an HTTP status. Nothing else should leak to a user.
"""
from __future__ import annotations


class SilverprintError(Exception):
    """Base of all errors a user can cause and should read."""

    exit_code = 1
    http_status = 400


class BadInputError(SilverprintError):
    """An input file is unreadable, truncated, corrupt, of an unsupported format or too large."""

    exit_code = 2

    def __init__(self, path: object, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class UnknownStyleError(SilverprintError):
    """A style name or file that does not exist or cannot be parsed."""

    exit_code = 2
    http_status = 404


class UnknownSliderError(SilverprintError):
    """A `--set REGION.PARAM=VALUE` naming a region or slider that does not exist, or a bad value."""

    exit_code = 2


class ShapeError(SilverprintError, ValueError):
    """A tensor or array of the wrong shape reached an op (a programming error, not user input)."""


class DeviceError(SilverprintError):
    """A requested compute device (e.g. CUDA) that this machine does not have."""

    exit_code = 2
