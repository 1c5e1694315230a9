"""ICC profiles: the grey profile Silverprint embeds, and matrix/TRC maths for 16-bit conversion.

Why this exists: Pillow's ImageCms (LittleCMS) converts only 8-bit images, and it cannot create a
grey profile. Working photographers' 16-bit TIFFs and PNGs are mostly tagged with matrix/TRC
profiles (Adobe RGB, Display P3, ProPhoto, Rec. 2020), whose conversion to sRGB is exactly
"linearise with the tone curves, 3x3 matrix through PCS XYZ (D50), encode sRGB" — done here in
float so 16-bit precision survives. Profiles built from LUTs (A2B tags) go through LittleCMS at 8 bits.

The writer builds small ICC v2 display profiles by hand (header, tag table, `desc`/`cprt`/`wtpt`
and `kTRC` or `rXYZ..bTRC`); v2 rather than v4 because every host application reads v2.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

#: The ICC profile connection space white (D50), as the s15Fixed16 values every profile uses.
D50 = (0.9642, 1.0, 0.8249)
D65_XY = (0.3127, 0.3290)
_BRADFORD = np.array([[0.8951, 0.2664, -0.1614],
                      [-0.7502, 1.7135, 0.0367],
                      [0.0389, -0.0685, 1.0296]])
GREY_PROFILE_NAME = "Silverprint Gray (sRGB tone curve)"


# --------------------------------------------------------------------------- tone curves
def srgb_encode(linear: np.ndarray) -> np.ndarray:
    """Linear light to sRGB-encoded values (IEC 61966-2-1)."""
    x = np.clip(linear, 0.0, 1.0)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)


def srgb_decode(encoded: np.ndarray) -> np.ndarray:
    """sRGB-encoded values to linear light."""
    v = np.clip(encoded, 0.0, 1.0)
    return np.where(v <= 0.04045, v / 12.92, np.power((v + 0.055) / 1.055, 2.4))


# --------------------------------------------------------------------------- writer
def _s15(v: float) -> bytes:
    return struct.pack(">i", int(round(v * 65536)))


def _xyz_tag(xyz) -> bytes:
    return b"XYZ \0\0\0\0" + b"".join(_s15(v) for v in xyz)


def _desc_tag(text: str) -> bytes:
    ascii_ = text.encode("ascii", "replace") + b"\0"
    # textDescriptionType: ASCII part, empty Unicode part, empty ScriptCode part (67 bytes).
    return (b"desc\0\0\0\0" + struct.pack(">I", len(ascii_)) + ascii_
            + struct.pack(">II", 0, 0) + struct.pack(">HB", 0, 0) + b"\0" * 67)


def _text_tag(text: str) -> bytes:
    return b"text\0\0\0\0" + text.encode("ascii", "replace") + b"\0"


def _curve_tag(gamma: float | None, samples: int = 4096) -> bytes:
    """`curv`: a pure gamma (one u8Fixed8 entry) or, with gamma None, the sRGB curve as a table."""
    if gamma is not None:
        return b"curv\0\0\0\0" + struct.pack(">IH", 1, int(round(gamma * 256)))
    table = np.rint(srgb_decode(np.linspace(0.0, 1.0, samples)) * 65535).astype(">u2")
    return b"curv\0\0\0\0" + struct.pack(">I", samples) + table.tobytes()


def build_profile(colour_space: str, tags: list[tuple[bytes, bytes]]) -> bytes:
    """Assemble an ICC v2.1 display-class profile with an XYZ PCS from (signature, data) tags."""
    count = len(tags)
    offset = 128 + 4 + 12 * count
    table = struct.pack(">I", count)
    body = b""
    seen: dict[bytes, int] = {}
    for sig, data in tags:
        if data in seen:  # identical tags (e.g. r/g/bTRC) share their data, as ICC allows
            table += sig + struct.pack(">II", seen[data], len(data))
            continue
        pad = b"\0" * (-len(body) % 4)
        body += pad
        seen[data] = offset + len(body)
        table += sig + struct.pack(">II", offset + len(body), len(data))
        body += data
    body += b"\0" * (-len(body) % 4)
    size = offset + len(body)
    header = (struct.pack(">I", size) + b"\0\0\0\0" + struct.pack(">I", 0x02100000) + b"mntr"
              + colour_space.encode().ljust(4) + b"XYZ " + struct.pack(">6H", 2026, 1, 1, 0, 0, 0)
              + b"acsp" + b"\0" * 4 + b"\0" * 4 + b"\0" * 8 + b"\0" * 8 + struct.pack(">I", 0)
              + b"".join(_s15(v) for v in D50) + b"\0" * 4 + b"\0" * 16 + b"\0" * 28)
    assert len(header) == 128
    return header + table + body


@lru_cache(maxsize=1)
def grey_profile() -> bytes:
    """A grey ICC profile with the sRGB tone curve: grey values mean what sRGB greys mean."""
    return build_profile("GRAY", [
        (b"desc", _desc_tag(GREY_PROFILE_NAME)),
        (b"cprt", _text_tag("No copyright, use freely")),
        (b"wtpt", _xyz_tag(D50)),
        (b"kTRC", _curve_tag(None)),
    ])


def _xy_to_xyz(x: float, y: float) -> np.ndarray:
    return np.array([x / y, 1.0, (1 - x - y) / y])


def _bradford(src_white: np.ndarray, dst_white: np.ndarray) -> np.ndarray:
    s = _BRADFORD @ src_white
    d = _BRADFORD @ dst_white
    return np.linalg.inv(_BRADFORD) @ np.diag(d / s) @ _BRADFORD


def rgb_to_xyz_d50(primaries: tuple[tuple[float, float], ...], white_xy=D65_XY) -> np.ndarray:
    """The D50-adapted RGB->XYZ matrix of an RGB space, as an ICC matrix profile stores it."""
    white = _xy_to_xyz(*white_xy)
    prim = np.stack([_xy_to_xyz(x, y) for x, y in primaries], axis=1)
    scale = np.linalg.solve(prim, white)
    m = prim * scale
    return _bradford(white, np.array(D50)) @ m


def build_rgb_profile(description: str, primaries: tuple[tuple[float, float], ...],
                      white_xy=D65_XY, gamma: float | None = None) -> bytes:
    """A matrix/TRC RGB profile (gamma None = sRGB curve); used to make Adobe RGB / P3 test files."""
    m = rgb_to_xyz_d50(primaries, white_xy)
    trc = _curve_tag(gamma)
    return build_profile("RGB", [
        (b"desc", _desc_tag(description)),
        (b"cprt", _text_tag("No copyright, use freely")),
        (b"wtpt", _xyz_tag(D50)),
        (b"rXYZ", _xyz_tag(m[:, 0])), (b"gXYZ", _xyz_tag(m[:, 1])), (b"bXYZ", _xyz_tag(m[:, 2])),
        (b"rTRC", trc), (b"gTRC", trc), (b"bTRC", trc),
    ])


ADOBE_RGB_PRIMARIES = ((0.64, 0.33), (0.21, 0.71), (0.15, 0.06))
DISPLAY_P3_PRIMARIES = ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060))
SRGB_PRIMARIES = ((0.64, 0.33), (0.30, 0.60), (0.15, 0.06))
ADOBE_RGB_NAME = "Adobe RGB (1998) compatible"


@lru_cache(maxsize=1)
def adobe_rgb_profile() -> bytes:
    """Adobe RGB (1998) primaries, D65, gamma 563/256: for cameras that only say so in EXIF."""
    return build_rgb_profile(ADOBE_RGB_NAME, ADOBE_RGB_PRIMARIES, gamma=563 / 256)


# --------------------------------------------------------------------------- reader
@dataclass(frozen=True)
class ParsedProfile:
    """What Silverprint needs to know about an embedded profile."""

    colour_space: str  # "RGB", "GRAY", "CMYK", ...
    description: str
    matrix: np.ndarray | None  # (3, 3) device RGB (linear) -> XYZ D50, None if not matrix/TRC
    curves: tuple[np.ndarray, ...] | None  # per channel: 65536-entry float32 LUT code -> linear

    @property
    def is_matrix_trc(self) -> bool:
        return self.curves is not None


def _tag_table(data: bytes) -> dict[bytes, bytes]:
    (count,) = struct.unpack_from(">I", data, 128)
    if count > 1000:
        raise ValueError("implausible ICC tag count")
    tags = {}
    for i in range(count):
        sig, off, size = struct.unpack_from(">4sII", data, 132 + 12 * i)
        if off + size > len(data):
            raise ValueError("ICC tag outside the profile")
        tags[sig] = data[off:off + size]
    return tags


def _read_xyz(tag: bytes) -> np.ndarray:
    if tag[:4] != b"XYZ ":
        raise ValueError("not an XYZ tag")
    return np.array(struct.unpack_from(">3i", tag, 8), dtype=np.float64) / 65536.0


def _read_text(tag: bytes) -> str:
    kind = tag[:4]
    if kind == b"desc":
        (n,) = struct.unpack_from(">I", tag, 8)
        return tag[12:12 + n].split(b"\0")[0].decode("latin-1").strip()
    if kind == b"mluc":
        count, _ = struct.unpack_from(">II", tag, 8)
        if count:
            _, length, off = struct.unpack_from(">4sII", tag, 16)
            return tag[off:off + length].decode("utf-16-be", "replace").strip("\0 ").strip()
        return ""
    if kind == b"text":
        return tag[8:].split(b"\0")[0].decode("latin-1").strip()
    return ""


def curve_lut(tag: bytes, size: int = 65536) -> np.ndarray:
    """A `curv` or `para` tag sampled at `size` evenly spaced codes: float32 linear values.

    Values are clipped to [0, 1], as ICC.1 requires of a curve's range: a `para` tag's
    parameters are any s15Fixed16 numbers, and an embedded profile is data from anyone (a slope
    of 30000 to the power 100 is inf, and inf through the matrix NaN, which no index can be).
    """
    with np.errstate(all="ignore"):
        return np.nan_to_num(_curve_values(tag, np.linspace(0.0, 1.0, size)), nan=0.0).clip(
            0.0, 1.0).astype(np.float32)


def _curve_values(tag: bytes, x: np.ndarray) -> np.ndarray:
    kind = tag[:4]
    if kind == b"curv":
        (n,) = struct.unpack_from(">I", tag, 8)
        if n == 0:
            y = x
        elif n == 1:
            (g,) = struct.unpack_from(">H", tag, 12)
            y = np.power(x, g / 256.0)
        else:
            table = np.frombuffer(tag, dtype=">u2", count=n, offset=12).astype(np.float64) / 65535
            y = np.interp(x, np.linspace(0.0, 1.0, n), table)
    elif kind == b"para":
        (fn,) = struct.unpack_from(">H", tag, 8)
        nparams = {0: 1, 1: 3, 2: 4, 3: 5, 4: 7}[fn]
        # numpy scalars: a zero slope divides to inf / nan (no point of the curve), not an error
        p = np.array(struct.unpack_from(f">{nparams}i", tag, 12), dtype=np.float64) / 65536.0
        g = p[0]
        if fn == 0:
            y = np.power(x, g)
        elif fn == 1:
            a, b = p[1], p[2]
            y = np.where(x >= -b / a, np.power(np.maximum(a * x + b, 0), g), 0.0)
        elif fn == 2:
            a, b, c = p[1:4]
            y = np.where(x >= -b / a, np.power(np.maximum(a * x + b, 0), g) + c, c)
        elif fn == 3:
            a, b, c, d = p[1:5]
            y = np.where(x >= d, np.power(np.maximum(a * x + b, 0), g), c * x)
        else:
            a, b, c, d, e, f = p[1:7]
            y = np.where(x >= d, np.power(np.maximum(a * x + b, 0), g) + e, c * x + f)
    else:
        raise ValueError(f"unsupported curve type {kind!r}")
    return y


def parse_profile(data: bytes) -> ParsedProfile:
    """Read an ICC profile's colour space, description and (if it has one) its matrix/TRC model."""
    if len(data) < 132 or data[36:40] != b"acsp":
        raise ValueError("not an ICC profile")
    colour_space = data[16:20].decode("latin-1").strip()
    tags = _tag_table(data)
    description = _read_text(tags[b"desc"]) if b"desc" in tags else ""
    matrix = curves = None
    # A LUT-based profile (A2B0) is preferred by colour engines, so only use the matrix without one.
    if b"A2B0" not in tags:
        try:
            if colour_space == "RGB" and all(k in tags for k in (b"rXYZ", b"gXYZ", b"bXYZ",
                                                                  b"rTRC", b"gTRC", b"bTRC")):
                matrix = np.stack([_read_xyz(tags[k]) for k in (b"rXYZ", b"gXYZ", b"bXYZ")], axis=1)
                curves = tuple(curve_lut(tags[k]) for k in (b"rTRC", b"gTRC", b"bTRC"))
            elif colour_space == "GRAY" and b"kTRC" in tags:
                curves = (curve_lut(tags[b"kTRC"]),)
        except (ValueError, KeyError, struct.error):
            matrix = curves = None
    return ParsedProfile(colour_space, description, matrix, curves)


@lru_cache(maxsize=1)
def srgb_profile() -> bytes:
    """LittleCMS's built-in sRGB profile, embedded in toned (colour) outputs."""
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@lru_cache(maxsize=1)
def _srgb_matrix() -> np.ndarray:
    return rgb_to_xyz_d50(SRGB_PRIMARIES)


def is_srgb(profile: ParsedProfile, tolerance: float = 2e-3) -> bool:
    """True for a matrix/TRC profile that is sRGB in all but name (no conversion needed); for a
    grey profile, true when its tone curve is the sRGB curve."""
    if profile.colour_space not in ("RGB", "GRAY") or not profile.is_matrix_trc:
        return False
    if profile.colour_space == "RGB" and np.abs(profile.matrix - _srgb_matrix()).max() > tolerance * 2:
        return False
    probe = np.linspace(0, 65535, 33).astype(np.int64)
    want = srgb_decode(probe / 65535.0)
    return all(np.abs(c[probe] - want).max() < tolerance for c in profile.curves)


def to_srgb_matrix(profile: ParsedProfile) -> np.ndarray:
    """Device-linear RGB of `profile` to linear sRGB (relative colorimetric, through D50 XYZ)."""
    return np.linalg.inv(_srgb_matrix()) @ profile.matrix


@lru_cache(maxsize=1)
def srgb_encode_lut() -> np.ndarray:
    """2**20 + 1 entries, linear -> 16-bit sRGB code: fine enough that shadows keep 16-bit steps."""
    x = np.linspace(0.0, 1.0, (1 << 20) + 1)
    return np.rint(srgb_encode(x) * 65535).astype(np.uint16)
