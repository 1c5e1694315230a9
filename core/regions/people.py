"""People, faces and skin from the models shipped inside mediapipe 0.10.21 (no downloads).

- Person: the selfie segmenter outlines people well but also fires on cats, cups and palaces, so a
  segment is trusted only where a detector confirms a person: a face (short- and full-range face
  detectors, and the full-range one again on enlarged tiles for small faces in group shots) that
  lies on the segment, or, when no face is visible, a body pose (BlazePose, which also gives its
  own person mask). Each face-confirmed person is re-segmented on a crop of their own body box,
  where the segmenter separates a person from the raft or sofa they sit on far better than at
  frame scale (overlapping crops vote); where the frame-level mask still sees people no found
  face explains, small faces are searched again on finer tiles. Trusted segments are further
  limited to an anthropometric box around each face (a standing body reaches ~10 face-box
  heights below the face and ~4 to each side). With a single face the pose model runs too;
  when its nose lies in that face, its person mask joins the segmenter's (it keeps the hair,
  hands and hems the selfie segmenter drops), and what it firmly calls background away from the
  head (a held helmet or bag, which the foreground-minded segmenter takes for the person) is
  dropped.
- Small people (sailors on a deck, walkers in a landscape; faces of ~8-20 px at the analysis
  size, invisible to the frame-level detectors and a smudge to the frame-level segmenter): when
  no face is found and the frame shows no large figure, the segmenter runs on a 3-wide grid of
  tiles and on that grid shifted by half a tile, and the top of each person-sized blob with
  some skin colour is searched for a face. At that scale both detectors hallucinate faces in
  rocks and machinery, so a small face counts only with skin chroma, a second look on crops
  centred on it (both detectors on one crop, or the detector suited to its size on crops of
    three sizes), and a person segment under it. Cost: ~20-35 ms on photos without a large
  figure and no face, nothing on portraits (`bench/people_small.py` measures it on development
  people shrunk into landscapes).
- Companions: beside a confirmed face of a small person, crew mates or a group showing a back,
  a profile or a bowed head are searched with the segmenter on windows of that person's body
  size along their band, and kept when person-sized at that scale, taller than wide and seen
  again on a crop centred on them (`_companions`; ~10-30 ms, only on photos with such faces).
- Skin: face ovals from the face mesh (or an ellipse in each detected face box), plus the pixels
  of the person whose colour matches the skin sampled inside those faces (a per-photo model, so
  it adapts to every skin tone and to the light), or a generic skin-chroma prior without faces.
  Hair can share that colour (blond, auburn, dark curls by dark skin) but not its place or its
  smoothness: above the brows and outside the face oval no body skin is taken (`_head_zone`'s
  crown), and around each face a pixel is skin only if its fine texture is about that of the face
  skin (`_smoothness`).

mediapipe is imported lazily and the graphs are created once per process and reused; they are
not thread-safe, so calls are serialised by a lock.
"""
from __future__ import annotations

import contextlib
import os
import sys
import threading
from dataclasses import dataclass, field

import cv2
import numpy as np

FACE_SHORT_CONFIDENCE = 0.6
FACE_FULL_CONFIDENCE = 0.5
TILE_FACE_CONFIDENCE = 0.6
POSE_VISIBILITY = 0.5
MIN_SEGMENT_FRACTION = 0.002  # below this the segmenter saw nobody; skip the detectors' tiles
SKIN_PRIOR_MEAN = np.array([14.0, 17.0])  # generic skin chroma (Lab a*, b*) where no face is sampled
SKIN_PRIOR_COV = np.array([[40.0, 10.0], [10.0, 60.0]])
SKIN_MIN_A, SKIN_MIN_CHROMA = 4.0, 6.0  # skin is never neutral: a* and chroma floors of the prior
SKIN_SIGMAS = 1.5  # how far (in face-skin standard deviations) body skin may stray in chroma
TEXTURE_WINDOW = 7  # half-size px: the fine-texture median's window (14 px: an edge fills < half)
TEXTURE_QUANT = 32.0  # L* detail to uint8 levels for that median (1/32 L* steps; 8 L* saturates)
HAIR_TEXTURE = 1.5  # around faces skin is at most ~this rough (in the face skin's median texture)
HEAD_REACH = 2.0  # the head zone: the face's ellipse this many times over, down to the mouth
CROWN_RISE = 0.3  # its crown (no body skin): above this share of the face's half-height over its centre
CROWN_WIDTH = 1.3  # and within this many face half-widths of its centre (arms beside heads stay)
FACE_SEGMENT_COVER = 0.5
LEFTOVER_MIN = 0.01  # unexplained person mask (fraction of frame) that triggers a finer face search
LEFTOVER_TILE = 0.25  # tile size (fraction of the long side) of that search
LEFTOVER_TILE_MIN = 0.05  # a tile is searched when this share of it is unexplained person mask
TRUST_DOWN = 10.0  # face sizes below a face a trusted body may reach (a standing figure's feet)
HELD_OBJECT_FACES = 2.0  # face sizes from a face centre within which the pose model may not drop person
POSE_MAX_FACES = 1  # with more faces the one-person pose model outlines only one of them
CROP_RAMP = 0.2  # share of a crop's size over which its say fades to nothing at a cut border
FRAME_VOTE = 0.1  # weight of the frame-level verdict among the crops' (a crop has 1)
MAX_CROPS = 8  # people re-segmented on their own crop (each ~5 ms)
CROP_WHOLE_FRAME = 0.8  # a body box this large (fraction of the frame) is not re-segmented
SMALL_TILES = 3  # small-people search: the segmenter on tiles of 1/3 of the long side
SMALL_MIN, SMALL_MAX = 0.0003, 0.03  # person-like blob areas (fraction of frame) worth a face search
LARGE_SUBJECT = 0.1  # a frame-level blob this large (a portrait, a cat, a palace) skips that search
SMALL_MIN_SIDE = 12  # px: a thinner blob (a frame-edge sliver, a mast) holds no findable face
SMALL_HEAD_SKIN = 0.08  # share of skin chroma in a blob's top below which it is not searched
SMALL_CANDIDATES = 6  # at most this many blobs are searched (largest first)
SMALL_FULL_CONFIDENCE = 0.6  # full-range detector on a blob's crop, and again on the face's crop
SMALL_SHORT_CONFIDENCE = 0.5  # short-range detector's second opinion on the face's own crop
SMALL_VERIFY_CROPS = (4.0, 3.0, 6.0)  # second-look crops' sides, in face sizes (see _face_again)
SMALL_SHORT_ALONE = 16  # px: the smallest face the short-range detector alone may confirm
SMALL_SKIN = 0.25  # share of a small face's box that must have skin chroma (not a grey machine)
COMPANION_FACE = 0.026  # faces up to this size (fraction of the long side) get a companion search
COMPANION_FACES = 3  # at most this many faces (best first) are searched beside
COMPANION_STEP = 4.0  # face sizes between the companion windows' centres (each 2 steps wide)
COMPANION_REACH = 2  # windows on each side of a face (the strip spans 12 face sizes each side)
COMPANION_HEIGHT = (3.5, 12.0)  # a companion's height, in face sizes (a head and torso .. standing)
COMPANION_WIDTH = (1.0, 6.0)  # and width (one person .. a huddle of three)
COMPANION_TOP = (-2.5, 3.0)  # where their top may lie, in face sizes from the face's top (same band)
COMPANION_UPRIGHT = 1.15  # a companion is this much taller than wide (hulls, rails, bows are wide)
COMPANION_AGAIN = 0.75  # share of a companion the segmenter covers again on a crop centred on it


@dataclass(frozen=True)
class Face:
    """A detected face: box (x0, y0, x1, y1) in fractions of the image, and the detector score."""

    box: tuple[float, float, float, float]
    score: float


@dataclass
class PeopleResult:
    person: np.ndarray          # (h, w) float32: person incl. skin, [0, 1]
    skin: np.ndarray            # (h, w) float32: skin, [0, 1] (subset of person)
    faces: list[Face] = field(default_factory=list)
    pose_found: bool = False

    @property
    def person_found(self) -> bool:
        return bool(self.faces) or self.pose_found


class _Models:
    """The mediapipe graphs, created on first use."""

    def __init__(self) -> None:
        self._spoken: set[str] = set()
        with _quiet_stderr():
            self._build()

    def _build(self) -> None:
        import mediapipe as mp  # lazy: ~0.5 s import

        sol = mp.solutions
        self.segmenter = sol.selfie_segmentation.SelfieSegmentation(model_selection=0)
        self.face_short = sol.face_detection.FaceDetection(
            model_selection=0, min_detection_confidence=FACE_SHORT_CONFIDENCE)
        self.face_full = sol.face_detection.FaceDetection(
            model_selection=1, min_detection_confidence=FACE_FULL_CONFIDENCE)
        self.face_tiles = sol.face_detection.FaceDetection(
            model_selection=1, min_detection_confidence=TILE_FACE_CONFIDENCE)
        # model_complexity 0 and 2 would download their weights; 1 ships in the wheel.
        self.pose = sol.pose.Pose(static_image_mode=True, model_complexity=1, enable_segmentation=True,
                                  min_detection_confidence=0.5)
        self.mesh = sol.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=6,
                                           min_detection_confidence=0.5)
        from mediapipe.python.solutions.face_mesh_connections import FACEMESH_FACE_OVAL

        self.oval = _oval_order(FACEMESH_FACE_OVAL)
        # First inference of each graph logs TFLite set-up notes; get them over with here.
        dummy = np.full((96, 96, 3), 128, np.uint8)
        for graph in (self.segmenter, self.face_short, self.face_full, self.face_tiles, self.pose,
                      self.mesh):
            graph.process(dummy)


    def quietly(self, name: str, u8: np.ndarray):
        """Run a landmark graph; its first real detection logs a one-off C++ warning, hide it."""
        graph = getattr(self, name)
        if name in self._spoken:
            return graph.process(u8)
        with _quiet_stderr():
            result = graph.process(u8)
        if getattr(result, "pose_landmarks", None) is not None or getattr(result, "multi_face_landmarks", None):
            self._spoken.add(name)
        return result


@contextlib.contextmanager
def _quiet_stderr():
    """Silence file descriptor 2 (mediapipe's C++ logging ignores Python's) while models load."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (e.g. a GUI without a console)
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


_MODELS: _Models | None = None
_LOCK = threading.Lock()


def _models() -> _Models:
    global _MODELS
    if _MODELS is None:
        _MODELS = _Models()
    return _MODELS


def _oval_order(edges: frozenset) -> list[int]:
    """Walk the face-oval edge set into an ordered polygon of landmark indices."""
    nxt = dict(edges)
    start = next(iter(nxt))
    order = [start]
    while nxt.get(order[-1]) not in (None, start) and len(order) <= len(nxt):
        order.append(nxt[order[-1]])
    return order


def detect_people(rgb: np.ndarray) -> PeopleResult:
    """Person and skin probabilities at the size of ``rgb`` (float32 (h, w, 3) sRGB [0, 1])."""
    u8 = np.ascontiguousarray((np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8))
    h, w = u8.shape[:2]
    with _LOCK:
        models = _models()
        segment = models.segmenter.process(u8).segmentation_mask
        segment = np.zeros((h, w), np.float32) if segment is None else segment.astype(np.float32)
        someone = float((segment > 0.5).mean()) >= MIN_SEGMENT_FRACTION
        # The segmenter sees a figure of some size: search its faces on quadrants. Where it
        # sees no large subject, anyone in the photo may be small: search the tiles' blobs.
        largest = _largest_blob(segment)
        faces = _confirmed(_detect_faces(models, u8, tiles=someone and largest >= SMALL_MAX), segment)
        frame_segment = segment
        if not faces and largest < LARGE_SUBJECT and min(h, w) >= 2 * SMALL_MIN_SIDE:
            faces, tiled = _small_faces(models, u8, rgb)
            if faces:
                frame_segment = segment = np.maximum(segment, tiled)
        if faces:
            segment = _segment_per_person(models, u8, frame_segment, faces)
            more = _faces_in_leftover(models, u8, frame_segment, segment, faces)
            if more:
                faces = faces + more
                segment = _segment_per_person(models, u8, frame_segment, faces)
        # The pose model (the slowest, ~20-30 ms) vouches for a person the segmenter sees but
        # whose face is not visible (a back, a profile far away), and outlines the person of a
        # portrait where the selfie segmenter misses a limb, a hem or the hair, or takes in a held
        # object. Only for a figure of some size (at its 256 px input a smaller one is too small
        # for BlazePose) and one person (it follows one; with two it gained kodim12 0.003 IoU
        # for ~20 ms).
        companions = _companions(models, u8, segment, faces) if faces else None
        run_pose = someone and largest >= SMALL_MAX and len(faces) <= POSE_MAX_FACES
        pose = models.quietly("pose", u8) if run_pose else None
        ovals = _face_ovals(models, u8) if faces else []
    pose_points = []
    pose_mask = None
    if pose is not None and pose.pose_landmarks is not None:
        marks = pose.pose_landmarks.landmark
        pose_points = [(lm.x, lm.y) for lm in marks
                       if lm.visibility >= POSE_VISIBILITY and 0 <= lm.x <= 1 and 0 <= lm.y <= 1]
        # With faces found, the pose must be one of theirs (its nose in a face box): a pose on a
        # statue or a mannequin next to a person is not vouched for by that person's face.
        own = not faces or any(_near_face(marks[0].x, marks[0].y, f) for f in faces)
        if len(pose_points) >= 4 and pose.segmentation_mask is not None and own:
            pose_mask = pose.segmentation_mask.astype(np.float32)
        else:
            pose_points = []
    pose_found = pose_mask is not None
    if not faces and not pose_found:
        zeros = np.zeros((h, w), np.float32)
        return PeopleResult(zeros, zeros.copy(), [], False)

    person = _trusted_segments(segment, faces, pose_points, (h, w))
    if companions is not None:
        person = np.maximum(person, companions)
    if pose_mask is not None:
        if faces:
            person = _without_held_objects(person, pose_mask, faces)
        person = np.maximum(person, pose_mask)
    face_mask = _face_mask(faces, ovals, (h, w))
    person = np.maximum(person, face_mask)
    skin = _skin(rgb, person, face_mask, faces)
    return PeopleResult(person.astype(np.float32), np.minimum(skin, person).astype(np.float32),
                        faces, pose_found)


def _companions(models: _Models, u8: np.ndarray, segment: np.ndarray, faces: list[Face]) -> np.ndarray:
    """People beside a confirmed small person whose own face the detectors cannot confirm.

    Why: crew on a deck, a group on a shore stand together at one scale, and most of them show
    the camera a back, a profile or a hood; the face search vouches for one of them at best, and
    the frame-level segmenter (a 256 px input) does not see people a few dozen pixels tall. On a
    crop of one body's size the segmenter outlines them well. So beside each confirmed face of
    at most `COMPANION_FACE` of the long side, the segmenter runs along the band its body
    occupies (`_companion_strip`); what it sees there beyond the trusted people is a companion
    when it has a person's shape at that face's scale (`_companion_shaped`) and the segmenter
    sees it again on a crop centred on it, whose outline is the one kept (no window border cuts
    it there). Nothing runs without such a face, so a photo without people gets no new person
    (~2 ms a window, 4 windows a face, one more per candidate).
    """
    h, w = segment.shape
    out = np.zeros((h, w), np.float32)
    small = [f for f in faces if _face_px(f, h, w) <= COMPANION_FACE * max(h, w)]
    if not small:
        return out
    explained = cv2.dilate((_trusted_segments(segment, faces, [], (h, w)) > 0.5).astype(np.uint8),
                           np.ones((5, 5), np.uint8)) > 0
    for face in sorted(small, key=lambda f: -f.score)[:COMPANION_FACES]:
        found = _companion_strip(models, u8, face)
        if found is None:
            continue
        strip, (sx0, y0, sx1, y1) = found
        seen = ((strip > 0.5) & ~explained[y0:y1, sx0:sx1]).astype(np.uint8)
        n, lab, stats, _ = cv2.connectedComponentsWithStats(seen, connectivity=8)
        for i in range(1, n):
            if not _companion_shaped(stats[i], (sx0, y0, sx1, y1), (h, w), face):
                continue
            ys, xs = np.nonzero(lab == i)
            ys, xs = ys + y0, xs + sx0
            if float((out[ys, xs] > 0.5).mean()) >= 0.5:  # found beside another face already
                continue
            again = _segment_centred(models, u8, ys, xs)
            if again is None or float((again[ys, xs] > 0.5).mean()) < COMPANION_AGAIN:
                continue
            # The centred crop's segments that overlap the candidate are the companion.
            body = np.zeros((h, w), np.uint8)
            body[ys, xs] = 1
            _, parts = cv2.connectedComponents((again > 0.5).astype(np.uint8), connectivity=8)
            ids = np.unique(parts[ys, xs])
            body |= np.isin(parts, ids[ids > 0]).astype(np.uint8)
            keep = cv2.dilate(body, np.ones((5, 5), np.uint8)) > 0
            np.maximum(again[y0:y1, sx0:sx1], strip, out=again[y0:y1, sx0:sx1])
            out[keep] = np.maximum(out[keep], again[keep])
    return out


def _companion_strip(models: _Models, u8: np.ndarray, face: Face
                     ) -> tuple[np.ndarray, tuple[int, int, int, int]] | None:
    """The segmenter's verdict on the band beside ``face`` and the band's box (x0, y0, x1, y1).

    Windows of the face's body width (8 face sizes) step sideways by `COMPANION_STEP` face
    sizes, `COMPANION_REACH` to each side (the face's own body is skipped: the crops of
    `_segment_per_person` cover it). Each pixel takes the most confident window, a window's say
    fading at a border that cuts (`_crop_weight`): the segmenter drops a person a border cuts in
    half, so a mean would halve them. The band reaches above the face by more than a
    companion's top may, so a segment the band's top cuts (a sail, a mast) is not taken.
    """
    h, w = u8.shape[:2]
    size = _face_px(face, h, w)
    cx, top = (face.box[0] + face.box[2]) / 2 * w, face.box[1] * h
    y0 = int(max(0, top + (COMPANION_TOP[0] - 1.0) * size))
    y1 = int(min(h, face.box[3] * h + 8.0 * size))
    half = COMPANION_STEP * size
    sx0 = int(max(0, cx - (COMPANION_REACH + 1) * half))
    sx1 = int(min(w, cx + (COMPANION_REACH + 1) * half))
    if y1 - y0 < 8 or sx1 - sx0 < 8:
        return None
    strip = np.zeros((y1 - y0, sx1 - sx0), np.float32)
    for k in range(-COMPANION_REACH, COMPANION_REACH + 1):
        x0, x1 = int(max(sx0, cx + (k - 1) * half)), int(min(sx1, cx + (k + 1) * half))
        if k == 0 or x1 - x0 < half:
            continue
        mask = models.segmenter.process(np.ascontiguousarray(u8[y0:y1, x0:x1])).segmentation_mask
        if mask is None:
            continue
        part = strip[:, x0 - sx0:x1 - sx0]
        np.maximum(part, _crop_weight((x0, y0, x1, y1), h, w) * mask.astype(np.float32), out=part)
    return strip, (sx0, y0, sx1, y1)


def _companion_shaped(stats: np.ndarray, band: tuple[int, int, int, int], shape: tuple[int, int],
                      face: Face) -> bool:
    """A segment (connected-component ``stats`` in ``band``'s coordinates) has a person's shape
    at ``face``'s scale: `COMPANION_HEIGHT` tall, `COMPANION_WIDTH` wide, taller than wide
    (hulls, rails and bows are wide), its top within `COMPANION_TOP` of the face's, and not cut
    by the band's ends or top (a window next along would have seen it whole)."""
    h, w = shape
    sx0, y0, sx1, _ = band
    bx, by, bw, bh = (int(v) for v in stats[:4])
    size = _face_px(face, h, w)
    cut = (bx == 0 and sx0 > 0) or (bx + bw == sx1 - sx0 and sx1 < w) or (by == 0 and y0 > 0)
    return (not cut and COMPANION_HEIGHT[0] * size <= bh <= COMPANION_HEIGHT[1] * size
            and COMPANION_WIDTH[0] * size <= bw <= COMPANION_WIDTH[1] * size
            and bh >= COMPANION_UPRIGHT * bw
            and COMPANION_TOP[0] * size <= y0 + by - face.box[1] * h <= COMPANION_TOP[1] * size)


def _segment_centred(models: _Models, u8: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray | None:
    """The segmenter on a square crop centred on the pixels (``ys``, ``xs``), 1.6 times their
    extent, placed in an (h, w) map (zero outside the crop); None for a crop too small.

    Why: a person holds up when seen centred at another scale; a painted bow or a coiled sail
    that one window took for a person mostly does not.
    """
    h, w = u8.shape[:2]
    side = int(1.6 * max(xs.max() - xs.min() + 1, ys.max() - ys.min() + 1))
    x0 = int(max(0, min(w - side, (xs.min() + xs.max() - side) / 2)))
    y0 = int(max(0, min(h - side, (ys.min() + ys.max() - side) / 2)))
    crop = np.ascontiguousarray(u8[y0:y0 + side, x0:x0 + side])
    if min(crop.shape[:2]) < 8:
        return None
    mask = models.segmenter.process(crop).segmentation_mask
    if mask is None:
        return None
    out = np.zeros((h, w), np.float32)
    out[y0:y0 + crop.shape[0], x0:x0 + crop.shape[1]] = mask
    return out


def _face_px(face: Face, h: int, w: int) -> float:
    """A face's size in pixels (the longer side of its box)."""
    return max((face.box[2] - face.box[0]) * w, (face.box[3] - face.box[1]) * h)


def _without_held_objects(person: np.ndarray, pose_mask: np.ndarray, faces: list[Face]) -> np.ndarray:
    """``person`` without the parts the pose model firmly calls background, away from the head.

    Why: the selfie segmenter is a foreground model, so a helmet or a bag held against the body
    is person to it; BlazePose segments in a crop aligned to the skeleton and leaves it out.
    Near the head the pose mask is the one that errs (it drops hair), so a disputed blob is
    dropped only when most of it lies over `HELD_OBJECT_FACES` face sizes from every face
    centre (whole blobs, so no straight cut runs through an object).
    """
    h, w = person.shape
    dispute = ((person > 0.5) & (pose_mask < 0.1)).astype(np.uint8)
    n, labels = cv2.connectedComponents(dispute, connectivity=8)
    if n <= 1:
        return person
    near = np.zeros((h, w), np.uint8)
    for face in faces:
        x0, y0, x1, y1 = _pixel_box(face.box, h, w)
        radius = int(round(HELD_OBJECT_FACES * max(x1 - x0, y1 - y0)))
        cv2.circle(near, ((x0 + x1) // 2, (y0 + y1) // 2), radius, 1, -1)
    total = np.bincount(labels.ravel(), minlength=n)
    close = np.bincount(labels[near > 0], minlength=n)
    held = (close < 0.5 * total)
    held[0] = False
    drop = held[labels]
    return np.where(drop, np.minimum(person, pose_mask), person).astype(np.float32)


def _near_face(x: float, y: float, face: Face, grow: float = 0.5) -> bool:
    """(x, y) (frame fractions) lies in ``face``'s box grown by ``grow`` of its size each side."""
    x0, y0, x1, y1 = face.box
    gx, gy = grow * (x1 - x0), grow * (y1 - y0)
    return x0 - gx <= x <= x1 + gx and y0 - gy <= y <= y1 + gy


def _largest_blob(segment: np.ndarray) -> float:
    """Area of the largest connected blob of ``segment > 0.5``, as a fraction of the frame."""
    n, _, stats, _ = cv2.connectedComponentsWithStats((segment > 0.5).astype(np.uint8), connectivity=8)
    return float(stats[1:, cv2.CC_STAT_AREA].max()) / segment.size if n > 1 else 0.0


def _tiled_segments(models: _Models, u8: np.ndarray, n: int = SMALL_TILES) -> list[np.ndarray]:
    """The selfie segmenter on a grid of tiles about 1/``n`` of the long side each, and on the
    same grid shifted by half a tile (the inner tiles only): one (h, w) map per grid.

    Why: at frame scale (a 256 px input) a person a few dozen pixels tall is a smudge the
    segmenter ignores; on a tile it is three times larger and outlined well. A person cut by a
    tile border is half a person to each tile; in the shifted grid they are whole. The grids are
    kept apart because their union can merge a person with a neighbouring blob into something
    larger than a small person. Not a person detector on its own (it also outlines hats,
    parrots, binoculars): only a map of where a face search is worth its cost.
    """
    h, w = u8.shape[:2]
    size = max(h, w) / n
    # Never an empty tile (mediapipe aborts the process on a 0-pixel input).
    ys = np.linspace(0, h, min(h, max(1, round(h / size))) + 1).astype(int)
    xs = np.linspace(0, w, min(w, max(1, round(w / size))) + 1).astype(int)
    grids = [(ys, xs)]
    if len(ys) > 2 or len(xs) > 2:
        shift = lambda e: (e[:-1] + e[1:]) // 2 if len(e) > 2 else e  # noqa: E731
        grids.append((shift(ys), shift(xs)))
    maps = []
    for gy, gx in grids:
        out = np.zeros((h, w), np.float32)
        for y0, y1 in zip(gy[:-1], gy[1:]):
            for x0, x1 in zip(gx[:-1], gx[1:]):
                if y1 - y0 < 2 or x1 - x0 < 2:
                    continue
                mask = models.segmenter.process(np.ascontiguousarray(u8[y0:y1, x0:x1])).segmentation_mask
                if mask is not None:
                    out[y0:y1, x0:x1] = mask
        maps.append(out)
    return maps


def _person_sized_blobs(maps: list[np.ndarray]) -> list[np.ndarray]:
    """Boxes (x, y, w, h, area) of person-sized blobs in any of ``maps``, largest first, each
    physical blob once (a box overlapping an earlier one by half is the same blob)."""
    h, w = maps[0].shape
    blobs = []
    for tiled in maps:
        _, _, stats, _ = cv2.connectedComponentsWithStats((tiled > 0.5).astype(np.uint8), connectivity=8)
        blobs += [s for s in stats[1:] if SMALL_MIN * h * w <= s[4] <= SMALL_MAX * h * w
                  and min(s[2], s[3]) >= SMALL_MIN_SIDE]
    blobs.sort(key=lambda s: -s[4])
    kept: list[np.ndarray] = []
    as_box = lambda s: (s[0], s[1], s[0] + s[2], s[1] + s[3])  # noqa: E731
    for s in blobs:
        if all(_iou(as_box(s), as_box(k)) < 0.5 for k in kept):
            kept.append(s)
    return kept


def _chroma_distance2(ab: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """Squared Mahalanobis distance of each (..., 2) a*b* chroma from a 2-D Gaussian's mean."""
    diff = ab - np.asarray(mean, np.float32)
    # Closed-form 2x2 inverse: np.linalg.inv costs ~1 ms a call here, and this runs per blob.
    (c00, c01), (_, c11) = np.asarray(cov, np.float64)
    det = c00 * c11 - c01 * c01
    i00, i01, i11 = c11 / det, -c01 / det, c00 / det
    return (diff[..., 0] ** 2 * i00 + 2 * diff[..., 0] * diff[..., 1] * i01 + diff[..., 1] ** 2 * i11)


def _skin_prior(rgb: np.ndarray) -> np.ndarray:
    """(h, w) bool: chroma within the generic skin range (any skin tone, most light).

    Blood makes skin of every tone redder than neutral (a* > 0) and never grey, so greys and
    near-greys (metal, concrete, sailcloth) are out whatever the covariance would allow.
    """
    lab = cv2.cvtColor(np.clip(rgb, 0, 1).astype(np.float32), cv2.COLOR_RGB2Lab)
    d2 = _chroma_distance2(lab[..., 1:3], SKIN_PRIOR_MEAN, SKIN_PRIOR_COV)
    a, b = lab[..., 1], lab[..., 2]
    return (d2 < 9.0) & (lab[..., 0] > 15) & (a >= SKIN_MIN_A) & (a * a + b * b >= SKIN_MIN_CHROMA ** 2)


def _small_faces(models: _Models, u8: np.ndarray, rgb: np.ndarray) -> tuple[list[Face], np.ndarray]:
    """Faces of people too small for the frame-level detectors, and the tiled person map.

    Blobs of person size in `_tiled_segments` whose top shows some skin chroma are searched
    with both face detectors on a crop around that top (where a head would be), the largest
    `SMALL_CANDIDATES` blobs first. At this scale either detector alone finds faces in gravel,
    foliage and machinery, so a face counts only when its box has skin chroma, both detectors
    find it again on a crop centred on it (`_face_again`), and a person segment covers it
    (`_on_own_segment`).
    """
    h, w = u8.shape[:2]
    maps = _tiled_segments(models, u8)
    tiled = np.maximum.reduce(maps)
    blobs = _person_sized_blobs(maps)
    found: list[Face] = []
    searched = 0
    for x, y, bw, bh, _ in blobs:
        if searched == SMALL_CANDIDATES:
            break
        # A visible face shows skin: a blob with none at its top (a hat, a parrot, a lamp) is
        # not worth a detector run.
        head = rgb[y:y + max(4, min(bw, bh)), x:x + bw]
        if float(_skin_prior(head).mean()) < SMALL_HEAD_SKIN:
            continue
        searched += 1
        side = int(max(48, 1.2 * max(bw, bh)))
        cx, cy = x + bw / 2, y + min(bw, bh) / 2
        x0, y0 = int(max(0, min(w - side, cx - side / 2))), int(max(0, min(h - side, cy - side / 2)))
        crop = np.ascontiguousarray(u8[y0:y0 + side, x0:x0 + side])
        # Full range for faces small in the crop, short range for a face filling it (a close-up
        # shrunk into a landscape), each at the floor of its own second look.
        hits = [f for f in _faces_in(models.face_full, crop, x0, y0, (h, w)) if f.score >= SMALL_FULL_CONFIDENCE]
        hits += [f for f in _faces_in(models.face_short, crop, x0, y0, (h, w))
                 if f.score >= SMALL_SHORT_CONFIDENCE]
        for face in _suppress(hits):
            if any(_iou(face.box, g.box) >= 0.3 for g in found):
                continue
            fx0, fy0, fx1, fy1 = _pixel_box(face.box, h, w)
            if (float(_skin_prior(rgb[fy0:fy1, fx0:fx1]).mean()) >= SMALL_SKIN
                    and _face_again(models, u8, face) and _on_own_segment(models, u8, tiled, face)):
                found.append(face)
    return _suppress(found), tiled


def _on_own_segment(models: _Models, u8: np.ndarray, tiled: np.ndarray, face: Face) -> bool:
    """The tiled segmenter, or failing that the segmenter on the face's body crop, covers it.

    A face of ~10 px can fall between the tiled mask's blobs; the crop that `_segment_per_person`
    will use for this person sees it at several times the scale.
    """
    if _confirmed([face], tiled):
        return True
    h, w = tiled.shape
    x0, y0, x1, y1 = _body_box(face, h, w)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return False
    mask = models.segmenter.process(np.ascontiguousarray(u8[y0:y1, x0:x1])).segmentation_mask
    if mask is None:
        return False
    local = np.zeros((h, w), np.float32)
    local[y0:y1, x0:x1] = mask
    return bool(_confirmed([face], local))


def _face_again(models: _Models, u8: np.ndarray, face: Face) -> bool:
    """A second look at ``face`` on crops centred on it, `SMALL_VERIFY_CROPS` times its size:
    both detectors find it on one crop, or one detector finds it on every crop.

    Why both ways: the short-range model confirms faces of ~20 px and more, but not a blurred
    face of 5 px blown up to its input; the full-range one the reverse (so the short-range
    model alone counts only from `SMALL_SHORT_ALONE` px). A hallucination (a face
    in gravel or machinery) survives neither: it does not hold up for both models at one
    scale, nor for one model at three scales.
    """
    h, w = u8.shape[:2]
    fx0, fy0, fx1, fy1 = _pixel_box(face.box, h, w)
    size = max(fx1 - fx0, fy1 - fy0)
    detectors = ((models.face_short, SMALL_SHORT_CONFIDENCE), (models.face_full, SMALL_FULL_CONFIDENCE))
    # The short-range model alone vouches only for a face within its design range: it sees
    # faces in blurred blobs of a few pixels blown up to its input (a rider's shoulder, 8 px).
    every = [size >= SMALL_SHORT_ALONE, True]
    for mult in SMALL_VERIFY_CROPS:
        side = max(8, int(mult * size))
        x0 = int(max(0, min(w - side, (fx0 + fx1 - side) / 2)))
        y0 = int(max(0, min(h - side, (fy0 + fy1 - side) / 2)))
        crop = np.ascontiguousarray(u8[y0:y0 + side, x0:x0 + side])
        seen = [any(f.score >= floor and _iou(f.box, face.box) >= 0.2
                    for f in _faces_in(detector, crop, x0, y0, (h, w))) for detector, floor in detectors]
        if all(seen):
            return True
        every = [e and s for e, s in zip(every, seen)]
    return any(every)


def _pixel_box(box: tuple, h: int, w: int) -> tuple[int, int, int, int]:
    x0, y0 = int(box[0] * w), int(box[1] * h)
    return x0, y0, max(x0 + 1, int(np.ceil(box[2] * w))), max(y0 + 1, int(np.ceil(box[3] * h)))


def _detect_faces(models: _Models, u8: np.ndarray, tiles: bool) -> list[Face]:
    found: list[Face] = []
    for detector in (models.face_short, models.face_full):
        found += _faces_in(detector, u8, 0, 0, u8.shape[:2])
    if not found and tiles:
        # Small faces (group shots, figures in a landscape): the full-range model sees a 192 px
        # input, so run it again on four overlapping quarters, each enlarged by the model itself.
        h, w = u8.shape[:2]
        th, tw = int(h * 0.6), int(w * 0.6)
        for y0 in (0, h - th):
            for x0 in (0, w - tw):
                crop = np.ascontiguousarray(u8[y0:y0 + th, x0:x0 + tw])
                found += _faces_in(models.face_tiles, crop, x0, y0, (h, w))
    return _suppress(found)


def _faces_in_leftover(models: _Models, u8: np.ndarray, frame_segment: np.ndarray,
                       segment: np.ndarray, faces: list[Face]) -> list[Face]:
    """Small faces in the part of the frame-level person mask no confirmed person explains.

    In a group shot the frame-level detectors find only the largest, frontal faces; the others
    are a few pixels tall at the detectors' input size. Where the segmenter still sees a person
    but no found face accounts for it, tiles of `LEFTOVER_TILE` of the long side (so a face of
    ~12 px fills the short-range model's input well) are searched again; only tiles that overlap
    the unexplained mask are run, so portraits and single subjects cost nothing extra.
    """
    h, w = segment.shape
    explained = cv2.dilate((segment > 0.5).astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    leftover = (frame_segment > 0.5) & ~explained
    if leftover.mean() < LEFTOVER_MIN:
        return []
    size = max(32, int(LEFTOVER_TILE * max(h, w)))
    step = size // 2
    found: list[Face] = []
    integral = cv2.integral(leftover.astype(np.uint8))
    for y0 in range(0, max(1, h - step), step):
        for x0 in range(0, max(1, w - step), step):
            y1, x1 = min(h, y0 + size), min(w, x0 + size)
            count = integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0]
            if count < LEFTOVER_TILE_MIN * (y1 - y0) * (x1 - x0):
                continue
            found += _faces_in(models.face_short, np.ascontiguousarray(u8[y0:y1, x0:x1]), x0, y0, (h, w))
    new = [f for f in _confirmed(_suppress(found), frame_segment)
           if all(_iou(f.box, g.box) < 0.3 for g in faces)]
    return new


def _segment_per_person(models: _Models, u8: np.ndarray, segment: np.ndarray,
                        faces: list[Face]) -> np.ndarray:
    """The selfie segmenter re-run on each confirmed person's body box (up to `MAX_CROPS`).

    Why: at frame scale the segmenter (a 256 px input) merges small people with what they sit on
    or hold (a raft, a bench, a sofa); on a crop centred on one person it separates the person
    from such objects far better. Inside the crops their verdict replaces the frame-level one
    (a weighted mean over overlapping crops, the frame-level verdict among them at
    `FRAME_VOTE`: one crop that merges a person with the raft below is outvoted by its
    neighbours, and a crop has no say where its own border cuts a neighbour in half, see
    `_crop_weight`); outside, the frame-level mask stays. A crop that is nearly the whole
    frame (a portrait) is not re-run.
    """
    h, w = segment.shape
    out = segment.copy()
    votes = np.zeros((h, w), np.float32)
    crops = np.zeros((h, w), np.float32)
    for face in sorted(faces, key=lambda f: -f.score)[:MAX_CROPS]:
        x0, y0, x1, y1 = _body_box(face, h, w)
        if (x1 - x0) * (y1 - y0) >= CROP_WHOLE_FRAME * h * w or x1 - x0 < 8 or y1 - y0 < 8:
            continue
        mask = models.segmenter.process(np.ascontiguousarray(u8[y0:y1, x0:x1])).segmentation_mask
        if mask is None:
            continue
        weight = _crop_weight((x0, y0, x1, y1), h, w)
        crops[y0:y1, x0:x1] += weight * mask.astype(np.float32)
        votes[y0:y1, x0:x1] += weight
    inside = votes > 0
    out[inside] = (crops[inside] + FRAME_VOTE * segment[inside]) / (votes[inside] + FRAME_VOTE)
    return out


def _crop_weight(box: tuple[int, int, int, int], h: int, w: int) -> np.ndarray:
    """A crop's say over its pixels: none at a border that cuts the frame, full from
    `CROP_RAMP` of its size inwards (a border on the frame's own edge cuts nobody).

    Why: a person cut by a crop's border is half a person to the segmenter, which often drops
    them; their own crop, centred on them, sees them whole.
    """
    x0, y0, x1, y1 = box
    xs = np.arange(x1 - x0, dtype=np.float32) + 0.5
    ys = np.arange(y1 - y0, dtype=np.float32) + 0.5
    far_x, far_y = np.full_like(xs, 1e9), np.full_like(ys, 1e9)
    dx = np.minimum(xs if x0 > 0 else far_x, (x1 - x0) - xs if x1 < w else far_x)
    dy = np.minimum(ys if y0 > 0 else far_y, (y1 - y0) - ys if y1 < h else far_y)
    wx = np.clip(dx / (CROP_RAMP * (x1 - x0)), 0.0, 1.0)
    wy = np.clip(dy / (CROP_RAMP * (y1 - y0)), 0.0, 1.0)
    return (wy[:, None] * wx[None, :] + 1e-3).astype(np.float32)


def _confirmed(faces: list[Face], segment: np.ndarray, cover: float = FACE_SEGMENT_COVER) -> list[Face]:
    """Faces the person segmenter agrees with (drops faces seen in parrots, lamps, statues' tops)."""
    h, w = segment.shape
    kept = []
    for face in faces:
        x0, y0 = int(face.box[0] * w), int(face.box[1] * h)
        x1, y1 = max(x0 + 1, int(np.ceil(face.box[2] * w))), max(y0 + 1, int(np.ceil(face.box[3] * h)))
        if float((segment[y0:y1, x0:x1] > 0.5).mean()) >= cover:
            kept.append(face)
    return kept


def _faces_in(detector, image: np.ndarray, x0: int, y0: int, full: tuple[int, int]) -> list[Face]:
    """Faces found in ``image`` (a crop at x0, y0 of a frame of size ``full``), frame fractions."""
    result = detector.process(image)
    ih, iw = image.shape[:2]
    fh, fw = full
    faces = []
    for det in result.detections or []:
        box = det.location_data.relative_bounding_box
        bx0 = (x0 + max(0.0, box.xmin) * iw) / fw
        by0 = (y0 + max(0.0, box.ymin) * ih) / fh
        bx1 = (x0 + min(1.0, box.xmin + box.width) * iw) / fw
        by1 = (y0 + min(1.0, box.ymin + box.height) * ih) / fh
        if bx1 > bx0 and by1 > by0:
            faces.append(Face((bx0, by0, bx1, by1), float(det.score[0])))
    return faces


def _suppress(faces: list[Face], overlap: float = 0.3) -> list[Face]:
    """Non-maximum suppression: one Face per physical face."""
    kept: list[Face] = []
    for face in sorted(faces, key=lambda f: -f.score):
        if all(_iou(face.box, k.box) < overlap for k in kept):
            kept.append(face)
    return kept


def _iou(a: tuple, b: tuple) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _body_box(face: Face, h: int, w: int, down: float = 8.0) -> tuple[int, int, int, int]:
    """Pixels a body attached to this face can plausibly occupy (head heights: ~8 tall)."""
    x0, y0, x1, y1 = face.box
    cx = (x0 + x1) / 2 * w
    size = _face_px(face, h, w)
    return (int(max(0, cx - 4.0 * size)), int(max(0, y0 * h - 1.2 * size)),
            int(min(w, cx + 4.0 * size)), int(min(h, y1 * h + down * size)))


def _trusted_segments(segment: np.ndarray, faces: list[Face], points: list[tuple[float, float]],
                      shape: tuple[int, int]) -> np.ndarray:
    """Selfie-segmenter output kept only where a face or a pose vouches for a person."""
    h, w = shape
    binary = (segment > 0.5).astype(np.uint8)
    n, lab = cv2.connectedComponents(binary, connectivity=8)
    keep = np.zeros(n, bool)
    for face in faces:
        x0, y0, x1, y1 = (int(face.box[0] * w), int(face.box[1] * h),
                          int(np.ceil(face.box[2] * w)), int(np.ceil(face.box[3] * h)))
        ids = lab[y0:max(y1, y0 + 1), x0:max(x1, x0 + 1)].ravel()
        if ids.size:
            counts = np.bincount(ids, minlength=n)
            counts[0] = 0
            keep[counts >= 0.2 * ids.size] = True
    allowed = np.zeros((h, w), bool)
    for face in faces:
        bx0, by0, bx1, by1 = _body_box(face, h, w, TRUST_DOWN)
        allowed[by0:by1, bx0:bx1] = True
    if points:
        pts = np.array(points) * [w, h]
        for x, y in pts.astype(int):
            keep[lab[min(y, h - 1), min(x, w - 1)]] = True
        span = pts.max(0) - pts.min(0)
        margin = 0.25 * span + 0.05 * max(h, w)
        lo = np.maximum(pts.min(0) - margin, 0).astype(int)
        hi = np.minimum(pts.max(0) + margin, [w, h]).astype(int)
        allowed[lo[1]:hi[1], lo[0]:hi[0]] = True
    keep[0] = False
    trusted = keep[lab] & allowed
    # Keep the segmenter's soft edges: dilate the trust region a little before gating.
    trusted = cv2.dilate(trusted.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    return np.where(trusted, segment, 0.0).astype(np.float32)


def _face_ovals(models: _Models, u8: np.ndarray) -> list[np.ndarray]:
    result = models.quietly("mesh", u8)
    h, w = u8.shape[:2]
    ovals = []
    for face in result.multi_face_landmarks or []:
        pts = np.array([(face.landmark[i].x * w, face.landmark[i].y * h) for i in models.oval])
        ovals.append(pts.astype(np.float32))
    return ovals


def _face_mask(faces: list[Face], ovals: list[np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    """Face skin: mesh ovals where the mesh found the face, else an ellipse in the detector box."""
    h, w = shape
    mask = np.zeros((h, w), np.uint8)
    covered = []
    for pts in ovals:
        cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 1)
        covered.append((pts[:, 0].min() / w, pts[:, 1].min() / h, pts[:, 0].max() / w, pts[:, 1].max() / h))
    for face in faces:
        if any(_iou(face.box, c) > 0.3 for c in covered):
            continue
        x0, y0, x1, y1 = face.box
        centre = (int((x0 + x1) / 2 * w), int((y0 + y1) / 2 * h))
        axes = (max(1, int((x1 - x0) / 2 * w * 0.95)), max(1, int((y1 - y0) / 2 * h * 1.1)))
        cv2.ellipse(mask, centre, axes, 0, 0, 360, 1, -1)
    return mask.astype(np.float32)


def _skin(rgb: np.ndarray, person: np.ndarray, face_mask: np.ndarray, faces: list[Face]) -> np.ndarray:
    """Skin probability: faces, plus person pixels whose chroma matches the faces' skin and whose
    texture is no rougher than it (`_smoothness`: blond or brown hair can share the face's colour,
    never its smoothness).

    Computed inside the bounding box of the person and the faces only (skin is nowhere else).
    """
    out = face_mask.astype(np.float32)
    ys, xs = np.nonzero((person > 0) | (face_mask > 0))
    if ys.size == 0:
        return out
    pad = 3  # the 5x5 erosion below sees the same neighbours as on the whole frame
    box = (slice(max(0, ys.min() - pad), ys.max() + 1 + pad), slice(max(0, xs.min() - pad), xs.max() + 1 + pad))
    rgb, person, face_mask = rgb[box], person[box], face_mask[box]
    lab = cv2.cvtColor(np.clip(rgb, 0, 1).astype(np.float32), cv2.COLOR_RGB2Lab)
    ab = lab[..., 1:3]
    light = lab[..., 0]
    inner = cv2.erode(face_mask.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    # Skin samples: inside faces, leaving out eyes, brows and teeth by lightness.
    if inner.any():
        lo, hi = np.percentile(light[inner], [15, 92])
        sample = inner & (light >= lo) & (light <= hi)
    else:
        sample = inner
    smooth = np.ones_like(light)
    if sample.sum() >= 30:
        mean = ab[sample].mean(0)
        if float(np.hypot(*mean)) < SKIN_MIN_CHROMA:
            # Grey faces (a monochrome or toned original): colour cannot tell skin from cloth
            # there, and the neutral model would call every grey pixel of the person skin.
            out[box] = face_mask
            return out
        cov = np.cov(ab[sample].T) + np.eye(2) * 4.0
        l_mean, l_std = float(light[sample].mean()), float(light[sample].std()) + 8.0
        zone, crown = _head_zone(face_mask)
        smooth = _smoothness(light, sample, zone)
        smooth[crown] = 0.0
    else:  # no face: a generic skin-chroma prior (warm hues of moderate chroma)
        mean, cov = SKIN_PRIOR_MEAN, SKIN_PRIOR_COV
        l_mean, l_std = 60.0, 25.0
    # within a few sigma of the face chroma
    colour_like = np.exp(-0.5 * _chroma_distance2(ab, mean, cov) / SKIN_SIGMAS ** 2)
    light_like = np.exp(-0.5 * ((light - l_mean) / (2.0 * l_std)) ** 2)
    body_skin = person * colour_like * light_like * smooth
    out[box] = np.maximum(face_mask, body_skin)
    return out


def _fine_texture(light: np.ndarray) -> np.ndarray:
    """Local fine-detail strength of L* (same shape): the absolute difference from a 1 px
    Gaussian blur, averaged over 2x2 pixels, then its median over `TEXTURE_WINDOW` such cells.

    Why a median: hair is strands everywhere in the window, so most of its cells differ from
    their blur; a lone edge (a limb against cloth, a jaw line) fills under half of them and
    leaves the median low, so smooth skin keeps its borders. At half size it costs a quarter.
    """
    h, w = light.shape
    detail = np.abs(light - cv2.GaussianBlur(light, (0, 0), 1.0))
    half = cv2.resize(detail, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)
    q = np.clip(half * TEXTURE_QUANT, 0, 255).astype(np.uint8)  # medianBlur takes uint8 for big windows
    median = cv2.medianBlur(q, TEXTURE_WINDOW).astype(np.float32) / TEXTURE_QUANT
    return cv2.resize(median, (w, h), interpolation=cv2.INTER_LINEAR)


def _head_zone(face_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(zone, crown), (h, w) bool each, from the face ovals in ``face_mask``.

    zone: around each face (an ellipse `HEAD_REACH` times the face's own, down to the mouth),
    where hair grows; skin there is a forehead, an ear, a neck or a raised hand, all smooth.
    crown: the part of the zone above the brows (`CROWN_RISE`) and over the head's own width
    (`CROWN_WIDTH`) outside the oval, where a head has hair, a hat or the backdrop, not skin
    (the mesh oval and the detector's ellipse reach the hairline already).
    """
    h, w = face_mask.shape
    n, _, stats, centres = cv2.connectedComponentsWithStats(face_mask.astype(np.uint8), connectivity=8)
    zone = np.zeros((h, w), bool)
    crown = np.zeros((h, w), bool)
    for i in range(1, n):
        a, b = stats[i, cv2.CC_STAT_WIDTH] / 2.0, stats[i, cv2.CC_STAT_HEIGHT] / 2.0
        cx, cy = centres[i]
        y0, y1 = int(max(0, cy - HEAD_REACH * b)), int(min(h, cy + 0.5 * b + 1))
        x0, x1 = int(max(0, cx - HEAD_REACH * a)), int(min(w, cx + HEAD_REACH * a + 1))
        if y1 <= y0 or x1 <= x0:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        inside = ((xx - cx) / a) ** 2 + ((yy - cy) / b) ** 2 <= HEAD_REACH ** 2
        zone[y0:y1, x0:x1] |= inside
        crown[y0:y1, x0:x1] |= inside & (yy < cy - CROWN_RISE * b) & (np.abs(xx - cx) <= CROWN_WIDTH * a)
    return zone, crown & (face_mask == 0)


def _smoothness(light: np.ndarray, sample: np.ndarray, head: np.ndarray) -> np.ndarray:
    """How far each pixel's fine texture allows it to be skin, in [0, 1] (1 outside ``head``).

    Skin is smooth at any scale a photo resolves, hair is a mesh of strands; how smooth depends
    on the photo (focus, grain, the people's size), so texture is measured against the face skin
    of the same photo (the median over ``sample``). Only around the faces (``head``), where hair
    grows next to skin of its colour: elsewhere a wet arm's highlights or a wrinkled neck are
    rougher than a face, and what lies there has already failed the colour test if it is cloth.
    """
    smooth = np.ones_like(light)
    if not head.any() or not sample.any():
        return smooth
    either = head | sample
    rows, cols = np.nonzero(either.any(axis=1))[0], np.nonzero(either.any(axis=0))[0]
    crop = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))  # only where it is used
    texture = _fine_texture(light[crop])
    limit = HAIR_TEXTURE * max(float(np.median(texture[sample[crop]][::4])), 0.1)  # 1 in 4: ample
    r2 = (texture / limit) ** 2
    r8 = (r2 * r2) ** 2
    # 0.96 at the face's median texture, 0.5 at the limit, 0.1 at 4/3 of it
    smooth[crop] = np.where(head[crop], 1.0 / (1.0 + r8), 1.0)
    return smooth
