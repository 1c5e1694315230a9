"""The photo: zoom and pan, before/after (split line or toggle), mask overlay, control points, and
the histogram of the B&W result.

The viewer only paints QImages it is given; the window decides what they are. Coordinates passed
out (a click that places a control point) are fractions of the image width and height, the units of
`silverprint.params.LOCAL_KINDS`, so they do not depend on the preview size.
"""
from __future__ import annotations

import numpy as np

from . import theme
from .qt import (QColor, QImage, QLinearGradient, QMouseEvent, QPainter, QPainterPath, QPen,
                 QPointF, QRectF, QSize, QWheelEvent, QWidget, Qt, pyqtSignal)

AFTER, BEFORE, SPLIT = "after", "before", "split"


class ImageViewer(QWidget):
    """Paints the B&W preview (and the colour original for comparison) with zoom and pan."""

    pointPlaced = pyqtSignal(float, float)
    localSelected = pyqtSignal(int)               # index into Params.local
    localMoved = pyqtSignal(int, float, float, bool)  # index, x, y (fractions), final
    pickMoved = pyqtSignal(int, float, float, bool)   # index, the colour range's pick x, y, final
    splitChanged = pyqtSignal(float)
    zoomChanged = pyqtSignal(float)

    HANDLE_PX = 8

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(320, 240)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._before: QImage | None = None
        self._after: QImage | None = None
        self._overlay: QImage | None = None
        self._locals: list[dict] = []
        self._selected_local = -1
        self._moving = -1
        self.mode = AFTER
        self.split = 0.5
        self._scale: float | None = None  # None: fit to the window
        self._centre = QPointF(0.5, 0.5)  # image point (fractions) at the widget centre when zoomed
        self._drag: str | None = None
        self._drag_origin = QPointF()
        self._drag_centre = QPointF()
        self.placing = False
        self.placeholder = "Open a photo (Ctrl+O) or drop one here"
        self.busy_text = ""  # shown over the photo while the engine works (opening, analysing)
        self.paints = 0  # number of completed paints (the latency benchmark waits on it)

    # -- content ----------------------------------------------------------------------------------
    def set_images(self, before: QImage | None, after: QImage | None) -> None:
        self._before, self._after = before, after
        self.update()

    def set_after(self, after: QImage) -> None:
        self._after = after
        self.update()

    def set_overlay(self, overlay: QImage | None) -> None:
        self._overlay = overlay
        self.update()

    def set_locals(self, items: list[dict], selected: int = -1) -> None:
        """Local adjustments (``Params.local`` dicts) to draw with handles; ``selected`` is highlighted."""
        self._locals, self._selected_local = [dict(item) for item in items], selected
        self.update()

    def set_busy(self, text: str) -> None:
        self.busy_text = text
        self.update()

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self.update()

    def set_placing(self, placing: bool) -> None:
        self.placing = placing
        self.setCursor(Qt.CursorShape.CrossCursor if placing else Qt.CursorShape.ArrowCursor)

    def image_size(self) -> QSize:
        image = self._after or self._before
        return image.size() if image is not None else QSize(0, 0)

    # -- zoom -------------------------------------------------------------------------------------
    def fit(self) -> None:
        self._scale = None
        self.zoomChanged.emit(self.scale())
        self.update()

    def zoom_to(self, scale: float, anchor: QPointF | None = None) -> None:
        """Zoom to ``scale`` screen pixels per image pixel, keeping ``anchor`` (widget px) still."""
        size = self.image_size()
        if size.isEmpty():
            return
        scale = max(0.05, min(16.0, scale))
        if anchor is not None:
            image_pt = self._to_image(anchor)
            self._scale = scale
            dx = (anchor.x() - self.width() / 2) / (scale * size.width())
            dy = (anchor.y() - self.height() / 2) / (scale * size.height())
            self._centre = QPointF(image_pt.x() - dx, image_pt.y() - dy)
        else:
            if self._scale is None:
                self._centre = QPointF(0.5, 0.5)
            self._scale = scale
        self.zoomChanged.emit(scale)
        self.update()

    def scale(self) -> float:
        size = self.image_size()
        if size.isEmpty():
            return 1.0
        if self._scale is not None:
            return self._scale
        return min((self.width() - 24) / size.width(), (self.height() - 24) / size.height())

    def image_rect(self) -> QRectF:
        size = self.image_size()
        s = self.scale()
        w, h = size.width() * s, size.height() * s
        if self._scale is None:
            return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)
        return QRectF(self.width() / 2 - self._centre.x() * w, self.height() / 2 - self._centre.y() * h, w, h)

    def _to_image(self, pos: QPointF) -> QPointF:
        rect = self.image_rect()
        if rect.width() <= 0:
            return QPointF(0.5, 0.5)
        return QPointF((pos.x() - rect.x()) / rect.width(), (pos.y() - rect.y()) / rect.height())

    def _split_x(self) -> float:
        rect = self.image_rect()
        return rect.x() + rect.width() * self.split

    # -- painting ---------------------------------------------------------------------------------
    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(900, 640)

    def paintEvent(self, event) -> None:  # noqa: N802, ANN001
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(theme.BG))
        if self._after is None and self._before is None:
            painter.setPen(QColor(theme.MUTED))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.busy_text or self.placeholder)
            painter.end()
            self.paints += 1
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.scale() < 2)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        rect = self.image_rect()
        # a soft drop shadow frames the print on the dark table
        painter.fillRect(rect.adjusted(-1, -1, 1, 1), QColor("#0c0c0d"))
        main = self._before if self.mode == BEFORE else self._after
        if main is None:
            main = self._before or self._after
        painter.drawImage(rect, main)
        if self.mode == SPLIT and self._before is not None and self._after is not None:
            painter.save()
            left = QRectF(rect.x(), rect.y(), self._split_x() - rect.x(), rect.height())
            painter.setClipRect(left)
            painter.drawImage(rect, self._before)
            painter.restore()
        if self._overlay is not None and self.mode != BEFORE:
            painter.drawImage(rect, self._overlay)
        if self.mode == SPLIT:
            self._paint_split(painter, rect)
        self._paint_locals(painter, rect)
        if self.mode == BEFORE:
            self._tag(painter, rect.x() + 10, rect.y() + 10, "Before")
        if self.busy_text:
            metrics = painter.fontMetrics()
            self._tag(painter, rect.center().x() - metrics.horizontalAdvance(self.busy_text) / 2 - 7,
                      rect.bottom() - 34, self.busy_text)
        painter.end()
        self.paints += 1

    def _tag(self, painter: QPainter, x: float, y: float, text: str) -> None:
        metrics = painter.fontMetrics()
        box = QRectF(x, y, metrics.horizontalAdvance(text) + 14, metrics.height() + 6)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 150))
        painter.drawRoundedRect(box, 4, 4)
        painter.setPen(QColor("#eeeeee"))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_split(self, painter: QPainter, rect: QRectF) -> None:
        x = self._split_x()
        painter.setPen(QPen(QColor(255, 255, 255, 200), 1.5))
        painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
        centre = QPointF(x, rect.center().y())
        painter.setBrush(QColor(30, 30, 30, 220))
        painter.setPen(QPen(QColor(255, 255, 255, 220), 1.5))
        painter.drawEllipse(centre, 13, 13)
        path = QPainterPath()
        path.moveTo(centre.x() - 3, centre.y() - 5)
        path.lineTo(centre.x() - 8, centre.y())
        path.lineTo(centre.x() - 3, centre.y() + 5)
        path.moveTo(centre.x() + 3, centre.y() - 5)
        path.lineTo(centre.x() + 8, centre.y())
        path.lineTo(centre.x() + 3, centre.y() + 5)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)
        self._tag(painter, rect.x() + 10, rect.y() + 10, "Before")
        metrics = painter.fontMetrics()
        self._tag(painter, rect.right() - metrics.horizontalAdvance("After") - 24, rect.y() + 10, "After")

    def _paint_locals(self, painter: QPainter, rect: QRectF) -> None:
        """Handles for every local adjustment, and the shape of the selected one."""
        import math

        long_side = max(rect.width(), rect.height())
        for i, item in enumerate(self._locals):
            kind = item.get("kind", "point")
            centre = QPointF(rect.x() + item["x"] * rect.width(), rect.y() + item["y"] * rect.height())
            selected = i == self._selected_local
            colour = QColor(theme.ACCENT) if selected else QColor(255, 255, 255, 210)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            if selected and kind == "point":
                painter.setPen(QPen(colour, 1.2, Qt.PenStyle.DashLine))
                r = item["radius"] * long_side
                painter.drawEllipse(centre, r, r)
            elif selected and kind == "graduated":
                theta = math.radians(item["angle"])
                along = QPointF(math.cos(theta), math.sin(theta)) * (2 * long_side)
                normal = QPointF(-math.sin(theta), math.cos(theta))
                painter.save()
                painter.setClipRect(rect)
                for offset, style in ((0.0, Qt.PenStyle.SolidLine), (-0.5, Qt.PenStyle.DashLine),
                                      (0.5, Qt.PenStyle.DashLine)):
                    shift = normal * (offset * item["feather"] * rect.height())
                    painter.setPen(QPen(colour, 1.2, style))
                    painter.drawLine(centre + shift - along, centre + shift + along)
                painter.restore()
            elif selected and kind == "radial":
                painter.save()
                painter.translate(centre)
                painter.rotate(item["angle"])
                a, b = 0.5 * item["width"] * rect.width(), 0.5 * item["height"] * rect.height()
                painter.setPen(QPen(colour, 1.4))
                painter.drawEllipse(QPointF(0, 0), a, b)
                inner = max(0.0, 1.0 - item["feather"])
                painter.setPen(QPen(colour, 1.0, Qt.PenStyle.DashLine))
                painter.drawEllipse(QPointF(0, 0), a * inner, b * inner)
                painter.restore()
            pick = self._pick_point(i, rect)
            if pick is not None:  # where the colour range's colour is picked: an eyedropper cross
                for pen in (QPen(QColor(0, 0, 0, 160), 3.5), QPen(colour, 1.5)):
                    painter.setPen(pen)
                    painter.drawLine(pick - QPointF(6, 0), pick + QPointF(6, 0))
                    painter.drawLine(pick - QPointF(0, 6), pick + QPointF(0, 6))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(QColor(0, 0, 0, 160), 4))
            painter.drawEllipse(centre, 7, 7)
            painter.setPen(QPen(colour, 2))
            painter.drawEllipse(centre, 7, 7)
            painter.setBrush(colour)
            if kind == "point":
                painter.drawEllipse(centre, 2.5, 2.5)
            else:
                painter.drawRect(QRectF(centre.x() - 2.5, centre.y() - 2.5, 5, 5))

    def _pick_point(self, index: int, rect: QRectF) -> QPointF | None:
        """Where the selected filter's colour range picks its colour, on screen (None: no range)."""
        if index != self._selected_local or not 0 <= index < len(self._locals):
            return None
        item = self._locals[index]
        if item.get("kind") == "point" or item.get("color_range", 0) <= 0:
            return None
        return QPointF(rect.x() + item.get("pick_x", 0.5) * rect.width(),
                       rect.y() + item.get("pick_y", 0.5) * rect.height())

    # -- interaction ------------------------------------------------------------------------------
    def _local_at(self, pos: QPointF) -> int:
        rect = self.image_rect()
        for i in reversed(range(len(self._locals))):  # the last drawn is on top
            item = self._locals[i]
            centre = QPointF(rect.x() + item["x"] * rect.width(), rect.y() + item["y"] * rect.height())
            if (centre - pos).manhattanLength() < 14:
                return i
        return -1

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position()
        if event.button() != Qt.MouseButton.LeftButton or self.image_size().isEmpty():
            return
        if self.mode == SPLIT and abs(pos.x() - self._split_x()) <= self.HANDLE_PX:
            self._drag = "split"
            return
        pick = self._pick_point(self._selected_local, self.image_rect())
        if pick is not None and (pick - pos).manhattanLength() < 12:
            self._drag = "pick"
            self._moving = self._selected_local
            return
        hit = self._local_at(pos)
        if hit >= 0:
            self.localSelected.emit(hit)
            self._drag = "local"
            self._moving = hit
            return
        if self.placing and self.image_rect().contains(pos):
            fraction = self._to_image(pos)
            self.pointPlaced.emit(min(1.0, max(0.0, fraction.x())), min(1.0, max(0.0, fraction.y())))
            return
        self._drag = "pan"
        self._drag_origin = pos
        if self._scale is None:
            self._scale = self.scale()
            self._centre = QPointF(0.5, 0.5)
        self._drag_centre = QPointF(self._centre)
        self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position()
        if self._drag in ("local", "pick"):
            fraction = self._to_image(pos)
            x, y = min(1.0, max(0.0, fraction.x())), min(1.0, max(0.0, fraction.y()))
            if self._drag == "local":
                self._locals[self._moving].update(x=x, y=y)
                self.localMoved.emit(self._moving, x, y, False)
            else:
                self._locals[self._moving].update(pick_x=x, pick_y=y)
                self.pickMoved.emit(self._moving, x, y, False)
            self.update()
        elif self._drag == "split":
            rect = self.image_rect()
            self.split = min(1.0, max(0.0, (pos.x() - rect.x()) / max(1.0, rect.width())))
            self.splitChanged.emit(self.split)
            self.update()
        elif self._drag == "pan":
            rect = self.image_rect()
            delta = pos - self._drag_origin
            self._centre = QPointF(self._drag_centre.x() - delta.x() / rect.width(),
                                   self._drag_centre.y() - delta.y() / rect.height())
            self.update()
        elif self.mode == SPLIT and abs(pos.x() - self._split_x()) <= self.HANDLE_PX:
            self.setCursor(Qt.CursorShape.SplitHCursor)
        elif not self.placing:
            self.setCursor(Qt.CursorShape.ArrowCursor)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._drag == "local" and 0 <= self._moving < len(self._locals):
            item = self._locals[self._moving]
            self.localMoved.emit(self._moving, item["x"], item["y"], True)
        elif self._drag == "pick" and 0 <= self._moving < len(self._locals):
            item = self._locals[self._moving]
            self.pickMoved.emit(self._moving, item["pick_x"], item["pick_y"], True)
        self._drag = None
        self._moving = -1
        self.setCursor(Qt.CursorShape.CrossCursor if self.placing else Qt.CursorShape.ArrowCursor)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._scale is None:
            self.zoom_to(1.0, event.position())
        else:
            self.fit()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_to(self.scale() * (1.25 ** steps), event.position())


class Histogram(QWidget):
    """Tonal histogram of the B&W result, with clipping marks at both ends."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(96)
        self.setMaximumHeight(110)
        self._counts: np.ndarray | None = None

    def set_counts(self, counts: np.ndarray | None) -> None:
        self._counts = None if counts is None else np.asarray(counts, dtype=np.float64)
        self.update()

    def clipped(self) -> tuple[float, float]:
        """Fraction of pixels at pure black and pure white."""
        if self._counts is None or self._counts.sum() == 0:
            return 0.0, 0.0
        total = self._counts.sum()
        return float(self._counts[0] / total), float(self._counts[-1] / total)

    def paintEvent(self, event) -> None:  # noqa: N802, ANN001
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        area = QRectF(self.rect()).adjusted(8, 8, -8, -8)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("#1a1b1d"))
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(2, 2, -2, -2), 5, 5)
        painter.setPen(QPen(QColor(255, 255, 255, 18), 1))
        for q in (0.25, 0.5, 0.75):
            x = area.x() + q * area.width()
            painter.drawLine(QPointF(x, area.top()), QPointF(x, area.bottom()))
        if self._counts is None or self._counts.sum() == 0:
            painter.end()
            return
        heights = np.sqrt(self._counts[1:-1] if len(self._counts) > 2 else self._counts)
        top = heights.max() or 1.0
        bins = len(self._counts)
        path = QPainterPath(QPointF(area.left(), area.bottom()))
        for i, count in enumerate(np.sqrt(self._counts)):
            x = area.left() + area.width() * (i + 0.5) / bins
            y = area.bottom() - area.height() * min(1.0, count / top)
            path.lineTo(QPointF(x, y))
        path.lineTo(QPointF(area.right(), area.bottom()))
        path.closeSubpath()
        gradient = QLinearGradient(area.topLeft(), area.topRight())
        gradient.setColorAt(0.0, QColor(120, 120, 120, 200))
        gradient.setColorAt(1.0, QColor(230, 230, 230, 220))
        painter.setBrush(gradient)
        painter.setPen(QPen(QColor(255, 255, 255, 90), 1))
        painter.drawPath(path)
        black, white = self.clipped()
        for clipped, x in ((black, area.left() + 4), (white, area.right() - 4)):
            if clipped > 0.005:
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(QColor(theme.ACCENT))
                painter.drawEllipse(QPointF(x, area.top() + 4), 3, 3)
        painter.end()
