"""Silverprint bridge client for the GIMP plug-ins: the one place that talks to the core service.

Standard library only (GIMP runs its own Python). `send_image` hands an exported file to the
service as a *bridge session* and waits for the answer:

- the companion is open: the user picks a style and presses Apply (→ result file) or Cancel (→ None);
- the companion is not open (or ``mode="render"``): the service renders the style (default style when
  none is given) at once.

Timeouts, stated to the user in every message: `CONNECT_TIMEOUT` to reach the service,
`RENDER_TIMEOUT` for one render, `INTERACTIVE_TIMEOUT` for the user to finish in the companion.
Nothing here ever waits longer; on timeout the session is cancelled and the image left untouched.
"""
from __future__ import annotations

import http.client
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

DEFAULT_URL = "http://127.0.0.1:47810"
CONNECT_TIMEOUT = 5.0
RENDER_TIMEOUT = 300.0
INTERACTIVE_TIMEOUT = 15 * 60.0
POLL_WAIT = 20.0
START_HINT = ("Start it with `silverprint serve` in a terminal, or open the Silverprint companion "
              "(`silverprint gui`), then run the filter again.")


class BridgeError(Exception):
    """A failure the user must read: the message says what happened and what to do."""


def config_dir() -> Path:
    """Silverprint's config folder, resolved exactly as `silverprint.paths.config_dir` does."""
    if os.environ.get("SILVERPRINT_HOME"):
        return Path(os.environ["SILVERPRINT_HOME"]) / "config"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "silverprint"
    if os.name == "nt":
        return Path(os.environ.get("APPDATA", str(Path.home()))) / "silverprint"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "silverprint"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def service_url() -> str:
    env = os.environ.get("SILVERPRINT_URL", "").strip()
    if env:
        return env.rstrip("/")
    try:
        info = json.loads((config_dir() / "service.json").read_text())
        if _pid_alive(int(info.get("pid", -1))) and info.get("url"):
            return str(info["url"]).rstrip("/")
    except (OSError, ValueError, TypeError, AttributeError):
        pass
    return DEFAULT_URL


def read_token() -> str:
    env = os.environ.get("SILVERPRINT_TOKEN", "").strip()
    if env:
        return env
    try:
        return (config_dir() / "token").read_text().strip()
    except OSError:
        return ""


class Bridge:
    """Requests to the service with a timeout on each and user-readable errors."""

    def __init__(self, url: str | None = None, token: str | None = None) -> None:
        self.url = url or service_url()
        self.token = token if token is not None else read_token()
        parts = urlsplit(self.url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80

    def _request(self, method: str, path: str, *, body_file: str | None = None, timeout: float,
                 out_file: str | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        headers = {"Host": f"127.0.0.1:{self.port}", "Authorization": f"Bearer {self.token}"}
        handle = None
        try:
            body = None
            if body_file is not None:
                handle = open(body_file, "rb")
                headers["Content-Length"] = str(os.fstat(handle.fileno()).st_size)
                headers["Content-Type"] = "application/octet-stream"
                body = handle
            elif method == "POST":
                headers["Content-Length"] = "0"
            conn.request(method, "/v1" + path, body=body, headers=headers)
            response = conn.getresponse()
            if out_file is not None and response.status == 200:
                with open(out_file, "wb") as out:
                    while True:
                        chunk = response.read(1 << 20)
                        if not chunk:
                            break
                        out.write(chunk)
                return response.status, b""
            return response.status, response.read()
        except (ConnectionRefusedError, FileNotFoundError) as exc:
            if isinstance(exc, FileNotFoundError) and body_file and not os.path.exists(body_file):
                raise BridgeError(f"Silverprint: the exported image {body_file} vanished") from None
            raise BridgeError(f"Silverprint is not running (nothing answers at {self.url}). "
                              + START_HINT) from None
        except TimeoutError:
            raise BridgeError(f"Silverprint did not answer within {timeout:g} s at {self.url}; "
                              "the image is unchanged.") from None
        except (OSError, http.client.HTTPException) as exc:
            raise BridgeError(f"Silverprint: lost the connection to {self.url} ({exc}); "
                              "the image is unchanged. " + START_HINT) from None
        finally:
            if handle is not None:
                handle.close()
            conn.close()

    def _json(self, method: str, path: str, *, timeout: float, body_file: str | None = None) -> dict:
        status, payload = self._request(method, path, timeout=timeout, body_file=body_file)
        if status == 401:
            raise BridgeError("Silverprint refused the request: the token does not match. Restart "
                              "`silverprint serve` as the same user that runs this program.")
        try:
            data = json.loads(payload) if payload else {}
        except ValueError:
            data = {"detail": payload[:200].decode("utf-8", "replace")}
        if status >= 400:
            raise BridgeError(f"Silverprint: {data.get('detail') or f'error {status}'}")
        return data

    def health(self) -> dict:
        status, payload = self._request("GET", "/health", timeout=CONNECT_TIMEOUT)
        if status != 200:
            raise BridgeError(f"Silverprint at {self.url} answered {status}; is it another program?")
        return json.loads(payload)

    def send_image(self, image_file: str, *, host: str, name: str, style: str | None = None,
                   fmt: str = "png16", mode: str = "auto", on_wait=None,
                   interactive_timeout: float = INTERACTIVE_TIMEOUT) -> tuple[str, str] | None:
        """Hand ``image_file`` over and wait; returns (result file, style name) or None if cancelled.

        ``on_wait(elapsed_seconds)`` is called between polls (progress bars). The result file is a
        new temporary file the caller deletes.
        """
        if not self.token:
            raise BridgeError("Silverprint has never been started on this account (no token file in "
                              f"{config_dir()}). " + START_HINT)
        self.health()
        query = urlencode({k: v for k, v in {"host": host, "name": name, "style": style or None,
                                             "format": fmt, "mode": mode}.items() if v})
        session = self._json("POST", f"/sessions?{query}", body_file=image_file, timeout=RENDER_TIMEOUT)
        sid = session["id"]
        try:
            start = time.monotonic()
            while session["state"] in ("pending", "open"):
                elapsed = time.monotonic() - start
                if elapsed > interactive_timeout:
                    self._request("POST", f"/sessions/{sid}/cancel", timeout=CONNECT_TIMEOUT)
                    raise BridgeError(f"Silverprint: no answer from the companion within "
                                      f"{interactive_timeout / 60:g} min; the image is unchanged.")
                if on_wait is not None:
                    on_wait(elapsed)
                session = self._json("GET", f"/sessions/{sid}?wait={POLL_WAIT:g}",
                                     timeout=POLL_WAIT + RENDER_TIMEOUT)
            if session["state"] == "cancelled":
                return None
            if session["state"] != "applied":
                raise BridgeError(f"Silverprint: {session.get('message') or session['state']}; "
                                  "the image is unchanged.")
            suffix = {"png16": ".png", "tiff16": ".tif", "jpeg": ".jpg"}[fmt]
            fd, out = tempfile.mkstemp(prefix="silverprint-result-", suffix=suffix)
            os.close(fd)
            status, payload = self._request("GET", f"/sessions/{sid}/result", timeout=RENDER_TIMEOUT,
                                            out_file=out)
            if status != 200:
                os.unlink(out)
                raise BridgeError(f"Silverprint: could not fetch the result ({status}); "
                                  "the image is unchanged.")
            return out, session.get("style") or style or "Silverprint"
        finally:
            try:
                self._request("DELETE", f"/sessions/{sid}", timeout=CONNECT_TIMEOUT)
            except BridgeError:
                pass
