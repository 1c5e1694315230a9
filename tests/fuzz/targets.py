"""Fuzz targets for the two parsers that read bytes from anyone: the image loader and style files.

One oracle for both: a target either returns a sound result or raises `SilverprintError` (the
one-line error every front end prints or maps to an HTTP status); any other exception is a bug.
So are a hang and a huge allocation: the campaign (`tests/fuzz/run.py`) bounds each input's time
and the process's memory, and the corpus replay (`tests/test_fuzz_corpus.py`) each seed's time.

- `check_image`: the bytes as an upload (`load_image_bytes`), as a file (`load_image`) and as a
  thumbnail (`load_preview`), named for what they look like (a .png name for PNG bytes, none for
  unknown ones, which LibRaw is then asked about, as for an upload without a suffix). A loaded photo
  must be (H, W, 3) within the pixel limit, finite in [0, 1] for float data, with a TIFF-structured
  EXIF block or none; when it has EXIF, that block is carried into a PNG, TIFF and JPEG output
  (`save_image`, as a render does) and each output must load again.
- `check_style`: `style_from_bytes` on the bytes. A style that loads must decode to sliders within
  their ranges for any photo and survive its own save / load round trip unchanged.
"""
from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np

from silverprint.errors import SilverprintError
from silverprint.imageio import Photo, load_image, load_image_bytes, load_preview, save_image
from silverprint.params import GLOBAL_SLIDER_SPECS, REGION_SLIDER_SPECS, Params

#: The loader's pixel limit under fuzzing: low, so that the fuzzer checks the limit is enforced
#: before decoding rather than spending its time (and memory) on legitimately large images.
MAX_PIXELS = 1 << 22
PREVIEW = 64
#: The ways `check_image` loads the bytes; the campaign picks one per input, the replay runs all.
IMAGE_MODES = ("upload", "file", "preview")
_NAMES = {b"\xff\xd8\xff": "fuzz.jpg", b"\x89PNG": "fuzz.png", b"II*\0": "fuzz.tif",
          b"MM\0*": "fuzz.tif", b"II+\0": "fuzz.tif", b"MM\0+": "fuzz.tif", b"RIFF": "fuzz.webp"}

_scratch: Path | None = None


def scratch() -> Path:
    """A private folder for the files a target writes, made once per process."""
    global _scratch
    if _scratch is None:
        _scratch = Path(tempfile.mkdtemp(prefix="silverprint-fuzz-"))
    return _scratch


def name_for(data: bytes) -> str:
    """A file name whose suffix matches the content's signature (none when it has no known one)."""
    for magic, name in _NAMES.items():
        if data.startswith(magic):
            return name
    return "fuzz"


def _check_photo(photo: Photo, long_side: int | None) -> None:
    pixels = photo.pixels
    assert isinstance(pixels, np.ndarray) and pixels.ndim == 3 and pixels.shape[2] == 3, pixels.shape
    h, w = pixels.shape[:2]
    assert h >= 1 and w >= 1 and h * w <= MAX_PIXELS, pixels.shape
    if long_side is not None:
        assert max(h, w) <= long_side, (pixels.shape, long_side)
    assert pixels.dtype in (np.uint8, np.uint16, np.float32), pixels.dtype
    if pixels.dtype == np.float32:
        assert np.isfinite(pixels).all() and pixels.min() >= 0.0 and pixels.max() <= 1.0
    assert photo.exif is None or (isinstance(photo.exif, bytes) and photo.exif[:2] in (b"II", b"MM"))
    assert isinstance(photo.icc_name, str) and photo.bit_depth in (1, 8, 16, 32), photo.bit_depth


def _carry_exif(exif: bytes) -> None:
    """What a render does with the source's EXIF: every output format must write and load again."""
    image = np.linspace(0.0, 1.0, 6, dtype=np.float32).reshape(2, 3)
    for suffix in (".png", ".tif", ".jpg"):
        out = save_image(scratch() / f"out{suffix}", image, exif=exif)
        again = load_image(out, max_pixels=MAX_PIXELS)
        assert again.size == (3, 2), again.size


def check_image(data: bytes, modes: tuple[str, ...] = IMAGE_MODES) -> None:
    """Load ``data`` each way in ``modes``; a `SilverprintError` is a correct answer, and only that."""
    name = name_for(data)
    path = None
    for mode in modes:
        try:
            if mode == "upload":
                photo = load_image_bytes(data, name, max_pixels=MAX_PIXELS)
            else:
                if path is None:
                    path = scratch() / name
                    path.write_bytes(data)
                photo = (load_image(path, max_pixels=MAX_PIXELS) if mode == "file"
                         else load_preview(path, PREVIEW, max_pixels=MAX_PIXELS))
        except SilverprintError as exc:
            _check_message(exc)
            continue
        _check_photo(photo, PREVIEW if mode == "preview" else None)
        if photo.exif:
            _carry_exif(photo.exif)


def _check_message(exc: SilverprintError) -> None:
    text = str(exc)
    assert text and "\n" not in text, repr(text)


#: Descriptor vectors a style is decoded with: all zeros, a mid-grey photo, and extremes.
_DESCRIPTORS = (0.0, 0.5, -50.0, 50.0)


def _check_params(params: Params) -> None:
    for region, sliders in params.regions.items():
        for name, value in sliders.items():
            spec = REGION_SLIDER_SPECS.get(name)
            if spec is not None:
                assert spec.lo <= value <= spec.hi, (region, name, value)
    for name, value in params.global_.items():
        if name == "curve":
            assert all(math.isfinite(v) and 0.0 <= v <= 1.0 for v in value), value
            continue
        spec = GLOBAL_SLIDER_SPECS.get(name)
        if spec is not None:
            assert spec.lo <= value <= spec.hi, (name, value)
    for item in params.local:
        for key, value in item.items():
            if key != "kind":
                assert isinstance(value, (int, float)) and math.isfinite(value), (key, value)


def check_style(data: bytes) -> None:
    """Parse ``data`` as a style file; a `SilverprintError` is a correct answer, and only that."""
    from silverprint.descriptors import DIM
    from silverprint.styles import decode, style_to_json
    from silverprint.styles.style import style_from_bytes

    try:
        style = style_from_bytes(data, "fuzz.json")
    except SilverprintError as exc:
        _check_message(exc)
        return
    for value in _DESCRIPTORS:
        _check_params(decode(style, np.full(DIM, value, np.float32)))
    text = style_to_json(style)
    again = style_from_bytes(text, "round trip")
    assert again.to_dict() == style.to_dict(), "a style changed through its own save and load"


TARGETS = {"image": check_image, "style": check_style}
