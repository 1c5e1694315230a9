"""Demo photos for `make run`, taken from the sample data inside installed wheels.

They are public domain or CC-licensed photos that scikit-image and matplotlib ship; copying them at
set-up keeps the repository free of third-party images.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

#: name -> (loader description, licence)
SAMPLES = {
    "astronaut": "skimage.data.astronaut (NASA, public domain)",
    "coffee": "skimage.data.coffee (Rachel Michetti, CC0)",
    "chelsea": "skimage.data.chelsea (Stefan van der Walt, CC0)",
    "rocket": "skimage.data.rocket (SpaceX, CC0)",
    "motorcycle": "skimage.data.stereo_motorcycle left view (Middlebury, research use)",
    "grace_hopper": "matplotlib sample grace_hopper.jpg (US Navy, public domain)",
}


def load_sample(name: str) -> np.ndarray:
    """The sample photo as uint8 (H, W, 3)."""
    if name == "grace_hopper":
        from matplotlib import cbook
        from PIL import Image

        with cbook.get_sample_data("grace_hopper.jpg") as fh:
            return np.asarray(Image.open(fh).convert("RGB"))
    from skimage import data

    if name == "motorcycle":
        return data.stereo_motorcycle()[0]
    return getattr(data, name)()


def export_samples(dest: Path) -> list[Path]:
    """Write every sample as a JPEG (q95) into `dest`; existing files are kept."""
    from PIL import Image

    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for name in SAMPLES:
        path = dest / f"{name}.jpg"
        if not path.exists():
            tmp = path.with_suffix(".part")
            Image.fromarray(load_sample(name)).save(tmp, "JPEG", quality=95)
            tmp.replace(path)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Copy the demo photos out of the installed wheels.")
    parser.add_argument("dest", type=Path)
    args = parser.parse_args(argv)
    paths = export_samples(args.dest)
    print(f"{len(paths)} sample photos in {args.dest}/", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
