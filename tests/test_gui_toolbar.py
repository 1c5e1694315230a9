"""The toolbar does not move while editing: Undo/Redo keep one width whatever step they name.

Real offscreen Qt: the menu and tooltip name the step ("Undo Sky exposure"), the toolbar button
stays "Undo", so the buttons after it keep their places.
"""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

pytest.importorskip("PyQt6", reason="the companion needs PyQt6 (pip install silverprint[gui])")
pytest.importorskip("pytestqt", reason="GUI tests need pytest-qt")


def test_undo_redo_buttons_keep_their_width_and_the_toolbar_its_layout(tmp_path, monkeypatch, qtbot):
    monkeypatch.setenv("SILVERPRINT_HOME", str(tmp_path))
    from silverprint.params import Params
    from silverprint_gui.app import MainWindow
    from silverprint_gui.qt import QToolBar

    win = MainWindow(host_service=False, device="cpu")
    qtbot.addWidget(win)
    win.show()
    bar = win.findChild(QToolBar)
    undo, redo, after = (bar.widgetForAction(a) for a in (win.act_undo, win.act_redo, win.act_after))

    def layout() -> tuple:
        qtbot.wait(10)
        return undo.width(), redo.width(), after.x(), undo.text(), redo.text()

    before = layout()
    assert before[3:] == ("Undo", "Redo")
    win.history.push(Params(), "Sky exposure and a very long local adjustment name")
    win.history.push(Params(), "Vegetation yellow filter")
    win.history.undo()
    win._update_actions()
    assert layout() == before, "the toolbar moved"
    assert win.act_undo.text() == "Undo Sky exposure and a very long local adjustment name"
    assert win.act_redo.text() == "Redo Vegetation yellow filter"
    assert "Sky exposure" in win.act_undo.toolTip()
