"""Replay the fuzz corpus (`tests/data/fuzz/`) through the fuzz targets' oracle (`tests/fuzz/`).

Every seed, and every crashing input a campaign found (kept as a regression seed), must either
load or be refused with one `SilverprintError` line, quickly. The campaigns themselves (atheris,
coverage-guided) run in CI after the test suite: `tests/fuzz/run.py`.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from fuzz.targets import IMAGE_MODES, check_image, check_style

CORPUS = Path(__file__).parent / "data" / "fuzz"
#: Pillow warns about the corrupt seeds (truncated reads, oversized tags): expected, not news.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
#: Seconds one seed may take through every mode (a hang is a bug; the campaign allows 5 s per
#: single load, this is the sum over the three loads and the outputs).
SEED_SECONDS = 10.0


def _seeds(target: str) -> list[Path]:
    return sorted(p for p in (CORPUS / target).iterdir() if p.is_file())


def test_the_corpus_is_small_and_covers_every_format():
    image = {p.suffix for p in _seeds("image")}
    assert {".png", ".jpg", ".tif", ".webp", ".dng"} <= image
    assert len(_seeds("style")) >= 3
    assert sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file()) < 200_000


@pytest.mark.parametrize("seed", _seeds("image"), ids=lambda p: p.name)
def test_image_seed_loads_or_is_refused_in_one_line(seed: Path):
    start = time.perf_counter()
    check_image(seed.read_bytes(), IMAGE_MODES)
    assert time.perf_counter() - start < SEED_SECONDS


@pytest.mark.parametrize("seed", _seeds("style"), ids=lambda p: p.name)
def test_style_seed_parses_or_is_refused_in_one_line(seed: Path):
    start = time.perf_counter()
    check_style(seed.read_bytes())
    assert time.perf_counter() - start < SEED_SECONDS


def test_a_batch_of_corrupt_files_prints_one_line_each(tmp_path):
    """The CLI on the corrupt seeds: each refusal is its one line, with nothing else on stderr
    (tifffile and Pillow used to log each bad tag and warn first), and the regression seed that
    raised a traceback mid-batch (188 samples per pixel) renders instead."""
    import subprocess

    from servicehelp import clean_env, silverprint_command

    bad = ["truncated-tiff.tif", "truncated-jpeg.jpg", "truncated-png.png", "png-bomb.png"]
    for name in bad + ["regress-tiff-188-samples.tif"]:
        (tmp_path / name).write_bytes((CORPUS / "image" / name).read_bytes())
    out = tmp_path / "out"
    done = subprocess.run([*silverprint_command(), "render", *sorted(str(p) for p in tmp_path.iterdir()),
                           "--out-dir", str(out), "-q"], capture_output=True, text=True, timeout=300,
                          env=clean_env(tmp_path / "home"))
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == len(bad), done.stderr
    assert all(line.startswith("silverprint: error: ") for line in lines), done.stderr
    assert {p.name for p in out.iterdir()} == {"regress-tiff-188-samples.png"}
