"""The companion's main window: gallery | viewer | adjustments, plus bridge sessions and portfolio.

State lives here and flows one way: a slider (or undo, a style click, a control point) changes
``self.params`` → `request_render` asks the render lane for a preview of a *copy* of it → the
result comes back on the UI thread and is painted. Undo steps are recorded when a change is final
(handle released, value typed), so one drag is one undo step.
"""
from __future__ import annotations

import copy
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from silverprint.params import REGION_SLIDERS, Params

from . import document, theme
from .bridge import BridgeController
from .emptystate import EmptyState, recent_files, remember
from .errors import show_error
from .export import ExportDialog, default_video_path, is_original
from .gallery import StyleGallery
from .history import History
from .imageconv import luminance_histogram, mask_to_qimage, to_qimage
from .portfolio import PortfolioPanel
from .qt import (QAction, QActionGroup, QApplication, QColor, QDockWidget, QFileDialog, QFrame,
                 QHBoxLayout, QInputDialog, QKeySequence, QLabel, QMainWindow, QPushButton,
                 QSettings, QStackedWidget, QTabWidget, QTimer, QToolBar, QVBoxLayout, QWidget, Qt,
                 pyqtSignal)
from .regions_panel import GlobalPanel, RegionsPanel
from .taskman import EXPORT, IO, LatestOnly, Op, taskman
from .videobar import VideoBar
from .viewer import AFTER, BEFORE, SPLIT, Histogram, ImageViewer

#: Rubylith red, as Lightroom's mask overlay: reads as "mask" on a grey image, never as toning.
OVERLAY_COLOUR = QColor(theme.OVERLAY)
ICON_COLUMN_WIDTH = 206  # the style gallery: one column of thumbnails
IMAGE_FILTER = "Images (*.jpg *.jpeg *.png *.tif *.tiff *.webp *.dng *.nef *.cr2 *.cr3 *.arw *.raf *.orf *.rw2)"
VIDEO_FILTER = "Videos (" + " ".join(f"*{suffix}" for suffix in document.VIDEO_SUFFIXES) + ")"
OPEN_FILTER = ";;".join(("Photos and videos (" + IMAGE_FILTER[8:-1] + " " + VIDEO_FILTER[8:-1] + ")",
                         IMAGE_FILTER, VIDEO_FILTER))


def companion_settings() -> QSettings:
    """The companion's preferences, in Silverprint's own config folder (one path resolver)."""
    from silverprint.paths import config_dir

    return QSettings(str(config_dir() / "companion.ini"), QSettings.Format.IniFormat)


class MainWindow(QMainWindow):
    """Silverprint's window. Signals are for tests and the latency benchmark."""

    documentOpened = pyqtSignal()
    previewUpdated = pyqtSignal(float)   # seconds from the request to the painted preview
    styleApplied = pyqtSignal(str)
    videoExportProgress = pyqtSignal(int, int)    # frames done, total
    videoExportFinished = pyqtSignal(str, str)    # output path ("" when none), message

    def __init__(self, *, host_service: bool = True, device: str = "auto") -> None:
        super().__init__()
        self.setWindowTitle("Silverprint")
        self.resize(1560, 960)
        self.setAcceptDrops(True)
        self.device = device
        self.doc: document.Document | None = None
        self.video: document.VideoDocument | None = None  # a video is open instead of a photo
        self.last_preview_frame: int | None = None  # the video frame the preview shows
        self._export_cancel: threading.Event | None = None  # set while a video export runs
        self.style_name = document.default_style_name()
        self.base = Params()
        self.params = Params()
        self.history: History[Params] = History(Params())
        self.overlay_on = False
        self.last_preview: Any = None
        self._renderer: LatestOnly = LatestOnly(self._preview_ready, self._failed)
        self._last_final: tuple[str, float] = ("", 0.0)

        self._build_actions()
        self._build_layout()
        self._update_actions()

        self.bridge = None
        self.service = None
        if host_service:
            self._start_bridge()

    # ------------------------------------------------------------------------------------------
    # layout
    def _build_actions(self) -> None:
        def action(text: str, slot, shortcut: Any = None, checkable: bool = False, tip: str = "") -> QAction:
            act = QAction(text, self)
            if shortcut is not None:
                act.setShortcut(QKeySequence(shortcut))
            act.setCheckable(checkable)
            act.setToolTip(tip or text)
            act.triggered.connect(slot)
            return act

        self.act_open = action("Open…", self.choose_file, QKeySequence.StandardKey.Open)
        self.act_export = action("Export…", self.export_dialog, "Ctrl+E")
        self.act_save_style = action("Save as new style…", self.save_style_dialog, "Ctrl+Shift+S")
        self.act_quit = action("Quit", self.close, QKeySequence.StandardKey.Quit)
        self.act_undo = action("Undo", self.undo, QKeySequence.StandardKey.Undo)
        self.act_redo = action("Redo", self.redo, QKeySequence.StandardKey.Redo)
        self.act_fit = action("Fit", lambda: self.viewer.fit(), "Ctrl+0", tip="Fit the photo to the window")
        self.act_100 = action("1:1", lambda: self.viewer.zoom_to(1.0), "Ctrl+1", tip="Actual pixels")
        self.act_overlay = action("Mask", self.toggle_overlay, "M", checkable=True,
                                  tip="Show the selected region's mask over the photo (M)")
        group = QActionGroup(self)
        self.act_after = action("After", lambda: self.set_compare(AFTER), "Y", True, "The B&W result (Y)")
        self.act_split = action("Split", lambda: self.set_compare(SPLIT), "Shift+Y", True,
                                "Before | after with a movable divider (Shift+Y)")
        self.act_before = action("Before", lambda: self.set_compare(BEFORE), "\\", True,
                                 "The colour original (\\)")
        for act in (self.act_after, self.act_split, self.act_before):
            group.addAction(act)
        self.act_after.setChecked(True)

        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        for act in (self.act_open, self.act_export, self.act_save_style):
            file_menu.addAction(act)
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)
        edit = menu.addMenu("&Edit")
        edit.addAction(self.act_undo)
        edit.addAction(self.act_redo)
        view = menu.addMenu("&View")
        for act in (self.act_after, self.act_split, self.act_before, self.act_overlay, self.act_fit,
                    self.act_100):
            view.addAction(act)

        bar = QToolBar("Main")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for act in (self.act_open, self.act_export):
            bar.addAction(act)
        bar.addSeparator()
        for act in (self.act_undo, self.act_redo):
            bar.addAction(act)
        bar.addSeparator()
        for act in (self.act_after, self.act_split, self.act_before):
            bar.addAction(act)
        bar.addSeparator()
        bar.addAction(self.act_overlay)
        bar.addSeparator()
        bar.addAction(self.act_fit)
        bar.addAction(self.act_100)
        spacer = QWidget()
        spacer.setSizePolicy(spacer.sizePolicy().Policy.Expanding, spacer.sizePolicy().Policy.Preferred)
        bar.addWidget(spacer)
        self.style_label = QLabel("")
        self.style_label.setObjectName("PanelTitle")
        bar.addWidget(self.style_label)
        self.addToolBar(bar)

    def _build_layout(self) -> None:
        # left: the style gallery
        self.gallery = StyleGallery()
        self.gallery.styleChosen.connect(self.apply_style)
        gallery_dock = QDockWidget("Styles", self)
        gallery_dock.setObjectName("StylesDock")
        gallery_dock.setFeatures(QDockWidget.DockWidgetFeature.NoDockWidgetFeatures)
        self.gallery_hint = QLabel("Open a photo to see every style on it. A style clicked now is "
                                   "the one the photo opens with.")
        self.gallery_hint.setObjectName("Muted")
        self.gallery_hint.setWordWrap(True)
        self.gallery_hint.setContentsMargins(8, 6, 8, 6)
        gallery_box = QWidget()
        gallery_col = QVBoxLayout(gallery_box)
        gallery_col.setContentsMargins(0, 0, 0, 0)
        gallery_col.setSpacing(0)
        gallery_col.addWidget(self.gallery_hint)
        gallery_col.addWidget(self.gallery, 1)
        gallery_dock.setWidget(gallery_box)
        gallery_dock.setMinimumWidth(ICON_COLUMN_WIDTH)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, gallery_dock)

        # centre: bridge banner above the viewer
        self.viewer = ImageViewer()
        self.viewer.pointPlaced.connect(self.place_point)
        self.viewer.localSelected.connect(lambda i: self.regions.select(f"local{i}"))
        self.viewer.localMoved.connect(self.move_local)
        self.viewer.pickMoved.connect(self.move_pick)
        self.banner = QFrame()
        self.banner.setObjectName("Panel")
        banner_row = QHBoxLayout(self.banner)
        banner_row.setContentsMargins(12, 8, 12, 8)
        self.banner_text = QLabel("")
        self.banner_text.setObjectName("PanelTitle")
        self.bridge_cancel = QPushButton("Cancel")
        self.bridge_apply = QPushButton("Apply")
        self.bridge_apply.setObjectName("Primary")
        banner_row.addWidget(self.banner_text, 1)
        banner_row.addWidget(self.bridge_cancel)
        banner_row.addWidget(self.bridge_apply)
        self.banner.hide()
        centre = QWidget()
        centre_col = QVBoxLayout(centre)
        centre_col.setContentsMargins(0, 0, 0, 0)
        centre_col.setSpacing(0)
        centre_col.addWidget(self.banner)
        centre_col.addWidget(self.viewer, 1)
        self.videobar = VideoBar()
        self.videobar.frameChanged.connect(lambda _index: self.request_render())
        self.videobar.cancelRequested.connect(self.cancel_video_export)
        self.videobar.hide()
        centre_col.addWidget(self.videobar)
        self.setCentralWidget(centre)

        # right: histogram + tabs
        self.histogram = Histogram()
        self.regions = RegionsPanel()
        self.regions.sliderChanged.connect(self.on_slider)
        self.regions.regionSelected.connect(self._region_selected)
        self.regions.resetRequested.connect(self.reset_region)
        self.regions.placePointToggled.connect(self.viewer.set_placing)
        self.regions.removePointRequested.connect(self.remove_point)
        self.regions.addLocalRequested.connect(self.add_local)
        self.finish = GlobalPanel()
        self.finish.sliderChanged.connect(self.on_slider)
        self.finish.curveChanged.connect(self.on_curve)
        self.finish.resetRequested.connect(self.reset_region)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.regions, "Regions")
        self.tabs.addTab(self.finish, "Finish")
        self.portfolio = PortfolioPanel()
        self.portfolio.styleLearned.connect(self._style_learned)
        self.styleApplied.connect(lambda name: self.portfolio.explain_photo(self.doc, name))
        self.tabs.addTab(self.portfolio, "Portfolio")
        side = QWidget()
        side.setObjectName("Panel")
        side_col = QVBoxLayout(side)
        side_col.setContentsMargins(8, 8, 8, 0)
        side_col.setSpacing(6)
        self.info = QLabel("")
        self.info.setObjectName("Muted")
        side_col.addWidget(self.histogram)
        side_col.addWidget(self.info)
        # no photo yet: how to open one (and the recent ones) instead of sliders that all read 0
        self.empty = EmptyState()
        self.empty.openRequested.connect(self.choose_file)
        self.empty.recentChosen.connect(self.open_path)
        self.empty.portfolioRequested.connect(self._show_portfolio)
        self.side_stack = QStackedWidget()
        self.side_stack.addWidget(self.empty)
        self.side_stack.addWidget(self.tabs)
        self._portfolio_wanted = False
        side_col.addWidget(self.side_stack, 1)
        side_dock = QDockWidget("Adjust", self)
        side_dock.setObjectName("AdjustDock")
        side_dock.setFeatures(QDockWidget.DockWidgetFeature.NoDockWidgetFeatures)
        side_dock.setTitleBarWidget(QWidget())
        side_dock.setWidget(side)
        side_dock.setMinimumWidth(380)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, side_dock)
        self.resizeDocks([gallery_dock, side_dock], [ICON_COLUMN_WIDTH, 400], Qt.Orientation.Horizontal)

        self.status = self.statusBar()
        self.status_zoom = QLabel("")
        self.status_zoom.setObjectName("Muted")
        self.status_service = QLabel("")
        self.status_service.setObjectName("Muted")
        self.status.addPermanentWidget(self.status_zoom)
        self.status.addPermanentWidget(self.status_service)
        self.viewer.zoomChanged.connect(
            lambda scale: self.status_zoom.setText(f"{scale:.0%}" if self.viewer._scale else f"Fit ({scale:.0%})"))
        self.gallery.load_styles()
        self.gallery.select_name(self.style_name)
        self.style_label.setText(self.style_name)

    # ------------------------------------------------------------------------------------------
    # status
    def show_status(self, text: str, *, error: bool = False, timeout_ms: int = 6000) -> None:
        self.status.setStyleSheet(f"color: {'#e07a6a' if error else theme.MUTED};")
        self.status.showMessage(text, timeout_ms)

    def _update_empty_state(self) -> None:
        """Sliders only for an open photo or video; otherwise the empty state (or the portfolio)."""
        has_media = self.doc is not None or self.video is not None
        for panel in (self.regions, self.finish):
            self.tabs.setTabEnabled(self.tabs.indexOf(panel), has_media)
        if not has_media:
            self.empty.set_recent(recent_files(companion_settings()))
            if self._portfolio_wanted:
                self.tabs.setCurrentWidget(self.portfolio)
        self.side_stack.setCurrentWidget(self.tabs if has_media or self._portfolio_wanted else self.empty)
        self.gallery_hint.setVisible(self.doc is None)

    def _show_portfolio(self) -> None:
        self._portfolio_wanted = True
        self._update_empty_state()

    def _remember(self, path: Path | None) -> None:
        if path is not None:
            try:
                remember(companion_settings(), path)
            except OSError:
                pass  # a convenience: never fail opening a photo over it

    def _update_actions(self) -> None:
        self._update_empty_state()
        has_doc = self.doc is not None
        has_video = self.video is not None
        for act in (self.act_save_style, self.act_overlay):
            act.setEnabled(has_doc)
        for act in (self.act_fit, self.act_100):
            act.setEnabled(has_doc or has_video)
        self.act_export.setEnabled(has_doc or (has_video and self._export_cancel is None))
        for act in (self.act_split, self.act_before):  # a video frame has no colour "before" here
            act.setEnabled(not has_video)
        self.act_undo.setEnabled(self.history.can_undo())
        self.act_redo.setEnabled(self.history.can_redo())
        # the menu names the step; the toolbar button keeps its one-word icon text (and so its width)
        for act, word, label in ((self.act_undo, "Undo", self.history.undo_label()),
                                 (self.act_redo, "Redo", self.history.redo_label())):
            act.setText(f"{word} {label}".strip())
            act.setIconText(word)
            act.setToolTip(f"{word} {label}".strip())

    # ------------------------------------------------------------------------------------------
    # documents
    def choose_file(self) -> None:
        settings = companion_settings()
        start = str(settings.value("last_folder", str(Path.home())))
        path, _ = QFileDialog.getOpenFileName(self, "Open a photo or a video", start, OPEN_FILTER)
        if path:
            settings.setValue("last_folder", str(Path(path).parent))
            self.open_path(path)

    def open_path(self, path: str | os.PathLike) -> None:
        if document.is_video(path):
            self.open_video(path)
            return
        name = Path(path).name
        self.show_status(f"Opening {name}…", timeout_ms=0)
        self.viewer.set_busy(f"Finding the regions of {name}…")

        Op(self, lambda: document.open_file(path, device=self.device)).success(self.set_document) \
            .failure(self._failed).run_in_background()

    def set_document(self, doc: document.Document, *, style: str | None = None) -> None:
        """Show a loaded document and apply the current (or given) style to it."""
        self._renderer.invalidate()
        self.viewer.set_busy("")
        self._close_video()
        self.doc = doc
        self.viewer.set_images(to_qimage(doc.before), None)
        self.viewer.fit()
        self.status_zoom.setText(f"Fit ({self.viewer.scale():.0%})")
        self._show_info()
        self.setWindowTitle(f"{doc.name} — Silverprint")
        self.gallery.refresh(doc)
        self._remember(doc.source)
        self._update_empty_state()
        coverage = document.region_coverage(doc)
        self.regions.set_coverage(coverage)
        if coverage.get(self.regions.region, 1.0) < 0.005:  # e.g. "sky" on an indoor portrait
            self.regions.select(max(coverage, key=coverage.get))
        self.apply_style(style or self.style_name, record=False)
        self.documentOpened.emit()

    def apply_style(self, name: str, *, record: bool = True) -> None:
        """Decode ``name`` for this photo: its values become the sliders' base (reset target)."""
        self.style_name = name
        self.style_label.setText(name)
        self.gallery.select_name(name)
        if self.video is not None:
            self._apply_video_style(name, record=record)
            return
        if self.doc is None:
            return
        doc = self.doc

        def decode() -> tuple[Params, dict[str, float]]:
            return document.style_params(doc, name), document.subject_reading(doc, name)

        def done(result: tuple[Params, dict[str, float]]) -> None:
            base, reading = result
            if doc is not self.doc:
                return
            self._show_info(reading)
            self._take_style(base, name, record)

        Op(self, decode).success(done).run_in_background()

    def _take_style(self, base: Params, name: str, record: bool) -> None:
        """Make a style's decoded sliders the current ones (an undo step, or a fresh history)."""
        self.base = base
        self.params = base.copy()
        if record:
            self.history.push(self.params.copy(), f"style {name}")
        else:
            self.history = History(self.params.copy(), f"open with {name}")
        self._params_changed()
        self.styleApplied.emit(name)
        self.show_status(f"Style {name}")

    def _show_info(self, reading: dict[str, float] | None = None) -> None:
        """File facts, and which of the style's subjects this photo reads as (when it has any)."""
        if self.doc is None:
            return
        w, h = self.doc.size
        text = f"{self.doc.name}  ·  {w}×{h}  ·  {self.doc.bit_depth}-bit"
        strong = sorted(((v, k) for k, v in (reading or {}).items() if v >= 0.15), reverse=True)[:2]
        if strong:
            text += "  ·  reads as " + ", ".join(f"{k} {v:.0%}" for v, k in strong)
        self.info.setText(text)

    # ------------------------------------------------------------------------------------------
    # editing
    def on_slider(self, key: str, value: float, final: bool) -> None:
        try:
            self.params.set(key, value)
        except Exception as exc:  # noqa: BLE001 - an out-of-range typed value
            show_error(parent=self, exc=exc)
            return
        self.request_render(fast=not final)
        if final:
            region, name = key.split(".", 1)
            now = time.monotonic()
            # repeated steps of one slider within a moment (arrow key held) are one undo step
            merge = key == self._last_final[0] and now - self._last_final[1] < 1.0
            self._last_final = (key, now)
            self.history.push(self.params.copy(), f"{self.regions.label_for(region)} {name}", merge=merge)
            self._update_actions()

    def on_curve(self, values: list, final: bool) -> None:
        self.params.set("global.curve", values)
        self.request_render(fast=not final)
        if final:
            self.history.push(self.params.copy(), "tone curve")
            self._update_actions()

    def reset_region(self, region: str) -> None:
        if region == "global":
            self.params.global_ = copy.deepcopy(self.base.global_)
            label = "reset finishing"
        elif region.startswith("local"):
            # tone and colour back to neutral; the shape and position stay where the user put them
            point = self.params.local[int(region[5:])]
            defaults = document.default_local(point["kind"])
            for name in REGION_SLIDERS:
                point[name] = defaults[name]
            label = f"reset {self.regions.label_for(region)}"
        else:
            self.params.regions[region] = dict(self.base.regions[region])
            label = f"reset {self.regions.label_for(region)}"
        self.history.push(self.params.copy(), label)
        self._params_changed()

    def place_point(self, x: float, y: float) -> None:
        if self._photo_only("Control points"):
            return
        self.params = document.add_point(self.params, x, y)
        index = len(self.params.local) - 1
        self.history.push(self.params.copy(), "add control point")
        self.regions.add_point.setChecked(False)
        self._params_changed()
        self.regions.select(f"local{index}")

    def add_local(self, kind: str) -> None:
        """Add a graduated or radial filter with its default shape, and select it."""
        if self._photo_only("Graduated and radial filters"):
            return
        self.params = self.params.copy()
        self.params.local.append(document.default_local(kind))
        self.history.push(self.params.copy(), f"add {kind} filter")
        self._params_changed()
        self.regions.select(f"local{len(self.params.local) - 1}")

    def remove_point(self, index: int) -> None:
        if 0 <= index < len(self.params.local):
            self.params = self.params.copy()
            del self.params.local[index]
            self.history.push(self.params.copy(), f"remove {self.regions.label_for(f'local{index}')}")
            self._params_changed()
            self.regions.select("sky")

    def undo(self) -> None:
        state = self.history.undo()
        if state is not None:
            self.params = state.copy()
            self._params_changed()

    def redo(self) -> None:
        state = self.history.redo()
        if state is not None:
            self.params = state.copy()
            self._params_changed()

    def _params_changed(self) -> None:
        """The whole parameter set changed (style, undo, reset): refresh panels and preview."""
        self.regions.show_params(self.params, self.base)
        self.finish.show_params(self.params, self.base)
        self._sync_points()
        self._update_actions()
        self.request_render()
        if self.overlay_on:
            self._show_overlay()

    def _sync_points(self) -> None:
        """Show the local adjustments' handles (and the selected one's shape) on the photo."""
        region = self.regions.region
        selected = int(region[5:]) if region.startswith("local") else -1
        self.viewer.set_locals(self.params.local, selected)

    def move_local(self, index: int, x: float, y: float, final: bool) -> None:
        """A handle dragged on the photo: move that adjustment (one undo step per drag)."""
        self._drag_local(index, ("x", "y"), (x, y), final, "move")

    def move_pick(self, index: int, x: float, y: float, final: bool) -> None:
        """A filter's eyedropper dragged on the photo: its colour range picks the colour there."""
        self._drag_local(index, ("pick_x", "pick_y"), (x, y), final, "pick colour for")

    def _drag_local(self, index: int, keys: tuple[str, str], values: tuple[float, float], final: bool,
                    verb: str) -> None:
        if not 0 <= index < len(self.params.local):
            return
        self.params.local[index].update(zip(keys, values))
        self.request_render(fast=not final)
        if final:
            self.history.push(self.params.copy(), f"{verb} {self.regions.label_for(f'local{index}')}")
            self.regions.show_params(self.params, self.base)
            self._update_actions()
            if self.overlay_on:
                self._show_overlay()

    # ------------------------------------------------------------------------------------------
    # rendering
    def request_render(self, *, fast: bool = False) -> None:
        """Ask for a preview of the current params; drags coalesce to the newest request.

        ``fast`` (while a handle is dragged) renders the smaller drag preview; the release that
        ends the drag asks for the full preview.
        """
        if self.video is not None:
            self._request_video_frame()
            return
        if self.doc is None:
            return
        doc, params = self.doc, self.params.copy()
        requested = time.perf_counter()

        def work() -> tuple[float, Any, Any, Any, None]:
            image = document.render_preview(doc, params, fast=fast)
            # display conversion off the UI thread too (QImage is safe to build in any thread)
            return requested, image, to_qimage(image), luminance_histogram(image), None

        self._sync_points()  # a control point's radius may have changed
        self._renderer.request(work)

    def _preview_ready(self, result: tuple[float, Any, Any, Any, int | None]) -> None:
        requested, image, qimage, counts, frame = result
        self.last_preview = image
        self.last_preview_frame = frame
        if frame is not None:
            self.viewer.set_busy("")
        self.viewer.set_after(qimage)
        self.histogram.set_counts(counts)
        self.viewer.repaint()  # paint now, so the signal below means "on screen"
        elapsed = time.perf_counter() - requested
        self.previewUpdated.emit(elapsed)

    def _failed(self, exc: Exception) -> None:
        """A load or render went wrong: stop the busy note and say why."""
        self.viewer.set_busy("")
        show_error(parent=self, exc=exc)

    # ------------------------------------------------------------------------------------------
    # viewer modes
    def set_compare(self, mode: str) -> None:
        self.viewer.set_mode(mode)
        {AFTER: self.act_after, SPLIT: self.act_split, BEFORE: self.act_before}[mode].setChecked(True)

    def toggle_overlay(self, on: bool | None = None) -> None:
        self.overlay_on = self.act_overlay.isChecked() if on is None else bool(on)
        self.act_overlay.setChecked(self.overlay_on)
        if self.overlay_on:
            self._show_overlay()
        else:
            self.viewer.set_overlay(None)

    def _region_selected(self, region: str) -> None:
        self._sync_points()
        if self.overlay_on:
            self._show_overlay()

    def _show_overlay(self) -> None:
        if self.doc is None:
            return
        doc, region, params = self.doc, self.regions.region, self.params.copy()

        def done(mask: Any) -> None:
            if doc is self.doc and self.overlay_on and region == self.regions.region:
                self.viewer.set_overlay(mask_to_qimage(mask, OVERLAY_COLOUR))

        Op(self, lambda: document.region_mask(doc, region, params)).success(done).run_in_background()

    # ------------------------------------------------------------------------------------------
    # export and styles
    def export_dialog(self) -> None:
        if self.video is not None:
            self.export_video_dialog()
            return
        if self.doc is None:
            return
        dialog = ExportDialog(self.doc.source, self.doc.name, self.doc.bit_depth, self)
        if dialog.exec():
            self.export_to(dialog.destination(), dialog.fmt)

    def export_to(self, dst: Path, fmt: str) -> None:
        doc, params = self.doc, self.params.copy()
        self.show_status(f"Exporting {dst.name}…", timeout_ms=0)
        Op(self, lambda: document.export(doc, params, dst, fmt)).success(
            lambda path: self.show_status(f"Saved {path}")).on_lane(EXPORT).run_in_background()

    def save_style_dialog(self) -> None:
        name, ok = QInputDialog.getText(self, "Save as new style", "Name of the new style:")
        if ok and name.strip():
            self.save_style(name.strip())

    def save_style(self, name: str) -> None:
        parent, params = self.style_name, self.params.copy()

        def saved(path: Path) -> None:
            self.gallery.load_styles()
            self.gallery.refresh(self.doc)
            self.style_name = name
            self.base = params.copy()
            self.gallery.select_name(name)
            self.style_label.setText(name)
            self._params_changed()
            self.show_status(f"Saved style {name} ({path})")

        Op(self, lambda: document.save_as_style(parent, params, name)).success(saved).on_lane(IO).run_in_background()

    def _style_learned(self, name: str) -> None:
        self.gallery.load_styles()
        self.gallery.refresh(self.doc)
        self.show_status(f"Learned style {name}: it is in the gallery")

    # ------------------------------------------------------------------------------------------
    # video: scrub, preview a frame with the style, export the whole clip (all through
    # silverprint.video via `document`; the smoothing makes a preview match the export)
    def open_video(self, path: str | os.PathLike) -> None:
        name = Path(path).name
        self.show_status(f"Opening {name}…", timeout_ms=0)

        Op(self, lambda: document.open_video(path, device=self.device)).success(self.set_video) \
            .failure(self._failed).on_lane(IO).run_in_background()

    def set_video(self, video: document.VideoDocument) -> None:
        """Show an opened video at its first frame with the current style."""
        self._renderer.invalidate()
        self.doc = None
        self.video = video
        self.last_preview = None
        self.last_preview_frame = None
        self.viewer.set_images(None, None)
        self.viewer.set_overlay(None)
        self.viewer.set_busy(f"Rendering the first frame of {video.name}…")
        self.toggle_overlay(False)
        self.set_compare(AFTER)  # no colour "before" is decoded for a video frame
        self.videobar.set_video(video.frames, video.fps)
        self.videobar.show()
        self.gallery.refresh(None)  # thumbnails are of photos; a stale set is dropped
        w, h = video.size
        self.info.setText(f"{video.name}  ·  {w}×{h}  ·  {video.fps:.3g} fps  ·  {video.frames} frames")
        self.setWindowTitle(f"{video.name} — Silverprint")
        self.viewer.fit()
        self._remember(video.source)
        self._update_actions()
        self.apply_style(self.style_name, record=False)
        self.documentOpened.emit()

    def _close_video(self) -> None:
        if self.video is not None:
            self.video = None
            self.last_preview_frame = None
            self.videobar.hide()

    def _photo_only(self, what: str) -> bool:
        if self.video is None:
            return False
        self.regions.add_point.setChecked(False)
        self.show_status(f"{what} are for photos; a video takes the style and the region sliders")
        return True

    def _apply_video_style(self, name: str, *, record: bool) -> None:
        """A video's sliders start from the style's own values; frames decode the style themselves."""
        video = self.video

        def done(base: Params) -> None:
            if video is not self.video:
                return
            self._take_style(base, name, record)

        Op(self, lambda: document.style_base(name)).success(done).on_lane(IO).run_in_background()

    def _request_video_frame(self) -> None:
        """Preview the scrubber's frame; a scrub coalesces to the newest frame (`LatestOnly`)."""
        video, index, style = self.video, self.videobar.frame, self.style_name
        overrides = document.video_overrides(self.base, self.params)
        requested = time.perf_counter()

        def work() -> tuple[float, Any, Any, Any, int]:
            image = document.render_video_frame(video, index, style, overrides)
            return requested, image, to_qimage(image), luminance_histogram(image), index

        self._renderer.request(work)

    def export_video_dialog(self) -> None:
        if self.video is None:
            return
        source = self.video.source
        chosen, _ = QFileDialog.getSaveFileName(self, "Export black & white video",
                                                str(default_video_path(source)),
                                                "Videos (*.mp4 *.mov *.mkv *.webm)")
        if chosen:
            self.export_video_to(Path(chosen))

    def export_video_to(self, dst: Path) -> None:
        """Convert the whole video in the background, with progress and Cancel in the video bar."""
        if self.video is None or self._export_cancel is not None:
            return
        if is_original(dst, self.video.source):
            self.show_status("That is the original video: Silverprint never writes over it.", error=True)
            return
        video, style = self.video, self.style_name
        overrides = document.video_overrides(self.base, self.params)
        cancel = threading.Event()
        self._export_cancel = cancel
        self.videobar.set_exporting(True)
        self._update_actions()
        self.show_status(f"Exporting {dst.name}…", timeout_ms=0)

        def progress(done: int, total: int) -> None:  # on the export thread
            taskman().run_on_main(lambda: self._video_progress(done, total))

        def finished(path: str, message: str) -> None:
            self._export_cancel = None
            self.videobar.set_exporting(False)
            self._update_actions()
            self.show_status(message, error=not path and not cancel.is_set())
            self.videoExportFinished.emit(path, message)

        def failed(exc: Exception) -> None:
            from silverprint.video import VideoCancelled

            if isinstance(exc, VideoCancelled):
                finished("", f"Export of {dst.name} cancelled; nothing was written")
            else:
                show_error(parent=self, exc=exc)
                finished("", f"Export of {dst.name} failed")

        Op(self, lambda: document.export_video(video, dst, style, overrides, progress=progress,
                                               cancel=cancel)) \
            .success(lambda path: finished(str(path), f"Saved {path}")).failure(failed) \
            .on_lane(EXPORT).run_in_background()

    def _video_progress(self, done: int, total: int) -> None:
        self.videobar.set_progress(done, total)
        self.videoExportProgress.emit(done, total)

    def cancel_video_export(self) -> None:
        if self._export_cancel is not None:
            self._export_cancel.set()
            self.videobar.cancel.setEnabled(False)
            self.show_status("Cancelling the export…", timeout_ms=0)

    # ------------------------------------------------------------------------------------------
    # bridge sessions and the hosted service
    def _start_bridge(self) -> None:
        self.bridge = BridgeController(self)
        self.bridge.start()

    def dragEnterEvent(self, event) -> None:  # noqa: N802, ANN001
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802, ANN001
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files:
            self.open_path(files[0])

    def closeEvent(self, event) -> None:  # noqa: N802, ANN001
        if self._export_cancel is not None:
            self._export_cancel.set()  # the conversion removes its temporary file
        if self.bridge is not None:
            self.bridge.stop()
        super().closeEvent(event)



def _quit_on_signals(window: MainWindow) -> None:
    """Close the window (stopping the hosted service, removing service.json) on SIGINT / SIGTERM.

    Qt's event loop does not run Python signal handlers by itself: a short timer lets them in.
    """
    import signal

    from .qt import QTimer

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: window.close())
    timer = QTimer(window)
    timer.timeout.connect(lambda: None)
    timer.start(250)


def main(argv: list[str] | None = None) -> int:
    """``silverprint gui [FILE] [--device D] [--no-service]``."""
    import argparse

    parser = argparse.ArgumentParser(prog="silverprint gui")
    parser.add_argument("file", nargs="?")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--no-service", action="store_true")
    parser.add_argument("--smoke", action="store_true")
    args, qt_args = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    app = QApplication.instance() or QApplication([sys.argv[0], *qt_args])
    app.setApplicationName("Silverprint")
    app.setOrganizationName("Silverprint")
    theme.apply_theme(app)
    window = MainWindow(host_service=not args.no_service, device=args.device)
    window.show()
    _quit_on_signals(window)
    if args.smoke:
        _smoke(window)
    if args.file:
        window.open_path(args.file)
    code = app.exec()
    taskman().shutdown(wait=False)
    return code


def _smoke(window: MainWindow, *, limit_s: float = 60.0) -> None:
    """Quit once the window is really on screen: a check that the platform plug-in and the display
    work, printing ``smoke: PLATFORM WIDTHxHEIGHT`` (exit 0), or exit 3 if it never shows."""
    started = time.monotonic()

    def poll() -> None:
        handle = window.windowHandle()
        if window.isVisible() and handle is not None and handle.isExposed():
            print(f"smoke: {QApplication.platformName()} {window.width()}x{window.height()}", flush=True)
            window.close()
            QApplication.exit(0)
        elif time.monotonic() - started > limit_s:
            print(f"smoke: the window was not shown within {limit_s:.0f} s", file=sys.stderr, flush=True)
            window.close()
            QApplication.exit(3)
        else:
            QTimer.singleShot(50, poll)

    QTimer.singleShot(0, poll)
