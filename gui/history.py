"""Undo / redo of parameter sets.

Snapshots of whole `Params` (a few kB) rather than inverse operations: restoring a snapshot cannot
drift from what the user saw, and the learner's decoded values stay exact.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class _Entry(Generic[T]):
    label: str
    state: T


class History(Generic[T]):
    """A linear undo stack; pushing after an undo discards the redo branch."""

    def __init__(self, initial: T, label: str = "Open", limit: int = 200) -> None:
        self._entries: list[_Entry[T]] = [_Entry(label, initial)]
        self._index = 0
        self._limit = limit

    @property
    def current(self) -> T:
        return self._entries[self._index].state

    def push(self, state: T, label: str, *, merge: bool = False) -> None:
        """Record ``state``; with ``merge``, replace the newest entry if it has the same label
        (a key held down on a slider is one undo step, not forty)."""
        if merge and self._index == len(self._entries) - 1 and self._index > 0 \
                and self._entries[self._index].label == label:
            self._entries[self._index] = _Entry(label, state)
            return
        del self._entries[self._index + 1:]
        self._entries.append(_Entry(label, state))
        if len(self._entries) > self._limit:
            del self._entries[0]
        self._index = len(self._entries) - 1

    def can_undo(self) -> bool:
        return self._index > 0

    def can_redo(self) -> bool:
        return self._index < len(self._entries) - 1

    def undo_label(self) -> str:
        return self._entries[self._index].label if self.can_undo() else ""

    def redo_label(self) -> str:
        return self._entries[self._index + 1].label if self.can_redo() else ""

    def undo(self) -> T | None:
        if not self.can_undo():
            return None
        self._index -= 1
        return self.current

    def redo(self) -> T | None:
        if not self.can_redo():
            return None
        self._index += 1
        return self.current
