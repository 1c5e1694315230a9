"""A content-adaptive photographer of our own: the learned style must make per-photo decisions.

The photographer (a rule of this test, on scikit-image's sample photos, none of them in the
shared benchmark data) brings every photo toward a preferred brightness: exposure from the photo's
median brightness, and more contrast for flat photos, rendered with Silverprint's own renderer
through a red filter. Real files go through the product's pair preparation and learner; the
learned style must then expose a photo darker than any it trained on more, and a brighter one
less, than its usual.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from silverprint.descriptors import as_dict
from silverprint.learn import fit, model
from silverprint.learn.learner import Item, learn_items, prepare_item
from silverprint.learn.pairing import Pair
from silverprint.params import Params
from silverprint.pipeline import analyse, render_with
from silverprint.styles import decode

SIDE = 112
#: Ten pairs (the fewest a style needs to keep a decoder, `perphoto.MIN_PAIRS`; too few for
#: subjects, so what adapts the sliders per photo is the decoder alone). Medians 0.35-0.59.
TRAIN = (("astronaut", -0.5), ("astronaut", 0.4), ("chelsea", -0.4), ("chelsea", 0.5),
         ("coffee", -0.6), ("coffee", 0.3), ("astronaut", 0.0), ("chelsea", 0.0), ("coffee", -0.1),
         ("coffee", 0.0))
#: A photo the style never saw, far darker (median 0.21) and far brighter (0.66) than its training.
DARK, BRIGHT = ("motorcycle", -2.0), ("motorcycle", 1.6)


def sample(name: str, ev: float) -> np.ndarray:
    """A scikit-image sample photo, long side `SIDE`, its exposure shifted by ``ev`` (uint8)."""
    import skimage.data

    rgb = skimage.data.stereo_motorcycle()[0] if name == "motorcycle" else getattr(skimage.data, name)()
    im = Image.fromarray(rgb[..., :3])
    im.thumbnail((SIDE, SIDE), Image.LANCZOS)
    x = np.asarray(im).astype(np.float32) / 255
    lin = np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4) * 2.0 ** ev
    out = np.where(lin <= 0.0031308, lin * 12.92, 1.055 * np.clip(lin, 0.0031308, 1) ** (1 / 2.4) - 0.055)
    return (np.clip(out, 0, 1) * 255 + 0.5).astype(np.uint8)


def photographer(rgb: np.ndarray) -> np.ndarray:
    """The test photographer's edit: exposure to a preferred median, contrast for flat photos."""
    x = rgb.astype(np.float32) / 255
    analysis = analyse(x)
    d = as_dict(analysis.descriptors)
    params = Params()
    params.set("global.mix_red", 70.0)
    params.set("global.mix_green", 30.0)
    params.set("global.mix_blue", 0.0)
    params.set("all.exposure", float(np.clip(-2.5 * (d["lum_p50"] - 0.42), -2.0, 2.0)))
    params.set("all.contrast", float(np.clip(200.0 * (0.24 - d["contrast"]), -40.0, 40.0)))
    grey = render_with(x, analysis, params, device="cpu")
    return (np.clip(grey, 0, 1) * 255 + 0.5).astype(np.uint8)


def fixed_recipe(rgb: np.ndarray) -> np.ndarray:
    """An edit with the same sliders for every photo (no per-photo decision)."""
    x = rgb.astype(np.float32) / 255
    params = Params()
    params.set("all.contrast", 20.0)
    grey = render_with(x, analyse(x), params, device="cpu")
    return (np.clip(grey, 0, 1) * 255 + 0.5).astype(np.uint8)


def write_pair(folder: Path, name: str, ev: float, edit_of=photographer) -> Pair:
    rgb = sample(name, ev)
    stem = f"{name}{ev:+.1f}"
    original, edit = folder / "originals" / f"{stem}.png", folder / "edits" / f"{stem}.png"
    for path in (original, edit):
        path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(original)
    Image.fromarray(edit_of(rgb)).save(edit)
    return Pair(stem, original, edit, "folders")


@pytest.fixture(scope="module")
def learned(tmp_path_factory):
    folder = tmp_path_factory.mktemp("adaptive-portfolio")
    items = [Item(p, prepare_item(p)) for p in (write_pair(folder, n, ev) for n, ev in TRAIN)]
    fitted = learn_items(items, steps=40, local_steps=0, use_prior=False)
    style = model.build_style(fitted.learned, "adaptive-test", description="test", provenance={})
    return style, fitted, items, folder


def test_the_style_keeps_a_per_photo_decoder(learned):
    style, fitted, _, _ = learned
    assert "decoder" in fitted.learned.ablation["kept"], fitted.learned.ablation
    assert style.decoder is not None and "all.exposure" in style.decoder.outputs
    cv = fitted.learned.ablation["decoder_cv"]["log_mse"]
    assert min(v for k, v in cv.items() if k != "none") < cv["none"]


def test_exposure_moves_the_right_way_beyond_the_training_photos(learned):
    style, _, items, folder = learned
    medians = [as_dict(i.data.descriptors)["lum_p50"] for i in items]
    exposures = [decode(style, i.data.descriptors).regions["other"]["exposure"] for i in items]
    dark, bright = (prepare_item(write_pair(folder, n, ev)) for n, ev in (DARK, BRIGHT))
    assert as_dict(dark.descriptors)["lum_p50"] < min(medians)
    assert as_dict(bright.descriptors)["lum_p50"] > max(medians)
    ev_dark = decode(style, dark.descriptors).regions["other"]["exposure"]
    ev_bright = decode(style, bright.descriptors).regions["other"]["exposure"]
    usual = float(np.mean(exposures))
    assert ev_dark > usual + 0.3 > usual - 0.3 > ev_bright, (ev_dark, usual, ev_bright)
    # and the renderings follow the photographer better than the style's one recipe does
    base = style.base
    for data in (dark, bright):
        decoded = model._pair_error(decode(style, data.descriptors), data)
        assert decoded < 0.5 * model._pair_error(base, data)


def test_a_style_without_a_dependence_keeps_no_decoder(tmp_path):
    """A fixed recipe (the same sliders for every photo) gains nothing from a per-photo decoder."""
    items = [Item(p, prepare_item(p)) for p in (write_pair(tmp_path, n, ev, fixed_recipe) for n, ev in TRAIN)]
    with fit.single_thread():
        fitted = learn_items(items, steps=40, local_steps=0, use_prior=False)
    assert fitted.learned.decoder is None, fitted.learned.ablation


def test_too_few_pairs_keep_no_decoder(learned):
    """Below `perphoto.MIN_PAIRS` cross-validation is noise (adaptive-a: 6 pairs chose a decoder
    that lost 1.3 dB on unseen photos), so the same photographer's first six pairs give a style
    without one, while the ten give one."""
    from silverprint.learn import perphoto

    _, fitted, items, _ = learned
    assert len(items) >= perphoto.MIN_PAIRS and fitted.learned.decoder is not None
    few = items[:6]
    assert len(few) < perphoto.MIN_PAIRS
    with fit.single_thread():
        small = learn_items(few, steps=40, local_steps=0, use_prior=False)
    assert small.learned.decoder is None and "decoder_cv" not in small.learned.ablation
