"""Slider overrides are parsed by the slider's type, the same way in the CLI and the service: a
number is a number, the tone curve is 33 numbers in 0..1 (issue 13, item 4). Before, ``--set
global.curve=0.5`` gave a traceback (500 in the service) and 33 digits became 33 one-character
knots that rendered all white."""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from servicehelp import clean_env, running_service, silverprint_command, small_photo
from shared_data import KODAK
from silverprint.errors import UnknownSliderError
from silverprint.params import CURVE_KNOTS, Params, apply_overrides
from silverprint.service.client import ServiceError

FLAT = [0.25] * CURVE_KNOTS  # every tone to a quarter: an unmistakable result
BAD_CURVES = ["0.5", "[0,1]", "0" * 33, "1" * 33, "[" + ",".join(["0.5"] * 34) + "]",
              ",".join(["1.5"] * 33), ",".join(["nan"] * 33), "[[0.5]," + ",".join(["0.5"] * 32) + "]",
              "", "[]", "a,b", ",".join(["0.5"] * 32) + ",9" * 5000]


@pytest.mark.parametrize("value", BAD_CURVES, ids=range(len(BAD_CURVES)))
def test_a_curve_that_is_not_33_numbers_in_0_1_is_one_clear_error(value):
    with pytest.raises(UnknownSliderError, match="global.curve") as err:
        apply_overrides(Params(), [f"global.curve={value}"])
    assert "\n" not in str(err.value) and len(str(err.value)) < 200
    with pytest.raises(UnknownSliderError, match="global.curve"):
        apply_overrides(Params(), {"global.curve": value})


@pytest.mark.parametrize("value", [0.5, 5, None, {"a": 1}, [0.5, [0.5]] + [0.5] * 31, [True] * 33,
                                   ["0.5"] * 32 + [float("inf")]], ids=range(7))
def test_a_curve_given_as_a_value_must_be_a_list_of_33_numbers(value):
    with pytest.raises(UnknownSliderError, match="global.curve"):
        Params().set("global.curve", value)


@pytest.mark.parametrize("text", ["[" + ", ".join(map(str, FLAT)) + "]", ",".join(map(str, FLAT)),
                                  " [ " + " , ".join(map(str, FLAT)) + " ] "])
def test_a_curve_as_json_or_comma_separated_text_sets_every_knot(text):
    from silverprint.params import parse_curve

    params = apply_overrides(Params(), [f"global.curve={text}"])
    assert params.global_["curve"] == FLAT
    assert apply_overrides(Params(), {"global.curve": text}).global_["curve"] == FLAT
    assert parse_curve(FLAT) == FLAT and parse_curve(tuple(FLAT)) == FLAT


@pytest.mark.parametrize("value", ["[1]", "1,2", "1_0", "0x10", "inf", "-nan", "9" * 400, "", True,
                                   [1.0], {"v": 1}])
def test_a_scalar_slider_takes_one_finite_number(value):
    with pytest.raises(UnknownSliderError, match="exposure"):
        apply_overrides(Params(), {"sky.exposure": value})


def test_scalar_numbers_in_text_still_parse():
    params = apply_overrides(Params(), ["sky.exposure= -1.5 ", "all.contrast=+1e1", "global.grain=.5"])
    assert params.regions["sky"]["exposure"] == -1.5
    assert params.regions["other"]["contrast"] == 10.0 and params.global_["grain"] == 0.5


# --- the CLI: one line, exit 2, nothing written --------------------------------------------------

@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    return small_photo(tmp_path_factory.mktemp("photo") / "kodim13.png", KODAK / "kodim13.png", (48, 32))


def _render(home: Path, photo: Path, out: Path, *sets: str) -> subprocess.CompletedProcess:
    args = [a for s in sets for a in ("--set", s)]
    return subprocess.run([*silverprint_command(), "render", str(photo), "--out-dir", str(out),
                           "--style", "neutral", *args],
                          capture_output=True, text=True, env=clean_env(home), timeout=300)


@pytest.mark.parametrize("value", ["0.5", "[0,1]", "0" * 33])
def test_cli_bad_curve_is_one_line_and_exit_2(tmp_path, photo, value):
    proc = _render(tmp_path / "home", photo, tmp_path / "out", f"global.curve={value}")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "global.curve" in lines[0] and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_cli_good_curve_renders_it(tmp_path, photo):
    import cv2

    curve = "[" + ",".join(map(str, FLAT)) + "]"
    proc = _render(tmp_path / "home", photo, tmp_path / "out", f"global.curve={curve}")
    assert proc.returncode == 0, proc.stderr
    (out,) = list((tmp_path / "out").iterdir())
    image = cv2.imread(str(out), cv2.IMREAD_UNCHANGED).astype(np.float64) / 65535
    assert abs(image.mean() - 0.25) < 0.02 and image.std() < 0.02


# --- the service: 4xx, never 500, through the same parser ----------------------------------------

def test_service_answers_a_bad_curve_with_400_and_renders_a_good_one(tmp_path, photo):
    import cv2

    with running_service(tmp_path / "svc") as service:
        client = service.client()
        for value in ("0.5", "[0,1]", "0" * 33):
            for call in (lambda o: client.render(photo, style="neutral", overrides=o),
                         lambda o: client.analyse(photo, style="neutral", overrides=o),
                         lambda o: client.create_session(photo, style="neutral", overrides=o)):
                with pytest.raises(ServiceError) as err:
                    call([f"global.curve={value}"])
                assert 400 <= err.value.status < 500 and "global.curve" in str(err.value)
        curve = ",".join(map(str, FLAT))
        data = client.render(photo, style="neutral", overrides=[f"global.curve={curve}"])
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED) / 65535
        assert abs(image.mean() - 0.25) < 0.02
        session = client.create_session(photo, style="neutral", overrides=[f"global.curve={curve}"])
        assert session["overrides"]["global.curve"] == pytest.approx(FLAT)  # was a 500
        done = client.session(session["id"], wait=30)
        assert done["state"] == "applied", done
        image = cv2.imdecode(np.frombuffer(client.session_result(session["id"]), np.uint8),
                             cv2.IMREAD_UNCHANGED) / 65535
        assert abs(image.mean() - 0.25) < 0.02


@pytest.mark.parametrize("key", ["local².exposure", "local" + "9" * 5000 + ".exposure", "local.exposure",
                                 "local-1.exposure", "local٣.exposure"])
def test_a_local_index_is_ascii_digits_or_an_unknown_region(key):
    with pytest.raises(UnknownSliderError, match="unknown region|local adjustments"):
        apply_overrides(Params(), [f"{key}=1"])


@pytest.mark.parametrize("value", [10**5000, -(10**60), float("inf")], ids=["5000 digits", "-1e60", "inf"])
def test_a_huge_number_from_python_is_one_clear_error(value):
    with pytest.raises(UnknownSliderError, match="exposure"):
        Params().set("sky.exposure", value)
