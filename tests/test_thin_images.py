"""Thin and tiny photos (issue 13, item 3): every stage renders any size from 1 x 1 up.

A 6000 x 20 panorama strip or a 2 x 500 sliver used to raise inside the descriptors
(`np.gradient` on a one-pixel grid) or the region analysis, so `render DIR` stopped with a
traceback before the rest of the batch and the service answered 500. Such files are photos (a
strip cut from a panorama, a contact-sheet sliver): they render, at their own shape.
"""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from servicehelp import running_service
from silverprint.cli import main
from silverprint.descriptors import DIM, describe
from silverprint.params import SEMANTIC_REGIONS, Params, default_local
from silverprint.pipeline import analyse, local_masks_for, render_photo
from silverprint.render import Preview, render_array

#: (height, width): single pixels, both orientations of strips one to twenty pixels thick, and
#: strips long enough that the analysis copy is one pixel thick (3 x 10000 -> 1 x 768).
SHAPES = [(1, 1), (2, 2), (1, 7), (7, 1), (2, 500), (500, 2), (20, 6000), (6000, 20),
          (3, 10000), (10000, 3)]


def _photo(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A colourful (h, w, 3) uint8 image: a sky-like blue ramp over green texture, with noise."""
    rng = np.random.default_rng(seed)
    ys = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None]
    xs = np.linspace(0.0, 1.0, w, dtype=np.float32)[None, :]
    rgb = np.stack([0.3 + 0.4 * xs * ys, 0.4 + 0.3 * ys + 0 * xs, 0.9 - 0.6 * ys + 0 * xs], axis=-1)
    rgb = rgb + rng.normal(0.0, 0.05, (h, w, 3))
    return (np.clip(rgb, 0, 1) * 255).astype(np.uint8)


def _busy_params() -> Params:
    """Every spatial stage switched on: structure, grain, vignette, toning, three local shapes
    (two with a colour range)."""
    params = Params()
    for sliders in params.regions.values():
        sliders["structure"] = 50.0
    params.global_.update(grain=40.0, vignette=-30.0, tone_highlight_sat=20.0)
    for kind in ("graduated", "radial", "point"):
        local = default_local(kind)
        local["exposure"] = 0.6
        if kind != "point":
            local["color_range"] = 40.0
        params.local.append(local)
    return params


def _sound(image: np.ndarray, h: int, w: int) -> None:
    assert image.shape[:2] == (h, w)
    assert np.isfinite(image).all()
    assert image.min() >= 0.0 and image.max() <= 1.0


@pytest.mark.parametrize("h, w", SHAPES)
def test_render_photo_keeps_the_shape_of_thin_and_tiny_photos(h, w):
    photo = _photo(h, w)
    _sound(render_photo(photo, device="cpu"), h, w)
    toned = render_photo(photo, "sepia", device="cpu")
    _sound(toned, h, w)
    assert toned.ndim == 3


@pytest.mark.parametrize("h, w", [(1, 1), (2, 500), (6000, 20), (3, 10000)])
def test_every_stage_of_a_busy_render_handles_thin_photos(h, w):
    """Analysis (masks at the analysis image's own shape, a partition of unity), local masks, the
    full-size render on both paths (NumPy bands and torch) and the GUI's cached preview."""
    photo = _photo(h, w, seed=1)
    analysis = analyse(photo)
    small = analysis.rgb_small
    assert analysis.masks.shape == (len(SEMANTIC_REGIONS),) + small.shape[:2]
    np.testing.assert_allclose(analysis.masks.sum(axis=0), 1.0, atol=1e-5)
    assert analysis.descriptors.shape == (DIM,) and np.isfinite(analysis.descriptors).all()
    params = _busy_params()
    local = local_masks_for(params, analysis)
    assert local.shape == (3,) + small.shape[:2] and np.isfinite(local).all()
    for fast in (True, False):
        _sound(render_array(photo, analysis.masks, local, params, device="cpu", fast=fast), h, w)
    _sound(Preview(small, analysis.masks, local, "cpu").render(params), *small.shape[:2])


@pytest.mark.parametrize("h, w", [(1, 1), (1, 256), (256, 1), (2, 600)])
def test_descriptors_of_one_pixel_strips_are_finite(h, w):
    rgb = _photo(h, w).astype(np.float32) / 255
    masks = np.full((len(SEMANTIC_REGIONS), h, w), 1.0 / len(SEMANTIC_REGIONS), np.float32)
    values = describe(rgb, masks)
    assert values.shape == (DIM,) and np.isfinite(values).all()


def _save_png(path, rgb: np.ndarray) -> None:
    Image.fromarray(rgb, "RGB").save(path)


def test_a_folder_with_a_strip_renders_every_photo(tmp_path, monkeypatch, capsys):
    """The strips sort first: before the fix the batch stopped there with a traceback."""
    monkeypatch.setenv("SILVERPRINT_HOME", str(tmp_path / "home"))
    folder = tmp_path / "photos"
    folder.mkdir()
    sizes = {"a_panorama_strip.png": (20, 6000), "b_sliver.png": (500, 2), "c_photo.png": (48, 64)}
    for name, (h, w) in sizes.items():
        _save_png(folder / name, _photo(h, w))
    out = tmp_path / "out"
    assert main(["render", str(folder), "--out-dir", str(out), "-q"]) == 0
    assert "Traceback" not in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == sorted(sizes)
    for name, (h, w) in sizes.items():
        with Image.open(out / name) as im:
            assert im.size == (w, h) and im.mode == "I;16"


def test_the_service_renders_and_analyses_a_strip(tmp_path):
    """Was HTTP 500 (the same descriptor crash behind the route)."""
    buf = io.BytesIO()
    Image.fromarray(_photo(20, 6000), "RGB").save(buf, "PNG")
    with running_service(tmp_path / "home") as service:
        client = service.client()
        data = client.render(buf.getvalue(), name="strip.png", style="noir", fmt="png16")
        with Image.open(io.BytesIO(data)) as im:
            assert im.size == (6000, 20)
        result = client.analyse(buf.getvalue(), style="noir", masks=True)
        assert (result["width"], result["height"]) == (6000, 20)
        assert len(result["regions"]) == len(SEMANTIC_REGIONS)


def test_grain_on_a_long_strip_stays_within_the_strip():
    """The grain blur scaled with the long side alone: a 20 x 100,000 strip asked for a 1,400-px
    kernel over 20 rows (tens of seconds of CPU for 2 MP, inside the service's pixel budget)."""
    import torch

    from silverprint.render.spatial import grain_cell, grain_noise

    assert grain_cell(100, 20, 100_000) <= 5.0
    assert grain_cell(100, 4000, 6000) == pytest.approx(12.0)  # ordinary frames: unchanged
    assert grain_cell(30, 683, 1024) == pytest.approx((1 + 7 * 0.3) * 1024 / 4000)
    noise = grain_noise(7, 100, 20, 100_000, 0, 20)
    assert noise.shape == (20, 100_000) and torch.isfinite(noise).all()
    assert 0.8 < float(noise.std()) < 1.2
