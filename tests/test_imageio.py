"""Image I/O on real files: formats in and out, 16-bit precision, EXIF, ICC, bad inputs, safety."""
from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import cv2
import exifread
import numpy as np
import pytest
import tifffile
from PIL import Image, ImageCms, ImageFile, ImageOps

import imageio_fixtures as fx
from silverprint import icc, imageio
from silverprint.errors import BadInputError

A98 = Path("/usr/share/color/icc/ghostscript/a98.icc")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def exif_tags(path_or_bytes) -> dict[str, str]:
    f = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else open(path_or_bytes, "rb")
    with f:
        return {k: str(v) for k, v in exifread.process_file(f, details=False).items()}


def save_pil(path: Path, arr: np.ndarray, **kw) -> Path:
    Image.fromarray(arr).save(path, **kw)
    return path


# --------------------------------------------------------------------------- reading formats
@pytest.mark.parametrize("suffix,kw", [(".png", {}), (".tif", {"compression": "tiff_lzw"}),
                                        (".tif", {}), (".webp", {"lossless": True})])
def test_lossless_8bit_formats_load_exactly(tmp_path, suffix, kw):
    arr = fx.kodak(3)
    path = save_pil(tmp_path / f"photo{suffix}", arr, **kw)
    photo = imageio.load_image(path)
    assert photo.pixels.dtype == np.uint8 and photo.bit_depth == 8
    assert photo.size == (arr.shape[1], arr.shape[0])
    np.testing.assert_array_equal(photo.pixels, arr)
    assert photo.icc_name == imageio.SRGB_ASSUMED
    assert photo.source == path
    rgb = photo.rgb
    assert rgb.dtype == np.float32 and rgb.shape == arr.shape
    np.testing.assert_allclose(rgb, arr / 255.0, atol=1e-6)


def test_jpeg_loads_like_libjpeg(tmp_path):
    arr = fx.kodak(5)
    path = save_pil(tmp_path / "photo.jpg", arr, quality=90)
    photo = imageio.load_image(path)
    np.testing.assert_array_equal(photo.pixels, np.asarray(Image.open(path)))
    assert np.abs(photo.pixels.astype(int) - arr).mean() < 5  # and it is the photo


def test_16bit_png_and_tiff_keep_16_bits(tmp_path):
    ramp = np.rint(fx.gradient(48, 1000) * 65535).astype(np.uint16)
    rgb16 = np.dstack([ramp, ramp[:, ::-1], (ramp // 2)])
    cv2.imwrite(str(tmp_path / "rgb16.png"), rgb16[..., ::-1])  # libpng, BGR order
    tifffile.imwrite(tmp_path / "rgb16.tif", rgb16, photometric="rgb", compression="zlib")
    tifffile.imwrite(tmp_path / "planar16.tif", np.moveaxis(rgb16, 2, 0), photometric="rgb",
                     planarconfig="separate")
    Image.fromarray(ramp).save(tmp_path / "grey16.png")  # Pillow: mode I;16
    for name in ("rgb16.png", "rgb16.tif", "planar16.tif"):
        photo = imageio.load_image(tmp_path / name)
        assert photo.pixels.dtype == np.uint16 and photo.bit_depth == 16, name
        np.testing.assert_array_equal(photo.pixels, rgb16, err_msg=name)
    grey = imageio.load_image(tmp_path / "grey16.png")
    assert grey.pixels.dtype == np.uint16 and grey.pixels.shape == ramp.shape + (3,)
    for c in range(3):
        np.testing.assert_array_equal(grey.pixels[..., c], ramp)


def test_grey_rgba_and_palette_become_rgb(tmp_path):
    arr = fx.kodak(7)
    grey = np.asarray(Image.fromarray(arr).convert("L"))
    save_pil(tmp_path / "grey.png", grey)
    photo = imageio.load_image(tmp_path / "grey.png")
    assert photo.pixels.shape == arr.shape
    assert all((photo.pixels[..., c] == grey).all() for c in range(3))

    rgba = np.dstack([arr, np.full(arr.shape[:2], 255, np.uint8)])
    rgba[:10, :, 3] = 0  # fully transparent band: composited onto white paper
    rgba[10:20, :, 3] = 128
    save_pil(tmp_path / "rgba.png", rgba)
    photo = imageio.load_image(tmp_path / "rgba.png")
    assert photo.pixels.shape == arr.shape
    assert (photo.pixels[:10] == 255).all()
    np.testing.assert_array_equal(photo.pixels[20:], arr[20:])
    half = (arr[10:20].astype(int) * 128 + 255 * 127 + 127) // 255
    assert np.abs(photo.pixels[10:20].astype(int) - half).max() <= 1

    pal = Image.fromarray(arr).quantize(64)
    pal.save(tmp_path / "pal.png")
    photo = imageio.load_image(tmp_path / "pal.png")
    np.testing.assert_array_equal(photo.pixels, np.asarray(pal.convert("RGB")))


def test_bytes_loader_matches_file_loader(tmp_path):
    path = save_pil(tmp_path / "p.jpg", fx.kodak(2), exif=fx.exif_block(6))
    a = imageio.load_image(path)
    b = imageio.load_image_bytes(path.read_bytes(), "upload.jpg")
    np.testing.assert_array_equal(a.pixels, b.pixels)
    assert a.exif == b.exif and b.source is None


def test_pixels_are_read_only_and_compact(tmp_path):
    photo = imageio.load_image(save_pil(tmp_path / "p.png", fx.kodak(4)))
    assert photo.pixels.nbytes == photo.width * photo.height * 3  # uint8: 3 bytes a pixel
    with pytest.raises(ValueError):
        photo.pixels[0, 0, 0] = 1


def test_preview_is_small_and_faithful(tmp_path):
    arr = fx.kodak(8, None)  # full 768 x 512
    path = save_pil(tmp_path / "p.jpg", arr, quality=95, exif=fx.exif_block(8))
    full = imageio.load_image(path)
    small = imageio.load_preview(path, 192)
    assert max(small.size) == 192
    assert small.size == (128, 192)  # orientation 8 applied: portrait
    ref = cv2.resize(np.ascontiguousarray(full.pixels), small.size, interpolation=cv2.INTER_AREA)
    assert np.abs(small.pixels.astype(int) - ref).mean() < 4
    assert imageio.load_preview(path, 5000).size == full.size  # never enlarged


# --------------------------------------------------------------------------- orientation, EXIF
@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_applied_and_reset(tmp_path, orientation):
    arr = fx.kodak(9, (96, 64))
    path = save_pil(tmp_path / "o.png", arr, exif=fx.exif_block(orientation))
    photo = imageio.load_image(path)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))
    np.testing.assert_array_equal(photo.pixels, expected)
    tags = exif_tags(photo.exif)
    assert tags["Image Orientation"] == "Horizontal (normal)"
    assert tags["EXIF DateTimeOriginal"] == fx.DATE


@pytest.mark.parametrize("fmt", imageio.OUTPUT_FORMATS)
def test_exif_survives_into_every_output(tmp_path, fmt):
    src = save_pil(tmp_path / "in.jpg", fx.kodak(10), exif=fx.exif_block(6), quality=92)
    photo = imageio.load_image(src)
    grey = photo.rgb.mean(axis=2)
    out = imageio.save_image(tmp_path / f"out{imageio.FORMAT_SUFFIX[fmt]}", grey, fmt,
                             exif=photo.exif)
    tags = exif_tags(out)
    assert tags["EXIF DateTimeOriginal"] == fx.DATE
    assert tags["EXIF SubSecTimeOriginal"] == "07"
    assert tags["Image Make"] == "Silverprint Test"
    assert tags["Image Orientation"] == "Horizontal (normal)"
    assert tags["GPS GPSLatitude"] == "[48, 51, 2403/100]" and tags["GPS GPSLatitudeRef"] == "N"
    back = imageio.load_image(out)  # loads upright, no second rotation
    assert back.size == photo.size
    with Image.open(out) as im:
        assert im.getexif().get(0x0112) == 1


def test_raw_orientation_in_exif_block_is_reset_when_saving(tmp_path):
    """save_image forces Orientation 1 even for a block that still says 6."""
    raw_block = fx.exif_block(6)
    out = imageio.save_image(tmp_path / "o.jpg", fx.gradient(16, 32), "jpeg", exif=raw_block)
    assert exif_tags(out)["Image Orientation"] == "Horizontal (normal)"


def test_huge_maker_note_does_not_lose_jpeg_exif(tmp_path):
    block = fx.exif_block(1, maker_note=b"\x01" * 70_000)
    out = imageio.save_image(tmp_path / "o.jpg", fx.gradient(16, 32), "jpeg", exif=block)
    assert exif_tags(out)["EXIF DateTimeOriginal"] == fx.DATE
    png = imageio.save_image(tmp_path / "o.png", fx.gradient(16, 32), "png16", exif=block)
    assert exif_tags(png)["EXIF DateTimeOriginal"] == fx.DATE


# --------------------------------------------------------------------------- writing
def test_png16_is_really_16bit_grey(tmp_path):
    ramp = fx.gradient()
    out = imageio.save_image(tmp_path / "g.png", ramp, "png16")
    raw = out.read_bytes()
    bit_depth, colour_type = raw[24], raw[25]
    assert (bit_depth, colour_type) == (16, 0)
    with Image.open(out) as im:
        assert im.mode.startswith("I;16")
        codes = np.asarray(im).astype(np.int64)
    assert len(np.unique(codes)) > 256
    assert np.abs(codes - ramp.astype(np.float64) * 65535).max() <= 0.5 + 4e-3  # float32 product rounding


def test_tiff16_is_really_16bit_and_readable_by_others(tmp_path):
    ramp = fx.gradient()
    out = imageio.save_image(tmp_path / "g.tif", ramp, "tiff16")
    with tifffile.TiffFile(out) as tif:
        page = tif.pages.first
        assert page.dtype == np.uint16 and page.compression in (8, 32946)
        codes = page.asarray()
    assert np.abs(codes - ramp.astype(np.float64) * 65535).max() <= 0.5 + 4e-3  # float32 product rounding
    with Image.open(out) as im:  # libtiff reads it too
        np.testing.assert_array_equal(np.asarray(im).astype(np.uint16), codes)
    assert len(np.unique(codes)) > 256


def test_toned_outputs_are_16bit_rgb_with_srgb(tmp_path):
    arr = fx.kodak(11).astype(np.float32) / 255.0
    toned = np.ascontiguousarray(arr * np.array([1.0, 0.95, 0.85], np.float32))
    png = imageio.save_image(tmp_path / "t.png", toned, "png16")
    assert png.read_bytes()[24:26] == bytes((16, 2))
    back = cv2.imread(str(png), cv2.IMREAD_UNCHANGED)[..., ::-1]
    assert np.abs(back - toned.astype(np.float64) * 65535).max() <= 0.5 + 4e-3  # float32 product rounding
    tif = imageio.save_image(tmp_path / "t.tif", toned, "tiff16")
    np.testing.assert_array_equal(tifffile.imread(tif), back)
    for path in (png, tif, imageio.save_image(tmp_path / "t.jpg", toned, "jpeg")):
        with Image.open(path) as im:
            assert im.mode in ("RGB", "I;16", "I;16B") or im.mode.startswith("RGB")
            prof = ImageCms.ImageCmsProfile(io.BytesIO(im.info["icc_profile"]))
            assert prof.profile.xcolor_space.strip() == "RGB"
            assert "sRGB" in prof.profile.profile_description


@pytest.mark.parametrize("fmt", imageio.OUTPUT_FORMATS)
def test_grey_outputs_carry_the_grey_profile(tmp_path, fmt):
    out = imageio.save_image(tmp_path / f"g{imageio.FORMAT_SUFFIX[fmt]}", fx.gradient(8, 256), fmt)
    with Image.open(out) as im:
        assert im.mode in ("L", "I;16", "I;16B", "I")
        data = im.info["icc_profile"]
    assert data == icc.grey_profile()
    prof = ImageCms.ImageCmsProfile(io.BytesIO(data))
    assert prof.profile.xcolor_space.strip() == "GRAY"
    assert prof.profile.profile_description == icc.GREY_PROFILE_NAME


def test_grey_profile_means_srgb_greys():
    """LittleCMS maps every grey code through the profile to the same sRGB grey (within 1)."""
    grey = Image.fromarray(np.arange(256, dtype=np.uint8).reshape(16, 16), "L")
    prof = ImageCms.ImageCmsProfile(io.BytesIO(icc.grey_profile()))
    rgb = ImageCms.profileToProfile(grey, prof, ImageCms.createProfile("sRGB"), outputMode="RGB")
    diff = np.asarray(rgb).astype(int) - np.arange(256).reshape(16, 16, 1)
    assert np.abs(diff).max() <= 1


def test_round_trip_through_our_own_files(tmp_path):
    arr = fx.kodak(12).astype(np.float32) / 255.0
    for fmt in ("png16", "tiff16"):
        out = imageio.save_image(tmp_path / f"r{imageio.FORMAT_SUFFIX[fmt]}", arr, fmt)
        back = imageio.load_image(out)
        assert back.bit_depth == 16 and back.icc_name.startswith("sRGB")
        np.testing.assert_allclose(back.rgb, arr, atol=1 / 65535 + 1e-7)
    grey = fx.gradient(32, 300)
    back = imageio.load_image(imageio.save_image(tmp_path / "g.png", grey, "png16"))
    np.testing.assert_allclose(back.rgb[..., 1], grey, atol=1.5 / 65535)
    jpg = imageio.load_image(imageio.save_image(tmp_path / "g.jpg", grey, "jpeg"))
    assert np.abs(jpg.rgb[..., 0] - grey).mean() < 1 / 255


def test_format_for_path():
    assert imageio.format_for_path("a.PNG") == "png16"
    assert imageio.format_for_path("a.tif") == imageio.format_for_path("b.TIFF") == "tiff16"
    assert imageio.format_for_path("a.jpeg") == imageio.format_for_path("a.JPG") == "jpeg"
    with pytest.raises(BadInputError, match=r"a\.bmp: unsupported output type '\.bmp'"):
        imageio.format_for_path("a.bmp")
    assert {".jpg", ".png", ".tif", ".tiff", ".webp", ".dng", ".cr3", ".nef"} <= imageio.INPUT_SUFFIXES


# --------------------------------------------------------------------------- ICC conversion
def _tagged(tmp_path: Path, name: str, codes: np.ndarray, profile: bytes) -> Path:
    if codes.dtype == np.uint16:
        path = tmp_path / f"{name}.tif"
        tifffile.imwrite(path, codes, photometric="rgb", iccprofile=profile)
    else:
        path = tmp_path / f"{name}.png"
        Image.fromarray(codes).save(path, icc_profile=profile)
    return path


def _patches(top: int) -> np.ndarray:
    """A saturated green, a skin tone, a sky blue, neutral greys — one patch each."""
    colours = np.array([[40, 170, 60], [200, 150, 120], [90, 140, 210], [128, 128, 128],
                        [30, 30, 30], [250, 250, 250]], dtype=np.float64) / 255
    return np.rint(np.repeat(colours[None], 4, axis=0) * top).astype(
        np.uint8 if top == 255 else np.uint16)


@pytest.mark.parametrize("top", [255, 65535])
def test_adobe_rgb_is_converted_to_srgb(tmp_path, top):
    adobe = icc.build_rgb_profile("Adobe RGB (1998)", icc.ADOBE_RGB_PRIMARIES, gamma=563 / 256)
    codes = _patches(top)
    photo = imageio.load_image(_tagged(tmp_path, "adobe", codes, adobe))
    assert photo.icc_name == "Adobe RGB (1998)"
    assert photo.pixels.dtype == codes.dtype
    got = photo.rgb.astype(np.float64)
    want = fx.adobe_to_srgb(codes, top)
    assert np.abs(got - want).max() < 1.6 / 255
    as_srgb = codes[0, :3] / top  # what the numbers would mean if the profile were ignored
    # The same numbers mean more saturated colours in Adobe RGB; the green loses its red.
    chroma = got[0, :3].max(-1) - got[0, :3].min(-1)
    assert (chroma > as_srgb.max(-1) - as_srgb.min(-1) + 0.05).all()
    assert got[0, 0, 0] < as_srgb[0, 0] - 0.1
    assert np.abs(got[0, 3] - got[0, 3, 0]).max() < 1.5 / 255  # greys stay neutral


def test_display_p3_16bit_keeps_precision(tmp_path):
    p3 = icc.build_rgb_profile("Display P3", icc.DISPLAY_P3_PRIMARIES)
    ramp = np.rint(fx.gradient(8, 2000) * 65535).astype(np.uint16)
    codes = np.dstack([ramp, (ramp * 0.6).astype(np.uint16), (ramp * 0.3).astype(np.uint16)])
    photo = imageio.load_image(_tagged(tmp_path, "p3", codes, p3))
    assert photo.bit_depth == 16 and photo.icc_name == "Display P3"
    assert len(np.unique(photo.pixels[..., 0])) > 1000
    np.testing.assert_allclose(photo.rgb, fx.p3_to_srgb(codes, 65535), atol=2 / 65535 + 1e-4)


def test_8bit_and_16bit_icc_paths_agree(tmp_path):
    adobe = icc.build_rgb_profile("Adobe RGB (1998)", icc.ADOBE_RGB_PRIMARIES, gamma=563 / 256)
    rng = np.random.default_rng(3)
    codes8 = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    a = imageio.load_image(_tagged(tmp_path, "a8", codes8, adobe)).rgb  # LittleCMS
    b = imageio.load_image(_tagged(tmp_path, "a16", codes8.astype(np.uint16) * 257, adobe)).rgb
    assert np.abs(a - b).max() <= 1.6 / 255


@pytest.mark.skipif(not A98.is_file(), reason="ghostscript's a98.icc is not installed here")
def test_real_adobe_profile_file(tmp_path):
    codes = _patches(255)
    photo = imageio.load_image(_tagged(tmp_path, "gs", codes, A98.read_bytes()))
    assert np.abs(photo.rgb - fx.adobe_to_srgb(codes, 255)).max() < 2 / 255


def test_srgb_tagged_files_are_left_alone(tmp_path):
    codes = fx.kodak(13, (64, 48))
    srgb = icc.srgb_profile()
    photo = imageio.load_image(_tagged(tmp_path, "s", codes, srgb))
    np.testing.assert_array_equal(photo.pixels, codes)
    assert "sRGB" in photo.icc_name


def test_grey_jpeg_with_grey_profile(tmp_path):
    grey = np.asarray(Image.fromarray(fx.kodak(14)).convert("L"))
    path = tmp_path / "g.jpg"
    Image.fromarray(grey).save(path, icc_profile=icc.grey_profile(), quality=95)
    photo = imageio.load_image(path)
    assert photo.icc_name == icc.GREY_PROFILE_NAME
    assert np.abs(photo.pixels[..., 0].astype(int) - np.asarray(Image.open(path))).max() <= 1


# --------------------------------------------------------------------------- camera RAW
def test_dng_loads_through_libraw(tmp_path):
    arr = fx.kodak(15, (240, 160))
    path = fx.write_dng(tmp_path / "shot.dng", arr, orientation=6)
    photo = imageio.load_image(path)
    assert photo.bit_depth == 16 and photo.pixels.dtype == np.uint16
    assert photo.size == (160, 240)  # LibRaw applied orientation 6
    upright = np.rot90(arr, -1).astype(np.float64) / 255
    # LibRaw's auto-brightening scales the exposure; compare after matching the mean level.
    got = photo.rgb.astype(np.float64)
    corr = np.corrcoef(got.ravel(), upright.ravel())[0, 1]
    assert corr > 0.97
    tags = exif_tags(photo.exif)
    assert tags["EXIF DateTimeOriginal"] == fx.DATE and tags["Image Make"] == "Silverprint"
    assert tags["Image Orientation"] == "Horizontal (normal)"
    out = imageio.save_image(tmp_path / "bw.tif", got.mean(axis=2), "tiff16", exif=photo.exif)
    assert exif_tags(out)["EXIF DateTimeOriginal"] == fx.DATE
    same = imageio.load_image_bytes(path.read_bytes(), "shot.dng")
    np.testing.assert_array_equal(same.pixels, photo.pixels)


def test_truncated_dng_is_refused(tmp_path):
    path = fx.write_dng(tmp_path / "shot.dng", fx.kodak(15, (64, 48)))
    cut = tmp_path / "cut.dng"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(BadInputError, match=r"cut\.dng: .*(RAW|truncated)"):
        imageio.load_image(cut)


# --------------------------------------------------------------------------- bad input
def _bad(path: Path, pattern: str) -> BadInputError:
    with pytest.raises(BadInputError) as info:
        imageio.load_image(path)
    err = info.value
    assert err.path == str(path) and str(err).startswith(str(path) + ": ")
    assert "\n" not in str(err)
    assert __import__("re").search(pattern, err.reason), err.reason
    return err


def test_pillow_truncation_guard_stays_on():
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp", ".tif"])
def test_truncated_files(tmp_path, suffix):
    good = save_pil(tmp_path / f"good{suffix}", fx.kodak(16))
    data = good.read_bytes()
    for keep in (len(data) // 2, len(data) - 2):
        cut = tmp_path / f"cut{keep}{suffix}"
        cut.write_bytes(data[:keep])
        _bad(cut, r"truncat|corrupt")


def test_truncated_16bit_png(tmp_path):
    rgb16 = (np.random.default_rng(1).integers(0, 65535, (64, 64, 3))).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "g.png"), rgb16)
    data = (tmp_path / "g.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) * 2 // 3])
    _bad(tmp_path / "cut.png", r"truncat|corrupt")


def test_corrupt_files(tmp_path):
    rng = np.random.default_rng(0)
    good = save_pil(tmp_path / "good.png", fx.kodak(17)).read_bytes()
    junk = rng.integers(0, 256, len(good), dtype=np.uint8).tobytes()
    (tmp_path / "idat.png").write_bytes(good[:200] + junk[200:])  # valid header, garbage after
    _bad(tmp_path / "idat.png", r"corrupt|truncat")
    (tmp_path / "noise.jpg").write_bytes(junk)
    _bad(tmp_path / "noise.jpg", r"not an image")
    jpg = save_pil(tmp_path / "good.jpg", fx.kodak(17)).read_bytes()
    (tmp_path / "badjpg.jpg").write_bytes(jpg[:20] + junk[20:2000])
    _bad(tmp_path / "badjpg.jpg", r"corrupt|truncat")


def test_text_empty_folder_missing(tmp_path):
    (tmp_path / "notes.jpg").write_text("shopping list: film, fixer, stop bath\n")
    _bad(tmp_path / "notes.jpg", r"not an image")
    (tmp_path / "empty.png").write_bytes(b"")
    _bad(tmp_path / "empty.png", r"empty")
    (tmp_path / "folder.jpg").mkdir()
    _bad(tmp_path / "folder.jpg", r"folder")
    _bad(tmp_path / "missing.tif", r"not found")
    with pytest.raises(BadInputError, match=r"upload\.png: file is empty"):
        imageio.load_image_bytes(b"", "upload.png")


@pytest.mark.parametrize("name,data", [("bomb.png", fx.png_header_bomb()),
                                       ("bomb.tif", fx.tiff_header_bomb()),
                                       ("bomb.dng", fx.dng_header_bomb())])
def test_header_bomb_refused_before_decoding(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    tracemalloc.start()
    try:
        err = _bad(path, r"over the")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert err.reason == "image is 50000x50000 (2500 MP), over the 250 MP limit"
    assert peak < 20_000_000  # nothing near the 7.5 GB the pixels would need
    with pytest.raises(BadInputError, match=r"^upload: image is 50000x50000"):
        imageio.load_image_bytes(data, "upload")  # no name: recognised by content


def test_jpeg_bomb_and_custom_limit(tmp_path):
    path = tmp_path / "bomb.jpg"
    path.write_bytes(fx.jpeg_header_bomb())
    err = _bad(path, r"over the")
    assert err.reason == "image is 65000x65000 (4225 MP), over the 250 MP limit"
    small = save_pil(tmp_path / "ok.png", fx.kodak(18))
    with pytest.raises(BadInputError, match=r"over the 0 MP limit"):
        imageio.load_image(small, max_pixels=1000)


# --------------------------------------------------------------------------- safety
def test_input_never_modified_and_never_overwritten(tmp_path):
    src = save_pil(tmp_path / "in.png", fx.kodak(19), exif=fx.exif_block(6))
    before, mtime = sha(src), src.stat().st_mtime_ns
    photo = imageio.load_image(src)
    imageio.save_image(tmp_path / "out.png", photo.rgb.mean(axis=2), "png16", exif=photo.exif,
                       source=src)
    with pytest.raises(BadInputError, match="overwrite the input"):
        imageio.save_image(src, photo.rgb.mean(axis=2), "png16", source=src)
    assert sha(src) == before and src.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png", "out.png"]


def test_failed_write_leaves_nothing_behind(tmp_path):
    """A real mid-write failure (file size limit) leaves no temp file and the old output intact."""
    (tmp_path / "old.png").write_bytes(b"previous result")
    script = textwrap.dedent(f"""
        import resource, signal, sys
        import numpy as np
        from silverprint import imageio
        from silverprint.errors import BadInputError
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))
        noise = np.random.default_rng(0).random((400, 400), dtype=np.float32)
        for name, fmt in (("old.png", "png16"), ("new.tif", "tiff16"), ("new.jpg", "jpeg")):
            try:
                imageio.save_image({str(tmp_path)!r} + "/" + name, noise, fmt)
            except BadInputError as exc:
                print("refused", exc)
            else:
                sys.exit("write unexpectedly succeeded: " + name)
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr + run.stdout
    assert run.stdout.count("refused") == 3 and "cannot write" in run.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.png"]
    assert (tmp_path / "old.png").read_bytes() == b"previous result"


def test_bad_output_paths(tmp_path):
    img = fx.gradient(4, 4)
    with pytest.raises(BadInputError, match="output folder does not exist"):
        imageio.save_image(tmp_path / "nope" / "a.png", img, "png16")
    (tmp_path / "d.png").mkdir()
    with pytest.raises(BadInputError, match="is a folder"):
        imageio.save_image(tmp_path / "d.png", img, "png16")
    with pytest.raises(BadInputError, match="unknown output format"):
        imageio.save_image(tmp_path / "a.png", img, "gif")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.png"]


def test_nan_and_out_of_range_values_are_clamped(tmp_path):
    img = np.array([[np.nan, -1.0, 0.5, 2.0]], dtype=np.float32)
    out = imageio.save_image(tmp_path / "c.tif", img, "tiff16")
    np.testing.assert_array_equal(tifffile.imread(out), [[0, 0, 32768, 65535]])


def test_nameless_uploads_are_recognised_by_content(tmp_path):
    """The service may get a file without a useful name: content decides, RAW included."""
    dng = fx.write_dng(tmp_path / "shot.dng", fx.kodak(20, (64, 48)))
    by_name = imageio.load_image(dng)
    by_content = imageio.load_image_bytes(dng.read_bytes(), "upload")
    np.testing.assert_array_equal(by_content.pixels, by_name.pixels)
    tif = tmp_path / "plain.tif"
    tifffile.imwrite(tif, fx.kodak(20, (64, 48)), photometric="rgb")
    plain = imageio.load_image_bytes(tif.read_bytes(), "upload")
    np.testing.assert_array_equal(plain.pixels, fx.kodak(20, (64, 48)))
    with pytest.raises(BadInputError, match=r"^upload: not an image"):
        imageio.load_image_bytes(b"GIF89a" + bytes(200), "upload")


def test_previews_of_raw_and_16bit_files(tmp_path):
    arr = fx.kodak(21, (400, 300))
    dng = fx.write_dng(tmp_path / "p.dng", arr)
    small = imageio.load_preview(dng, 100)
    assert small.size == (100, 75) and small.pixels.dtype == np.uint16
    full = imageio.load_image(dng)
    ref = cv2.resize(np.ascontiguousarray(full.pixels), small.size, interpolation=cv2.INTER_AREA)
    assert np.abs(small.rgb - ref / 65535.0).mean() < 0.03  # half-size demosaic, same picture
    png = tmp_path / "p16.png"
    cv2.imwrite(str(png), (arr.astype(np.uint16) * 257)[..., ::-1])
    prev = imageio.load_preview(png, 80)
    assert prev.size == (80, 60) and prev.bit_depth == 16


def test_camera_adobe_rgb_without_profile_is_recognised(tmp_path):
    """Cameras set to Adobe RGB write no ICC profile, only ColorSpace=Uncalibrated + 'R03'."""
    codes = _patches(255)
    ex = Image.Exif()
    ex.load(fx.exif_block())
    ex[0x8769] = {**ex.get_ifd(0x8769), 0xA001: 0xFFFF, 0xA005: {1: "R03"}}
    path = save_pil(tmp_path / "_DSC0001.png", codes, exif=ex.tobytes())
    photo = imageio.load_image(path)
    assert photo.icc_name == icc.ADOBE_RGB_NAME
    assert np.abs(photo.rgb - fx.adobe_to_srgb(codes, 255)).max() < 1.6 / 255
    plain = save_pil(tmp_path / "plain.png", codes, exif=fx.exif_block())
    np.testing.assert_array_equal(imageio.load_image(plain).pixels, codes)  # sRGB: untouched
    out = imageio.save_image(tmp_path / "bw.png", photo.rgb.mean(axis=2), "png16", exif=photo.exif)
    assert exif_tags(out)["EXIF ColorSpace"] == "sRGB"  # the output is no longer Adobe RGB
    assert imageio.load_image(out).icc_name == icc.GREY_PROFILE_NAME


def test_tiff_orientation_alone_is_applied(tmp_path):
    arr = fx.kodak(22, (64, 40))
    path = tmp_path / "o.tif"
    tifffile.imwrite(path, arr, photometric="rgb", extratags=[(274, "H", 1, 6, True)])
    photo = imageio.load_image(path)
    np.testing.assert_array_equal(photo.pixels, np.rot90(arr, -1))


def test_mutated_files_give_a_photo_or_a_bad_input_error(tmp_path):
    """Byte flips, cuts and insertions in every input kind: never a crash, never a stray error."""
    arr = fx.kodak(23, (48, 32))
    seeds = {}
    for name, kw in (("a.jpg", {"exif": fx.exif_block(6)}), ("a.png", {"exif": fx.exif_block(3)}),
                     ("a.webp", {}), ("a.tif", {"exif": fx.exif_block(6)})):
        buf = io.BytesIO()
        fmt = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP", "tif": "TIFF"}[name[2:]]
        Image.fromarray(arr).save(buf, fmt, **kw)
        seeds[name] = buf.getvalue()
    buf = io.BytesIO()
    tifffile.imwrite(buf, arr.astype(np.uint16) * 257, photometric="rgb", compression="zlib")
    seeds["b16.tif"] = buf.getvalue()
    seeds["c16.png"] = cv2.imencode(".png", arr.astype(np.uint16) * 257)[1].tobytes()
    seeds["a.dng"] = fx.write_dng(tmp_path / "s.dng", arr).read_bytes()
    rng = np.random.default_rng(7)
    outcomes = {"ok": 0, "bad": 0}
    for name, data in seeds.items():
        for _ in range(12):
            m = bytearray(data)
            kind = rng.integers(0, 3)
            if kind == 0:
                for _ in range(rng.integers(1, 8)):
                    m[rng.integers(0, len(m))] = rng.integers(0, 256)
            elif kind == 1:
                m = m[: rng.integers(1, len(m))]
            else:
                pos = rng.integers(0, len(m))
                m[pos:pos] = rng.integers(0, 256, rng.integers(1, 40), dtype=np.uint8).tobytes()
            try:
                photo = imageio.load_image_bytes(bytes(m), name)
            except BadInputError as exc:
                assert str(exc).startswith(name + ": ") and "\n" not in str(exc)
                outcomes["bad"] += 1
            else:
                assert photo.pixels.ndim == 3 and photo.pixels.shape[2] == 3
                outcomes["ok"] += 1
    assert outcomes["bad"] > 20  # the mutations do break files: the check is not vacuous


def test_icc_reader_on_profiles_made_elsewhere():
    """LittleCMS's own sRGB (ICC v4, parametric curves) reads as sRGB; ours round-trip."""
    lcms_srgb = icc.parse_profile(icc.srgb_profile())
    assert lcms_srgb.colour_space == "RGB" and icc.is_srgb(lcms_srgb)
    x = np.linspace(0, 1, 65536)
    assert np.abs(lcms_srgb.curves[1] - fx.srgb_decode(x)).max() < 1e-3
    adobe = icc.parse_profile(icc.adobe_rgb_profile())
    assert adobe.description == icc.ADOBE_RGB_NAME and not icc.is_srgb(adobe)
    assert np.abs(adobe.curves[0] - x ** (563 / 256)).max() < 1e-3
    grey = icc.parse_profile(icc.grey_profile())
    assert grey.colour_space == "GRAY" and icc.is_srgb(grey)
    with pytest.raises(ValueError):
        icc.parse_profile(b"not a profile" * 20)
    if A98.is_file():  # ghostscript's Adobe RGB: same matrix as ours to ICC precision
        gs = icc.parse_profile(A98.read_bytes())
        assert np.abs(gs.matrix - adobe.matrix).max() < 2e-3
