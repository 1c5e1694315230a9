"""Joining a Ray cluster as a driver, and choosing where the work runs (GPU or CPU workers).

``ADDRESS`` is what ``ray start --head`` printed (``HOST:PORT`` of the cluster's GCS, for a driver
running on one of the cluster's machines), ``auto`` (the cluster this machine belongs to) or
``ray://HOST:PORT`` (Ray Client, a driver outside the cluster). A driver on a loopback address
(127.0.0.2 in the tests) names its own node address too, since Ray would otherwise substitute the
machine's network address and not find the cluster's local node.
"""
from __future__ import annotations

import ipaddress
import logging
from typing import Any

from ..errors import DeviceError, SilverprintError

#: Share of one GPU a photo task asks for: two tasks per GPU, so one loads and saves while the
#: other renders (the local CLI overlaps I/O and rendering with threads for the same reason).
GPU_SHARE = 0.5


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def connect(address: str) -> Any:
    """Import Ray and join the cluster at ``address``; returns the ``ray`` module."""
    try:
        import ray
    except ImportError:
        raise SilverprintError("--cluster needs Ray: pip install 'silverprint[cluster]'") from None
    kwargs: dict[str, Any] = {}
    host = address.rsplit(":", 1)[0] if ":" in address and "://" not in address else ""
    if host and _is_loopback(host):
        kwargs["_node_ip_address"] = host
    try:
        ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR,
                 namespace="silverprint", **kwargs)
    except Exception as exc:  # noqa: BLE001 - Ray raises many kinds; the user needs one line
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise SilverprintError(f"cannot join the Ray cluster at {address}: {text}") from None
    return ray


def placement(ray: Any, device: str) -> tuple[dict[str, Any], str]:
    """Task options and the device name workers render on: GPU workers whenever the cluster has
    them (``--device auto`` or ``cuda``), else CPU workers; ``cuda`` on a GPU-less cluster fails."""
    gpus = float(ray.cluster_resources().get("GPU", 0))
    if device in ("auto", "cuda") and gpus > 0:
        return {"num_gpus": GPU_SHARE, "num_cpus": 1}, "cuda"
    if device == "cuda":
        raise DeviceError("--device cuda: the cluster has no GPU workers")
    return {"num_cpus": 1}, "cpu"


def slots(ray: Any, options: dict[str, Any]) -> int:
    """How many tasks with ``options`` the cluster can run at once (at least 1)."""
    resources = ray.cluster_resources()
    if options.get("num_gpus"):
        return max(1, int(resources.get("GPU", 0) / options["num_gpus"]))
    return max(1, int(resources.get("CPU", 0) / options.get("num_cpus", 1)))
