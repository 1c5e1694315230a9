"""`silverprint serve`: the local core service for the GIMP / darktable bridges and the companion.

Binds 127.0.0.1 only. ``--port 0`` picks a free port; the first stdout line always says where it
listens (``silverprint service listening on http://127.0.0.1:PORT``) and ``service.json`` in the
config folder records it for the plug-ins. ``--host-check`` only asks whether a service already
answers at the configured address (exit 0 yes, 1 no), for scripts and for the companion.

One service runs per user: a second `serve` is refused with the first's address. SIGTERM stops it
like Ctrl-C (graceful, then ``service.json`` removed).
"""
from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the local core service (loopback only)",
                       description="Run the local core service used by the GIMP and darktable plug-ins "
                                   "and the companion. Listens on 127.0.0.1 only.")
    p.add_argument("--port", type=int, default=None,
                   help="port (default: SILVERPRINT_URL's, else 47810; 0 = any free port)")
    p.add_argument("--host-check", action="store_true",
                   help="only report whether a service answers at the configured address, then exit")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None,
                   help="render device (default auto: CUDA when present)")
    p.add_argument("--max-renders", type=int, default=None, metavar="N",
                   help="renders at once; more requests queue (default 2)")
    p.set_defaults(func=run)


def _check() -> int:
    from ..service.client import ServiceClient, ServiceUnavailable

    client = ServiceClient(timeout=3)
    try:
        info = client.health()
    except ServiceUnavailable as exc:
        print(f"no silverprint service at {client.url}: {exc}")
        return 1
    print(f"silverprint service {info.get('version')} at {client.url} (device {info.get('device')})")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.host_check:
        return _check()
    from ..errors import SilverprintError
    from ..fileio import sigterm_as_interrupt
    from ..service.server import local_server
    from ..service.settings import ServiceSettings

    if args.port is not None and not 0 <= args.port <= 65535:
        raise SilverprintError(f"--port {args.port}: must be 0..65535")
    settings = ServiceSettings.from_env(device=args.device, max_renders=args.max_renders)
    # `kill PID` stops like Ctrl-C: uvicorn shuts down gracefully, then re-raises the signal, which
    # unwinds here (the default action would end the process before service.json is removed)
    with sigterm_as_interrupt():
        local = local_server(args.port, settings=settings)
        try:
            local.sock.set_inheritable(True)
            print(f"silverprint service listening on {local.url}", flush=True)
            local.run()
        finally:
            local.close()
    sys.stdout.flush()
    return 0
