"""How many pixels an uploaded image will decode to, read from its header alone.

The render budget (`silverprint.service.budget`) must be reserved *before* a file is decoded: a
225 MP flat PNG is 671 KB on disk and 3.5 GB once rendered, so the upload's size says nothing.
Each format's header gives the size without touching the pixel data (the same readers
`silverprint.imageio` checks its pixel cap with): PNG, JPEG and WebP through Pillow's format
classes (parsing stops before the image data), TIFF through tifffile's first page, camera RAW
through LibRaw's ``open_file`` (no ``unpack``). Anything else gives None, and the caller assumes
the worst.
"""
from __future__ import annotations

from pathlib import Path


def _pillow_size(path: Path, kind: str) -> tuple[int, int]:
    from PIL import JpegImagePlugin, PngImagePlugin, WebPImagePlugin

    cls = {"png": PngImagePlugin.PngImageFile, "jpeg": JpegImagePlugin.JpegImageFile,
           "webp": WebPImagePlugin.WebPImageFile}[kind]
    with open(path, "rb") as handle, cls(handle) as image:
        return image.size


def _tiff_size(path: Path) -> tuple[int, int] | None:
    """The first page's size; None for a DNG (its first page may be a preview: LibRaw decodes it)."""
    import tifffile

    with tifffile.TiffFile(path) as tif:
        page = tif.pages.first
        if 50706 in page.tags:  # DNGVersion
            return None
        return int(page.imagewidth), int(page.imagelength)


def _raw_size(path: Path) -> tuple[int, int] | None:
    import rawpy

    raw = rawpy.RawPy()
    try:
        raw.open_file(str(path))
    except rawpy.LibRawError:
        return None
    with raw:
        sizes = raw.sizes
        return max(int(sizes.width), int(sizes.raw_width)), max(int(sizes.height), int(sizes.raw_height))


def image_pixels(path: Path) -> int | None:
    """Width x height from the header of the image at ``path``, or None when it cannot be told."""
    from ..imageio import RAW_SUFFIXES, sniff

    try:
        with open(path, "rb") as handle:
            kind = sniff(handle.read(16))
        size: tuple[int, int] | None = None
        if path.suffix.lower() in RAW_SUFFIXES:
            size = _raw_size(path)
        elif kind == "tiff":
            size = _tiff_size(path)
            if size is None or path.suffix.lower() not in (".tif", ".tiff"):  # DNG, or RAW (NEF, CR2...)
                size = _raw_size(path) or size
        elif kind is not None:
            size = _pillow_size(path, kind)
    except Exception:  # a damaged header: the decoder will say what is wrong
        return None
    if size is None or size[0] <= 0 or size[1] <= 0:
        return None
    return size[0] * size[1]
