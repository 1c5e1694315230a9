"""Colour conversions used by the renderer: sRGB transfer function, luminance, LCh hue and chroma.

All functions are pure torch, differentiable where it makes sense (clamp before ``pow``, ``eps``
arguments instead of hidden constants), and work on any leading shape ``(*, 3, H, W)``.
The sRGB transfer function is IEC 61966-2-1 (the one every JPEG / PNG without a profile uses).
"""
from __future__ import annotations

import torch

from ..errors import ShapeError

#: Rec.709 / sRGB luminance weights of linear R, G, B (D65 white).
REC709_WEIGHTS: tuple[float, float, float] = (0.2126, 0.7152, 0.0722)
_SRGB_THRESHOLD_ENCODED = 0.04045
_SRGB_THRESHOLD_LINEAR = 0.0031308


def _check_rgb(image: torch.Tensor) -> None:
    if not isinstance(image, torch.Tensor):
        raise TypeError(f"expected a torch.Tensor, got {type(image).__name__}")
    if image.dim() < 3 or image.shape[-3] != 3:
        raise ShapeError(f"expected shape (*, 3, H, W), got {tuple(image.shape)}")


def srgb_to_linear(image: torch.Tensor) -> torch.Tensor:
    """Decode sRGB-encoded values to linear light (the sRGB EOTF).

    Args:
        image: any shape, display sRGB values, nominally in [0, 1] (values below 0 map linearly).

    Returns:
        Linear-light values, same shape.

    Example:
        >>> round(float(srgb_to_linear(torch.tensor(0.5))), 4)
        0.214
    """
    low = image / 12.92
    high = ((image.clamp(min=_SRGB_THRESHOLD_ENCODED) + 0.055) / 1.055) ** 2.4
    return torch.where(image <= _SRGB_THRESHOLD_ENCODED, low, high)


def linear_to_srgb(image: torch.Tensor) -> torch.Tensor:
    """Encode linear light with the sRGB transfer function (inverse EOTF).

    Args:
        image: any shape, linear light, nominally in [0, 1] (values below 0 map linearly; above 1
            follow the power law, so the caller decides where to clip).

    Returns:
        Display sRGB values, same shape.

    Example:
        >>> round(float(linear_to_srgb(torch.tensor(0.18))), 4)
        0.4614
    """
    low = image * 12.92
    high = 1.055 * image.clamp(min=_SRGB_THRESHOLD_LINEAR) ** (1.0 / 2.4) - 0.055
    return torch.where(image <= _SRGB_THRESHOLD_LINEAR, low, high)


def linear_rgb_to_luminance(image: torch.Tensor, weights: torch.Tensor | tuple[float, float, float] | None = None
                            ) -> torch.Tensor:
    """Weighted sum of linear R, G, B: relative luminance Y for the default Rec.709 weights.

    Args:
        image: ``(*, 3, H, W)`` linear light.
        weights: 3 channel weights (tensor or tuple); default Rec.709. They need not sum to 1
            (a channel mixer).

    Returns:
        ``(*, 1, H, W)`` linear light.

    Raises:
        ShapeError: when the channel dimension is not 3.

    Example:
        >>> linear_rgb_to_luminance(torch.ones(1, 3, 2, 2)).shape
        torch.Size([1, 1, 2, 2])
    """
    _check_rgb(image)
    if weights is None:
        weights = REC709_WEIGHTS
    w = torch.as_tensor(weights, dtype=image.dtype, device=image.device).reshape(3, 1, 1)
    return (image * w).sum(dim=-3, keepdim=True)


def srgb_to_luminance(image: torch.Tensor) -> torch.Tensor:
    """The plain luminance conversion a neutral style equals: decode, Rec.709 Y, encode.

    Args:
        image: ``(*, 3, H, W)`` display sRGB in [0, 1].

    Returns:
        ``(*, 1, H, W)`` display sRGB grey in [0, 1].

    Example:
        >>> round(float(srgb_to_luminance(torch.ones(1, 3, 1, 1))), 6)
        1.0
    """
    return linear_to_srgb(linear_rgb_to_luminance(srgb_to_linear(image)).clamp(0.0, 1.0))


#: Linear sRGB → CIE XYZ (D65), rows divided by the white point, so that white maps to (1, 1, 1).
_XYZ_OVER_WHITE = (
    (0.4124564 / 0.95047, 0.3575761 / 0.95047, 0.1804375 / 0.95047),
    (0.2126729, 0.7151522, 0.0721750),
    (0.0193339 / 1.08883, 0.1191920 / 1.08883, 0.9503041 / 1.08883),
)
_LAB_EPS = 216.0 / 24389.0
_LAB_KAPPA = 24389.0 / 27.0


def _lab_f(t: torch.Tensor) -> torch.Tensor:
    return torch.where(t > _LAB_EPS, t.clamp(min=_LAB_EPS) ** (1.0 / 3.0), (_LAB_KAPPA * t + 16.0) / 116.0)


def hue_chroma(lin: torch.Tensor, full_chroma: float) -> tuple[torch.Tensor, torch.Tensor]:
    """CIE LCh(ab) hue (degrees) and colourfulness of linear sRGB, the keys of the hue-band filter.

    Colourfulness is ``1 - (1 - min(C / full_chroma, 1))**2``: it grows like chroma for muted
    colours and saturates smoothly, and unlike HSV saturation it stays small for dark, nearly
    neutral pixels (whose noise a colour filter must not amplify).

    Args:
        lin: ``(*, 3, H, W)`` linear-light sRGB.
        full_chroma: chroma (ab units) that counts as fully colourful.

    Returns:
        ``(hue, weight)``, each ``(*, 1, H, W)``: hue in [0, 360), weight in [0, 1].

    Example:
        >>> h, w = hue_chroma(torch.tensor([1.0, 0.0, 0.0]).reshape(1, 3, 1, 1), 128.0)
        >>> round(float(h)), round(float(w), 2)
        (40, 0.97)
    """
    _check_rgb(lin)
    m = torch.tensor(_XYZ_OVER_WHITE, dtype=lin.dtype, device=lin.device)
    fx, fy, fz = (_lab_f((lin * row.view(3, 1, 1)).sum(dim=-3)) for row in m)
    a = 500.0 * (fx - fy)
    b = 200.0 * (fy - fz)
    hue = torch.remainder(torch.rad2deg(torch.atan2(b, a)), 360.0)
    chroma = torch.sqrt(a * a + b * b + 1e-12)
    weight = 1.0 - (1.0 - (chroma / full_chroma).clamp(max=1.0)) ** 2
    return hue.unsqueeze(-3), weight.unsqueeze(-3)
