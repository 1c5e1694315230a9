"""Write the fuzz seed corpus (`tests/data/fuzz/image`, `tests/data/fuzz/style`) from scratch.

Every seed is made here from synthetic pixels and hand-built metadata, by independent encoders
(Pillow, OpenCV, tifffile, a hand-written PNG chunk writer): no third-party files, so the corpus
is the project's own (MIT). Seeds are tiny (a few pixels) so that the fuzzer's mutations reach the
headers, EXIF and ICC blocks rather than pixel data. Regression seeds (inputs a campaign found) are
added by hand beside these and listed in `tests/data/fuzz/README.md`; this script leaves them be.

    .venv/bin/python tests/fuzz/make_seeds.py
"""
from __future__ import annotations

import io
import struct
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import tifffile
from PIL import Image, TiffImagePlugin

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

from imageio_fixtures import dng_bytes  # noqa: E402
from silverprint import icc  # noqa: E402
from silverprint.params import LEGACY_CURVE_KNOTS, Params, default_local  # noqa: E402
from silverprint.styles import builtins, make_style, style_to_json  # noqa: E402
from silverprint.styles.style import LinearDecoder  # noqa: E402

DATA = TESTS / "data" / "fuzz"


def pixels(h: int = 5, w: int = 6, channels: int = 3, dtype=np.uint8) -> np.ndarray:
    """A small colour ramp (deterministic) in the dtype's full range."""
    top = np.iinfo(dtype).max if np.dtype(dtype).kind == "u" else 1.0
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    planes = [(xs / max(w - 1, 1)), (ys / max(h - 1, 1)), ((xs + ys) % 3) / 2, (xs * ys) % 2][:channels]
    arr = np.stack(planes, axis=-1) * top
    arr = arr.astype(dtype) if np.dtype(dtype).kind == "u" else arr.astype(dtype)
    return arr[..., 0] if channels == 1 else arr


def exif(orientation: int = 6) -> bytes:
    ex = Image.Exif()
    ex[0x010F] = "Fuzz Camera"
    ex[0x0110] = "Model F"
    ex[0x0112] = orientation
    ex[0x8769] = {36867: "2024:01:02 03:04:05", 0xA001: 0xFFFF, 0x927C: b"maker note bytes"}
    R = TiffImagePlugin.IFDRational
    ex[0x8825] = {1: "N", 2: (R(48, 1), R(51, 1), R(2403, 100))}
    return ex.tobytes()


def para_profile() -> bytes:
    """A matrix/TRC RGB profile whose tone curves are `para` (type 3, the sRGB form) tags."""
    s15 = lambda v: struct.pack(">i", int(round(v * 65536)))  # noqa: E731
    para = b"para\0\0\0\0" + struct.pack(">HH", 3, 0) + b"".join(
        s15(v) for v in (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045))
    m = icc.rgb_to_xyz_d50(icc.DISPLAY_P3_PRIMARIES)
    xyz = lambda v: b"XYZ \0\0\0\0" + b"".join(s15(x) for x in v)  # noqa: E731
    return icc.build_profile("RGB", [
        (b"desc", icc._desc_tag("Fuzz P3 para")), (b"wtpt", xyz(icc.D50)),
        (b"rXYZ", xyz(m[:, 0])), (b"gXYZ", xyz(m[:, 1])), (b"bXYZ", xyz(m[:, 2])),
        (b"rTRC", para), (b"gTRC", para), (b"bTRC", para)])


def png_chunks(width: int, height: int, depth: int, colour: int, raw: bytes,
               extra: list[tuple[bytes, bytes]]) -> bytes:
    """A PNG written chunk by chunk (filter 0 rows), with ``extra`` chunks before the IDAT."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    row = len(raw) // height
    scan = b"".join(b"\0" + raw[y * row:(y + 1) * row] for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + b"".join(chunk(k, d) for k, d in extra)
            + chunk(b"IDAT", zlib.compress(scan)) + chunk(b"IEND", b""))


def claim_size(png: bytes, width: int, height: int) -> bytes:
    """``png`` with its IHDR claiming another size (CRC fixed): a header bomb."""
    ihdr = bytearray(png[12:29])
    struct.pack_into(">II", ihdr, 4, width, height)
    return png[:12] + bytes(ihdr) + struct.pack(">I", zlib.crc32(ihdr)) + png[33:]


def pil(arr: np.ndarray, fmt: str, mode: str | None = None, **kwargs) -> bytes:
    buf = io.BytesIO()
    im = Image.fromarray(arr)
    if mode:
        im = im.convert(mode)
    im.save(buf, fmt, **kwargs)
    return buf.getvalue()


def tif(arr: np.ndarray, **kwargs) -> bytes:
    buf = io.BytesIO()
    tifffile.imwrite(buf, arr, **kwargs)
    return buf.getvalue()


def image_seeds() -> dict[str, bytes]:
    rgb8 = pixels()
    rgb16 = pixels(dtype=np.uint16)
    seeds = {
        "png8-rgb.png": pil(rgb8, "PNG"),
        "png16-rgb.png": cv2.imencode(".png", rgb16[..., ::-1].copy())[1].tobytes(),
        "png16-grey.png": cv2.imencode(".png", pixels(channels=1, dtype=np.uint16))[1].tobytes(),
        "png-grey-alpha.png": pil(pixels(channels=4)[..., [0, 3]].copy(), "PNG"),
        "png-rgba.png": pil(pixels(channels=4), "PNG"),
        "png-palette-trns.png": pil(rgb8, "PNG", "P", transparency=0),
        "png-exif.png": pil(rgb8, "PNG", exif=exif(6)),
        "png16-para-icc.png": png_chunks(6, 5, 16, 2, rgb16.astype(">u2").tobytes(),
                                         [(b"iCCP", b"fuzz\0\0" + zlib.compress(para_profile()))]),
        "png-grey-icc.png": pil(pixels(channels=1), "PNG", icc_profile=icc.grey_profile()),
        "png-bomb.png": claim_size(png_chunks(6, 5, 8, 2, rgb8.tobytes(), []), 50_000, 50_000),
        "jpeg-exif.jpg": pil(rgb8, "JPEG", exif=exif(6), quality=90),
        "jpeg-adobe-icc.jpg": pil(rgb8, "JPEG", icc_profile=icc.adobe_rgb_profile()),
        "jpeg-cmyk.jpg": pil(rgb8, "JPEG", "CMYK"),
        "jpeg-grey-progressive.jpg": pil(pixels(channels=1), "JPEG", progressive=True),
        "tiff8-rgb.tif": tif(rgb8, photometric="rgb"),
        "tiff16-p3-icc.tif": tif(rgb16, photometric="rgb", extratags=[
            (34675, 7, None, icc.build_rgb_profile("Fuzz P3", icc.DISPLAY_P3_PRIMARIES, gamma=2.2),
             True)]),
        "tiff-float-grey.tif": tif(pixels(channels=1, dtype=np.float32)),
        "tiff16-planar-lzw.tif": tif(np.moveaxis(rgb16, -1, 0).copy(), photometric="rgb",
                                     planarconfig="separate", compression="lzw"),
        "tiff-miniswhite.tif": tif(pixels(channels=1), photometric="miniswhite"),
        "tiff-exif.tif": pil(rgb8, "TIFF", exif=exif(3)),
        "tiff-palette.tif": pil(rgb8, "TIFF", "P"),
        "tiff-cmyk.tif": pil(rgb8, "TIFF", "CMYK"),
        "webp.webp": pil(rgb8, "WEBP", lossless=True),
        "dng-rggb.dng": dng_bytes(pixels(32, 32)),  # LibRaw refuses smaller DNGs
    }
    seeds["truncated-png.png"] = seeds["png8-rgb.png"][:60]
    seeds["truncated-jpeg.jpg"] = seeds["jpeg-exif.jpg"][: len(seeds["jpeg-exif.jpg"]) - 40]
    seeds["truncated-tiff.tif"] = seeds["tiff8-rgb.tif"][:120]
    return seeds


def style_seeds() -> dict[str, bytes]:
    base = Params()
    base.set("sky.exposure", -0.7)
    base.set("skin.structure", -20)
    base.set("global.grain", 12)
    base.set("global.curve", [min(1.0, (i / 32) ** 0.9) for i in range(33)])
    for kind in ("graduated", "radial", "point"):
        local = default_local(kind)
        local["exposure"] = -0.4
        base.local.append(local)
    decoder = LinearDecoder(inputs=["lum_mean", "sky_area", "subject:portrait", "embed:0"],
                            outputs=["sky.exposure", "global.curve.16", "local0.exposure"],
                            weights=[[0.5, -1.0, 0.0, 0.1], [0.0, 0.2, 0.1, 0.0], [0.3, 0.0, 0.0, 0.0]],
                            bias=[0.0, 0.01, -0.1], center=[0.4, 0.1, 0.0, 0.0],
                            clip=[[-1.0, 1.0], [-0.1, 0.1], [-0.5, 0.5]])
    learned = make_style("fuzz-learned", "a learned style with every part", base,
                         subjects={"portrait": {"skin.exposure": 0.3, "global.curve.8": 0.02}},
                         decoder=decoder, pairs=3, metrics={"psnr": 40.0})
    v1 = {"schema": 1, "name": "fuzz-v1", "description": "a schema-1 style (17-knot curve)",
          "base": {"global": {"curve": [i / 16 for i in range(LEGACY_CURVE_KNOTS)]}},
          "proxies": builtins.shared_proxies().to_dict(),
          "subjects": {"landscape": {"global.curve.4": 0.05, "global.curve": [0.0] * 17}},
          "decoder": {"type": "linear", "inputs": ["lum_mean"], "outputs": ["global.curve.8"],
                      "weights": [[0.1]], "bias": [0.0], "clip": [[-0.1, 0.1]]}}
    import json

    seeds = {
        "builtin-silver.json": style_to_json(builtins.silver()),
        "builtin-sepia.json": style_to_json(builtins.sepia()),
        "learned-full.json": style_to_json(learned),
        "schema1.json": json.dumps(v1),
    }
    seeds["truncated.json"] = seeds["learned-full.json"][:300]
    return {k: v.encode() for k, v in seeds.items()}


def main() -> int:
    for target, seeds in (("image", image_seeds()), ("style", style_seeds())):
        folder = DATA / target
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in seeds.items():
            (folder / name).write_bytes(data)
        print(f"{target}: {len(seeds)} seeds, {sum(map(len, seeds.values())):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
