"""The slider vocabulary: defaults, overrides, validation (the CLI's --set goes through this)."""
import pytest

from silverprint.errors import UnknownSliderError
from silverprint.params import (CURVE_KNOTS, REGION_SLIDERS, SEMANTIC_REGIONS, Params,
                                apply_overrides, default_local, parse_override)


def test_defaults_are_neutral():
    params = Params()
    assert set(params.regions) == set(SEMANTIC_REGIONS)
    for sliders in params.regions.values():
        assert list(sliders) == list(REGION_SLIDERS)
        assert all(v == 0 for v in sliders.values())
    mix = [params.global_[k] for k in ("mix_red", "mix_green", "mix_blue")]
    assert mix == pytest.approx([21.26, 71.52, 7.22])
    assert params.global_["curve"] == pytest.approx([i / (CURVE_KNOTS - 1) for i in range(CURVE_KNOTS)])
    assert not params.toned


def test_override_applies_to_one_region_and_returns_a_copy():
    params = Params()
    changed = apply_overrides(params, ["sky.exposure=-1", "global.grain=30"])
    assert changed.regions["sky"]["exposure"] == -1
    assert changed.regions["person"]["exposure"] == 0
    assert changed.global_["grain"] == 30
    assert params.regions["sky"]["exposure"] == 0  # original untouched


def test_all_targets_every_semantic_region():
    changed = apply_overrides(Params(), {"all.contrast": 25})
    assert {r: s["contrast"] for r, s in changed.regions.items()} == {r: 25 for r in SEMANTIC_REGIONS}


@pytest.mark.parametrize("text, fragment", [
    ("sky.exposur=1", "unknown slider 'exposur'"),
    ("ground.exposure=1", "unknown region 'ground'"),
    ("sky.exposure=9", "outside -4..4"),
    ("sky.exposure=bright", "not a number"),
    ("sky.exposure=nan", "not a finite number"),
    ("exposure=1", "REGION.PARAM"),
    ("local0.exposure=1", "only 0 local adjustments"),
])
def test_bad_overrides_name_the_problem(text, fragment):
    with pytest.raises(UnknownSliderError, match=fragment.replace(".", r"\.")):
        apply_overrides(Params(), [text])


def test_parse_override_needs_equals():
    with pytest.raises(UnknownSliderError):
        parse_override("sky.exposure")


def test_round_trip_through_dict_with_local_adjustment():
    params = Params()
    grad = default_local("graduated")
    grad["exposure"] = -0.7
    params.local.append(grad)
    params = apply_overrides(params, ["local0.angle=15", "skin.orange=40"])
    again = Params.from_dict(params.to_dict())
    assert again.to_dict() == params.to_dict()
    assert again.local[0]["angle"] == 15 and again.local[0]["exposure"] == -0.7


def test_from_dict_rejects_unknown_local_parameter():
    with pytest.raises(UnknownSliderError, match="radius"):
        Params.from_dict({"local": [{"kind": "graduated", "radius": 0.3}]})
    with pytest.raises(UnknownSliderError, match="kind"):
        Params.from_dict({"local": [{"kind": "lasso"}]})


def test_toning_makes_params_toned():
    assert apply_overrides(Params(), ["global.tone_shadow_sat=20"]).toned
