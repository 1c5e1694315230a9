"""EXIF blocks: keep the photographer's metadata, but never a stale orientation or thumbnail.

A block is kept TIFF-structured (it starts with the TIFF byte-order mark "II" or "MM", without
the "Exif" + two NUL bytes that JPEG's APP1 segment puts in front).
Loading patches Orientation to 1 in place (the pixels are rotated instead) and unlinks the
thumbnail IFD, which would show the colour original in file browsers. RAW files get a block built
from exifread's reading of the descriptive tags, because LibRaw does not expose theirs.
"""
from __future__ import annotations

import struct
from typing import BinaryIO


def _endian(blob: bytes) -> str:
    """struct byte-order prefix of a TIFF-structured block."""
    if blob[:2] == b"II":
        return "<"
    if blob[:2] == b"MM":
        return ">"
    raise ValueError("not a TIFF-structured EXIF block")


def strip_header(blob: bytes | None) -> bytes | None:
    """The TIFF-structured block, without JPEG's 'Exif' prefix; None for an empty one."""
    if not blob:
        return None
    if blob.startswith(b"Exif\0\0"):
        blob = blob[6:]
    return blob or None


def _entries(buf: bytes, e: str, ifd: int):
    """(entry offset, tag, type, count) for each entry of the IFD at `ifd`; checks bounds."""
    (count,) = struct.unpack_from(e + "H", buf, ifd)
    if ifd + 2 + 12 * count + 4 > len(buf):
        raise ValueError("IFD outside the block")
    for i in range(count):
        off = ifd + 2 + 12 * i
        tag, typ, n = struct.unpack_from(e + "HHI", buf, off)
        yield off, tag, typ, n


def reset_orientation(blob: bytes | None, *, srgb: bool = False) -> tuple[bytes | None, int]:
    """Return (EXIF with Orientation set to 1 and the thumbnail IFD unlinked, old orientation).

    With `srgb` (for outputs, which are sRGB or grey with the sRGB curve) the Exif ColorSpace is
    set to sRGB too, so that a camera's "Adobe RGB" marking does not outlive the conversion.
    The block is patched in place rather than re-serialised, so maker notes and every other tag
    keep their exact bytes and offsets. An unparseable block is dropped (orientation 1).
    """
    blob = strip_header(blob)
    if blob is None:
        return None, 1
    try:
        e = _endian(blob)
        if struct.unpack_from(e + "H", blob, 2)[0] != 42:
            raise ValueError("bad TIFF magic")
        (ifd0,) = struct.unpack_from(e + "I", blob, 4)
        buf = bytearray(blob)
        orientation = 1
        exif_ifd = None
        end = ifd0 + 2
        for off, tag, typ, n in _entries(buf, e, ifd0):
            end = off + 12
            if tag == 0x0112 and typ == 3 and n == 1:
                (orientation,) = struct.unpack_from(e + "H", buf, off + 8)
                struct.pack_into(e + "H", buf, off + 8, 1)
            elif tag == 0x8769 and n == 1:
                (exif_ifd,) = struct.unpack_from(e + "I", buf, off + 8)
        struct.pack_into(e + "I", buf, end, 0)  # no IFD1: its thumbnail shows the colour original
        if srgb and exif_ifd:
            try:
                for off, tag, typ, n in _entries(buf, e, exif_ifd):
                    if tag == 0xA001 and typ == 3 and n == 1:
                        struct.pack_into(e + "H", buf, off + 8, 1)
            except (ValueError, struct.error):
                pass  # a broken Exif IFD is the reader's problem; IFD0 is sound
        return bytes(buf), orientation if 1 <= orientation <= 8 else 1
    except (ValueError, struct.error):
        return None, 1


IFD0_KEEP = (270, 271, 272, 282, 283, 296, 305, 306, 315, 33432)  # description, make, model,
# resolution, software, date, artist, copyright: the IFD0 tags that describe the photo, not the file


def from_pillow(exif_obj) -> bytes | None:
    """A clean EXIF block from a Pillow `Exif` read out of a TIFF (whose IFD0 also holds strips)."""
    from PIL import Image

    out = Image.Exif()
    for tag in IFD0_KEEP:
        if tag in exif_obj:
            out[tag] = exif_obj[tag]
    out[0x0112] = exif_obj.get(0x0112, 1)
    for sub in (0x8769, 0x8825):
        try:
            ifd = exif_obj.get_ifd(sub)
        except Exception:  # a broken sub-IFD costs only that sub-IFD
            ifd = {}
        if ifd:
            out[sub] = dict(ifd)
    if len(out) <= 1 and out[0x0112] == 1:
        return None  # nothing worth carrying (an orientation alone still has to reach the loader)
    return strip_header(out.tobytes())


def implies_adobe_rgb(blob: bytes | None) -> bool:
    """True for the DCF convention of cameras set to Adobe RGB that embed no ICC profile:
    ColorSpace = Uncalibrated (0xFFFF) with the interoperability index "R03"."""
    if not blob:
        return False
    from PIL import Image

    try:
        ex = Image.Exif()
        ex.load(blob)
        if ex.get_ifd(0x8769).get(0xA001) != 0xFFFF:
            return False
        index = ex.get_ifd(0xA005).get(1, "")
        return str(index).strip("\0 ").upper() == "R03"
    except Exception:
        return False


#: exifread names -> (EXIF tag, IFD) for the RAW metadata worth carrying into an output.
_RAW_TAGS = {
    "Image Make": (271, 0), "Image Model": (272, 0), "Image Artist": (315, 0),
    "Image Copyright": (33432, 0), "Image DateTime": (306, 0),
    "EXIF DateTimeOriginal": (36867, 0x8769), "EXIF DateTimeDigitized": (36868, 0x8769),
    "EXIF SubSecTimeOriginal": (37521, 0x8769), "EXIF OffsetTimeOriginal": (36881, 0x8769),
    "EXIF ExposureTime": (33434, 0x8769), "EXIF FNumber": (33437, 0x8769),
    "EXIF ISOSpeedRatings": (34855, 0x8769), "EXIF ExposureBiasValue": (37380, 0x8769),
    "EXIF FocalLength": (37386, 0x8769), "EXIF FocalLengthIn35mmFilm": (41989, 0x8769),
    "EXIF LensMake": (42035, 0x8769), "EXIF LensModel": (42036, 0x8769),
    "EXIF BodySerialNumber": (42033, 0x8769), "EXIF ImageUniqueID": (42016, 0x8769),
}


def from_exifread(stream: BinaryIO) -> tuple[bytes | None, int]:
    """EXIF for RAW files (LibRaw does not expose it): the descriptive tags, via exifread."""
    import exifread
    from PIL import Image, TiffImagePlugin

    try:
        tags = exifread.process_file(stream, details=False, extract_thumbnail=False)
    except Exception:
        return None, 1
    orientation_tag = tags.get("Image Orientation")
    orientation = 1
    if orientation_tag is not None and orientation_tag.values:
        try:
            orientation = int(orientation_tag.values[0])
        except (TypeError, ValueError):
            pass
    out = Image.Exif()
    sub: dict[int, object] = {}
    for name, (code, ifd) in _RAW_TAGS.items():
        tag = tags.get(name) or tags.get("Image " + name.split(" ", 1)[1])  # TIFF/EP keeps IFD0
        if tag is None:
            continue
        values = tag.values
        if isinstance(values, str):
            value: object = values.strip("\0 ")
            if not value:
                continue
        else:
            conv = []
            for v in values if isinstance(values, (list, tuple)) else [values]:
                if hasattr(v, "numerator") and hasattr(v, "denominator") and not isinstance(v, int):
                    conv.append(TiffImagePlugin.IFDRational(int(v.numerator), int(v.denominator)
                                                            or 1))
                else:
                    conv.append(v)
            if not conv:
                continue
            value = conv[0] if len(conv) == 1 else tuple(conv)
        if ifd:
            sub[code] = value
        else:
            out[code] = value
    if not len(out) and not sub:
        return None, orientation
    out[0x0112] = 1
    if sub:
        out[0x8769] = sub
    try:
        return strip_header(out.tobytes()), orientation
    except Exception:
        return None, orientation


def tiff_tags(exif: bytes) -> dict[int, object]:
    """IFD0 tags worth keeping plus the Exif / GPS sub-IFDs, as a dict for a TIFF IFD."""
    from PIL import Image

    try:
        ex = Image.Exif()
        ex.load(exif)
        tags: dict[int, object] = {t: ex[t] for t in IFD0_KEEP if t in ex}
        for sub in (0x8769, 0x8825):
            ifd = ex.get_ifd(sub)
            if ifd:
                tags[sub] = {k: v for k, v in ifd.items() if not isinstance(v, dict)}
        return tags
    except Exception:  # EXIF is a courtesy: a broken block must not cost the user the output
        return {}


def shrink_for_jpeg(exif: bytes) -> bytes | None:
    from PIL import Image

    try:
        ex = Image.Exif()
        ex.load(exif)
        sub = ex.get_ifd(0x8769)
        for tag in (0x927C, 0x9286):  # MakerNote, UserComment
            sub.pop(tag, None)
        data = ex.tobytes()
        return data if len(data) <= 65533 else None
    except Exception:
        return None
