"""Service settings: limits that keep a service left running on a photographer's machine safe.

Read once from the environment (``SILVERPRINT_*``) by `ServiceSettings.from_env`; tests build one
directly and pass it to `create_app`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, fields

MIB = 1024 * 1024


@dataclass(frozen=True)
class ServiceSettings:
    #: Largest image body accepted (a 100 MP 16-bit TIFF is ~600 MB).
    max_upload_bytes: int = 768 * MIB
    #: Largest body of any other request (JSON): a learning request is a few hundred bytes.
    max_json_bytes: int = 1 * MIB
    #: Renders running at once; the rest queue (CPU renders already use every core).
    max_renders: int = 2
    #: Pixels of the images being worked on at once. A render in the service peaks at 20-25 bytes
    #: per pixel (bench/service.py: two 100 MP renders at once took it to 4.2 GB, one at a time to
    #: 2.9 GB), so: one 100 MP render with small ones beside it, or two of 80 MP; the rest queue.
    max_render_pixels: int = 160_000_000
    #: Requests allowed to wait for a render slot before new ones get 503.
    max_queue: int = 64
    #: A request still waiting for room after this long gets 503 with Retry-After.
    max_queue_wait_s: float = 60.0
    #: A bridge session (and its files) is dropped this long after its last change.
    session_ttl_s: float = 3600.0
    #: Sessions held at once (each holds an image on disk).
    max_sessions: int = 32
    #: The companion counts as attached this long after it last listed sessions.
    companion_timeout_s: float = 15.0
    #: Longest long-poll a client may ask for.
    max_wait_s: float = 30.0
    #: "auto" (CUDA when present), "cpu" or "cuda".
    device: str = "auto"
    #: A connection that has not sent a whole request head this long after it opened (or after its
    #: last answer) is closed: idle connections and slow headers (slowloris).
    header_timeout_s: float = 10.0
    #: A request body that sends nothing for this long gets 408 (a stalled or malicious client).
    body_timeout_s: float = 30.0
    #: A client that reads none of its answer for this long loses the connection.
    send_timeout_s: float = 60.0

    @classmethod
    def from_env(cls, **overrides: object) -> "ServiceSettings":
        """Defaults, then ``SILVERPRINT_MAX_UPLOAD_MB``, ``SILVERPRINT_MAX_RENDERS``, …, then overrides."""
        values: dict[str, object] = {}
        env = os.environ
        if env.get("SILVERPRINT_MAX_UPLOAD_MB"):
            values["max_upload_bytes"] = int(float(env["SILVERPRINT_MAX_UPLOAD_MB"]) * MIB)
        for f in fields(cls):
            key = f"SILVERPRINT_{f.name.upper()}"
            if key in env and f.name != "max_upload_bytes":
                values[f.name] = type(f.default)(env[key])  # type: ignore[call-arg]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
