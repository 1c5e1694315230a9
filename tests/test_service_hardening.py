"""The service under attack and accident (issue 13): a real `silverprint serve` on loopback.

Limits before the body (item 2), the token file (5), the pixel budget (9), TCP_NODELAY (10) and
the rough edges of start-up and shutdown (11). Servers get a temporary SILVERPRINT_HOME, short
limits and timeouts so that each test stays within seconds, and are stopped by the test (or
fixture) that started them.
"""
from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import tempfile
import time
from pathlib import Path

import pytest

from servicehelp import RssWatch, running_service, stream_chunked

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    env = {"SILVERPRINT_MAX_UPLOAD_MB": "8", "SILVERPRINT_MAX_JSON_BYTES": str(64 * 1024),
           "SILVERPRINT_HEADER_TIMEOUT_S": "1", "SILVERPRINT_BODY_TIMEOUT_S": "1"}
    with running_service(tmp_path_factory.mktemp("sp-hardening"), env) as svc:
        yield svc


def request(service, method: str, path: str, *, body=None, headers: dict | None = None,
            token: bool = True, conn: http.client.HTTPConnection | None = None) -> tuple[int, dict, bytes]:
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", service.port, timeout=30)
    sent = {"Host": f"127.0.0.1:{service.port}", **(headers or {})}
    if token:
        sent["Authorization"] = f"Bearer {service.token}"
    try:
        conn.request(method, path, body=body, headers=sent)
        answer = conn.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        if own:
            conn.close()


# ------------------------------------------------------------------ item 2: limits before the body
def test_unauthenticated_chunked_body_is_refused_before_it_is_read(service):
    """96 MiB of chunked JSON without a token: 401 after the first chunks, and no memory held."""
    with RssWatch(service.process.pid) as rss:
        status, sent, body = stream_chunked(service.port, "/v1/jobs/learn", 96 * MIB)
    assert status == 401, (status, body)
    assert "token" in json.loads(body)["detail"]
    assert sent <= 16 * MIB, f"the answer came only after {sent / MIB:.0f} MiB of the body"
    assert rss.growth_kb < 24 * 1024, f"resident memory grew by {rss.growth_kb / 1024:.0f} MiB"
    assert request(service, "GET", "/v1/health", token=False)[0] == 200  # and the service goes on


def test_a_client_with_a_stale_token_reads_401_not_a_reset(service):
    """A plug-in sends its whole image (declared length) before reading: it must get the reason."""
    status, headers, body = request(service, "POST", "/v1/render", body=os.urandom(6 * MIB), token=False,
                                    headers={"Content-Type": "application/octet-stream",
                                             "Authorization": "Bearer stale-token-from-an-old-install"})
    assert status == 401 and "token" in json.loads(body)["detail"]


def test_chunked_json_over_the_cap_is_413_with_a_token(service):
    """The JSON routes have their own, small cap, also without a Content-Length."""
    chunks = (b" " * (64 * 1024) for _ in range(8))  # 512 KiB of whitespace, chunked
    conn = http.client.HTTPConnection("127.0.0.1", service.port, timeout=30)
    try:
        conn.request("POST", "/v1/jobs/learn", body=chunks, encode_chunked=True,
                     headers={"Host": f"127.0.0.1:{service.port}", "Content-Type": "application/json",
                              "Authorization": f"Bearer {service.token}", "Transfer-Encoding": "chunked"})
        answer = conn.getresponse()
        assert answer.status == 413
        assert "limit" in json.loads(answer.read())["detail"]
    finally:
        conn.close()


def test_declared_json_body_over_the_cap_is_413_before_it_is_read(service):
    body = b" " * (200 * 1024)
    status, _, data = request(service, "POST", "/v1/jobs/learn", body=body,
                              headers={"Content-Type": "application/json"})
    assert status == 413 and "limit" in json.loads(data)["detail"]


def test_an_image_may_be_larger_than_the_json_cap(service, tmp_path):
    """Image routes take the upload limit (8 MiB here), not the JSON one (64 KiB here)."""
    import numpy as np
    from PIL import Image

    path = tmp_path / "noise.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (240, 320, 3), dtype=np.uint8)).save(path)
    assert path.stat().st_size > 128 * 1024
    status, _, body = request(service, "POST", "/v1/render?name=noise.png", body=path.read_bytes())
    assert status == 200, body[:200]


def test_the_token_guards_every_route_but_health_and_the_schema(service):
    assert request(service, "GET", "/v1/health", token=False)[0] == 200
    assert request(service, "GET", "/v1/openapi.json", token=False)[0] == 200
    for method, path in (("GET", "/v1/styles"), ("GET", "/v1/jobs"), ("POST", "/v1/render"),
                         ("GET", "/v1/sessions/nope"), ("GET", "/v1/no-such-route")):
        status, headers, body = request(service, method, path, token=False)
        assert status == 401, path
        assert headers.get("www-authenticate") == "Bearer" and "token" in json.loads(body)["detail"]


# ------------------------------------------------------------------ item 5: the token file
@pytest.fixture
def token_home(tmp_path, monkeypatch):
    monkeypatch.setenv("SILVERPRINT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SILVERPRINT_TOKEN", raising=False)
    config = tmp_path / "home" / "config"
    config.mkdir(parents=True)
    return config / "token"


def refused(match: str):
    from silverprint.errors import SilverprintError

    return pytest.raises(SilverprintError, match=match)


def test_token_link_to_a_file_is_refused_and_the_file_left_alone(token_home, tmp_path):
    from silverprint.service import endpoint

    secret = tmp_path / "notes.txt"
    secret.write_text("this is some other file, long enough to pass for a token\n")
    secret.chmod(0o644)
    token_home.symlink_to(secret)
    for reader in (endpoint.ensure_token, endpoint.read_token):
        with refused("symbolic link"):
            reader()
    assert (secret.stat().st_mode & 0o777) == 0o644
    assert secret.read_text().startswith("this is some other file")


def test_token_link_to_a_folder_or_a_folder_is_refused_in_one_line(token_home, tmp_path):
    from silverprint.service import endpoint

    (tmp_path / "somewhere").mkdir()
    token_home.symlink_to(tmp_path / "somewhere")
    with refused("symbolic link"):
        endpoint.ensure_token()
    token_home.unlink()
    token_home.mkdir()
    with refused("is a folder"):
        endpoint.ensure_token()


def test_token_fifo_is_refused_without_hanging(token_home):
    import threading

    from silverprint.service import endpoint

    os.mkfifo(token_home, 0o600)
    outcome: list[BaseException | str] = []

    def read() -> None:
        try:
            outcome.append(endpoint.ensure_token())
        except BaseException as exc:  # noqa: BLE001 - checked below
            outcome.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(5)
    assert outcome, "reading the token blocked on a FIFO"
    assert "not a regular file" in str(outcome[0])


def test_loose_token_is_refused_with_the_fix_not_silently_tightened(token_home):
    from silverprint.service import endpoint

    token = endpoint.ensure_token()
    token_home.chmod(0o644)
    with refused("chmod 600"):
        endpoint.ensure_token()
    assert (token_home.stat().st_mode & 0o777) == 0o644 and token_home.read_text().strip() == token
    token_home.chmod(0o600)
    assert endpoint.ensure_token() == token  # once fixed, the same token: no plug-in is broken


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="giving a file to another user needs root")
def test_token_of_another_user_is_refused(token_home):
    from silverprint.service import endpoint

    endpoint.ensure_token()
    os.chown(token_home, 65534, 65534)
    with refused("belongs to user id 65534"):
        endpoint.ensure_token()


def test_serve_refuses_a_linked_token_in_one_line(tmp_path):
    import subprocess

    from servicehelp import clean_env, silverprint_command

    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (tmp_path / "other").write_text("x" * 64)
    (home / "config" / "token").symlink_to(tmp_path / "other")
    run = subprocess.run([*silverprint_command(), "serve", "--port", "0"], env=clean_env(home),
                         capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    assert "Traceback" not in run.stderr and "symbolic link" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr


# ------------------------------------------------------------------ item 10: keep-alive is cheap
def test_keep_alive_requests_cost_milliseconds_not_a_delayed_ack(service):
    """A reused connection must not wait for the client's delayed ACK (TCP_NODELAY): ~40 ms before."""
    conn = http.client.HTTPConnection("127.0.0.1", service.port, timeout=30)
    try:
        for path, token in (("/v1/health", False), ("/v1/jobs", True)):
            times = []
            for _ in range(25):
                start = time.perf_counter()
                status, _, _ = request(service, "GET", path, token=token, conn=conn)
                times.append(time.perf_counter() - start)
                assert status == 200
            median = statistics.median(times[5:])
            assert median < 0.010, f"{path}: {median * 1000:.1f} ms per keep-alive request"
    finally:
        conn.close()


# ------------------------------------------------------------------ item 11: idle and stalled clients
def closed_within(sock: socket.socket, seconds: float) -> bool:
    """Whether the server closes the connection within ``seconds`` (anything it sends is read)."""
    sock.settimeout(seconds)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            if not sock.recv(65536):
                return True
    except (socket.timeout, TimeoutError):
        return False
    except ConnectionResetError:
        return True
    return False


def test_a_silent_connection_is_closed(service):
    with socket.create_connection(("127.0.0.1", service.port)) as sock:
        assert closed_within(sock, 4.0), "a connection that sent nothing was kept open"


def test_slow_request_headers_are_cut_off(service):
    """Slowloris: a head trickled one line at a time is dropped once the head deadline passes."""
    with socket.create_connection(("127.0.0.1", service.port)) as sock:
        sock.sendall(f"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1:{service.port}\r\n".encode())
        start = time.monotonic()
        cut = False
        while time.monotonic() - start < 5.0 and not cut:
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except (BrokenPipeError, ConnectionResetError):
                cut = True
                break
            cut = closed_within(sock, 0.25)
        assert cut, "a request head trickled for 5 s was still being read"
        assert time.monotonic() - start < 4.0


def test_a_stalled_body_gets_408(service):
    with socket.create_connection(("127.0.0.1", service.port)) as sock:
        sock.sendall((f"POST /v1/render HTTP/1.1\r\nHost: 127.0.0.1:{service.port}\r\n"
                      f"Authorization: Bearer {service.token}\r\nContent-Type: application/octet-stream\r\n"
                      f"Content-Length: 100000\r\n\r\n").encode() + b"\x89PNG" + b"\0" * 996)
        sock.settimeout(6.0)
        answer = http.client.HTTPResponse(sock)
        start = time.monotonic()
        try:
            answer.begin()
        except (socket.timeout, TimeoutError):
            pytest.fail("a body that stopped half-way held its connection (and upload) for 6 s")
        assert answer.status == 408 and "stalled" in json.loads(answer.read())["detail"]
        assert time.monotonic() - start < 4.0


# ------------------------------------------------------------------ item 9: a pixel budget
def flat_png(path, megapixels: float):
    """A flat grey PNG of about ``megapixels`` (tiny on disk, big once decoded)."""
    from PIL import Image

    width = int((megapixels * 1e6 * 1.5) ** 0.5)
    Image.new("RGB", (width, int(megapixels * 1e6 / width)), (120, 128, 136)).save(path)
    return path


def test_budget_lets_small_jobs_pass_a_big_one_but_never_starves_it(monkeypatch):
    """The queue's fairness rule, in the event loop it runs in (no server needed)."""
    import asyncio

    from silverprint.service import budget as budget_mod

    monkeypatch.setattr(budget_mod, "OVERTAKE_S", 0.3)
    order: list[str] = []

    async def job(budget, name: str, pixels: int, hold: asyncio.Event) -> None:
        async with budget.admit(pixels):
            order.append(name)
            await hold.wait()

    async def scenario() -> None:
        budget = budget_mod.PixelBudget(10, 4, max_queue=8, max_wait_s=5)
        holds = {name: asyncio.Event() for name in "ABCD"}
        a = asyncio.create_task(job(budget, "A", 8, holds["A"]))
        await asyncio.sleep(0.01)
        b = asyncio.create_task(job(budget, "B", 8, holds["B"]))  # does not fit beside A: waits
        await asyncio.sleep(0.01)
        c = asyncio.create_task(job(budget, "C", 1, holds["C"]))  # fits: passes B
        await asyncio.sleep(0.05)
        assert order == ["A", "C"] and budget.queued == 1
        await asyncio.sleep(0.35)  # B has now been passed long enough
        d = asyncio.create_task(job(budget, "D", 1, holds["D"]))  # would fit, but queues behind B
        await asyncio.sleep(0.05)
        assert order == ["A", "C"] and budget.queued == 2
        holds["A"].set()
        await asyncio.sleep(0.05)
        assert order == ["A", "C", "B", "D"]
        for hold in holds.values():
            hold.set()
        await asyncio.gather(a, b, c, d)
        assert budget.in_use == 0 and budget.running == 0

    asyncio.run(scenario())


@pytest.fixture(scope="module")
def budget_service(tmp_path_factory):
    """A service whose budget holds one 8 MP render (and small ones beside it), waits at most 0.3 s."""
    env = {"SILVERPRINT_MAX_RENDER_PIXELS": str(10_000_000), "SILVERPRINT_MAX_RENDERS": "2",
           "SILVERPRINT_MAX_QUEUE_WAIT_S": "0.3", "SILVERPRINT_DEVICE": "cpu"}
    with running_service(tmp_path_factory.mktemp("sp-budget"), env) as svc:
        small = flat_png(svc.home / "warm.png", 0.05)
        assert request(svc, "POST", "/v1/render?format=jpeg", body=small.read_bytes())[0] == 200  # warm up
        yield svc


@pytest.fixture(scope="module")
def big_png(tmp_path_factory):
    return flat_png(tmp_path_factory.mktemp("big") / "big.png", 8.0)


def render_in_thread(service, path, results: dict, key: str):
    """POST a render from a thread; ``results[key]`` = (status, headers, body, monotonic end time)."""
    import threading

    def go() -> None:
        try:
            status, headers, body = request(service, "POST", f"/v1/render?name={path.name}&format=jpeg",
                                            body=path.read_bytes())
        except OSError as exc:
            status, headers, body = None, {}, str(exc).encode()
        results[key] = (status, headers, body, time.monotonic())

    thread = threading.Thread(target=go)
    thread.start()
    return thread


def test_renders_over_the_pixel_budget_queue_and_a_small_one_passes(budget_service, big_png, tmp_path):
    """Two 8 MP renders under a 10 MP budget never run together (the old two slots ran both at
    once); a small render sent last fits beside the first and does not wait behind the second."""
    small = flat_png(tmp_path / "small.png", 0.05)
    results: dict = {}
    running = []
    first = render_in_thread(budget_service, big_png, results, "A")
    time.sleep(0.1)
    second = render_in_thread(budget_service, big_png, results, "B")
    time.sleep(0.1)
    third = render_in_thread(budget_service, small, results, "C")  # B is still waiting: C passes it
    while first.is_alive() or second.is_alive():
        health = json.loads(request(budget_service, "GET", "/v1/health", token=False)[2])
        running.append(health["renders_in_flight"])
        time.sleep(0.02)
    for thread in (first, second, third):
        thread.join()
    assert results["A"][0] == 200 and results["C"][0] == 200
    assert results["B"][0] in (200, 503)  # 503 once it has waited the 0.3 s allowed here
    assert results["C"][3] < results["A"][3], "the small render waited behind the big ones"
    if results["B"][0] == 200:
        assert results["B"][3] > results["A"][3]  # it ran after A, never beside it


def test_a_render_that_would_wait_too_long_gets_503_with_retry_after(budget_service, big_png):
    results: dict = {}
    start = time.monotonic()
    first = render_in_thread(budget_service, big_png, results, "A")
    time.sleep(0.1)
    second = render_in_thread(budget_service, big_png, results, "B")
    first.join()
    second.join()
    status, headers, body, _ = results["B"]
    assert results["A"][3] - start > 0.6, "the 8 MP render was too quick to make anything wait 0.3 s"
    assert status == 503, body[:200]
    assert int(headers["retry-after"]) > 0 and "busy" in json.loads(body)["detail"]


# ------------------------------------------------------------------ item 11: start-up and shutdown
def service_json(home) -> dict | None:
    try:
        return json.loads((home / "config" / "service.json").read_text())
    except OSError:
        return None


def test_docs_load_nothing_from_a_cdn_and_the_schema_stays(service):
    status, _, body = request(service, "GET", "/v1/docs")
    assert status == 404 or (b"cdn." not in body and b"https://" not in body), body[:300]
    status, _, body = request(service, "GET", "/v1/openapi.json", token=False)
    assert status == 200 and "/v1/render" in json.loads(body)["paths"]


def test_sigterm_removes_service_json_and_the_work_folder(tmp_path):
    import signal

    home = tmp_path / "home"
    with running_service(home) as svc:
        assert service_json(home)["pid"] == svc.process.pid
        root = home / "data" / "service-work"
        work = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
        os.kill(svc.process.pid, signal.SIGTERM)
        svc.process.wait(30)
    assert service_json(home) is None, "SIGTERM left a stale service.json"
    assert work and not any(p.exists() for p in work)


def test_a_second_service_is_refused_and_the_first_keeps_service_json(tmp_path):
    import subprocess

    from servicehelp import clean_env, silverprint_command

    home = tmp_path / "home"
    with running_service(home) as first:
        before = service_json(home)
        second = subprocess.Popen([*silverprint_command(), "serve", "--port", "0"], env=clean_env(home),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            out, err = second.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            second.kill()
            second.communicate()
            pytest.fail("a second service started beside the first")
        assert second.returncode != 0 and "listening" not in out
        assert "already running" in err and first.url in err and "Traceback" not in err
        assert service_json(home) == before
        assert request(first, "GET", "/v1/health", token=False)[0] == 200


def test_shutdown_answers_waiting_requests_with_json_503(tmp_path):
    """SIGTERM with a render running, one queued and a long-poll open: the queued render is
    answered 503 at once (not started), the long-poll 503 when the grace period ends (uvicorn's
    plain-text 500 before), and nothing is answered in plain text."""
    import signal
    import threading

    home = tmp_path / "home"
    big = flat_png(tmp_path / "big.png", 8.0)
    small = flat_png(tmp_path / "small.png", 0.05)
    env = {"SILVERPRINT_MAX_RENDERS": "1", "SILVERPRINT_DEVICE": "cpu", "SILVERPRINT_MAX_WAIT_S": "30"}
    with running_service(home, env) as svc:
        assert request(svc, "POST", "/v1/render?format=jpeg", body=small.read_bytes())[0] == 200  # warm up

        def health() -> dict:
            return json.loads(request(svc, "GET", "/v1/health", token=False)[2])

        def wait_for(check) -> None:
            deadline = time.monotonic() + 20
            while not check(health()):
                assert time.monotonic() < deadline, health()
                time.sleep(0.02)

        results: dict = {}
        running = render_in_thread(svc, big, results, "running")
        wait_for(lambda h: h["renders_in_flight"] == 1)
        queued = render_in_thread(svc, small, results, "queued")
        wait_for(lambda h: h["renders_queued"] == 1)

        def long_poll() -> None:
            status, headers, body = request(svc, "GET", "/v1/sessions?wait=30&companion=false")
            results["poll"] = (status, headers, body, time.monotonic())

        poll = threading.Thread(target=long_poll)
        poll.start()
        time.sleep(0.3)
        stopped = time.monotonic()
        os.kill(svc.process.pid, signal.SIGTERM)
        for thread in (running, queued, poll):
            thread.join(30)
        svc.process.wait(30)
    status, headers, body, when = results["queued"]
    assert status == 503 and headers["content-type"].startswith("application/json"), body[:200]
    assert "shutting down" in json.loads(body)["detail"] and int(headers["retry-after"]) > 0
    assert when - stopped < 2.0, "the queued render was not turned away at once"
    status, headers, body, _ = results["poll"]
    assert status == 503 and headers["content-type"].startswith("application/json"), (status, body[:200])
    status, headers, body, _ = results["running"]
    assert status == 200 or (status == 503 and headers["content-type"].startswith("application/json"))


def test_uploads_left_by_a_killed_service_are_removed_at_the_next_start(tmp_path):
    import shutil
    import signal

    home = tmp_path / "home"
    upload = None
    try:
        with running_service(home) as svc:
            sock = socket.create_connection(("127.0.0.1", svc.port))
            sock.sendall((f"POST /v1/render HTTP/1.1\r\nHost: 127.0.0.1:{svc.port}\r\n"
                          f"Authorization: Bearer {svc.token}\r\nContent-Type: application/octet-stream\r\n"
                          f"Content-Length: {4 * MIB}\r\n\r\n").encode() + b"\x89PNG" + b"\0" * (256 * 1024))
            deadline = time.monotonic() + 10
            while upload is None and time.monotonic() < deadline:  # the upload the server is writing
                for fd in Path(f"/proc/{svc.process.pid}/fd").iterdir():
                    target = os.readlink(fd)
                    if os.path.basename(target).startswith("up-"):
                        upload = Path(target)
                time.sleep(0.05)
            assert upload is not None and upload.exists()
            os.killpg(svc.process.pid, signal.SIGKILL)
            svc.process.wait(10)
            sock.close()
        assert upload.exists()  # what SIGKILL leaves
        with running_service(home):
            assert not upload.exists() and not upload.parent.exists()
    finally:
        if upload is not None and upload.parent.exists() and str(upload.parent).startswith(tempfile.gettempdir()):
            shutil.rmtree(upload.parent, ignore_errors=True)
