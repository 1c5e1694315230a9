"""`silverprint render` end to end on real photos: outputs, EXIF, overrides and every bad input."""
from __future__ import annotations

import hashlib
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from silverprint.cli import main
from shared_data import KODAK

pytestmark = pytest.mark.skipif(not KODAK.is_dir(), reason="needs ../shared/data (the team's data pack)")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _jpeg_with_exif(src: Path, dst: Path, size: int = 384) -> Path:
    im = Image.open(src).convert("RGB")
    im.thumbnail((size, size))
    exif = Image.Exif()
    exif[0x010F] = "SilverprintTestCam"  # Make
    exif[0x0110] = "Model 1"
    im.save(dst, "JPEG", quality=92, exif=exif.tobytes())
    return dst


def _header_bomb(dst: Path) -> Path:
    """A PNG whose header claims 50 000 x 50 000 pixels, with almost no data."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", 50000, 50000, 8, 2, 0, 0, 0)
    dst.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                    + chunk(b"IEND", b""))
    return dst


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("SILVERPRINT_HOME", str(tmp_path / "home"))
    return tmp_path


def test_render_one_photo_to_16bit_grey_png_keeps_exif(home):
    src = _jpeg_with_exif(KODAK / "kodim23.png", home / "parrots.jpg")
    before = _sha(src)
    out = home / "parrots_bw.png"
    assert main(["render", str(src), "-o", str(out), "-q"]) == 0
    im = Image.open(out)
    assert im.mode == "I;16" and im.size == Image.open(src).size
    arr = np.asarray(im)
    assert len(np.unique(arr)) > 256  # really 16-bit tones, not 8-bit values scaled up
    assert im.getexif().get(0x010F) == "SilverprintTestCam"
    assert im.info.get("icc_profile")  # grey ICC embedded
    assert _sha(src) == before  # the original is never modified


def test_folder_of_mixed_junk_renders_the_good_files_and_names_the_bad(home, capsys):
    folder = home / "mixed"
    folder.mkdir()
    good = [_jpeg_with_exif(KODAK / f"kodim{n:02d}.png", folder / f"good{n}.jpg", 256) for n in (3, 21)]
    (folder / "notes.txt").write_text("shopping list")
    (folder / "fake.jpg").write_text("this is not a jpeg")
    (folder / "empty.png").write_bytes(b"")
    full = (KODAK / "kodim05.png").read_bytes()
    (folder / "truncated.png").write_bytes(full[: len(full) // 3])
    jpeg = good[0].read_bytes()
    (folder / "cut.jpg").write_bytes(jpeg[: len(jpeg) // 2])  # not truncated.jpg: one output each
    _header_bomb(folder / "bomb.png")
    out = home / "out"
    code = main(["render", str(folder), "--out-dir", str(out), "--format", "jpeg", "-q"])
    err = capsys.readouterr().err
    assert code == 2
    for bad in ("fake.jpg", "empty.png", "truncated.png", "cut.jpg", "bomb.png"):
        lines = [line for line in err.splitlines() if bad in line]
        assert len(lines) == 1, (bad, err)
    assert "50000" in next(line for line in err.splitlines() if "bomb.png" in line)
    assert sorted(p.name for p in out.iterdir()) == ["good21.jpg", "good3.jpg"]  # no partial files
    for path in out.iterdir():
        assert Image.open(path).mode == "L"


def test_unknown_style_and_slider_fail_before_any_output(home, capsys):
    src = _jpeg_with_exif(KODAK / "kodim01.png", home / "a.jpg", 128)
    out = home / "out"
    assert main(["render", str(src), "--out-dir", str(out), "--style", "no-such-style"]) == 2
    assert "no-such-style" in capsys.readouterr().err
    assert main(["render", str(src), "--out-dir", str(out), "--set", "sky.sparkle=3"]) == 2
    assert "sparkle" in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())


def test_output_may_not_replace_the_original(home, capsys):
    src = _jpeg_with_exif(KODAK / "kodim01.png", home / "a.jpg", 128)
    before = _sha(src)
    assert main(["render", str(src), "-o", str(src), "-q"]) == 2
    assert "original" in capsys.readouterr().err
    assert _sha(src) == before


def test_sky_override_darkens_only_the_sky(home):
    src = _jpeg_with_exif(KODAK / "kodim21.png", home / "lighthouse.jpg", 512)  # sky above a lighthouse
    plain, dark = home / "plain.png", home / "dark.png"
    assert main(["render", str(src), "-o", str(plain), "-q", "--style", "neutral"]) == 0
    assert main(["render", str(src), "-o", str(dark), "-q", "--style", "neutral",
                 "--set", "sky.exposure=-1.5"]) == 0
    a = np.asarray(Image.open(plain), dtype=np.float64)
    b = np.asarray(Image.open(dark), dtype=np.float64)
    h = a.shape[0]
    top, bottom = slice(0, h // 6), slice(h - h // 6, h)  # sky band / rocks and sea band
    assert (a[top] - b[top]).mean() > 3000  # clearly darker (16-bit code values)
    assert abs((a[bottom] - b[bottom]).mean()) < 0.25 * (a[top] - b[top]).mean()


def test_a_styles_local_adjustment_takes_set_overrides(home, capsys):
    """red-filter-landscape has one graduated filter (local0): ``--set local0.*`` reaches it,
    colour range included, and a local adjustment the style does not have is a clear error."""
    src = _jpeg_with_exif(KODAK / "kodim21.png", home / "lighthouse.jpg", 384)
    out = {name: home / f"{name}.png" for name in ("style", "burnt", "ranged")}
    base = ["--style", "red-filter-landscape", "-q"]
    assert main(["render", str(src), "-o", str(out["style"])] + base) == 0
    assert main(["render", str(src), "-o", str(out["burnt"]), "--set", "local0.exposure=-1.5"] + base) == 0
    assert main(["render", str(src), "-o", str(out["ranged"]), "--set", "local0.exposure=-1.5",
                 "--set", "local0.color_range=40", "--set", "local0.pick_x=0.2",
                 "--set", "local0.pick_y=0.1"] + base) == 0
    a, b, c = (np.asarray(Image.open(out[n]), dtype=np.float64) for n in ("style", "burnt", "ranged"))
    h, w = a.shape
    sky = (slice(h // 20, h // 5), slice(w // 6, w // 3))
    tower = (slice(int(0.3 * h), int(0.45 * h)), slice(int(0.44 * w), int(0.465 * w)))  # white, in the filter
    assert (a[sky] - b[sky]).mean() > 2000 and (a[tower] - b[tower]).mean() > 2000
    # the colour range picked in the sky: the sky still burnt, the white tower spared (brighter than
    # under the plain filter; even than the style's own render, whose filter touched it too)
    assert (a[sky] - c[sky]).mean() > 0.5 * (a[sky] - b[sky]).mean()
    assert (c[tower] - b[tower]).mean() > (a[tower] - b[tower]).mean()
    assert main(["render", str(src), "-o", str(home / "x.png"), "--set", "local1.exposure=-1"] + base) == 2
    assert "local1: there are only 1 local adjustments" in capsys.readouterr().err
    assert not (home / "x.png").exists()


def test_cli_process_reports_cuda_request_without_gpu(home):
    pytest.importorskip("torch")
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA; the message is for machines without")
    src = _jpeg_with_exif(KODAK / "kodim01.png", home / "a.jpg", 64)
    proc = subprocess.run([sys.executable, "-m", "silverprint", "render", str(src), "--out-dir",
                           str(home / "o"), "--device", "cuda"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "CUDA" in proc.stderr and "Traceback" not in proc.stderr
