"""Content keys and the per-folder record of finished work that lets a rerun skip it.

A name says nothing about whether an output is current: the input may have been replaced, the
style edited, an override changed, or the output itself damaged. So every finished output is
recorded with two digests: the *key* of what made it (the input's bytes, the style's JSON, the
overrides, the format, the Silverprint version) and the digest of the output's own bytes. A rerun
skips a file only when the worker, hashing the input again, gets the same key and the output on
disk still has the recorded digest. The record is one hidden JSON file per output folder, written
atomically by the driver only (workers just return digests), so concurrent workers never race on
it; a driver killed between two saves loses at most the last few records, which a rerun redoes.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any, Iterable

from ..fileio import atomic_path

#: The record's file name in each output folder (hidden: folder scans and watchers skip it).
MANIFEST_NAME = ".silverprint-cluster.json"
_SCHEMA = 1
_CHUNK = 1 << 20


def file_digest(path: str | os.PathLike) -> str:
    """sha256 of a file's bytes, read in 1 MiB blocks (a film does not have to fit in memory)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_CHUNK):
            h.update(block)
    return h.hexdigest()


def content_key(*parts: object) -> str:
    """One sha256 over the JSON of ``parts`` (digests, style JSON, overrides, format, version)."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Manifest:
    """The records of the folders one job writes into; `save` writes each changed folder's file."""

    def __init__(self, folders: Iterable[Path]) -> None:
        self._records: dict[Path, dict[str, Any]] = {Path(f): _read(Path(f)) for f in folders}
        self._dirty: set[Path] = set()
        self._saved = time.monotonic()

    def get(self, target: Path) -> dict[str, Any] | None:
        """The record of a previous output at ``target`` ({"key", "output"}), or None."""
        return self._records.get(target.parent, {}).get(target.name)

    def put(self, target: Path, key: str, output_digest: str) -> None:
        self._records.setdefault(target.parent, {})[target.name] = {"key": key, "output": output_digest}
        self._dirty.add(target.parent)

    def save(self, *, every: float = 0.0) -> None:
        """Write the changed folders' records (at most once per ``every`` seconds unless 0)."""
        if not self._dirty or (every and time.monotonic() - self._saved < every):
            return
        for folder in sorted(self._dirty):
            text = json.dumps({"schema": _SCHEMA, "outputs": self._records[folder]}, indent=1,
                              sort_keys=True)
            with atomic_path(folder / MANIFEST_NAME) as tmp:
                tmp.write_text(text, encoding="utf-8")
        self._dirty.clear()
        self._saved = time.monotonic()


def _read(folder: Path) -> dict[str, Any]:
    """A folder's records; a missing or unreadable file is an empty record (all work redone)."""
    try:
        data = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    outputs = data.get("outputs") if isinstance(data, dict) else None
    if not isinstance(outputs, dict):
        return {}
    return {k: v for k, v in outputs.items() if isinstance(v, dict) and isinstance(v.get("key"), str)
            and isinstance(v.get("output"), str)}
