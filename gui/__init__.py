"""Silverprint companion: the PyQt6 desktop app over the `silverprint` core.

Layering (as in Anki's core/GUI split): the core returns data and never imports Qt; this package owns
the threads (`taskman`), presents errors in one place (`errors`), and imports Qt only through `qt`.
All image math goes through the core API via `document`; widgets only turn arrays into QImages.
"""
__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Start the companion (imports Qt lazily so `import silverprint_gui` stays cheap)."""
    from .app import main as _main

    return _main(argv)
