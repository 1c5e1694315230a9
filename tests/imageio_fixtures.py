"""Real test files for the image I/O tests: Kodak photos re-encoded, EXIF blocks, a DNG, bombs.

Everything is written with independent encoders (Pillow, OpenCV, tifffile, a hand-built DNG) so
the loader is checked against files it did not write itself.
"""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, TiffImagePlugin, TiffTags
from shared_data import KODAK


DATE = "2021:07:14 09:26:53"


def kodak(n: int = 1, size: tuple[int, int] | None = (256, 176)) -> np.ndarray:
    """A Kodak photo as (H, W, 3) uint8, cropped from the centre to keep tests fast."""
    arr = np.asarray(Image.open(KODAK / f"kodim{n:02d}.png").convert("RGB"))
    if size is not None:
        w, h = size
        y0 = (arr.shape[0] - h) // 2
        x0 = (arr.shape[1] - w) // 2
        arr = arr[y0:y0 + h, x0:x0 + w]
    return np.ascontiguousarray(arr)


def exif_block(orientation: int = 1, date: str | None = DATE, make: str = "Silverprint Test",
               maker_note: bytes | None = None) -> bytes:
    """An EXIF block as Pillow writes it (with the 'Exif\\0\\0' header)."""
    ex = Image.Exif()
    ex[0x010F] = make
    ex[0x0110] = "Model T"
    ex[0x0112] = orientation
    sub = {}
    if date:
        sub[36867] = date
        sub[37521] = "07"
    if maker_note is not None:
        sub[0x927C] = maker_note
    if sub:
        ex[0x8769] = sub
    R = TiffImagePlugin.IFDRational
    ex[0x8825] = {1: "N", 2: (R(48, 1), R(51, 1), R(2403, 100)), 3: "E",
                  4: (R(2, 1), R(17, 1), R(4010, 100))}  # GPS: Paris
    return ex.tobytes()


def gradient(h: int = 64, w: int = 1200) -> np.ndarray:
    """A smooth horizontal ramp: needs more than 256 levels to be stored faithfully."""
    return np.tile(np.linspace(0.0, 1.0, w, dtype=np.float32), (h, 1))


def png_header_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A PNG whose IHDR claims width x height, followed by a tiny IDAT: decoding it would need GBs."""
    def chunk(ctype: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + ctype + data
                + struct.pack(">I", zlib.crc32(ctype + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


def jpeg_header_bomb(size: int = 65_000) -> bytes:
    """A real JPEG with its SOF0 dimensions patched to size x size."""
    import io

    buf = io.BytesIO()
    Image.fromarray(kodak(1, (64, 64))).save(buf, "JPEG")
    data = bytearray(buf.getvalue())
    sof = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, size, size)
    return bytes(data)


def tiff_header_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A TIFF header describing a width x height greyscale image with one (short) strip."""
    ifd = TiffImagePlugin.ImageFileDirectory_v2(prefix=b"II")
    ifd[256] = width
    ifd[257] = height
    ifd[258] = 8
    ifd[259] = 1
    ifd[262] = 1
    ifd[277] = 1
    ifd[278] = height
    ifd.tagtype[273] = ifd.tagtype[279] = TiffTags.LONG
    ifd[273] = 0
    ifd[279] = width * height
    return b"II*\0" + struct.pack("<I", 8) + ifd.tobytes(8) + b"\0" * 256


def write_dng(path: Path, rgb: np.ndarray, *, orientation: int = 1, date: str = DATE) -> Path:
    """A minimal uncompressed Bayer (RGGB) DNG made from an sRGB photo, with an Exif sub-IFD.

    The camera space is linear sRGB (ColorMatrix1 = XYZ->sRGB), so LibRaw should give back the
    photo itself: a strong check of the whole RAW path.
    """
    path.write_bytes(dng_bytes(rgb, orientation=orientation, date=date))
    return path


def dng_header_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A small DNG whose IFD0 claims width x height pixels."""
    data = bytearray(dng_bytes(kodak(1, (64, 48))))
    (count,) = struct.unpack_from("<H", data, 8)
    for i in range(count):
        off = 10 + 12 * i
        tag = struct.unpack_from("<H", data, off)[0]
        if tag in (256, 257, 278):
            struct.pack_into("<I", data, off + 8, width if tag == 256 else height)
    return bytes(data)


def dng_bytes(rgb: np.ndarray, *, orientation: int = 1, date: str = DATE) -> bytes:
    """The bytes of `write_dng`'s file."""
    R = TiffImagePlugin.IFDRational
    lin = np.asarray(rgb, dtype=np.float64) / 255.0
    lin = np.where(lin <= 0.04045, lin / 12.92, ((lin + 0.055) / 1.055) ** 2.4)
    h, w = lin.shape[:2]
    cfa = np.empty((h, w))
    cfa[0::2, 0::2] = lin[0::2, 0::2, 0]
    cfa[0::2, 1::2] = lin[0::2, 1::2, 1]
    cfa[1::2, 0::2] = lin[1::2, 0::2, 1]
    cfa[1::2, 1::2] = lin[1::2, 1::2, 2]
    black, white = 256, 16383
    data = np.rint(black + cfa * (white - black)).astype("<u2")
    L, S, B = TiffTags.LONG, TiffTags.SHORT, TiffTags.BYTE
    ifd = TiffImagePlugin.ImageFileDirectory_v2(prefix=b"II")

    def tag(code: int, value, typ: int) -> None:
        ifd.tagtype[code] = typ
        ifd[code] = value

    tag(254, 0, L)
    tag(256, w, L)
    tag(257, h, L)
    tag(258, 16, S)
    tag(259, 1, S)
    tag(262, 32803, S)  # CFA
    tag(271, "Silverprint", TiffTags.ASCII)
    tag(272, "Test Camera", TiffTags.ASCII)
    tag(274, orientation, S)
    tag(277, 1, S)
    tag(278, h, L)
    tag(273, 0, L)
    tag(279, data.nbytes, L)
    tag(284, 1, S)
    tag(33421, (2, 2), S)
    tag(33422, bytes((0, 1, 1, 2)), B)  # RGGB
    tag(50706, bytes((1, 4, 0, 0)), B)  # DNGVersion
    tag(50707, bytes((1, 1, 0, 0)), B)
    tag(50708, "Silverprint Test Camera", TiffTags.ASCII)
    tag(50714, black, L)
    tag(50717, white, L)
    xyz_to_srgb = np.array([[3.2404542, -1.5371385, -0.4985314],
                            [-0.9692660, 1.8760108, 0.0415560],
                            [0.0556434, -0.2040259, 1.0572252]])
    tag(50721, tuple(R(int(round(v * 10000)), 10000) for v in xyz_to_srgb.ravel()),
        TiffTags.SIGNED_RATIONAL)
    tag(50778, 21, S)  # D65
    tag(50728, (R(1, 1), R(1, 1), R(1, 1)), TiffTags.RATIONAL)  # AsShotNeutral
    ifd.tagtype[34665] = L
    ifd[34665] = {36867: date, 37521: "07"}
    return b"II*\0" + struct.pack("<I", 8) + ifd.tobytes(8) + data.tobytes()


# Published RGB -> XYZ (D65) matrices, used as an independent reference for the ICC conversions.
ADOBE_TO_XYZ = np.array([[0.5767309, 0.1855540, 0.1881852],
                         [0.2973769, 0.6273491, 0.0752741],
                         [0.0270343, 0.0706872, 0.9911085]])
P3_TO_XYZ = np.array([[0.4865709, 0.2656677, 0.1982173],
                      [0.2289746, 0.6917385, 0.0792869],
                      [0.0000000, 0.0451134, 1.0439444]])
XYZ_TO_SRGB = np.linalg.inv(np.array([[0.4124564, 0.3575761, 0.1804375],
                                      [0.2126729, 0.7151522, 0.0721750],
                                      [0.0193339, 0.1191920, 0.9503041]]))


def srgb_encode(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0, 1)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * x ** (1 / 2.4) - 0.055)


def srgb_decode(v: np.ndarray) -> np.ndarray:
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def adobe_to_srgb(codes: np.ndarray, top: int) -> np.ndarray:
    """Reference conversion of Adobe RGB (1998) codes to sRGB in [0, 1]."""
    lin = (np.asarray(codes, dtype=np.float64) / top) ** (563 / 256)
    return srgb_encode(lin @ (XYZ_TO_SRGB @ ADOBE_TO_XYZ).T)


def p3_to_srgb(codes: np.ndarray, top: int) -> np.ndarray:
    """Reference conversion of Display P3 codes (sRGB tone curve) to sRGB in [0, 1]."""
    lin = srgb_decode(np.asarray(codes, dtype=np.float64) / top)
    return srgb_encode(lin @ (XYZ_TO_SRGB @ P3_TO_XYZ).T)
