"""Local adjustments' masks (graduated, radial, control point, colour range): geometry, colour
selection, and that the numpy masks (`regions.local`: GUI overlays, full-size renders) equal the
renderer's differentiable ones (`render.spatial`: learning)."""
from __future__ import annotations

import numpy as np
import pytest

from silverprint.errors import UnknownSliderError
from silverprint.params import default_local
from silverprint.regions import local_masks


def test_graduated_filter_geometry():
    rgb = np.zeros((100, 150, 3), np.float32)
    (top_down,) = local_masks([{"kind": "graduated", "x": 0.5, "y": 0.5, "angle": 0, "feather": 0.2}], rgb)
    assert top_down.shape == (100, 150) and top_down.dtype == np.float32
    assert top_down[:35].min() == pytest.approx(1.0) and top_down[65:].max() == pytest.approx(0.0)
    assert top_down[49:51].mean() == pytest.approx(0.5, abs=0.05)
    assert np.all(np.diff(top_down[:, 0]) <= 0)  # monotone fade
    (bottom_up,) = local_masks([{"kind": "graduated", "x": 0.5, "y": 0.5, "angle": 180, "feather": 0.2}], rgb)
    np.testing.assert_allclose(bottom_up, top_down[::-1], atol=1e-5)
    (side,) = local_masks([{"kind": "graduated", "x": 0.5, "y": 0.5, "angle": 90, "feather": 0.1}], rgb)
    assert side[:, -10:].min() == pytest.approx(1.0) and side[:, :10].max() == pytest.approx(0.0)


def test_radial_filter_and_invert():
    rgb = np.zeros((120, 120, 3), np.float32)
    geo = {"kind": "radial", "x": 0.5, "y": 0.5, "width": 0.5, "height": 0.25, "angle": 0, "feather": 0.3}
    inside, outside = local_masks([dict(geo, invert=0), dict(geo, invert=1)], rgb)
    assert inside[60, 60] == pytest.approx(1.0) and inside[5, 5] == 0.0
    assert inside[60, 35] > 0.5 and inside[35, 60] < 0.01  # wide, not tall
    np.testing.assert_allclose(outside, 1 - inside, atol=1e-6)
    (turned,) = local_masks([dict(geo, angle=90, invert=0)], rgb)
    assert turned[35, 60] > 0.5 and turned[60, 35] < 0.01  # now tall, not wide


def test_control_point_selects_similar_colours_near_it():
    rgb = np.zeros((80, 80, 3), np.float32)
    rgb[:, :40] = (0.8, 0.2, 0.1)   # red half (the point sits here)
    rgb[:, 40:] = (0.1, 0.3, 0.8)   # blue half
    item = {"kind": "point", "x": 0.3, "y": 0.5, "radius": 0.5, "similarity": 50}
    (mask,) = local_masks([item], rgb)
    assert mask[40, 24] > 0.95               # under the point
    assert mask[40, 36] > 0.5                # same colour, inside the radius
    assert mask[40, 44] < 0.01               # other colour, equally close
    assert mask[0, 0] < mask[40, 30]         # falls off with distance
    (loose,) = local_masks([dict(item, similarity=0)], rgb)
    (tight,) = local_masks([dict(item, similarity=100)], rgb)
    assert loose[40, 44] > tight[40, 44]


def test_colour_range_limits_a_filter_to_the_picked_colour():
    """A graduated filter over a blue sky and an orange mountain reaching into it: with a colour
    range picked in the sky it darkens the sky only; at 0 it is the plain filter."""
    rgb = np.zeros((80, 80, 3), np.float32)
    rgb[:] = (0.25, 0.45, 0.85)                # sky
    rgb[20:, 30:50] = (0.8, 0.45, 0.2)         # a peak in the filter's band
    plain = {"kind": "graduated", "x": 0.5, "y": 0.5, "angle": 0, "feather": 0.3}
    (without,) = local_masks([plain], rgb)
    (off,) = local_masks([dict(plain, color_range=0, pick_x=0.1, pick_y=0.1)], rgb)
    (picked,) = local_masks([dict(plain, color_range=40, pick_x=0.1, pick_y=0.1)], rgb)
    np.testing.assert_array_equal(off, without)
    assert picked[25, 10] == pytest.approx(without[25, 10], abs=1e-4)  # sky: the full filter
    assert without[25, 40] > 0.9 and picked[25, 40] < 0.01  # the peak: left alone
    (radial,) = local_masks([{"kind": "radial", "x": 0.5, "y": 0.5, "width": 1.5, "height": 1.5,
                              "feather": 0.2, "color_range": 40, "pick_x": 0.5, "pick_y": 0.5}], rgb)
    assert radial[40, 40] > 0.95 and radial[40, 10] < 0.01  # picked on the peak: the peak only
    (tighter,) = local_masks([dict(plain, color_range=90, pick_x=0.1, pick_y=0.1)], rgb)
    mid = np.float32((0.5, 0.45, 0.5))  # a colour halfway between: the wider range keeps more
    assert tighter[25, 10] == pytest.approx(picked[25, 10], abs=1e-4)
    halfway = rgb.copy()
    halfway[25, 10] = mid
    (a,) = local_masks([dict(plain, color_range=40, pick_x=0.1, pick_y=0.1)], halfway)
    (b,) = local_masks([dict(plain, color_range=90, pick_x=0.1, pick_y=0.1)], halfway)
    assert 0 < b[25, 10] < a[25, 10] < without[25, 10]


def test_unknown_local_kind_is_a_clear_error():
    with pytest.raises(UnknownSliderError, match="unknown local adjustment kind"):
        local_masks([{"kind": "lasso"}], np.zeros((4, 4, 3), np.float32))


LOCALS = [dict(default_local(item["kind"]), **item) for item in (
    {"kind": "graduated", "x": 0.4, "y": 0.45, "angle": 25, "feather": 0.3},
    {"kind": "radial", "x": 0.55, "y": 0.5, "width": 0.6, "height": 0.4, "angle": -30,
     "feather": 0.4, "invert": 0.3},
    {"kind": "point", "x": 0.5, "y": 0.5, "radius": 0.4, "similarity": 30},
    {"kind": "graduated", "x": 0.5, "y": 0.6, "angle": -10, "feather": 0.5, "color_range": 35,
     "pick_x": 0.3, "pick_y": 0.2},
    {"kind": "radial", "x": 0.45, "y": 0.4, "width": 0.9, "height": 0.7, "angle": 15,
     "feather": 0.5, "invert": 0.0, "color_range": 60, "pick_x": 0.6, "pick_y": 0.5},
)]
#: the colour-selective ones (their reference colour is sampled from differently pre-averaged images)
COLOURED = [i for i, item in enumerate(LOCALS) if item["kind"] == "point" or item["color_range"] > 0]


def _renderer_masks(locals_: list[dict], rgb_t, h: int, w: int):
    """The renderer's own masks (`render.spatial`) of ``locals_`` on a (1, 3, h, w) tensor."""
    import torch

    from silverprint.render import spatial
    from silverprint.render.tensors import GEOMETRY_NAMES

    out = []
    for item in locals_:
        geometry = torch.stack([torch.as_tensor(item[n], dtype=torch.float64)
                                for n in GEOMETRY_NAMES[item["kind"]]])
        if item["kind"] == "point":
            reference = spatial.reference_colour("point", geometry, rgb_t)
            out.append(spatial.point_mask(geometry, rgb_t, reference, h, w, 0, h)[0])
        else:
            reference = spatial.reference_colour(item["kind"], geometry, rgb_t) if item["color_range"] else None
            mask = getattr(spatial, f"{item['kind']}_mask")(geometry, h, w, 0, h, rgb_t, reference)
            out.append(mask if mask.dim() == 2 else mask[0])
    return out


def test_masks_on_a_numpy_image_are_the_ones_the_renderer_applies():
    """What the GUI overlays show and full-size renders upsample (`local_masks`, given to the
    renderer) renders exactly like the renderer's own masks computed from the geometry."""
    torch = pytest.importorskip("torch")
    from silverprint.params import Params, SEMANTIC_REGIONS
    from silverprint.render import render
    from silverprint.render.tensors import params_to_tensors

    rng = np.random.default_rng(3)
    rgb = rng.random((600, 900, 3)).astype(np.float32)  # large enough for the renderer's block mean
    given = local_masks(LOCALS, rgb)
    assert given.shape == (len(LOCALS), 600, 900) and given.dtype == np.float32
    for i in COLOURED:  # the colour-selective ones do select: not their plain shape
        plain = local_masks([dict(LOCALS[i], color_range=0, similarity=0)], rgb)[0]
        assert np.abs(given[i] - plain).max() > 0.3
    params = Params()
    params.local = [dict(item, exposure=(-1) ** i * 0.7) for i, item in enumerate(LOCALS)]
    t = params_to_tensors(params)
    image = torch.from_numpy(rgb).permute(2, 0, 1)[None]
    masks = torch.zeros(1, len(SEMANTIC_REGIONS), 8, 8)
    masks[:, -1] = 1
    own = render(image, masks, None, t)
    with_given = render(image, masks, torch.from_numpy(given)[None], t)
    assert float((own - with_given).abs().max()) < 2e-6


@pytest.mark.grad
def test_renderer_local_masks_are_differentiable_in_geometry():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    rgb = torch.from_numpy(rng.random((1, 3, 10, 12))).double()
    names = {"graduated": ("y", "angle", "feather"), "radial": ("x", "width", "feather"),
             "point": ("x", "radius", "similarity")}
    for item in LOCALS:
        free = names[item["kind"]] + (("color_range", "pick_x") if item.get("color_range") else ())
        start = torch.tensor([float(item[n]) for n in free], dtype=torch.float64, requires_grad=True)

        def f(values, item=item, free=free):
            geo = dict(item, **{n: values[i] for i, n in enumerate(free)})
            return _renderer_masks([geo], rgb, 10, 12)[0]

        assert torch.autograd.gradcheck(f, (start,), eps=1e-6, atol=1e-4, fast_mode=True)
        f(start).sum().backward()
        assert torch.all(start.grad.abs() > 0), item["kind"]
