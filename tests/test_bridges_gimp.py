"""GIMP 2.10 (and GIMP 3 where installed) driven headless against a real `silverprint serve`.

The plug-in is installed with `silverprint install-plugins gimp --dest <temp GIMP dir>`. A Script-Fu
batch loads a photo, calls the plug-in, then saves what it finds: the top layer as
``layer-<count>-<name>.png`` and the bottom layer as ``bottom.png``. The assertions are on those
files (gimp-console exits 0 even when a batch command fails).
"""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from servicehelp import SILVERPRINT, running_service, small_photo
from shared_data import KODAK

pytestmark = pytest.mark.bridge

GIMP2 = shutil.which("gimp-console-2.10") or shutil.which("gimp-console")
#: GIMP 3: on PATH (Debian 13), or a runner named by SILVERPRINT_GIMP3_CONSOLE (e.g. a wrapper that
#: runs gimp-console-3.0 inside a Debian 13 chroot with /tmp bind-mounted)
GIMP3 = os.environ.get("SILVERPRINT_GIMP3_CONSOLE") or shutil.which("gimp-console-3.0")


def read16(path: Path) -> np.ndarray:
    """Pixels of a PNG/TIFF as float in 0..255 units, grey (first channel of R=G=B images)."""
    import cv2

    data = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert data is not None, path
    scale = 65535.0 if data.dtype == np.uint16 else 255.0
    data = data.astype(np.float64) * 255.0 / scale
    if data.ndim == 3:
        channels = data[..., :3]
        assert np.abs(channels - channels[..., :1]).max() < 1e-6, "not grey (R=G=B)"
        data = channels[..., 0]
    return data


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    with running_service(tmp_path_factory.mktemp("sp-gimp")) as svc:
        yield svc


@pytest.fixture(scope="module")
def gimp_home(tmp_path_factory, service):
    if not GIMP2:
        pytest.skip("gimp-console (GIMP 2.10) is not installed: run .ci/install-bridges.sh")
    home = tmp_path_factory.mktemp("gimp2")
    subprocess.run([str(SILVERPRINT), "install-plugins", "gimp", "--dest", str(home)],
                   check=True, env=service.env(), capture_output=True)
    return home


def run_gimp(gimp_home: Path, env: dict, image: Path, out_dir: Path, style: str = "", mode: int = 2,
             timeout: float = 120) -> subprocess.CompletedProcess:
    out_dir.mkdir(parents=True, exist_ok=True)
    script = f"""
(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE "{image}" "{image}")))
       (drawable (car (gimp-image-get-active-drawable image))))
  (catch (gimp-message "silverprint call failed")
    (plug-in-silverprint-bw RUN-NONINTERACTIVE image drawable "{style}" {mode}))
  (let* ((layers (gimp-image-get-layers image))
         (count (car layers))
         (top (aref (cadr layers) 0))
         (bottom (aref (cadr layers) (- count 1)))
         (name (car (gimp-item-get-name top)))
         (out (string-append "{out_dir}/layer-" (number->string count) "-" name ".png"))
         (bottom-out "{out_dir}/bottom.png"))
    (gimp-file-save RUN-NONINTERACTIVE image top out out)
    (gimp-file-save RUN-NONINTERACTIVE image bottom bottom-out bottom-out)))"""
    run_env = dict(env, GIMP2_DIRECTORY=str(gimp_home))
    return subprocess.run([GIMP2, "-i", "-d", "-f", "-b", script, "-b", "(gimp-quit 0)"],
                          env=run_env, capture_output=True, text=True, timeout=timeout)


def only_layer_file(out_dir: Path) -> Path:
    found = sorted(out_dir.glob("layer-*.png"))
    assert len(found) == 1, (found, list(out_dir.iterdir()))
    return found[0]


def cli_render(service, src: Path, dst: Path, style: str | None = None) -> np.ndarray:
    cmd = [str(SILVERPRINT), "render", str(src), "-o", str(dst), "--format", "png16", "-q"]
    if style:
        cmd += ["--style", style]
    subprocess.run(cmd, check=True, env=service.env(), capture_output=True, timeout=300)
    return read16(dst)


def test_gimp2_new_layer_matches_silverprint_render(service, gimp_home, tmp_path):
    src = small_photo(tmp_path / "kodim05.png", KODAK / "kodim05.png", (120, 80))
    run = run_gimp(gimp_home, service.env(), src, tmp_path / "out")
    layer_file = only_layer_file(tmp_path / "out")
    default = service.client().styles()["default"]
    assert layer_file.name == f"layer-2-{default}.png", run.stderr[-2000:]
    layer = read16(layer_file)
    expected = cli_render(service, src, tmp_path / "cli.png")
    assert layer.shape == expected.shape == (80, 120)
    assert np.abs(layer - expected).max() <= 1.0  # within one 8-bit code value
    # the original layer is untouched
    assert np.array_equal(np.asarray(Image.open(tmp_path / "out" / "bottom.png").convert("RGB")),
                          np.asarray(Image.open(src).convert("RGB")))


def test_gimp2_sixteen_bit_image_gets_a_sixteen_bit_layer(service, gimp_home, tmp_path):
    src = small_photo(tmp_path / "kodim14.png", KODAK / "kodim14.png", (96, 64), bits16=True)
    run_gimp(gimp_home, service.env(), src, tmp_path / "out", style="noir")
    layer_file = only_layer_file(tmp_path / "out")
    assert layer_file.name == "layer-2-noir.png"
    import cv2

    raw = cv2.imread(str(layer_file), cv2.IMREAD_UNCHANGED)  # (Pillow reads 16-bit RGB PNG as 8-bit)
    assert raw.dtype == np.uint16 and int(raw.max()) > 255, "the layer is not 16-bit"
    layer = read16(layer_file)
    expected = cli_render(service, src, tmp_path / "cli.png", style="noir")
    assert np.abs(layer - expected).max() <= 1.0


def test_gimp2_service_not_running_says_how_to_start_and_leaves_image(service, gimp_home, tmp_path):
    src = small_photo(tmp_path / "kodim07.png", KODAK / "kodim07.png", (64, 48))
    env = dict(service.env(), SILVERPRINT_URL="http://127.0.0.1:9")  # nothing listens on port 9
    started = time.monotonic()
    run = run_gimp(gimp_home, env, src, tmp_path / "out")
    assert time.monotonic() - started < 60
    assert only_layer_file(tmp_path / "out").name.startswith("layer-1-")
    assert "not running" in run.stderr and "silverprint serve" in run.stderr


def _companion(service, answer: str, style: str | None = None, holder: dict | None = None) -> None:
    """Stand in for the companion: take the next pending session and answer it over HTTP."""
    client = service.client(timeout=120)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        pending = client.sessions(state="pending", wait=2)["sessions"]
        if pending:
            session = pending[0]
            data = client.session_image(session["id"])
            if holder is not None:
                holder["sent"] = data
                holder["session"] = session
            if answer == "cancel":
                client.cancel(session["id"])
            else:
                client.apply(session["id"], style=style)
            return


def test_gimp2_companion_cancel_leaves_image_untouched(service, gimp_home, tmp_path):
    src = small_photo(tmp_path / "kodim19.png", KODAK / "kodim19.png", (64, 48))
    holder: dict = {}
    helper = threading.Thread(target=_companion, args=(service, "cancel", None, holder))
    helper.start()
    run = run_gimp(gimp_home, service.env(), src, tmp_path / "out", mode=1)
    helper.join()
    assert holder["session"]["host"] == "gimp"
    assert only_layer_file(tmp_path / "out").name.startswith("layer-1-")
    assert "cancelled" in run.stderr


def test_gimp2_companion_apply_inserts_the_companions_style(service, gimp_home, tmp_path):
    src = small_photo(tmp_path / "kodim21.png", KODAK / "kodim21.png", (72, 48))
    holder: dict = {}
    helper = threading.Thread(target=_companion, args=(service, "apply", "high-key", holder))
    helper.start()
    run_gimp(gimp_home, service.env(), src, tmp_path / "out", mode=1)
    helper.join()
    sent = np.asarray(Image.open(io.BytesIO(holder["sent"])).convert("RGB"))
    assert np.array_equal(sent, np.asarray(Image.open(src).convert("RGB")))  # GIMP sent the visible image
    layer_file = only_layer_file(tmp_path / "out")
    assert layer_file.name == "layer-2-high-key.png"
    expected = cli_render(service, src, tmp_path / "cli.png", style="high-key")
    assert np.abs(read16(layer_file) - expected).max() <= 1.0


def test_gimp3_new_layer_matches_silverprint_render(service, tmp_path):
    if not GIMP3:
        pytest.skip("gimp-console-3.0 is not installed (GIMP 3 is not packaged for Debian 12; "
                    "Debian 13 has it)")
    home = tmp_path / "gimp3"
    subprocess.run([str(SILVERPRINT), "install-plugins", "gimp", "--gimp-version", "3.0", "--dest", str(home)],
                   check=True, env=service.env(), capture_output=True)
    src = small_photo(tmp_path / "kodim05.png", KODAK / "kodim05.png", (120, 80))
    out = tmp_path / "out"
    out.mkdir()
    code = f"""
from gi.repository import Gimp, Gio
image = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path("{src}"))
proc = Gimp.get_pdb().lookup_procedure("plug-in-silverprint-bw")
config = proc.create_config()
config.set_property("run-mode", Gimp.RunMode.NONINTERACTIVE)
config.set_property("image", image)
config.set_core_object_array("drawables", image.get_selected_drawables())
config.set_property("mode", 2)
proc.run(config)
layers = image.get_layers()
top = layers[0]
path = "{out}/layer-%d-%s.png" % (len(layers), top.get_name())
dup = Gimp.Image.new(image.get_width(), image.get_height(), image.get_base_type())
copy = Gimp.Layer.new_from_drawable(top, dup)
dup.insert_layer(copy, None, 0)
Gimp.file_save(Gimp.RunMode.NONINTERACTIVE, dup, Gio.File.new_for_path(path), None)
"""
    env = dict(service.env(), GIMP3_DIRECTORY=str(home))
    subprocess.run([GIMP3, "-i", "-d", "-f", "--quit", "--batch-interpreter=python-fu-eval", "-b", code],
                   env=env, capture_output=True, text=True, timeout=180)
    layer_file = only_layer_file(out)
    default = service.client().styles()["default"]
    assert layer_file.name == f"layer-2-{default}.png"
    expected = cli_render(service, src, tmp_path / "cli.png")
    assert np.abs(read16(layer_file) - expected).max() <= 1.0
