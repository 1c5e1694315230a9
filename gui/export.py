"""Export: 16-bit TIFF / PNG or JPEG, next to the original by default, never over it.

The render itself is the core's full-resolution path (`document.export`); this module picks the name
and format and runs it in the background.
"""
from __future__ import annotations

from pathlib import Path

from .qt import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout,
                 QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget)

FORMATS = {"tiff16": ("16-bit TIFF", ".tif"), "png16": ("16-bit PNG", ".png"), "jpeg": ("JPEG", ".jpg")}


def default_export_path(source: Path | None, fmt: str, name: str = "photo",
                        folder: Path | None = None) -> Path:
    """``NAME_bw.EXT`` beside the original (or in ``folder``); numbered so nothing is overwritten."""
    stem = source.stem if source is not None else Path(name).stem
    where = folder or (source.parent if source is not None else Path.home())
    return _free_name(where, stem, FORMATS[fmt][1], source)


def default_video_path(source: Path, folder: Path | None = None) -> Path:
    """``NAME_bw.mp4`` beside the original video (or in ``folder``), numbered, never the original."""
    return _free_name(folder or source.parent, source.stem, ".mp4", source)


def _free_name(where: Path, stem: str, suffix: str, source: Path | None) -> Path:
    """``STEM_bw SUFFIX`` in ``where``, then ``STEM_bw-2``, ``-3``…: the first that is neither an
    existing file nor the original."""
    candidate = where / f"{stem}_bw{suffix}"
    n = 2
    while candidate.exists() or (source is not None and candidate.resolve() == source.resolve()):
        candidate = where / f"{stem}_bw-{n}{suffix}"
        n += 1
    return candidate


def is_original(path: Path, source: Path | None) -> bool:
    return source is not None and path.expanduser().resolve() == source.resolve()


class ExportDialog(QDialog):
    """Format and destination; `accept` only with a destination that is not the original."""

    def __init__(self, source: Path | None, name: str, bit_depth: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export black & white")
        self.setMinimumWidth(520)
        self._source = source
        self._name = name
        self.format = QComboBox()
        for key, (label, _suffix) in FORMATS.items():
            self.format.addItem(label, key)
        if bit_depth <= 8 and source is not None and source.suffix.lower() in (".jpg", ".jpeg"):
            self.format.setCurrentIndex(list(FORMATS).index("jpeg"))
        self.path = QLineEdit(str(default_export_path(source, self.fmt, name)))
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        self.note = QLabel("")
        self.note.setObjectName("Muted")
        form = QFormLayout()
        form.addRow("Format", self.format)
        form.addRow("Save as", row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        export = buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        export.setObjectName("Primary")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addWidget(buttons)
        self.format.currentIndexChanged.connect(self._format_changed)

    @property
    def fmt(self) -> str:
        return self.format.currentData()

    def destination(self) -> Path:
        return Path(self.path.text()).expanduser()

    def _format_changed(self) -> None:
        current = self.destination()
        self.path.setText(str(default_export_path(self._source, self.fmt, self._name, current.parent)))

    def _browse(self) -> None:
        chosen, _ = QFileDialog.getSaveFileName(self, "Export as", str(self.destination()),
                                                "Images (*.tif *.tiff *.png *.jpg *.jpeg)")
        if chosen:
            self.path.setText(chosen)

    def accept(self) -> None:  # noqa: D102
        if is_original(self.destination(), self._source):
            self.note.setText("That is the original photo: Silverprint never writes over it.")
            return
        super().accept()
