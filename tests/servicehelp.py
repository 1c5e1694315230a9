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


def rss_kb(pid: int, field: str = "VmRSS") -> int:
    """A process's resident memory (or its peak, ``VmHWM``) in KiB, from /proc/PID/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for pid {pid}")


class RssWatch:
    """The largest growth of a process's resident memory over a block (KiB), sampled every few ms.

    The kernel's peak counter is reset at the start where allowed (``clear_refs``), so that a peak
    between two samples is counted too.
    """

    def __init__(self, pid: int, every_s: float = 0.005) -> None:
        import threading

        self.pid = pid
        self.every_s = every_s
        self.base = 0
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, rss_kb(self.pid))
            except (OSError, RuntimeError):
                return
            self._stop.wait(self.every_s)

    def __enter__(self) -> "RssWatch":
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        except OSError:
            pass
        self.base = self.peak = rss_kb(self.pid)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        try:
            self.peak = max(self.peak, rss_kb(self.pid, "VmHWM"))
        except (OSError, RuntimeError):
            pass

    @property
    def growth_kb(self) -> int:
        return max(0, self.peak - self.base)


def stream_chunked(port: int, path: str, total: int, *, token: str | None = None, chunk: int = 256 * 1024,
                   content_type: str = "application/json", timeout: float = 60.0) -> tuple[int | None, int, bytes]:
    """POST ``total`` bytes chunked (no Content-Length), watching for an early answer between chunks.

    Returns (status, bytes sent when the answer came or the server closed, answer body); status is
    None when the server closed without an answer.
    """
    import http.client
    import socket

    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {content_type}\r\n"
                f"Transfer-Encoding: chunked\r\n")
        if token:
            head += f"Authorization: Bearer {token}\r\n"
        sock.sendall(head.encode() + b"\r\n")
        piece = b" " * chunk
        framed = b"%x\r\n" % len(piece) + piece + b"\r\n"
        sent = 0
        while sent < total:
            if select.select([sock], [], [], 0)[0]:
                break  # an answer (or a close) before the body is done
            try:
                sock.sendall(framed)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
        else:
            try:
                sock.sendall(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
        answer = http.client.HTTPResponse(sock)
        try:
            answer.begin()
            return answer.status, sent, answer.read()
        except (http.client.HTTPException, ConnectionResetError):
            return None, sent, b""
    finally:
        sock.close()
