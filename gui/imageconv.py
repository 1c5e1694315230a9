"""Arrays from the core → QImages for display (the only array handling in the GUI).

The core hands back float32 sRGB-encoded images in [0, 1]: ``(H, W)`` grey, ``(H, W, 3)`` colour or
toned, and ``(h, w)`` masks. Converting them to 8-bit for the screen is display work, not image
processing, so it lives here.
"""
from __future__ import annotations

import numpy as np

from .qt import QColor, QImage


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Quantise a [0, 1] float image for display (rounding, clipped)."""
    if image.dtype == np.uint8:
        return np.ascontiguousarray(image)
    return np.ascontiguousarray(np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8))


def to_qimage(image: np.ndarray) -> QImage:
    """``(H, W)`` → Grayscale8, ``(H, W, 3)`` → RGB888; the QImage owns a copy of the pixels."""
    data = to_uint8(image)
    if data.ndim == 3 and data.shape[2] == 1:
        data = np.ascontiguousarray(data[:, :, 0])
    h, w = data.shape[:2]
    if data.ndim == 2:
        qimg = QImage(data.data, w, h, data.strides[0], QImage.Format.Format_Grayscale8)
    elif data.ndim == 3 and data.shape[2] == 3:
        qimg = QImage(data.data, w, h, data.strides[0], QImage.Format.Format_RGB888)
    else:
        raise ValueError(f"cannot display an array of shape {image.shape}")
    return qimg.copy()


def mask_to_qimage(mask: np.ndarray, colour: QColor, opacity: float = 0.55) -> QImage:
    """A soft ``(h, w)`` mask in [0, 1] → a premultiplied tint layer to paint over the photo."""
    alpha = to_uint8(np.clip(mask, 0.0, 1.0) * opacity)
    h, w = alpha.shape
    layer = QImage(alpha.data, w, h, alpha.strides[0], QImage.Format.Format_Alpha8).copy()
    tinted = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
    tinted.fill(colour)
    from .qt import QPainter

    painter = QPainter(tinted)
    painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_DestinationIn)
    painter.drawImage(0, 0, layer)
    painter.end()
    return tinted


def luminance_histogram(display: np.ndarray, bins: int = 256) -> np.ndarray:
    """Counts of the 8-bit display values (mean of the channels when toned)."""
    data = to_uint8(display)
    if data.ndim == 3:
        data = data.mean(axis=2).astype(np.uint8)
    return np.bincount(data.ravel(), minlength=256).reshape(bins, -1).sum(axis=1)
