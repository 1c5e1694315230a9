"""The service's view of the one engine: load, analyse, render and save through `silverprint.pipeline`.

Rendering is CPU/GPU heavy and its memory grows with the pixels, so `Engine.run` reads an image's
size from its header, waits until those pixels fit the render budget (`budget.PixelBudget`: at most
``max_render_pixels`` and ``max_renders`` jobs at once) and then decodes and works in a worker
thread; up to ``max_queue`` more wait their turn for up to ``max_queue_wait_s``, and beyond that
the service answers 503 with Retry-After instead of piling up memory.
"""
from __future__ import annotations

import base64
import io
import secrets
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable, Mapping, TypeVar

import anyio.to_thread
from fastapi import HTTPException

from ..errors import BadInputError, SilverprintError
from .budget import Busy, PixelBudget
from .probe import image_pixels
from .schemas import SUFFIXES
from .settings import ServiceSettings

T = TypeVar("T")

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", ".png"), (b"\xff\xd8\xff", ".jpg"), (b"II*\x00", ".tif"),
    (b"MM\x00*", ".tif"), (b"RIFF", ".webp"), (b"BM", ".bmp"),
)


def sniff_suffix(head: bytes, name: str | None) -> str:
    """File suffix for an upload: the client's file name when it has a known one, else the magic."""
    from ..imageio import INPUT_SUFFIXES

    if name:
        suffix = Path(name).suffix.lower()
        if suffix in INPUT_SUFFIXES:
            return suffix
    for magic, suffix in _MAGIC:
        if head.startswith(magic):
            return suffix
    return ".bin"


def style_by_name(name: str | None):
    """A style by *name* only (never a file path: the service reads no files a client names)."""
    from ..errors import UnknownStyleError
    from ..pipeline import resolve_style
    from ..styles.style import NAME_RE

    if name in (None, ""):
        return resolve_style(None)
    if not NAME_RE.match(name) or name.endswith(".json"):
        raise UnknownStyleError(f"unknown style {name!r}")
    return resolve_style(name)


def resolve_device(choice: str) -> str:
    """``auto`` → ``cuda`` when torch sees a GPU, else ``cpu`` (the rule lives in `silverprint.device`)."""
    from ..device import resolve_device as _resolve

    return str(_resolve(choice))


@dataclass
class Rendered:
    path: Path
    style: str
    width: int
    height: int


class Engine:
    """Budgeted, queued access to the pipeline for the request handlers."""

    def __init__(self, settings: ServiceSettings, work_dir: Path) -> None:
        self.settings = settings
        self.work_dir = work_dir
        self.device = resolve_device(settings.device)
        self.budget = PixelBudget(settings.max_render_pixels, settings.max_renders,
                                  max_queue=settings.max_queue, max_wait_s=settings.max_queue_wait_s)

    @property
    def in_flight(self) -> int:
        return self.budget.running

    @property
    def queued(self) -> int:
        return self.budget.queued

    async def run(self, fn: Callable[..., T], image: Path, *args: Any, **kwargs: Any) -> T:
        """Run ``fn(image, *args, **kwargs)`` in a worker thread once the image's pixels fit the budget.

        The pixels come from the file's header (`probe.image_pixels`), before anything is decoded;
        503 with Retry-After when the queue is full, the wait too long or the service stopping.
        """
        pixels = await anyio.to_thread.run_sync(image_pixels, image)
        try:
            async with self.budget.admit(pixels):
                return await anyio.to_thread.run_sync(partial(fn, image, *args, **kwargs))
        except Busy as exc:
            raise HTTPException(503, str(exc), headers={"Retry-After": str(exc.retry_after_s)}) from None

    def close(self) -> None:
        """The server is stopping: waiting renders get 503 now, new ones too."""
        self.budget.close()

    # -- synchronous work, run in worker threads ------------------------------------------------
    @staticmethod
    def load(path: Path, display_name: str):
        """Load an uploaded file; any decoding failure becomes a 400 naming the client's file."""
        from ..imageio import load_image

        try:
            return load_image(path)
        except BadInputError as exc:
            raise BadInputError(display_name, exc.reason) from None
        except SilverprintError:
            raise
        except Exception as exc:  # a decoder's own error: still the client's bad file
            raise BadInputError(display_name, f"cannot read the image ({type(exc).__name__}: {exc})") from None

    @classmethod
    def measure(cls, path: Path, display_name: str) -> tuple[int, int]:
        """Decode an upload to check it, and return its (width, height) only (the pixels are freed here)."""
        photo = cls.load(path, display_name)
        h, w = photo.pixels.shape[:2]
        return int(w), int(h)

    def _out_path(self, fmt: str) -> Path:
        return self.work_dir / f"out-{secrets.token_hex(8)}{SUFFIXES[fmt]}"

    def render_file(self, src: Path, display_name: str, style: str | None,
                    overrides: Mapping[str, float] | list[str], fmt: str) -> Rendered:
        """Render an uploaded file with a style into a new file in the work folder."""
        from ..imageio import save_image
        from ..pipeline import check_overrides, render_photo

        style_obj = style_by_name(style)
        check_overrides(style_obj, overrides)  # 400 naming a bad slider, before any work
        photo = self.load(src, display_name)
        image = render_photo(photo, style_obj, overrides, device=self.device)
        out = save_image(self._out_path(fmt), image, fmt, exif=photo.exif)
        h, w = image.shape[:2]
        return Rendered(Path(out), style_obj.name, w, h)

    def reencode(self, src: Path, display_name: str, fmt: str) -> Rendered:
        """A result image sent by the companion, checked and written in the session's format."""
        import numpy as np

        from ..imageio import save_image
        from ..imageio import to_float

        photo = self.load(src, display_name)
        pixels = to_float(np.asarray(photo.pixels))
        if pixels.ndim == 3 and pixels.shape[2] >= 3:
            rgb = pixels[..., :3]
            if np.abs(rgb - rgb[..., :1]).max() <= 1.0 / 65535.0:
                pixels = np.ascontiguousarray(rgb[..., 0])  # grey sent as RGB: keep it grey
            else:
                pixels = np.ascontiguousarray(rgb)
        out = save_image(self._out_path(fmt), pixels, fmt, exif=photo.exif)
        h, w = pixels.shape[:2]
        return Rendered(Path(out), "", w, h)

    def analyse_file(self, src: Path, display_name: str, style: str | None,
                     overrides: Mapping[str, float] | list[str], with_masks: bool) -> dict[str, Any]:
        """Regions (coverage, optional mask PNGs) and the style's decoded sliders for an image."""
        import numpy as np

        from ..params import SEMANTIC_REGIONS
        from ..pipeline import analyse, check_overrides, params_for

        style_obj = style_by_name(style)
        check_overrides(style_obj, overrides)  # 400 naming a bad slider, before any work
        photo = self.load(src, display_name)
        analysis = analyse(photo)
        params = params_for(style_obj, analysis, overrides)
        h, w = np.asarray(photo.pixels).shape[:2]
        regions = []
        for name, mask in zip(SEMANTIC_REGIONS, analysis.masks):
            regions.append({"name": name, "coverage": round(float(mask.mean()), 6),
                            "mask_png": _mask_png(mask) if with_masks else None})
        diag = analysis.regions
        return {"width": int(w), "height": int(h), "style": style_obj.name,
                "regions": regions, "person_found": bool(diag.person_found),
                "faces": len(diag.faces), "params": params.to_dict()}


def _mask_png(mask) -> str:  # noqa: ANN001 - float32 (h, w)
    import numpy as np
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.clip(mask * 255.0 + 0.5, 0, 255).astype(np.uint8), "L").save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")
