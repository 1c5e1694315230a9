"""Every built-in style through the real pipeline (regions, descriptors, decode, renderer).

Renders each built-in on every photo of the shared Kodak suite at a small preview size, so the whole
matrix stays fast, and checks what a photographer would: untoned styles give true grey, toned ones a
3-channel image, styles really differ from each other, faces are neither crushed nor blown, and a
file rendered with each style is a 16-bit PNG that keeps the source's EXIF.
"""
from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from shared_data import KODAK

PREVIEW = 128  # long side, pixels: enough for regions and style character, fast for 24 x 12
FACE_SIZE = 256  # long side for the face checks
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not KODAK.is_dir(), reason=f"needs the shared Kodak photos in {KODAK}")]


def _render_all(photos: list[Path], size: int):
    """({style name: Style}, {style: {stem: image}}, {stem: Analysis}) at `size` long side."""
    import cv2

    from silverprint.imageio import load_image
    from silverprint.pipeline import analyse, params_for, render_with
    from silverprint.styles import list_styles

    styles = [s for s in list_styles() if s.builtin]
    out: dict[str, dict[str, np.ndarray]] = {s.name: {} for s in styles}
    analyses = {}
    for path in photos:
        rgb = load_image(path).rgb
        scale = size / max(rgb.shape[:2])
        small = cv2.resize(rgb, (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale)),
                           interpolation=cv2.INTER_AREA)
        analysis = analyse(small)
        analyses[path.stem] = analysis
        for style in styles:
            out[style.name][path.stem] = render_with(small, analysis, params_for(style, analysis), device="cpu")
    return {s.name: s for s in styles}, out, analyses


@pytest.fixture(scope="module")
def renders():
    """Every built-in on every Kodak photo at `PREVIEW` size, rendered once for this module."""
    photos = sorted(KODAK.glob("*.png"))
    assert len(photos) >= 24
    return _render_all(photos, PREVIEW)


def _rgb(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 3 else np.repeat(image[..., None], 3, axis=2)


def test_every_style_renders_every_photo_grey_or_toned(renders):
    styles, out, _ = renders
    for name, images in out.items():
        for stem, image in images.items():
            assert np.isfinite(image).all() and image.min() >= 0 and image.max() <= 1, (name, stem)
            if styles[name].toned:
                assert image.ndim == 3 and image.shape[2] == 3, (name, stem)
                spread = image.max(axis=2) - image.min(axis=2)
                assert spread.mean() > 0.005, f"{name} on {stem} should be visibly toned"
            else:
                grey = image if image.ndim == 2 else image[..., 0]
                if image.ndim == 3:  # a 3-channel untoned result must still be exactly grey
                    assert np.array_equal(image[..., 0], image[..., 1]) and np.array_equal(image[..., 1], image[..., 2])
                assert grey.ndim == 2, (name, stem)


def test_styles_differ_from_each_other(renders):
    _, out, _ = renders
    names = sorted(out)
    for a, b in itertools.combinations(names, 2):
        diff = np.mean([np.abs(_rgb(out[a][s]) - _rgb(out[b][s])).mean() for s in out[a]])
        assert diff > 0.01, f"{a} and {b} differ by only {diff:.4f} on average"


def _face_skin(analysis, shape: tuple[int, int]) -> np.ndarray:
    """Skin pixels inside the detected face boxes (not pearls or a bright shirt on the chest)."""
    import cv2

    from silverprint.params import SEMANTIC_REGIONS

    skin = analysis.masks[SEMANTIC_REGIONS.index("skin")]
    skin = cv2.resize(skin, shape[::-1], interpolation=cv2.INTER_AREA) > 0.5
    boxes = np.zeros(shape, bool)
    h, w = shape
    for face in analysis.regions.faces:
        x0, y0, x1, y1 = face.box
        boxes[max(0, int(y0 * h)):int(np.ceil(y1 * h)), max(0, int(x0 * w)):int(np.ceil(x1 * w))] = True
    return skin & boxes


def test_faces_are_neither_crushed_nor_blown(renders):
    """Face skin that has readable detail in the neutral rendering keeps it in every style.

    Judged at 256 px on the photos where faces were found: at the 128 px of the matrix a face is
    a few dozen pixels, too few for its region statistics (and so its adaptive sliders) to hold.
    """
    portraits = [KODAK / f"{stem}.png" for stem, a in renders[2].items() if a.regions.faces]
    _, out, analyses = _render_all(portraits, FACE_SIZE)
    checked = 0
    for stem, analysis in analyses.items():
        neutral = out["neutral"][stem]
        # mid-tone skin: not the pupils and nostrils, not the specular highlights
        readable = _face_skin(analysis, neutral.shape) & (neutral > 0.08) & (neutral < 0.85)
        if readable.sum() < 50:  # no face, or too small at this size to judge
            continue
        checked += 1
        for name, images in out.items():
            values = _rgb(images[stem]).mean(axis=2)[readable]
            crushed, blown = (values < 0.03).mean(), (values > 0.97).mean()
            assert crushed < 0.03 and blown < 0.03, \
                f"{name} on {stem}: {crushed:.1%} of the face crushed, {blown:.1%} blown"
            assert 0.1 < np.median(values) < 0.85, f"{name} on {stem}: face median {np.median(values):.2f}"
    assert checked >= 3, "the Kodak suite has several portraits; the region analysis should find them"


def test_render_file_with_every_style_keeps_exif_in_16_bit_png(tmp_path):
    from PIL import Image

    from silverprint.pipeline import render_file
    from silverprint.styles import list_styles

    src = tmp_path / "holiday.jpg"
    photo = Image.open(KODAK / "kodim23.png").convert("RGB")
    photo.thumbnail((192, 192))
    exif = Image.Exif()
    exif[0x013B] = "Jane Photographer"  # Artist
    exif[0x010F] = "TestCam"  # Make
    photo.save(src, quality=92, exif=exif.tobytes())
    before = src.read_bytes()
    for style in list_styles():
        if not style.builtin:
            continue
        dst = render_file(src, tmp_path / f"{style.name}.png", style=style.name, fmt="png16", device="cpu")
        with Image.open(dst) as im:
            im.load()
            if style.toned:
                assert im.mode in ("RGB", "RGBA") or "16" in im.mode or im.mode.startswith("I"), im.mode
            else:
                assert im.mode in ("I;16", "I;16B", "I", "L"), (style.name, im.mode)
                assert im.mode != "L", f"{style.name}: expected a 16-bit grey PNG"
            tags = im.getexif()
            assert tags.get(0x013B) == "Jane Photographer", f"{style.name}: EXIF not kept"
    assert src.read_bytes() == before  # the original is never modified
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left


def test_styles_show_explains_a_style_on_a_photo(tmp_path, capsys, monkeypatch):
    import json

    from PIL import Image

    from silverprint.cli import main

    monkeypatch.setenv("SILVERPRINT_HOME", str(tmp_path / "home"))
    photo = Image.open(KODAK / "kodim21.png").convert("RGB")
    photo.thumbnail((256, 256))
    src = tmp_path / "lighthouse.jpg"
    photo.save(src, quality=92)
    assert main(["styles", "show", "red-filter-landscape", "--photo", str(src), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)["on_photo"]
    assert sum(data["subjects"].values()) == pytest.approx(1.0, abs=0.01)
    assert data["decoder"]["local0.exposure"] < -0.2  # a sky, so the graduated filter darkens
    assert data["params"]["local"][0]["exposure"] == pytest.approx(data["decoder"]["local0.exposure"], abs=1e-3)
    assert main(["styles", "show", "silver", "--photo", str(tmp_path / "missing.jpg")]) == 2
    assert "missing.jpg" in capsys.readouterr().err
