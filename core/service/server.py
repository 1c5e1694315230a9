"""The service as a running server: one assembly for `silverprint serve` and the companion.

Both claim the config folder's ``service.lock`` (one live service per user: a second one is refused
with the first's address instead of taking over its ``service.json``), bind a loopback socket
(`endpoint.listen_socket`), make sure the token exists, build the FastAPI app and a uvicorn server
on that socket, and advertise the address in ``service.json``. They differ only in who runs it:
the CLI blocks its main thread in `LocalServer.run` (uvicorn then handles Ctrl-C and SIGTERM), the
companion runs it in a daemon thread and stops it with `should_exit`.

When the server starts to stop, renders still waiting for room are answered 503 at once (the
engine's budget is closed) rather than started; requests still running when the grace period ends
are answered 503 by the guard.
"""
from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from typing import Callable

import uvicorn
from fastapi import FastAPI

from ..errors import SilverprintError
from .app import create_app
from .endpoint import (bind_address, clear_endpoint_file, endpoint_file, ensure_token, listen_socket,
                       write_endpoint_file)
from .ownership import Held, hold
from .protocol import protocol_class
from .settings import ServiceSettings


class _Server(uvicorn.Server):
    """uvicorn's server, telling the app first when it starts to shut down."""

    def __init__(self, config: uvicorn.Config, on_shutdown: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_shutdown = on_shutdown

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._on_shutdown()
        await super().shutdown(sockets)


def _stop_taking_work(app: FastAPI) -> None:
    engine = getattr(app.state, "engine", None)
    if engine is not None:
        engine.close()


@dataclass
class LocalServer:
    """A uvicorn server on its own listening loopback socket, advertised at ``url``."""

    server: uvicorn.Server
    sock: socket.socket
    url: str
    claim: Held

    @property
    def started(self) -> bool:
        return bool(self.server.started)

    def run(self) -> None:
        """Serve until ``server.should_exit`` is set (blocks the calling thread)."""
        self.server.run(sockets=[self.sock])

    def close(self) -> None:
        """Stop advertising this server and release its socket and its claim."""
        clear_endpoint_file()
        self.sock.close()
        self.claim.release()


def claim_service() -> Held:
    """Hold ``service.lock``; a live service holding it already is a one-line `SilverprintError`."""
    lock_path = endpoint_file().with_name("service.lock")
    claim = hold(lock_path)
    if claim is None:
        where = ""
        try:
            info = json.loads(endpoint_file().read_text())
            where = f" at {info['url']} (pid {int(info['pid'])})"
        except (OSError, ValueError, KeyError, TypeError):
            pass
        raise SilverprintError(f"another silverprint service is already running{where}; the plug-ins "
                               f"and the companion use it. Stop it first to start a new one")
    return claim


def local_server(port: int | None = None, *, settings: ServiceSettings | None = None,
                 any_port_if_taken: bool = False, graceful_shutdown_s: int = 5) -> LocalServer:
    """Claim the service, bind, ensure the token, build the app and its server, write ``service.json``.

    ``port``: as `endpoint.bind_address` (None: SILVERPRINT_URL's port or the default; 0: any
    free port). ``any_port_if_taken``: fall back to a free port instead of refusing (the companion
    hosting a service). The caller runs the server and calls `LocalServer.close` afterwards.
    """
    host, wanted = bind_address(port)
    claim = claim_service()
    sock = None
    try:
        sock = listen_socket(host, wanted, any_port_if_taken=any_port_if_taken)
        url = f"http://{host}:{sock.getsockname()[1]}"
        ensure_token()
        settings = settings or ServiceSettings.from_env()
        app = create_app(settings)
        config = uvicorn.Config(app, log_level="warning", access_log=False,
                                http=protocol_class(settings.header_timeout_s),
                                timeout_graceful_shutdown=graceful_shutdown_s)
        local = LocalServer(_Server(config, lambda: _stop_taking_work(app)), sock, url, claim)
        write_endpoint_file(url)
    except BaseException:
        if sock is not None:
            sock.close()
        claim.release()
        raise
    return local
