"""The open photo and every call the companion makes into the core engine.

This module is the GUI's only doorway to `silverprint.pipeline`, `render`, `styles` and `imageio`,
so when the engine's API moves there is one file to follow it. It holds no Qt and no image math:
loading, analysis, style decoding, previews, full renders and saving are all core calls; what comes
back is arrays the widgets turn into QImages.

Every function here may take a while (torch, mediapipe, disk) and is called from the task manager's
render lane, never from the UI thread.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from silverprint.params import Params, default_local

#: Long side of the preview that slider changes re-render (1280 × 853 ≈ 1.1 MP at 3:2).
PREVIEW_LONG_SIDE = 1280
#: Pixels of the drag preview: a quarter of the preview's, so frames keep up with the hand.
DRAG_PIXELS = 280_000
#: Pixels of the style gallery's thumbnails (about 2× the icon, for a crisp downscale).
THUMB_PIXELS = 360 * 240


@dataclass
class Document:
    """One photo as the companion works on it, with the engine's per-photo caches."""

    photo: Any                      # silverprint.imageio.Photo
    analysis: Any                   # silverprint.pipeline.Analysis
    name: str
    source: Path | None
    device: str = "auto"
    preview: Any = None             # silverprint.render.Preview over the preview image
    fast: Any = None                # a smaller Preview for frames while a slider is being dragged
    before: np.ndarray | None = None
    _thumbs: Any = None             # Preview over the analysis-size copy (gallery thumbnails)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the full-resolution photo."""
        return self.photo.size

    @property
    def bit_depth(self) -> int:
        return int(self.photo.bit_depth)


def open_file(path: str | os.PathLike, *, device: str = "auto") -> Document:
    """Load and analyse a photo, and build its preview (raises BadInputError on a bad file)."""
    from silverprint.imageio import load_image

    photo = load_image(path)
    return _document(photo, Path(path).name, Path(path), device)


def open_bytes(data: bytes, name: str, *, device: str = "auto") -> Document:
    """A photo that arrived over a bridge session (no file of the user's to write next to)."""
    from silverprint.imageio import load_image_bytes

    photo = load_image_bytes(data, name)
    return _document(photo, name, None, device)


def _document(photo: Any, name: str, source: Path | None, device: str) -> Document:
    from silverprint import pipeline

    analysis = pipeline.analyse(photo)
    doc = Document(photo=photo, analysis=analysis, name=name, source=source, device=device)
    doc.before = preview_image(photo, source)
    doc.preview = _make_preview(doc, doc.before, None)
    doc.fast = _make_preview(doc, doc.before, None, max_pixels=DRAG_PIXELS)
    return doc


def preview_image(photo: Any, source: Path | None = None) -> np.ndarray:
    """The photo at preview size (long side ≤ PREVIEW_LONG_SIDE), float32 sRGB: the "before".

    The preview is what every slider change re-renders, so its size is the latency budget; the
    full-resolution pass happens only on export / Apply.
    """
    from silverprint import imageio

    if max(photo.size) > PREVIEW_LONG_SIDE and source is not None:
        return imageio.load_preview(source, PREVIEW_LONG_SIDE).rgb
    return photo.rgb


def _make_preview(doc: Document, rgb: np.ndarray, local: np.ndarray | None, **kwargs: Any) -> Any:
    from silverprint.render import Preview

    return Preview(rgb, doc.analysis.masks, local, _device(doc.device), **kwargs)


def _device(choice: str) -> Any:
    from silverprint.device import resolve_device

    return resolve_device(choice)


def render_preview(doc: Document, params: Params, *, fast: bool = False) -> np.ndarray:
    """The B&W preview for ``params``: (h, w) grey or (h, w, 3) toned, float32 in [0, 1].

    ``fast`` renders the smaller drag preview (frames while a handle moves; the full preview
    follows on release). The core's Preview caches everything slider-independent.
    """
    preview = doc.fast if fast and doc.fast is not None else doc.preview
    return np.asarray(preview.render(params))


def style_params(doc: Document, style: Any) -> Params:
    """What ``style`` (name, path or Style) decodes to for this photo: the sliders' base values."""
    from silverprint import pipeline

    return pipeline.params_for(pipeline.resolve_style(style), doc.analysis)


def subject_reading(doc: Document, style: Any) -> dict[str, float]:
    """How ``style`` reads this photo: its soft weights over the style's subjects (portrait,
    landscape, …), the reason its sliders differ from photo to photo. Empty for a plain style."""
    from silverprint import pipeline
    from silverprint.styles import assign

    resolved = pipeline.resolve_style(style)
    if not resolved.subjects:
        return {}
    weights = assign(resolved, doc.analysis.descriptors)
    return {name: w for name, w in weights.items() if name in resolved.subjects}


def list_styles() -> list[Any]:
    """Built-in and user styles (unreadable user files are skipped, not fatal)."""
    from silverprint.styles import list_styles as _list

    return list(_list())


def default_style_name() -> str:
    from silverprint.styles import DEFAULT_STYLE

    return DEFAULT_STYLE


def render_thumbnail(doc: Document, style: Any) -> np.ndarray:
    """``style`` rendered on the analysis-size copy of the photo, for the gallery."""
    from silverprint.render import Preview

    params = style_params(doc, style)
    device = _device(doc.device)
    if doc._thumbs is None:
        doc._thumbs = Preview(doc.analysis.rgb_small, doc.analysis.masks, None, device,
                              max_pixels=THUMB_PIXELS)
    return np.asarray(doc._thumbs.render(params))


def region_mask(doc: Document, region: str, params: Params) -> np.ndarray:
    """The soft mask of a semantic region (``sky``) or a local adjustment (``local0``), (h, w)."""
    from silverprint import pipeline
    from silverprint.params import SEMANTIC_REGIONS

    if region in SEMANTIC_REGIONS:
        return np.asarray(doc.analysis.masks[SEMANTIC_REGIONS.index(region)])
    if region.startswith("local"):
        index = int(region[5:])
        local = pipeline.local_masks_for(params, doc.analysis)
        if local is not None and index < len(local):
            return np.asarray(local[index])
    raise KeyError(region)


def region_coverage(doc: Document) -> dict[str, float]:
    """Share of the photo each semantic region covers (the masks sum to 1 per pixel)."""
    from silverprint.params import SEMANTIC_REGIONS

    masks = doc.analysis.masks
    return {name: float(masks[i].mean()) for i, name in enumerate(SEMANTIC_REGIONS)}


def add_point(params: Params, x: float, y: float) -> Params:
    """A copy of ``params`` with a control point at (x, y) (fractions of width and height)."""
    result = params.copy()
    point = default_local("point")
    point["x"], point["y"] = float(x), float(y)
    result.local.append(point)
    return result


def render_full(doc: Document, params: Params) -> np.ndarray:
    """The full-resolution rendering of ``params`` (tiled by the core, bounded memory)."""
    from silverprint import pipeline

    return pipeline.render_with(doc.photo, doc.analysis, params, device=doc.device)


def export(doc: Document, params: Params, dst: str | os.PathLike, fmt: str) -> Path:
    """Render at full resolution and save atomically; never over the original."""
    from silverprint.errors import BadInputError
    from silverprint.imageio import save_image

    dst = Path(dst)
    if doc.source is not None and dst.exists() and dst.resolve() == doc.source.resolve():
        raise BadInputError(dst, "that is the original photo; choose another name")
    image = render_full(doc, params)
    return save_image(dst, image, fmt, exif=doc.photo.exif)


def save_as_style(parent: Any, params: Params, name: str, description: str = "") -> Path:
    """Save ``params`` as a new user style that starts from ``parent``'s look.

    The new style's sliders are exactly what the user sees on this photo: the parent's subject
    deltas and decoder are dropped (they were already applied to produce these sliders).
    """
    from silverprint import pipeline
    from silverprint.styles import save_user_style
    from silverprint.styles.style import check_name, now_iso

    parent_style = pipeline.resolve_style(parent)
    style = parent_style.copy()
    style.name = check_name(name)
    style.description = description or f"Tuned from {parent_style.name} in the companion"
    style.base = params.copy()
    style.subjects = {}
    style.proxies.subjects = {}
    style.decoder = None
    style.builtin = False
    style.path = None
    style.provenance = {"source": "imported", "pairs": 0, "created": now_iso(), "metrics": {},
                        "parent": parent_style.name}
    return save_user_style(style, overwrite=False)


# ------------------------------------------------------------------------------------------------
# video: the companion's calls into `silverprint.video` (decoding, smoothing and rendering all live
# there; the GUI only passes a frame index, the style and the user's slider changes)

#: File types File › Open and drag-and-drop treat as video.
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v")


def is_video(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


@dataclass
class VideoDocument:
    """An open video: its path and stream facts (no frames are held; every preview decodes)."""

    source: Path
    info: Any                       # silverprint.video.io.VideoInfo
    name: str
    device: str = "auto"

    @property
    def frames(self) -> int:
        return int(self.info.frames)

    @property
    def fps(self) -> float:
        return float(self.info.fps)

    @property
    def size(self) -> tuple[int, int]:
        return int(self.info.width), int(self.info.height)


def open_video(path: str | os.PathLike, *, device: str = "auto") -> VideoDocument:
    """Probe a video (raises BadInputError on a file that is not a readable video)."""
    from silverprint.video import probe

    path = Path(path)
    return VideoDocument(source=path, info=probe(path), name=path.name, device=device)


def style_base(style: Any) -> Params:
    """The style's own sliders (before any per-frame decoding): what the panels show for a video.

    A video has no single photo to decode the style for; each frame is decoded by the video path,
    and the sliders the user moves away from these values travel as overrides (`video_overrides`).
    """
    from silverprint import pipeline

    base = getattr(pipeline.resolve_style(style), "base", None)
    return base.copy() if isinstance(base, Params) else Params()


def video_overrides(base: Params, params: Params) -> dict[str, Any]:
    """The sliders the user changed, as ``REGION.PARAM -> value`` (the CLI's ``--set``).

    Local adjustments (control points, graduated / radial filters) are photo-specific and are not
    carried to video.
    """
    changed: dict[str, Any] = {}
    for region, sliders in params.regions.items():
        for name, value in sliders.items():
            if base.regions.get(region, {}).get(name) != value:
                changed[f"{region}.{name}"] = value
    for name, value in params.global_.items():
        if base.global_.get(name) != value:
            changed[f"global.{name}"] = list(value) if isinstance(value, list) else value
    return changed


def render_video_frame(video: VideoDocument, index: int, style: Any,
                       overrides: dict[str, Any]) -> np.ndarray:
    """Frame ``index`` as the export will render it, float32 in [0, 1] (grey or toned)."""
    from silverprint.video import preview_frame

    return np.asarray(preview_frame(video.source, int(index), style, overrides, device=video.device))


def export_video(video: VideoDocument, dst: str | os.PathLike, style: Any, overrides: dict[str, Any],
                 *, progress: Any = None, cancel: Any = None) -> Path:
    """Convert the whole video to ``dst`` (atomic; a cancel raises VideoCancelled and leaves no file)."""
    from silverprint.errors import BadInputError
    from silverprint.video import convert_video

    dst = Path(dst)
    if dst.exists() and dst.resolve() == video.source.resolve():
        raise BadInputError(dst, "that is the original video; choose another name")
    result = convert_video(video.source, dst, style=style, overrides=overrides, device=video.device,
                           progress=progress, cancel=cancel)
    return Path(result.output)
