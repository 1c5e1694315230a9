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
    return photos, fitting.fit_photos(photos, seed=0, stages=2)  # both stages exercised


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
    again = fitting.fit_photos(photos, seed=0, stages=2)
    for stage, same in ((model.first, again.first), (model.second, again.second)):
        for a, b in zip(stage.weights + stage.biases, same.weights + same.biases):
            np.testing.assert_array_equal(a, b)
        assert stage.sharpness == same.sharpness


def test_model_file_round_trips_and_rejects_other_features(fitted, tmp_path):
    _, model = fitted
    path = tmp_path / "model.npz"
    model.save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]   # temp file renamed away
    loaded = learned.RegionModel.load(path)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 5, len(learned.FEATURE_NAMES))).astype(np.float32)
    seg = rng.integers(0, 4, (10, 5))
    np.testing.assert_array_equal(loaded.probabilities(x, seg), model.probabilities(x, seg))
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["feature_names"] = arrays["feature_names"][::-1]
    np.savez(tmp_path / "other.npz", **arrays)
    with pytest.raises(ValueError, match="fitted on features"):
        learned.RegionModel.load(tmp_path / "other.npz")


def test_shipped_model_loads_with_the_package():
    assert learned.model_path().is_file()
    model = learned.shipped_model()
    assert model.first.mean.shape == (len(learned.FEATURE_NAMES),)
    stages = [model.first] if model.second is None else [model.first, model.second]
    assert len(stages) == fitting.STAGES
    assert model.cloud_share in fitting.CLOUD_SHARES       # chosen by the fit, saved with it
    for stage in stages:
        assert stage.weights[-1].shape[1] == len(learned.CLASSES) and stage.sharpness > 0


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


def test_frame_lines_are_replaced_by_the_inner_content():
    from silverprint.regions.features import without_frame_lines

    rgb = np.full((300, 450, 3), 0.7, np.float32)      # frame lines of 2 px at 450: a scan's
    rgb[:, :, 2] = np.linspace(0.5, 0.9, 450, dtype=np.float32)[None, :]
    rgb[:2] = 0.39                                    # a scanner's grey line along the top
    rgb[:, -1] = 0.0                                  # and a black one on the right
    out = without_frame_lines(rgb)
    assert out.shape == rgb.shape
    np.testing.assert_array_equal(out[5:-5, 5:-5], rgb[5:-5, 5:-5])      # the inside untouched
    assert abs(out[0, 50] - rgb[50, 50]).max() < 0.01                      # the lines are gone
    assert abs(out[50, -1] - rgb[50, -10]).max() < 0.02
    assert rgb[:2].max() == pytest.approx(0.39)                          # input not modified


def test_context_features_see_sky_above_and_the_frame():
    h, w = 40, 60
    prob = np.zeros((h, w, 3), np.float32)
    prob[..., 2] = 1.0
    prob[:15, :, 0], prob[:15, :, 2] = 0.95, 0.05     # sky in the top rows
    seg = np.zeros((h, w), np.int64)
    seg[15:] = 1
    ctx = learned.context_features(prob, seg)
    assert ctx.shape == (h, w, len(learned.CONTEXT_NAMES)) and np.isfinite(ctx).all()
    name = learned.CONTEXT_NAMES.index
    assert ctx[30, 30, name("above_max")] > 0.9           # sky lies above the ground
    assert ctx[5, 30, name("above_rest")] < 0.1 < ctx[35, 30, name("above_rest")]
    assert ctx[5, 5, name("seg_sky")] > 0 > ctx[30, 5, name("seg_sky")]  # logits of the segments


def test_unsure_pixels_follow_the_photos_own_sky_or_ground():
    """Two unsure patches (p = 0.45): one coloured like this photo's sky, one like its ground."""
    h, w = 60, 90
    rng = np.random.default_rng(3)
    rgb = np.empty((h, w, 3), np.float32)
    rgb[:] = (0.45, 0.6, 0.9)                                     # sky
    ground = 0.45 + 0.1 * rng.random((h, w, 1)).astype(np.float32)
    rgb[40:] = np.broadcast_to(ground[40:] * np.float32([1.0, 0.95, 0.85]), (20, w, 3))
    rgb[25:40, :45] = ground[25:40, :45] * np.float32([1.0, 0.95, 0.85])   # a ground-like patch
    feats = compute_features(rgb, rgb)
    sky = np.full((h, w), 0.02, np.float32)
    sky[:25] = 0.95
    sky[25:40] = 0.45
    out = learned.adapt_to_photo(sky, feats)
    assert out.shape == sky.shape and out.dtype == np.float32
    assert out[:25].min() > 0.9 and out[45:].max() < 0.1          # the sure parts stay
    assert np.median(out[27:38, 47:88]) > 0.7                     # sky-coloured: sky
    assert np.median(out[27:38, 2:43]) < 0.3                      # ground-coloured: not sky
    # Without enough sure sky there is nothing to adapt to.
    np.testing.assert_array_equal(learned.adapt_to_photo(np.full((h, w), 0.4, np.float32), feats),
                                  np.full((h, w), 0.4, np.float32))


def test_a_sky_must_span_part_of_the_top_edge():
    sky = np.zeros((100, 100), np.float32)
    sky[:20, :10] = 0.9                  # a pale patch in one top corner (10 % of the width)
    assert learned.spans_the_top(sky).max() < 0.5
    sky[:20, :40] = 0.9                  # a sky across 40 % of the top
    np.testing.assert_array_equal(learned.spans_the_top(sky), sky)


def test_a_sky_that_is_not_blue_must_outshine_the_scene():
    """A pale wall over darker shutters and a bright grey overcast sky over a darker street are
    both grey at the top of the frame; only the sky is the scene's light source."""
    h, w = 60, 90
    rng = np.random.default_rng(3)
    shade = 0.08 * rng.random((h, w, 1)).astype(np.float32)
    wall = np.empty((h, w, 3), np.float32)
    wall[:] = (0.62, 0.6, 0.55)                                   # a pale beige wall, rows 0-29
    wall[30:] = (0.75, 0.72, 0.68)                                # lighter stone and flowers below
    wall[8:55, 30:60] = (0.3, 0.4, 0.4)                           # dark shutters
    wall += shade
    sky = np.full((h, w), 0.05, np.float32)
    sky[:30] = 0.9
    sky[8:30, 30:60] = 0.05
    assert learned.lights_the_scene(sky, compute_features(wall, wall)).max() < 0.5
    overcast = wall.copy()
    overcast[:30] = (0.9, 0.9, 0.9)                               # the same shape, a bright grey sky
    overcast[30:] = (0.45, 0.42, 0.38) + shade[30:]               # over a darker street
    np.testing.assert_array_equal(learned.lights_the_scene(sky, compute_features(overcast, overcast)), sky)
    blue = wall.copy()
    blue[:30] = (0.35, 0.5, 0.85)                                 # a blue sky need not outshine
    np.testing.assert_array_equal(learned.lights_the_scene(sky, compute_features(blue, blue)), sky)


def _cloud_scene() -> tuple[np.ndarray, np.ndarray]:
    """(rgb, classifier sky) of a blue sky over dark ground: a white cloud hangs in the sky, and a
    white wall stands on the ground between two dark trees (sky only above it); the classifier
    calls only the blue sky."""
    h, w = 60, 90
    rng = np.random.default_rng(5)
    rgb = np.empty((h, w, 3), np.float32)
    rgb[:] = (0.35, 0.5, 0.85)                                    # blue sky, rows 0-39
    rgb[40:] = (0.2, 0.18, 0.12) + 0.1 * rng.random((20, w, 1)).astype(np.float32)  # dark ground
    rgb[12:30, 8:35] = (0.92, 0.92, 0.9)                          # a cloud: sky all around it
    rgb[10:40, 44:50] = rgb[10:40, 80:86] = (0.1, 0.22, 0.08)     # two dark trees ...
    rgb[20:40, 50:80] = (0.93, 0.92, 0.9)                         # ... and a white wall between
    sky = np.full((h, w), 0.02, np.float32)
    sky[:40] = 0.95
    sky[12:30, 8:35] = 0.05
    sky[10:40, 44:86] = 0.05
    sky[:20, 50:80] = 0.95
    return rgb, sky


def test_clouds_hanging_in_the_sky_join_it_and_a_wall_on_the_ground_does_not():
    rgb, sky = _cloud_scene()
    feats = compute_features(rgb, rgb)
    out = learned.clouds_in_the_sky(sky, feats, share=0.4)
    assert out.shape == sky.shape and out.dtype == np.float32
    assert out[14:28, 10:33].min() > 0.5                          # the cloud is sky now
    assert out[22:39, 52:78].max() < 0.5                          # the wall is not
    assert out[45:].max() < 0.5 and out[12:39, 45:49].max() < 0.5  # nor the ground and trees
    np.testing.assert_array_equal(out[:10], sky[:10])             # the sure sky is untouched
    # The sky borders the wall on about a third of its outline (its top): a share below that
    # adds it too. Without sure sky there is nothing for a cloud to hang from.
    assert learned.clouds_in_the_sky(sky, feats, share=0.2)[22:39, 52:78].min() > 0.5
    none = np.full(sky.shape, 0.02, np.float32)
    np.testing.assert_array_equal(learned.clouds_in_the_sky(none, feats), none)


def test_a_white_tower_against_the_sky_is_not_a_cloud():
    """Sky on three sides and above it: only its shape (tall, narrow) tells it from a cloud."""
    h, w = 60, 90
    rgb = np.empty((h, w, 3), np.float32)
    rgb[:] = (0.35, 0.5, 0.85)
    rgb[45:] = (0.2, 0.18, 0.12)                                  # dark ground
    rgb[8:45, 40:52] = (0.93, 0.92, 0.9)                          # a white tower, 37 x 12
    sky = np.full((h, w), 0.02, np.float32)
    sky[:45] = 0.95
    sky[8:45, 40:52] = 0.05
    feats = compute_features(rgb, rgb)
    assert learned.clouds_in_the_sky(sky, feats, share=0.4)[10:43, 42:50].max() < 0.5
    wide = rgb.copy()
    wide[8:45, 20:72] = (0.93, 0.92, 0.9)                         # the same height, 52 wide
    wide_sky = sky.copy()
    wide_sky[8:45, 20:72] = 0.05
    out = learned.clouds_in_the_sky(wide_sky, compute_features(wide, wide), share=0.4)
    assert out[10:43, 22:70].min() > 0.5     # shaped like a cloud: added (only the shape decides)


def test_the_fit_chooses_the_cloud_share_on_its_training_photos(fitted, tmp_path):
    photos, model = fitted
    assert model.cloud_share in fitting.CLOUD_SHARES
    means = fitting.sky_iou_by_share(photos, model)
    assert means.shape == (len(fitting.CLOUD_SHARES),) and ((0 <= means) & (means <= 1)).all()
    assert means[fitting.CLOUD_SHARES.index(model.cloud_share)] == pytest.approx(means.max())
    # Labelled sky includes the cloud, not the wall: of two shares, the one that adds the cloud
    # alone wins (ties would go to the larger, which adds less).
    rgb, _ = _cloud_scene()
    def box(x0, y0, x1, y1):
        return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], float)
    label = Label("cloud", {"kind": "synthetic"}, (90, 60),
                  (("sky", box(0, 0, 90, 40)), ("other", box(44, 10, 86, 40)),
                   ("sky", box(50, 0, 80, 20))), "")
    cloudy = _prepared(rgb, label)
    means = fitting.sky_iou_by_share([cloudy], model, (0.2, 0.4))
    assert means[1] > means[0]
    assert fitting.choose_cloud_share([cloudy], model, (0.2, 0.4)) == 0.4
    # The chosen share travels with the model file.
    path = tmp_path / "m.npz"
    learned.RegionModel(model.first, model.second, 0.35).save(path)
    assert learned.RegionModel.load(path).cloud_share == pytest.approx(0.35)
