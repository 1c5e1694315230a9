"""Reading photographers' files safely; the one place every front end loads images from.

In: JPEG, PNG, TIFF (8/16 bit), WebP and camera RAW (LibRaw via rawpy). Every load
- checks the pixel count from the header *before* decoding, so a 50 000 x 50 000 header bomb is
  refused instantly without allocating anything;
- detects truncated and corrupt files (Pillow's LOAD_TRUNCATED_IMAGES stays False) and turns every
  failure into one `BadInputError(path, reason)` line;
- converts embedded ICC profiles to sRGB (LittleCMS for 8-bit data; float matrix/TRC maths for
  16-bit data, see `silverprint.icc`), applies the EXIF orientation and resets it to 1 in the EXIF
  block kept for the output (the colour thumbnail is dropped from it: it would show a colour picture);
- keeps the decoded integer array (`Photo.pixels`): a 24 MP photo costs 72 MB as uint8, not 288 MB.

Out: `save_image` / `format_for_path` live in `silverprint.imagewrite` and are re-exported here
(16-bit PNG / TIFF and JPEG, grey ICC, EXIF copied, atomic).
"""
from __future__ import annotations

import io
import logging
import os
import struct
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

from . import exif as exif_
from . import icc
from .errors import BadInputError
from .imagewrite import FORMAT_SUFFIX, OUTPUT_FORMATS, format_for_path, save_image  # noqa: F401

DEFAULT_MAX_PIXELS = 250_000_000
RAW_SUFFIXES = frozenset({".dng", ".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".srf", ".sr2",
                          ".raf", ".orf", ".rw2", ".pef", ".srw", ".3fr", ".iiq", ".erf", ".kdc",
                          ".mef", ".mos", ".mrw", ".x3f", ".raw", ".rwl"})
#: Lower-case suffixes (with the dot) that `load_image` reads; folders are scanned for these.
INPUT_SUFFIXES = frozenset({".jpg", ".jpeg", ".jpe", ".png", ".tif", ".tiff", ".webp"}) | RAW_SUFFIXES
SRGB_ASSUMED = "sRGB (assumed)"
_KINDS = "JPEG, PNG, TIFF, WebP or camera RAW"

# A corrupt file is one line (`BadInputError`), not that line after a dozen the decoders print on
# their way to failing: tifffile and Pillow log each bad tag (no handler: Python's last-resort
# handler writes them to stderr) and Pillow warns about truncated reads and oversized tags. An
# application that configures logging still receives the log records.
for _name in ("tifffile", "PIL"):
    logging.getLogger(_name).addHandler(logging.NullHandler())
warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")


# =========================================================================== the photo
def to_float(pixels: np.ndarray) -> np.ndarray:
    """uint8 / uint16 / float arrays to float32 in [0, 1] (one cast, one in-place divide)."""
    if pixels.dtype == np.uint8 or pixels.dtype == np.uint16:
        out = pixels.astype(np.float32)
        np.divide(out, 255.0 if pixels.dtype == np.uint8 else 65535.0, out=out)
        return out
    return np.asarray(pixels, dtype=np.float32)


@dataclass(eq=False)
class Photo:
    """A decoded photo: display-sRGB pixels, oriented, plus what the output should carry over.

    `pixels` is (H, W, 3) uint8 or uint16 as decoded (float32 only when the source was float);
    treat it as read-only. `rgb` converts to float32 [0, 1] on each access (cost: one pass).
    """

    pixels: np.ndarray
    exif: bytes | None = None  # TIFF-structured EXIF block, Orientation already 1; None if absent
    icc_name: str = SRGB_ASSUMED  # description of the source profile that was converted from
    bit_depth: int = 8
    source: Path | None = None
    notes: tuple[str, ...] = field(default=())  # e.g. "converted at 8-bit precision"

    @property
    def rgb(self) -> np.ndarray:
        """float32 (H, W, 3) display sRGB in [0, 1]."""
        return to_float(self.pixels)

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def size(self) -> tuple[int, int]:
        """(width, height), as Pillow reports sizes."""
        return self.width, self.height


# =========================================================================== sources
class _Source:
    """A file path or an in-memory upload, with the label errors should name."""

    def __init__(self, label: str, path: Path | None = None, data: bytes | None = None,
                 suffix: str = "") -> None:
        self.label, self.path, self.data = label, path, data
        self.suffix = suffix.lower()

    def open(self) -> BinaryIO:
        if self.data is not None:
            return io.BytesIO(self.data)
        try:
            return open(self.path, "rb")
        except PermissionError:
            raise BadInputError(self.label, "cannot read the file (permission denied)") from None
        except OSError as exc:
            raise BadInputError(self.label, f"cannot read the file ({exc.strerror or exc})") from None

    def read_all(self) -> bytes:
        if self.data is not None:
            return self.data
        with self.open() as f:
            return f.read()

    def fail(self, reason: str) -> BadInputError:
        return BadInputError(self.label, reason)


@dataclass
class _Decoded:
    pixels: np.ndarray  # (H, W, C) C in 1..4, or (H, W); uint8 / uint16 / float32
    icc: bytes | None
    exif: bytes | None  # TIFF-structured, as found
    bit_depth: int
    icc_done: str | None = None  # set when the decoder already converted to sRGB
    notes: list[str] = field(default_factory=list)


def _check_size(src: _Source, width: int, height: int, max_pixels: int) -> None:
    if width <= 0 or height <= 0:
        raise src.fail(f"image has an invalid size {width}x{height}")
    if width * height > max_pixels:
        raise src.fail(f"image is {width}x{height} ({width * height / 1e6:.0f} MP), over the "
                       f"{max_pixels / 1e6:.0f} MP limit")


def sniff(head: bytes) -> str | None:
    """The format of a file from its first bytes: jpeg, png, tiff (RAW files included), webp or None."""
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if head[:4] in (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+"):
        return "tiff"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


# =========================================================================== public loading
def load_image(path: str | os.PathLike, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Photo:
    """Decode an image file to an oriented sRGB `Photo`; any problem is a `BadInputError`."""
    src = _path_source(path)
    photo = _load(src, max_pixels, None)
    photo.source = src.path
    return photo


def load_image_bytes(data: bytes, name: str, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Photo:
    """Decode an upload (the HTTP service); `name` labels errors and its suffix marks RAW files."""
    src = _Source(name, None, bytes(data), Path(name).suffix)
    if not data:
        raise src.fail("file is empty (0 bytes)")
    return _load(src, max_pixels, None)


def load_preview(path: str | os.PathLike, long_side: int, *,
                 max_pixels: int = DEFAULT_MAX_PIXELS) -> Photo:
    """A small copy whose long side is at most `long_side`, decoded cheaply where the format allows
    (JPEG DCT scaling, RAW half-size) — for thumbnails and analysis."""
    if long_side < 1:
        raise ValueError("long_side must be positive")
    src = _path_source(path)
    photo = _load(src, max_pixels, long_side)
    photo.source = src.path
    return photo


def is_supported_input(path: str | os.PathLike) -> bool:
    """True when the file's suffix is one `load_image` reads (content is checked on load)."""
    return Path(path).suffix.lower() in INPUT_SUFFIXES


def _path_source(path: str | os.PathLike) -> _Source:
    p = Path(path)
    src = _Source(str(path), p, None, p.suffix)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise src.fail("file not found") from None
    except PermissionError:
        raise src.fail("cannot read the file (permission denied)") from None
    except OSError as exc:
        raise src.fail(f"cannot read the file ({exc.strerror or exc})") from None
    if p.is_dir():
        raise src.fail("is a folder, not an image file")
    if not p.is_file():
        raise src.fail("is not a regular file")
    if st.st_size == 0:
        raise src.fail("file is empty (0 bytes)")
    return src


def _load(src: _Source, max_pixels: int, preview: int | None) -> Photo:
    with src.open() as f:
        head = f.read(64)
    kind = "raw" if src.suffix in RAW_SUFFIXES else sniff(head)
    try:
        dec = None
        if src.suffix not in INPUT_SUFFIXES and kind in (None, "tiff"):
            # A name without a known suffix (an upload, a renamed file): camera RAW files are
            # TIFF-structured (CR2, NEF, ARW, ...) or of their own kind (CR3, RAF, ORF, RW2), so
            # ask LibRaw first; it does not claim plain TIFFs.
            dec = _decode_raw(src, max_pixels, preview, probe=True)
        if dec is None and kind is None:
            if not head.strip():
                raise src.fail("file holds no image data")
            raise src.fail(f"not an image: the content is not {_KINDS} data")
        if dec is None and kind == "raw":
            dec = _decode_raw(src, max_pixels, preview)
        elif dec is None and kind == "tiff":
            dec = _decode_tiff(src, max_pixels, preview)
        elif dec is None:
            dec = _decode_pillow(src, kind, max_pixels, preview)
    except BadInputError:
        raise
    except MemoryError:
        raise src.fail("not enough memory to decode this image") from None
    except Exception as exc:  # any decoder failure on user data is a bad input, not a crash
        raise src.fail(f"corrupt or unreadable {(kind or 'image').upper()} data ({_short(exc)})"
                       ) from None
    return _finish(src, dec, preview)


def _short(exc: BaseException) -> str:
    """The first line of an exception's message (LibRaw's come as bytes)."""
    arg = exc.args[0] if len(exc.args) == 1 else str(exc)
    text = arg.decode("utf-8", "replace") if isinstance(arg, bytes) else str(arg)
    text = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return text[:160]


# =========================================================================== finishing
def _finish(src: _Source, dec: _Decoded, preview: int | None) -> Photo:
    """Common tail: resize (previews), RGB, ICC -> sRGB, orientation, EXIF with Orientation=1."""
    exif, orientation = exif_.reset_orientation(dec.exif)
    pixels = dec.pixels
    if preview is not None:
        pixels = _shrink(pixels, preview)
    pixels = _to_rgb(pixels)
    icc_name = dec.icc_done or SRGB_ASSUMED
    bit_depth = dec.bit_depth
    notes = list(dec.notes)
    profile = dec.icc
    if dec.icc_done is None and not profile and exif_.implies_adobe_rgb(exif):
        profile = icc.adobe_rgb_profile()
        notes.append("no ICC profile; EXIF marks the photo as Adobe RGB (DCF 'R03')")
    if dec.icc_done is None and profile:
        pixels, icc_name, bit_depth, note = _convert_icc(pixels, profile, bit_depth)
        if note:
            notes.append(note)
    pixels = _orient(pixels, orientation)
    pixels = np.ascontiguousarray(pixels)
    pixels.flags.writeable = False
    return Photo(pixels, exif, icc_name, bit_depth, src.path, tuple(notes))


def _shrink(pixels: np.ndarray, long_side: int) -> np.ndarray:
    h, w = pixels.shape[:2]
    scale = long_side / max(h, w)
    if scale >= 1:
        return pixels
    import cv2

    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    if pixels.ndim == 3 and pixels.shape[2] == 2:  # cv2 keeps 1, 3 and 4 channels only
        return np.dstack([cv2.resize(np.ascontiguousarray(pixels[..., i]), size,
                                     interpolation=cv2.INTER_AREA) for i in range(2)])
    return cv2.resize(np.ascontiguousarray(pixels), size, interpolation=cv2.INTER_AREA)


def _to_rgb(pixels: np.ndarray) -> np.ndarray:
    """Grey, grey+alpha, RGB or RGBA to RGB; transparency is composited onto white paper."""
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    channels = pixels.shape[2]
    if channels in (2, 4):
        colour, alpha = pixels[..., :channels - 1], pixels[..., channels - 1:]
        if pixels.dtype == np.uint8 or pixels.dtype == np.uint16:
            top = 255 if pixels.dtype == np.uint8 else 65535
            a = alpha.astype(np.uint32)
            mixed = (colour.astype(np.uint32) * a + top * (top - a) + top // 2) // top
            pixels = mixed.astype(pixels.dtype)
        else:
            pixels = (colour * alpha + (1.0 - alpha)).astype(np.float32)
        channels -= 1
    if channels == 1:
        pixels = np.repeat(pixels, 3, axis=2)
    elif channels != 3:
        raise ValueError(f"{channels} channels")
    if pixels.dtype not in (np.uint8, np.uint16):
        pixels = np.clip(np.nan_to_num(pixels.astype(np.float32), nan=0.0), 0.0, 1.0)
    return pixels


def _orient(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1-8) so the pixels stand the way the photographer shot them."""
    if orientation == 2:
        return pixels[:, ::-1]
    if orientation == 3:
        return pixels[::-1, ::-1]
    if orientation == 4:
        return pixels[::-1]
    if orientation == 5:
        return pixels.swapaxes(0, 1)
    if orientation == 6:
        return np.rot90(pixels, -1)
    if orientation == 7:
        return pixels[::-1, ::-1].swapaxes(0, 1)
    if orientation == 8:
        return np.rot90(pixels, 1)
    return pixels


def _convert_icc(pixels: np.ndarray, profile_bytes: bytes, bit_depth: int
                 ) -> tuple[np.ndarray, str, int, str | None]:
    """Convert (H, W, 3) pixels tagged with `profile_bytes` to sRGB.

    Returns (pixels, description, bit depth, note). Matrix/TRC profiles are converted in float
    (keeps 16 bits); LUT profiles go through LittleCMS at 8 bits; sRGB-equivalent ones are kept.
    """
    try:
        prof = icc.parse_profile(profile_bytes)
    except (ValueError, KeyError, struct.error):
        return pixels, SRGB_ASSUMED + ", embedded profile unreadable", bit_depth, \
            "embedded ICC profile could not be read; assumed sRGB"
    name = prof.description or "embedded profile"
    if prof.colour_space == "RGB" and icc.is_srgb(prof):
        return pixels, name, bit_depth, None
    if prof.colour_space == "GRAY":
        if not prof.is_matrix_trc:
            return pixels, name, bit_depth, "grey profile without a tone curve; used as sRGB"
        if icc.is_srgb(prof):  # e.g. our own outputs: re-encoding would only add rounding
            return pixels, name, bit_depth, None
        return _grey_curve(pixels, prof.curves[0]), name, bit_depth, None
    if prof.colour_space != "RGB":
        return pixels, name, bit_depth, f"{prof.colour_space} profile on RGB data ignored"
    if prof.is_matrix_trc and pixels.dtype != np.uint8:
        return _matrix_convert(pixels, prof), name, bit_depth, None
    converted = _lcms_convert(pixels, profile_bytes)
    if converted is None:
        return pixels, name + " (not converted)", bit_depth, "LittleCMS refused the profile"
    note = "converted at 8-bit precision (LUT-based profile)" if pixels.dtype != np.uint8 else None
    return converted, name, 8 if note else bit_depth, note


def _grey_curve(pixels: np.ndarray, curve: np.ndarray) -> np.ndarray:
    """Grey data with a grey profile: one lookup table from its tone curve to sRGB codes."""
    top = 255 if pixels.dtype == np.uint8 else 65535
    if pixels.dtype not in (np.uint8, np.uint16):
        return icc.srgb_encode(np.interp(pixels, np.linspace(0, 1, curve.size), curve)).astype(
            np.float32)
    codes = np.linspace(0, curve.size - 1, top + 1).round().astype(np.int64)
    lut = np.rint(icc.srgb_encode(curve[codes]) * top).astype(pixels.dtype)
    return lut[pixels]  # fancy indexing casts indices in buffers; take() would copy them to int64


def _matrix_convert(pixels: np.ndarray, prof: icc.ParsedProfile, rows: int = 256) -> np.ndarray:
    """16-bit (or float) RGB through a matrix/TRC profile to sRGB, in row bands (bounded memory)."""
    m = icc.to_srgb_matrix(prof).astype(np.float32)
    enc = icc.srgb_encode_lut()
    out = np.empty_like(pixels)
    is_float = pixels.dtype not in (np.uint8, np.uint16)
    n = enc.size - 1
    for y in range(0, pixels.shape[0], rows):
        band = pixels[y:y + rows]
        if is_float:
            idx = np.rint(np.clip(band, 0, 1) * 65535).astype(np.int64)
        else:
            idx = band
        lin = np.stack([prof.curves[c][idx[..., c]] for c in range(3)], axis=-1)
        srgb_lin = lin @ m.T
        np.clip(srgb_lin, 0.0, 1.0, out=srgb_lin)
        codes = enc[np.rint(srgb_lin * n).astype(np.int32)]
        out[y:y + rows] = codes if not is_float else codes / np.float32(65535)
    return out


def _lcms_convert(pixels: np.ndarray, profile_bytes: bytes) -> np.ndarray | None:
    from PIL import Image, ImageCms

    try:
        src_prof = ImageCms.ImageCmsProfile(io.BytesIO(profile_bytes))
        transform = _srgb_transform(src_prof)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return None
    if pixels.dtype != np.uint8:
        pixels = (pixels.astype(np.uint32) * 255 + 32767) // 65535 if pixels.dtype == np.uint16 \
            else np.rint(np.clip(pixels, 0, 1) * 255)
        pixels = pixels.astype(np.uint8)
    im = Image.fromarray(np.ascontiguousarray(pixels), "RGB")
    ImageCms.applyTransform(im, transform, inPlace=True)
    return np.asarray(im)


def _srgb_transform(src_prof):
    from PIL import ImageCms

    dst = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    return ImageCms.buildTransform(src_prof, dst, "RGB", "RGB",
                                   renderingIntent=ImageCms.Intent.PERCEPTUAL,
                                   flags=ImageCms.Flags.BLACKPOINTCOMPENSATION)


# =========================================================================== decoders
def _pil_image_class(kind: str):
    from PIL import JpegImagePlugin, PngImagePlugin, TiffImagePlugin, WebPImagePlugin

    return {"jpeg": JpegImagePlugin.JpegImageFile, "png": PngImagePlugin.PngImageFile,
            "tiff": TiffImagePlugin.TiffImageFile, "webp": WebPImagePlugin.WebPImageFile}[kind]


def _png_scan(stream: BinaryIO, src: _Source) -> tuple[int, int, bytes | None]:
    """Walk the PNG chunk list: (bit depth, colour type, eXIf data); missing IEND = truncated."""
    size = _stream_size(stream)
    stream.seek(8)
    exif = None
    bit_depth = colour_type = -1
    while True:
        hdr = stream.read(8)
        if len(hdr) < 8:
            raise src.fail("truncated PNG: the file ends before its IEND chunk")
        length, ctype = struct.unpack(">I4s", hdr)
        if ctype == b"IHDR":
            ihdr = stream.read(length)
            if len(ihdr) < 13:
                raise src.fail("truncated PNG header")
            bit_depth, colour_type = ihdr[8], ihdr[9]
            stream.seek(4, 1)
            continue
        if ctype == b"eXIf":
            exif = stream.read(length)
            stream.seek(4, 1)
            continue
        if ctype == b"IEND":
            if len(stream.read(4)) < 4:
                raise src.fail("truncated PNG: the file ends inside its IEND chunk")
            return bit_depth, colour_type, exif
        here = stream.tell()
        stream.seek(length + 4, 1)
        if stream.tell() != here + length + 4 or here + length + 4 > size:
            raise src.fail("truncated PNG: a chunk runs past the end of the file")


def _stream_size(stream: BinaryIO) -> int:
    here = stream.tell()
    end = stream.seek(0, 2)
    stream.seek(here)
    return end


def _decode_pillow(src: _Source, kind: str, max_pixels: int, preview: int | None) -> _Decoded:
    with src.open() as f:
        im = _pil_image_class(kind)(f)  # the format class directly: its size check is ours
        width, height = im.size
        _check_size(src, width, height, max_pixels)
        exif = im.info.get("exif")
        png16_colour = False
        if kind == "png":
            depth, colour_type, png_exif = _png_scan(f, src)
            exif = exif or png_exif
            png16_colour = depth == 16 and colour_type in (2, 4, 6)
            f.seek(0)
            im = _pil_image_class(kind)(f)
        icc_bytes = im.info.get("icc_profile")
        if png16_colour:  # Pillow has no 16-bit RGB mode: libpng through OpenCV keeps 16 bits
            return _Decoded(_decode_png16(src), icc_bytes, exif_.strip_header(exif), 16)
        if preview is not None and kind == "jpeg":
            scale = preview / max(width, height)
            if scale < 1:
                im.draft(None, (max(1, int(width * scale)), max(1, int(height * scale))))
        im.load()
        exif = exif or im.info.get("exif")
        dec = _pil_to_decoded(im, icc_bytes)
        dec.exif = exif_.strip_header(exif)
        return dec


def _pil_to_decoded(im, icc_bytes: bytes | None) -> _Decoded:
    """A loaded Pillow image as an array in a mode `_finish` understands (CMYK converted here)."""
    from PIL import ImageCms

    mode = im.mode
    if mode == "CMYK":
        if icc_bytes:
            try:
                src_prof = ImageCms.ImageCmsProfile(io.BytesIO(icc_bytes))
                dst = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
                rgb = ImageCms.profileToProfile(im, src_prof, dst, outputMode="RGB",
                                                renderingIntent=ImageCms.Intent.PERCEPTUAL)
                return _Decoded(np.asarray(rgb), None, None, 8,
                                icc_done=src_prof.profile.profile_description or "CMYK profile")
            except (ImageCms.PyCMSError, OSError, ValueError):
                pass
        return _Decoded(np.asarray(im.convert("RGB")), None, None, 8, icc_done="CMYK (naive)",
                        notes=["CMYK without a usable profile, converted naively"])
    if mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        return _Decoded(np.asarray(im).astype(np.uint16), icc_bytes, None, 16)
    if mode == "I":
        arr = np.asarray(im)
        return _Decoded(np.clip(arr, 0, 65535).astype(np.uint16), icc_bytes, None, 16)
    if mode == "F":
        return _Decoded(np.asarray(im, dtype=np.float32), icc_bytes, None, 32)
    if mode in ("RGB", "L", "RGBA", "LA"):
        return _Decoded(np.asarray(im), icc_bytes, None, 8)
    if mode == "1":
        return _Decoded(np.asarray(im.convert("L")), icc_bytes, None, 1)
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in im.info
        return _Decoded(np.asarray(im.convert("RGBA" if has_alpha else "RGB")), icc_bytes, None, 8)
    if mode in ("RGBX", "RGBa", "YCbCr", "La"):
        return _Decoded(np.asarray(im.convert("RGB" if mode != "La" else "L")), icc_bytes, None, 8)
    raise ValueError(f"unsupported colour mode {mode}")


def _decode_png16(src: _Source) -> np.ndarray:
    import cv2

    buf = np.frombuffer(src.read_all(), dtype=np.uint8)
    arr = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    if arr is None:
        raise src.fail("corrupt or truncated PNG data")
    if arr.ndim == 3 and arr.shape[2] >= 3:  # OpenCV order is BGR(A)
        arr = arr[..., [2, 1, 0] + ([3] if arr.shape[2] == 4 else [])]
    return arr


def _decode_tiff(src: _Source, max_pixels: int, preview: int | None) -> _Decoded:
    import tifffile

    with src.open() as f:
        try:
            tif = tifffile.TiffFile(f)
        except tifffile.TiffFileError as exc:
            raise src.fail(f"corrupt TIFF header ({_short(exc)})") from None
        with tif:
            if not tif.pages:
                raise src.fail("TIFF holds no image")
            page = tif.pages.first
            _check_size(src, int(page.imagewidth), int(page.imagelength), max_pixels)
            if 50706 in page.tags:  # DNGVersion: a RAW file with a .tif name
                f.seek(0)
                return _decode_raw(src, max_pixels, preview)
            exif = _tiff_exif(f)
            icc_tag = page.tags.get(34675)
            icc_bytes = bytes(icc_tag.value) if icc_tag is not None else None
            photometric = int(page.photometric)
            dtype = np.dtype(page.dtype) if page.dtype is not None else None
            plain = photometric in (0, 1, 2) and dtype is not None and (
                dtype in (np.dtype(np.uint8), np.dtype(np.uint16)) or dtype.kind == "f")
            if plain:
                try:
                    arr = page.asarray()
                except Exception as exc:  # e.g. a codec only libtiff has: let Pillow try
                    if _is_truncation(exc):
                        raise src.fail(f"truncated TIFF ({_short(exc)})") from None
                    arr = None
                if arr is not None:
                    arr = _tiff_layout(arr, page)
                    bits = 8 if arr.dtype == np.uint8 else 16 if arr.dtype == np.uint16 else 32
                    if arr.dtype.kind == "f":
                        arr = arr.astype(np.float32, copy=False)  # float16 / float64 TIFFs
                    return _Decoded(arr, icc_bytes, exif, bits)
    # Palette, CMYK, YCbCr/JPEG-in-TIFF and the like: Pillow (libtiff), 8 bits.
    with src.open() as f:
        im = _pil_image_class("tiff")(f)
        im.load()
        dec = _pil_to_decoded(im, icc_bytes)
        dec.exif = exif
        return dec


def _is_truncation(exc: Exception) -> bool:
    text = str(exc).lower()
    return any(w in text for w in ("truncat", "unexpected end", "eof", "not enough", "incomplete",
                                   "buffer is smaller", "cannot reshape"))


def _has_alpha(page) -> bool:
    extras = page.extrasamples or ()
    return bool(extras) and int(extras[0]) in (1, 2)


def _tiff_layout(arr: np.ndarray, page) -> np.ndarray:
    """tifffile's array as (H, W) grey or (H, W, C) colour, whatever the planar configuration.

    Extra samples beyond the colour ones (grey: 1, RGB: 3) are dropped, but for a first one marked
    as alpha: a TIFF may carry any number (a mask, a depth map; a corrupt header claims 188), and
    only grey, RGB and their alpha mean something to a photo. Min-is-white grey is inverted.
    """
    axes = page.axes
    if "S" in axes and axes.index("S") < axes.index("Y"):
        arr = np.moveaxis(arr, axes.index("S"), -1)
    while arr.ndim > 3:
        arr = arr[0]
    colours = 3 if page.photometric == 2 else 1
    if arr.ndim == 3 and arr.shape[2] > colours:
        arr = arr[..., :colours + 1] if _has_alpha(page) else arr[..., :colours]
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if page.photometric == 0:  # min-is-white: the grey sample, not its alpha
        top = np.iinfo(arr.dtype).max if arr.dtype.kind == "u" else 1.0
        if arr.ndim == 3:
            arr = arr.copy()
            arr[..., 0] = top - arr[..., 0]
        else:
            arr = top - arr
    return arr


def _tiff_exif(f: BinaryIO) -> bytes | None:
    """EXIF of a TIFF file: descriptive IFD0 tags + the Exif and GPS sub-IFDs (via Pillow)."""
    from PIL import TiffImagePlugin

    try:
        f.seek(0)
        im = TiffImagePlugin.TiffImageFile(f)
        return exif_.from_pillow(im.getexif())
    except Exception:
        return None


def _decode_raw(src: _Source, max_pixels: int, preview: int | None, *,
                probe: bool = False) -> _Decoded | None:
    """Camera RAW through LibRaw: 16-bit sRGB, camera white balance, orientation applied.

    With `probe`, a file LibRaw does not recognise returns None instead of failing.
    """
    import rawpy

    raw = rawpy.RawPy()
    try:
        if src.data is not None:
            raw.open_buffer(io.BytesIO(src.data))
        else:
            raw.open_file(str(src.path))
    except rawpy.LibRawFileUnsupportedError:
        if probe:
            return None
        raise src.fail("not a camera RAW file LibRaw can read (unsupported or corrupt)") from None
    except rawpy.LibRawError as exc:
        if probe:
            return None
        raise src.fail(f"unreadable camera RAW file ({_short(exc)})") from None
    with raw:
        sizes = raw.sizes
        _check_size(src, int(sizes.width), int(sizes.height), max_pixels)
        _check_size(src, int(sizes.raw_width), int(sizes.raw_height), max_pixels)
        try:
            raw.unpack()
            rgb = raw.postprocess(use_camera_wb=True, output_bps=16,
                                  output_color=rawpy.ColorSpace.sRGB, gamma=(2.4, 12.92),
                                  half_size=preview is not None
                                  and preview * 2 <= max(sizes.width, sizes.height))
        except (rawpy.LibRawTooBigError, rawpy.LibRawUnsufficientMemoryError,
                rawpy.LibRawMemPoolOverflowError):
            raise src.fail("camera RAW too large for LibRaw's memory limit") from None
        except rawpy.LibRawError as exc:
            raise src.fail(f"truncated or corrupt camera RAW data ({_short(exc)})") from None
    with src.open() as f:
        exif, _ = exif_.from_exifread(f)  # LibRaw has already applied the orientation
    return _Decoded(rgb, None, exif, 16, icc_done="camera RAW -> sRGB (LibRaw)")
