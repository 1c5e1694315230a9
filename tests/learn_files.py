"""Real files for the learning tests: Kodak photos as originals, B&W edits, EXIF, a DNG, bad files."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image

from shared_data import KODAK


def photo(name: str = "kodim23", size: int = 192) -> np.ndarray:
    """A Kodak photo as uint8 RGB, long side `size`."""
    im = Image.open(KODAK / f"{name}.png").convert("RGB")
    im.thumbnail((size, size), Image.LANCZOS)
    return np.asarray(im)


def bw_edit(rgb: np.ndarray) -> np.ndarray:
    """A plausible B&W edit: a red-filter channel mix and an S-curve (uint8 grey)."""
    x = rgb.astype(np.float32) / 255
    lin = np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)
    y = np.clip(lin @ np.array([0.5, 0.45, 0.05], np.float32), 0, 1) ** (1 / 2.2)
    y = np.clip(0.5 + (y - 0.5) * 1.25, 0, 1)
    return (y * 255 + 0.5).astype(np.uint8)


def exif_bytes(when: str, subsec: str = "", *, unique: str = "", make: str = "Silverprint",
               model: str = "TestCam", serial: str = "1234") -> bytes:
    exif = Image.Exif()
    exif[0x010F] = make
    exif[0x0110] = model
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003] = when  # DateTimeOriginal
    if subsec:
        ifd[0x9291] = subsec  # SubSecTimeOriginal
    if serial:
        ifd[0xA431] = serial  # BodySerialNumber
    if unique:
        ifd[0xA420] = unique  # ImageUniqueID
    return exif.tobytes()


def save(array: np.ndarray, path: Path, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, **kwargs)
    return path


def write_dng(rgb: np.ndarray, path: Path) -> Path:
    """A real Bayer (RGGB) DNG that libraw decodes: the photo's linear light on a CFA."""
    import tifffile

    x = rgb.astype(np.float32) / 255
    lin = np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)
    h, w = (lin.shape[0] // 2) * 2, (lin.shape[1] // 2) * 2
    lin = lin[:h, :w]
    cfa = np.zeros((h, w), np.float32)
    cfa[0::2, 0::2] = lin[0::2, 0::2, 0]
    cfa[0::2, 1::2] = lin[0::2, 1::2, 1]
    cfa[1::2, 0::2] = lin[1::2, 0::2, 1]
    cfa[1::2, 1::2] = lin[1::2, 1::2, 2]

    def srational(values):
        out = []
        for v in values:
            f = Fraction(v).limit_denominator(10000)
            out += [f.numerator, f.denominator]
        return out

    tags = [
        (50706, "B", 4, (1, 4, 0, 0), True),  # DNGVersion
        (50708, "s", 0, "Silverprint Test", True),  # UniqueCameraModel
        (33421, "H", 2, (2, 2), True),  # CFARepeatPatternDim
        (33422, "B", 4, (0, 1, 1, 2), True),  # CFAPattern RGGB
        (50714, "H", 1, 64, True),  # BlackLevel
        (50717, "H", 1, 4064, True),  # WhiteLevel
        (50721, "2i", 9, srational([1, 0, 0, 0, 1, 0, 0, 0, 1]), True),  # ColorMatrix1
        (50728, "2I", 3, srational([1, 1, 1]), True),  # AsShotNeutral
        (50778, "H", 1, 21, True),  # CalibrationIlluminant1 = D65
        (271, "s", 0, "Silverprint", True),
        (272, "s", 0, "TestRaw", True),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(path, (cfa * 4000 + 64).astype(np.uint16), photometric=32803, extratags=tags,
                     subfiletype=0)
    return path


def short_fits(monkeypatch, home: Path) -> None:
    """A private user data folder and short fits, for tests of behaviour rather than the last 0.1 dB."""
    from silverprint.learn import fit

    monkeypatch.setenv("SILVERPRINT_HOME", str(home))
    monkeypatch.setattr(fit, "TONE_STEPS", 40)
    monkeypatch.setattr(fit, "LOCAL_STEPS", 10)
    monkeypatch.setattr(fit, "POLISH_ITERATIONS", 10)
