"""Per-region sliders (colour filter, tone, detail) and the global finish (mix, grain, vignette, toning).

The panels only show and edit a `Params`; they never render. Values come in through `show_params`
(the current set plus the *base* set: what the chosen style decoded for this photo, which is what
every reset returns to) and leave as ``sliderChanged(key, value, final)`` with keys in the CLI's
``REGION.PARAM`` spelling, so the window applies them with `Params.set` exactly like ``--set``.
"""
from __future__ import annotations

from silverprint.params import (GLOBAL_SLIDER_SPECS, HUE_BANDS, HUE_SHIFT_NAMES, LOCAL_KINDS, REGION_SLIDER_SPECS,
                                SEMANTIC_REGIONS, Params, default_local)

from .qt import (QButtonGroup, QGridLayout, QHBoxLayout, QLabel, QPushButton, QScrollArea,
                 QVBoxLayout, QWidget, Qt, pyqtSignal)
from .sliders import SliderRow

REGION_LABELS = {"sky": "Sky", "person": "Person", "skin": "Skin", "vegetation": "Vegetation",
                 "other": "Other"}
TONE = ("exposure", "contrast", "highlights", "shadows", "whites", "blacks")
DETAIL = ("structure",)
#: Geometry sliders shown per local kind (a point's x / y are set by clicking the photo).
GEOMETRY = {"point": ("radius", "similarity"),
            "graduated": ("x", "y", "angle", "feather", "color_range", "pick_x", "pick_y"),
            "radial": ("x", "y", "width", "height", "angle", "feather", "invert", "color_range", "pick_x", "pick_y")}
LOCAL_LABELS = {"point": ("●", "Point"), "graduated": ("▤", "Graduated"), "radial": ("◯", "Radial")}
GLOBAL_SECTIONS = {
    "Base mix": ("mix_red", "mix_green", "mix_blue", "filter_balance"),
    "Band hues": HUE_SHIFT_NAMES,
    "Grain": ("grain", "grain_size"),
    "Vignette": ("vignette", "vignette_midpoint", "vignette_feather"),
    "Toning": ("tone_highlight_hue", "tone_highlight_sat", "tone_shadow_hue", "tone_shadow_sat",
               "tone_balance"),
}


def section_title(text: str) -> QLabel:
    label = QLabel(text.upper())
    label.setObjectName("SectionTitle")
    return label


def region_label(key: str, params: Params | None = None) -> str:
    """"Sky", or for ``localN`` its kind and number among its kind ("Graduated 1")."""
    if key in REGION_LABELS:
        return REGION_LABELS[key]
    if key.startswith("local") and key[5:].isdigit():
        index = int(key[5:])
        if params is not None and index < len(params.local):
            kind = params.local[index].get("kind", "point")
            number = sum(1 for item in params.local[:index] if item.get("kind") == kind) + 1
            return f"{LOCAL_LABELS.get(kind, ('', kind.capitalize()))[1]} {number}"
        return f"Adjustment {index + 1}"
    if key == "global":
        return "Finishing"
    return key


def _panel_column() -> tuple[QWidget, QVBoxLayout]:
    """The panel's content widget and the column its sections go in (both panels look alike)."""
    inner = QWidget()
    inner.setObjectName("Panel")
    column = QVBoxLayout(inner)
    column.setContentsMargins(14, 6, 12, 12)
    column.setSpacing(2)
    return inner, column


def _scrolling(inner: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setObjectName("Panel")
    area.setWidgetResizable(True)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setWidget(inner)
    return area


class RegionsPanel(QWidget):
    """Region chooser + the sliders of the chosen region (semantic region or control point)."""

    sliderChanged = pyqtSignal(str, float, bool)
    regionSelected = pyqtSignal(str)
    resetRequested = pyqtSignal(str)          # region key
    placePointToggled = pyqtSignal(bool)      # True: the next click on the photo adds a point
    addLocalRequested = pyqtSignal(str)       # "graduated" | "radial"
    removePointRequested = pyqtSignal(int)    # index of the local adjustment to remove

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.region = "sky"
        self._params = Params()
        self._base = Params()

        inner, column = _panel_column()

        column.addWidget(section_title("Region"))
        chips = QGridLayout()
        chips.setSpacing(6)
        self._chip_group = QButtonGroup(self)
        self._chip_group.setExclusive(True)
        self.chips: dict[str, QPushButton] = {}
        for i, region in enumerate(SEMANTIC_REGIONS):
            chip = self._make_chip(region, REGION_LABELS[region])
            chips.addWidget(chip, i // 3, i % 3)
        column.addLayout(chips)

        column.addSpacing(6)
        column.addWidget(section_title("Local adjustments"))
        self._locals_grid = QGridLayout()
        self._locals_grid.setSpacing(6)
        column.addLayout(self._locals_grid)
        add_row = QHBoxLayout()
        add_row.setSpacing(6)
        self.add_point = QPushButton("+ Point")
        self.add_point.setCheckable(True)
        self.add_point.setToolTip("Then click the photo: a control point adjusts similar colours around it")
        self.add_point.toggled.connect(self.placePointToggled)
        self.add_graduated = QPushButton("+ Graduated")
        self.add_graduated.setToolTip("A graduated filter: darken (or lighten) from one edge, e.g. the sky")
        self.add_graduated.clicked.connect(lambda: self.addLocalRequested.emit("graduated"))
        self.add_radial = QPushButton("+ Radial")
        self.add_radial.setToolTip("A radial filter: dodge a centre or, inverted, burn the edges")
        self.add_radial.clicked.connect(lambda: self.addLocalRequested.emit("radial"))
        self.remove_point = QPushButton("Remove")
        self.remove_point.setToolTip("Remove the selected local adjustment")
        self.remove_point.clicked.connect(self._remove_current_point)
        for button in (self.add_point, self.add_graduated, self.add_radial):
            add_row.addWidget(button)
        add_row.addStretch(1)
        add_row.addWidget(self.remove_point)
        column.addLayout(add_row)

        self.rows: dict[str, SliderRow] = {}
        self.geometry_rows: dict[str, dict[str, SliderRow]] = {}
        self._geometry_title = section_title("Shape")
        column.addWidget(self._geometry_title)
        for kind, names in GEOMETRY.items():
            self.geometry_rows[kind] = {}
            for name in names:
                row = SliderRow(f"local0.{name}", LOCAL_KINDS[kind][name])
                row.changed.connect(self._forward)
                self.geometry_rows[kind][name] = row
                column.addWidget(row)
        column.addWidget(section_title("Colour filter"))
        for name in HUE_BANDS:
            column.addWidget(self._row(name, REGION_SLIDER_SPECS[name]))
        column.addWidget(section_title("Tone"))
        for name in TONE:
            column.addWidget(self._row(name, REGION_SLIDER_SPECS[name]))
        column.addWidget(section_title("Detail"))
        for name in DETAIL:
            column.addWidget(self._row(name, REGION_SLIDER_SPECS[name]))

        column.addSpacing(10)
        reset = QPushButton("Reset region")
        reset.setToolTip("Return every slider of this region to the style's values for this photo")
        reset.clicked.connect(lambda: self.resetRequested.emit(self.region))
        self.reset_region = reset
        column.addWidget(reset)
        column.addStretch(1)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(_scrolling(inner))
        self.chips["sky"].setChecked(True)
        self._refresh()

    # -- public API -------------------------------------------------------------------------------
    def show_params(self, params: Params, base: Params) -> None:
        """Display ``params``; resets return to ``base`` (the style's decoded values)."""
        self._params, self._base = params, base
        self._sync_local_chips()
        if self.region.startswith("local") and int(self.region[5:]) >= len(params.local):
            self.select("sky")
            return
        self._refresh()

    def set_coverage(self, coverage: dict[str, float]) -> None:
        """Mark regions the photo barely has (their sliders still work, on a tiny area)."""
        for region, share in coverage.items():
            chip = self.chips.get(region)
            if chip is None:
                continue
            absent = share < 0.005
            chip.setProperty("absent", absent)
            chip.setToolTip(f"{REGION_LABELS[region]}: {share:.0%} of the photo"
                            + (" (not found in this photo)" if absent else ""))
            chip.style().unpolish(chip)
            chip.style().polish(chip)

    def select(self, region: str) -> None:
        if region == self.region and self.chips.get(region, None) and self.chips[region].isChecked():
            return
        self.region = region
        if region in self.chips:
            self.chips[region].setChecked(True)
        self._refresh()
        self.regionSelected.emit(region)

    # -- internals --------------------------------------------------------------------------------
    def _make_chip(self, key: str, text: str) -> QPushButton:
        chip = QPushButton(text)
        chip.setObjectName("Chip")
        chip.setCheckable(True)
        chip.clicked.connect(lambda _=False, k=key: self.select(k))
        self._chip_group.addButton(chip)
        self.chips[key] = chip
        return chip

    def _row(self, name: str, spec) -> SliderRow:  # noqa: ANN001 - params.Slider
        row = SliderRow(f"sky.{name}", spec)
        row.changed.connect(self._forward)
        self.rows[name] = row
        return row

    def _forward(self, key: str, value: float, final: bool) -> None:
        self.sliderChanged.emit(key, value, final)

    def label_for(self, region: str) -> str:
        return region_label(region, self._params)

    def _sync_local_chips(self) -> None:
        """One chip per local adjustment, rebuilt when they change (kinds and order)."""
        wanted = [(f"local{i}", item.get("kind", "point")) for i, item in enumerate(self._params.local)]
        if wanted == getattr(self, "_local_chips", None):
            return
        for key in [k for k in self.chips if k.startswith("local")]:
            chip = self.chips.pop(key)
            self._chip_group.removeButton(chip)
            self._locals_grid.removeWidget(chip)
            chip.deleteLater()
        for i, (key, kind) in enumerate(wanted):
            glyph = LOCAL_LABELS.get(kind, ("•", ""))[0]
            self._locals_grid.addWidget(self._make_chip(key, f"{glyph} {region_label(key, self._params)}"),
                                        i // 3, i % 3)
        self._local_chips = wanted
        if self.region in self.chips:
            self.chips[self.region].setChecked(True)

    def _values_for(self, params: Params, region: str) -> dict:
        if region.startswith("local"):
            index = int(region[5:])
            if index < len(params.local):
                return params.local[index]
            return default_local("point")
        return params.regions[region]

    def _remove_current_point(self) -> None:
        if self.region.startswith("local"):
            self.removePointRequested.emit(int(self.region[5:]))

    def _refresh(self) -> None:
        is_local = self.region.startswith("local")
        values = self._values_for(self._params, self.region)
        kind = values.get("kind", "point") if is_local else None
        # a local adjustment's sliders reset to its kind's defaults (it has no style value)
        base = default_local(kind) if is_local else self._values_for(self._base, self.region)
        rows = list(self.rows.items())
        for geometry_kind, geometry in self.geometry_rows.items():
            for name, row in geometry.items():
                row.setVisible(geometry_kind == kind)
                if geometry_kind == kind:
                    rows.append((name, row))
        for name, row in rows:
            row.key = f"{self.region}.{name}"
            row.set_base(float(base.get(name, row.spec.default)))
            row.set_value(float(values.get(name, row.spec.default)))
        self._geometry_title.setVisible(is_local)
        if is_local:
            self._geometry_title.setText(f"{LOCAL_LABELS.get(kind, ('', kind))[1].upper()} SHAPE")
        self.remove_point.setEnabled(is_local)
        self.reset_region.setText(f"Reset {self.label_for(self.region).lower()}" if is_local else "Reset region")


class GlobalPanel(QWidget):
    """Base mix, grain, vignette and split toning: sliders that act on the whole frame."""

    sliderChanged = pyqtSignal(str, float, bool)
    curveChanged = pyqtSignal(list, bool)
    resetRequested = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from .curve import CurveEditor

        inner, column = _panel_column()
        column.addWidget(section_title("Tone curve"))
        self.curve = CurveEditor()
        self.curve.setFixedHeight(230)
        self.curve.curveChanged.connect(self.curveChanged)
        column.addWidget(self.curve)
        self.rows: dict[str, SliderRow] = {}
        for title, names in GLOBAL_SECTIONS.items():
            column.addWidget(section_title(title))
            for name in names:
                row = SliderRow(f"global.{name}", GLOBAL_SLIDER_SPECS[name])
                row.changed.connect(self.sliderChanged)
                self.rows[name] = row
                column.addWidget(row)
        column.addSpacing(10)
        reset = QPushButton("Reset finishing")
        reset.clicked.connect(lambda: self.resetRequested.emit("global"))
        column.addWidget(reset)
        column.addStretch(1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(_scrolling(inner))

    def show_params(self, params: Params, base: Params) -> None:
        self.curve.set_curve(params.global_["curve"], base.global_["curve"])
        for name, row in self.rows.items():
            row.set_base(float(base.global_[name]))
            row.set_value(float(params.global_[name]))
