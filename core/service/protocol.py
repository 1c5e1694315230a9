"""The HTTP connection as the service runs it: uvicorn's h11 protocol with two additions.

- ``TCP_NODELAY`` on every accepted connection. Without it a reused keep-alive connection paid
  ~40 ms per request (Nagle's algorithm holding the response body until the client's delayed ACK
  of its head); asyncio sets the option only on sockets created with ``IPPROTO_TCP``, which a
  socket handed to uvicorn need not be, so it is set here, whatever made the listening socket.
- A deadline for each request head. uvicorn times out a keep-alive connection only between
  requests, and only until its first byte: a new connection that sends nothing, or a head sent one
  byte at a time (slowloris), held a connection for ever. Here a connection that has not completed
  a request head ``header_timeout_s`` after it opened (or after its last answer) is closed. Bodies
  that stall and clients that stop reading are the guard's (`silverprint.service.guard`).
"""
from __future__ import annotations

import asyncio
import contextlib
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol


class ServiceProtocol(H11Protocol):
    """`H11Protocol` plus TCP_NODELAY and the request-head deadline (see the module docstring)."""

    header_timeout_s: float = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._head_timer: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._await_head()

    def _await_head(self) -> None:
        """(Re)start the deadline for the next request head; a new request cycle disarms it."""
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._waiting_after = self.cycle
        self._head_timer = self.loop.call_later(self.header_timeout_s, self._head_overdue)

    def _head_overdue(self) -> None:
        self._head_timer = None
        if self.cycle is self._waiting_after and not self.transport.is_closing():
            self.transport.close()  # no complete request head in time: idle, stalled or slowloris

    def on_response_complete(self) -> None:
        self._await_head()  # before uvicorn starts a pipelined request, which then disarms it
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().connection_lost(exc)


def protocol_class(header_timeout_s: float) -> type[ServiceProtocol]:
    """A `ServiceProtocol` with this head deadline (uvicorn takes a class and builds one per connection)."""
    return type("ServiceProtocol", (ServiceProtocol,), {"header_timeout_s": float(header_timeout_s)})
