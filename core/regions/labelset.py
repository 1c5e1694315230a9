"""The hand-labelled region set used by `bench/regions.py` and the tests.

Each label file (`tests/data/labels/<photo>.json`) names its photo by source (a Kodak file, or a
sample photo shipped inside the scikit-image / matplotlib wheels: photos are never committed) and
holds coarse polygons in that photo's pixel coordinates. Shapes are painted in file order over
``other``; region ``ignore`` marks ambiguous pixels (flowers, lattice towers) left out of scoring.
``split`` is ``dev`` (default: photos the region rules were developed on) or ``heldout`` (labelled
after the rules were frozen and never used to tune them), so the bench can report both.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..params import SEMANTIC_REGIONS

IGNORE = 255  #: label value of pixels left out of scoring
LABEL_REGIONS: tuple[str, ...] = SEMANTIC_REGIONS + ("ignore",)
SPLITS = ("dev", "heldout")


@dataclass(frozen=True)
class Label:
    photo: str
    source: dict
    size: tuple[int, int]  # (width, height)
    shapes: tuple[tuple[str, np.ndarray], ...]
    notes: str
    split: str = "dev"


def load_label(path: Path) -> Label:
    data = json.loads(Path(path).read_text())
    shapes = []
    for shape in data["shapes"]:
        if shape["region"] not in LABEL_REGIONS:
            raise ValueError(f"{path}: unknown region {shape['region']!r}")
        shapes.append((shape["region"], np.asarray(shape["points"], dtype=np.float64)))
    split = data.get("split", "dev")
    if split not in SPLITS:
        raise ValueError(f"{path}: unknown split {split!r}")
    return Label(data["photo"], data["source"], tuple(data["size"]), tuple(shapes), data.get("notes", ""),
                 split)


def load_labels(folder: Path) -> list[Label]:
    return [load_label(p) for p in sorted(Path(folder).glob("*.json"))]


def rasterize(label: Label, shape: tuple[int, int] | None = None) -> np.ndarray:
    """Paint the polygons into a (h, w) uint8 map of region indices (IGNORE for ignored pixels).

    ``shape`` (h, w) scales the polygons to another size (e.g. the analysis size).
    """
    import cv2

    w, h = label.size
    out_h, out_w = shape if shape is not None else (h, w)
    scale = np.array([out_w / w, out_h / h])
    index = {name: i for i, name in enumerate(SEMANTIC_REGIONS)}
    other = index["other"]
    canvas = np.full((out_h, out_w), other, np.uint8)
    for region, points in label.shapes:
        value = IGNORE if region == "ignore" else index[region]
        poly = np.round(points * scale * 8).astype(np.int32)  # 3 fractional bits
        cv2.fillPoly(canvas, [poly], int(value), lineType=cv2.LINE_8, shift=3)
    return canvas


def load_source_rgb(source: dict, kodak_dir: Path) -> np.ndarray:
    """The labelled photo as float32 sRGB (H, W, 3) in [0, 1]."""
    from PIL import Image

    kind = source["kind"]
    if kind == "kodak":
        with Image.open(Path(kodak_dir) / source["file"]) as im:
            arr = np.asarray(im.convert("RGB"))
    elif kind == "skimage":
        import skimage.data

        arr = getattr(skimage.data, source["loader"])()
        if "item" in source:  # loaders of image pairs, e.g. stereo_motorcycle -> (left, right, disparity)
            arr = arr[source["item"]]
        arr = np.asarray(arr)[..., :3]
    elif kind == "matplotlib":
        from matplotlib import cbook

        with Image.open(cbook.get_sample_data(source["loader"])) as im:
            arr = np.asarray(im.convert("RGB"))
    else:
        raise ValueError(f"unknown photo source kind {kind!r}")
    return arr.astype(np.float32) / 255.0


def iou(pred: np.ndarray, truth: np.ndarray, region: int) -> tuple[float, int, int]:
    """IoU of one region between two index maps, ignoring IGNORE pixels in ``truth``.

    Returns (iou, predicted pixel count, labelled pixel count) over the scored pixels.
    """
    valid = truth != IGNORE
    p = (pred == region) & valid
    t = (truth == region) & valid
    union = int(np.count_nonzero(p | t))
    inter = int(np.count_nonzero(p & t))
    return (inter / union if union else 1.0), int(p.sum()), int(t.sum())


def paste_shrunk(src: np.ndarray, silhouette: np.ndarray, scale: int, back: np.ndarray, top: int,
                 left: int) -> tuple[np.ndarray, np.ndarray]:
    """``src`` shrunk ``scale`` times and blended into a copy of ``back`` by its (h, w)
    ``silhouette`` (shrunk alike), top-left corner at (``top``, ``left``); and where it landed
    ((h, w) bool of ``back``'s size, silhouette > 0.5).

    A labelled subject made small while its outline stays known exactly: how the small-people
    bench and tests get small people that are neither held out nor the algorithm's own output.
    """
    import cv2

    h, w = src.shape[:2]
    sw, sh = w // scale, h // scale
    small = cv2.resize(src, (sw, sh), interpolation=cv2.INTER_AREA)
    alpha = cv2.resize(silhouette, (sw, sh), interpolation=cv2.INTER_AREA)[..., None]
    out = back.copy()
    out[top:top + sh, left:left + sw] = small * alpha + out[top:top + sh, left:left + sw] * (1 - alpha)
    where = np.zeros(back.shape[:2], bool)
    where[top:top + sh, left:left + sw] = alpha[..., 0] > 0.5
    return out, where
