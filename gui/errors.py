"""The one error presenter: every exception a user can see goes through `show_error`.

Core errors (`SilverprintError`) already carry a one-line message written for a user; anything else
is a bug, shown with its type so that a report is useful, and printed in full to stderr.
"""
from __future__ import annotations

import os
import sys
import traceback

from silverprint.errors import SilverprintError

from .qt import QMessageBox, QWidget


def message_for(exc: BaseException) -> str:
    """The line a user reads for ``exc``."""
    if isinstance(exc, SilverprintError):
        return str(exc)
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror or exc}"
    return f"Unexpected error ({type(exc).__name__}): {exc}"


#: Messages shown so far (tests read it; dialogs are not shown when running offscreen).
shown: list[str] = []


def show_error(*, parent: QWidget | None, exc: BaseException) -> None:
    """Show ``exc`` to the user; never raises."""
    text = message_for(exc)
    shown.append(text)
    if not _is_user_error(exc):
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    window = parent.window() if parent is not None else None
    status = getattr(window, "show_status", None)
    if callable(status):
        status(text, error=True)
    if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        return  # a modal dialog would block a headless test run
    QMessageBox.warning(parent, "Silverprint", text)


def _is_user_error(exc: BaseException) -> bool:
    return isinstance(exc, SilverprintError)
