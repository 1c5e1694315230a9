"""The service's routes against a real `silverprint serve`: rendering through the one engine,
analysis, styles and the bridge-session protocol the plug-ins and the companion use."""
from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from servicehelp import running_service, small_photo
from silverprint.service.client import ServiceError
from shared_data import KODAK



@pytest.fixture(scope="module")
def service(tmp_path_factory):
    env = {"SILVERPRINT_COMPANION_TIMEOUT_S": "2", "SILVERPRINT_MAX_WAIT_S": "10"}
    with running_service(tmp_path_factory.mktemp("sp-api"), env) as svc:
        yield svc


@pytest.fixture(scope="module")
def photo_path(tmp_path_factory) -> Path:
    return small_photo(tmp_path_factory.mktemp("photo") / "kodim13.png", KODAK / "kodim13.png", (80, 56))


def decode(data: bytes) -> np.ndarray:
    import cv2

    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert image is not None
    return image


def test_render_is_the_engine_rendering(service, photo_path, monkeypatch):
    """Bytes over HTTP decode to exactly what `pipeline.render_photo` gives in this process."""
    from silverprint.imageio import load_image
    from silverprint.pipeline import render_photo

    monkeypatch.setenv("SILVERPRINT_HOME", str(service.home))
    data = service.client().render(photo_path, style="noir", fmt="png16")
    got = decode(data)
    assert got.dtype == np.uint16 and got.shape == (56, 80)
    expected = render_photo(load_image(photo_path), "noir", device="cpu")
    assert np.abs(got.astype(np.float64) / 65535 - expected).max() <= 1.0 / 65535 + 1e-7


def test_render_formats_and_overrides(service, photo_path):
    client = service.client()
    tiff = decode(client.render(photo_path, fmt="tiff16", style="neutral"))
    jpeg = decode(client.render(photo_path, fmt="jpeg", style="neutral"))
    assert tiff.dtype == np.uint16 and jpeg.dtype == np.uint8 and jpeg.shape[:2] == tiff.shape[:2]
    darker = decode(client.render(photo_path, fmt="tiff16", style="neutral", overrides=["all.exposure=-1"]))
    assert darker.mean() < 0.8 * tiff.mean()


def test_overrides_reach_the_styles_local_adjustments(service, photo_path):
    """``set=local0.*`` reaches the chosen style's graduated filter (red-filter-landscape has one);
    a local adjustment the style lacks is a 400 naming it, for a render and for a bridge session."""
    client = service.client()
    plain = decode(client.render(photo_path, fmt="tiff16", style="red-filter-landscape"))
    burnt = decode(client.render(photo_path, fmt="tiff16", style="red-filter-landscape",
                                 overrides=["local0.exposure=-2", "local0.color_range=10"]))
    top = slice(0, plain.shape[0] // 5)
    assert burnt[top].mean() < 0.9 * plain[top].mean()
    for call in (lambda: client.render(photo_path, style="red-filter-landscape", overrides=["local1.exposure=-1"]),
                 lambda: client.create_session(photo_path, host="gimp", style="red-filter-landscape",
                                               overrides=["local1.exposure=-1"])):
        with pytest.raises(ServiceError) as err:
            call()
        assert err.value.status == 400 and "local1" in str(err.value)
    time.sleep(2.1)  # no companion: the session renders at once, with the override
    session = client.create_session(photo_path, host="gimp", style="red-filter-landscape",
                                    overrides=["local0.exposure=-2", "local0.color_range=10"])
    assert session["state"] == "applied"
    expected = client.render(photo_path, style="red-filter-landscape",
                             overrides=["local0.exposure=-2", "local0.color_range=10"])  # png16, as the session's
    assert np.array_equal(decode(client.session_result(session["id"])), decode(expected))
    client.delete_session(session["id"])


def test_analyse_gives_regions_and_the_styles_sliders(service, photo_path):
    from silverprint.params import SEMANTIC_REGIONS

    answer = service.client().analyse(photo_path, style="red-filter-landscape", masks=True)
    assert (answer["width"], answer["height"]) == (80, 56)
    assert [r["name"] for r in answer["regions"]] == list(SEMANTIC_REGIONS)
    assert abs(sum(r["coverage"] for r in answer["regions"]) - 1) < 1e-3
    mask = np.asarray(Image.open(io.BytesIO(__import__("base64").b64decode(answer["regions"][0]["mask_png"]))))
    assert mask.ndim == 2 and mask.dtype == np.uint8
    assert set(answer["params"]["regions"]) == set(SEMANTIC_REGIONS)
    changed = service.client().analyse(photo_path, style="red-filter-landscape", overrides=["sky.exposure=-2"])
    assert changed["params"]["regions"]["sky"]["exposure"] == -2


def test_styles_list_and_read(service):
    client = service.client()
    listing = client.styles()
    names = {s["name"] for s in listing["styles"]}
    assert listing["default"] in names and {"neutral", "noir"} <= names
    assert all(s["builtin"] for s in listing["styles"])
    style = client.style("noir")
    assert style["name"] == "noir" and style["builtin"] is True and "base" in style
    with pytest.raises(ServiceError) as err:
        client.style("no-such-style")
    assert err.value.status == 404


# -- bridge sessions -----------------------------------------------------------------------------

def test_session_without_companion_renders_the_default_style_at_once(service, photo_path):
    client = service.client()
    time.sleep(2.1)  # let any companion seen by an earlier test time out
    session = client.create_session(photo_path, host="gimp", name="kodim13.png")
    assert session["state"] == "applied"
    default = client.styles()["default"]
    assert session["style"] == default
    result = decode(client.session_result(session["id"]))
    assert np.array_equal(result, decode(client.render(photo_path, style=default)))
    client.delete_session(session["id"])
    with pytest.raises(ServiceError) as err:
        client.session(session["id"])
    assert err.value.status == 404


def _attach_companion(client) -> None:
    listing = client.sessions(state="pending")
    assert listing["companion_attached"]


def test_companion_applies_its_own_result_image(service, photo_path):
    plugin, companion = service.client(), service.client()
    _attach_companion(companion)
    session = plugin.create_session(photo_path, host="darktable", name="kodim13.png", fmt="tiff16")
    assert session["state"] == "pending"
    pending = companion.sessions(state="pending", wait=5)["sessions"]
    assert [s["id"] for s in pending] == [session["id"]]
    sent = decode(companion.session_image(session["id"]))
    assert plugin.session(session["id"])["state"] == "open"
    grey = (sent[..., :3].astype(np.float64).mean(axis=2) * 257).round().astype(np.uint16)  # companion's edit
    buffer = io.BytesIO()
    Image.fromarray(grey).save(buffer, "PNG")

    answered: dict = {}

    def wait_like_a_plugin() -> None:
        start = time.monotonic()
        answered["state"] = plugin.session(session["id"], wait=10)["state"]
        answered["seconds"] = time.monotonic() - start

    waiter = threading.Thread(target=wait_like_a_plugin)
    waiter.start()
    time.sleep(0.5)
    companion.apply(session["id"], buffer.getvalue(), style="my édit")  # any label, even non-ASCII
    waiter.join()
    assert answered["state"] == "applied" and answered["seconds"] < 3  # the long-poll woke at once
    result = decode(plugin.session_result(session["id"]))
    assert result.dtype == np.uint16 and np.array_equal(result, grey)  # TIFF16, grey, pixel exact
    assert plugin.session(session["id"])["style"] == "my édit"
    plugin.delete_session(session["id"])


def test_companion_apply_without_body_renders_the_chosen_style(service, photo_path):
    plugin, companion = service.client(), service.client()
    _attach_companion(companion)
    session = plugin.create_session(photo_path, host="gimp")
    answer = companion.apply(session["id"], style="high-key", overrides=["global.grain=0"])
    assert answer["state"] == "applied" and answer["style"] == "high-key"
    assert np.array_equal(decode(plugin.session_result(session["id"])),
                          decode(plugin.render(photo_path, style="high-key")))
    with pytest.raises(ServiceError) as err:
        companion.apply(session["id"])
    assert err.value.status == 409
    plugin.delete_session(session["id"])


def test_companion_cancel_returns_nothing(service, photo_path):
    plugin, companion = service.client(), service.client()
    _attach_companion(companion)
    session = plugin.create_session(photo_path, host="gimp")
    assert companion.cancel(session["id"])["state"] == "cancelled"
    assert plugin.session(session["id"], wait=5)["state"] == "cancelled"
    with pytest.raises(ServiceError) as err:
        plugin.session_result(session["id"])
    assert err.value.status == 409
    plugin.delete_session(session["id"])


def test_session_falls_back_to_rendering_when_the_companion_goes_away(service, photo_path):
    plugin, companion = service.client(), service.client()
    _attach_companion(companion)
    session = plugin.create_session(photo_path, host="gimp", style="noir")
    assert session["state"] == "pending"
    answer = plugin.session(session["id"], wait=8)  # the companion stops polling: 2 s timeout here
    assert answer["state"] == "applied" and answer["style"] == "noir"
    assert "companion" in answer["message"]
    plugin.delete_session(session["id"])


def test_interactive_mode_waits_for_the_companion(service, photo_path):
    plugin = service.client()
    session = plugin.create_session(photo_path, host="gimp", mode="interactive")
    assert plugin.session(session["id"], wait=3)["state"] == "pending"  # no fallback render
    plugin.cancel(session["id"])
    plugin.delete_session(session["id"])


def test_session_rejects_bad_input_before_waiting(service, photo_path):
    client = service.client()
    with pytest.raises(ServiceError) as err:
        client.create_session(b"not an image", host="gimp", name="x.png")
    assert err.value.status == 400
    with pytest.raises(ServiceError) as err:
        client.create_session(photo_path, host="gimp", style="nope")
    assert err.value.status == 404
    assert client.sessions(state=None)["sessions"] == []
