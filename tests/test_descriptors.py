"""Image descriptors: names, ranges, and that each statistic measures what its name says."""
from __future__ import annotations


import numpy as np
import pytest

from silverprint.descriptors import (DESCRIPTOR_NAMES, DIM, HSV_CENTRES, MAX_FACES, as_dict, describe,
                                     hue_band_weights)
from silverprint.errors import ShapeError
from silverprint.params import HUE_BANDS, SEMANTIC_REGIONS
from shared_data import KODAK

SKY = SEMANTIC_REGIONS.index("sky")
OTHER = SEMANTIC_REGIONS.index("other")


def _plain_luminance(rgb: np.ndarray) -> np.ndarray:
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    y = lin @ np.array([0.2126, 0.7152, 0.0722])
    return np.where(y <= 0.0031308, y * 12.92, 1.055 * y ** (1 / 2.4) - 0.055)


def _only(region: int, h: int, w: int) -> np.ndarray:
    masks = np.zeros((len(SEMANTIC_REGIONS), h, w), np.float32)
    masks[region] = 1.0
    return masks


def _scene(h: int = 96, w: int = 144, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Blue sky over a textured brownish ground, with matching masks."""
    rng = np.random.default_rng(seed)
    rgb = np.empty((h, w, 3), np.float32)
    rgb[: h // 2] = (0.35, 0.55, 0.9)
    rgb[h // 2:] = (0.45, 0.35, 0.25)
    rgb[h // 2:] += rng.normal(0, 0.05, (h - h // 2, w, 1)).astype(np.float32)
    masks = _only(OTHER, h, w)
    masks[:, : h // 2] = 0
    masks[SKY, : h // 2] = 1
    return np.clip(rgb, 0, 1), masks


def test_names_and_shape():
    rgb, masks = _scene()
    d = describe(rgb, masks)
    assert d.shape == (DIM,) == (len(DESCRIPTOR_NAMES),)
    assert d.dtype == np.float32 and np.isfinite(d).all()
    assert len(set(DESCRIPTOR_NAMES)) == DIM
    for band in HUE_BANDS:
        assert f"hue_{band}" in DESCRIPTOR_NAMES
    for region in SEMANTIC_REGIONS:
        assert {f"{region}_area", f"{region}_lum", f"{region}_sat"} <= set(DESCRIPTOR_NAMES)


def test_hue_band_weights_partition_and_peak_at_centres():
    hues = np.linspace(0, 359.9, 721, dtype=np.float32)
    w = hue_band_weights(hues)
    assert np.allclose(w.sum(axis=0), 1.0, atol=1e-5)
    assert (w >= 0).all()
    for i, centre in enumerate(HSV_CENTRES):
        assert hue_band_weights(np.array([centre], np.float32))[i, 0] == pytest.approx(1.0)
    # halfway between magenta (315) and red (360 = 0) is half of each
    half = hue_band_weights(np.array([337.5], np.float32))[:, 0]
    assert half[0] == pytest.approx(0.5) and half[-1] == pytest.approx(0.5)


def test_luminance_statistics_match_plain_luminance():
    rgb, masks = _scene()
    d = as_dict(describe(rgb, masks))
    lum = _plain_luminance(rgb.astype(np.float64))
    assert d["lum_mean"] == pytest.approx(lum.mean(), abs=2e-3)
    assert d["lum_p50"] == pytest.approx(np.median(lum), abs=5e-3)
    assert d["lum_p01"] <= d["lum_p05"] <= d["lum_p25"] <= d["lum_p50"] <= d["lum_p75"] <= d["lum_p95"] <= d["lum_p99"]
    assert d["sky_lum"] == pytest.approx(lum[:48].mean(), abs=1e-2)
    assert d["sky_area"] == pytest.approx(0.5, abs=1e-3)
    assert d["other_lum"] == pytest.approx(lum[48:].mean(), abs=1e-2)


def test_darker_photo_has_lower_key_and_more_clipped_shadows():
    rgb, masks = _scene()
    bright, dark = as_dict(describe(rgb, masks)), as_dict(describe(rgb * 0.25, masks))
    assert dark["key_ev"] < bright["key_ev"] - 1.5
    assert dark["lum_mean"] < bright["lum_mean"]
    assert dark["clip_low"] >= bright["clip_low"]


def test_colour_statistics():
    grey = np.full((40, 60, 3), 0.5, np.float32)
    d = as_dict(describe(grey, _only(OTHER, 40, 60)))
    assert d["saturation"] == pytest.approx(0.0, abs=1e-6)
    assert d["colourfulness"] == pytest.approx(0.0, abs=1e-6)
    assert all(d[f"hue_{b}"] == pytest.approx(0.0, abs=1e-6) for b in HUE_BANDS)
    assert d["contrast"] == pytest.approx(0.0, abs=1e-6)
    red = np.zeros((40, 60, 3), np.float32)
    red[..., 0] = 0.8
    d = as_dict(describe(red, _only(OTHER, 40, 60)))
    assert d["saturation"] == pytest.approx(1.0, abs=1e-5)
    assert d["hue_red"] == pytest.approx(1.0, abs=1e-5)
    assert d["colourfulness"] > 0.2


def test_absent_region_falls_back_to_global_mean():
    rgb, masks = _scene()
    d = as_dict(describe(rgb, masks))
    assert d["skin_area"] == 0.0
    assert d["skin_lum"] == pytest.approx(d["lum_mean"], abs=1e-6)
    assert d["skin_sat"] == pytest.approx(d["saturation"], abs=1e-6)


def test_size_invariant_and_masks_at_other_size():
    import cv2

    photo = KODAK / "kodim23.png"
    if photo.exists():
        rgb = cv2.cvtColor(cv2.imread(str(photo)), cv2.COLOR_BGR2RGB).astype(np.float32) / 255
    else:  # a checkout without the shared data: a smooth synthetic scene
        yy, xx = np.mgrid[0:512, 0:768].astype(np.float32)
        rgb = np.stack([xx / 768, yy / 512, 0.5 + 0.3 * np.sin(xx / 50)], axis=-1)
    masks = _only(OTHER, 48, 72)  # masks at another size than either image: resized
    small = cv2.resize(rgb, (192, 128), interpolation=cv2.INTER_AREA)
    big = cv2.resize(rgb, (768, 512), interpolation=cv2.INTER_AREA)
    a, b = describe(small, masks), describe(big, masks)
    idx = [i for i, n in enumerate(DESCRIPTOR_NAMES) if n not in ("detail", "log_contrast", "key_ev")]
    assert np.allclose(a[idx], b[idx], atol=0.02)


def test_detail_measures_texture_and_aspect_orientation():
    flat = np.full((64, 64, 3), 0.5, np.float32)
    rng = np.random.default_rng(1)
    textured = np.clip(flat + rng.normal(0, 0.1, flat.shape[:2] + (1,)), 0, 1).astype(np.float32)
    m = _only(OTHER, 64, 64)
    assert as_dict(describe(textured, m))["detail"] > as_dict(describe(flat, m))["detail"] + 0.01
    wide = as_dict(describe(np.zeros((20, 40, 3), np.float32), _only(OTHER, 20, 40)))["aspect"]
    tall = as_dict(describe(np.zeros((40, 20, 3), np.float32), _only(OTHER, 40, 20)))["aspect"]
    assert wide > 0 > tall


def test_faces_count_is_capped():
    rgb, masks = _scene()
    assert as_dict(describe(rgb, masks))["face_count"] == 0
    assert as_dict(describe(rgb, masks, faces=[object(), object()]))["face_count"] == 2
    assert as_dict(describe(rgb, masks, faces=40))["face_count"] == MAX_FACES


@pytest.mark.parametrize("rgb_shape,mask_shape", [((10, 10), (5, 10, 10)), ((10, 10, 3), (4, 10, 10)),
                                                   ((10, 10, 4), (5, 10, 10))])
def test_bad_shapes_raise(rgb_shape, mask_shape):
    with pytest.raises(ShapeError):
        describe(np.zeros(rgb_shape, np.float32), np.zeros(mask_shape, np.float32))
