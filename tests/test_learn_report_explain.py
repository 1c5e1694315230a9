"""`silverprint evaluate --report` explains a learned style: per held-out photo the decisions made and
why, and one plot per learned dependence with the training pairs on it.

The portfolio is a small content-adaptive photographer made from real Kodak photos: each original
is a darker or brighter exposure of its scene, and the edit is the same B&W print whatever the
exposure, so the photographer pushes dark originals up and pulls bright ones down. What the style
learns from that is an exposure that depends on the photo's brightness.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from silverprint.cli import main
from learn_files import KODAK, bw_edit, photo, save, short_fits

pytestmark = pytest.mark.skipif(not KODAK.is_dir(), reason="needs ../shared/data (the team's data pack)")
#: (photo, linear-light gain of its original): each scene exposed darker and brighter, so what
#: changes the edit is the exposure of the original, not the scene
PAIRS = tuple((f"{scene}-{tag}", scene, gain)
              for scene in ("kodim23", "kodim05", "kodim08", "kodim14", "kodim03", "kodim15", "kodim21")
              for tag, gain in (("dark", 0.45), ("bright", 1.5)))
#: Pairs learned from: enough for a per-photo decoder (`perphoto.MIN_PAIRS`), the rest held out.
TRAIN = 10


def _exposed(rgb: np.ndarray, gain: float) -> np.ndarray:
    x = rgb.astype(np.float32) / 255
    lin = np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4) * gain
    out = np.where(lin <= 0.0031308, lin * 12.92, 1.055 * np.clip(lin, 0.0031308, 1) ** (1 / 2.4) - 0.055)
    return (np.clip(out, 0, 1) * 255 + 0.5).astype(np.uint8)


@pytest.fixture()
def adaptive(tmp_path, monkeypatch):
    short_fits(monkeypatch, tmp_path / "home")
    root = tmp_path / "portfolio"
    for name, scene, gain in PAIRS:
        rgb = photo(scene, 160)
        save(_exposed(rgb, gain), root / "originals" / f"{name}.jpg", quality=95)
        save(bw_edit(rgb), root / "edits" / f"{name}.jpg", quality=95)
    return root


def test_evaluate_report_explains_each_photo_and_plots_what_was_learned(adaptive, tmp_path, capsys):
    assert main(["learn", str(adaptive), "--name", "adaptive", "--train", str(TRAIN), "--json", "-q"]) == 0
    entry = json.loads(capsys.readouterr().out)["styles"][0]
    from silverprint.styles import load_style

    style = load_style("adaptive")
    assert style.decoder is not None, f"the style learned no per-photo decoder: {entry.get('ablation')}"
    report_dir = tmp_path / "report"
    assert main(["evaluate", str(adaptive), "--style", "adaptive", "--report", str(report_dir), "-q"]) == 0
    out = capsys.readouterr().out
    assert "report:" in out
    page = (report_dir / "index.html").read_text()
    data = json.loads((report_dir / "explanations.json").read_text())
    assert sorted(data["photos"]) == sorted(entry["test"])
    # per held-out photo: the decisions in words, on the page and in the JSON
    assert page.count("What the style decided for this photo, and why") == len(entry["test"])
    for name in entry["test"]:
        sentences = data["photos"][name]["sentences"]
        assert sentences and all(s in page for s in map(_html, sentences)), sentences
    # the darkest and the brightest held-out original: exposure moves the right way and says why
    decisions = {n: {d["key"]: d for d in data["photos"][n]["decisions"]} for n in entry["test"]}
    exposure = [k for k in style.decoder.outputs if k.endswith(".exposure")]
    assert exposure, f"no exposure among the decoded sliders {style.decoder.outputs}"
    key = exposure[0]
    gains = {name: gain for name, _, gain in PAIRS}
    darkest = min(entry["test"], key=lambda n: gains[Path(n).stem])
    brightest = max(entry["test"], key=lambda n: gains[Path(n).stem])
    assert decisions[darkest][key]["delta"] > decisions[brightest][key]["delta"]
    assert any("darker than your usual" in s for s in data["photos"][darkest]["sentences"]), \
        data["photos"][darkest]["sentences"]
    # one PNG per learned dependence, with the training pairs on it
    plots = re.findall(r'src="images/(dependence-[^"]+\.png)"', page)
    assert plots and len(plots) == min(len(data["dependences"]), 8)
    for name in plots:
        png = (report_dir / "images" / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    first = data["dependences"][0]
    assert sorted(p["name"] for p in first["points"]) == sorted(entry["train"])
    assert all(p["own"] is not None for p in first["points"])
    assert "photos it learned from" in page


def _html(text: str) -> str:
    import html

    return html.escape(text)
