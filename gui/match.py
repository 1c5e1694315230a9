"""How closely a learned style matches the photographer's own edits, in a photographer's words.

The figure is ``100 × mean SSIM``: the structural similarity (Wang et al. 2004; 1 = identical, as
``silverprint.learn.metrics.ssim_u8`` computes it on 8-bit grey at the edit's size) between the
style's rendering of each photo and the photographer's own edit of it, averaged over photos that
were held out of learning, so it says how well the style does on photos it has not seen. SSIM
compares local brightness, contrast and structure, which is what a photographer judges; PSNR (the
learner's own measure) stays in the reports for engineers. Negative SSIM (anti-correlated) reads 0 %.
"""
from __future__ import annotations


def match_percent(ssim: float) -> float:
    """SSIM (−1…1) as a 0…100 % match."""
    return 100.0 * max(0.0, min(1.0, float(ssim)))


def photos(count: int) -> str:
    return f"{count} photo" if count == 1 else f"{count} photos"


def match_words(percent: float, unseen: int) -> str:
    """``matches your edits: 94 % (on 12 photos it has not seen)``."""
    return f"matches your edits: {percent:.0f} % (on {photos(unseen)} it has not seen)"
