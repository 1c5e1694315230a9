"""Where the service listens and how a client proves it may talk to it (standard library only).

The service binds 127.0.0.1 on `DEFAULT_PORT` unless `--port` or `SILVERPRINT_URL` says otherwise.
On start it writes ``service.json`` (url + pid) next to the token so that plug-ins and the companion
find a service started on another port (the companion may host one on a free port). Order a client
uses: ``SILVERPRINT_URL``, then a live ``service.json``, then the default.

The token is created once (first start) with mode 0600 and kept across restarts: the plug-ins read it
from `silverprint.paths.token_file()` at each call. A token file that is a link, not a regular
file, someone else's or readable by others is refused with an explanation, never followed or
silently repaired.
"""
from __future__ import annotations

import errno
import json
import os
import secrets
import socket
import stat
from pathlib import Path
from urllib.parse import urlsplit

from .. import paths
from ..errors import SilverprintError
from ..fileio import atomic_path, pid_alive

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 47810
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


def endpoint_file() -> Path:
    """``service.json`` beside the token: the address of the running service."""
    return paths.config_dir() / "service.json"


def service_url() -> str:
    """Base URL (no trailing slash, no ``/v1``) a client should use."""
    env = os.environ.get("SILVERPRINT_URL", "").strip()
    if env:
        return env.rstrip("/")
    try:
        info = json.loads(endpoint_file().read_text())
        if isinstance(info, dict) and pid_alive(int(info.get("pid", -1))) and info.get("url"):
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
    # IPPROTO_TCP: asyncio sets TCP_NODELAY only on accepted sockets of that protocol (the service's
    # protocol sets it too, whatever made the socket)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
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


#: A token file is a few dozen bytes; read no more than this from it.
TOKEN_READ_LIMIT = 4096


def _token_problem(path: Path, info: os.stat_result) -> str | None:
    """Why an opened token file may not be used, or None when it is a private regular file of ours."""
    if stat.S_ISDIR(info.st_mode):
        return "is a folder, not a file"
    if not stat.S_ISREG(info.st_mode):
        return "is not a regular file"
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return (f"belongs to user id {info.st_uid}, not to you (user id {os.getuid()}): "
                f"delete it and a new token is made at the next start")
    if os.name == "posix" and info.st_mode & 0o077:
        return (f"can be read or changed by other users (mode {stat.S_IMODE(info.st_mode):04o}), and "
                f"whoever read it can use the service as you. If nobody else could have, run "
                f"`chmod 600 {path}`; otherwise delete it and a new token is made at the next start")
    return None


def _read_token_file(path: Path) -> str | None:
    """The token file's text, or None when there is none; a file that is not safe is refused.

    Opened with ``O_NOFOLLOW`` (and ``O_NONBLOCK``, so a FIFO put there cannot hang the service),
    then checked on the open descriptor, so nothing can be swapped in between: it must be a regular
    file owned by this user with no group or other permissions. A link is refused rather than
    followed (following it makes another file's content the token, and "tightening" its mode
    changes that other file).
    A loose mode is refused rather than tightened or regenerated: tightening silently would hide
    that the token may already have been read by someone else, and regenerating silently would
    break every host given the old token (``SILVERPRINT_TOKEN``) without saying why, so the user
    decides: ``chmod 600`` if nobody else could have read it, or delete it for a fresh one.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    link = SilverprintError(f"{path}: the service token file is a symbolic link; it must be a regular "
                            f"file. Remove the link and a new token is made at the next start")
    if path.is_symlink():  # O_NOFOLLOW below is the guard; this gives the same message where it is missing
        raise link
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise link from None
        raise SilverprintError(f"{path}: cannot read the service token file ({exc.strerror or exc})") from None
    try:
        problem = _token_problem(path, os.fstat(fd))
        if problem:
            raise SilverprintError(f"{path}: the service token file {problem}")
        return os.read(fd, TOKEN_READ_LIMIT).decode("utf-8", "replace").strip()
    finally:
        os.close(fd)


def ensure_token() -> str:
    """Return the service token, creating it (mode 0600) on first start or when it is empty or short.

    A token file that is a link, not a regular file, someone else's, or readable by others is
    refused with a `SilverprintError` that says what to do (see `_read_token_file`).
    """
    path = paths.token_file()
    token = _read_token_file(path) or ""
    if len(token) < 32:
        token = secrets.token_urlsafe(32)
        _write_private(path, token + "\n")
    return token


def read_token() -> str | None:
    """The token a client sends (``SILVERPRINT_TOKEN`` wins), or None when the service never ran.

    The file passes the same checks as the service's (a link to another file would send that
    file's content to whatever address the client was pointed at).
    """
    env = os.environ.get("SILVERPRINT_TOKEN", "").strip()
    if env:
        return env
    return _read_token_file(paths.token_file()) or None


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
