"""Imitation metrics, exactly as the evaluation protocol defines them.

PSNR and SSIM are measured on the 8-bit grey image at the *edit's* size (a rendering made at the
original's size is resized to the edit first), so numbers are comparable with the data README's
baselines whatever size the photographer exported at.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(x: np.ndarray) -> np.ndarray:
    x = np.clip(np.asarray(x, dtype=np.float32), 0.0, 1.0)
    return np.where(x <= 0.0031308, x * 12.92, 1.055 * x ** (1 / 2.4) - 0.055).astype(np.float32)


def luminance(image: np.ndarray) -> np.ndarray:
    """Grey (H, W) float in [0, 1] of a grey or RGB sRGB image (plain Rec.709 luminance for RGB)."""
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 1:
        return image[..., 0]
    lin = srgb_to_linear(image[..., :3])
    return linear_to_srgb(lin @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32))


def to_u8(grey: np.ndarray) -> np.ndarray:
    """Float [0, 1] grey -> uint8, rounded like an 8-bit export."""
    if grey.dtype == np.uint8:
        return grey
    return np.clip(np.rint(np.asarray(grey, dtype=np.float64) * 255.0), 0, 255).astype(np.uint8)


def resize_to(grey: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resize a grey image to (h, w): area averaging when shrinking, bicubic when enlarging."""
    h, w = shape
    if grey.shape[:2] == (h, w):
        return grey
    shrink = grey.shape[0] * grey.shape[1] > h * w
    interp = cv2.INTER_AREA if shrink else cv2.INTER_CUBIC
    out = cv2.resize(np.asarray(grey, dtype=np.float32), (w, h), interpolation=interp)
    return np.clip(out, 0.0, 1.0)


def psnr_u8(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0 ** 2 / mse)


def ssim_u8(a: np.ndarray, b: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    return float(structural_similarity(a, b, data_range=255))


def mae_lstar(a: np.ndarray, b: np.ndarray) -> float:
    """Mean |delta L*| (CIE, D65) between two 8-bit sRGB grey images."""
    def lstar(u8: np.ndarray) -> np.ndarray:
        y = srgb_to_linear(u8.astype(np.float32) / 255.0)
        f = np.where(y > (6 / 29) ** 3, np.cbrt(y), y / (3 * (6 / 29) ** 2) + 4 / 29)
        return 116.0 * f - 16.0
    return float(np.mean(np.abs(lstar(a) - lstar(b))))


@dataclass(frozen=True)
class Score:
    psnr: float
    ssim: float
    mae_lstar: float

    def as_dict(self) -> dict[str, float]:
        return {"psnr": round(self.psnr, 3), "ssim": round(self.ssim, 5),
                "mae_lstar": round(self.mae_lstar, 3)}


def _as_float(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    return image.astype(np.float32) / 255.0 if image.dtype == np.uint8 else image.astype(np.float32)


def score(rendering: np.ndarray, edit: np.ndarray) -> Score:
    """Score a rendering (grey or RGB, float [0,1] or uint8, any size) against the edit."""
    edit_u8 = to_u8(luminance(_as_float(edit)))
    grey = luminance(_as_float(rendering))
    ren_u8 = to_u8(resize_to(grey, edit_u8.shape[:2]))
    return Score(psnr_u8(ren_u8, edit_u8), ssim_u8(ren_u8, edit_u8), mae_lstar(ren_u8, edit_u8))


def mean_scores(scores: list[Score]) -> dict[str, float]:
    if not scores:
        return {"psnr": float("nan"), "ssim": float("nan"), "mae_lstar": float("nan"), "n": 0}
    return {"psnr": round(float(np.mean([s.psnr for s in scores])), 3),
            "ssim": round(float(np.mean([s.ssim for s in scores])), 5),
            "mae_lstar": round(float(np.mean([s.mae_lstar for s in scores])), 3),
            "n": len(scores)}
