"""The strip under the viewer while a video is open: frame scrubber, frame / time, export progress.

It only shows state and emits requests (`frameChanged`, `cancelRequested`); the window asks the
video path for previews and runs the export.
"""
from __future__ import annotations

from .qt import QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QSlider, Qt, pyqtSignal


def timecode(seconds: float) -> str:
    """``m:ss.cc`` (video editors' short form; a clip of hours still reads right as minutes)."""
    minutes, rest = divmod(max(0.0, seconds), 60.0)
    return f"{int(minutes)}:{rest:05.2f}"


class VideoBar(QFrame):
    """Scrubber + ``Frame 13 / 24 · 0:00.50 / 0:01.00`` + progress bar and Cancel during export."""

    frameChanged = pyqtSignal(int)
    cancelRequested = pyqtSignal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("Panel")
        self._frames = 1
        self._fps = 25.0
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("Scrub through the video (arrow keys step one frame)")
        self.slider.setSingleStep(1)
        self.slider.valueChanged.connect(self._moved)
        self.label = QLabel("")
        self.label.setObjectName("Muted")
        self.label.setMinimumWidth(230)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setFixedWidth(180)
        self.progress.setFormat("Exporting %p %")
        self.cancel = QPushButton("Cancel")
        self.cancel.setToolTip("Stop the export; nothing is written")
        self.cancel.clicked.connect(self.cancelRequested)
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 6, 12, 6)
        row.addWidget(self.slider, 1)
        row.addWidget(self.label)
        row.addWidget(self.progress)
        row.addWidget(self.cancel)
        self.set_exporting(False)

    def set_video(self, frames: int, fps: float) -> None:
        """A new video: the scrubber spans its frames and starts at the first."""
        self._frames, self._fps = max(1, int(frames)), float(fps) or 25.0
        self.slider.blockSignals(True)
        self.slider.setRange(0, self._frames - 1)
        self.slider.setPageStep(max(1, round(self._fps)))  # Page Up / Down: one second
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self._show_position(0)

    @property
    def frame(self) -> int:
        return self.slider.value()

    def set_exporting(self, on: bool) -> None:
        self.progress.setVisible(on)
        self.cancel.setVisible(on)
        self.cancel.setEnabled(on)
        if on:
            self.progress.setValue(0)

    def set_progress(self, done: int, total: int) -> None:
        self.progress.setValue(round(100 * done / total) if total > 0 else 0)

    def _moved(self, index: int) -> None:
        self._show_position(index)
        self.frameChanged.emit(index)

    def _show_position(self, index: int) -> None:
        duration = self._frames / self._fps
        self.label.setText(f"Frame {index + 1} / {self._frames}  ·  "
                           f"{timecode(index / self._fps)} / {timecode(duration)}")
