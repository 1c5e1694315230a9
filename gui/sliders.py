"""One slider row in the Lightroom manner: name, track, editable value and a reset arrow.

The row works in the slider's own units (from `silverprint.params` specs); the QSlider underneath
is an integer track with enough steps that a drag feels continuous. Double-clicking the name or the
arrow resets to the row's *base* value: what the style decoded for this photo, not the vocabulary
default, because that is what "undo my tweak" means to a photographer.
"""
from __future__ import annotations

from silverprint.params import Slider

from .qt import (QColor, QDoubleSpinBox, QHBoxLayout, QLabel, QMouseEvent, QSlider, QSizePolicy,
                 QToolButton, QWidget, Qt, pyqtSignal)

#: Display names for slider keys (the vocabulary uses snake_case identifiers).
LABELS = {
    "mix_red": "Red", "mix_green": "Green", "mix_blue": "Blue", "grain_size": "Size",
    "grain": "Amount", "vignette": "Amount", "vignette_midpoint": "Midpoint",
    "vignette_feather": "Feather", "tone_highlight_hue": "Highlight hue",
    "tone_highlight_sat": "Highlight strength", "tone_shadow_hue": "Shadow hue",
    "tone_shadow_sat": "Shadow strength", "tone_balance": "Balance", "filter_balance": "Filter in lights",
}

#: Hue-band track colours, so the colour filter reads like Silver Efex's (dark ← hue → light).
BAND_COLOURS = {"red": "#d9473f", "orange": "#e08a3a", "yellow": "#d8c740", "green": "#4fae52",
                "aqua": "#3fb3b0", "blue": "#3f7fd9", "purple": "#8a5ad0", "magenta": "#cf4fa8"}


def label_for(name: str) -> str:
    return LABELS.get(name, name.replace("_", " ").capitalize())


class _NameLabel(QLabel):
    doubleClicked = pyqtSignal()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        self.doubleClicked.emit()


class SliderRow(QWidget):
    """A labelled slider bound to one parameter key (e.g. ``sky.exposure``).

    Signals: ``changed(key, value, final)``; ``final`` is False while the handle is being dragged
    (render, but do not record an undo step yet) and True when the change is complete.
    """

    changed = pyqtSignal(str, float, bool)

    STEPS = 1000

    def __init__(self, key: str, spec: Slider, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.spec = spec
        self._base = float(spec.default)
        self._value = float(spec.default)
        self._updating = False
        span = spec.hi - spec.lo
        self._decimals = 2 if span <= 10 else 0
        self._scale = self.STEPS / span if span <= 1000 else 1.0

        self.name = _NameLabel(label_for(spec.name))
        self.name.setMinimumWidth(88)
        self.name.setToolTip(f"{spec.doc}\nRange {spec.lo:g} … {spec.hi:g}. Double-click to reset.")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(round(spec.lo * self._scale), round(spec.hi * self._scale))
        self.slider.setToolTip(spec.doc)
        self.slider.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.slider.setPageStep(max(1, round(self.STEPS / 20)))
        self.value_box = QDoubleSpinBox()
        self.value_box.setObjectName("Value")
        self.value_box.setButtonSymbols(QDoubleSpinBox.ButtonSymbols.NoButtons)
        self.value_box.setRange(spec.lo, spec.hi)
        self.value_box.setDecimals(self._decimals)
        self.value_box.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.value_box.setFixedWidth(52)
        self.value_box.setKeyboardTracking(False)
        self.reset_button = QToolButton()
        self.reset_button.setObjectName("Reset")
        self.reset_button.setText("↺")
        self.reset_button.setToolTip("Reset to the style's value for this photo")
        self.reset_button.setFixedWidth(18)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 1, 0, 1)
        layout.setSpacing(6)
        layout.addWidget(self.name)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.value_box)
        layout.addWidget(self.reset_button)

        band = spec.name.removesuffix("_hue")
        if spec.name in BAND_COLOURS:
            self._tint_track(QColor(BAND_COLOURS[spec.name]))
        elif band in BAND_COLOURS:  # where a band's centre sits: the hues around its colour
            centre = QColor(BAND_COLOURS[band]).hsvHue()
            self._hue_track(centre + spec.lo, centre + spec.hi)
        elif spec.name.endswith("_hue"):
            self._hue_track(spec.lo, spec.hi)

        self.slider.valueChanged.connect(self._from_slider)
        self.slider.sliderReleased.connect(self._released)
        self.value_box.valueChanged.connect(self._from_box)
        self.reset_button.clicked.connect(self.reset)
        self.name.doubleClicked.connect(self.reset)
        self._show(self._value)

    # -- public API -------------------------------------------------------------------------------
    @property
    def value(self) -> float:
        return self._value

    @property
    def base(self) -> float:
        return self._base

    def set_base(self, base: float) -> None:
        self._base = float(base)
        self._update_reset()

    def set_value(self, value: float) -> None:
        """Show ``value`` without emitting (the model changed, e.g. undo or a new style)."""
        self._value = float(value)
        self._show(self._value)

    def reset(self) -> None:
        if self._value != self._base:
            self._commit(self._base, final=True)

    # -- internals --------------------------------------------------------------------------------
    def _tint_track(self, colour: QColor) -> None:
        dark = colour.darker(260).name()
        self.slider.setStyleSheet(
            "QSlider::groove:horizontal { height: 4px; border-radius: 2px; background: "
            f"qlineargradient(x1:0, y1:0, x2:1, y2:0, stop:0 {dark}, stop:0.5 {colour.name()}, "
            f"stop:1 {colour.lighter(150).name()}); }}"
            f"QSlider::sub-page:horizontal {{ background: transparent; }}")

    def _hue_track(self, lo: float, hi: float) -> None:
        """A track coloured by hue from ``lo`` to ``hi`` degrees (wrapping round the circle)."""
        stops = ", ".join(f"stop:{i / 6:.3f} {QColor.fromHsv(round(lo + (hi - lo) * i / 6) % 360, 150, 200).name()}"
                          for i in range(7))
        self.slider.setStyleSheet(
            "QSlider::groove:horizontal { height: 4px; border-radius: 2px; background: "
            f"qlineargradient(x1:0, y1:0, x2:1, y2:0, {stops}); }}"
            "QSlider::sub-page:horizontal { background: transparent; }")

    def _show(self, value: float) -> None:
        self._updating = True
        self.slider.setValue(round(value * self._scale))
        self.value_box.setValue(value)
        self._updating = False
        self._update_reset()

    def _update_reset(self) -> None:
        differs = abs(self._value - self._base) > 0.5 / self._scale
        self.reset_button.setEnabled(differs)
        font = self.name.font()
        font.setBold(differs)
        self.name.setFont(font)

    def _commit(self, value: float, *, final: bool) -> None:
        value = min(self.spec.hi, max(self.spec.lo, value))
        self._value = value
        self._show(value)
        self.changed.emit(self.key, value, final)

    def _from_slider(self, position: int) -> None:
        if self._updating:
            return
        value = round(position / self._scale, self._decimals + 1)
        self._value = value
        self._updating = True
        self.value_box.setValue(value)
        self._updating = False
        self._update_reset()
        self.changed.emit(self.key, value, not self.slider.isSliderDown())

    def _released(self) -> None:
        self.changed.emit(self.key, self._value, True)

    def _from_box(self, value: float) -> None:
        if not self._updating:
            self._commit(value, final=True)
