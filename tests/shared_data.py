"""Where the team's data pack (real photos, real style pairs) is found, for every test module.

The README's set-up keeps it beside the checkout (``../shared/data``); ``SILVERPRINT_DATA`` points
elsewhere; ``/work/shared/data`` is the development machine's copy, for clones made in other folders
(a fresh clone under /tmp). Tests that need the pack skip with this path in their reason when it is
absent.
"""
from __future__ import annotations

import os
from pathlib import Path


def _data() -> Path:
    candidates = [Path(os.environ["SILVERPRINT_DATA"])] if os.environ.get("SILVERPRINT_DATA") else []
    candidates += [Path(__file__).resolve().parents[2] / "shared" / "data", Path("/work/shared/data")]
    return next((p for p in candidates if p.is_dir()), candidates[0])


DATA = _data()
KODAK = DATA / "photos" / "kodak"
PAIRS = DATA / "pairs"
