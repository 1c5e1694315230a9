"""Find (colour original, B&W edit) pairs in a photographer's portfolio folder.

Three layouts are accepted (DESIGN.md "Portfolio layouts"), tried in this order, and whatever one
step leaves unmatched goes to the next:

1. ``PORTFOLIO/originals/NAME.*`` with ``PORTFOLIO/edits/NAME.*`` (same stem, any extension);
2. one folder with ``NAME.*`` and ``NAME_bw.*`` / ``NAME-bw.*`` / ``NAME_edit.*`` / ``NAME-Edit.*``
   (or the same stem with another extension, when exactly one of the two is black and white);
3. files matched by EXIF: ``ImageUniqueID``, or DateTimeOriginal + SubSecTimeOriginal + camera
   make / model / serial. Photographers rename exports, but the capture time survives.

Nothing here is fatal: a file that cannot be paired, read, or is not a usable edit is returned as a
`Skip` with a one-line reason, because one bad file in a folder of hundreds must not stop learning.
`prepare_pair` then loads a pair and checks what only pixels can tell: that the edit is black and
white, and that its framing is the original's (resized is fine, cropped is not).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import SilverprintError
from .metrics import luminance

RAW_SUFFIXES = frozenset({".dng", ".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".srf", ".sr2",
                          ".orf", ".rw2", ".raf", ".pef", ".srw", ".rwl", ".3fr", ".iiq", ".erf",
                          ".kdc", ".mrw", ".x3f", ".raw"})
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp"}) | RAW_SUFFIXES
#: Files a photo tool writes beside images; not images, not worth a line in the report.
SIDECAR_SUFFIXES = frozenset({".xmp", ".pp3", ".dop", ".on1", ".acr", ".json", ".txt", ".md",
                              ".db", ".ini", ".thm", ".lrcat", ".sqlite"})
#: Names of files still being written by a download or an export.
PARTIAL_SUFFIXES = frozenset({".part", ".crdownload", ".tmp", ".download", ".partial"})
EDIT_SUFFIX = re.compile(r"^(?P<stem>.+?)[_-](?:bw|edit)$", re.IGNORECASE)
#: Preview long side the fit works at: big enough for local adjustments, small enough to be fast.
PREVIEW_SIDE = 384
#: Largest colour deviation (99th percentile, [0, 1] units) from a single tone-dependent tint that
#: still counts as black and white. A toned print (sepia, split toning) has one tint per tone and
#: passes; a colour photo, even a muted one, does not.
MONO_TOLERANCE = 0.04
#: Aspect ratios differing by more than this fraction mean a different framing.
ASPECT_TOLERANCE = 0.02
#: Minimum correlation between the edge maps of original and edit at the same size.
FRAMING_MIN_CORRELATION = 0.4
#: Tighter framings of the original tried against the edit, and how much better one must match.
FRAMING_ZOOMS = (1.0, 1.03, 1.06, 1.1, 1.15, 1.25)
FRAMING_MARGIN = 0.05


@dataclass(frozen=True)
class Pair:
    """One original and the photographer's B&W edit of it."""

    name: str
    original: Path
    edit: Path
    matched_by: str  # "folders", "suffix", "name" or "exif"


@dataclass(frozen=True)
class Skip:
    """A file that takes no part in learning, and why."""

    path: Path
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"path": str(self.path), "reason": self.reason}


@dataclass
class Pairing:
    layout: str  # "originals/edits folders" or "one folder"
    pairs: list[Pair] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)


class PairSkipped(SilverprintError):
    """A pair that was found but cannot be learned from (not B&W, cropped, unreadable)."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")

    def skip(self) -> Skip:
        return Skip(self.path, self.reason)


# --------------------------------------------------------------------------- loading helpers


def load_rgb(path: Path) -> np.ndarray:
    """A file as float32 (H, W, 3) or (H, W) display sRGB through the one image loader."""
    from ..imageio import load_image

    return load_image(path).rgb


def shrink(image: np.ndarray, long_side: int) -> np.ndarray:
    """Area-average an image so that its long side is at most `long_side`."""
    import cv2

    h, w = image.shape[:2]
    scale = long_side / max(h, w)
    if scale >= 1:
        return image.astype(np.float32, copy=False)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(image.astype(np.float32, copy=False), size, interpolation=cv2.INTER_AREA)


def tint_residual(image: np.ndarray) -> float:
    """How far an image is from black and white (allowing one tint per tone, as toning does).

    The chroma of each pixel is compared with the mean chroma of pixels of the same tone; the 99th
    percentile of that deviation is 0 for grey or toned prints and large for colour photos.
    """
    if image.ndim == 2 or image.shape[2] == 1:
        return 0.0
    small = shrink(image, 256).reshape(-1, 3)
    y = small @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    chroma = small - y[:, None]
    bins = np.clip((y * 32).astype(np.int64), 0, 31)
    count = np.maximum(np.bincount(bins, minlength=32), 1)[:, None]
    mean = np.stack([np.bincount(bins, chroma[:, c], minlength=32) for c in range(3)], 1) / count
    deviation = np.abs(chroma - mean[bins]).max(axis=1)
    return float(np.percentile(deviation, 99))


def _edges(grey: np.ndarray) -> np.ndarray:
    import cv2

    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    mag = np.sqrt(gx * gx + gy * gy)
    return (mag - mag.mean()) / (mag.std() + 1e-6)


def framing_problem(original: np.ndarray, edit_grey: np.ndarray) -> str | None:
    """None when the edit shows the original's framing (at any size), else why it does not."""
    import cv2

    (oh, ow), (eh, ew) = original.shape[:2], edit_grey.shape[:2]
    ratio_o, ratio_e = ow / oh, ew / eh
    if abs(ratio_o / ratio_e - 1) > ASPECT_TOLERANCE:
        return (f"cropped — skipped (framing differs: original {ow}x{oh}, edit {ew}x{eh}; "
                "learning needs the full frame)")
    side = 160
    scale = side / max(eh, ew)
    size = (max(16, round(ew * scale)), max(16, round(eh * scale)))
    ref = _edges(cv2.resize(edit_grey.astype(np.float32), size, interpolation=cv2.INTER_AREA))
    lum = luminance(original)
    best_zoom, best_corr, identity = 1.0, -1.0, -1.0
    for zoom in FRAMING_ZOOMS:  # does a tighter framing of the original match the edit better?
        ch, cw = round(oh / zoom), round(ow / zoom)
        candidates = [(0.5, 0.5)] if zoom == 1.0 else [(0.5, 0.5), (0, 0), (1, 0), (0, 1), (1, 1)]
        for fy, fx in candidates:
            y0, x0 = round((oh - ch) * fy), round((ow - cw) * fx)
            view = _edges(cv2.resize(lum[y0:y0 + ch, x0:x0 + cw], size, interpolation=cv2.INTER_AREA))
            (dx, dy), _ = cv2.phaseCorrelate(view, ref)
            shift = np.float32([[1, 0, dx], [0, 1, dy]])
            moved = cv2.warpAffine(view, shift, size, borderMode=cv2.BORDER_REFLECT)
            corr = float(np.mean(moved * ref))
            if zoom == 1.0:
                identity = float(np.mean(view * ref))
            if corr > best_corr:
                best_zoom, best_corr = zoom, corr
    if identity < FRAMING_MIN_CORRELATION:
        return (f"cropped — skipped (the edit's framing or content differs from the original: "
                f"edge correlation {identity:.2f})")
    if best_zoom > 1.0 and best_corr > identity + FRAMING_MARGIN:
        return (f"cropped — skipped (the edit shows about {100 / best_zoom:.0f} % of the original's "
                "frame; learning needs the full frame)")
    return None


# --------------------------------------------------------------------------- EXIF


def exif_key(path: Path) -> str | None:
    """A capture identity from EXIF (ImageUniqueID, else time + sub-second + camera), or None."""
    import exifread

    try:
        with open(path, "rb") as handle:
            tags = exifread.process_file(handle, details=False)
    except Exception:  # exifread raises many kinds on odd files; no EXIF is not an error here
        return None

    def tag(*names: str) -> str:
        for name in names:
            if name in tags:
                value = str(tags[name]).strip().strip("\x00").strip()
                if value:
                    return value
        return ""

    unique = tag("EXIF ImageUniqueID", "Image ImageUniqueID")
    if unique and set(unique) != {"0"}:
        return f"id:{unique}"
    when = tag("EXIF DateTimeOriginal", "Image DateTimeOriginal")
    if not when:
        return None
    sub = tag("EXIF SubSecTimeOriginal", "Image SubSecTimeOriginal")
    camera = "|".join((tag("Image Make"), tag("Image Model"),
                       tag("EXIF BodySerialNumber", "MakerNote SerialNumber", "Image CameraSerialNumber")))
    return f"t:{when}.{sub}|{camera}"


# --------------------------------------------------------------------------- discovery


def _list(folder: Path, skipped: list[Skip]) -> list[Path]:
    """Image files of a folder (not recursive), sorted; other files reported or ignored."""
    found = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.is_dir():
            continue
        suffix = path.suffix.lower()
        if suffix in IMAGE_SUFFIXES:
            found.append(path)
        elif suffix in PARTIAL_SUFFIXES:
            skipped.append(Skip(path, "partial file (still being written?) — skipped"))
        elif suffix not in SIDECAR_SUFFIXES:
            skipped.append(Skip(path, f"not an image file ({suffix or 'no extension'})"))
    return found


def _find_dir(root: Path, name: str) -> Path | None:
    for child in root.iterdir():
        if child.is_dir() and child.name.lower() == name:
            return child
    return None


def _pick_original(candidates: list[Path]) -> tuple[Path, list[Path]]:
    """Among originals sharing a stem (NAME.NEF + NAME.JPG), the RAW is what the edit came from."""
    ranked = sorted(candidates, key=lambda p: (p.suffix.lower() not in RAW_SUFFIXES,
                                               p.suffix.lower() not in {".tif", ".tiff", ".png"}, p.name))
    return ranked[0], ranked[1:]


class _Greyness:
    """Cached 'is this file black and white?' for the steps that must decide roles by pixels."""

    def __init__(self, skipped: list[Skip]) -> None:
        self.cache: dict[Path, bool | None] = {}
        self.skipped = skipped

    def __call__(self, path: Path) -> bool | None:
        if path not in self.cache:
            if path.suffix.lower() in RAW_SUFFIXES:
                self.cache[path] = False
            else:
                try:
                    self.cache[path] = tint_residual(shrink(load_rgb(path), 256)) <= MONO_TOLERANCE
                except SilverprintError as exc:
                    self.skipped.append(Skip(path, f"unreadable: {getattr(exc, 'reason', exc)}"))
                    self.cache[path] = None
        return self.cache[path]


def find_pairs(portfolio: str | Path) -> Pairing:
    """Pair the files of a portfolio folder. Raises only when the folder itself is unusable."""
    from ..errors import BadInputError

    root = Path(portfolio).expanduser()
    if not root.is_dir():
        raise BadInputError(root, "portfolio folder not found")
    skipped: list[Skip] = []
    grey = _Greyness(skipped)
    originals_dir, edits_dir = _find_dir(root, "originals"), _find_dir(root, "edits")
    if originals_dir and edits_dir:
        result = Pairing("originals/edits folders", skipped=skipped)
        originals, edits = _list(originals_dir, skipped), _list(edits_dir, skipped)
        by_stem: dict[str, list[Path]] = {}
        for path in originals:
            by_stem.setdefault(path.stem.lower(), []).append(path)
        free_edits = []
        used: set[Path] = set()
        for edit in edits:
            stem = edit.stem.lower()
            if stem in by_stem:
                original, others = _pick_original(by_stem[stem])
                result.pairs.append(Pair(edit.stem, original, edit, "folders"))
                used.add(original)
                used.update(others)
            else:
                free_edits.append(edit)
        free_originals = [p for p in originals if p not in used]
        _match_exif(result, free_originals, free_edits, grey=None)
        return _finish(result)
    result = Pairing("one folder", skipped=skipped)
    files = _list(root, skipped)
    stems = {p.stem.lower(): [q for q in files if q.stem.lower() == p.stem.lower()] for p in files}
    taken: set[Path] = set()
    for path in files:  # NAME_bw.* beside NAME.*
        match = EDIT_SUFFIX.match(path.stem)
        if match and match["stem"].lower() in stems:
            candidates = [q for q in stems[match["stem"].lower()] if q not in taken]
            if candidates:
                original, others = _pick_original(candidates)
                result.pairs.append(Pair(match["stem"], original, path, "suffix"))
                taken.update([path, original, *others])
    rest = [p for p in files if p not in taken]
    for stem in sorted({p.stem.lower() for p in rest}):  # NAME.NEF + NAME.jpg (B&W export)
        group = [p for p in rest if p.stem.lower() == stem]
        if len(group) < 2:
            continue
        flags = [grey(p) for p in group]
        if flags.count(True) == 1 and flags.count(False) >= 1:
            edit = group[flags.index(True)]
            original, _ = _pick_original([p for p, f in zip(group, flags) if f is False])
            result.pairs.append(Pair(edit.stem, original, edit, "name"))
            taken.update([edit, original])
    rest = [p for p in rest if p not in taken]
    _match_exif(result, [p for p in rest if grey(p) is False], [p for p in rest if grey(p)], grey)
    return _finish(result)


def _match_exif(result: Pairing, originals: list[Path], edits: list[Path], grey) -> None:
    """Pair what names could not by the capture identity in EXIF; report what stays alone."""
    keys = {p: exif_key(p) for p in originals + edits}
    by_key: dict[str, list[Path]] = {}
    for path in originals:
        if keys[path]:
            by_key.setdefault(keys[path], []).append(path)
    for edit in edits:
        key = keys[edit]
        found = by_key.get(key, []) if key else []
        if len(found) == 1:
            result.pairs.append(Pair(edit.stem, found[0], edit, "exif"))
            continue
        if len(found) > 1:
            names = ", ".join(p.name for p in found)
            result.skipped.append(Skip(edit, f"EXIF matches several originals ({names}) — skipped"))
        elif key:
            result.skipped.append(Skip(edit, "no original with the same name or EXIF capture time"))
        else:
            result.skipped.append(Skip(edit, "no original with the same name, and no EXIF to match by"))
    matched = {p.original for p in result.pairs}
    for path in originals:
        if path not in matched:
            result.skipped.append(Skip(path, "no B&W edit of this photo found"))


def _finish(result: Pairing) -> Pairing:
    # Unique names (the same stem can come from two EXIF matches): suffix with a counter.
    seen: dict[str, int] = {}
    pairs = []
    for pair in sorted(result.pairs, key=lambda p: (p.name.lower(), str(p.edit))):
        n = seen.get(pair.name.lower(), 0)
        seen[pair.name.lower()] = n + 1
        pairs.append(pair if n == 0 else Pair(f"{pair.name}~{n + 1}", pair.original, pair.edit,
                                              pair.matched_by))
    result.pairs = pairs
    unique: dict[Path, Skip] = {}
    for skip in result.skipped:
        unique.setdefault(skip.path, skip)
    result.skipped = sorted(unique.values(), key=lambda s: str(s.path))
    return result


# --------------------------------------------------------------------------- pixels


@dataclass
class PreparedPair:
    """A pair loaded, checked and reduced to the preview size the fit works at."""

    pair: Pair
    rgb: np.ndarray  # float32 (h, w, 3), preview size
    edit: np.ndarray  # float32 (h, w) grey, same size as rgb
    original_size: tuple[int, int]  # (H, W)
    edit_size: tuple[int, int]  # (h, w) of the edit file
    full_rgb: np.ndarray | None = None  # kept only when asked (evaluation at full size)
    full_edit: np.ndarray | None = None


def prepare_pair(pair: Pair, *, preview_side: int = PREVIEW_SIDE, keep_full: bool = False) -> PreparedPair:
    """Load and check a pair. Raises PairSkipped (with a one-line reason) when it is unusable."""
    import cv2

    try:
        original = load_rgb(pair.original)
    except SilverprintError as exc:
        raise PairSkipped(pair.original, f"unreadable original: {getattr(exc, 'reason', exc)}") from None
    try:
        edit = load_rgb(pair.edit)
    except SilverprintError as exc:
        raise PairSkipped(pair.edit, f"unreadable edit: {getattr(exc, 'reason', exc)}") from None
    if original.ndim == 2:
        original = np.repeat(original[..., None], 3, axis=2)
    residual = tint_residual(edit)
    if residual > MONO_TOLERANCE:
        raise PairSkipped(pair.edit, f"not a black-and-white edit (colour deviation {residual:.2f}) — skipped")
    edit_grey = luminance(edit)
    problem = framing_problem(original, edit_grey)
    if problem:
        raise PairSkipped(pair.edit, problem)
    rgb = shrink(original, preview_side)
    h, w = rgb.shape[:2]
    grey = cv2.resize(edit_grey, (w, h), interpolation=cv2.INTER_AREA)
    return PreparedPair(pair, np.clip(rgb, 0, 1), np.clip(grey, 0, 1), original.shape[:2],
                        edit_grey.shape[:2], original if keep_full else None,
                        edit_grey if keep_full else None)
