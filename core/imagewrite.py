"""Writing black-and-white files: 16-bit PNG / TIFF and 8-bit JPEG, atomically, with ICC and EXIF.

Grey images are written as true greyscale files with a grey ICC profile (sRGB tone curve), toned
ones as RGB with sRGB. PNG and TIFF are assembled here because Pillow has no 16-bit RGB mode; their
deflate runs in parallel (zlib releases the GIL). Every write goes to a temporary file in the
destination folder and is renamed into place, so a failure never leaves a partial file and an
existing output stays intact until the new one is complete; an output never replaces its input.
"""
from __future__ import annotations

import os
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO, Callable

import numpy as np

from . import exif as exif_
from . import icc
from .errors import BadInputError
from .fileio import atomic_path

OUTPUT_FORMATS = ("png16", "tiff16", "jpeg")
FORMAT_SUFFIX = {"png16": ".png", "tiff16": ".tif", "jpeg": ".jpg"}
_SUFFIX_FORMAT = {".png": "png16", ".tif": "tiff16", ".tiff": "tiff16", ".jpg": "jpeg",
                  ".jpeg": "jpeg", ".jpe": "jpeg"}
JPEG_QUALITY = 95
#: zlib level for PNG / TIFF: at 24 MP, level 3 is ~2.5x faster than 6 for ~10 % larger files.
DEFLATE_LEVEL = 3


def format_for_path(path: str | os.PathLike) -> str:
    """Output format for a file name: .png -> png16, .tif/.tiff -> tiff16, .jpg/.jpeg -> jpeg."""
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIX_FORMAT:
        raise BadInputError(path, f"unsupported output type '{suffix or '(none)'}'; "
                                  "use .png, .tif or .jpg")
    return _SUFFIX_FORMAT[suffix]


def save_image(path: str | os.PathLike, image: np.ndarray, fmt: str | None = None, *,
               exif: bytes | None = None, icc: str | None = None,
               source: str | os.PathLike | None = None) -> Path:
    """Write a rendered image atomically; returns the path written.

    `image`: float (H, W) grey or (H, W, 3) toned in [0, 1] (uint8/uint16 are accepted as codes).
    `fmt`: png16 | tiff16 | jpeg (default: from the suffix). `icc`: "grey" | "srgb" (default: grey
    for 2-D images, sRGB for colour). `exif`: a block from `Photo.exif` (Orientation is forced to 1).
    `source`: the input file, which is never overwritten.
    """
    dst = Path(path)
    fmt = fmt or format_for_path(dst)
    if fmt not in OUTPUT_FORMATS:
        raise BadInputError(dst, f"unknown output format '{fmt}' (use png16, tiff16 or jpeg)")
    arr = _check_image(dst, image)
    if source is not None and _same_file(dst, Path(source)):
        raise BadInputError(dst, "refusing to overwrite the input file; choose another output name")
    if dst.is_dir():
        raise BadInputError(dst, "output path is a folder")
    if not dst.parent.is_dir():
        raise BadInputError(dst, "output folder does not exist")
    if icc is None:
        icc = "grey" if arr.ndim == 2 else "srgb"
    if icc not in ("grey", "srgb"):
        raise ValueError(f"icc must be 'grey' or 'srgb', not {icc!r}")
    if icc == "grey" and arr.ndim == 3:
        raise ValueError("a grey profile needs a (H, W) image")
    profile = _icc_bytes(icc)
    if exif is not None and not isinstance(exif, (bytes, bytearray)):
        exif = exif.tobytes()  # a Pillow Image.Exif
    exif_blob, _ = exif_.reset_orientation(bytes(exif) if exif else None, srgb=True)
    writer = {"png16": _write_png16, "tiff16": _write_tiff16, "jpeg": _write_jpeg}[fmt]
    _atomic_write(dst, lambda f: writer(f, arr, profile, exif_blob))
    return dst


def _icc_bytes(kind: str) -> bytes:
    return icc.grey_profile() if kind == "grey" else icc.srgb_profile()


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def _check_image(dst: Path, image: np.ndarray) -> np.ndarray:
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] == 3)) or arr.size == 0:
        raise ValueError(f"image must be (H, W) or (H, W, 3), got {arr.shape}")
    if arr.dtype.kind not in "fui":
        raise ValueError(f"unsupported image dtype {arr.dtype}")
    return arr


def _quantize(arr: np.ndarray, top: int, dtype) -> np.ndarray:
    """Float [0, 1] to integer codes, in row bands so a 24 MP image needs no float temporaries."""
    out = np.empty(arr.shape, dtype=dtype)
    if arr.dtype == np.uint16 and top == 65535 or arr.dtype == np.uint8 and top == 255:
        out[...] = arr
        return out
    if arr.dtype.kind in "ui":
        src_top = 255 if arr.dtype == np.uint8 else 65535
        out[...] = (arr.astype(np.float64) * (top / src_top)).round()
        return out
    row_px = int(np.prod(arr.shape[1:]))
    rows = max(1, (1 << 20) // row_px)  # ~4 MB float32 band: stays in cache
    buf = np.empty((rows,) + arr.shape[1:], dtype=np.float32)
    for y in range(0, arr.shape[0], rows):
        src = arr[y:y + rows]
        tmp = buf[:src.shape[0]]
        np.multiply(src, np.float32(top), out=tmp, casting="unsafe")
        tmp += np.float32(0.5)
        np.fmax(tmp, 0.0, out=tmp)  # fmax also turns NaN into 0
        np.fmin(tmp, np.float32(top), out=tmp)
        out[y:y + rows] = tmp  # the cast truncates: +0.5 makes it round
    return out


def _atomic_write(dst: Path, write: Callable[[BinaryIO], None]) -> None:
    failing = "here"  # the temp file could not be created: the folder is the problem
    try:
        with atomic_path(dst) as tmp:
            failing = "the output file"
            with open(tmp, "wb") as f:
                write(f)
    except OSError as exc:
        raise BadInputError(dst, f"cannot write {failing} ({exc.strerror or exc})") from None


def _parallel_map(fn, items: list) -> list:
    workers = min(len(items), os.cpu_count() or 1)
    if workers <= 1:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:  # zlib releases the GIL
        return list(pool.map(fn, items))


def _deflate(data: memoryview, level: int = DEFLATE_LEVEL, chunk: int = 4 << 20) -> bytes:
    """One zlib stream compressed in parallel chunks (pigz's method: sync-flushed raw deflate
    blocks, each primed with the previous 32 KB, then one Adler-32 over everything)."""
    n = len(data)
    starts = list(range(0, n, chunk)) or [0]

    def part(start: int) -> bytes:
        zdict = bytes(data[max(0, start - 32768):start])
        c = zlib.compressobj(level, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY,
                             **({"zdict": zdict} if zdict else {}))
        body = c.compress(data[start:start + chunk])
        last = start + chunk >= n
        return body + c.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)

    parts = _parallel_map(part, starts)
    return b"\x78\x5e" + b"".join(parts) + struct.pack(">I", zlib.adler32(data) & 0xFFFFFFFF)


def _software() -> str:
    """The mark every output carries (PNG tEXt Software, TIFF Software, JPEG comment): how
    `silverprint.outputs` tells a file it may replace on a re-render from a user's original."""
    from .outputs import software_mark

    return software_mark()


def _png_chunk(f: BinaryIO, ctype: bytes, data: bytes) -> None:
    f.write(struct.pack(">I", len(data)) + ctype)
    f.write(data)
    f.write(struct.pack(">I", zlib.crc32(data, zlib.crc32(ctype)) & 0xFFFFFFFF))


def _write_png16(f: BinaryIO, arr: np.ndarray, profile: bytes, exif: bytes | None) -> None:
    """16-bit greyscale (or RGB) PNG with iCCP and eXIf, 'Up' filter on every row."""
    h, w = arr.shape[:2]
    channels = 1 if arr.ndim == 2 else 3
    codes = _quantize(arr, 65535, np.dtype(">u2"))
    rows = codes.view(np.uint8).reshape(h, w * channels * 2)
    filtered = np.empty((h, rows.shape[1] + 1), dtype=np.uint8)
    filtered[:, 0] = 2  # Up: cheap and as good as any single filter on photographs
    filtered[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=filtered[1:, 1:])
    del codes, rows
    f.write(b"\x89PNG\r\n\x1a\n")
    _png_chunk(f, b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 0 if channels == 1 else 2, 0, 0, 0))
    name = (icc.GREY_PROFILE_NAME if channels == 1 else "sRGB").encode("latin-1")[:79]
    _png_chunk(f, b"iCCP", name + b"\0\0" + zlib.compress(profile, 9))
    if exif:
        _png_chunk(f, b"eXIf", exif)
    _png_chunk(f, b"tEXt", b"Software\0" + _software().encode("latin-1"))
    stream = _deflate(memoryview(filtered).cast("B"))
    del filtered
    step = 8 << 20
    for start in range(0, len(stream), step):
        _png_chunk(f, b"IDAT", stream[start:start + step])
    _png_chunk(f, b"IEND", b"")


def _write_tiff16(f: BinaryIO, arr: np.ndarray, profile: bytes, exif: bytes | None) -> None:
    """16-bit TIFF (deflate, horizontal predictor) with ICC, EXIF sub-IFD and Orientation 1."""
    from PIL import TiffImagePlugin, TiffTags

    h, w = arr.shape[:2]
    channels = 1 if arr.ndim == 2 else 3
    codes = _quantize(arr, 65535, np.dtype("<u2"))
    pred = codes.copy()
    np.subtract(codes[:, 1:], codes[:, :-1], out=pred[:, 1:])  # predictor 2, wraps mod 2**16
    del codes
    rows_per_strip = max(1, (256 << 10) // (w * channels * 2))
    strips = [pred[y:y + rows_per_strip] for y in range(0, h, rows_per_strip)]
    blobs = _parallel_map(lambda s: zlib.compress(s.tobytes(), DEFLATE_LEVEL), strips)
    del pred, strips

    ifd = TiffImagePlugin.ImageFileDirectory_v2(prefix=b"II")
    if exif:
        ifd_src = exif_.tiff_tags(exif)
        for tag, value in ifd_src.items():
            ifd[tag] = value
    ifd[256] = w
    ifd[257] = h
    ifd[258] = (16,) * channels
    ifd[259] = 8  # Adobe deflate
    ifd[262] = 1 if channels == 1 else 2
    ifd[274] = 1
    ifd[277] = channels
    ifd[278] = rows_per_strip
    ifd[284] = 1
    ifd[305] = _software()
    ifd[317] = 2
    ifd[34675] = profile
    for tag in (273, 279):
        ifd.tagtype[tag] = TiffTags.LONG
    offsets, pos = [], 0
    for blob in blobs:
        offsets.append(pos)
        pos += len(blob)
    ifd[273] = tuple(offsets)  # relative: Pillow adds the end of the IFD data to them
    ifd[279] = tuple(len(b) for b in blobs)
    header = b"II*\0" + struct.pack("<I", 8)
    f.write(header + ifd.tobytes(8))
    for blob in blobs:
        f.write(blob)


def _write_jpeg(f: BinaryIO, arr: np.ndarray, profile: bytes, exif: bytes | None) -> None:
    """8-bit JPEG, quality 95, greyscale for grey images, 4:4:4 for toned ones."""
    from PIL import Image

    codes = _quantize(arr, 255, np.uint8)
    im = Image.fromarray(codes, "L" if codes.ndim == 2 else "RGB")
    kwargs = {"quality": JPEG_QUALITY, "icc_profile": profile, "comment": _software()}
    if codes.ndim == 3:
        kwargs["subsampling"] = 0
    if exif:
        payload = b"Exif\0\0" + exif
        if len(payload) > 65533:  # one APP1 segment: drop the maker note, then give up on EXIF
            payload = exif_.shrink_for_jpeg(exif)
        if payload:
            kwargs["exif"] = payload
    im.save(f, "JPEG", **kwargs)


