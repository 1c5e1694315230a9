"""Dark theme: a neutral grey palette so the photo, not the chrome, sets the tonal reference.

Photo tools (Lightroom, Silver Efex) keep the interface a mid-dark neutral grey because a saturated
or bright frame shifts how the eye judges the tones of a B&W print. One accent colour marks
selection and focus only.
"""
from __future__ import annotations

from .qt import QApplication, QColor, QPalette, QStyleFactory

BG = "#1e1f21"        # window background
PANEL = "#26282b"     # side panels
RAISED = "#2f3236"    # buttons, inputs
BORDER = "#3a3d42"
TEXT = "#d9dadc"
MUTED = "#8b8f96"
ACCENT = "#d0a85c"    # warm silver-gelatin gold, for selection only
ACCENT_DIM = "#8a7245"
OVERLAY = "#ff3b30"    # mask overlay

STYLESHEET = f"""
QWidget {{ color: {TEXT}; font-size: 12px; }}
QMainWindow, QDialog {{ background: {BG}; }}
QToolTip {{ background: {RAISED}; color: {TEXT}; border: 1px solid {BORDER}; padding: 4px; }}
QDockWidget {{ titlebar-close-icon: none; color: {MUTED}; }}
QDockWidget::title {{ background: {PANEL}; padding: 6px 8px; text-transform: uppercase; }}
QFrame#Panel, QScrollArea#Panel, QWidget#Panel {{ background: {PANEL}; }}
QScrollArea {{ border: none; background: {PANEL}; }}
QScrollArea > QWidget > QWidget {{ background: {PANEL}; }}
QLabel#SectionTitle {{ color: {MUTED}; font-size: 10px; font-weight: 600; letter-spacing: 1.5px;
                       padding: 10px 0 4px 0; }}
QLabel#PanelTitle {{ color: {TEXT}; font-size: 13px; font-weight: 600; padding: 2px 0; }}
QLabel#Muted {{ color: {MUTED}; }}
QLabel#Banner {{ background: {ACCENT_DIM}; color: #fff; padding: 8px 12px; border-radius: 4px; }}
QToolBar {{ background: {BG}; border: none; border-bottom: 1px solid {BORDER}; spacing: 4px;
            padding: 4px 6px; }}
QToolButton {{ background: transparent; border: 1px solid transparent; border-radius: 4px;
               padding: 4px 8px; color: {TEXT}; }}
QToolButton:hover {{ background: {RAISED}; border-color: {BORDER}; }}
QToolButton:checked {{ background: {RAISED}; border-color: {ACCENT_DIM}; color: {ACCENT}; }}
QToolButton#Reset {{ color: {MUTED}; padding: 0 2px; font-size: 13px; }}
QToolButton#Reset:hover {{ color: {ACCENT}; }}
QToolButton#Reset:disabled {{ color: transparent; }}
QPushButton {{ background: {RAISED}; border: 1px solid {BORDER}; border-radius: 4px; padding: 5px 12px; }}
QPushButton:hover {{ border-color: {MUTED}; }}
QPushButton:pressed {{ background: {BORDER}; }}
QPushButton:checked {{ border-color: {ACCENT}; color: {ACCENT}; }}
QPushButton:disabled {{ color: {MUTED}; }}
QPushButton#Primary {{ background: {ACCENT}; color: #1b1b1b; border-color: {ACCENT}; font-weight: 600; }}
QPushButton#Primary:hover {{ background: #dcb872; }}
QPushButton#Primary:disabled {{ background: {RAISED}; color: {MUTED}; border-color: {BORDER}; }}
QPushButton#Chip {{ border-radius: 11px; padding: 3px 10px; }}
QPushButton#Chip:checked {{ background: {ACCENT}; color: #1b1b1b; border-color: {ACCENT}; }}
QPushButton#Chip[absent="true"] {{ color: {MUTED}; border-style: dashed; }}
QPushButton#Chip[absent="true"]:checked {{ background: {ACCENT_DIM}; color: {TEXT}; }}
QLineEdit, QSpinBox, QDoubleSpinBox, QComboBox {{ background: {RAISED}; border: 1px solid {BORDER};
    border-radius: 3px; padding: 3px 5px; selection-background-color: {ACCENT_DIM}; }}
QDoubleSpinBox#Value {{ background: transparent; border: 1px solid transparent; padding: 0 2px;
    color: {TEXT}; }}
QDoubleSpinBox#Value:hover, QDoubleSpinBox#Value:focus {{ border-color: {BORDER}; background: {RAISED}; }}
QComboBox QAbstractItemView {{ background: {RAISED}; border: 1px solid {BORDER}; }}
QSlider::groove:horizontal {{ height: 3px; background: {BORDER}; border-radius: 1px; }}
QSlider::sub-page:horizontal {{ background: {BORDER}; }}
QSlider::handle:horizontal {{ background: {TEXT}; border: 1px solid #16171a; width: 10px;
    margin: -5px 0; border-radius: 6px; }}
QSlider::handle:horizontal:hover {{ background: #ffffff; }}
QSlider::handle:horizontal:pressed {{ background: {ACCENT}; }}
QTabWidget::pane {{ border: none; background: {PANEL}; }}
QTabBar::tab {{ background: {BG}; color: {MUTED}; padding: 7px 14px; border: none;
    border-bottom: 2px solid transparent; }}
QTabBar::tab:selected {{ color: {TEXT}; border-bottom: 2px solid {ACCENT}; background: {PANEL}; }}
QTabBar::tab:hover {{ color: {TEXT}; }}
QListWidget, QTreeWidget, QTableWidget {{ background: {PANEL}; border: none; outline: none; }}
QListWidget::item {{ border-radius: 4px; }}
QListWidget::item:selected {{ background: {RAISED}; border: 1px solid {ACCENT}; color: {ACCENT}; }}
QListWidget::item:hover {{ background: {RAISED}; }}
QHeaderView::section {{ background: {PANEL}; color: {MUTED}; border: none;
    border-bottom: 1px solid {BORDER}; padding: 4px; }}
QTableWidget::item:selected {{ background: {RAISED}; color: {TEXT}; }}
QProgressBar {{ background: {RAISED}; border: none; border-radius: 3px; height: 6px; text-align: center;
    color: transparent; }}
QProgressBar::chunk {{ background: {ACCENT}; border-radius: 3px; }}
QStatusBar {{ background: {BG}; color: {MUTED}; border-top: 1px solid {BORDER}; }}
QScrollBar:vertical {{ background: {PANEL}; width: 9px; margin: 0; }}
QScrollBar::handle:vertical {{ background: {BORDER}; border-radius: 4px; min-height: 24px; }}
QScrollBar::add-line, QScrollBar::sub-line {{ height: 0; width: 0; }}
QScrollBar:horizontal {{ background: {PANEL}; height: 9px; }}
QScrollBar::handle:horizontal {{ background: {BORDER}; border-radius: 4px; min-width: 24px; }}
QMenu {{ background: {RAISED}; border: 1px solid {BORDER}; }}
QMenu::item:selected {{ background: {ACCENT_DIM}; }}
QMenuBar {{ background: {BG}; }}
QMenuBar::item:selected {{ background: {RAISED}; }}
QSplitter::handle {{ background: {BORDER}; }}
QCheckBox::indicator {{ width: 13px; height: 13px; border: 1px solid {MUTED}; border-radius: 3px;
    background: {RAISED}; }}
QCheckBox::indicator:checked {{ background: {ACCENT}; border-color: {ACCENT}; }}
"""


def apply_theme(app: QApplication) -> None:
    """Fusion style + a dark neutral palette + the stylesheet above."""
    app.setStyle(QStyleFactory.create("Fusion"))
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: BG, QPalette.ColorRole.WindowText: TEXT,
        QPalette.ColorRole.Base: PANEL, QPalette.ColorRole.AlternateBase: RAISED,
        QPalette.ColorRole.Text: TEXT, QPalette.ColorRole.Button: RAISED,
        QPalette.ColorRole.ButtonText: TEXT, QPalette.ColorRole.Highlight: ACCENT_DIM,
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: RAISED,
        QPalette.ColorRole.ToolTipText: TEXT, QPalette.ColorRole.PlaceholderText: MUTED,
    }
    for role, colour in roles.items():
        palette.setColor(role, QColor(colour))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor(MUTED))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor(MUTED))
    app.setPalette(palette)
    app.setStyleSheet(STYLESHEET)
