"""The one path from a photo to its black-and-white rendering.

Every front end (CLI, service, GUI, video, bridges) calls these functions, so loading, analysis,
style decoding and rendering exist exactly once. The split mirrors what can be cached: `analyse`
runs once per photo on a small copy (regions + descriptors), `params_for` is cheap and runs again on
every style or slider change, and the full-resolution render is the only per-pixel pass.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Union

import numpy as np

from .params import Params, apply_overrides

Overrides = Union[Iterable[str], Mapping[str, object]]


@dataclass
class Analysis:
    """What a photo's rendering needs beyond its pixels, computed on a small copy."""

    rgb_small: np.ndarray  # float32 (h, w, 3) sRGB [0, 1] at analysis size
    masks: np.ndarray  # float32 (5, h, w), params.SEMANTIC_REGIONS order, sums to 1
    descriptors: np.ndarray  # float32 (D,), see silverprint.descriptors
    regions: object  # silverprint.regions.RegionMasks (faces, diagnostics)


def _pixels(source: object) -> np.ndarray:
    """The (H, W, 3) array of a Photo or of an array given directly."""
    return source.pixels if hasattr(source, "pixels") else np.asarray(source)


def analysis_image(source: object) -> np.ndarray:
    """A float32 copy at analysis size (area-averaged, so no aliasing in the masks)."""
    from .regions import analysis_image as regions_analysis_image

    return regions_analysis_image(_pixels(source))


def analyse(source: object) -> Analysis:
    """Regions and descriptors of a Photo (or an (H, W, 3) array)."""
    from .descriptors import describe
    from .regions import compute_regions

    small = analysis_image(source)
    regions = compute_regions(small)
    return Analysis(small, regions.masks, describe(small, regions.masks, faces=regions.faces), regions)


def resolve_style(style: object):
    """A Style object from a Style, a built-in / user style name or a style file path."""
    from .styles import DEFAULT_STYLE, load_style

    if style is None:
        style = DEFAULT_STYLE
    return load_style(style) if isinstance(style, (str, os.PathLike)) else style


def check_overrides(style: object, overrides: Overrides) -> None:
    """Validate ``--set`` overrides against the style's own sliders before any file is touched:
    ``localN`` exists only where the style has N+1 local adjustments. Raises UnknownSliderError."""
    base = getattr(resolve_style(style), "base", None)
    apply_overrides(base if isinstance(base, Params) else Params(), overrides)


def params_for(style: object, analysis: Analysis, overrides: Overrides = ()) -> Params:
    """The style's sliders decoded for this photo, with the user's overrides on top."""
    from .styles import decode

    params = decode(resolve_style(style), analysis.descriptors)
    return apply_overrides(params, overrides) if overrides else params


def local_masks_for(params: Params, analysis: Analysis) -> np.ndarray | None:
    """Masks of the local adjustments (graduated / radial / control points), if any."""
    if not params.local:
        return None
    from .regions import local_masks

    return local_masks(params.local, analysis.rgb_small)


def render_with(source: object, analysis: Analysis, params: Params, *, device: str = "auto",
                seed: int | None = None) -> np.ndarray:
    """Full-resolution rendering of explicit params (GUI export, video frames)."""
    from .render import render_array

    return render_array(_pixels(source), analysis.masks, local_masks_for(params, analysis), params,
                        device=device, seed=seed)


def render_photo(source: object, style: object = None, overrides: Overrides = (), *,
                 device: str = "auto", analysis: Analysis | None = None,
                 seed: int | None = None) -> np.ndarray:
    """Render a Photo (or array) with a style: (H, W) grey or (H, W, 3) toned float32 in [0, 1]."""
    analysis = analysis or analyse(source)
    params = params_for(style, analysis, overrides)
    return render_with(source, analysis, params, device=device, seed=seed)


def render_file(src: str | os.PathLike, dst: str | os.PathLike, *, style: object = None,
                overrides: Overrides = (), fmt: str | None = None, device: str = "auto") -> Path:
    """Load, render and save one file (atomically; EXIF kept, grey or sRGB ICC embedded).

    Raises `outputs.OutputConflictError` when ``dst`` is the original or an existing file that
    Silverprint did not write."""
    from .imageio import format_for_path, load_image, save_image
    from .outputs import check_single

    check_single(Path(src), Path(dst))  # not the original, nor any file Silverprint did not write
    photo = load_image(src)
    image = render_photo(photo, style, overrides, device=device)
    return save_image(dst, image, fmt or format_for_path(dst), exif=photo.exif, source=src)
