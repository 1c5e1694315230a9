"""A small progress bar for long commands, on stderr so that stdout stays parseable (--json).

On a terminal it redraws one line; otherwise (CI logs, pipes) it prints one line per step, so logs
stay readable. No dependency: the CLI must start fast.
"""
from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """`with Progress(total, "render") as bar: bar.step("name")` — counts, rate and ETA."""

    def __init__(self, total: int, label: str, *, unit: str = "files", stream: TextIO | None = None,
                 enabled: bool = True) -> None:
        self.total, self.label, self.unit = total, label, unit
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.done = 0
        self.start = time.monotonic()
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()

    def line(self, note: str = "") -> str:
        elapsed = time.monotonic() - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else float("nan")
        width = 24
        filled = int(width * self.done / self.total) if self.total else width
        bar = "#" * filled + "-" * (width - filled)
        eta_text = f"{eta:5.1f}s" if eta == eta else "  ?  "
        return (f"{self.label} [{bar}] {self.done}/{self.total} {self.unit} "
                f"{rate:5.2f}/s ETA {eta_text} {note}")

    def step(self, note: str = "", n: int = 1) -> None:
        self.done += n
        if not self.enabled:
            return
        text = self.line(note)
        if self.tty:
            self.stream.write("\r\033[K" + text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def message(self, text: str) -> None:
        """A line (an error, a skipped file) that must not be overwritten by the bar."""
        self.stream.write(("\r\033[K" if self.tty else "") + text + "\n")
        self.stream.flush()
