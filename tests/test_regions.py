"""Regions: semantic masks on real photos, edge-aware refinement, local masks, the CLI."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from silverprint.cli import main as cli_main
from silverprint.errors import ShapeError
from silverprint.params import SEMANTIC_REGIONS
from silverprint.regions import ANALYSIS_SIZE, compute_regions, guided_filter
from silverprint.regions.analysis import refine
from silverprint.regions.labelset import IGNORE, load_label, load_labels, load_source_rgb, rasterize
from shared_data import KODAK

LABELS = Path(__file__).parent / "data" / "labels"
SKY, PERSON, SKIN, VEG, OTHER = range(5)


def _photo(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(rgb, label index map at the analysis size) of a labelled photo."""
    label = load_label(LABELS / f"{name}.json")
    if label.source["kind"] == "kodak" and not (KODAK / label.source["file"]).is_file():
        pytest.skip(f"Kodak photos not found at {KODAK} (shared data folder not mounted)")
    rgb = load_source_rgb(label.source, KODAK)
    return rgb, label


@pytest.fixture(scope="module")
def analysed() -> dict:
    """compute_regions once per photo for the whole module (the mediapipe graphs load once)."""
    cache: dict = {}

    def get(name: str):
        if name not in cache:
            rgb, label = _photo(name)
            result = compute_regions(rgb)
            cache[name] = (rgb, result, rasterize(label, result.masks.shape[1:]))
        return cache[name]

    return get


@pytest.mark.parametrize("name", ["kodim21", "astronaut"])
def test_masks_are_a_soft_partition_at_analysis_size(analysed, name):
    rgb, result, _ = analysed(name)
    masks = result.masks
    assert masks.dtype == np.float32 and masks.shape[0] == len(SEMANTIC_REGIONS) == 5
    h, w = rgb.shape[:2]
    assert max(masks.shape[1:]) == min(ANALYSIS_SIZE, max(h, w))
    assert masks.shape[1] / masks.shape[2] == pytest.approx(h / w, rel=0.01)
    assert masks.min() >= 0 and masks.max() <= 1
    np.testing.assert_allclose(masks.sum(axis=0), 1.0, atol=1e-5)
    # Soft: some pixels are genuinely mixed (edges), not a hard label map.
    assert np.mean((masks.max(axis=0) > 0.05) & (masks.max(axis=0) < 0.95)) > 0.001


def test_sky_fills_the_sky_of_a_real_landscape(analysed):
    _, result, truth = analysed("kodim21")
    sky = result["sky"]
    assert sky[truth == SKY].mean() > 0.85
    assert sky[(truth != SKY) & (truth != IGNORE)].mean() < 0.1
    assert not result.person_found and result["person"].max() < 0.05


def test_landscape_without_people_has_no_person(analysed):
    _, result, truth = analysed("kodim13")
    person = result["person"] + result["skin"]
    assert not result.person_found and result.faces == []
    assert person.max() < 0.05
    assert result["vegetation"][truth == VEG].mean() > 0.6


@pytest.mark.parametrize("name", ["astronaut", "grace_hopper"])
def test_person_and_face_on_portraits(analysed, name):
    _, result, truth = analysed(name)
    assert result.person_found and len(result.faces) >= 1
    silhouette = result["person"] + result["skin"]
    is_person = (truth == PERSON) | (truth == SKIN)
    assert silhouette[is_person].mean() > 0.8
    assert silhouette[(truth == OTHER)].mean() < 0.25
    # The face is skin, and a portrait backdrop is not sky.
    assert result["skin"][truth == SKIN].mean() > 0.6
    assert result["sky"].mean() < 0.05


def test_a_cat_is_not_a_person(analysed):
    """The selfie segmenter marks most of this cat; without a face or a pose it is not trusted."""
    _, result, _ = analysed("chelsea")
    assert not result.person_found
    assert (result["person"] + result["skin"]).max() < 0.05


def _iou(hard: np.ndarray, truth: np.ndarray, region: int) -> float:
    valid = truth != IGNORE
    p, t = (hard == region) & valid, (truth == region) & valid
    return float((p & t).sum() / max(1, (p | t).sum()))


def test_group_on_a_raft_is_people_not_raft(analysed):
    """kodim14: eight rafters, most faces small or in profile; the raft they sit on is not a person.

    The frame-level segmenter merges the people with the raft; re-segmenting each found person
    on their own crop separates them, and the finer face search finds the small faces.
    """
    _, result, truth = analysed("kodim14")
    assert result.person_found and len(result.faces) >= 6
    silhouette = result["person"] + result["skin"]
    is_person = (truth == PERSON) | (truth == SKIN)
    assert silhouette[truth == OTHER].mean() < 0.12
    merged = np.where(result.hard() == SKIN, PERSON, result.hard())
    assert _iou(merged, np.where(truth == SKIN, PERSON, truth), PERSON) > 0.55
    assert silhouette[is_person].mean() > 0.5


def test_warm_evening_sky_is_sky_and_the_sea_is_not(analysed):
    """kodim06: a warm, hazy sky (neither blue nor grey) above green-cyan water."""
    _, result, truth = analysed("kodim06")
    sky = result["sky"]
    assert sky[truth == SKY].mean() > 0.75
    assert sky[truth == OTHER].mean() < 0.05


def test_calm_sea_below_a_straight_horizon_is_not_sky(analysed):
    """kodim11: deep blue sky over a deep blue sea band; the horizon separates them."""
    _, result, truth = analysed("kodim11")
    assert _iou(result.hard(), truth, SKY) > 0.9
    h = truth.shape[0]
    band = slice(round(75 / 512 * h), round(95 / 512 * h))  # the sea band under the horizon
    assert result["sky"][band].mean() < 0.1


def test_distant_and_shadowed_treeline_is_vegetation(analysed):
    """kodim12: a dark, desaturated treeline on the horizon; per-segment decisions recover it."""
    _, result, truth = analysed("kodim12")
    assert _iou(result.hard(), truth, VEG) > 0.55
    assert result["vegetation"][truth == OTHER].mean() < 0.1


def test_shadowed_palm_crowns_are_vegetation(analysed):
    """kodim16: backlit palm crowns on a far island are dull olive; the pale-foliage pass adds them."""
    _, result, truth = analysed("kodim16")
    assert _iou(result.hard(), truth, VEG) > 0.55
    assert result["vegetation"][truth == OTHER].mean() < 0.1


def test_pale_green_joins_only_a_region_with_sure_foliage():
    """Hysteresis: weak evidence grows a sure region, but never starts one on its own."""
    from silverprint.regions.vegetation import grow_into

    strong = np.zeros((40, 60), np.float32)
    strong[5:15, 5:15] = 1.0                      # clearly green foliage ...
    loose = np.zeros_like(strong)
    loose[5:30, 5:25] = 0.9                       # ... continued by a hazy part of the same wood
    loose[5:30, 40:55] = 0.9                      # a pale green lagoon, unconnected
    out = grow_into(strong, loose)
    assert out[20:30, 5:25].min() > 0.5
    assert out[:, 35:].max() < 0.5
    assert out[5:15, 5:15].min() == 1.0



def test_gaps_between_leaves_close_but_open_ground_does_not():
    from silverprint.regions.vegetation import close_gaps

    prob = np.zeros((60, 80), np.float32)
    prob[10:50, 10:30] = 1.0
    prob[10:50, 34:54] = 1.0                      # two halves of a bush, a 4-px gap between
    out = close_gaps(prob, radius=4)
    assert out[20:40, 30:34].min() > 0.5
    assert out[:, 60:].max() == 0.0 and out[55:, :].max() == 0.0



def test_smooth_green_object_is_not_vegetation_but_a_backdrop_is():
    """Fine detail decides: a plastic cap is smooth inside, leaves are not; a big blur is foliage."""
    from silverprint.regions.vegetation import drop_smooth

    prob = np.zeros((100, 100), np.float32)
    prob[10:30, 10:30] = 1.0                       # a smooth green object (4 % of the frame)
    prob[10:30, 60:80] = 1.0                       # a leafy bush of the same size
    prob[50:95, 5:95] = 1.0                        # a large defocused green backdrop
    detail = np.full((100, 100), 0.3, np.float32)  # smooth everywhere ...
    detail[10:30, 60:80] = 2.0                     # ... except among the leaves
    out = drop_smooth(prob, detail)
    assert out[10:30, 10:30].max() < 0.5
    assert out[10:30, 60:80].min() == 1.0 and out[50:95, 5:95].min() == 1.0



def test_segment_consensus_spreads_a_majority_verdict():
    """Dark gaps inside a foliage segment join it; a stray pixel in a wall segment is dropped."""
    from silverprint.regions.vegetation import segment_consensus

    rgb = np.full((64, 96, 3), 0.8, np.float32)     # a pale wall on the left ...
    rgb[:, 48:] = (0.15, 0.35, 0.1)                  # ... a dark green mass on the right
    prob = np.zeros((64, 96), np.float32)
    prob[:, 48:] = 1.0
    prob[20:30, 60:70] = 0.0                         # shadowed leaves the colour test missed
    prob[10, 10] = 1.0                               # a stray green speck on the wall
    out = segment_consensus(rgb, prob)
    assert out[20:30, 60:70].min() > 0.5
    assert out[10, 10] < 0.5
    assert out[:, :40].max() < 0.5 and out[:, 52:].min() > 0.5



def test_vivid_green_cap_is_not_vegetation(analysed):
    """kodim03: a lime-green cap passes colour and coarse texture; fine detail rejects it."""
    _, result, truth = analysed("kodim03")
    assert (result.hard() == VEG).mean() < 0.005


def test_foliage_cut_by_the_frame_edge_is_kept(analysed):
    """kodim07: the shaded leaves in the bottom-right corner are a small patch, but the frame cuts it."""
    _, result, truth = analysed("kodim07")
    assert _iou(result.hard(), truth, VEG) > 0.72


def test_frame_edge_takes_the_inner_verdict():
    """A scanner's border line must not cut the sky (or anything) short of the frame edge."""
    from silverprint.regions.analysis import _inherit_border

    stack = np.zeros((20, 30, 5), np.float32)
    stack[..., 0] = 1.0                 # sky everywhere inside ...
    stack[:2, :, :] = 0.0
    stack[:2, :, 4] = 1.0               # ... but 'other' along a 2-px border line at the top
    stack[:, -1, :] = 0.0
    stack[:, -1, 3] = 1.0               # and 'vegetation' in the last column
    _inherit_border(stack, width=2)
    assert np.all(stack[..., 0] == 1.0)
    np.testing.assert_allclose(stack.sum(axis=2), 1.0)


def test_refinement_follows_image_edges_without_halo():
    """A coarse mask with a blurred, misplaced boundary snaps to the image edge at full size."""
    cv2 = pytest.importorskip("cv2")
    h, w, edge = 48, 72, 30  # coarse grid; the analysis grid is 2x
    rng = np.random.default_rng(0)

    def two_tone(hh, ww, e):
        img = np.where(np.arange(ww)[None, :, None] < e, 0.25, 0.75) * np.ones((hh, ww, 3))
        return (img + rng.normal(0, 0.005, img.shape)).astype(np.float32)

    guide_lo, guide_hi = two_tone(h, w, edge), two_tone(2 * h, 2 * w, 2 * edge)
    # The coarse estimate puts the boundary 1 px too far right and blurs it over 4 px.
    ramp = np.clip((edge + 1 + 2 - np.arange(w)) / 4.0, 0, 1)[None, :].repeat(h, 0)
    probs = np.stack([ramp, 1 - ramp], axis=-1).astype(np.float32)
    out = refine(guide_lo, probs, guide_hi, radius=4)
    assert out.shape == (2, 2 * h, 2 * w)
    assert np.abs(out.sum(0) - 1).max() < 1e-5
    left = out[0].mean(axis=0)
    naive = cv2.resize(probs[..., 0], (2 * w, 2 * h), interpolation=cv2.INTER_LINEAR).mean(axis=0)
    e = 2 * edge
    assert int(np.argmax(-np.diff(left))) == e - 1    # the transition sits on the image edge
    assert left[e - 1] - left[e] > 0.6                # ... and is a step, not a ramp
    assert left[: e - 1].min() > 0.9                  # the region is full up to the edge
    assert left[e + 4:].max() < 0.15                  # little leaks past it
    assert left[e:].sum() < 0.6 * naive[e:].sum()      # far less than plain upsampling leaks
    assert naive[e + 2] > 0.5                         # which halos well past the edge


def test_sky_edge_over_textured_ground_is_sharp():
    """End to end on a synthetic photo: smooth blue sky above textured green foliage."""
    h, w, horizon = 192, 288, 80
    rng = np.random.default_rng(1)
    img = np.empty((h, w, 3), np.float32)
    ys = np.linspace(0, 1, horizon)[:, None, None]
    img[:horizon] = np.array([0.35, 0.55, 0.9]) + ys * np.array([0.25, 0.2, 0.05])  # sky gradient
    leaves = rng.random((h - horizon, w, 1)) * 0.35 + 0.1
    img[horizon:] = leaves * np.array([0.6, 1.0, 0.35])
    result = compute_regions(img)
    sky, veg = result["sky"], result["vegetation"]
    assert sky[: horizon - 3].mean() > 0.9 and sky[: horizon - 6].min() > 0.5
    assert sky[horizon + 3:].max() < 0.1
    assert veg[horizon + 6:].mean() > 0.7


def test_guided_filter_matches_reference_and_keeps_constants():
    cv2 = pytest.importorskip("cv2")
    if not hasattr(cv2, "ximgproc"):
        pytest.skip("reference needs OpenCV's contrib modules (opencv-contrib-python, a mediapipe dependency)")
    rng = np.random.default_rng(2)
    guide = rng.random((40, 50, 3)).astype(np.float32)
    src = rng.random((40, 50, 2)).astype(np.float32)
    ours = guided_filter(guide, src, 3, 1e-3)
    ref = cv2.ximgproc.guidedFilter(guide, src, 3, 1e-3)
    np.testing.assert_allclose(ours[4:-4, 4:-4], ref[4:-4, 4:-4], atol=1e-4)
    flat = guided_filter(guide, np.full((40, 50), 0.3, np.float32), 3, 1e-3)
    np.testing.assert_allclose(flat, 0.3, atol=1e-5)


@pytest.mark.parametrize("image", [
    np.zeros((40, 60, 3), np.float32),                      # black frame
    np.full((30, 30, 3), np.nan, np.float32),               # broken float data
    np.random.default_rng(5).random((2, 3, 3)).astype(np.float32),   # tiny
    (np.random.default_rng(6).random((50, 70, 3)) * 65535).astype(np.uint16),  # 16-bit codes
], ids=["black", "nan", "tiny", "uint16"])
def test_degenerate_images_still_give_a_partition(image):
    masks = compute_regions(image).masks
    assert masks.shape == (5,) + image.shape[:2]
    assert np.isfinite(masks).all()
    np.testing.assert_allclose(masks.sum(axis=0), 1.0, atol=1e-5)


def test_compute_regions_rejects_non_images():
    with pytest.raises(ShapeError):
        compute_regions(np.zeros((10, 10), np.float32))


# ---------------------------------------------------------------------------------- labels, CLI


def test_labelled_set_is_complete_and_renders():
    labels = load_labels(LABELS)
    assert len(labels) >= 12
    present = {r: sum(any(s[0] == r for s in lab.shapes) for lab in labels) for r in ("sky", "person", "vegetation")}
    assert min(present.values()) >= 4
    assert any(not lab.shapes for lab in labels)  # photos without any region too
    for lab in labels:
        assert lab.source["kind"] in ("kodak", "skimage", "matplotlib") and lab.source.get("origin")
        index = rasterize(lab, (lab.size[1] // 4, lab.size[0] // 4))
        assert set(np.unique(index)) <= {0, 1, 2, 3, 4, IGNORE}


def test_a_source_can_pick_one_image_of_a_pair():
    """skimage's stereo_motorcycle loader returns (left, right, disparity); "item" picks one."""
    label = load_label(LABELS / "motorcycle_left.json")
    rgb = load_source_rgb(label.source, KODAK)
    assert rgb.shape == (label.size[1], label.size[0], 3) and rgb.dtype == np.float32
    assert 0.0 <= rgb.min() and rgb.max() <= 1.0


def test_label_split_is_validated(tmp_path):
    """Held-out photos are marked in their label file; a typo in the split is an error."""
    labels = load_labels(LABELS)
    assert {lab.split for lab in labels} == {"dev", "heldout"}
    bad = tmp_path / "bad.json"
    bad.write_text('{"photo": "x", "source": {"kind": "kodak", "file": "x.png"}, "size": [4, 4], '
                   '"split": "test", "shapes": []}')
    with pytest.raises(ValueError, match="unknown split"):
        load_label(bad)


def test_regions_cli_writes_one_png_per_region(tmp_path, capsys):
    src = KODAK / "kodim21.png"
    if not src.is_file():
        pytest.skip(f"Kodak photos not found at {KODAK}")
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    out = tmp_path / "masks"
    code = cli_main(["regions", str(bad), str(src), "--out-dir", str(out)])
    assert code == 2  # the bad file fails, the good one is still processed
    err = capsys.readouterr().err
    assert "broken.jpg" in err and err.count("\n") == 1
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted(f"kodim21_{r}.png" for r in SEMANTIC_REGIONS)
    stack = []
    for region in SEMANTIC_REGIONS:
        with Image.open(out / f"kodim21_{region}.png") as im:
            assert im.mode == "L" and im.size == (768, 512)
            stack.append(np.asarray(im, np.float32) / 255)
    total = np.sum(stack, axis=0)
    assert np.abs(total - 1).max() < 0.03  # quantised partition of unity
    assert stack[0][:100].mean() > 0.8     # kodim21's sky is in the top rows
