"""silverprint.ops.color: sRGB transfer function, luminance, hue and saturation."""
from __future__ import annotations


import numpy as np
import pytest
import torch

from silverprint.errors import ShapeError
from silverprint.ops.color import (hue_chroma, linear_rgb_to_luminance, linear_to_srgb, srgb_to_linear,
                                   srgb_to_luminance)


def _srgb_decode_reference(v: np.ndarray) -> np.ndarray:
    """IEC 61966-2-1, written out independently in float64."""
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


class TestTransfer:
    def test_smoke(self):
        x = torch.linspace(0, 1, 11)
        assert srgb_to_linear(x).shape == x.shape
        assert linear_to_srgb(x).shape == x.shape

    def test_reference_values(self):
        codes = np.arange(256) / 255.0
        ours = srgb_to_linear(torch.tensor(codes)).numpy()
        np.testing.assert_allclose(ours, _srgb_decode_reference(codes), atol=1e-12)
        # well-known anchor: 18 % grey encodes to code 118 (0.4614)
        assert abs(float(linear_to_srgb(torch.tensor(0.18, dtype=torch.float64))) - 0.46135612950044164) < 1e-9

    def test_round_trip(self):
        x = torch.rand(1000, dtype=torch.float64)
        torch.testing.assert_close(linear_to_srgb(srgb_to_linear(x)), x, atol=1e-12, rtol=0)

    @pytest.mark.grad
    def test_gradcheck(self):
        x = (torch.rand(20, dtype=torch.float64) * 0.98 + 0.01).requires_grad_()
        assert torch.autograd.gradcheck(srgb_to_linear, (x,), fast_mode=True)
        assert torch.autograd.gradcheck(linear_to_srgb, (x,), fast_mode=True)

    def test_gradient_finite_at_zero(self):
        x = torch.zeros(3, requires_grad=True)
        linear_to_srgb(x).sum().backward()
        assert torch.isfinite(x.grad).all()


class TestLuminance:
    @pytest.mark.parametrize("shape", [(1, 3, 4, 5), (2, 3, 1, 1), (3, 7, 2)])
    def test_cardinality(self, shape):
        out = linear_rgb_to_luminance(torch.rand(*shape))
        assert out.shape == (*shape[:-3], 1, *shape[-2:])

    def test_exception(self):
        with pytest.raises(ShapeError):
            linear_rgb_to_luminance(torch.rand(1, 4, 2, 2))
        with pytest.raises(TypeError):
            linear_rgb_to_luminance(np.zeros((3, 2, 2)))

    def test_weights(self):
        rgb = torch.tensor([1.0, 0.0, 0.0]).reshape(1, 3, 1, 1)
        assert float(linear_rgb_to_luminance(rgb)) == pytest.approx(0.2126)
        assert float(linear_rgb_to_luminance(rgb, (0.5, 0.25, 0.25))) == pytest.approx(0.5)

    def test_srgb_luminance_grey_is_identity(self):
        grey = torch.linspace(0, 1, 9).reshape(1, 1, 1, 9).expand(1, 3, 1, 9)
        torch.testing.assert_close(srgb_to_luminance(grey)[0, 0], grey[0, 0], atol=2e-7, rtol=0)


class TestHueChroma:
    def test_against_skimage_lab(self):
        from skimage.color import rgb2lab

        rng = np.random.default_rng(3)
        rgb = rng.random((200, 3))
        lab = rgb2lab(rgb.reshape(1, -1, 3))[0]  # sRGB, D65, as the renderer's filter
        chroma = np.hypot(lab[:, 1], lab[:, 2])
        hue, weight = hue_chroma(srgb_to_linear(torch.tensor(rgb.T.reshape(1, 3, 1, 200))), 128.0)
        ref_w = 1.0 - (1.0 - np.minimum(chroma / 128.0, 1.0)) ** 2
        np.testing.assert_allclose(weight[0, 0, 0].numpy(), ref_w, atol=1e-3)
        ref_h = np.degrees(np.arctan2(lab[:, 2], lab[:, 1])) % 360.0
        diff = (hue[0, 0, 0].numpy() - ref_h + 180.0) % 360.0 - 180.0
        assert np.abs(diff[chroma > 5]).max() < 0.05  # hue is only meaningful with some chroma

    def test_grey_has_no_colourfulness_and_saturated_colours_have_full(self):
        rgb = torch.tensor([[0.0, 0.0, 0.0], [0.5, 0.5, 0.5], [1.0, 1.0, 1.0], [0.0, 0.0, 1.0]]).T.reshape(1, 3, 1, 4)
        _, weight = hue_chroma(srgb_to_linear(rgb), 128.0)
        assert float(weight[..., :3].abs().max()) < 1e-5
        assert float(weight[..., 3]) == pytest.approx(1.0)  # sRGB blue: chroma 134 > 128

    def test_exception(self):
        with pytest.raises(ShapeError):
            hue_chroma(torch.rand(1, 2, 3, 3), 128.0)
