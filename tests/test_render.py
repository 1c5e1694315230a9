"""silverprint.render: the renderer's math on real photos and small synthetic images.

Covers: shapes, bad input, gradients, neutral = plain luminance conversion (8 and 16 bit, real
photos), hue bands, exposure, masks, local adjustments, toning, grain, and that the full-resolution
banded path, the cached preview and the differentiable function agree.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from silverprint.device import resolve_device
from silverprint.errors import ShapeError, SilverprintError
from silverprint.ops.color import hue_chroma, linear_to_srgb, srgb_to_linear
from silverprint.params import (CURVE_KNOTS, FULL_CHROMA, HUE_BAND_EV, HUE_CENTRES, SEMANTIC_REGIONS, Params,
                               default_local)
from silverprint.render import Preview, params_to_tensors, render, render_array, tensors_to_params, torch_threads
from shared_data import KODAK

@pytest.fixture(autouse=True)
def one_torch_thread():
    """Small elementwise ops run several times faster on one intra-op thread on 2-core machines
    (see `torch_threads`); restored after each test."""
    with torch_threads(1):
        yield


SKY, OTHER = SEMANTIC_REGIONS.index("sky"), SEMANTIC_REGIONS.index("other")


def kodak(name: str, size: tuple[int, int] | None = None) -> np.ndarray:
    image = Image.open(KODAK / f"{name}.png").convert("RGB")
    if size:
        image = image.resize(size, Image.LANCZOS)
    return np.asarray(image)


def as_tensor(rgb: np.ndarray, dtype=torch.float32) -> torch.Tensor:
    scale = 65535.0 if rgb.dtype == np.uint16 else 255.0 if rgb.dtype == np.uint8 else 1.0
    return (torch.from_numpy(rgb.astype(np.float64) / scale).permute(2, 0, 1)[None]).to(dtype)


def uniform_masks(h: int = 4, w: int = 6) -> torch.Tensor:
    return torch.full((1, 5, h, w), 0.2)


def soft_masks(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Smooth random masks that sum to 1, with some regions absent in parts of the frame."""
    rng = np.random.default_rng(seed)
    m = rng.random((5, h, w)).astype(np.float32) ** 3
    m[1, :, : w // 2] = 0  # person absent on the left
    m[0, h // 2:] = 0  # no sky in the lower half
    return m / m.sum(0)


def luminance_reference(rgb: np.ndarray) -> np.ndarray:
    """Plain luminance conversion in float64, written independently of the package."""
    scale = 65535.0 if rgb.dtype == np.uint16 else 255.0
    v = rgb.astype(np.float64) / scale
    lin = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    y = lin @ np.array([0.2126, 0.7152, 0.0722])
    return np.where(y <= 0.0031308, 12.92 * y, 1.055 * np.clip(y, 0.0031308, None) ** (1 / 2.4) - 0.055)


def everything_on() -> Params:
    """Every renderer feature at a non-trivial value (and three local adjustments)."""
    p = Params()
    for key, value in {"sky.red": -60, "sky.blue": -80, "vegetation.green": 50, "person.orange": 30,
                       "all.contrast": 25, "sky.highlights": -40, "other.shadows": 35, "all.whites": 10,
                       "all.blacks": -10, "sky.exposure": -0.5, "other.structure": 40, "sky.structure": -30,
                       "global.vignette": -35, "global.grain": 40, "global.grain_size": 60,
                       "global.tone_highlight_sat": 20, "global.tone_shadow_sat": 15,
                       "global.mix_red": 30, "global.mix_green": 60, "global.mix_blue": 10,
                       "global.filter_balance": 40, "global.red_hue": -7, "global.blue_hue": 9,
                       "global.magenta_hue": 12}.items():
        p.set(key, value)
    p.global_["curve"] = [min(1.0, (i / (CURVE_KNOTS - 1)) ** 0.85 * 1.02) for i in range(CURVE_KNOTS)]
    grad = default_local("graduated")
    grad.update(exposure=-0.7, contrast=15, color_range=35, pick_x=0.6, pick_y=0.2)
    radial = default_local("radial")
    radial.update(exposure=0.4, invert=0.0, x=0.45, y=0.55, structure=20)
    point = default_local("point")
    point.update(x=0.3, y=0.3, radius=0.3, similarity=40, exposure=-0.5, blue=-40)
    p.local = [grad, radial, point]
    return p


class TestRender:
    def test_smoke(self):
        out = render(torch.rand(1, 3, 8, 10), uniform_masks(), None, params_to_tensors(Params()))
        assert out.shape == (1, 1, 8, 10)
        assert out.dtype == torch.float32
        assert 0.0 <= float(out.min()) and float(out.max()) <= 1.0

    @pytest.mark.parametrize("batch,height,width,mask_hw", [(1, 5, 7, (2, 3)), (2, 16, 9, (16, 9)),
                                                            (3, 12, 20, (30, 50))])
    def test_cardinality(self, batch, height, width, mask_hw):
        masks = torch.rand(batch, 5, *mask_hw)
        out = render(torch.rand(batch, 3, height, width), masks, None, params_to_tensors(Params()))
        assert out.shape == (batch, 1, height, width)

    def test_toned_is_three_channels_and_untoned_true_grey(self):
        rgb = as_tensor(kodak("kodim23", (96, 64)))
        p = Params()
        grey = render(rgb, uniform_masks(), None, params_to_tensors(p))
        assert grey.shape[1] == 1  # true grey: a single channel, nothing to drift apart
        p.set("global.tone_highlight_sat", 40)
        p.set("global.tone_shadow_sat", 30)
        toned = render(rgb, uniform_masks(), None, params_to_tensors(p))
        assert toned.shape == (1, 3, 64, 96)
        spread = (toned.max(dim=1).values - toned.min(dim=1).values)
        assert float(spread.mean()) > 0.01  # visibly tinted
        # toning keeps the tonal scale: its luma stays near the grey rendering
        luma = (toned * torch.tensor([0.2126, 0.7152, 0.0722]).view(1, 3, 1, 1)).sum(1, keepdim=True)
        assert float((luma - grey).abs().mean()) < 0.03

    def test_exception(self):
        t = params_to_tensors(Params())
        with pytest.raises(ShapeError):
            render(torch.rand(1, 4, 8, 8), uniform_masks(), None, t)
        with pytest.raises(ShapeError):
            render(torch.rand(3, 8, 8), uniform_masks(), None, t)
        with pytest.raises(ShapeError):
            render(torch.rand(1, 3, 8, 8), torch.rand(1, 4, 4, 4), None, t)
        with pytest.raises(ShapeError):  # 2 local masks for 0 local adjustments
            render(torch.rand(1, 3, 8, 8), uniform_masks(), torch.rand(1, 2, 4, 4), t)
        with pytest.raises(ShapeError):
            render_array(np.zeros((8, 8), np.uint8), np.full((5, 2, 2), 0.2), None, Params())
        with pytest.raises(ShapeError):
            render_array(np.zeros((8, 8, 3), np.uint8), np.full((4, 2, 2), 0.25), None, Params())

    @pytest.mark.grad
    def test_gradcheck(self):
        torch.manual_seed(0)
        rgb = torch.rand(1, 3, 6, 7, dtype=torch.float64) * 0.8 + 0.1
        masks = torch.rand(1, 5, 3, 4, dtype=torch.float64) + 0.1
        base = params_to_tensors(everything_on(), dtype=torch.float64)

        def fn(region, global_, curve, local_region, local_geometry):
            t = type(base)(region, global_, curve, local_region, local_geometry, base.local_kinds)
            return render(rgb, masks, None, t)

        inputs = tuple(x.detach().clone().requires_grad_() for x in base.tensors())
        assert torch.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-4, fast_mode=True)

    def test_gradients_reach_every_slider_family(self):
        """The learner starts from zeros: zero-valued sliders must still get gradients."""
        rgb = as_tensor(kodak("kodim23", (48, 32)))
        t = params_to_tensors(Params()).requires_grad_()
        out = render(rgb, uniform_masks(), None, t)
        out.mean().backward()
        assert float(t.region.grad[:, 8:14].abs().sum()) > 0  # exposure .. blacks
        assert float(t.region.grad[:, 0:8].abs().sum()) > 0  # hue bands
        assert float(t.curve.grad.abs().sum()) > 0
        assert float(t.global_.grad[:3].abs().sum()) > 0  # channel mix


class TestNeutral:
    """A neutral style equals the plain luminance conversion within 1 code value (real photos)."""

    @pytest.mark.parametrize("name", ["kodim03", "kodim14", "kodim19", "kodim23"])
    def test_neutral_equals_luminance_8_and_16_bit(self, name):
        rgb8 = kodak(name)
        masks = soft_masks(32, 48)
        for rgb in (rgb8, rgb8.astype(np.uint16) * 257):
            ref = luminance_reference(rgb)
            out = render_array(rgb, masks, None, Params())
            assert out.shape == rgb.shape[:2] and out.dtype == np.float32
            for levels in (255, 65535):
                diff = np.abs(np.round(out * levels) - np.round(ref * levels))
                assert diff.max() <= 1, (name, rgb.dtype, levels, diff.max())

    def test_neutral_differentiable_path(self):
        rgb8 = kodak("kodim05", (192, 128))
        out = render(as_tensor(rgb8, torch.float64), torch.from_numpy(soft_masks(16, 24)).double()[None], None,
                     params_to_tensors(Params(), dtype=torch.float64))
        ref = luminance_reference(rgb8)
        assert np.abs(np.round(out[0, 0].numpy() * 65535) - np.round(ref * 65535)).max() <= 1


class TestSliders:
    def test_hue_band_affects_only_its_hue(self):
        # a saturated red patch and a saturated blue patch side by side
        rgb = torch.zeros(1, 3, 4, 8)
        rgb[0, :, :, :4] = torch.tensor([0.8, 0.1, 0.1]).view(3, 1, 1)
        rgb[0, :, :, 4:] = torch.tensor([0.1, 0.2, 0.8]).view(3, 1, 1)
        neutral = render(rgb, uniform_masks(), None, params_to_tensors(Params()))
        p = Params()
        p.set("all.red", -100)
        red_down = render(rgb, uniform_masks(), None, params_to_tensors(p))
        hue, weight = hue_chroma(srgb_to_linear(rgb[..., :1, :1]), FULL_CHROMA)
        red, orange = HUE_CENTRES[:2]
        assert red < float(hue) < orange  # (0.8, 0.1, 0.1) lies between the red and orange centres
        share = 1.0 - (float(hue) - red) / (orange - red)
        ratio = srgb_to_linear(red_down[..., :4]) / srgb_to_linear(neutral[..., :4])
        expected = 2.0 ** (-HUE_BAND_EV * float(weight) * share)
        torch.testing.assert_close(ratio, torch.full_like(ratio, expected), rtol=1e-3, atol=0)
        assert expected < 0.5  # a strong effect: a red filter's worth
        torch.testing.assert_close(red_down[..., 4:], neutral[..., 4:], atol=1e-6, rtol=0)

    def test_hue_band_interpolates_between_centres(self):
        # an orange-yellow whose LCh hue is close to halfway between orange (60°) and yellow (100°)
        rgb = torch.tensor([0.9, 0.62, 0.1]).view(1, 3, 1, 1).expand(1, 3, 2, 2).clone()
        hue, weight = hue_chroma(srgb_to_linear(rgb[..., :1, :1]), FULL_CHROMA)
        orange, yellow = HUE_CENTRES[1:3]
        t = (float(hue) - orange) / (yellow - orange)
        assert 0.3 < t < 0.7
        p = Params()
        p.set("all.orange", 100)
        lifted = render(rgb, uniform_masks(2, 2), None, params_to_tensors(p))
        neutral = render(rgb, uniform_masks(2, 2), None, params_to_tensors(Params()))
        ratio = float((srgb_to_linear(lifted) / srgb_to_linear(neutral)).mean())
        assert ratio == pytest.approx(2.0 ** (HUE_BAND_EV * float(weight) * (1.0 - t)), rel=1e-3)

    def test_dark_near_neutral_pixels_ignore_the_colour_filter(self):
        """A dark, slightly tinted pixel has a large HSV saturation but little chroma: a colour
        filter (the hue bands) must barely move it, unlike a truly colourful pixel."""
        rgb = torch.zeros(1, 3, 2, 4)
        rgb[0, :, :, :2] = torch.tensor([0.06, 0.03, 0.03]).view(3, 1, 1)  # HSV saturation 0.5
        rgb[0, :, :, 2:] = torch.tensor([0.8, 0.1, 0.1]).view(3, 1, 1)
        p = Params()
        p.set("all.red", -100)
        ev = torch.log2(srgb_to_linear(render(rgb, uniform_masks(), None, params_to_tensors(p)))
                        / srgb_to_linear(render(rgb, uniform_masks(), None, params_to_tensors(Params()))))
        assert float(ev[..., :2].abs().max()) < 0.1 < 0.5 < float(ev[..., 2:].abs().min())

    def test_filter_balance_moves_the_filter_between_tones(self):
        """+50: no filter on black, the full filter at d = 1/2, twice it on white (``1 + 2(d-1/2)·...``)."""
        levels = torch.tensor([0.15, 0.35, 0.6, 1.0])
        rgb = (torch.tensor([1.0, 0.45, 0.45]).view(1, 3, 1, 1) * levels.view(1, 1, 1, 4)).expand(1, 3, 2, 4).clone()
        plain, balanced = Params(), Params()
        for q in (plain, balanced):
            q.set("all.red", -60)
        balanced.set("global.filter_balance", 50)
        neutral = srgb_to_linear(render(rgb, uniform_masks(), None, params_to_tensors(Params())))
        ev_plain = torch.log2(srgb_to_linear(render(rgb, uniform_masks(), None, params_to_tensors(plain))) / neutral)
        ev_bal = torch.log2(srgb_to_linear(render(rgb, uniform_masks(), None, params_to_tensors(balanced))) / neutral)
        d = linear_to_srgb(neutral)  # the base grey as a display value (neutral style)
        assert float(d.min()) < 0.3 and float(d.max()) > 0.6
        torch.testing.assert_close(ev_bal, ev_plain * (1.0 + 2.0 * (d - 0.5)), atol=2e-3, rtol=0)
        assert float(ev_bal[..., 0].mean()) > float(ev_plain[..., 0].mean())  # dark: weaker (less negative)
        assert float(ev_bal[..., 3].mean()) < float(ev_plain[..., 3].mean())  # light: stronger

    def test_exposure_plus_one_doubles_linear_light(self):
        rgb = as_tensor(kodak("kodim08", (96, 64)))
        neutral = render(rgb, uniform_masks(), None, params_to_tensors(Params()))
        p = Params()
        p.set("all.exposure", 1)
        brighter = render(rgb, uniform_masks(), None, params_to_tensors(p))
        y0, y1 = srgb_to_linear(neutral.double()), srgb_to_linear(brighter.double())
        unclipped = (y0 > 0.01) & (y0 < 0.45)
        assert int(unclipped.sum()) > 1000
        torch.testing.assert_close(y1[unclipped], 2.0 * y0[unclipped], rtol=1e-3, atol=0)
        assert float(brighter[y0 > 0.55].min()) == pytest.approx(1.0)  # clipped to white

    def test_channel_mix_is_linear_light_weights(self):
        rgb = as_tensor(kodak("kodim15", (48, 32)), torch.float64)
        p = Params()
        for name, value in (("mix_red", 50), ("mix_green", 30), ("mix_blue", 20)):
            p.set(f"global.{name}", value)
        out = render(rgb, uniform_masks().double(), None, params_to_tensors(p, dtype=torch.float64))
        lin = srgb_to_linear(rgb)
        ref = linear_to_srgb((0.5 * lin[:, 0] + 0.3 * lin[:, 1] + 0.2 * lin[:, 2]).clamp(0, 1))
        torch.testing.assert_close(out[:, 0], ref, atol=3e-6, rtol=0)

    def test_region_sliders_only_affect_their_region(self):
        rgb = as_tensor(kodak("kodim21", (64, 48)))
        masks = torch.zeros(1, 5, 48, 64)
        masks[0, SKY, :, :32] = 1.0
        masks[0, OTHER, :, 32:] = 1.0
        p = Params()
        for name, value in (("exposure", -1), ("contrast", 60), ("blue", -100), ("shadows", 50), ("whites", 30)):
            p.set(f"sky.{name}", value)
        out = render(rgb, masks, None, params_to_tensors(p))
        neutral = render(rgb, masks, None, params_to_tensors(Params()))
        assert torch.equal(out[..., 32:], neutral[..., 32:])
        assert float((out[..., :32] - neutral[..., :32]).abs().mean()) > 0.02

    def test_curve_applies_in_display_space(self):
        rgb = as_tensor(kodak("kodim07", (48, 32)))
        p = Params()
        p.global_["curve"] = [1.0 - i / (CURVE_KNOTS - 1) for i in range(CURVE_KNOTS)]  # inversion (a straight line)
        out = render(rgb, uniform_masks(), None, params_to_tensors(p))
        neutral = render(rgb, uniform_masks(), None, params_to_tensors(Params()))
        torch.testing.assert_close(out, 1.0 - neutral, atol=1e-5, rtol=0)

    def test_structure_raises_local_contrast(self):
        rgb = as_tensor(kodak("kodim13", (192, 128)))
        neutral = render(rgb, uniform_masks(), None, params_to_tensors(Params()))
        results = {}
        for value in (-80, 80):
            p = Params()
            p.set("all.structure", value)
            results[value] = render(rgb, uniform_masks(), None, params_to_tensors(p))

        def detail(x):
            return float((x[..., 1:, :] - x[..., :-1, :]).abs().mean())

        assert detail(results[80]) > 1.2 * detail(neutral) > 1.2 * 1.2 * detail(results[-80])
        # it is local contrast, not a brightness change
        assert abs(float(results[80].mean() - neutral.mean())) < 0.01

    def test_vignette_darkens_corners_only(self):
        rgb = torch.full((1, 3, 60, 90), 0.5)
        p = Params()
        p.set("global.vignette", -100)
        out = render(rgb, uniform_masks(), None, params_to_tensors(p))
        centre, corner = float(out[0, 0, 30, 45]), float(out[0, 0, 0, 0])
        neutral = float(render(rgb, uniform_masks(), None, params_to_tensors(Params()))[0, 0, 30, 45])
        assert centre == pytest.approx(neutral, abs=1e-6)
        assert corner < neutral - 0.1


class TestGrain:
    def _grainy(self, seed):
        rgb = torch.full((1, 3, 80, 120), 0.45)
        p = Params()
        p.set("global.grain", 60)
        p.set("global.grain_seed", seed)
        return render(rgb, uniform_masks(), None, params_to_tensors(p))

    def test_reproducible_by_seed(self):
        assert torch.equal(self._grainy(7), self._grainy(7))
        assert not torch.equal(self._grainy(7), self._grainy(8))
        assert float((self._grainy(7) - self._grainy(8)).abs().mean()) > 0.005

    def test_strongest_in_midtones(self):
        ramp = torch.linspace(0, 1, 200).view(1, 1, 1, 200).expand(1, 3, 100, 200).contiguous()
        p = Params()
        p.set("global.grain", 80)
        noisy = render(ramp, uniform_masks(), None, params_to_tensors(p))
        clean = render(ramp, uniform_masks(), None, params_to_tensors(Params()))
        std = (noisy - clean).std(dim=2)[0, 0]
        assert float(std[90:110].mean()) > 2 * float(std[:10].mean())
        assert float(std[90:110].mean()) > 2 * float(std[-10:].mean())

    def test_seed_argument_overrides(self):
        rgb = torch.full((1, 3, 20, 20), 0.5)
        p = Params()
        p.set("global.grain", 50)
        t = params_to_tensors(p)
        assert torch.equal(render(rgb, uniform_masks(), None, t, seed=3), render(rgb, uniform_masks(), None, t, seed=3))
        assert not torch.equal(render(rgb, uniform_masks(), None, t, seed=3), render(rgb, uniform_masks(), None, t))


class TestLocal:
    def test_graduated_darkens_from_the_top(self):
        rgb = torch.full((1, 3, 40, 60), 0.5)
        p = Params()
        grad = default_local("graduated")
        grad.update(exposure=-1, y=0.5, feather=0.2)
        p.local = [grad]
        out = render(rgb, uniform_masks(), None, params_to_tensors(p))[0, 0]
        assert float(out[0].mean()) < float(out[-1].mean()) - 0.1
        assert float(out[-1].mean()) == pytest.approx(0.5, abs=1e-4)

    def test_given_local_masks_are_used(self):
        rgb = torch.full((1, 3, 20, 20), 0.5)
        p = Params()
        p.local = [dict(default_local("radial"), exposure=1.0)]
        mask = torch.zeros(1, 1, 20, 20)
        mask[..., :10] = 1.0
        out = render(rgb, uniform_masks(), mask, params_to_tensors(p))[0, 0]
        assert float(out[:, :10].mean()) > 0.6 and float(out[:, 10:].mean()) == pytest.approx(0.5, abs=1e-6)

    def test_point_selects_similar_colours(self):
        rgb = torch.zeros(1, 3, 40, 40)
        rgb[0, :, :, :20] = torch.tensor([0.2, 0.3, 0.8]).view(3, 1, 1)  # blue on the left
        rgb[0, :, :, 20:] = torch.tensor([0.8, 0.6, 0.2]).view(3, 1, 1)  # orange on the right
        p = Params()
        p.local = [dict(default_local("point"), x=0.45, y=0.5, radius=1.0, similarity=80, exposure=-1.0)]
        out = render(rgb, uniform_masks(), None, params_to_tensors(p))[0, 0]
        neutral = render(rgb, uniform_masks(), None, params_to_tensors(Params()))[0, 0]
        assert float((neutral - out)[:, 10:20].mean()) > 0.03  # the blue under the point darkens
        assert float((neutral - out)[:, 25:].abs().max()) < 0.01  # the orange does not


def global_look() -> Params:
    """A typical built-in style: hue bands, tone, curve, structure and vignette, no locals/grain/toning
    (the banded path finishes these bands without torch)."""
    p = everything_on()
    p.local = []
    p.set("global.grain", 0)
    p.set("global.tone_highlight_sat", 0)
    p.set("global.tone_shadow_sat", 0)
    return p


class TestPaths:
    """`render_array` (banded, uint8/uint16/float) and `Preview` compute the same as `render`."""

    @pytest.fixture(scope="class")
    def photo(self):
        return kodak("kodim23", (384, 256))

    @pytest.mark.parametrize("make_params", [Params, global_look, everything_on])
    def test_render_array_equals_render(self, photo, make_params):
        params = make_params()
        masks = soft_masks(24, 36, seed=2)
        ref = render(as_tensor(photo), torch.from_numpy(masks)[None], None, params_to_tensors(params))[0]
        ref = ref.permute(1, 2, 0).squeeze(-1).numpy()
        for rgb in (photo, photo.astype(np.uint16) * 257, photo.astype(np.float32) / 255):
            for tile in (20_000, None):  # many bands, and the default
                out = render_array(rgb, masks, None, params, tile_pixels=tile)
                assert out.shape == ref.shape
                assert np.abs(out - ref).max() <= 2 / 65535, (rgb.dtype, tile)

    def test_torch_band_path_equals_render(self, photo):
        """The all-torch band path (what CUDA runs) agrees too, exercised here on CPU."""
        params = everything_on()
        masks = soft_masks(24, 36, seed=3)
        ref = render(as_tensor(photo), torch.from_numpy(masks)[None], None, params_to_tensors(params))[0]
        out = render_array(photo, masks, None, params, tile_pixels=25_000, fast=False)
        assert np.abs(out - ref.permute(1, 2, 0).numpy()).max() <= 2 / 65535

    def test_render_array_with_given_local_masks(self, photo):
        params = everything_on()
        masks = soft_masks(24, 36, seed=4)
        local = np.random.default_rng(0).random((3, 16, 24)).astype(np.float32)
        ref = render(as_tensor(photo), torch.from_numpy(masks)[None], torch.from_numpy(local)[None],
                     params_to_tensors(params))[0].permute(1, 2, 0).numpy()
        out = render_array(photo, masks, local, params, tile_pixels=30_000)
        assert np.abs(out - ref).max() <= 2 / 65535

    @pytest.mark.parametrize("make_params", [Params, global_look, everything_on])
    def test_preview_equals_render(self, photo, make_params):
        params = make_params()
        masks = soft_masks(24, 36, seed=5)
        preview = Preview(photo, masks)
        ref = render(as_tensor(photo), torch.from_numpy(masks)[None], None, params_to_tensors(params))[0]
        ref = ref.permute(1, 2, 0).squeeze(-1).numpy()
        assert np.abs(preview.render(params) - ref).max() <= 2 / 65535
        # a slider change after caching gives the same as a fresh render
        params.set("sky.exposure", 1.5)
        params.set("other.structure", -20)
        params.set("global.blue_hue", -11)  # moved band centres rebuild the cached hue basis / tables
        ref2 = render(as_tensor(photo), torch.from_numpy(masks)[None], None, params_to_tensors(params))[0]
        assert np.abs(preview.render(params) - ref2.permute(1, 2, 0).squeeze(-1).numpy()).max() <= 2 / 65535

    def test_preview_downsizes_large_input(self):
        preview = Preview(np.zeros((1200, 1600, 3), np.uint8), np.full((5, 8, 8), 0.2, np.float32))
        assert preview.shape[0] * preview.shape[1] <= 1_100_000


class TestTensors:
    def test_round_trip(self):
        params = everything_on()
        back = tensors_to_params(params_to_tensors(params, dtype=torch.float64))
        for region in SEMANTIC_REGIONS:
            assert back.regions[region] == pytest.approx(params.regions[region])
        for name, value in params.global_.items():
            assert back.global_[name] == pytest.approx(value)
        assert len(back.local) == 3
        for mine, theirs in zip(back.local, params.local):
            assert mine["kind"] == theirs["kind"]
            assert {k: v for k, v in mine.items() if k != "kind"} == pytest.approx(
                {k: v for k, v in theirs.items() if k != "kind"})

    def test_out_of_range_values_are_clamped(self):
        t = params_to_tensors(Params())
        t.region[0, 0] = 500.0
        t.curve[3] = -0.2
        t.global_[0] = 1e6
        params = tensors_to_params(t)
        assert params.regions["sky"]["red"] == 100
        assert params.global_["curve"][3] == 0.0
        assert params.global_["mix_red"] == 300

    def test_to_and_requires_grad(self):
        t = params_to_tensors(Params()).to(dtype=torch.float64).requires_grad_()
        assert t.dtype == torch.float64 and all(x.requires_grad for x in t.tensors())
        assert not any(x.requires_grad for x in t.detach().tensors())


class TestDevice:
    def test_resolve(self):
        assert resolve_device("cpu").type == "cpu"
        assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
        with pytest.raises(SilverprintError):
            resolve_device("tpu")

    @pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on machines without CUDA")
    def test_cuda_unavailable_is_a_clear_error(self):
        with pytest.raises(SilverprintError, match="no CUDA"):
            resolve_device("cuda")

    @pytest.mark.gpu
    @pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
    def test_cuda_matches_cpu(self):
        photo = kodak("kodim23", (192, 128))
        masks = soft_masks(24, 36)
        cpu = render_array(photo, masks, None, everything_on(), device="cpu")
        gpu = render_array(photo, masks, None, everything_on(), device="cuda")
        assert np.abs(cpu - gpu).max() <= 4 / 65535


def test_gpu_check_script_runs_without_cuda():
    """bench/gpu_check.sh is meant for a lent GPU machine; here it must say so and run the CPU part."""
    import os
    import subprocess

    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(["bash", str(root / "bench" / "gpu_check.sh"), "--mp", "0.1", "--preview-mp", "0.03"],
                          capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, GPU_CHECK_VIDEO="0"))  # the video part has its own tests
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "render_array" in proc.stdout and "OK" in proc.stdout
    if not torch.cuda.is_available():
        assert "no CUDA" in proc.stdout
