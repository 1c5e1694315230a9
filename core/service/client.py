"""A small standard-library client for the service (the companion, tests and benchmarks use it).

Every call has a timeout; a service that is not running raises `ServiceUnavailable` with a message
that says how to start it, and an error answer raises `ServiceError` carrying the status and the
service's one-line ``detail``. Image bodies are streamed from files when given a path.
"""
from __future__ import annotations

import http.client
import json
import os
from pathlib import Path
from typing import Any, BinaryIO, Iterable, Mapping
from urllib.parse import quote, urlencode, urlsplit

from ..errors import SilverprintError
from .endpoint import read_token, service_url

START_HINT = "start it with `silverprint serve` (or open the Silverprint companion)"
CHUNK = 1024 * 1024


class ServiceUnavailable(SilverprintError):
    """Nothing answers at the service address."""


class ServiceError(SilverprintError):
    """The service answered with an error status."""

    def __init__(self, status: int, detail: str) -> None:
        self.status = status
        self.detail = detail
        super().__init__(f"service error {status}: {detail}")


def _query(params: Mapping[str, Any] | None, sliders: Iterable[str] | Mapping[str, float] = ()) -> str:
    items: list[tuple[str, str]] = []
    for key, value in (params or {}).items():
        if value is None:
            continue
        items.append((key, str(value).lower() if isinstance(value, bool) else str(value)))
    pairs = sliders.items() if isinstance(sliders, Mapping) else (s.split("=", 1) for s in sliders)
    items += [("set", f"{k}={v}") for k, v in pairs]
    return ("?" + urlencode(items)) if items else ""


class ServiceClient:
    def __init__(self, url: str | None = None, token: str | None = None, timeout: float = 120.0) -> None:
        self.url = (url or service_url()).rstrip("/")
        self.token = token if token is not None else read_token()
        self.timeout = timeout
        parts = urlsplit(self.url)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80

    # -- transport --------------------------------------------------------------------------------
    def request(self, method: str, path: str, *, body: bytes | str | os.PathLike | BinaryIO | None = None,
                json_body: Any = None, timeout: float | None = None, auth: bool = True,
                headers: Mapping[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        """One request; returns (status, headers, body) for 2xx, raises otherwise."""
        conn = http.client.HTTPConnection(self._host, self._port, timeout=timeout or self.timeout)
        sent_headers = {"Host": f"127.0.0.1:{self._port}", **(headers or {})}
        if auth and self.token:
            sent_headers["Authorization"] = f"Bearer {self.token}"
        handle = None
        try:
            if json_body is not None:
                data: Any = json.dumps(json_body).encode()
                sent_headers["Content-Type"] = "application/json"
            elif isinstance(body, (str, os.PathLike)):
                handle = open(body, "rb")
                sent_headers["Content-Length"] = str(os.fstat(handle.fileno()).st_size)
                sent_headers["Content-Type"] = "application/octet-stream"
                data = iter(lambda: handle.read(CHUNK), b"")
            else:
                data = body
                if body is not None:
                    sent_headers["Content-Type"] = "application/octet-stream"
            if data is None and method in ("POST", "PUT"):
                sent_headers["Content-Length"] = "0"
            conn.request(method, "/v1" + path, body=data, headers=sent_headers)
            response = conn.getresponse()
            payload = response.read()
        except (ConnectionRefusedError, ConnectionResetError, http.client.RemoteDisconnected,
                TimeoutError, OSError) as exc:
            if isinstance(exc, TimeoutError) or "timed out" in str(exc):
                raise ServiceUnavailable(f"the silverprint service at {self.url} did not answer within "
                                         f"{timeout or self.timeout:g} s") from None
            raise ServiceUnavailable(f"the silverprint service is not running at {self.url} "
                                     f"({exc.__class__.__name__}); {START_HINT}") from None
        finally:
            if handle is not None:
                handle.close()
            conn.close()
        result_headers = {k.lower(): v for k, v in response.getheaders()}
        if response.status >= 400:
            try:
                detail = json.loads(payload).get("detail")
            except (ValueError, AttributeError):
                detail = None
            raise ServiceError(response.status, str(detail or payload[:200].decode("utf-8", "replace")))
        return response.status, result_headers, payload

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        _, _, payload = self.request(method, path, **kwargs)
        return json.loads(payload) if payload else None

    # -- service --------------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        return self._json("GET", "/health", auth=False)

    def styles(self) -> dict[str, Any]:
        return self._json("GET", "/styles")

    def style(self, name: str) -> dict[str, Any]:
        return self._json("GET", f"/styles/{quote(name, safe='')}")

    def render(self, image: bytes | str | os.PathLike, *, style: str | None = None,
               overrides: Iterable[str] | Mapping[str, float] = (), fmt: str = "png16",
               name: str | None = None) -> bytes:
        """Rendered image bytes (PNG16 / TIFF16 / JPEG)."""
        if name is None and isinstance(image, (str, os.PathLike)):
            name = Path(image).name
        query = _query({"style": style, "format": fmt, "name": name}, overrides)
        return self.request("POST", f"/render{query}", body=image)[2]

    def analyse(self, image: bytes | str | os.PathLike, *, style: str | None = None,
                overrides: Iterable[str] | Mapping[str, float] = (), masks: bool = False) -> dict[str, Any]:
        query = _query({"style": style, "masks": masks or None}, overrides)
        return self._json("POST", f"/analyse{query}", body=image)

    # -- bridge sessions: the plug-in side ------------------------------------------------------
    def create_session(self, image: bytes | str | os.PathLike, *, host: str = "other",
                       name: str | None = None, style: str | None = None, fmt: str = "png16",
                       mode: str = "auto", overrides: Iterable[str] | Mapping[str, float] = ()) -> dict:
        query = _query({"host": host, "name": name, "style": style, "format": fmt, "mode": mode}, overrides)
        return self._json("POST", f"/sessions{query}", body=image)

    def session(self, sid: str, *, wait: float = 0.0) -> dict[str, Any]:
        return self._json("GET", f"/sessions/{sid}{_query({'wait': wait or None})}",
                          timeout=self.timeout + wait)

    def session_result(self, sid: str) -> bytes:
        return self.request("GET", f"/sessions/{sid}/result")[2]

    def delete_session(self, sid: str) -> None:
        self.request("DELETE", f"/sessions/{sid}")

    # -- bridge sessions: the companion side ----------------------------------------------------
    def sessions(self, *, state: str | None = "pending", wait: float = 0.0) -> dict[str, Any]:
        return self._json("GET", f"/sessions{_query({'state': state, 'wait': wait or None})}",
                          timeout=self.timeout + wait)

    def session_image(self, sid: str) -> bytes:
        return self.request("GET", f"/sessions/{sid}/image")[2]

    def apply(self, sid: str, result: bytes | str | os.PathLike | None = None, *, style: str | None = None,
              overrides: Iterable[str] | Mapping[str, float] = ()) -> dict[str, Any]:
        """Answer Apply: send the finished image, or none to have the service render style + overrides."""
        query = _query({"style": style}, overrides)
        return self._json("POST", f"/sessions/{sid}/apply{query}", body=result)

    def cancel(self, sid: str) -> dict[str, Any]:
        return self._json("POST", f"/sessions/{sid}/cancel")

    # -- learning -------------------------------------------------------------------------------
    def learn(self, portfolio: str | os.PathLike, name: str) -> dict[str, Any]:
        return self._json("POST", "/jobs/learn", json_body={"portfolio": str(portfolio), "name": name})

    def job(self, jid: str) -> dict[str, Any]:
        return self._json("GET", f"/jobs/{jid}")

    def cancel_job(self, jid: str) -> dict[str, Any]:
        return self._json("POST", f"/jobs/{jid}/cancel")
