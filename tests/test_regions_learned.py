"""The fitted sky classifier: features, fitting, the shipped weights, post-processing.

Fitting is exercised on small synthetic scenes (a smooth blue sky over rough green foliage and a
smooth grey wall), so the test runs in about a second; the quality on real photos is measured
leave-one-photo-out by ``bench/regions.py``, not here.
"""
from __future__ import annotations

import numpy as np
import pytest

from silverprint.regions import fitting, learned
from silverprint.regions.features import compute_features
from silverprint.regions.labelset import IGNORE, Label


def _scene(h: int, w: int, horizon: int, wall: tuple[int, int], seed: int) -> tuple[np.ndarray, Label]:
    """Sky above ``horizon`` rows, foliage below, a grey wall in columns ``wall``; with its label."""
    rng = np.random.default_rng(seed)
    rgb = np.empty((h, w, 3), np.float32)
    ramp = np.linspace(0.0, 0.1, horizon, dtype=np.float32)[:, None]
    rgb[:horizon] = np.stack([0.35 + ramp, 0.55 + ramp, 0.9 + 0 * ramp], -1)
    leaves = rng.random((h - horizon, w)).astype(np.float32)
    rgb[horizon:] = np.stack([0.1 + 0.15 * leaves, 0.25 + 0.3 * leaves, 0.05 + 0.1 * leaves], -1)
    rgb[horizon - 10:, wall[0]:wall[1]] = 0.55
    def box(x0, y0, x1, y1):
        return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
    shapes = (("sky", np.array(box(0, 0, w, horizon), float)),
              ("vegetation", np.array(box(0, horizon, w, h), float)),
              ("other", np.array(box(wall[0], horizon - 10, wall[1], h), float)))
    return rgb, Label(f"scene{seed}", {"kind": "synthetic"}, (w, h), shapes, "")


def _prepared(rgb: np.ndarray, label: Label) -> fitting.LabelledPhoto:
    feats = compute_features(rgb, rgb)
    return fitting.LabelledPhoto(label, feats, learned.pixel_features(feats),
                                 fitting.class_map(label, rgb.shape[:2]))


@pytest.fixture(scope="module")
def fitted():
    photos = [_prepared(*_scene(80, 120, 30 + 8 * i, (20 + 25 * i, 45 + 25 * i), i)) for i in range(3)]
    return photos, fitting.fit_photos(photos, seed=0)


def test_features_are_finite_and_named():
    rgb, _ = _scene(60, 90, 25, (10, 30), 7)
    x = learned.pixel_features(compute_features(rgb, rgb))
    assert x.shape == (60, 90, len(learned.FEATURE_NAMES)) and x.dtype == np.float32
    assert np.isfinite(x).all()
    # Segment statistics are constant within the smooth sky and say it reaches the top.
    top = x[..., learned.FEATURE_NAMES.index("seg_top")]
    assert top[:10].max() == 0.0 and top[-5:, 40:].min() > 0.3      # foliage starts at row 25


def test_fit_learns_an_unseen_scene_and_is_reproducible(fitted):
    photos, model = fitted
    rgb, label = _scene(80, 120, 22, (70, 100), 9)            # a layout none of the three had
    probs = learned.class_probabilities(compute_features(rgb, rgb), model)
    truth = fitting.class_map(label, rgb.shape[:2])
    hard = probs.argmax(axis=-1)
    valid = truth != IGNORE
    for k in range(3):
        inter = ((hard == k) & (truth == k) & valid).sum()
        union = (((hard == k) | (truth == k)) & valid).sum()
        assert inter / union > 0.85, learned.CLASSES[k]
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, atol=1e-5)
    again = fitting.fit_photos(photos, seed=0)
    for a, b in zip(model.weights + model.biases, again.weights + again.biases):
        np.testing.assert_array_equal(a, b)
    assert model.sharpness == again.sharpness


def test_model_file_round_trips_and_rejects_other_features(fitted, tmp_path):
    _, model = fitted
    path = tmp_path / "model.npz"
    model.save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]   # temp file renamed away
    loaded = learned.RegionClassifier.load(path)
    x = np.random.default_rng(0).normal(size=(50, len(learned.FEATURE_NAMES))).astype(np.float32)
    np.testing.assert_array_equal(loaded.probabilities(x), model.probabilities(x))
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["feature_names"] = arrays["feature_names"][::-1]
    np.savez(tmp_path / "other.npz", **arrays)
    with pytest.raises(ValueError, match="fitted on features"):
        learned.RegionClassifier.load(tmp_path / "other.npz")


def test_shipped_model_loads_with_the_package():
    assert learned.model_path().is_file()
    model = learned.shipped_classifier()
    assert model.mean.shape == (len(learned.FEATURE_NAMES),)
    assert model.weights[-1].shape[1] == len(learned.CLASSES) and model.sharpness > 0


def test_class_map_leaves_label_boundaries_out():
    _, label = _scene(80, 120, 30, (20, 45), 0)
    classes = fitting.class_map(label, (80, 120), boundary=2)
    assert (classes[28:32, 60] == IGNORE).all()                  # the horizon band ...
    assert classes[26, 60] != IGNORE and classes[33, 60] != IGNORE  # ... 2 px either side
    assert classes[10, 60] == learned.CLASSES.index("sky")
    assert classes[60, 90] == learned.CLASSES.index("vegetation")
    assert classes[60, 30] == learned.CLASSES.index("rest")


def test_sky_must_reach_the_top_and_specks_are_dropped():
    sky = np.zeros((100, 100), np.float32)
    sky[:30] = 0.9                       # the sky
    sky[60:80, 20:60] = 0.9              # a bright wall lower down
    out = learned.from_the_top(sky)
    assert out[:30].min() == pytest.approx(0.9) and out[60:80, 20:60].max() < 0.5
    veg = np.zeros((100, 100), np.float32)
    veg[40:70, 40:70] = 0.8              # a bush (9 % of the frame)
    veg[10:15, 10:15] = 0.8              # a speck (0.25 %)
    out = learned.drop_small(veg, 0.01)
    assert out[40:70, 40:70].min() == pytest.approx(0.8) and out[10:15, 10:15].max() < 0.5
