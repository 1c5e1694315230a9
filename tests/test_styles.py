"""Style files, the style store, the decoder and `silverprint styles` (no renderer needed)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from silverprint.cli import main as cli_main
from silverprint.descriptors import DESCRIPTOR_INDEX, describe
from silverprint.errors import SilverprintError, UnknownSliderError, UnknownStyleError
from silverprint.params import (CURVE_KNOTS, GLOBAL_SLIDER_SPECS, REGION_SLIDER_SPECS, SEMANTIC_REGIONS, Params,
                                apply_overrides)
from silverprint.styles import (DEFAULT_STYLE, SCHEMA_VERSION, InvalidStyleError, assign,
                                builtin_names, decode, explain, export_style, import_style,
                                list_styles, load_style, remove_style, save_style, style_from_dict,
                                user_style_path)
from silverprint.styles import builtins as builtin_defs

REGION = {name: i for i, name in enumerate(SEMANTIC_REGIONS)}


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("SILVERPRINT_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _style_dict(name: str = "neutral") -> dict:
    return load_style(name).to_dict()


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return path


# --- synthetic photos, described by the real descriptor code ---------------------------------

def _photo(kind: str, h: int = 64, w: int = 96) -> np.ndarray:
    """Descriptors of a small synthetic scene with masks, as `pipeline.analyse` would give."""
    masks = np.zeros((5, h, w), np.float32)
    rgb = np.empty((h, w, 3), np.float32)
    rng = np.random.default_rng(0)
    texture = rng.normal(0, 0.03, (h, w, 1)).astype(np.float32)
    faces = 0
    if kind in ("landscape", "landscape-grey-sky"):
        sky = (0.4, 0.6, 0.95) if kind == "landscape" else (0.8, 0.8, 0.82)
        rgb[: h // 2] = sky
        rgb[h // 2:] = (0.3, 0.45, 0.15)
        rgb[h // 2:] += texture[h // 2:]
        masks[REGION["sky"], : h // 2] = 1
        masks[REGION["vegetation"], h // 2:] = 1
    elif kind == "no-sky":  # the same ground filling the frame
        rgb[:] = (0.3, 0.45, 0.15)
        rgb += texture
        masks[REGION["vegetation"]] = 1
    elif kind in ("portrait", "backlit-portrait"):
        bg = (0.85, 0.85, 0.85) if kind == "backlit-portrait" else (0.4, 0.4, 0.45)
        skin = (0.35, 0.25, 0.2) if kind == "backlit-portrait" else (0.85, 0.65, 0.55)
        rgb[:] = bg
        masks[REGION["other"]] = 1
        rgb[h // 6: 5 * h // 6, w // 3: 2 * w // 3] = skin
        masks[:, h // 6: 5 * h // 6, w // 3: 2 * w // 3] = 0
        masks[REGION["skin"], h // 6: 5 * h // 6, w // 3: 2 * w // 3] = 1
        faces = 1
    elif kind in ("dark", "bright", "mid"):
        level = {"dark": 0.12, "bright": 0.8, "mid": 0.45}[kind]
        rgb[:] = level
        rgb += texture
        masks[REGION["other"]] = 1
    else:
        raise ValueError(kind)
    return describe(np.clip(rgb, 0, 1), masks, faces=faces)


# --- built-ins --------------------------------------------------------------------------------

def test_builtins_are_many_distinct_documented_and_load():
    styles = [s for s in list_styles() if s.builtin]
    names = [s.name for s in styles]
    assert len(styles) >= 8 and len(set(names)) == len(names)
    assert DEFAULT_STYLE in names
    for s in styles:
        assert s.description and "\n" not in s.description and len(s.description) < 120
        assert s.provenance["source"] == "builtin"
    bases = [json.dumps(s.to_dict()["base"], sort_keys=True) for s in styles]
    assert len(set(bases)) == len(bases), "two built-ins share the same sliders"
    assert any(s.toned for s in styles) and any(not s.toned for s in styles)


def test_builtin_files_match_their_definitions():
    assert builtin_defs.main(["--check"]) == 0


def test_neutral_is_exactly_neutral_params():
    style = load_style("neutral")
    assert style.base.to_dict() == Params().to_dict()
    for kind in ("landscape", "portrait", "dark"):
        assert decode(style, _photo(kind)).to_dict() == Params().to_dict()


def test_toned_flag_follows_split_toning():
    for s in list_styles():
        p = decode(s, _photo("mid"))
        assert p.toned == s.toned, s.name


# --- schema round trip and validation ---------------------------------------------------------

def test_round_trip_preserves_everything(tmp_path):
    for s in list_styles():
        data = s.to_dict()
        again = style_from_dict(json.loads(json.dumps(data)))
        assert again.to_dict() == data
        path = save_style(s, tmp_path / f"{s.name}.json")
        loaded = load_style(path)
        assert loaded.to_dict() == data
        for kind in ("landscape", "backlit-portrait", "dark"):
            assert decode(loaded, _photo(kind)).to_dict() == decode(s, _photo(kind)).to_dict()


def test_extra_and_provenance_are_kept(tmp_path):
    data = _style_dict("silver")
    data["name"] = "mine"
    data["provenance"] = {"source": "learned", "pairs": 12, "created": "2026-11-26T06:00:00+00:00",
                          "metrics": {"psnr": 46.2, "ssim": 0.991}, "portfolio": "/photos/x"}
    data["extra"] = {"learner": {"version": 3, "fit_residuals": [0.1, 0.2]}}
    style = load_style(_write(tmp_path / "mine.json", data))
    assert style.provenance["metrics"]["psnr"] == 46.2 and style.provenance["portfolio"] == "/photos/x"
    out = save_style(style, tmp_path / "copy.json")
    assert json.loads(out.read_text())["extra"] == data["extra"]


@pytest.mark.parametrize("mutate,needle", [
    (lambda d: d["base"].setdefault("regions", {}).setdefault("sky", {}).update(glow=3), "glow"),
    (lambda d: d["base"].setdefault("global", {}).update(sparkle=1), "sparkle"),
    (lambda d: d["base"].setdefault("regions", {}).update(water={"red": 1}), "water"),
    (lambda d: d["base"].setdefault("regions", {}).setdefault("sky", {}).update(exposure=9), "exposure"),
    (lambda d: d.update(schema=SCHEMA_VERSION + 1), "newer"),
    (lambda d: d.pop("schema"), "schema"),
    (lambda d: d.pop("proxies"), "proxies"),
    (lambda d: d.update(name="../evil"), "invalid style name"),
    (lambda d: d.update(description="two\nlines"), "one line"),
    (lambda d: d.update(colour="red"), "colour"),
    (lambda d: d["proxies"].update(style=[0.0]), "proxies.style"),
    (lambda d: d["proxies"]["embedding"].update(inputs=["moon_phase"] + d["proxies"]["embedding"]["inputs"][1:]),
     "moon_phase"),
    (lambda d: d["subjects"].update(portrait={"skin.softness": 2}), "softness"),
    (lambda d: d["subjects"].update(underwater={"all.exposure": 1}), "underwater"),
    (lambda d: d["decoder"].update(outputs=["sky.glow"]), "glow"),
    (lambda d: d["decoder"].update(inputs=["moon_phase"], center=[0.0]), "moon_phase"),
    (lambda d: d["decoder"].update(type="mlp"), "mlp"),
    (lambda d: d["decoder"].update(bias=[1.0, 2.0, 3.0]), "decoder.bias"),
    (lambda d: d["provenance"].update(source="stolen"), "provenance.source"),
])
def test_malformed_files_give_one_line_errors(tmp_path, mutate, needle):
    data = _style_dict("silver")
    mutate(data)
    path = _write(tmp_path / "bad.json", data)
    with pytest.raises(InvalidStyleError) as info:
        load_style(path)
    message = str(info.value)
    assert needle in message and str(path) in message and "\n" not in message
    assert info.value.exit_code == 2


def test_bad_json_and_missing_file(tmp_path):
    with pytest.raises(InvalidStyleError, match="not valid JSON"):
        load_style(_write(tmp_path / "broken.json", '{"schema": 1, "name": '))
    with pytest.raises(InvalidStyleError, match="not a style file"):
        load_style(_write(tmp_path / "list.json", "[1, 2]"))
    with pytest.raises(UnknownStyleError, match="no such style file"):
        load_style(tmp_path / "absent.json")
    with pytest.raises(UnknownStyleError) as info:
        load_style("no-such-style")
    assert "silver" in str(info.value) and "neutral" in str(info.value)


def test_save_is_atomic_and_refuses_invalid_styles(tmp_path, monkeypatch):
    folder = tmp_path / "styles"
    target = save_style(load_style("noir"), folder / "keep.json")
    before = target.read_bytes()
    bad = load_style("silver")
    bad.subjects["portrait"]["skin.glow"] = 1.0  # not a slider
    with pytest.raises(InvalidStyleError, match="glow"):
        save_style(bad, target)
    assert target.read_bytes() == before

    def interrupted(src, dst):  # the process dies between writing the temp file and renaming it
        raise KeyboardInterrupt

    monkeypatch.setattr("silverprint.styles.style.os.replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_style(load_style("silver"), target)
    assert target.read_bytes() == before
    assert [p.name for p in folder.iterdir()] == ["keep.json"]  # no temp files left


# --- store ------------------------------------------------------------------------------------

def test_import_list_export_remove(tmp_path, home):
    src = save_style(load_style("noir"), tmp_path / "dark-look.json")
    data = json.loads(src.read_text())
    data["name"] = "dark-look"
    _write(src, data)
    style = import_style(src)
    assert style.path == user_style_path("dark-look") and home in style.path.parents
    assert style.provenance["source"] == "imported" and not style.builtin
    listed = {s.name: s for s in list_styles()}
    assert "dark-look" in listed and not listed["dark-look"].builtin and listed["noir"].builtin
    assert load_style("dark-look").base.to_dict() == load_style("noir").base.to_dict()

    renamed = import_style(src, name="Dark Look 2")
    assert load_style("Dark Look 2").name == renamed.name == "Dark Look 2"
    with pytest.raises(SilverprintError, match="already exists"):
        import_style(src)
    with pytest.raises(SilverprintError, match="built-in"):
        import_style(src, name="noir")

    out = export_style("dark-look", tmp_path)
    assert out == tmp_path / "dark-look.json" and load_style(out).name == "dark-look"
    out2 = export_style("red-filter-landscape", tmp_path / "shared.json")
    assert load_style(out2).to_dict() == load_style("red-filter-landscape").to_dict()

    assert remove_style("dark-look") == user_style_path("dark-look")
    assert "dark-look" not in {s.name for s in list_styles()}
    with pytest.raises(UnknownStyleError):
        load_style("dark-look")
    with pytest.raises(UnknownStyleError, match="no user style"):
        remove_style("dark-look")
    with pytest.raises(SilverprintError, match="built-in style and cannot be removed"):
        remove_style("silver")
    assert load_style("silver").builtin


def test_user_style_shadows_builtin_and_broken_files_do_not_break_listing(home):
    style = load_style("noir")
    style.description = "my own noir"
    save_style(style, user_style_path("noir"))
    assert load_style("noir").description == "my own noir" and not load_style("noir").builtin
    assert [s.description for s in list_styles() if s.name == "noir"] == ["my own noir"]
    _write(user_style_path("broken"), "{not json")
    errors: list[str] = []
    names = {s.name for s in list_styles(errors)}
    assert "broken" not in names and "silver" in names
    assert len(errors) == 1 and "broken.json" in errors[0]


def test_builtin_names_refuse_path_tricks():
    with pytest.raises(SilverprintError):
        import_style(Path(load_style("silver").path), name="../../escape")


# --- decoder ----------------------------------------------------------------------------------

def test_subject_assignment_follows_content():
    style = load_style(DEFAULT_STYLE)
    portrait = assign(style, _photo("portrait"))
    landscape = assign(style, _photo("landscape"))
    night = assign(style, _photo("dark"))
    assert max(portrait, key=portrait.get) == "portrait" and portrait["portrait"] > 0.6
    assert max(landscape, key=landscape.get) == "landscape"
    assert max(night, key=night.get) == "night"
    for w in (portrait, landscape, night):
        assert sum(w.values()) == pytest.approx(1.0)


def test_landscape_darkens_the_top_only_when_there_is_sky():
    style = load_style("red-filter-landscape")
    with_sky = decode(style, _photo("landscape"))
    without = decode(style, _photo("no-sky"))
    assert with_sky.local[0]["exposure"] < -0.3
    assert without.local[0]["exposure"] == pytest.approx(0.0, abs=1e-6)
    # a grey sky, which no colour filter can darken, is darkened by exposure instead
    grey = decode(style, _photo("landscape-grey-sky"))
    assert grey.regions["sky"]["exposure"] < with_sky.regions["sky"]["exposure"] - 0.2


def test_high_and_low_key_compensate_for_the_photo_key():
    high = load_style("high-key")
    dark, bright = decode(high, _photo("dark")), decode(high, _photo("bright"))
    assert dark.regions["other"]["exposure"] > bright.regions["other"]["exposure"] + 0.5
    assert bright.regions["other"]["exposure"] <= 0.5  # a bright photo is not pushed to white
    noir = load_style("noir")
    dark, bright = decode(noir, _photo("dark")), decode(noir, _photo("bright"))
    assert bright.regions["other"]["exposure"] < dark.regions["other"]["exposure"] - 0.3


def test_portrait_lifts_a_backlit_face():
    style = load_style("luminous-portrait")
    lit, backlit = decode(style, _photo("portrait")), decode(style, _photo("backlit-portrait"))
    assert backlit.regions["skin"]["exposure"] > lit.regions["skin"]["exposure"] + 0.2
    assert lit.regions["skin"]["structure"] < lit.regions["person"]["structure"] - 20
    why = explain(style, _photo("backlit-portrait"))
    assert why["decoder"]["skin.exposure"] > 0


def test_decode_clamps_to_ranges_and_overrides_still_apply(tmp_path):
    data = _style_dict("high-key")
    data["name"] = "extreme"
    data["decoder"]["weights"] = [[-500.0] * len(data["decoder"]["inputs"]) for _ in data["decoder"]["outputs"]]
    data["decoder"]["clip"] = None
    data["subjects"]["portrait"] = {"all.contrast": 900.0, "global.curve": [5.0] * CURVE_KNOTS}
    style = load_style(_write(tmp_path / "extreme.json", data))
    for kind in ("dark", "bright", "portrait"):
        p = decode(style, _photo(kind))
        again = Params.from_dict(p.to_dict())  # raises if anything is out of range
        assert again.to_dict() == p.to_dict()
        for sliders in p.regions.values():
            for name, spec in REGION_SLIDER_SPECS.items():
                assert spec.lo <= sliders[name] <= spec.hi
        curve = p.global_["curve"]
        assert all(0 <= a <= b <= 1 for a, b in zip(curve, curve[1:]))
    p = decode(load_style("noir"), _photo("mid"))
    changed = apply_overrides(p, ["sky.exposure=1.5", "global.grain=0", "all.blue=-40"])
    assert changed.regions["sky"]["exposure"] == 1.5 and changed.global_["grain"] == 0
    assert all(changed.regions[r]["blue"] == -40 for r in SEMANTIC_REGIONS)
    assert p.regions["sky"]["exposure"] != 1.5  # the decoded params are not modified
    with pytest.raises(UnknownSliderError, match="glow"):
        apply_overrides(p, ["sky.glow=1"])


def test_decoder_can_read_subject_weights_and_embedding(tmp_path):
    data = _style_dict("silver")
    data["name"] = "learned-like"
    data["decoder"] = {"type": "linear", "inputs": ["subject:portrait", "embed:0", "lum_mean"],
                       "outputs": ["skin.exposure", "global.curve.8"],
                       "weights": [[0.5, 0.0, 0.0], [0.0, 0.0, 0.2]], "bias": [0.0, 0.0]}
    style = load_style(_write(tmp_path / "learned-like.json", data))
    base = style.base
    p = decode(style, _photo("portrait"))
    w = assign(style, _photo("portrait"))["portrait"]
    subj = style.subjects["portrait"]["skin.exposure"] * w
    assert p.regions["skin"]["exposure"] == pytest.approx(base.regions["skin"]["exposure"] + subj + 0.5 * w)
    mean = float(_photo("portrait")[DESCRIPTOR_INDEX["lum_mean"]])
    assert p.global_["curve"][8] == pytest.approx(min(1.0, base.global_["curve"][8] + 0.2 * mean), abs=1e-6)


def test_every_decoded_style_is_valid_params():
    for s in list_styles():
        for kind in ("landscape", "no-sky", "portrait", "backlit-portrait", "dark", "bright"):
            p = decode(s, _photo(kind))
            Params.from_dict(p.to_dict())
            for name, spec in GLOBAL_SLIDER_SPECS.items():
                assert spec.lo <= p.global_[name] <= spec.hi


# --- CLI --------------------------------------------------------------------------------------

def test_cli_list_show_import_export_remove(tmp_path, capsys):
    assert cli_main(["styles", "list", "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert {i["name"] for i in items} >= set(builtin_names())
    assert all({"name", "description", "builtin"} <= set(i) for i in items)
    assert [i["name"] for i in items if i["default"]] == [DEFAULT_STYLE]

    assert cli_main(["styles", "list"]) == 0
    out = capsys.readouterr().out
    assert "red-filter-landscape" in out and "built-in" in out

    assert cli_main(["styles", "show", "red-filter-landscape"]) == 0
    out = capsys.readouterr().out
    assert "sky" in out and "adapts to the photo" in out
    assert cli_main(["styles", "show", "noir", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == "noir"

    dest = tmp_path / "noir-copy.json"
    assert cli_main(["styles", "export", "noir", str(dest)]) == 0
    assert dest.exists()
    capsys.readouterr()
    assert cli_main(["styles", "import", str(dest), "--name", "my-noir"]) == 0
    assert "my-noir" in capsys.readouterr().out
    assert cli_main(["styles", "list", "--json"]) == 0
    mine = [i for i in json.loads(capsys.readouterr().out) if i["name"] == "my-noir"]
    assert mine and mine[0]["builtin"] is False
    assert cli_main(["styles", "remove", "my-noir"]) == 0
    capsys.readouterr()

    assert cli_main(["styles", "show", "nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert "nope" in err and "silver" in err and len(err.splitlines()) == 1
    assert cli_main(["styles", "remove", "silver"]) != 0
    assert "built-in" in capsys.readouterr().err
    bad = _write(tmp_path / "bad.json", "{")
    assert cli_main(["styles", "import", str(bad)]) == 2
    assert "bad.json" in capsys.readouterr().err


def test_make_style_for_the_learner_round_trips(home):
    from silverprint.styles import (Embedding, LinearDecoder, Proxies, decoder_inputs, make_style,
                                    save_user_style)

    base = apply_overrides(Params(), ["all.contrast=12", "sky.blue=-40", "global.grain=10"])
    proxies = Proxies(Embedding(["lum_mean", "sky_area"], [0.4, 0.1], [0.1, 0.2], [[1.0, 0.0], [0.0, 1.0]]),
                      style=[0.0, 0.0], subjects={"look-a": [1.5, 0.0], "look-b": [0.0, 1.5]}, temperature=0.5)
    decoder = LinearDecoder(inputs=["subject:look-b", "lum_p50"], outputs=["sky.exposure", "all.contrast"],
                            weights=[[-0.4, 0.0], [0.0, -20.0]], bias=[0.0, 5.0])
    style = make_style("my look", "learned from 12 pairs", base, pairs=12, metrics={"psnr": 41.2},
                       proxies=proxies, subjects={"look-b": {"sky.exposure": -0.2}}, decoder=decoder,
                       portfolio="/photos/mine", extra={"fit": {"residual": 0.01}})
    path = save_user_style(style)
    loaded = load_style("my look")
    assert loaded.path == path and loaded.provenance["pairs"] == 12
    assert loaded.provenance["portfolio"] == "/photos/mine" and loaded.extra == {"fit": {"residual": 0.01}}
    d = _photo("landscape")
    x = decoder_inputs(loaded, d)
    assert x.shape == (2,) and x[0] == pytest.approx(assign(loaded, d)["look-b"])
    assert decode(loaded, d).to_dict() == decode(style, d).to_dict()
    with pytest.raises(InvalidStyleError, match="glow"):
        make_style("bad", "x", base, subjects={"portrait": {"sky.glow": 1}})
    default = make_style("plain", "uses the built-ins' subjects", base, subjects={"portrait": {"skin.exposure": 0.2}})
    assert set(default.proxies.subjects) >= {"portrait", "landscape", "night"}


def test_a_renamed_copy_in_the_styles_folder_takes_its_file_name(home):
    import shutil

    shutil.copy(load_style("noir").path, user_style_path("my noir"))
    assert load_style("my noir").name == "my noir"
    assert "my noir" in {s.name for s in list_styles()}
    assert [s.name for s in list_styles()].count("noir") == 1


def test_schema_1_styles_with_17_knot_curves_are_upgraded(tmp_path):
    """Styles written before the curve had 33 knots keep what their curve, subject deltas and
    decoder rows did: old knot N is new knot 2N, the knots between follow linearly."""
    from silverprint.params import LEGACY_CURVE_KNOTS

    data = _style_dict("silver")
    data["name"] = "old"
    data["schema"] = 1
    old_curve = [min(1.0, (i / (LEGACY_CURVE_KNOTS - 1)) ** 0.7) for i in range(LEGACY_CURVE_KNOTS)]
    data["base"].setdefault("global", {})["curve"] = old_curve
    data["proxies"]["subjects"] = {"portrait": data["proxies"]["style"]}
    data["subjects"] = {"portrait": {"global.curve.4": 0.02, "global.curve": [0.01] * LEGACY_CURVE_KNOTS}}
    data["decoder"] = {"type": "linear", "inputs": ["lum_mean"], "outputs": ["sky.exposure", "global.curve.8",
                                                                            "global.curve.9"],
                       "weights": [[1.0], [0.2], [0.4]], "bias": [0.0, 0.1, 0.3],
                       "clip": [[-1, 1], [-0.1, 0.1], [-0.3, 0.2]]}
    style = load_style(_write(tmp_path / "old.json", data))
    curve = style.base.global_["curve"]
    assert len(curve) == CURVE_KNOTS
    assert curve[::2] == pytest.approx(old_curve, abs=1e-9)  # the old knots stay where they were
    assert all(a < b for a, b in zip(curve[1::2], curve[2::2]))  # and the new ones lie on the curve
    deltas = style.subjects["portrait"]
    assert len(deltas["global.curve"]) == CURVE_KNOTS
    assert (deltas["global.curve.8"], deltas["global.curve.7"], deltas["global.curve.9"]) == \
        pytest.approx((0.02, 0.01, 0.01))
    rows = dict(zip(style.decoder.outputs, zip(style.decoder.weights, style.decoder.bias, style.decoder.clip)))
    assert rows["sky.exposure"] == ([1.0], 0.0, [-1, 1])
    assert rows["global.curve.16"] == ([0.2], 0.1, [-0.1, 0.1])
    assert rows["global.curve.17"][0] == pytest.approx([0.3]) and rows["global.curve.17"][1] == pytest.approx(0.2)
    assert rows["global.curve.18"][:2] == ([0.4], 0.3)
    assert rows["global.curve.15"][0] == pytest.approx([0.1]) and rows["global.curve.19"][0] == pytest.approx([0.2])
    saved = save_style(style, tmp_path / "again.json")
    assert json.loads(saved.read_text())["schema"] == SCHEMA_VERSION
