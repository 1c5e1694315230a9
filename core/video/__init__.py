"""Black-and-white video with a style, without flicker.

- `io`: PyAV decode / encode (timestamps, rotation, colour tags kept; audio copied).
- `shots`: shot-cut detection.
- `temporal`: keyframe analysis with motion-compensated smoothing of masks and sliders.
- `engine`: the per-frame calls into `silverprint.pipeline` (the one engine).
- `convert`: `convert_video(src, dst, style=..., progress=..., cancel=...)` and
  `preview_frame(path, index_or_time, style, overrides)` for the companion.

Names are imported lazily so that `import silverprint.video` stays cheap.
"""
from __future__ import annotations

from typing import Any

__all__ = ["VideoCancelled", "VideoResult", "convert_video", "preview_frame", "probe"]


def __getattr__(name: str) -> Any:
    if name in ("VideoCancelled", "VideoResult", "convert_video", "preview_frame"):
        from . import convert

        return getattr(convert, name)
    if name == "probe":
        from .io import probe

        return probe
    raise AttributeError(name)
