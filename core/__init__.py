"""Silverprint: region-aware black-and-white conversion that learns a photographer's own style.

The package is the one engine behind the CLI, the local service, the companion GUI, the video path
and the host-app bridges. Heavy modules (torch, mediapipe) are imported lazily by the modules that
need them so that `import silverprint` and the CLI start fast.
"""
__version__ = "0.1.0"
