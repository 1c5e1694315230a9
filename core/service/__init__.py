"""The local core service: HTTP on 127.0.0.1 under ``/v1`` with a bearer token.

It is what the GIMP and darktable plug-ins and the companion talk to. Everything it renders goes
through `silverprint.pipeline`, the same engine as the CLI. `create_app` builds the FastAPI app;
`silverprint.service.client.ServiceClient` is a standard-library client for it.
"""
from __future__ import annotations

from .endpoint import DEFAULT_PORT, service_url

__all__ = ["DEFAULT_PORT", "create_app", "service_url"]


def create_app(*args, **kwargs):  # noqa: ANN002, ANN003 - thin lazy re-export
    """Build the FastAPI app (imported lazily so that `silverprint.service.client` stays light)."""
    from .app import create_app as _create

    return _create(*args, **kwargs)
