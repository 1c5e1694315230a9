"""The one place the companion imports Qt from.

Every other module in `silverprint_gui` does ``from .qt import *`` (or names from here), so the Qt
binding, its minimum version and the small helpers that paper over binding quirks live in one file.
"""
from __future__ import annotations

from typing import Any, Callable

from PyQt6.QtCore import *  # noqa: F401,F403
from PyQt6.QtGui import *  # noqa: F401,F403
from PyQt6.QtWidgets import *  # noqa: F401,F403
from PyQt6.QtCore import PYQT_VERSION_STR, QT_VERSION_STR, pyqtBoundSignal

MIN_QT = (6, 4)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:2])


if _version(QT_VERSION_STR) < MIN_QT:  # pragma: no cover - depends on the installed wheel
    raise ImportError(f"Silverprint needs Qt {MIN_QT[0]}.{MIN_QT[1]} or newer, found {QT_VERSION_STR}")


__all__ = [name for name in dir() if not name.startswith("_")]
