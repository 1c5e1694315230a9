"""The global tone curve as a direct-manipulation editor (`CURVE_KNOTS` knots, as `silverprint.params` fixes).

Every other knot is a handle (17 of the 33, at inputs i / 16, display space) dragged up or down; the
knots between follow half of each neighbouring handle's move, so a drag bends the curve as smoothly
as a 17-point editor while the fine structure a learned style put between handles is kept. The curve
the renderer uses is the core's (`render.tone.curve_lut`); this widget draws all knots joined by
straight segments, which at 33 knots reads the same at this size.
"""
from __future__ import annotations

from silverprint.params import CURVE_KNOTS

from . import theme
from .qt import QColor, QMouseEvent, QPainter, QPainterPath, QPen, QPointF, QRectF, QSize, QWidget, Qt, pyqtSignal


#: Knots per handle step: handles sit on knots 0, 2, 4, ...
HANDLE_STEP = 2
assert (CURVE_KNOTS - 1) % HANDLE_STEP == 0


class CurveEditor(QWidget):
    """``curveChanged(values, final)``: `CURVE_KNOTS` outputs in [0, 1]; final on release."""

    curveChanged = pyqtSignal(list, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(200, 200)
        self.setMouseTracking(True)
        self.setToolTip("Drag a point up to brighten those tones, down to darken them. "
                        "Double-click to return to the style's curve.")
        self.values = [i / (CURVE_KNOTS - 1) for i in range(CURVE_KNOTS)]
        self.base = list(self.values)
        self._drag = -1
        self._hover = -1

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(280, 240)

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        return width

    def set_curve(self, values: list[float], base: list[float]) -> None:
        self.values, self.base = [float(v) for v in values], [float(v) for v in base]
        self.update()

    def _area(self) -> QRectF:
        side = min(self.width(), self.height()) - 16
        return QRectF((self.width() - side) / 2, 8, side, side)

    def _knot_pos(self, i: int) -> QPointF:
        area = self._area()
        return QPointF(area.left() + area.width() * i / (CURVE_KNOTS - 1),
                       area.bottom() - area.height() * self.values[i])

    def _knot_at(self, pos: QPointF) -> int:
        """The handle (a knot index) under ``pos``, or -1."""
        area = self._area()
        handles = (CURVE_KNOTS - 1) // HANDLE_STEP
        i = round((pos.x() - area.left()) / area.width() * handles) * HANDLE_STEP
        return i if 0 <= i < CURVE_KNOTS and abs(self._knot_pos(i).y() - pos.y()) < 22 else -1

    def _move(self, knot: int, value: float) -> None:
        """Set a handle; the knots between it and its neighbouring handles follow linearly."""
        delta = min(1.0, max(0.0, value)) - self.values[knot]
        for j in range(max(0, knot - HANDLE_STEP + 1), min(CURVE_KNOTS, knot + HANDLE_STEP)):
            share = 1.0 - abs(j - knot) / HANDLE_STEP
            self.values[j] = min(1.0, max(0.0, self.values[j] + share * delta))

    def paintEvent(self, event) -> None:  # noqa: N802, ANN001
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        area = self._area()
        painter.fillRect(area, QColor("#1a1b1d"))
        painter.setPen(QPen(QColor(255, 255, 255, 20), 1))
        for q in (0.25, 0.5, 0.75):
            painter.drawLine(QPointF(area.left() + q * area.width(), area.top()),
                             QPointF(area.left() + q * area.width(), area.bottom()))
            painter.drawLine(QPointF(area.left(), area.top() + q * area.height()),
                             QPointF(area.right(), area.top() + q * area.height()))
        painter.setPen(QPen(QColor(255, 255, 255, 40), 1, Qt.PenStyle.DashLine))
        painter.drawLine(area.bottomLeft(), area.topRight())
        path = QPainterPath(self._knot_pos(0))
        for i in range(1, CURVE_KNOTS):
            path.lineTo(self._knot_pos(i))
        painter.setPen(QPen(QColor(theme.TEXT), 2))
        painter.drawPath(path)
        for i in range(0, CURVE_KNOTS, HANDLE_STEP):
            moved = abs(self.values[i] - self.base[i]) > 1e-4
            colour = QColor(theme.ACCENT) if (moved or i in (self._drag, self._hover)) else QColor(theme.MUTED)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawEllipse(self._knot_pos(i), 3.5 if i not in (self._drag, self._hover) else 5, 3.5
                                if i not in (self._drag, self._hover) else 5)
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self._drag = self._knot_at(event.position())
            self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._drag < 0:
            hover = self._knot_at(event.position())
            if hover != self._hover:
                self._hover = hover
                self.update()
            return
        area = self._area()
        self._move(self._drag, (area.bottom() - event.position().y()) / area.height())
        self.update()
        self.curveChanged.emit(list(self.values), False)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._drag >= 0:
            self._drag = -1
            self.update()
            self.curveChanged.emit(list(self.values), True)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self.values = list(self.base)
        self.update()
        self.curveChanged.emit(list(self.values), True)
