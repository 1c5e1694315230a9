"""People masks (`silverprint.regions.people`): small people found, non-people not trusted.

Real photos and the real mediapipe models throughout; `detect_people` is called directly at the
analysis size (what `compute_regions` hands it), so these tests take about a second.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from silverprint.regions.analysis import analysis_image
from silverprint.regions.labelset import IGNORE, load_label, load_source_rgb, paste_shrunk, rasterize
from silverprint.regions.people import _crop_weight, _skin_prior, _smoothness, detect_people
from shared_data import KODAK

LABELS = Path(__file__).parent / "data" / "labels"
PERSON, SKIN = 1, 2


def _photo(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(rgb at the analysis size, label index map at that size) of a labelled photo."""
    label = load_label(LABELS / f"{name}.json")
    if label.source["kind"] == "kodak" and not (KODAK / label.source["file"]).is_file():
        pytest.skip(f"Kodak photos not found at {KODAK} (shared data folder not mounted)")
    rgb = analysis_image(load_source_rgb(label.source, KODAK))
    return rgb, rasterize(label, rgb.shape[:2])


def _pasted(person: str, scale: int, into: str, row: float = 2 / 3, col: float | None = None
            ) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]]:
    """A labelled person shrunk ``scale`` times and pasted (by their label) into a landscape.

    Returns the composite, the pasted silhouette at the composite's size, and its box. The
    person and the landscape are real photos; only their scale relation is made up, so the
    small-people search can be checked on people whose outline is known exactly. The centre
    is at ``row`` of the height; the left edge at ``col`` of the width, or with ``col`` None
    on the 1/3 line (the search's tile border).
    """
    src, truth = _photo(person)
    back, _ = _photo(into)
    silhouette = ((truth == PERSON) | (truth == SKIN)).astype(np.float32)
    sw, sh = src.shape[1] // scale, src.shape[0] // scale
    bh, bw = back.shape[:2]
    y0 = int(bh * row) - sh // 2
    x0 = int(bw * col) if col is not None else bw // 3 - sw // 2
    out, full = paste_shrunk(src, silhouette, scale, back, y0, x0)
    return out, full, (x0, y0, x0 + sw, y0 + sh)


@pytest.mark.parametrize("person, scale", [("kodim04", 12), ("kodim04", 16), ("grace_hopper", 12)])
def test_a_small_person_in_a_landscape_is_found_and_outlined(person, scale):
    """A person ~50 px tall (face ~12-20 px) on a coast: too small for the frame-level face
    detectors; the tiled segmenter and the face search on its blobs find and outline them."""
    rgb, silhouette, (x0, y0, x1, y1) = _pasted(person, scale, "kodim21")
    result = detect_people(rgb)
    h, w = silhouette.shape
    assert result.person_found and len(result.faces) == 1
    fx0, fy0, fx1, fy1 = result.faces[0].box
    assert x0 <= (fx0 + fx1) / 2 * w <= x1 and y0 <= (fy0 + fy1) / 2 * h <= y1
    mask = result.person > 0.5
    assert mask[silhouette].mean() > 0.8
    iou = (mask & silhouette).sum() / (mask | silhouette).sum()
    assert iou > 0.6


@pytest.mark.parametrize("person, scale, into", [("kodim15", 8, "kodim21"), ("kodim04", 16, "kodim11")])
def test_a_small_person_cut_by_a_tile_border_is_found(person, scale, into):
    """Centred on the 1/3 line, a small person is half a person to each tile of the search's
    grid; the grid shifted by half a tile sees them whole."""
    rgb, silhouette, (x0, y0, x1, y1) = _pasted(person, scale, into, row=0.5)
    assert x0 < rgb.shape[1] // 3 < x1
    result = detect_people(rgb)
    assert result.person_found and len(result.faces) == 1
    mask = result.person > 0.5
    assert (mask & silhouette).sum() / (mask | silhouette).sum() > 0.5


def test_a_small_full_length_figure_is_confirmed_by_the_full_range_detector():
    """kodim18 shrunk 12 times: a woman 60 px tall whose face is ~6 px. The short-range
    detector never sees a face that small; the full-range one finds it again on the crops of
    every size, which is the second look it gets (both detectors on one crop is impossible)."""
    rgb, silhouette, (x0, y0, x1, y1) = _pasted("kodim18", 12, "kodim06", row=0.62, col=0.55)
    result = detect_people(rgb)
    h, w = silhouette.shape
    assert result.person_found and len(result.faces) == 1
    fx0, fy0, fx1, fy1 = result.faces[0].box
    assert (fx1 - fx0) * w < 10 and x0 <= (fx0 + fx1) / 2 * w <= x1 and y0 <= (fy0 + fy1) / 2 * h <= y1
    assert (result.person > 0.5)[silhouette].mean() > 0.5


def test_sailors_on_a_yacht_are_found():
    """kodim10: sailors with faces ~15 px at the analysis size, none found at frame level."""
    rgb, truth = _photo("kodim10")
    result = detect_people(rgb)
    h, w = truth.shape
    assert result.person_found and len(result.faces) >= 2
    is_person = (truth == PERSON) | (truth == SKIN)
    for face in result.faces:  # every face found lies on a labelled sailor
        cx, cy = int((face.box[0] + face.box[2]) / 2 * w), int((face.box[1] + face.box[3]) / 2 * h)
        assert is_person[cy, cx]
    mask = result.person > 0.5
    scored = truth != IGNORE
    assert mask[is_person].mean() > 0.3
    # Nothing of the sails, hull or sea: at most a thin fringe around the sailors.
    assert (mask & ~is_person & scored).sum() < 0.3 * is_person.sum()


@pytest.mark.parametrize("name", ["kodim09", "kodim10"])
def test_crew_beside_a_found_sailor_are_person(name):
    """One or two sailors show the detectors a face; their crew mates beside them show a back,
    a profile or a bowed head. Every labelled crew group of a person's height at the found
    face's scale (3.5 face sizes or more; the tiny figures on farther boats are not) is
    outlined by the companion search (without it: 0.00 and 0.26 on kodim09, 0.00 on kodim10's
    standing crew member), and the sails, hulls and sea stay out."""
    rgb, truth = _photo(name)
    result = detect_people(rgb)
    h, w = truth.shape
    assert result.person_found
    size = max(max((f.box[2] - f.box[0]) * w, (f.box[3] - f.box[1]) * h) for f in result.faces)
    silhouette = (truth == PERSON) | (truth == SKIN)
    n, groups, stats, _ = cv2.connectedComponentsWithStats(silhouette.astype(np.uint8), connectivity=8)
    mask = result.person > 0.5
    tall = [i for i in range(1, n) if stats[i, cv2.CC_STAT_HEIGHT] >= 3.5 * size]
    assert len(tall) >= 2
    for i in tall:
        assert mask[groups == i].mean() > 0.6
    assert (mask & ~silhouette & (truth != IGNORE)).sum() < 0.25 * silhouette.sum()


def test_a_painted_bow_beside_a_small_person_is_no_companion():
    """grace_hopper shrunk 12 times onto kodim06's moored boat: beside her the segmenter, on
    body-sized windows, takes the painted bow and a stern fitting for people (5476 false
    pixels before companions had to be taller than wide and seen again on a crop centred on
    them); neither is a companion."""
    rgb, silhouette, _ = _pasted("grace_hopper", 12, "kodim06", row=2 / 3, col=1 / 3)
    silhouette = silhouette > 0.5
    result = detect_people(rgb)
    assert result.person_found and len(result.faces) == 1
    mask = result.person > 0.5
    assert mask[silhouette].mean() > 0.8
    assert (mask & ~silhouette).sum() < 0.2 * silhouette.sum()


@pytest.mark.parametrize("name", ["kodim01", "kodim02", "kodim03", "kodim05", "kodim07", "kodim08", "kodim11",
                                  "kodim13", "kodim16", "kodim19", "kodim20", "kodim21", "kodim22", "kodim23",
                                  "rocket", "coffee", "chelsea"])
def test_photos_without_people_have_no_person(name):
    """Hats, parrots, a lighthouse, coin-operated binoculars (a 'face' to both detectors at
    small scale, but grey: no skin), a cat: the small-people search must not trust them."""
    rgb, truth = _photo(name)
    assert not ((truth == PERSON) | (truth == SKIN)).any()
    result = detect_people(rgb)
    assert not result.person_found and result.faces == []
    assert result.person.max() == 0.0


def test_skin_prior_takes_every_skin_tone_and_no_grey():
    """Skin tones differ mostly in lightness (melanin), much less in hue: the typical skin
    chroma (Lab a* ~14, b* ~18) at any lightness from very dark to very light is skin; greys,
    sky, foliage and near-neutral warm greys (sailcloth, concrete) are not."""
    lab = np.array([[[light, 14.0, 18.0] for light in (25, 35, 50, 65, 80)]], np.float32)
    tones = np.clip(cv2.cvtColor(lab, cv2.COLOR_Lab2RGB), 0, 1)
    assert _skin_prior(tones).all()
    others = np.array([[[128, 128, 128], [200, 200, 205], [90, 140, 210], [60, 140, 50], [40, 40, 40],
                        [150, 148, 140]]], np.float32) / 255
    assert not _skin_prior(others).any()


@pytest.mark.parametrize("shape", [(2, 2), (3, 500), (500, 3), (30, 30), (768, 40), (17, 23)])
def test_tiny_and_thin_images_give_empty_masks(shape):
    """The tile and crop searches must never hand mediapipe an empty tile (it aborts the
    process, it does not raise); images too small for anyone to be found get empty masks."""
    rng = np.random.default_rng(0)
    for image in (np.zeros(shape + (3,), np.float32), rng.random(shape + (3,)).astype(np.float32)):
        result = detect_people(image)
        assert result.person.shape == result.skin.shape == shape
        assert not result.person_found and result.person.max() == 0.0


def _cover(name: str) -> tuple[float, float, float, bool]:
    """(share of the labelled silhouette covered, share of its lowest 15 % covered, false person
    pixels as a share of the silhouette, pose used) for a labelled photo."""
    rgb, truth = _photo(name)
    result = detect_people(rgb)
    silhouette = (truth == PERSON) | (truth == SKIN)
    mask = result.person > 0.5
    rows = np.nonzero(silhouette)[0]
    low = silhouette.copy()
    low[:int(rows.max() - 0.15 * (rows.max() - rows.min()))] = False
    false = (mask & ~silhouette & (truth != IGNORE)).sum() / silhouette.sum()
    return float(mask[silhouette].mean()), float(mask[low].mean()), float(false), result.pose_found


@pytest.mark.parametrize("name, floor", [("kodim18", 0.75), ("kodim12", 0.5)])
def test_a_standing_figure_is_person_down_to_the_feet(name, floor):
    """A standing adult is ~9 face-detector boxes tall below the box: the hem of a long dress
    and walking legs are still the person the face vouches for (a trust box of 8 face sizes
    cut them off: 0.53 and 0.36 of the lowest strip). kodim12's label now reaches the feet in
    the splashing water and the shin between the held flippers, which the segmenter does not
    see (0.60 of its lowest strip is found; 0.34 with a trust box of 8 face sizes)."""
    cover, low, false, _ = _cover(name)
    assert low > floor and cover > 0.85
    assert false < 0.2


@pytest.mark.parametrize("name", ["kodim15", "kodim18", "grace_hopper"])
def test_a_portrait_gets_the_pose_outline_of_its_own_person(name):
    """One face and a figure large enough for BlazePose: the pose model runs, its nose lies in
    the found face, and its person mask joins the segmenter's (hair, a hand, a hem)."""
    cover, _, false, pose_found = _cover(name)
    assert pose_found
    assert cover > 0.9 and false < 0.05


def test_crops_have_no_say_where_their_border_cuts_a_neighbour():
    """kodim14: eight rafters, each re-segmented on their own body crop. A neighbour's crop
    whose border runs through a rafter sees half a person and drops them; with an equal vote
    that erased most of the paddler at the back (0.81 of the rafters covered); weighted by
    distance from the cutting border it does not."""
    cover, _, false, _ = _cover("kodim14")
    assert cover > 0.85 and false < 0.35


def test_a_held_helmet_is_not_the_person():
    """astronaut: the helmet held at her side is foreground to the selfie segmenter (it took
    0.99 of it); the pose model, segmenting along her skeleton, leaves it out, and a blob it
    firmly calls background away from her head is dropped. Her hair, which the pose mask
    misses, is next to her face and stays."""
    label = load_label(LABELS / "astronaut.json")
    rgb, truth = _photo("astronaut")
    helmet = np.zeros(truth.shape, np.uint8)
    for region, points in label.shapes:
        if region == "other":  # the label's one "other" shape is the held helmet
            scale = np.array([truth.shape[1] / label.size[0], truth.shape[0] / label.size[1]])
            cv2.fillPoly(helmet, [np.round(points * scale).astype(np.int32)], 1)
    assert helmet.sum() > 10000
    result = detect_people(rgb)
    mask = result.person > 0.5
    assert mask[helmet > 0].mean() < 0.4
    silhouette = (truth == PERSON) | (truth == SKIN)
    assert mask[silhouette].mean() > 0.95


@pytest.mark.parametrize("box", [(0, 0, 100, 50), (0, 10, 100, 50), (10, 0, 50, 80), (0, 0, 100, 80), (20, 30, 60, 70)])
def test_crop_weight_fades_only_at_borders_that_cut_the_frame(box):
    """One weight per crop pixel whatever frame edges the crop touches (a crop as wide as the
    frame once gave a scalar); nearly none on a border inside the frame, full on the frame's edge."""
    x0, y0, x1, y1 = box
    weight = _crop_weight(box, 80, 100)
    assert weight.shape == (y1 - y0, x1 - x0)
    assert weight.max() == pytest.approx(1.0, abs=0.01)
    for inside, edge in ((x0 > 0, weight[:, 0]), (x1 < 100, weight[:, -1]), (y0 > 0, weight[0]), (y1 < 80, weight[-1])):
        assert edge.max() < 0.1 if inside else edge.max() > 0.9


def test_a_grey_photo_has_skin_only_in_the_faces():
    """A monochrome original: the face sample is neutral, so colour cannot separate skin from
    the suit; only the face ovals are skin (the neutral model called a third of the frame skin)."""
    rgb, truth = _photo("astronaut")
    grey = np.repeat(rgb.mean(axis=2, keepdims=True), 3, axis=2)
    result = detect_people(grey)
    assert result.person_found
    skin = result.skin > 0.5
    assert 0.0 < skin.mean() < 0.08
    assert skin[truth == PERSON].mean() < 0.05


@pytest.mark.parametrize("name, hair, kept", [("kodim04", 0.15, 0.8), ("kodim15", 0.06, 0.9), ("kodim18", 0.22, 0.65)])
def test_hair_around_a_face_is_not_skin(name, hair, kept):
    """Hair can have the chroma of the skin sampled in the face: kodim04's blond hair, kodim15's
    and kodim18's dark hair by dark skin. On the colour model alone 0.23, 0.11 and 0.33 of the
    person pixels around the face (hair, hat, scarf, ribbons) were skin; with the texture test
    alone 0.12, 0.08 and 0.31 (dark hair is not rougher than dark skin at this size), with the
    crown alone 0.12, 0.04 and 0.17; with both 0.11, 0.04 and 0.16. The labelled skin (face,
    neck, chest, hands) stays: 0.86, 0.94, 0.72 (0.86, 0.95, 0.74 before)."""
    rgb, truth = _photo(name)
    result = detect_people(rgb)
    h, w = truth.shape
    assert len(result.faces) == 1
    x0, y0, x1, y1 = result.faces[0].box
    fw, fh = (x1 - x0) * w, (y1 - y0) * h
    near = np.zeros((h, w), bool)  # beside and above the face box, by 0.6 of its size
    near[int(max(0, y0 * h - 0.6 * fh)):int(y1 * h), int(max(0, x0 * w - 0.6 * fw)):int(min(w, x1 * w + 0.6 * fw))] = True
    skin = result.skin > 0.5
    assert skin[near & (truth == PERSON)].mean() < hair
    assert skin[truth == SKIN].mean() > kept


def test_smoothness_rejects_strands_around_a_face_not_its_edges():
    """Around a face only: fine strands (hair) are not skin, a smooth ramp and a lone strong
    edge (a jaw line, an arm against cloth) are; away from the faces nothing is judged."""
    h, w = 120, 120
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light = 50.0 + 0.1 * yy + np.where(xx >= 90, 25.0, 0.0)  # a ramp with one strong edge at x=90
    strands = (40 <= yy) & (yy < 80) & (xx < 60)
    light[strands] += np.where((xx[strands].astype(int) + yy[strands].astype(int) // 3) % 3 == 0, 8.0, -4.0)
    light += np.random.default_rng(0).normal(0.0, 0.3, (h, w)).astype(np.float32)  # film grain
    sample = np.zeros((h, w), bool)
    sample[85:115, 20:60] = True  # the face skin it is measured against
    head = np.zeros((h, w), bool)
    head[:, :100] = True
    smooth = _smoothness(light.astype(np.float32), sample, head)
    assert smooth[45:75, 5:55].max() < 0.05  # strands
    assert smooth[85:115, 20:60].mean() > 0.9 and smooth[5:35, 20:60].mean() > 0.9  # the ramp
    assert smooth[10:35, 84:97].min() > 0.6  # the lone edge, 80 times the grain
    assert (smooth[:, 100:] == 1.0).all()  # outside the head zone
