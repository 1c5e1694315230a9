"""`silverprint learn` / `evaluate` / `render --style` on real photos, end to end through the CLI."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from silverprint.cli import main
from learn_files import KODAK, bw_edit, photo, save, short_fits

pytestmark = pytest.mark.skipif(not KODAK.is_dir(), reason="needs ../shared/data (the team's data pack)")
TRAIN = ("kodim23", "kodim05", "kodim08", "kodim14", "kodim20")


@pytest.fixture()
def quick(tmp_path, monkeypatch):
    """A private user data folder and short fits (the tests check behaviour, not the last 0.1 dB)."""
    short_fits(monkeypatch, tmp_path / "home")
    return tmp_path


def _portfolio(root, names=TRAIN):
    for n in names:
        rgb = photo(n, 192)
        save(rgb, root / "originals" / f"{n}.jpg", quality=95)
        save(bw_edit(rgb), root / "edits" / f"{n}.jpg", quality=95)
    return root


def test_learn_then_render_with_the_learned_style(quick, capsys):
    folder = _portfolio(quick / "portfolio")
    save(photo("kodim08", 192), folder / "edits" / "colour.jpg", quality=95)  # not a B&W edit
    save(photo("kodim01", 192), folder / "originals" / "colour.jpg", quality=95)
    assert main(["learn", str(folder), "--name", "mine", "--json", "-q"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["pairs"] == len(TRAIN)
    assert any("not a black-and-white edit" in s["reason"] for s in report["skipped"])
    entry = report["styles"][0]
    assert entry["name"] == "mine" and len(entry["train"]) + len(entry["test"]) == len(TRAIN)
    assert entry["heldout"]["style"]["n"] == len(entry["test"]) >= 1
    # the learned style reproduces this photographer's edit of a new photo better than plain luminance
    new = photo("kodim22", 192)
    src = save(new, quick / "new.jpg", quality=95)
    out = quick / "new_bw.png"
    assert main(["render", str(src), "--style", "mine", "-o", str(out), "-q"]) == 0
    rendered = np.asarray(Image.open(out)).astype(np.float64)
    rendered = rendered / (65535.0 if rendered.max() > 255 else 255.0)
    target = bw_edit(new).astype(np.float64) / 255
    from silverprint.learn.baselines import rec709

    plain = rec709(new.astype(np.float32) / 255)
    assert np.abs(rendered - target).mean() < 0.5 * np.abs(plain - target).mean()
    capsys.readouterr()
    assert main(["styles", "list", "--json"]) == 0
    assert "mine" in {s["name"] for s in json.loads(capsys.readouterr().out)}


def test_relearning_only_processes_what_changed(quick, capsys):
    folder = _portfolio(quick / "portfolio", TRAIN[:4])
    assert main(["learn", str(folder), "--name", "again", "--json", "-q"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert (first["prepared"], first["reused"]) == (4, 0)
    assert main(["learn", str(folder), "--name", "again", "--json", "-q"]) == 0
    second = json.loads(capsys.readouterr().out)
    assert (second["prepared"], second["reused"]) == (0, 4)
    save(bw_edit(photo("kodim23", 192))[::-1].copy(), folder / "edits" / "kodim23.jpg", quality=95)  # re-edited
    assert main(["learn", str(folder), "--name", "again", "--json", "-q"]) == 0
    third = json.loads(capsys.readouterr().out)
    assert third["prepared"] == 0 and third["reused"] == 3
    assert [s["path"].endswith("kodim23.jpg") and "cropped" in s["reason"] for s in third["skipped"]] == [True]


def test_evaluate_writes_an_html_report(quick, capsys):
    folder = _portfolio(quick / "portfolio", TRAIN[:4])
    assert main(["learn", str(folder), "--name", "rep", "-q"]) == 0
    capsys.readouterr()
    report_dir = quick / "report"
    assert main(["evaluate", str(folder), "--style", "rep", "--report", str(report_dir), "--json", "--curve",
                 "-q"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["style"]["n"] >= 1 and result["style"]["psnr"] > result["baselines"]["rec709"]["psnr"]
    assert result["learning_curve"][-1]["all"] and (report_dir / "images" / "learning-curve.png").stat().st_size
    page = (report_dir / "index.html").read_text()
    assert "held-out" in page and "global_fit" in page
    assert len(list((report_dir / "images").glob("*-error.png"))) >= 3


def test_learn_on_an_empty_folder_is_a_clear_error(quick, capsys):
    (quick / "empty").mkdir()
    assert main(["learn", str(quick / "empty"), "--name", "x", "-q"]) == 1
    assert "no usable" in capsys.readouterr().err
