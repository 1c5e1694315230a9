"""Bridge sessions: GIMP or darktable sends an image, the companion shows it, Apply / Cancel answers.

The companion talks to the core service over its HTTP API with `silverprint.service.client`, the
same client the tests use, and *hosts* the service (uvicorn in a thread, loopback only) when none
answers at the configured address, so the plug-ins work whenever the companion is open.

While it is open the companion long-polls ``GET /v1/sessions?state=pending``; that call is also what
tells the service a companion is attached (plug-ins in ``auto`` mode then wait for the user instead
of rendering at once). One session is shown at a time; later ones queue.
"""
from __future__ import annotations

import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .qt import QObject, QTimer, pyqtSignal
from .taskman import EXPORT, IO, Op, taskman

if TYPE_CHECKING:
    from .app import MainWindow

POLL_WAIT_S = 5.0   # long-poll length; well under the service's companion timeout (15 s)
HOST_NAMES = {"gimp": "GIMP", "gimp2": "GIMP", "gimp3": "GIMP", "darktable": "darktable"}


class HostedService:
    """The core service running inside this process (uvicorn in a daemon thread)."""

    def __init__(self, port: int | None = None) -> None:
        from silverprint.service.server import local_server

        # the usual port may be taken by something that is not our service: then any free port
        self.local = local_server(port, any_port_if_taken=True, graceful_shutdown_s=3)
        self.url = self.local.url
        self.thread = threading.Thread(target=self.local.run, name="silverprint-service", daemon=True)
        self.thread.start()

    @property
    def started(self) -> bool:
        return self.local.started

    def stop(self) -> None:
        self.local.server.should_exit = True
        self.thread.join(timeout=6)
        self.local.close()


class BridgeController(QObject):
    """Finds or hosts the service, polls for sessions and answers them from the window."""

    sessionShown = pyqtSignal(str)     # session id
    sessionAnswered = pyqtSignal(str, str)  # session id, "applied" | "cancelled"
    serviceReady = pyqtSignal(str)     # url

    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self.window = window
        self.client: Any = None
        self.hosted: HostedService | None = None
        self.current: dict | None = None
        self.queue: list[dict] = []
        self._stopped = False
        self._seen: set[str] = set()
        window.bridge_apply.clicked.connect(self.apply)
        window.bridge_cancel.clicked.connect(self.cancel)

    # -- service --------------------------------------------------------------------------------
    def start(self) -> None:
        self.window.status_service.setText("Starting the local service…")
        Op(self.window, self._connect_or_host).success(self._connected).failure(self._no_service) \
            .on_lane(IO).run_in_background()

    def _connect_or_host(self) -> str:
        from silverprint.service.client import ServiceClient, ServiceError, ServiceUnavailable

        client = ServiceClient(timeout=3)
        try:
            client.health()
            client.sessions(state=None)  # proves our token is accepted
            self.client = ServiceClient(timeout=30)
            return f"Connected to the service at {client.url}"
        except (ServiceUnavailable, ServiceError):
            pass
        self.hosted = HostedService()
        for _ in range(600):  # the app's lifespan imports the engine: allow up to a minute
            if self.hosted.started or not self.hosted.thread.is_alive():
                break
            threading.Event().wait(0.1)
        if not self.hosted.started:
            raise RuntimeError("the local service did not start")
        self.client = ServiceClient(self.hosted.url, timeout=30)
        return f"Hosting the service for GIMP / darktable at {self.hosted.url}"

    def _connected(self, text: str) -> None:
        self.window.status_service.setText("● " + text.split(" at ")[0].replace("Hosting the service for",
                                                                              "Bridge ready:"))
        self.window.status_service.setToolTip(text)
        self.serviceReady.emit(self.client.url)
        self._poll()

    def _no_service(self, exc: Exception) -> None:
        self.window.status_service.setText("Bridge off")
        self.window.status_service.setToolTip(f"GIMP / darktable cannot reach the companion: {exc}")

    def stop(self) -> None:
        self._stopped = True
        if self.hosted is not None:
            self.hosted.stop()
            self.hosted = None

    # -- polling --------------------------------------------------------------------------------
    def _poll(self) -> None:
        if self._stopped:
            return
        client = self.client
        taskman().run_in_background(lambda: client.sessions(state="pending", wait=POLL_WAIT_S),
                                    self._polled, lane=IO)

    def _polled(self, future: Any) -> None:
        if self._stopped:
            return
        try:
            answer = future.result()
        except Exception:  # noqa: BLE001 - the service went away: try again shortly
            QTimer.singleShot(2000, self._poll)
            return
        for session in answer.get("sessions", []):
            if session["id"] not in self._seen:
                self._seen.add(session["id"])
                self.queue.append(session)
        if self.current is None and self.queue:
            self._open(self.queue.pop(0))
        self._update_banner()
        QTimer.singleShot(50 if not answer.get("sessions") else 500, self._poll)

    # -- one session ----------------------------------------------------------------------------
    def _open(self, session: dict) -> None:
        from . import document

        self.current = session
        client, device = self.client, self.window.device

        def load() -> Any:
            data = client.session_image(session["id"])
            return document.open_bytes(data, session.get("name") or "image", device=device)

        def shown(doc: Any) -> None:
            self.window.set_document(doc, style=session.get("style") or None)
            self.window.showNormal()
            self.window.raise_()
            self.window.activateWindow()
            self._update_banner()
            self.sessionShown.emit(session["id"])

        def failed(exc: Exception) -> None:
            from .errors import show_error

            show_error(parent=self.window, exc=exc)
            self._answer("cancel")

        Op(self.window, load).success(shown).failure(failed).run_in_background()

    def _update_banner(self) -> None:
        banner = self.window.banner
        if self.current is None:
            banner.hide()
            return
        host = HOST_NAMES.get(str(self.current.get("host", "")).lower(), self.current.get("host") or "A plug-in")
        more = f"   ·   {len(self.queue)} more waiting" if self.queue else ""
        self.window.banner_text.setText(f"{host} sent “{self.current.get('name')}”. Adjust it, then "
                                        f"Apply to send the black & white back.{more}")
        banner.show()

    def apply(self) -> None:
        self._answer("apply")

    def cancel(self) -> None:
        self._answer("cancel")

    def _answer(self, how: str) -> None:
        if self.current is None:
            return
        from . import document

        session, client = self.current, self.client
        doc, params = self.window.doc, self.window.params.copy()
        self.window.bridge_apply.setEnabled(False)
        self.window.bridge_cancel.setEnabled(False)

        def work() -> str:
            if how == "cancel":
                client.cancel(session["id"])
                return "cancelled"
            with tempfile.TemporaryDirectory(prefix="silverprint-bridge-") as tmp:
                out = document.export(doc, params, Path(tmp) / "result.png", "png16")
                client.apply(session["id"], out, style=self.window.style_name)
            return "applied"

        def done(state: str) -> None:
            self._finish(session, state)

        def failed(exc: Exception) -> None:
            from .errors import show_error

            show_error(parent=self.window, exc=exc)
            self._finish(session, "failed")

        Op(self.window, work).success(done).failure(failed).on_lane(EXPORT).run_in_background()

    def _finish(self, session: dict, state: str) -> None:
        self.current = None
        self.window.bridge_apply.setEnabled(True)
        self.window.bridge_cancel.setEnabled(True)
        verb = {"applied": "Sent the result back to", "cancelled": "Cancelled; nothing sent to"}.get(
            state, "Could not answer")
        host = HOST_NAMES.get(str(session.get("host", "")).lower(), session.get("host") or "the plug-in")
        self.window.show_status(f"{verb} {host} ({session.get('name')})")
        self.sessionAnswered.emit(session["id"], state)
        if self.queue:
            self._open(self.queue.pop(0))
        self._update_banner()
