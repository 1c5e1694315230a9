"""silverprint.render.tone and .spatial: monotone tone curves, LUT accuracy, resampling, grain, masks."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from silverprint.ops.color import linear_to_srgb
from silverprint.params import CURVE_KNOTS, REGION_SLIDERS
from silverprint.render import spatial, tone, torch_threads

@pytest.fixture(autouse=True)
def one_torch_thread():
    """Small elementwise ops run several times faster on one intra-op thread on 2-core machines
    (see `torch_threads`); restored after each test."""
    with torch_threads(1):
        yield


IDX = {name: i for i, name in enumerate(REGION_SLIDERS)}


def slider_grid(values=(-100, -50, 0, 50, 100), exposures=(-4, 0, 4)) -> torch.Tensor:
    names = ("contrast", "highlights", "shadows", "whites", "blacks")
    rows = []
    for ev in exposures:
        for combo in itertools.product(values, repeat=len(names)):
            row = torch.zeros(len(REGION_SLIDERS), dtype=torch.float64)
            row[IDX["exposure"]] = ev
            for name, value in zip(names, combo):
                row[IDX[name]] = value
            rows.append(row)
    return torch.stack(rows)


class TestRegionTone:
    def test_monotone_for_every_slider_combination(self):
        sliders = slider_grid()  # 3 exposures x 5**5 tone combinations
        luts = tone.region_luts(sliders, size=512)
        assert luts.shape == (sliders.shape[0], 512)
        steps = luts[:, 1:] - luts[:, :-1]
        assert float(steps.min()) >= -1e-12
        assert float(luts.min()) >= 0.0 and float(luts.max()) <= 1.0

    def test_display_tone_monotone_on_fine_grid(self):
        sliders = slider_grid(values=(-100, -30, 0, 30, 100), exposures=(0,))
        d = torch.linspace(0, 1, 1001, dtype=torch.float64)
        out = tone.region_tone(d.expand(sliders.shape[0], -1), sliders)
        assert float((out[:, 1:] - out[:, :-1]).min()) >= -1e-12

    def test_identity_when_neutral(self):
        d = torch.linspace(0, 1, 101, dtype=torch.float64)
        out = tone.region_tone(d.unsqueeze(0), torch.zeros(1, len(REGION_SLIDERS), dtype=torch.float64))
        torch.testing.assert_close(out[0], d, atol=1e-12, rtol=0)

    def test_contrast_is_an_s_curve_around_middle_grey(self):
        d = torch.tensor([0.2, tone.MIDDLE_GREY, 0.8], dtype=torch.float64)
        plus = tone.contrast_curve(d, torch.tensor(100.0, dtype=torch.float64))
        minus = tone.contrast_curve(d, torch.tensor(-100.0, dtype=torch.float64))
        assert plus[0] < d[0] < minus[0] and plus[2] > d[2] > minus[2]
        assert float(plus[1]) == pytest.approx(tone.MIDDLE_GREY, abs=1e-12)

    @pytest.mark.parametrize("name,probe,direction", [("shadows", 0.25, 1), ("highlights", 0.75, 1),
                                                     ("whites", 0.9, 1), ("blacks", 0.1, 1)])
    def test_slider_directions(self, name, probe, direction):
        d = torch.tensor([[probe]], dtype=torch.float64)
        sliders = torch.zeros(2, len(REGION_SLIDERS), dtype=torch.float64)
        sliders[0, IDX[name]] = 100
        sliders[1, IDX[name]] = -100
        up, down = tone.region_tone(d.expand(2, 1), sliders)[:, 0]
        assert direction * (float(up) - probe) > 0.01 and direction * (probe - float(down)) > 0.01

    def test_lut_matches_analytic_tone(self):
        torch.manual_seed(1)
        sliders = torch.zeros(4, len(REGION_SLIDERS), dtype=torch.float64)
        sliders[:, IDX["exposure"]] = torch.tensor([-1.0, 0.0, 0.5, 1.3], dtype=torch.float64)
        sliders[:, IDX["contrast"]] = torch.tensor([40.0, -60, 0, 20], dtype=torch.float64)
        sliders[:, IDX["shadows"]] = torch.tensor([30.0, 0, -50, 10], dtype=torch.float64)
        luts = tone.region_luts(sliders)
        y = torch.rand(4, 5000, dtype=torch.float64) * 0.9 + 0.001
        pos = tone.log_position(torch.log2(y))
        offsets = (torch.arange(4) * tone.LUT_SIZE).view(4, 1)
        via_lut = tone.lut_lookup(luts, pos, offsets)
        ev = sliders[:, IDX["exposure"]].unsqueeze(1)
        analytic = tone.region_tone(linear_to_srgb((y * torch.exp2(ev)).clamp(0, 1)), sliders)
        # away from the clipping kink the table is accurate to well under one 16-bit code value
        keep = (y * torch.exp2(ev)) < 0.95
        assert float((via_lut - analytic)[keep].abs().max()) < 0.5 / 65535


class TestCurve:
    def test_identity(self):
        knots = torch.linspace(0, 1, 17, dtype=torch.float64)
        torch.testing.assert_close(tone.curve_lut(knots), torch.linspace(0, 1, tone.CURVE_LUT_SIZE,
                                                                          dtype=torch.float64), atol=1e-12, rtol=0)

    def test_monotone_knots_give_monotone_curve(self):
        rng = np.random.default_rng(0)
        for _ in range(50):
            steps = rng.random(CURVE_KNOTS - 1) ** 4  # very uneven steps, some nearly flat
            knots = torch.tensor(np.concatenate([[0.0], np.cumsum(steps) / steps.sum()]))
            lut = tone.curve_lut(knots)
            assert float((lut[1:] - lut[:-1]).min()) >= -1e-12
            # passes through the knots (a table whose entries include the knots' inputs)
            exact = tone.curve_lut(knots, size=(CURVE_KNOTS - 1) * 8 + 1)
            torch.testing.assert_close(exact[::8], knots, atol=1e-12, rtol=0)

    def test_exception(self):
        with pytest.raises(ValueError):
            tone.curve_lut(torch.linspace(0, 1, 2))

    @pytest.mark.grad
    def test_gradcheck(self):
        knots = (torch.linspace(0, 1, 17, dtype=torch.float64) ** 1.3).requires_grad_()
        assert torch.autograd.gradcheck(lambda k: tone.curve_lut(k, 257), (knots,), fast_mode=True)


class TestHueBasis:
    def test_weights(self):
        # centres 30 60 100 135 195 270 310 340: red at 30, magenta→red wraps through 0
        hue = torch.tensor([30.0, 45.0, 10.0, 80.0, 232.5, 355.0])
        sat = torch.ones(6)
        j0, j1, a, b = tone.hue_basis(hue, sat, tone.band_centres(torch.zeros(8)))
        assert j0.tolist() == [0, 0, 7, 1, 4, 7]
        assert j1.tolist() == [1, 1, 0, 2, 5, 0]
        torch.testing.assert_close(b, torch.tensor([0.0, 0.5, 0.6, 0.5, 0.5, 0.3]))
        torch.testing.assert_close(a + b, sat)

    def test_moved_centres(self):
        # red moved -12 (to 18) and magenta +10 (to 350): 10° now sits between them, 20° past red
        shifts = torch.zeros(8)
        shifts[0], shifts[7] = -12.0, 10.0
        centres = tone.band_centres(shifts)
        assert centres[0] == 18.0 and centres[7] == 350.0
        j0, j1, a, b = tone.hue_basis(torch.tensor([10.0, 20.0, 350.0]), torch.ones(3), centres)
        assert j0.tolist() == [7, 0, 7] and j1.tolist() == [0, 1, 0]
        torch.testing.assert_close(b, torch.tensor([20.0 / 28.0, 2.0 / 42.0, 0.0]))

    def test_rendered_moves_are_whole_degrees_learned_ones_continuous(self):
        torch.testing.assert_close(tone.band_centres(torch.full((8,), 2.4))[:2], torch.tensor([32.0, 62.0]))
        shifts = torch.full((8,), 2.4, dtype=torch.float64, requires_grad=True)
        centres = tone.band_centres(shifts)
        assert float(centres[0].detach()) == pytest.approx(32.4)
        hue = torch.tensor([40.0, 70.0, 200.0, 5.0], dtype=torch.float64)
        # the offset is differentiable in the centres (the learner fits them)
        assert torch.autograd.gradcheck(
            lambda s: tone.hue_basis(hue, torch.ones_like(hue), tone.band_centres(s))[3], (shifts,), fast_mode=True)


class TestResizeRows:
    @pytest.mark.parametrize("src,dst", [((7, 9), (30, 41)), ((16, 16), (16, 40)), ((20, 30), (7, 11)),
                                         ((5, 5), (5, 5))])
    def test_equals_interpolate(self, src, dst):
        x = torch.rand(2, 3, *src, dtype=torch.float64)
        ref = F.interpolate(x, dst, mode="bilinear", align_corners=False)
        torch.testing.assert_close(spatial.resize_rows(x, *dst), ref, atol=1e-12, rtol=0)
        torch.testing.assert_close(spatial.resize_rows(x, *dst, 3, 6), ref[..., 3:6, :], atol=1e-12, rtol=0)


class TestGrainNoise:
    def test_bands_join_seamlessly(self):
        whole = spatial.grain_noise(5, 80.0, 300, 200, 0, 300)
        parts = torch.cat([spatial.grain_noise(5, 80.0, 300, 200, s, min(300, s + 37)) for s in range(0, 300, 37)])
        assert torch.equal(whole, parts)

    @pytest.mark.parametrize("size", [0.0, 50.0, 100.0])
    def test_unit_variance_at_full_size(self, size):
        noise = spatial.grain_noise(1, size, 4000, 6000, 1000, 1200)  # a band of a 24 MP frame
        assert float(noise.std()) == pytest.approx(1.0, rel=0.1)
        assert abs(float(noise.mean())) < 0.05

    def test_larger_size_is_coarser(self):
        fine = spatial.grain_noise(1, 0.0, 4000, 6000, 0, 200)
        coarse = spatial.grain_noise(1, 100.0, 4000, 6000, 0, 200)

        def neighbour_corr(n):
            return float(torch.corrcoef(torch.stack([n[:, 1:].reshape(-1), n[:, :-1].reshape(-1)]))[0, 1])

        assert neighbour_corr(coarse) > neighbour_corr(fine) + 0.3

    @pytest.mark.parametrize("size", [0.0, 25.0, 100.0])
    def test_preview_grain_matches_downsampled_print_grain(self, size):
        """A 1 MP preview shows about the grain amplitude the 24 MP print shows when downsampled."""
        import cv2

        full = spatial.grain_noise(1, size, 4000, 6000, 0, 400).numpy()
        downsampled = cv2.resize(full, (1224, 82), interpolation=cv2.INTER_AREA)
        preview = spatial.grain_noise(1, size, 816, 1224, 0, 816).numpy()
        assert 0.6 < preview.std() / downsampled.std() < 1.4


class TestMasks:
    def test_graduated_shape_and_range(self):
        geometry = torch.tensor([0.5, 0.4, 0.0, 0.2, 0, 0, 0], dtype=torch.float64)
        m = spatial.graduated_mask(geometry, 50, 80, 0, 50)
        assert m.shape == (50, 80) and float(m.min()) >= 0 and float(m.max()) <= 1
        assert float(m[0].min()) == 1.0 and float(m[-1].max()) == 0.0

    def test_radial_invert(self):
        geometry = torch.tensor([0.5, 0.5, 0.5, 0.5, 0.0, 0.3, 0.0], dtype=torch.float64)
        inside = spatial.radial_mask(geometry, 40, 40, 0, 40)
        geometry[6] = 1.0
        outside = spatial.radial_mask(geometry, 40, 40, 0, 40)
        torch.testing.assert_close(inside + outside, torch.ones_like(inside))
        assert float(inside[20, 20]) == 1.0 and float(inside[0, 0]) == 0.0

    @pytest.mark.grad
    def test_geometry_gradcheck(self):
        g = torch.tensor([0.45, 0.55, 0.6, 0.4, 20.0, 0.5, 0.0], dtype=torch.float64, requires_grad=True)
        assert torch.autograd.gradcheck(lambda x: spatial.radial_mask(x, 9, 11, 0, 9), (g,), fast_mode=True)
        g2 = torch.tensor([0.5, 0.4, 10.0, 0.3, 0, 0, 0], dtype=torch.float64, requires_grad=True)
        assert torch.autograd.gradcheck(lambda x: spatial.graduated_mask(x, 9, 11, 0, 9), (g2,), fast_mode=True)
