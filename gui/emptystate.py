"""What the companion shows before a photo is open: how to open one, and the photos opened lately.

Without this the adjustments panel showed every slider at 0 (no style is decoded without a photo)
and the gallery grey tiles, which read as broken. Recent files live in the companion's settings
(``companion.ini`` in Silverprint's config folder): a list of paths, newest first, files that no
longer exist are not offered.
"""
from __future__ import annotations

from pathlib import Path

from .qt import (QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QSettings, Qt,
                 QVBoxLayout, QWidget, pyqtSignal)

RECENT_KEY = "recent_files"
RECENT_MAX = 8


def recent_files(settings: QSettings) -> list[Path]:
    """Recently opened files that still exist, newest first."""
    value = settings.value(RECENT_KEY, [])
    paths = [value] if isinstance(value, str) else list(value or [])
    return [Path(p) for p in paths if isinstance(p, str) and p and Path(p).is_file()][:RECENT_MAX]


def remember(settings: QSettings, path: str | Path) -> None:
    """Put ``path`` first in the recent list (once), keeping at most RECENT_MAX."""
    path = str(Path(path).resolve())
    value = settings.value(RECENT_KEY, [])
    earlier = [value] if isinstance(value, str) else [p for p in (value or []) if isinstance(p, str)]
    settings.setValue(RECENT_KEY, [path] + [p for p in earlier if p != path][:RECENT_MAX - 1])
    settings.sync()


class EmptyState(QWidget):
    """Open / drop a photo, the recent ones, and the way to the portfolio (which needs no photo)."""

    openRequested = pyqtSignal()
    recentChosen = pyqtSignal(str)
    portfolioRequested = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = QVBoxLayout(self)
        column.setContentsMargins(14, 18, 12, 12)
        column.setSpacing(10)
        self.title = QLabel("No photo open")
        self.title.setObjectName("PanelTitle")
        self.hint = QLabel("Open a photo (Ctrl+O) or drop one on the window. Its sliders start from "
                           "the style you pick on the left, region by region.")
        self.hint.setObjectName("Muted")
        self.hint.setWordWrap(True)
        row = QHBoxLayout()
        self.open_button = QPushButton("Open a photo…")
        self.open_button.setObjectName("Primary")
        self.open_button.clicked.connect(self.openRequested)
        self.portfolio_button = QPushButton("Learn my style…")
        self.portfolio_button.setToolTip("Learn a style from a folder of your own edits (no photo needed)")
        self.portfolio_button.clicked.connect(self.portfolioRequested)
        row.addWidget(self.open_button)
        row.addWidget(self.portfolio_button)
        row.addStretch(1)
        self.recent_title = QLabel("Recent")
        self.recent_title.setObjectName("PanelTitle")
        self.recent = QListWidget()
        self.recent.itemActivated.connect(self._chosen)
        self.recent.itemClicked.connect(self._chosen)
        for widget in (self.title, self.hint):
            column.addWidget(widget)
        column.addLayout(row)
        column.addWidget(self.recent_title)
        column.addWidget(self.recent, 1)
        column.addStretch(0)

    def set_recent(self, paths: list[Path]) -> None:
        self.recent.clear()
        for path in paths:
            item = QListWidgetItem(path.name)
            item.setToolTip(str(path))
            item.setData(Qt.ItemDataRole.UserRole, str(path))
            self.recent.addItem(item)
        self.recent_title.setVisible(bool(paths))
        self.recent.setVisible(bool(paths))

    def recent_paths(self) -> list[str]:
        return [self.recent.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.recent.count())]

    def _chosen(self, item: QListWidgetItem) -> None:
        self.recentChosen.emit(item.data(Qt.ItemDataRole.UserRole))
