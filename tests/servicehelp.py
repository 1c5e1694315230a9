"""Run a real `silverprint serve` on a random loopback port with a temporary SILVERPRINT_HOME.

Shared by the service tests, the bridge tests and `bench/service.py`: the server is the installed
console script in its own process group, so a test that fails half-way still stops it.
"""
from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

SILVERPRINT = Path(sys.executable).with_name("silverprint")


def silverprint_command() -> list[str]:
    """The CLI: the installed console script, else this Python running `silverprint.cli` (a checkout
    imported through PYTHONPATH, as on a lent GPU machine)."""
    if SILVERPRINT.exists():
        return [str(SILVERPRINT)]
    return [sys.executable, "-c", "import sys; from silverprint.cli import main; sys.exit(main(sys.argv[1:]))"]


@dataclass
class Service:
    url: str
    token: str
    home: Path
    process: subprocess.Popen
    log: Path

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def env(self) -> dict[str, str]:
        """Environment for a client (plug-in host) that should find this service by itself."""
        env = dict(os.environ)
        env["SILVERPRINT_HOME"] = str(self.home)
        env.pop("SILVERPRINT_URL", None)
        env.pop("SILVERPRINT_TOKEN", None)
        return env

    def client(self, **kwargs):
        from silverprint.service.client import ServiceClient

        return ServiceClient(self.url, self.token, **kwargs)


def clean_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SILVERPRINT_")}
    env["SILVERPRINT_HOME"] = str(home)
    env.update(extra or {})
    return env


@contextmanager
def running_service(home: Path, extra_env: dict[str, str] | None = None, *,
                    args: tuple[str, ...] = (), start_timeout: float = 120.0) -> Iterator[Service]:
    """Start `silverprint serve --port 0`, wait until /v1/health answers, stop it afterwards."""
    home.mkdir(parents=True, exist_ok=True)
    log = home / "serve.log"
    with open(log, "wb") as log_handle:
        proc = subprocess.Popen([*silverprint_command(), "serve", "--port", "0", *args],
                                stdout=subprocess.PIPE, stderr=log_handle,
                                env=clean_env(home, extra_env), start_new_session=True)
    try:
        deadline = time.monotonic() + start_timeout
        line = b""
        while time.monotonic() < deadline and not line.endswith(b"\n"):
            ready, _, _ = select.select([proc.stdout], [], [], 1.0)
            if ready:
                chunk = proc.stdout.readline()
                if not chunk:
                    break
                line += chunk
            if proc.poll() is not None:
                break
        text = line.decode().strip()
        if "listening on " not in text:
            raise RuntimeError(f"silverprint serve did not start: {text!r}\n{log.read_text()[-2000:]}")
        url = text.rsplit(" ", 1)[1]
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url + "/v1/health", timeout=2) as answer:
                    if json.loads(answer.read()).get("status") == "ok":
                        break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"silverprint serve at {url} never answered\n{log.read_text()[-2000:]}")
        token = (home / "config" / "token").read_text().strip()
        yield Service(url, token, home, proc, log)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if proc.stdout:
            proc.stdout.close()


def small_photo(path: Path, source: Path, size: tuple[int, int] = (96, 64), mode: str = "RGB",
                bits16: bool = False) -> Path:
    """A small real photo (a Kodak image shrunk), optionally 16-bit, for fast end-to-end tests."""
    import numpy as np
    from PIL import Image

    image = Image.open(source).convert("RGB").resize(size, Image.LANCZOS)
    if bits16:
        rgb = np.asarray(image).astype(np.uint16) * 257
        rgb[..., 0] += np.arange(size[0], dtype=np.uint16)[None, :] % 200  # real 16-bit content
        import tifffile

        if path.suffix.lower() in (".tif", ".tiff"):
            tifffile.imwrite(path, rgb, photometric="rgb")
        else:
            import cv2

            cv2.imwrite(str(path), rgb[..., ::-1].copy())
        return path
    image.convert(mode).save(path)
    return path
