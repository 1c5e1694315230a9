"""The portfolio index: what was found in a portfolio, what was fitted, and from which files.

SQLite in the user data directory (never inside the photographer's folders). A file is identified
by path, size, mtime and a content hash; the hash is recomputed only when size or mtime change, and
a pair's fit is reused while both files' hashes and the fit version are unchanged. So re-running
`learn` (or `watch` after a restart) only fits what changed.

The index is a cache: everything in it can be recomputed from the photographer's files. A damaged
index (a disk error, a foreign file at its path) is therefore moved aside, kept for inspection, and
replaced by an empty one with a warning, instead of stopping `learn` with a database traceback.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from .. import paths
from ..errors import SilverprintError

log = logging.getLogger("silverprint.learn")

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS portfolios (
    id INTEGER PRIMARY KEY, root TEXT UNIQUE NOT NULL, style TEXT, updated REAL);
CREATE TABLE IF NOT EXISTS pairs (
    portfolio INTEGER NOT NULL REFERENCES portfolios(id) ON DELETE CASCADE,
    name TEXT NOT NULL, original TEXT NOT NULL, edit TEXT NOT NULL, matched_by TEXT NOT NULL,
    original_hash TEXT, edit_hash TEXT, status TEXT NOT NULL, reason TEXT,
    fit_version INTEGER, params TEXT, residual REAL, descriptors TEXT, extra TEXT, updated REAL,
    PRIMARY KEY (portfolio, name));
CREATE TABLE IF NOT EXISTS arrays (
    portfolio INTEGER NOT NULL REFERENCES portfolios(id) ON DELETE CASCADE,
    name TEXT NOT NULL, data BLOB NOT NULL, PRIMARY KEY (portfolio, name));
CREATE TABLE IF NOT EXISTS skipped (
    portfolio INTEGER NOT NULL REFERENCES portfolios(id) ON DELETE CASCADE,
    path TEXT NOT NULL, reason TEXT NOT NULL, PRIMARY KEY (portfolio, path));
"""


@dataclass(frozen=True)
class FileId:
    path: str
    size: int
    mtime_ns: int
    sha256: str


@dataclass
class PairRecord:
    """One pair as stored: identity, status and (when fitted) the fit's results."""

    name: str
    original: str
    edit: str
    matched_by: str
    original_hash: str | None
    edit_hash: str | None
    status: str  # "fitted" or "skipped"
    reason: str | None
    fit_version: int | None
    params: dict[str, Any] | None
    residual: float | None
    descriptors: list[float] | None
    extra: dict[str, Any] | None


def default_path() -> Path:
    return paths.data_dir() / "portfolio-index.sqlite"


def _hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class PortfolioIndex:
    """A connection to the index; usable as a context manager. Safe for two processes (WAL)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = _open(self.path)
        except sqlite3.OperationalError as exc:  # locked, busy, unreadable: the file may be fine
            raise SilverprintError(f"{self.path}: cannot open the portfolio index ({exc})") from None
        except sqlite3.DatabaseError as exc:  # not a database, or malformed: damaged
            aside = _move_aside(self.path)
            log.warning("silverprint: warning: the portfolio index %s was damaged (%s); it was moved "
                        "to %s and a new one is being built (fits are recomputed once)",
                        self.path, exc, aside.name)
            self.db = _open(self.path)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "PortfolioIndex":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------------- files
    def identity(self, path: str | Path) -> FileId:
        """Path, size, mtime and content hash; hashes only files whose size or mtime changed."""
        path = Path(path).resolve()
        stat = path.stat()
        row = self.db.execute("SELECT size, mtime_ns, sha256 FROM files WHERE path = ?",
                              (str(path),)).fetchone()
        if row and row[0] == stat.st_size and row[1] == stat.st_mtime_ns:
            return FileId(str(path), stat.st_size, stat.st_mtime_ns, row[2])
        digest = _hash(path)
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)",
                            (str(path), stat.st_size, stat.st_mtime_ns, digest))
        return FileId(str(path), stat.st_size, stat.st_mtime_ns, digest)

    # ----------------------------------------------------------------------- portfolios
    def portfolio(self, root: str | Path, style: str | None = None) -> int:
        root = str(Path(root).resolve())
        with self.db:
            self.db.execute("INSERT OR IGNORE INTO portfolios (root, style, updated) VALUES (?, ?, ?)",
                            (root, style, time.time()))
            if style:
                self.db.execute("UPDATE portfolios SET style = ?, updated = ? WHERE root = ?",
                                (style, time.time(), root))
        return int(self.db.execute("SELECT id FROM portfolios WHERE root = ?", (root,)).fetchone()[0])

    # ----------------------------------------------------------------------- pairs
    def cached_fit(self, portfolio: int, name: str, original: FileId, edit: FileId,
                   fit_version: int) -> PairRecord | None:
        """The stored record of this pair if nothing it depends on has changed, else None."""
        for record in self._records(portfolio, name):
            if (record.original == original.path and record.edit == edit.path
                    and record.original_hash == original.sha256 and record.edit_hash == edit.sha256
                    and record.fit_version == fit_version):
                return record
        return None

    def store(self, portfolio: int, record: PairRecord) -> None:
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO pairs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (portfolio, record.name, record.original, record.edit, record.matched_by,
                 record.original_hash, record.edit_hash, record.status, record.reason,
                 record.fit_version, _dump(record.params), record.residual,
                 _dump(record.descriptors), _dump(record.extra), time.time()))

    def records(self, portfolio: int) -> list[PairRecord]:
        return list(self._records(portfolio, None))

    def _records(self, portfolio: int, name: str | None) -> Iterator[PairRecord]:
        query = ("SELECT name, original, edit, matched_by, original_hash, edit_hash, status, reason,"
                 " fit_version, params, residual, descriptors, extra FROM pairs WHERE portfolio = ?")
        args: tuple = (portfolio,)
        if name is not None:
            query += " AND name = ?"
            args += (name,)
        for row in self.db.execute(query + " ORDER BY name", args):
            yield PairRecord(*row[:9], _load(row[9]), row[10], _load(row[11]), _load(row[12]))

    def store_arrays(self, portfolio: int, name: str, arrays: dict[str, Any]) -> None:
        """The pair's fit-ready pixels (small), so that re-learning never decodes it again."""
        import io

        import numpy as np

        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO arrays VALUES (?, ?, ?)",
                            (portfolio, name, buffer.getvalue()))

    def arrays(self, portfolio: int, name: str) -> dict[str, Any] | None:
        import io

        import numpy as np

        row = self.db.execute("SELECT data FROM arrays WHERE portfolio = ? AND name = ?",
                              (portfolio, name)).fetchone()
        if row is None:
            return None
        with np.load(io.BytesIO(row[0])) as data:
            return {k: data[k] for k in data.files}

    def keep_only(self, portfolio: int, names: set[str]) -> int:
        """Forget pairs no longer in the portfolio (deleted or renamed files). Returns how many."""
        gone = [r.name for r in self.records(portfolio) if r.name not in names]
        with self.db:
            self.db.executemany("DELETE FROM pairs WHERE portfolio = ? AND name = ?",
                                [(portfolio, n) for n in gone])
            self.db.executemany("DELETE FROM arrays WHERE portfolio = ? AND name = ?",
                                [(portfolio, n) for n in gone])
        return len(gone)

    def set_skipped(self, portfolio: int, skipped: list[tuple[str, str]]) -> None:
        with self.db:
            self.db.execute("DELETE FROM skipped WHERE portfolio = ?", (portfolio,))
            self.db.executemany("INSERT OR REPLACE INTO skipped VALUES (?, ?, ?)",
                                [(portfolio, p, r) for p, r in skipped])

    def skipped(self, portfolio: int) -> list[tuple[str, str]]:
        return [tuple(r) for r in self.db.execute(
            "SELECT path, reason FROM skipped WHERE portfolio = ? ORDER BY path", (portfolio,))]


def _open(path: Path) -> sqlite3.Connection:
    """Connect, check the file is a sound SQLite database, and create the tables if needed."""
    db = sqlite3.connect(path, timeout=30)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA foreign_keys=ON")
        verdict = db.execute("PRAGMA quick_check").fetchone()
        if not verdict or verdict[0] != "ok":
            raise sqlite3.DatabaseError(f"integrity check: {verdict[0] if verdict else 'no answer'}")
        db.executescript(SCHEMA)
        db.commit()
    except BaseException:
        db.close()
        raise
    return db


def _move_aside(path: Path) -> Path:
    """Rename a damaged index (and its WAL / shared-memory files) to ``NAME.damaged-TIME``."""
    aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}")
    for extra in ("", "-wal", "-shm"):
        try:
            os.replace(f"{path}{extra}", f"{aside}{extra}")
        except FileNotFoundError:
            pass
    return aside


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def _load(text: str | None) -> Any:
    return None if text is None else json.loads(text)
