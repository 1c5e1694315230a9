"""The service as a running server: one assembly for `silverprint serve` and the companion.

Both bind a loopback socket (`endpoint.listen_socket`), make sure the token exists, build the
FastAPI app and a uvicorn server on that socket, and advertise the address in ``service.json``.
They differ only in who runs it: the CLI blocks its main thread in `LocalServer.run` (uvicorn then
handles Ctrl-C), the companion runs it in a daemon thread and stops it with `should_exit`.
"""
from __future__ import annotations

import socket
from dataclasses import dataclass

import uvicorn

from .app import create_app
from .endpoint import (bind_address, clear_endpoint_file, ensure_token, listen_socket,
                       write_endpoint_file)
from .protocol import protocol_class
from .settings import ServiceSettings


@dataclass
class LocalServer:
    """A uvicorn server on its own listening loopback socket, advertised at ``url``."""

    server: uvicorn.Server
    sock: socket.socket
    url: str

    @property
    def started(self) -> bool:
        return bool(self.server.started)

    def run(self) -> None:
        """Serve until ``server.should_exit`` is set (blocks the calling thread)."""
        self.server.run(sockets=[self.sock])

    def close(self) -> None:
        """Stop advertising this server and release its socket."""
        clear_endpoint_file()
        self.sock.close()


def local_server(port: int | None = None, *, settings: ServiceSettings | None = None,
                 any_port_if_taken: bool = False, graceful_shutdown_s: int = 5) -> LocalServer:
    """Bind, ensure the token, build the app and its uvicorn server, then write ``service.json``.

    ``port``: as `endpoint.bind_address` (None: SILVERPRINT_URL's port or the default; 0: any
    free port). ``any_port_if_taken``: fall back to a free port instead of refusing (the companion
    hosting a service). The caller runs the server and calls `LocalServer.close` afterwards.
    """
    host, wanted = bind_address(port)
    sock = listen_socket(host, wanted, any_port_if_taken=any_port_if_taken)
    try:
        url = f"http://{host}:{sock.getsockname()[1]}"
        ensure_token()
        settings = settings or ServiceSettings.from_env()
        config = uvicorn.Config(create_app(settings), log_level="warning", access_log=False,
                                http=protocol_class(settings.header_timeout_s),
                                timeout_graceful_shutdown=graceful_shutdown_s)
        local = LocalServer(uvicorn.Server(config), sock, url)
        write_endpoint_file(url)
    except BaseException:
        sock.close()
        raise
    return local
