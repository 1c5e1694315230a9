"""Style gallery: every built-in and user style as a live thumbnail of the current photo.

Thumbnails render on the task manager's render lane, one style per task, so a slider drag is never
stuck behind the whole gallery; thumbnails that finish after the photo changed are dropped.
"""
from __future__ import annotations

from typing import Any, Callable

from . import document, theme
from .imageconv import to_qimage
from .match import match_percent, match_words, photos
from .qt import (QColor, QFont, QIcon, QImage, QListView, QListWidget, QListWidgetItem, QPainter,
                 QPixmap, QRectF, QSize, Qt, QWidget, pyqtSignal)
from .taskman import taskman

ICON = QSize(176, 118)


def _framed(image: QImage | None, badge: str = "") -> QIcon:
    """Fit ``image`` into the icon box on the panel colour (or an empty placeholder)."""
    pixmap = QPixmap(ICON)
    pixmap.fill(QColor(theme.PANEL))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    if image is None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(theme.RAISED))
        painter.drawRoundedRect(QRectF(4, 4, ICON.width() - 8, ICON.height() - 8), 3, 3)
    else:
        scaled = image.scaled(ICON.width() - 8, ICON.height() - 8, Qt.AspectRatioMode.KeepAspectRatio,
                              Qt.TransformationMode.SmoothTransformation)
        x = (ICON.width() - scaled.width()) / 2
        y = (ICON.height() - scaled.height()) / 2
        painter.drawImage(int(x), int(y), scaled)
    if badge:
        font = QFont(painter.font())
        font.setPointSizeF(7.5)
        font.setBold(True)
        painter.setFont(font)
        width = painter.fontMetrics().horizontalAdvance(badge) + 10
        box = QRectF(ICON.width() - width - 8, 8, width, 15)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(theme.ACCENT))
        painter.drawRoundedRect(box, 3, 3)
        painter.setPen(QColor("#1b1b1b"))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, badge)
    painter.end()
    icon = QIcon(pixmap)
    icon.addPixmap(pixmap, QIcon.Mode.Selected)  # no selection tint over a B&W rendering
    return icon


class StyleGallery(QListWidget):
    """One item per style; ``styleChosen(name)`` when the user clicks one."""

    styleChosen = pyqtSignal(str)
    thumbnailsDone = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setIconSize(ICON)
        self.setGridSize(QSize(ICON.width() + 12, ICON.height() + 30))
        self.setSpacing(2)
        self.setUniformItemSizes(True)
        self.setWordWrap(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._generation = 0
        self._pending = 0
        self._styles: dict[str, Any] = {}
        self.itemClicked.connect(self._clicked)

    # -- content ----------------------------------------------------------------------------------
    def load_styles(self) -> None:
        """(Re)read the style list; thumbnails follow with `refresh`."""
        current = self.current_name()
        self.clear()
        self._styles = {}
        for style in document.list_styles():
            self._styles[style.name] = style
            item = QListWidgetItem(_framed(None, self._badge(style)), style.name)
            item.setData(Qt.ItemDataRole.UserRole, style.name)
            item.setToolTip(self._tooltip(style))
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            self.addItem(item)
        if current:
            self.select_name(current)

    def names(self) -> list[str]:
        return [self.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.count())]

    def current_name(self) -> str | None:
        item = self.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def select_name(self, name: str) -> None:
        for i in range(self.count()):
            if self.item(i).data(Qt.ItemDataRole.UserRole) == name:
                self.setCurrentRow(i)
                return

    def refresh(self, doc: document.Document | None) -> None:
        """Render every style's thumbnail on ``doc`` in the background (stale ones are dropped)."""
        self._generation += 1
        if doc is None:
            return
        generation = self._generation
        self._pending = self.count()
        for i in range(self.count()):
            name = self.item(i).data(Qt.ItemDataRole.UserRole)
            style = self._styles.get(name, name)
            taskman().run_in_background(
                lambda s=style: document.render_thumbnail(doc, s),
                self._thumbnail_done(generation, name))

    @property
    def pending(self) -> int:
        return self._pending

    # -- internals --------------------------------------------------------------------------------
    @staticmethod
    def _badge(style: Any) -> str:
        source = getattr(style, "source", "builtin")
        if getattr(style, "builtin", False):
            return ""
        return "LEARNED" if source == "learned" else "YOURS"

    @staticmethod
    def _tooltip(style: Any) -> str:
        lines = [f"<b>{style.name}</b>", style.description or ""]
        provenance = getattr(style, "provenance", {}) or {}
        pairs = provenance.get("pairs")
        metrics = provenance.get("metrics") or {}
        if pairs:
            line = f"Learned from {photos(pairs)}"
            if metrics.get("ssim") is not None and metrics.get("heldout_pairs"):
                line += "; " + match_words(match_percent(metrics["ssim"]), int(metrics["heldout_pairs"]))
            lines.append(line)
        return "<br>".join(line for line in lines if line)

    def _thumbnail_done(self, generation: int, name: str) -> Callable:
        def done(future) -> None:  # noqa: ANN001
            if generation != self._generation:
                return
            self._pending = max(0, self._pending - 1)
            try:
                image = to_qimage(future.result())
            except Exception as exc:  # noqa: BLE001 - a broken style must not break the gallery
                image = None
                message = f"{name}: {exc}"
            else:
                message = None
            for i in range(self.count()):
                item = self.item(i)
                if item.data(Qt.ItemDataRole.UserRole) == name:
                    style = self._styles.get(name)
                    item.setIcon(_framed(image, self._badge(style) if style else ""))
                    if message:
                        item.setToolTip(message)
            if self._pending == 0:
                self.thumbnailsDone.emit()
        return done

    def _clicked(self, item: QListWidgetItem) -> None:
        self.styleChosen.emit(item.data(Qt.ItemDataRole.UserRole))
