"""The product works from a built wheel in a fresh virtual environment, not only from the checkout.

Slow (a fresh venv installs every dependency, from pip's cache where it can), so marked `slow`;
CI runs it. This catches resources or plug-ins left out of the wheel and imports that only work
because the checkout is on sys.path.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from shared_data import KODAK

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_in_fresh_venv_renders_a_photo(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)],
                   check=True)
    (wheel,) = wheels.glob("silverprint-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run(pip + ["torch==2.13.0"], check=True)  # the local CPU wheel (see README)
    subprocess.run(pip + [str(wheel)], check=True)
    out = tmp_path / "out.png"
    src = KODAK / "kodim21.png"
    proc = subprocess.run([str(venv / "bin" / "silverprint"), "render", str(src), "-o", str(out), "-q"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    im = Image.open(out)
    assert im.mode == "I;16" and im.size == Image.open(src).size
    listed = subprocess.run([str(venv / "bin" / "silverprint"), "styles", "list", "--json"],
                            capture_output=True, text=True, cwd=tmp_path, check=True)
    builtins = [s for s in json.loads(listed.stdout) if s["builtin"]]
    assert len(builtins) >= 8  # the built-in style files made it into the wheel
