"""The portfolio panel's "why" section: what the style decided for the open photo, and why.

The words are the core's (`silverprint.learn.explain.explain_photo`, the same sentences as the
`evaluate --report` page: "+0.45 EV exposure: darker than your usual"); this widget only shows
them, read-only, and computes them off the main thread.
"""
from __future__ import annotations

import html
from typing import Any

from .qt import QLabel, QVBoxLayout, QWidget, Qt, pyqtSignal
from .regions_panel import section_title
from .taskman import Op

EMPTY_TEXT = "Open a photo to see what the style decides for it, and why."


def explain_document(doc: Any, style: Any) -> Any:
    """The core's explanation of ``style`` (a name or Style) on an open document's analysis."""
    from silverprint.learn.explain import explain_photo

    return explain_photo(style, doc.analysis)


class ExplainSection(QWidget):
    """A title, which photo and style it speaks of, and the sentences as a bulleted list."""

    explained = pyqtSignal(list)   # the sentences shown (for tests and the screenshot script)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        column.addWidget(section_title("Why this photo got its sliders"))
        self.heading = QLabel(EMPTY_TEXT)
        self.heading.setObjectName("Muted")
        self.heading.setWordWrap(True)
        self.body = QLabel("")
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.TextFormat.RichText)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        column.addWidget(self.heading)
        column.addWidget(self.body)
        self.sentences: list[str] = []
        self._generation = 0

    def clear(self, text: str = EMPTY_TEXT) -> None:
        self._generation += 1
        self.sentences = []
        self.heading.setText(text)
        self.body.setText("")

    def explain(self, doc: Any, style_name: str) -> None:
        """Explain ``style_name`` on ``doc`` (in the background; only the latest request shows)."""
        if doc is None or getattr(doc, "analysis", None) is None:
            self.clear()
            return
        self._generation += 1
        generation = self._generation
        name = getattr(doc, "name", "this photo")

        def done(explanation: Any) -> None:
            if generation == self._generation:
                self.show_sentences(name, style_name, explanation.sentences())

        def failed(exc: Exception) -> None:
            if generation == self._generation:
                self.clear(f"Cannot explain {style_name} on {name}: {exc}")

        Op(self, lambda: explain_document(doc, style_name)).success(done).failure(failed).run_in_background()

    def show_sentences(self, photo: str, style_name: str, sentences: list[str]) -> None:
        self.sentences = list(sentences)
        self.heading.setText(f"{photo} with {style_name}")
        items = "".join(f"<li style='margin-bottom:3px'>{html.escape(s)}</li>" for s in sentences)
        self.body.setText(f"<ul style='margin-left:-16px'>{items}</ul>")
        self.explained.emit(list(sentences))
