"""The renderer: one differentiable torch implementation of Silverprint's black-and-white look.

- `render(rgb, masks, local_masks, t, *, seed=None)`: tensors in, tensor out (preview, learning).
- `render_array(rgb, masks, local_masks, params, *, device="cpu", seed=None)`: full resolution,
  banded, bounded memory, no gradients; same math.
- `Preview(rgb_small, masks, local_masks, device).render(params)`: cached, for slider changes.
- `params_to_tensors` / `tensors_to_params`: `Params` ⇄ the tensors the learner optimises.

On small CPUs wrap loops of `render` calls (learning) in ``with torch_threads(1):`` — OpenMP's
hand-off between two threads made each small op several times slower on the 2-core machines.

The math of each step is documented in `silverprint.render.engine` and `silverprint.render.tone`.
"""
from .engine import BLUR_SIZE, MASK_FLOOR, STRUCTURE_SIGMA, render, torch_threads
from .full import render_array
from .preview import Preview
from .spatial import graduated_mask, point_mask, radial_mask
from .tensors import GLOBAL_NAMES, GEOMETRY_NAMES, RenderTensors, params_to_tensors, tensors_to_params
from .tone import curve_lut, region_tone

__all__ = ["BLUR_SIZE", "GEOMETRY_NAMES", "GLOBAL_NAMES", "MASK_FLOOR", "Preview", "RenderTensors",
           "STRUCTURE_SIGMA", "curve_lut", "graduated_mask", "params_to_tensors", "point_mask", "radial_mask",
           "region_tone", "render", "render_array", "tensors_to_params", "torch_threads"]
