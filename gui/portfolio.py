"""Portfolio panel: point Silverprint at a folder of your own (colour, B&W) edits and learn your style.

Pairing and learning are the core's (`silverprint.learn`); this panel chooses the folder, shows the
pairs and why files were skipped, runs learning on the task manager's learn lane with a progress bar
(and a Cancel), re-learns when the folder changes while *Watch* is on, and plots how closely each
run's style matches the edits it was not fitted on (see `match`), so the photographer sees the
style getting closer to their own edits; and says, for the open photo, what the current style
decided for it and why (`explain_view`, words from `silverprint.learn.explain`).
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from . import theme
from .qt import (QCheckBox, QColor, QFileDialog, QFileSystemWatcher, QFont, QHBoxLayout,
                 QHeaderView, QLabel, QLineEdit, QPainter, QPainterPath, QPen, QPointF,
                 QProgressBar, QPushButton, QRectF, QTableWidget, QTableWidgetItem, QTimer,
                 QVBoxLayout, QWidget, Qt, pyqtSignal)
from .explain_view import ExplainSection
from .match import match_percent, match_words, photos
from .regions_panel import section_title
from .taskman import IO, LEARN, Op, taskman

STATUS_COLOURS = {"paired": theme.TEXT, "fitted": "#8fc28a", "held out": "#7fb0d8",
                  "skipped": "#d49a6a"}


def _history_file() -> Path:
    from silverprint.paths import data_dir

    # "-match": the points are match percentages (the older companion-portfolios.json held PSNR)
    return data_dir() / "companion-portfolios-match.json"


def load_history(folder: Path) -> list[tuple[int, float]]:
    """Earlier (pairs, match %) points of this portfolio, so the plot spans sessions."""
    import json

    try:
        data = json.loads(_history_file().read_text())
    except (OSError, ValueError):
        return []
    points = data.get(str(folder.resolve()), []) if isinstance(data, dict) else []
    return [(int(p[0]), float(p[1])) for p in points if isinstance(p, list) and len(p) == 2]


def save_history(folder: Path, points: list[tuple[int, float]]) -> None:
    """Atomically record the plot's points for ``folder`` (temp file + rename)."""
    import json

    from silverprint.fileio import atomic_path

    path = _history_file()
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict):
            data = {}
    except (OSError, ValueError):
        data = {}
    data[str(folder.resolve())] = [list(p) for p in points[-100:]]
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data))


class LearningCancelled(Exception):
    """Raised from the progress callback once the user pressed Cancel."""


class MatchPlot(QWidget):
    """How closely each learning run matches the held-out edits (%), with a plain grey conversion's
    match for reference."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(150)
        self.points: list[tuple[int, float]] = []   # (pairs learned from, match %)
        self.baseline: float | None = None

    def add_point(self, pairs: int, percent: float) -> None:
        self.points.append((int(pairs), float(percent)))
        self.update()

    def set_baseline(self, percent: float | None) -> None:
        self.baseline = percent
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802, ANN001
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("#1a1b1d"))
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(1, 1, -1, -1), 5, 5)
        small = QFont(painter.font())
        small.setPointSizeF(8)
        painter.setFont(small)
        area = QRectF(self.rect()).adjusted(40, 24, -14, -24)
        values = [p for _, p in self.points] + ([self.baseline] if self.baseline else [])
        if not values:
            painter.setPen(QColor(theme.MUTED))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                             "How closely the style matches your edits appears here after learning")
            painter.end()
            return
        lo = min(values) - 1.0
        hi = max(values) + 1.0
        lo, hi = max(0.0, float(int(lo))), min(100.0, float(int(hi) + 1))  # a percentage
        if hi <= lo:
            lo = hi - 1.0

        def y_of(v: float) -> float:
            return area.bottom() - (v - lo) / (hi - lo) * area.height()

        n = len(self.points)

        inner = area.adjusted(28, 0, -28, 0)  # keep the end points' labels inside the plot

        def x_of(i: int) -> float:
            return inner.center().x() if n == 1 else inner.left() + i / (n - 1) * inner.width()

        painter.setPen(QPen(QColor(255, 255, 255, 22), 1))
        step = max(1.0, round((hi - lo) / 4))
        v = lo
        while v <= hi + 1e-6:
            painter.drawLine(QPointF(area.left(), y_of(v)), QPointF(area.right(), y_of(v)))
            painter.setPen(QColor(theme.MUTED))
            painter.drawText(QRectF(0, y_of(v) - 8, 34, 16),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"{v:g}")
            painter.setPen(QPen(QColor(255, 255, 255, 22), 1))
            v += step
        painter.setPen(QColor(theme.MUTED))
        painter.drawText(QRectF(area.left(), area.bottom() + 4, area.width(), 16),
                         Qt.AlignmentFlag.AlignCenter, "each learning run, oldest → newest")
        if self.baseline is not None:
            painter.setPen(QPen(QColor(theme.MUTED), 1, Qt.PenStyle.DashLine))
            y = y_of(self.baseline)
            painter.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))
            painter.drawText(QRectF(area.left() + 4, y - 16, area.width(), 14),
                             Qt.AlignmentFlag.AlignLeft, "plain grey conversion")
        path = QPainterPath()
        for i, (_pairs, value) in enumerate(self.points):
            point = QPointF(x_of(i), y_of(value))
            path.moveTo(point) if i == 0 else path.lineTo(point)
        painter.setPen(QPen(QColor(theme.ACCENT), 2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)
        for i, (pairs, value) in enumerate(self.points):
            point = QPointF(x_of(i), y_of(value))
            painter.setBrush(QColor(theme.ACCENT))
            painter.setPen(QPen(QColor("#1a1b1d"), 2))
            painter.drawEllipse(point, 4.5, 4.5)
            painter.setPen(QColor(theme.TEXT))
            if i == n - 1 or n <= 6:
                label = QRectF(point.x() - 58, point.y() - 22, 116, 14)
                label.moveLeft(max(area.left(), min(area.right() - 116, label.left())))
                painter.drawText(label, Qt.AlignmentFlag.AlignCenter, f"{value:.0f} % · {photos(pairs)}")
        painter.end()


#: Share of the progress bar each of the learner's stages takes (their typical share of the time).
STAGE_WEIGHTS = {"prepare": 0.25, "fit style": 0.40, "fit pairs": 0.15, "evaluate": 0.20}
STAGE_TEXT = {"prepare": "Reading and checking pairs", "fit style": "Fitting the style",
              "fit pairs": "Fitting each pair", "evaluate": "Trying it on photos it has not seen"}


def progress_fraction(stage: str, done: int, total: int) -> float:
    """Overall progress from the learner's (stage, done, total) reports."""
    order = list(STAGE_WEIGHTS)
    if stage not in STAGE_WEIGHTS:
        return -1.0
    before = sum(STAGE_WEIGHTS[s] for s in order[:order.index(stage)])
    within = done / total if total else 1.0
    return min(1.0, before + STAGE_WEIGHTS[stage] * max(0.0, min(1.0, within)))


def _style_entry(report: dict[str, Any]) -> dict[str, Any]:
    """The learned style's entry in `learn_portfolio`'s report (the panel learns one style)."""
    return report["styles"][0]


def heldout_match(report: dict[str, Any]) -> float | None:
    """How closely (%) the learned style matches the held-out edits; None when none were held out."""
    held = _style_entry(report).get("heldout")
    return match_percent(held["style"]["ssim"]) if held else None


def baseline_match(report: dict[str, Any]) -> float | None:
    """The same for a plain grey conversion (Rec.709 luminance) of the same photos, for reference."""
    held = _style_entry(report).get("heldout")
    return match_percent(held["baselines"]["rec709"]["ssim"]) if held else None


class PortfolioPanel(QWidget):
    """Folder, watch, pairs with status, progress, how-well-it-matches plot, Learn now."""

    styleLearned = pyqtSignal(str)
    learningFinished = pyqtSignal(object)   # learn_portfolio's report (a dict)
    learningFailed = pyqtSignal(str)        # the one-line reason (or "cancelled")
    pairsListed = pyqtSignal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folder: Path | None = None
        self.result: dict[str, Any] | None = None  # the last learn_portfolio report
        self._cancel = threading.Event()
        self._learning = False
        self._watcher = QFileSystemWatcher(self)
        self._watcher.directoryChanged.connect(self._folder_changed)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(3000)
        self._debounce.timeout.connect(self._relearn)

        column = QVBoxLayout(self)
        column.setContentsMargins(14, 6, 12, 12)
        column.setSpacing(6)
        column.addWidget(section_title("Portfolio"))
        row = QHBoxLayout()
        self.folder_label = QLabel("No folder chosen")
        self.folder_label.setObjectName("Muted")
        self.folder_label.setWordWrap(True)
        choose = QPushButton("Choose folder…")
        choose.clicked.connect(self.choose_folder)
        row.addWidget(self.folder_label, 1)
        row.addWidget(choose)
        column.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(QLabel("Style name"))
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("my-style")
        row.addWidget(self.name_edit, 1)
        column.addLayout(row)
        row = QHBoxLayout()
        self.watch = QCheckBox("Watch folder")
        self.watch.setToolTip("Learn again whenever new edits appear in the folder")
        self.watch.toggled.connect(self._watch_toggled)
        self.learn_button = QPushButton("Learn now")
        self.learn_button.setObjectName("Primary")
        self.learn_button.clicked.connect(lambda: self.learn_now())
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        row.addWidget(self.watch)
        row.addStretch(1)
        row.addWidget(self.cancel_button)
        row.addWidget(self.learn_button)
        column.addLayout(row)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(6)
        self.stage = QLabel("")
        self.stage.setObjectName("Muted")
        column.addWidget(self.progress)
        column.addWidget(self.stage)

        column.addWidget(section_title("How well it matches your edits"))
        self.plot = MatchPlot()
        column.addWidget(self.plot)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        column.addWidget(self.summary)
        self.why = ExplainSection()
        column.addWidget(self.why)

        column.addWidget(section_title("Pairs"))
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Photo", "Status", "Note"])
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        column.addWidget(self.table, 1)
        self._update_buttons()

    # -- the open photo -------------------------------------------------------------------------
    def explain_photo(self, doc: Any, style_name: str) -> None:
        """Show what ``style_name`` decided for the open photo ``doc`` (None: no photo), and why."""
        self.why.explain(doc, style_name)

    # -- folder ---------------------------------------------------------------------------------
    def choose_folder(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Portfolio folder", str(self.folder or Path.home()))
        if chosen:
            self.set_folder(chosen)

    def set_folder(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder_label.setText(str(self.folder))
        self.folder_label.setToolTip(str(self.folder))
        if not self.name_edit.text().strip():
            self.name_edit.setText(self.folder.name[:60] or "my-style")
        self._watch_toggled(self.watch.isChecked())
        self.plot.points = load_history(self.folder)
        self.plot.update()
        self.list_pairs()

    def list_pairs(self) -> None:
        if self.folder is None:
            return
        folder = self.folder

        def pairs() -> Any:
            from silverprint.learn.pairing import find_pairs

            return find_pairs(folder)

        Op(self, pairs).success(self._show_pairing).on_lane(IO).run_in_background()

    def _show_pairing(self, pairing: Any) -> None:
        rows = [(p.name, "paired", f"matched by {p.matched_by}") for p in pairing.pairs]
        rows += [(Path(s.path).name, "skipped", s.reason) for s in pairing.skipped]
        self._fill(rows)
        self.stage.setText(f"{len(pairing.pairs)} pairs, {len(pairing.skipped)} files skipped "
                           f"({pairing.layout})")
        self.pairsListed.emit(len(pairing.pairs))
        self._update_buttons()

    def _fill(self, rows: list[tuple[str, str, str]]) -> None:
        self.table.setRowCount(len(rows))
        for i, (name, status, note) in enumerate(rows):
            for j, text in enumerate((name, status, note)):
                item = QTableWidgetItem(text)
                if j == 1:
                    item.setForeground(QColor(STATUS_COLOURS.get(status, theme.TEXT)))
                item.setToolTip(note if j == 2 else text)
                self.table.setItem(i, j, item)

    def statuses(self) -> dict[str, str]:
        return {self.table.item(i, 0).text(): self.table.item(i, 1).text() for i in range(self.table.rowCount())}

    # -- watching -------------------------------------------------------------------------------
    def _watch_toggled(self, on: bool) -> None:
        watched = self._watcher.directories()
        if watched:
            self._watcher.removePaths(watched)
        if on and self.folder is not None:
            dirs = [self.folder] + [d for d in (self.folder / "originals", self.folder / "edits") if d.is_dir()]
            self._watcher.addPaths([str(d) for d in dirs])

    def _folder_changed(self, _path: str) -> None:
        self._debounce.start()  # edits arrive in bursts (an export of 20 files): wait for quiet

    def _relearn(self) -> None:
        if self._learning:
            self._debounce.start()
            return
        self.list_pairs()
        self.learn_now(warm=True)

    # -- learning -------------------------------------------------------------------------------
    def _update_buttons(self) -> None:
        self.learn_button.setEnabled(self.folder is not None and not self._learning)
        self.cancel_button.setVisible(self._learning)

    def learn_now(self, *, warm: bool = False) -> None:
        """Learn (or, with ``warm``, refine the saved style after new edits) from the folder."""
        if self.folder is None or self._learning:
            return
        from silverprint.styles.style import check_name

        name = self.name_edit.text().strip() or self.folder.name
        try:
            name = check_name(name)
        except Exception as exc:  # noqa: BLE001
            from .errors import show_error

            show_error(parent=self, exc=exc)
            return
        folder = self.folder
        self._learning = True
        self._cancel.clear()
        self.progress.setValue(0)
        self.stage.setText("Starting…")
        self._update_buttons()
        cancel = self._cancel
        tm = taskman()

        def progress(stage: str, done: int, total: int) -> None:
            if cancel.is_set():
                raise LearningCancelled("cancelled")
            tm.run_on_main(lambda: self._progress(stage, done, total))

        def learn() -> Any:
            from silverprint.learn.learner import learn_portfolio

            return learn_portfolio(folder, name, progress=progress, warm=warm)

        Op(self, learn).success(lambda result: self._learned(name, result)).failure(self._failed) \
            .on_lane(LEARN).run_in_background()

    def cancel(self) -> None:
        self._cancel.set()
        self.stage.setText("Cancelling…")

    def _progress(self, stage: str, done: int, total: int) -> None:
        if not self._learning:
            return
        fraction = progress_fraction(stage, done, total)
        if fraction >= 0:
            self.progress.setValue(max(self.progress.value(), int(1000 * fraction)))
        text = STAGE_TEXT.get(stage, stage.capitalize())
        self.stage.setText(f"{text} ({done}/{total})" if total else text)

    def _learned(self, name: str, report: dict[str, Any]) -> None:
        """Show what `learn_portfolio` reported (its ``styles[0]`` entry is the style learned)."""
        self._learning = False
        self.result = report
        self.progress.setValue(1000)
        entry = _style_entry(report)
        match = heldout_match(report)
        baseline = baseline_match(report)
        pairs = len(entry["train"])
        if baseline is not None:
            self.plot.set_baseline(baseline)
        if match is not None:
            self.plot.add_point(pairs, match)
            if self.folder is not None:
                try:
                    save_history(self.folder, self.plot.points)
                except OSError:
                    pass  # the plot is a convenience; never fail a finished learning run for it
        text = f"<b>{name}</b> learned from {photos(pairs)}"
        if match is not None:
            text += "; it " + match_words(match, len(entry["test"])).replace(
                f"{match:.0f} %", f"<b>{match:.0f} %</b>", 1)
        if baseline is not None:
            text += f". A plain grey conversion matches {baseline:.0f} %"
        if report["looks"]["count"] > 1:
            text += ". The folder seems to hold two different looks."
        self.summary.setText(text)
        self.stage.setText("Done")
        self._mark_statuses(report, entry)
        self._update_buttons()
        self.styleLearned.emit(name)
        self.learningFinished.emit(report)

    def _mark_statuses(self, report: dict[str, Any], entry: dict[str, Any]) -> None:
        """Which pairs the style was fitted on, which were held out (with their match), which skipped."""
        fitted = set(entry["train"])
        held = set(entry["test"])
        scores = entry["heldout"]["pairs"] if "heldout" in entry else {}
        skipped = {Path(item["path"]).name: item["reason"] for item in report["skipped"]}
        rows = []
        for i in range(self.table.rowCount()):
            name, status, note = (self.table.item(i, j).text() for j in range(3))
            if name in fitted:
                status = "fitted"
            elif name in held:
                status = "held out"
                if name in scores:
                    note = f"matches your edit: {match_percent(scores[name]['ssim']):.0f} %"
            if name in skipped:
                status, note = "skipped", skipped[name]
            rows.append((name, status, note))
        known = {r[0] for r in rows}
        rows += [(n, "skipped", reason) for n, reason in skipped.items() if n not in known]
        self._fill(rows)

    def _failed(self, exc: Exception) -> None:
        self._learning = False
        self.progress.setValue(0)
        self._update_buttons()
        if isinstance(exc, LearningCancelled):  # raised by our own progress callback
            self.stage.setText("Cancelled; the previous style is unchanged")
            self.learningFailed.emit("cancelled")
            return
        from .errors import message_for, show_error

        self.stage.setText(message_for(exc))
        show_error(parent=self, exc=exc)
        self.learningFailed.emit(message_for(exc))
