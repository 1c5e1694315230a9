"""Edge-aware refinement: the guided filter (He, Sun and Tang, TPAMI 2013) with a colour guide.

Region probabilities are estimated on a coarse grid from features that blur across object edges.
The guided filter models each output as a locally affine function of the image itself, so mask
transitions snap to the image's own edges and, unlike a bilateral or a plain blur, it does not halo
(gradient-reversal free). The fast variant (He and Sun 2015) estimates the affine coefficients at a
low resolution and applies them to the full-resolution guide, which is how masks computed at the
analysis size are carried to the full image.
"""
from __future__ import annotations

import cv2
import numpy as np


def box(x: np.ndarray, r: int) -> np.ndarray:
    """Mean over a (2r+1)^2 window (channels last), edges handled by reflection."""
    out = cv2.blur(x, (2 * r + 1, 2 * r + 1), borderType=cv2.BORDER_REFLECT)
    return out.reshape(x.shape)


def _inverse_sym3(s00, s01, s02, s11, s12, s22):
    """Per-pixel inverse of a symmetric 3x3 covariance as (adjugate entries..., 1/determinant).

    Closed form instead of a batched ``np.linalg.inv``: an order of magnitude faster, and the
    guides' covariances carry ``eps`` on the diagonal so the determinant stays positive.
    """
    c00 = s11 * s22 - s12 * s12
    c01 = s02 * s12 - s01 * s22
    c02 = s01 * s12 - s02 * s11
    c11 = s00 * s22 - s02 * s02
    c12 = s01 * s02 - s00 * s12
    c22 = s00 * s11 - s01 * s01
    return c00, c01, c02, c11, c12, c22, 1.0 / (s00 * c00 + s01 * c01 + s02 * c02)


def _coefficients(guide: np.ndarray, src: np.ndarray, r: int, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """Window-averaged affine coefficients (a: (h, w, C, 3), b: (h, w, C)) of src on a colour guide.

    The per-pixel 3x3 guide covariance is inverted in closed form (adjugate / determinant), which
    is an order of magnitude faster than a batched ``np.linalg.inv``.
    """
    h, w, _ = guide.shape
    channels = src.shape[2]
    g0, g1, g2 = guide[..., 0], guide[..., 1], guide[..., 2]
    mean_i = box(guide, r)
    m0, m1, m2 = mean_i[..., 0], mean_i[..., 1], mean_i[..., 2]
    prods = box(np.stack([g0 * g0, g0 * g1, g0 * g2, g1 * g1, g1 * g2, g2 * g2], axis=-1), r)
    s00 = prods[..., 0] - m0 * m0 + eps
    s01 = prods[..., 1] - m0 * m1
    s02 = prods[..., 2] - m0 * m2
    s11 = prods[..., 3] - m1 * m1 + eps
    s12 = prods[..., 4] - m1 * m2
    s22 = prods[..., 5] - m2 * m2 + eps
    c00, c01, c02, c11, c12, c22, inv_det = _inverse_sym3(s00, s01, s02, s11, s12, s22)
    mean_p = box(src, r)
    ip = box(np.concatenate([src * g0[..., None], src * g1[..., None], src * g2[..., None]], axis=-1), r)
    a = np.empty((h, w, channels, 3), np.float32)
    for c in range(channels):
        v0 = ip[..., c] - m0 * mean_p[..., c]
        v1 = ip[..., channels + c] - m1 * mean_p[..., c]
        v2 = ip[..., 2 * channels + c] - m2 * mean_p[..., c]
        a[..., c, 0] = (v0 * c00 + v1 * c01 + v2 * c02) * inv_det
        a[..., c, 1] = (v0 * c01 + v1 * c11 + v2 * c12) * inv_det
        a[..., c, 2] = (v0 * c02 + v1 * c12 + v2 * c22) * inv_det
    b = mean_p - (a[..., 0] * m0[..., None] + a[..., 1] * m1[..., None] + a[..., 2] * m2[..., None])
    mean_a = box(a.reshape(h, w, channels * 3), r).reshape(h, w, channels, 3)
    return mean_a, box(b, r)


def _apply(a: np.ndarray, b: np.ndarray, guide: np.ndarray) -> np.ndarray:
    return (a[..., 0] * guide[..., 0:1] + a[..., 1] * guide[..., 1:2] + a[..., 2] * guide[..., 2:3]
            + b)


def guided_filter(guide: np.ndarray, src: np.ndarray, r: int, eps: float) -> np.ndarray:
    """Filter ``src`` (h, w) or (h, w, C) with the colour ``guide`` (h, w, 3) in [0, 1].

    ``r`` is the window radius in pixels; ``eps`` the regulariser (variance units of the guide:
    edges with contrast well above sqrt(eps) are preserved).
    """
    guide = np.ascontiguousarray(guide, dtype=np.float32)
    squeeze = src.ndim == 2
    src3 = np.ascontiguousarray(src[..., None] if squeeze else src, dtype=np.float32)
    a, b = _coefficients(guide, src3, r, eps)
    out = _apply(a, b, guide)
    return out[..., 0] if squeeze else out


def guided_upsample(guide_lo: np.ndarray, src_lo: np.ndarray, guide_hi: np.ndarray, r: int,
                    eps: float) -> np.ndarray:
    """Fast guided filter: coefficients from the low-res pair, applied to the high-res guide.

    Carries (h, w, C) soft masks from a coarse grid to ``guide_hi``'s size with edges that follow
    the high-resolution image.
    """
    guide_lo = np.ascontiguousarray(guide_lo, dtype=np.float32)
    squeeze = src_lo.ndim == 2
    src3 = np.ascontiguousarray(src_lo[..., None] if squeeze else src_lo, dtype=np.float32)
    a, b = _coefficients(guide_lo, src3, r, eps)
    big_h, big_w = guide_hi.shape[:2]
    channels = src3.shape[2]
    a_hi = cv2.resize(a.reshape(a.shape[0], a.shape[1], channels * 3), (big_w, big_h),
                      interpolation=cv2.INTER_LINEAR).reshape(big_h, big_w, channels, 3)
    b_hi = cv2.resize(b, (big_w, big_h), interpolation=cv2.INTER_LINEAR).reshape(big_h, big_w, channels)
    out = _apply(a_hi, b_hi, np.asarray(guide_hi, np.float32))
    return out[..., 0] if squeeze else out


def confident_guided_upsample(guide_lo: np.ndarray, probs_lo: np.ndarray, weight_lo: np.ndarray,
                              guide_hi: np.ndarray, r: int, eps: float) -> np.ndarray:
    """Confidence-weighted fast guided filter: coarse (h, w, C) probabilities to (C, H, W).

    The local linear models (output = a . guide + b) are fitted by *weighted* least squares,
    where ``weight_lo`` (h, w) is high where the coarse decision is confident and ~0 along its
    uncertain boundary. A window straddling an object edge is therefore fitted from the confident
    pixels on both sides, and the uncertain band takes the value its own colour implies: the
    boundary moves onto the image edge instead of being smeared over the band (no halo either
    side). The models are estimated on the coarse grid and applied to the full-resolution guide
    (He and Sun 2015), so the cost is that of the coarse grid plus one pass at full size.
    """
    g = np.ascontiguousarray(np.moveaxis(np.asarray(guide_lo, np.float32), -1, 0))  # (3, h, w)
    p = np.ascontiguousarray(np.moveaxis(np.asarray(probs_lo, np.float32), -1, 0))  # (C, h, w)
    wgt = np.asarray(weight_lo, np.float32)
    k = (2 * r + 1, 2 * r + 1)
    blur = lambda x: cv2.blur(x, k, borderType=cv2.BORDER_REFLECT)  # noqa: E731
    sw = blur(wgt) + 1e-6
    inv_sw = 1.0 / sw
    wg = [wgt * g[i] for i in range(3)]
    m = [blur(wg[i]) * inv_sw for i in range(3)]
    cov = {}
    for i in range(3):
        for j in range(i, 3):
            cov[i, j] = blur(wg[i] * g[j]) * inv_sw - m[i] * m[j] + (eps if i == j else 0.0)
    s00, s01, s02, s11, s12, s22 = cov[0, 0], cov[0, 1], cov[0, 2], cov[1, 1], cov[1, 2], cov[2, 2]
    c00, c01, c02, c11, c12, c22, inv_det = _inverse_sym3(s00, s01, s02, s11, s12, s22)
    # Average the models of all windows covering a pixel, favouring well-supported windows.
    support = sw
    inv_support = 1.0 / blur(support)
    channels = p.shape[0]
    coef = np.empty((g.shape[1], g.shape[2], 4 * channels), np.float32)  # a0 | a1 | a2 | b
    for c in range(channels):
        wp = wgt * p[c]
        mp = blur(wp) * inv_sw
        v0 = blur(wp * g[0]) * inv_sw - m[0] * mp
        v1 = blur(wp * g[1]) * inv_sw - m[1] * mp
        v2 = blur(wp * g[2]) * inv_sw - m[2] * mp
        a0 = (v0 * c00 + v1 * c01 + v2 * c02) * inv_det
        a1 = (v0 * c01 + v1 * c11 + v2 * c12) * inv_det
        a2 = (v0 * c02 + v1 * c12 + v2 * c22) * inv_det
        b = mp - a0 * m[0] - a1 * m[1] - a2 * m[2]
        for slot, x in enumerate((a0, a1, a2, b)):
            coef[..., slot * channels + c] = x
    coef = blur(coef * support[..., None]) * inv_support[..., None]
    big_h, big_w = guide_hi.shape[:2]
    hi = np.asarray(guide_hi, np.float32)
    planes = [np.ascontiguousarray(hi[..., i]) for i in range(3)]
    up = lambda x: cv2.resize(np.ascontiguousarray(x), (big_w, big_h), interpolation=cv2.INTER_LINEAR)  # noqa: E731
    out = np.empty((channels, big_h, big_w), np.float32)
    tmp = np.empty((big_h, big_w), np.float32)
    for c in range(channels):
        acc = out[c]
        acc[...] = up(coef[..., 3 * channels + c])
        for i in range(3):
            np.multiply(up(coef[..., i * channels + c]), planes[i], out=tmp)
            acc += tmp
    return out  # (C, H, W): planar, the layout masks are stored in
