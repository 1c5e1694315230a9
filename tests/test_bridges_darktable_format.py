"""darktable's export target writes the format the user picked in the export module (issue 16).

Real darktable-cli (no X) against a real `silverprint serve`: the photo is exported in the chosen
format and handed to the plug-in's storage, as darktable's export module does; the result next to
the original must have that format (16-bit PNG, 8-bit JPEG, 16-bit TIFF), not always a TIFF.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from servicehelp import SILVERPRINT, running_service, small_photo
from shared_data import KODAK

pytestmark = pytest.mark.bridge

DT_CLI = shutil.which("darktable-cli")

SCRIPT = """
local dt = require "darktable"
local sp = require "silverprint/silverprint"
dt.register_event("silverprint_format_test", "exit", function()
  local img = dt.database.import("{src}")
  local fmt = dt.new_format("{format}")
  {bpp}
  local tmp = "{work}/exported.{ext}"
  fmt:write_image(img, tmp)
  sp.silverprint.store(nil, img, fmt, tmp, 1, 1, true, nil)
end)
"""


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    if not DT_CLI:
        pytest.skip("darktable is not installed: run .ci/install-bridges.sh")
    with running_service(tmp_path_factory.mktemp("sp-dt-format")) as svc:
        yield svc


@pytest.mark.parametrize("format, ext, bpp, suffix, mode, dtype", [
    ("png", "png", "fmt.bpp = 16", ".png", "I;16", np.uint16),
    ("jpeg", "jpg", "", ".jpg", "L", np.uint8),
    ("tiff", "tif", "fmt.bpp = 16", ".tif", None, np.uint16),
])
def test_export_target_writes_the_picked_format(service, tmp_path, format, ext, bpp, suffix, mode, dtype):
    config, cache, photos, work = (tmp_path / n for n in ("config", "cache", "photos", "work"))
    for folder in (cache, photos, work):
        folder.mkdir()
    subprocess.run([str(SILVERPRINT), "install-plugins", "darktable", "--dest", str(config)],
                   check=True, env=service.env(), capture_output=True)
    src = small_photo(photos / "kodim03.png", KODAK / "kodim03.png", (96, 64))
    script = work / "test.lua"
    script.write_text(SCRIPT.format(src=src, work=work, format=format, ext=ext, bpp=bpp))
    run = subprocess.run([DT_CLI, str(src), str(work / "dummy.jpg"), "--core", "--configdir", str(config),
                          "--cachedir", str(cache), "--library", str(work / "library.db"),
                          "--luacmd", f'dofile("{script}")'], env=service.env(), capture_output=True,
                         text=True, timeout=180)
    results = [p for p in photos.iterdir() if p.name.startswith("kodim03_silverprint-")]
    assert len(results) == 1, (sorted(p.name for p in photos.iterdir()), run.stderr[-2000:])
    assert results[0].suffix == suffix
    if suffix == ".tif":
        import tifffile

        data = tifffile.imread(results[0])
    else:
        with Image.open(results[0]) as image:
            assert image.mode.startswith(mode), image.mode
            data = np.asarray(image)
    assert data.dtype == dtype and data.shape[:2] == (64, 96) and data.std() > 0
