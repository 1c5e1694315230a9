"""A damaged portfolio index is a cache to rebuild, not a traceback (issue 13, item 11).

Synthetic photos and edits written here: any clone runs this.
"""
from __future__ import annotations

import logging
import sqlite3

import numpy as np
import pytest
from PIL import Image

from silverprint.cli import main
from silverprint.learn import fit


@pytest.fixture()
def quick(tmp_path, monkeypatch):
    monkeypatch.setenv("SILVERPRINT_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(fit, "TONE_STEPS", 20)
    monkeypatch.setattr(fit, "LOCAL_STEPS", 5)
    monkeypatch.setattr(fit, "POLISH_ITERATIONS", 5)
    return tmp_path


def _portfolio(root, n: int = 3):
    for i in range(n):
        rng = np.random.default_rng(i)
        y, x = np.mgrid[0:96, 0:128].astype(np.float32)
        rgb = np.stack([x / 128, y / 96, (x + y) / 224], -1) * 200 + rng.uniform(0, 50, (96, 128, 3))
        rgb = rgb.astype(np.uint8)
        grey = (rgb.astype(np.float32) @ np.array([0.5, 0.4, 0.1], np.float32)).astype(np.uint8)
        (root / "originals").mkdir(parents=True, exist_ok=True)
        (root / "edits").mkdir(parents=True, exist_ok=True)
        Image.fromarray(rgb).save(root / "originals" / f"p{i}.png")
        Image.fromarray(grey).save(root / "edits" / f"p{i}.png")
    return root


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_learn_with_a_damaged_index_rebuilds_it_and_keeps_the_old_one(quick, capsys, caplog, damage):
    folder = _portfolio(quick / "portfolio")
    assert main(["learn", str(folder), "--name", "mine", "-q"]) == 0
    from silverprint.learn.index import default_path

    index = default_path()
    with sqlite3.connect(index) as db:  # fold the WAL in, so that the damage hits real pages
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = index.read_bytes()
    index.write_bytes(b"this is not a database" * 64 if damage == "garbage" else data[:len(data) // 2])
    capsys.readouterr()
    with caplog.at_level(logging.WARNING, logger="silverprint"):
        assert main(["learn", str(folder), "--name", "mine", "-q"]) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err
    warning = " ".join(r.getMessage() for r in caplog.records)
    assert "damaged" in warning and "moved" in warning, warning
    kept = [p for p in index.parent.iterdir() if ".damaged-" in p.name]
    assert kept, list(index.parent.iterdir())
    with sqlite3.connect(index) as db:
        assert db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        assert db.execute("SELECT count(*) FROM pairs").fetchone()[0] == 3
