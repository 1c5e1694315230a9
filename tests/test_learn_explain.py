"""`silverprint.learn.explain`: a style's per-photo decisions and their reasons, on a hand-made style
whose linear decoder is known, so each number in the explanation can be checked by hand.

Decoder: exposure = clip(0.2 - 2.0 (lum_p50 - 0.42) - 1.0 (sky_area - 0.2), -0.8, 0.8) and
contrast = 40 (contrast - 0.25): a darker photo than the usual 0.42 median gets more exposure.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from silverprint.descriptors import DESCRIPTOR_INDEX, DIM
from silverprint.learn.explain import (Contribution, TrainingPair, dependences, explain_decoder,
                                       explain_photo, training_pairs)
from silverprint.params import SEMANTIC_REGIONS, Params
from silverprint.styles import LinearDecoder, decode, decoder_deltas, make_style

EXPOSURE_W = {"lum_p50": -2.0, "sky_area": -1.0}
CENTER = {"lum_p50": 0.42, "sky_area": 0.2, "contrast": 0.25}


def _style(subjects: dict | None = None):
    inputs = ["lum_p50", "sky_area", "contrast"]
    decoder = LinearDecoder(inputs=inputs, outputs=["all.exposure", "all.contrast"],
                            weights=[[-2.0, -1.0, 0.0], [0.0, 0.0, 40.0]], bias=[0.2, 0.0],
                            center=[CENTER[n] for n in inputs], clip=[[-0.8, 0.8], [-30.0, 30.0]])
    return make_style("known", "hand-made", Params(), source="learned", pairs=6, decoder=decoder,
                      subjects=subjects or {})


def _photo(**values: float) -> np.ndarray:
    x = np.zeros(DIM, np.float32)
    x[DESCRIPTOR_INDEX["lum_mean"]] = 0.42
    x[DESCRIPTOR_INDEX["key_ev"]] = -1.0
    x[DESCRIPTOR_INDEX["lum_p50"]] = 0.42
    x[DESCRIPTOR_INDEX["sky_area"]] = 0.2
    x[DESCRIPTOR_INDEX["contrast"]] = 0.25
    for name, v in values.items():
        x[DESCRIPTOR_INDEX[name]] = v
    return x


def _decision(explanation, key):
    return next(d for d in explanation.decisions if d.key == key)


def test_a_darker_photo_gets_more_exposure_and_the_sentence_says_darker():
    style = _style()
    dark = _photo(lum_p50=0.21)
    exp = explain_photo(style, dark)
    d = _decision(exp, "all.exposure")
    expected = 0.2 - 2.0 * (0.21 - 0.42)  # 0.62, inside the clip
    assert d.delta == pytest.approx(expected, abs=1e-6) and d.delta > 0 and not d.clipped
    assert d.delta == pytest.approx(decoder_deltas(style, dark)["all.exposure"], abs=1e-9)
    assert sum(c.amount for c in d.contributions) == pytest.approx(d.delta, abs=1e-9)
    parts = {c.input: c for c in d.contributions}
    assert parts["usual"].amount == pytest.approx(0.2) and parts["lum_p50"].amount == pytest.approx(0.42)
    assert d.usual == pytest.approx(0.2) and d.photo == pytest.approx(0.42)
    # the sentence speaks of this photo's part: the style's usual +0.2 EV is the same for all
    assert d.sentence.startswith("+0.42 EV exposure: darker than your usual"), d.sentence
    assert "median brightness 0.21; your photos 0.42" in d.sentence
    # and the renderer really applies it: decode gives exactly this exposure (base 0)
    assert decode(style, dark).regions["sky"]["exposure"] == pytest.approx(expected, abs=1e-6)

    bright = explain_photo(style, _photo(lum_p50=0.6))
    b = _decision(bright, "all.exposure")
    assert b.delta == pytest.approx(-0.16, abs=1e-6) and b.photo == pytest.approx(-0.36, abs=1e-6)
    assert "brighter than your usual" in b.sentence and b.sentence.startswith("-0.36 EV"), b.sentence

    flat = _decision(explain_photo(style, _photo(contrast=0.1)), "all.contrast")
    assert flat.delta == pytest.approx(-6.0, abs=1e-4) and flat.sentence.startswith("contrast -6: flatter")


def test_contributions_sum_to_the_clipped_delta():
    style = _style()
    very_dark = _photo(lum_p50=0.02, sky_area=0.0)   # unclipped 0.2 + 0.8 + 0.2 = 1.2 -> 0.8
    d = _decision(explain_photo(style, very_dark), "all.exposure")
    assert d.clipped and d.unclipped == pytest.approx(1.2, abs=1e-6)
    assert d.delta == pytest.approx(0.8, abs=1e-9) == decoder_deltas(style, very_dark)["all.exposure"]
    assert sum(c.amount for c in d.contributions) == pytest.approx(0.8, abs=1e-9)
    # the two descriptor parts keep their proportion (0.8 : 0.2) after the clip
    parts = {c.input: c.amount for c in d.contributions}
    assert parts["lum_p50"] / parts["sky_area"] == pytest.approx(4.0, rel=1e-6)
    assert "held at the style's limit" in d.sentence
    # a usual photo gets only the style's usual push, said so
    usual = _decision(explain_photo(style, _photo()), "all.exposure")
    assert usual.delta == pytest.approx(0.2) and usual.photo == pytest.approx(0.0, abs=1e-6)
    assert [c.input for c in usual.contributions] == ["usual"] and not usual.visible
    assert "much like your usual one" in usual.sentence


def test_subject_recipe_says_what_in_the_photo_makes_it_a_portrait():
    style = make_style("people", "hand-made", Params(), source="learned",
                       subjects={"portrait": {"skin.exposure": 0.3}, "landscape": {"sky.blue": -20}})
    face = _photo(face_count=1, skin_area=0.09, person_area=0.4, sky_area=0.0)
    exp = explain_photo(style, face)
    top = exp.subjects[0]
    assert top.name == "portrait" and top.weight > 0.5
    assert top.sentence.startswith(f"portrait recipe ({100 * top.weight:.0f} %): ")
    assert "faces and skin 9 % of the frame" in top.sentence and "1 face" in top.sentence
    assert top.deltas["skin.exposure"] == pytest.approx(0.3 * top.weight)
    land = explain_photo(style, _photo(sky_area=0.45, vegetation_area=0.4))
    assert land.subjects[0].name == "landscape" and "sky 45 % of the frame" in land.subjects[0].sentence
    json.dumps(exp.as_dict())  # the JSON form is plain data


def test_dependence_line_and_training_points():
    style = _style()
    def own(i: int, value: float) -> dict:  # a learner's pairs carry per-region sliders: all.X reads as their mean
        if i % 2:
            return {"all.exposure": value}
        return {f"{r}.exposure": value + (0.1 if r == "sky" else -0.025) for r in SEMANTIC_REGIONS}

    training = [TrainingPair(f"p{i}.jpg", _photo(lum_p50=v).tolist(), own(i, 0.2 - 2 * (v - 0.42) + 0.05))
                for i, v in enumerate((0.2, 0.3, 0.45, 0.6))]
    deps = {d.output: d for d in dependences(style, training)}
    exposure = deps["all.exposure"]
    assert exposure.input == "lum_p50" and exposure.input_label == "median brightness"
    slope = np.polyfit(exposure.line_x, exposure.line_y, 1)[0]
    assert slope == pytest.approx(-2.0, abs=1e-6)
    assert min(exposure.line_x) < 0.2 and max(exposure.line_x) > 0.6
    assert [p.name for p in exposure.points] == ["p0.jpg", "p1.jpg", "p2.jpg", "p3.jpg"]
    # changes from the usual: the decoder's 0.2 EV at the centre, and the mean of the pairs' own
    assert exposure.usual == pytest.approx(0.2) and np.interp(0.42, exposure.line_x, exposure.line_y) == \
        pytest.approx(0.0, abs=1e-6)
    mean_x = np.mean([p.x for p in exposure.points])
    for p in exposure.points:
        assert p.decoded == pytest.approx(-2 * (p.x - 0.42), abs=1e-6)
        assert p.own == pytest.approx(-2 * (p.x - mean_x), abs=1e-6)
    assert "all.contrast" not in deps  # no training pair varies contrast: nothing learned to plot
    json.dumps(exposure.as_dict())


def test_no_decoder_and_no_subjects_says_the_sliders_are_the_same_for_every_photo(tmp_path, monkeypatch):
    monkeypatch.setenv("SILVERPRINT_HOME", str(tmp_path))
    plain = make_style("plain", "hand-made", Params(), source="learned")
    exp = explain_photo(plain, _photo())
    assert exp.decisions == [] and exp.subjects == []
    assert "same sliders" in exp.sentences()[0]
    assert explain_decoder(plain, _photo()) == [] and dependences(plain) == []
    assert training_pairs(plain) == []  # no index yet: nothing, not an error
    assert isinstance(Contribution("usual", 0.0), Contribution)


def test_a_decoder_without_dependences_is_not_called_per_photo():
    """An intercept-only decoder (what shrinkage to the global value leaves) moves every photo alike."""
    decoder = LinearDecoder(inputs=["lum_p50"], outputs=["all.exposure"], weights=[[0.0]], bias=[0.3],
                            center=[0.42], clip=None)
    flat = make_style("flat", "hand-made", Params(), source="learned", decoder=decoder)
    exp = explain_photo(flat, _photo(lum_p50=0.1))
    assert exp.decisions[0].delta == pytest.approx(0.3) and not exp.decisions[0].visible
    assert "same sliders" in exp.sentences()[0]
    # with a dependence, a usual photo is said to be usual
    usual = explain_photo(_style(), _photo())
    assert usual.sentences() == ["This photo is much like your usual one: known needs no per-photo change."]
