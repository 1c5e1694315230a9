"""Vegetation found by context: distant treelines and wooded slopes under the sky (synthetic scenes)."""
from __future__ import annotations

import numpy as np

from silverprint.regions.features import compute_features
from silverprint.regions.vegetation import distant_treeline, vegetation_probability

H, W = 120, 180
SKY_ROWS = 60


def _scene(band: tuple[float, float, float], band_rows: tuple[int, int], below: tuple[float, float, float],
           band_noise: float = 0.05, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(rgb, sky): an overcast grey-blue sky over a band of the given colour, then ``below``.

    The band carries canopy-like noise (``band_noise``); the ground below is choppy water
    (grey with noise). The sky mask is exactly the sky rows, as the sky model would give.
    """
    rng = np.random.default_rng(seed)
    rgb = np.empty((H, W, 3), np.float32)
    rgb[:] = (0.55, 0.58, 0.62)                                  # sky, L* ~ 61
    rgb[:SKY_ROWS] += rng.normal(0, 0.003, (SKY_ROWS, W, 1))
    top, bottom = band_rows
    rgb[top:bottom] = band
    rgb[top:bottom] += rng.normal(0, band_noise, (bottom - top, W, 1))
    rgb[bottom:] = below
    rgb[bottom:] += rng.normal(0, 0.03, (H - bottom, W, 1))
    sky = np.zeros((H, W), np.float32)
    sky[:top] = 1.0
    return np.clip(rgb, 0, 1), sky


FAR_FOREST = (0.17, 0.22, 0.28)   # dark blue-cyan, as aerial perspective renders a far wooded shore
WATER = (0.47, 0.49, 0.50)  # grey water reflecting the sky, a little darker than it


def test_dark_cool_textured_band_under_the_sky_is_a_treeline():
    rgb, sky = _scene(FAR_FOREST, (SKY_ROWS, SKY_ROWS + 12), WATER)
    f = compute_features(rgb)
    found = distant_treeline(f, sky)
    assert found[SKY_ROWS + 2:SKY_ROWS + 10].mean() > 0.9
    assert not found[:SKY_ROWS].any() and found[SKY_ROWS + 16:].mean() < 0.02
    prob = vegetation_probability(f, sky)
    assert prob[SKY_ROWS + 2:SKY_ROWS + 10].mean() > 0.8
    # Without the sky there is no context: the colour rules alone do not take the blue band.
    assert vegetation_probability(f)[SKY_ROWS + 2:SKY_ROWS + 10].mean() < 0.2


def test_a_treeline_below_a_hazy_unsure_strip_of_sky_is_found():
    """The sky model is least sure just above the horizon: a few rows of haze it leaves below 0.5
    must not cut the treeline from the sky (3 rows of 120 here: within `TREELINE_GAP`)."""
    rgb, sky = _scene(FAR_FOREST, (SKY_ROWS, SKY_ROWS + 12), WATER)
    sky[SKY_ROWS - 3:SKY_ROWS] = 0.3
    assert distant_treeline(compute_features(rgb), sky)[SKY_ROWS + 2:SKY_ROWS + 10].mean() > 0.9


def test_a_dark_sea_down_to_the_frame_bottom_is_not_a_treeline():
    """The same colour filling everything under the horizon is water, not a band of forest."""
    rgb, sky = _scene(FAR_FOREST, (SKY_ROWS, H), WATER)
    assert not distant_treeline(compute_features(rgb), sky).any()


def test_warm_or_pale_bands_and_a_thin_dark_rim_are_not_treelines():
    """A warm rocky headland, a band nearly as light as the sky, a far sea's one-row dark rim."""
    for band, rows in (((0.30, 0.24, 0.18), 12), ((0.45, 0.50, 0.55), 12), (FAR_FOREST, 1)):
        rgb, sky = _scene(band, (SKY_ROWS, SKY_ROWS + rows), WATER)
        assert not distant_treeline(compute_features(rgb), sky).any(), (band, rows)


def test_a_wooded_slope_filling_the_top_must_still_lean_green():
    """A slope leaving the frame at the top is wooded when it leans green, not when it is blue."""
    def slope(colour):
        rgb, sky = _scene(colour, (0, 45), WATER, band_noise=0.06, seed=1)
        rgb[:20, :40] = (0.62, 0.66, 0.72)           # a patch of sky above its left end
        sky[:] = 0.0
        sky[:20, :40] = 1.0
        rgb[45:, :] = (0.85, 0.8, 0.7)                 # a pale wall below it
        return compute_features(rgb), sky

    f, sky = slope((0.22, 0.30, 0.25))                 # hazy green forest
    found = distant_treeline(f, sky)
    assert found[25:40, 60:].mean() > 0.9
    f, sky = slope((0.20, 0.22, 0.30))                 # a blue hazy hill of bare branches
    assert not distant_treeline(f, sky)[25:40, 60:].any()


def test_bright_yellow_rock_is_not_plant_coloured_but_dark_olive_grass_is():
    """Same yellow hue (~40 degrees): a leaf absorbs most light, a tan rock reflects it."""
    from silverprint.regions.vegetation import greenness

    rng = np.random.default_rng(2)
    rgb = np.empty((40, 80, 3), np.float32)
    rgb[:, :40] = (0.33, 0.277, 0.17)                # dark olive dry grass, L* ~ 31
    rgb[:, 40:] = (0.66, 0.587, 0.44)                # sunlit tan rock, L* ~ 63
    rgb += rng.normal(0, 0.02, (40, 80, 1))
    f = compute_features(np.clip(rgb, 0, 1).astype(np.float32))
    assert abs(np.median(f.hue[:, :40]) - np.median(f.hue[:, 40:])) < 3
    g = greenness(f)
    assert np.median(g[:, :40]) > 0.4
    assert np.median(g[:, 40:]) < 0.1
