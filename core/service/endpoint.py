"""Where the service listens and how a client proves it may talk to it (standard library only).

The service binds 127.0.0.1 on `DEFAULT_PORT` unless `--port` or `SILVERPRINT_URL` says otherwise.
On start it writes ``service.json`` (url + pid) next to the token so that plug-ins and the companion
find a service started on another port (the companion may host one on a free port). Order a client
uses: ``SILVERPRINT_URL``, then a live ``service.json``, then the default.

The token is created once (first start) with mode 0600 and kept across restarts: the plug-ins read it
from `silverprint.paths.token_file()` at each call.
"""
from __future__ import annotations

import json
import os
import secrets
import socket
from pathlib import Path
from urllib.parse import urlsplit

from .. import paths
from ..errors import SilverprintError
from ..fileio import atomic_path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 47810
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


def endpoint_file() -> Path:
    """``service.json`` beside the token: the address of the running service."""
    return paths.config_dir() / "service.json"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def service_url() -> str:
    """Base URL (no trailing slash, no ``/v1``) a client should use."""
    env = os.environ.get("SILVERPRINT_URL", "").strip()
    if env:
        return env.rstrip("/")
    try:
        info = json.loads(endpoint_file().read_text())
        if isinstance(info, dict) and _pid_alive(int(info.get("pid", -1))) and info.get("url"):
            return str(info["url"]).rstrip("/")
    except (OSError, ValueError, TypeError):
        pass
    return f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"


def bind_address(port: int | None) -> tuple[str, int]:
    """The loopback host and port `silverprint serve` binds: ``--port``, else SILVERPRINT_URL's port.

    A SILVERPRINT_URL naming a non-loopback host is refused: the service never listens elsewhere.
    """
    if port is not None:
        return DEFAULT_HOST, port
    env = os.environ.get("SILVERPRINT_URL", "").strip()
    if env:
        parts = urlsplit(env)
        if parts.hostname not in LOOPBACK_NAMES:
            raise SilverprintError(f"SILVERPRINT_URL={env!r}: the service only listens on 127.0.0.1")
        return DEFAULT_HOST, parts.port or DEFAULT_PORT
    return DEFAULT_HOST, DEFAULT_PORT


def listen_socket(host: str, port: int, *, any_port_if_taken: bool = False) -> socket.socket:
    """A listening socket for uvicorn on ``host:port``.

    `silverprint serve` wants a clear error when the port is taken (another service is probably
    running); the companion hosting the service falls back to any free port instead
    (``any_port_if_taken``) and advertises it through the endpoint file.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        if not any_port_if_taken:
            sock.close()
            raise SilverprintError(f"cannot listen on {host}:{port}: {exc.strerror} "
                                   "(is another silverprint service running? try --port 0)") from None
        sock.bind((host, 0))
    sock.listen(128)
    return sock


def _write_private(path: Path, text: str) -> None:
    """Atomically write a file only its owner may read (mode 0600 from creation on)."""
    with atomic_path(path, mode=0o600) as tmp:
        tmp.write_text(text)


def ensure_token() -> str:
    """Return the service token, creating it (mode 0600) on first start and tightening a loose mode."""
    path = paths.token_file()
    try:
        token = path.read_text().strip()
    except FileNotFoundError:
        token = ""
    if len(token) < 32:
        token = secrets.token_urlsafe(32)
        _write_private(path, token + "\n")
    elif os.name == "posix" and path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)
    return token


def read_token() -> str | None:
    """The token a client sends (``SILVERPRINT_TOKEN`` wins), or None when the service never ran."""
    env = os.environ.get("SILVERPRINT_TOKEN", "").strip()
    if env:
        return env
    try:
        return paths.token_file().read_text().strip() or None
    except OSError:
        return None


def write_endpoint_file(url: str) -> Path:
    path = endpoint_file()
    _write_private(path, json.dumps({"url": url, "pid": os.getpid()}) + "\n")
    return path


def clear_endpoint_file() -> None:
    """Remove ``service.json`` if it is ours (another instance may have replaced it)."""
    path = endpoint_file()
    try:
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError, AttributeError):
        pass
